"""Shared by the session suites (Redis, Flask interop, browser): start the
session_app test server, a throwaway redis-server and the real Flask on free
127.0.0.1 ports, collect their logs, and stop exactly the processes started
here, by pid, also when a test fails. Every wait is bounded."""
import atexit
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.environ.get("VIAL_BUILD_DIR", os.path.join(HERE, "..", "..", "build", "release"))
APP = os.path.join(BUILD, "tests", "session_app")
SANITIZE = os.environ.get("VIAL_SANITIZE") == "1"
SECRET_KEY = "dskafmdfmem2w4m234mfmvdfmasdkqaso3423"

_started = []


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


class Proc:
    """A child process whose stderr (and stdout) lines are kept for the test to look at."""

    def __init__(self, args, env=None, name="proc"):
        self.name = name
        self.lines = []
        self.cond = threading.Condition()
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, errors="replace", env=env)
        self.pid = self.proc.pid
        _started.append(self)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()

    def log(self):
        with self.cond:
            return "\n".join(self.lines)

    def wait_line(self, pattern, timeout=30, start=0):
        """Index of the first line from `start` on matching pattern; raises after timeout."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for i in range(start, len(self.lines)):
                    if rx.search(self.lines[i]):
                        return i
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{self.name}: no line matching {pattern!r} in {timeout} s; log:\n"
                                         + "\n".join(self.lines[-40:]))
                self.cond.wait(left)

    def line_count(self):
        with self.cond:
            return len(self.lines)

    def signal(self, sig):
        if self.proc.poll() is None:
            os.kill(self.pid, sig)

    def stop(self):
        if self.proc.poll() is None:
            try:
                os.kill(self.pid, signal.SIGCONT)
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        if self in _started:
            _started.remove(self)
        return self.proc.returncode


class VialApp(Proc):
    """session_app serving on a free port with one worker."""

    def __init__(self, workers=1, **config):
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("VIAL_") or k in (
            "VIAL_SOURCE_DIR", "VIAL_BUILD_DIR", "VIAL_TEST_DATA", "VIAL_SANITIZE")}
        env["VIAL_SECRET_KEY"] = SECRET_KEY
        for k, v in config.items():
            env["VIAL_" + k] = str(v)
        super().__init__([APP, "run", "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(workers)],
                         env=env, name="session_app")
        wait_port(self.port, self.proc)
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self):
        rc = super().stop()
        log = self.log()
        if "ERROR: AddressSanitizer" in log or "runtime error:" in log:
            raise AssertionError("session_app reported a sanitizer error:\n" + log[-4000:])
        return rc


class Redis(Proc):
    """redis-server on a free port, no persistence, in a throwaway directory."""

    def __init__(self, port=None):
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix="vial-redis-")
        super().__init__(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                          "--appendonly", "no", "--dir", self.dir, "--daemonize", "no", "--protected-mode", "yes"],
                         name="redis")
        wait_port(self.port, self.proc)
        deadline = time.monotonic() + 30
        while self.command("PING") != "PONG":
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server does not answer PING")
            time.sleep(0.05)
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def command(self, *args, timeout=10):
        """One command over RESP; the reply decoded (bulk/status as str, int, None, list)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as s:
            out = f"*{len(args)}\r\n".encode()
            for a in args:
                a = a if isinstance(a, bytes) else str(a).encode()
                out += b"$%d\r\n%s\r\n" % (len(a), a)
            s.sendall(out)
            f = s.makefile("rb")
            return _read_reply(f)

    def stop(self):
        rc = super().stop()
        shutil.rmtree(self.dir, ignore_errors=True)
        return rc


def _read_reply(f):
    line = f.readline()
    if not line:
        raise ConnectionError("redis closed the connection")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise RuntimeError("redis error: " + rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)[:-2]
        return data.decode("utf-8", "replace")
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [_read_reply(f) for _ in range(n)]
    raise RuntimeError(f"bad reply {line!r}")


def stop_all():
    for p in list(reversed(_started)):
        try:
            p.stop()
        except Exception as e:  # keep stopping the others
            print(f"stopping {p.name}: {e}", file=sys.stderr)


atexit.register(stop_all)


def run_tests(tests):
    """Runs test functions in order; prints one line each; exits non-zero on the first failure."""
    failed = 0
    try:
        for t in tests:
            start = time.monotonic()
            try:
                t()
                print(f"ok   {t.__name__} ({time.monotonic() - start:.1f} s)", flush=True)
            except Exception:
                import traceback
                print(f"FAIL {t.__name__}", flush=True)
                traceback.print_exc()
                failed += 1
                break
    finally:
        stop_all()
    sys.exit(1 if failed else 0)
