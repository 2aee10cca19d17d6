"""Shared by the test_app_*.py suites: run tests/app_server (a vial app with
its own CLI) on 127.0.0.1, wait for it, stop it by pid. Every wait is bounded
and only processes started here are signalled."""
import os
import re
import signal
import subprocess
import threading
import time

BUILD = os.environ.get("VIAL_BUILD_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "build", "release"))
APP = os.path.join(BUILD, "tests", "app_server")
SANITIZE = os.environ.get("VIAL_SANITIZE") == "1"


class App:
    """`app_server run ...` (or another vial app's binary) in cwd; .port once it printed its Running line."""

    def __init__(self, *args, cwd=None, env=None, ready_timeout=30, binary=APP):
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.proc = subprocess.Popen([binary, "run", *args], cwd=cwd, env=full_env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, errors="replace")
        self.lines = []
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        line = self.wait_line(r"Running on http://", ready_timeout)
        self.url = re.search(r"(http://\S+?)(?:\s|$)", line).group(1)
        self.port = int(self.url.rsplit(":", 1)[1])

    def _read(self):
        for line in self.proc.stderr:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_line(self, pattern, timeout):
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for line in self.lines:
                    if rx.search(line):
                        return line
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self.lines):
                    raise AssertionError(f"no log line matching {pattern!r}; log so far:\n" + "\n".join(self.lines))
                self.cond.wait(min(left, 0.2))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self.proc.stderr:
            self.proc.stderr.close()
        for line in self.lines:
            if "ERROR: AddressSanitizer" in line or "runtime error:" in line or "LeakSanitizer" in line:
                raise AssertionError("sanitizer report in the server log:\n" + "\n".join(self.lines))
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def cli(*args, env=None, timeout=30):
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([APP, *args], env=full_env, capture_output=True, text=True, timeout=timeout)
