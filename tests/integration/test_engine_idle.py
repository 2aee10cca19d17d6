"""10,000 idle keep-alive connections on one worker: every one is answered,
the worker keeps serving new clients, and its RSS growth is reported (the
bound is checked in bench/, not here: memory figures are not test
assertions). RLIMIT_NOFILE is raised as far as the hard limit allows."""
import os
import resource
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from engine_harness import SANITIZE, Server, get, rss_kib, run  # noqa: E402

WANT = 10000


def test_ten_thousand_idle_keep_alive_connections():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    n = min(WANT, hard - 200)
    assert n >= 1000, f"RLIMIT_NOFILE hard limit {hard} is too low for this test"
    with Server("--keepalive-timeout", "300000", workers=1) as s:
        (worker,) = s.wait_workers(1)
        for _ in range(50):
            assert get(s.port, "/plaintext").status == 200
        time.sleep(0.2)
        idle_rss = rss_kib(worker)
        socks = []
        request = b"GET /plaintext HTTP/1.1\r\nHost: idle\r\n\r\n"
        try:
            for i in range(n):
                sk = socket.create_connection(("127.0.0.1", s.port), timeout=30)
                sk.sendall(request)
                socks.append(sk)
                # Read answers in waves so the accept queue never overflows.
                if len(socks) % 500 == 0:
                    for x in socks[-500:]:
                        got = b""
                        while not got.endswith(b"Hello, World!"):
                            d = x.recv(4096)
                            assert d, f"connection closed early at {len(socks)}"
                            got += d
                        assert got.startswith(b"HTTP/1.1 200 OK")
            for x in socks[len(socks) - len(socks) % 500:]:
                got = b""
                while not got.endswith(b"Hello, World!"):
                    d = x.recv(4096)
                    assert d
                    got += d
            time.sleep(0.5)
            loaded_rss = rss_kib(worker)
            # Still serving, and the idle ones still work.
            assert get(s.port, "/json").status == 200
            for x in socks[:: max(1, n // 50)]:
                x.sendall(request)
                got = b""
                while not got.endswith(b"Hello, World!"):
                    d = x.recv(4096)
                    assert d, "an idle connection was dropped"
                    got += d
            growth = loaded_rss - idle_rss
            print(f"  worker RSS idle: {idle_rss / 1024:.1f} MiB; with {n} idle keep-alive connections: "
                  f"{loaded_rss / 1024:.1f} MiB (+{growth / 1024:.1f} MiB, {growth * 1024 / n:.0f} bytes per connection)"
                  f"{' [ASan build]' if SANITIZE else ''}")
        finally:
            for x in socks:
                x.close()
        # All closed: the worker notices and serves on.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if get(s.port, "/plaintext").status == 200:
                break
        assert get(s.port, "/plaintext").body == b"Hello, World!"


if __name__ == "__main__":
    run([test_ten_thousand_idle_keep_alive_connections])
