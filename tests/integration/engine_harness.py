"""Shared by the test_engine_*.py suites: start engine_server on a free port,
talk raw HTTP/1.1 over sockets, find the workers, stop everything we started.

Only 127.0.0.1, only processes this module started (by pid), every wait
bounded."""
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

BUILD = os.environ.get("VIAL_BUILD_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "build", "release"))
BINARY = os.path.join(BUILD, "tests", "engine_server")
SANITIZE = os.environ.get("VIAL_SANITIZE") == "1"
# Loop sizes shrink under ASan, whose servers are several times slower.
SCALE = 0.25 if SANITIZE else 1.0

_started = []


def children_of(pid):
    """Pids whose parent is pid (from /proc)."""
    kids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            kids.append(int(name))
    return sorted(kids)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Server:
    """engine_server on 127.0.0.1 with a free port; a context manager."""

    def __init__(self, *args, workers=1, binary=BINARY, ready_timeout=30):
        self.args = [binary, "--host", "127.0.0.1", "--port", "0", "--workers", str(workers), *args]
        self.lines = []
        self.cond = threading.Condition()
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True, errors="replace")
        _started.append(self)
        self.pid = self.proc.pid
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        line = self.wait_line(r"Running on http://127\.0\.0\.1:(\d+)", ready_timeout)
        self.port = int(re.search(r":(\d+)", line.split("http://")[1]).group(1))

    def _read(self):
        for line in self.proc.stderr:
            with self.cond:
                self.lines.append(line.rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_line(self, pattern, timeout, start=0):
        """The first log line from index start matching pattern; fails after timeout s."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for line in self.lines[start:]:
                    if rx.search(line):
                        return line
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self.reader.is_alive()):
                    raise AssertionError(f"no log line matching {pattern!r}; log:\n" + "\n".join(self.lines))
                self.cond.wait(min(left, 0.2))

    def log(self):
        with self.cond:
            return "\n".join(self.lines)

    def workers(self):
        return children_of(self.pid)

    def wait_workers(self, n, timeout=20, exclude=()):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = [p for p in self.workers() if p not in exclude]
            if len(pids) == n:
                return pids
            time.sleep(0.05)
        raise AssertionError(f"expected {n} workers, have {self.workers()}; log:\n{self.log()}")

    def signal(self, sig):
        os.kill(self.pid, sig)

    def stop(self, timeout=40):
        """SIGTERM and wait; returns the exit code."""
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self.reader.join(timeout=5)
        return self.proc.returncode

    def kill(self):
        kids = children_of(self.pid)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        for k in kids:
            try:
                os.kill(k, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        kids = children_of(self.pid) if self.proc.poll() is None else []
        self.stop()
        for k in kids:  # a worker that outlived its master (it should not)
            try:
                os.kill(k, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return False


def cleanup_all():
    for s in _started:
        try:
            s.kill()
        except Exception:
            pass


class Response:
    def __init__(self, status, reason, headers, body, raw_head):
        self.status, self.reason, self.headers, self.body, self.raw_head = status, reason, headers, body, raw_head

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def __repr__(self):
        return f"<Response {self.status} {self.reason} {self.headers} {self.body[:80]!r}>"


class Conn:
    """A raw client connection that reads responses one by one (pipelining-aware)."""

    def __init__(self, port, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        d = self.sock.recv(65536)
        if not d:
            raise EOFError("connection closed by the server")
        self.buf += d

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read_response(self, head_request=False):
        while True:
            while b"\r\n\r\n" not in self.buf:
                self._fill()
            head, self.buf = self.buf.split(b"\r\n\r\n", 1)
            lines = head.split(b"\r\n")
            m = re.match(rb"HTTP/1\.1 (\d{3}) ?(.*)", lines[0])
            assert m, f"bad status line {lines[0]!r}"
            status = int(m.group(1))
            headers = []
            for ln in lines[1:]:
                k, _, v = ln.partition(b":")
                headers.append((k.decode(), v.strip().decode()))
            resp = Response(status, m.group(2).decode(), headers, b"", head)
            if 100 <= status < 200:
                return resp
            if head_request or status in (204, 304):
                return resp
            te = resp.header("Transfer-Encoding")
            cl = resp.header("Content-Length")
            if te and "chunked" in te.lower():
                body = b""
                while True:
                    size = int(self._line().split(b";")[0], 16)
                    if size == 0:
                        while self._line() != b"":
                            pass
                        break
                    while len(self.buf) < size + 2:
                        self._fill()
                    body += self.buf[:size]
                    assert self.buf[size:size + 2] == b"\r\n"
                    self.buf = self.buf[size + 2:]
                resp.body = body
            elif cl is not None:
                n = int(cl)
                while len(self.buf) < n:
                    self._fill()
                resp.body, self.buf = self.buf[:n], self.buf[n:]
            else:
                while True:
                    try:
                        self._fill()
                    except EOFError:
                        break
                resp.body, self.buf = self.buf, b""
            return resp

    def closed_by_server(self, timeout=10):
        """True when the server closes (EOF or reset) within timeout s."""
        self.sock.settimeout(timeout)
        try:
            while True:
                d = self.sock.recv(65536)
                if not d:
                    return True
                self.buf += d
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()


def get(port, path, headers=b"", timeout=10):
    c = Conn(port, timeout)
    try:
        c.send(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: t\r\nConnection: close\r\n" + headers + b"\r\n")
        return c.read_response()
    finally:
        c.close()


SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "SUMMARY: AddressSanitizer", "SUMMARY: UndefinedBehaviorSanitizer")


def sanitizer_reports(servers):
    """Sanitizer reports any of these servers (master or workers) logged."""
    found = []
    for s in servers:
        s.reader.join(timeout=5) if s.proc.poll() is not None else None
        log = s.log()
        if any(m in log for m in SANITIZER_MARKERS):
            found.append(log)
    return found


def run(tests):
    """Runs test functions, prints 'N passed, N failed', exits non-zero on
    failure. A test whose servers logged a sanitizer report fails."""
    passed = failed = 0
    try:
        for t in tests:
            t0 = time.monotonic()
            first = len(_started)
            try:
                t()
                reports = sanitizer_reports([x for x in _started[first:] if x.proc.poll() is not None])
                if reports:
                    raise AssertionError("sanitizer report in the server log:\n" + "\n".join(reports))
                passed += 1
                print(f"PASS {t.__name__} ({time.monotonic() - t0:.1f}s)", flush=True)
            except Exception as e:
                failed += 1
                import traceback
                print(f"FAIL {t.__name__}: {e!r}", flush=True)
                traceback.print_exc()
    finally:
        # Stop what is still running gracefully (workers run their leak
        # check as they exit), then look at every log once more.
        for x in _started:
            try:
                x.stop()
            except Exception:
                x.kill()
        reports = sanitizer_reports(_started)
        if reports:
            failed += 1
            print("FAIL sanitizer reports in a server log:\n" + "\n".join(reports), flush=True)
        cleanup_all()
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
