"""The engine over real sockets: pipelining, keep-alive, HTTP/1.0, HEAD,
100-continue, chunked bodies with trailers, streaming, large bodies, files,
the wait API, custom statuses, and curl as an independent client."""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from engine_harness import SCALE, Conn, Server, get, run  # noqa: E402

srv = None

DATE_RX = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$")


def test_plaintext_and_json_headers():
    r = get(srv.port, "/plaintext")
    assert r.status == 200 and r.body == b"Hello, World!", r
    assert r.header("Content-Type") == "text/plain"
    assert r.header("Content-Length") == "13"
    assert r.header("Server") == "vial"
    assert DATE_RX.match(r.header("Date")), r.header("Date")
    r = get(srv.port, "/json")
    assert r.status == 200 and r.body == b'{"message":"Hello, World!"}', r
    assert r.header("Content-Type") == "application/json"


def test_100_pipelined_requests_answered_in_order():
    c = Conn(srv.port)
    c.send(b"".join(b"GET /info?n=%d HTTP/1.1\r\nHost: pipe\r\n\r\n" % i for i in range(100)))
    for i in range(100):
        r = c.read_response()
        assert r.status == 200
        assert b'"query":"n=%d"' % i in r.body, (i, r.body)
    c.send(b"GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n")
    assert c.read_response().body == b"Hello, World!"
    c.close()


def test_pipelined_responses_leave_in_few_segments():
    """16 pipelined requests sent in one write come back in one batch: the
    first recv already holds all 16 responses (they were written together)."""
    c = Conn(srv.port)
    batch = b"".join(b"GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n" for _ in range(16))
    ok = 0
    for attempt in range(20):
        c.send(batch)
        first = c.sock.recv(1 << 20)
        c.buf = first
        if first.count(b"HTTP/1.1 200 OK") == 16:
            ok += 1
        for _ in range(16):
            c.read_response()
    assert ok >= 15, f"only {ok} of 20 batches arrived whole"
    c.close()


def test_1000_keep_alive_requests_on_one_connection():
    c = Conn(srv.port)
    n = int(1000 * SCALE) if SCALE < 1 else 1000
    for i in range(n):
        c.send(b"GET /info?i=%d HTTP/1.1\r\nHost: ka\r\n\r\n" % i)
        r = c.read_response()
        assert r.status == 200 and b'"query":"i=%d"' % i in r.body
        assert r.header("Connection") is None
    c.close()


def test_http10_with_and_without_keep_alive():
    c = Conn(srv.port)
    for _ in range(3):
        c.send(b"GET /plaintext HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        r = c.read_response()
        assert r.status == 200 and r.body == b"Hello, World!"
        assert r.header("Connection") == "keep-alive"
    c.send(b"GET /plaintext HTTP/1.0\r\n\r\n")
    r = c.read_response()
    assert r.header("Connection") == "close"
    assert c.closed_by_server()
    # A streamed body on 1.0: no chunked framing, ended by the close.
    c = Conn(srv.port)
    c.send(b"GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    r = c.read_response()
    assert r.header("Transfer-Encoding") is None and r.header("Connection") == "close"
    assert r.body == b"first chunk\nsecond chunk\nthird and last chunk\n", r.body


def test_head_has_headers_only():
    c = Conn(srv.port)
    c.send(b"HEAD /plaintext HTTP/1.1\r\nHost: t\r\n\r\nGET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n")
    r = c.read_response(head_request=True)
    assert r.status == 200 and r.header("Content-Length") == "13" and r.body == b""
    r = c.read_response()
    assert r.body == b"Hello, World!", "the HEAD response carried body bytes"
    c.send(b"HEAD /big?n=100000 HTTP/1.1\r\nHost: t\r\n\r\nGET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n")
    r = c.read_response(head_request=True)
    assert r.header("Content-Length") == "100000"
    assert c.read_response().body == b"Hello, World!"
    c.close()


def test_connection_close_request():
    c = Conn(srv.port)
    c.send(b"GET /plaintext HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\nGET /json HTTP/1.1\r\nHost: t\r\n\r\n")
    r = c.read_response()
    assert r.header("Connection") == "close"
    assert c.closed_by_server()
    assert b"HTTP/1.1" not in c.buf, "a request after Connection: close was answered"


def test_expect_100_continue():
    c = Conn(srv.port)
    c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n")
    r = c.read_response()
    assert r.status == 100, r
    c.send(b"hello there")
    r = c.read_response()
    assert r.status == 200 and r.body == b"hello there"
    # Not read: no 100, and the connection closes after the answer.
    c.send(b"POST /noread HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n")
    r = c.read_response()
    assert r.status == 200 and r.header("Connection") == "close", r
    c.close()
    # curl waits for the 100 before sending.
    data = b"x" * 5000
    out = subprocess.run(["curl", "-s", "-S", "--max-time", "20", "-H", "Expect: 100-continue", "--data-binary", "@-",
                          f"http://127.0.0.1:{srv.port}/echo"], input=data, capture_output=True, timeout=30)
    assert out.returncode == 0 and out.stdout == data, out.stderr


def test_chunked_request_bodies_with_trailers():
    c = Conn(srv.port)
    body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in [b"Wiki", b"pedia ", b"in \r\n\r\nchunks."])
    c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + body +
           b"0\r\nX-Checksum: 42\r\nX-Other: yes\r\n\r\n")
    r = c.read_response()
    assert r.status == 200 and r.body == b"Wikipedia in \r\n\r\nchunks.", r
    # A large chunked upload in uneven writes, then a pipelined request.
    payload = os.urandom(300000)
    wire = b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
    for i in range(0, len(payload), 7777):
        part = payload[i:i + 7777]
        wire += b"%x;name=value\r\n%s\r\n" % (len(part), part)
    wire += b"0\r\n\r\nGET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n"
    for i in range(0, len(wire), 4099):
        c.send(wire[i:i + 4099])
    r = c.read_response()
    assert r.status == 200 and r.body == payload
    assert c.read_response().body == b"Hello, World!"
    c.close()
    # curl's own chunked upload.
    out = subprocess.run(["curl", "-s", "-S", "--max-time", "20", "-H", "Transfer-Encoding: chunked", "--data-binary", "@-",
                          f"http://127.0.0.1:{srv.port}/echo"], input=payload[:70000], capture_output=True, timeout=30)
    assert out.returncode == 0 and out.stdout == payload[:70000], out.stderr


def test_content_length_upload_and_large_bodies():
    payload = os.urandom(2 * 1024 * 1024 + 17)
    c = Conn(srv.port)
    c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % len(payload) + payload)
    r = c.read_response()
    assert r.status == 200 and r.body == payload
    c.send(b"GET /big?n=3000000 HTTP/1.1\r\nHost: t\r\n\r\n")
    r = c.read_response()
    assert len(r.body) == 3000000 and r.body[:26] == b"abcdefghijklmnopqrstuvwxyz" and r.body[-1:] == bytes([97 + (3000000 - 1) % 26])
    c.close()


def test_stream_is_chunked():
    c = Conn(srv.port)
    c.send(b"GET /stream?ms=20 HTTP/1.1\r\nHost: t\r\n\r\nGET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n")
    r = c.read_response()
    assert r.header("Transfer-Encoding") == "chunked" and r.header("Content-Length") is None
    assert r.body == b"first chunk\nsecond chunk\nthird and last chunk\n"
    assert c.read_response().body == b"Hello, World!"
    c.close()


def test_file_with_sendfile():
    with open(os.path.join(os.environ.get("VIAL_BUILD_DIR", "."), "tests", "engine_server"), "rb") as f:
        expected = f.read()
    r = get(srv.port, "/file")
    assert r.status == 200 and r.header("Content-Length") == str(len(expected))
    assert r.body == expected


def test_wait_api_parks_the_coroutine():
    r = get(srv.port, "/timerfd?ms=50")
    assert r.body == b"ready=1 coroutine=1\n", r.body


def test_slow_handlers_do_not_block_others():
    """Three requests sleeping 800 ms each on one worker, plus quick ones
    meanwhile: all quick ones are answered before any sleeper (ordering,
    not timing: the sleepers cannot finish before they were woken)."""
    sleepers = [Conn(srv.port) for _ in range(3)]
    for s in sleepers:
        s.send(b"GET /slow?ms=800 HTTP/1.1\r\nHost: t\r\n\r\n")
    for _ in range(20):
        assert get(srv.port, "/plaintext").status == 200
    for s in sleepers:
        assert s.read_response().body == b"slept 800\n"
        s.close()


def test_custom_status_reason_and_errors():
    r = get(srv.port, "/custom")
    assert r.status == 666 and r.reason == "Of The Beast", r
    r = get(srv.port, "/nowhere")
    assert r.status == 404
    c = Conn(srv.port)
    c.send(b"GET /badheader HTTP/1.1\r\nHost: t\r\n\r\n")
    r = c.read_response()
    assert r.status == 500 and b"Injected" not in r.raw_head, r
    assert c.closed_by_server()
    srv.wait_line("could not be serialized", 10)


def test_curl_keep_alive_and_http10():
    url = f"http://127.0.0.1:{srv.port}/plaintext"
    out = subprocess.run(["curl", "-s", "-S", "--max-time", "20", url, url, url], capture_output=True, timeout=30)
    assert out.returncode == 0 and out.stdout == b"Hello, World!" * 3
    out = subprocess.run(["curl", "-s", "-S", "-0", "-i", "--max-time", "20", url], capture_output=True, timeout=30)
    assert out.returncode == 0 and out.stdout.startswith(b"HTTP/1.1 200 OK") and b"Connection: close" in out.stdout
    out = subprocess.run(["curl", "-s", "-S", "-I", "--max-time", "20", url], capture_output=True, timeout=30)
    assert out.returncode == 0 and b"Content-Length: 13" in out.stdout


if __name__ == "__main__":
    with Server(workers=1) as s:
        srv = s
        run([test_plaintext_and_json_headers, test_100_pipelined_requests_answered_in_order,
             test_pipelined_responses_leave_in_few_segments, test_1000_keep_alive_requests_on_one_connection,
             test_http10_with_and_without_keep_alive, test_head_has_headers_only, test_connection_close_request,
             test_expect_100_continue, test_chunked_request_bodies_with_trailers,
             test_content_length_upload_and_large_bodies, test_stream_is_chunked, test_file_with_sendfile,
             test_wait_api_parks_the_coroutine, test_slow_handlers_do_not_block_others,
             test_custom_status_reason_and_errors, test_curl_keep_alive_and_http10])
