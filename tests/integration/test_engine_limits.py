"""Bad input: request smuggling attempts get 400 and a close, limits get
414 / 431 / 413, garbage never crashes a worker or touches another
connection's response."""
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from engine_harness import SCALE, Conn, Server, get, run  # noqa: E402

srv = None


def expect_error_and_close(raw, status, follow=b"GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n"):
    """Sends raw (plus a pipelined request after it); the answer must be
    `status` with Connection: close, nothing after it, then the close."""
    c = Conn(srv.port)
    try:
        c.send(raw + follow)
        r = c.read_response()
        assert r.status == status, (raw[:120], r)
        assert r.header("Connection") == "close", r
        assert c.closed_by_server(), "the connection stayed open"
        assert b"HTTP/1.1" not in c.buf, f"something was answered after the error: {c.buf[:200]!r}"
    finally:
        c.close()


SMUGGLING = [
    ("CL and TE together", b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    ("TE and CL together", b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n"),
    ("duplicate CL", b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\nabcd"),
    ("conflicting CL", b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde"),
    ("CL list", b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4, 4\r\n\r\nabcd"),
    ("signed CL", b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: +4\r\n\r\nabcd"),
    ("hex CL", b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 0x4\r\n\r\nabcd"),
    ("CL with space inside", b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 1 2\r\n\r\nabcd"),
    ("TE not chunked last", b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n"),
    ("TE on HTTP/1.0", b"POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    ("TE with vertical tab", b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding:\x0bchunked\r\n\r\n0\r\n\r\n"),
    ("space before colon", b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n"),
    ("obs-fold", b"GET / HTTP/1.1\r\nHost: t\r\nX-Folded: a\r\n b\r\n\r\n"),
    ("obs-fold TE", b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n"),
    ("bare LF in header", b"GET / HTTP/1.1\r\nHost: t\nX-A: b\r\n\r\n"),
    ("bare LF request line", b"GET / HTTP/1.1\nHost: t\r\n\r\n"),
    ("bare CR", b"GET / HTTP/1.1\r\nHost: t\rX-A: b\r\n\r\n"),
    ("NUL in value", b"GET / HTTP/1.1\r\nHost: t\r\nX-A: a\x00b\r\n\r\n"),
    ("control char in name", b"GET / HTTP/1.1\r\nHost: t\r\nX\x01A: b\r\n\r\n"),
    ("missing Host", b"GET / HTTP/1.1\r\nX-A: b\r\n\r\n"),
    ("two Hosts", b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
    ("space in target", b"GET /a b HTTP/1.1\r\nHost: t\r\n\r\n"),
    ("lowercase version", b"GET / http/1.1\r\nHost: t\r\n\r\n"),
]

BAD_CHUNKS = [
    ("chunk size not hex", b"zz\r\nabc\r\n0\r\n\r\n"),
    ("chunk size overflow", b"fffffffffffffffff1\r\nabc\r\n0\r\n\r\n"),
    ("negative chunk size", b"-5\r\nabcde\r\n0\r\n\r\n"),
    ("chunk size with space", b"5 \r\nabcde\r\n0\r\n\r\n"),
    ("chunk data too long", b"3\r\nabcdef\r\n0\r\n\r\n"),
    ("chunk missing CRLF", b"3\r\nabcXX0\r\n\r\n"),
    ("chunk size bare LF", b"3\nabc\r\n0\r\n\r\n"),
    ("empty chunk size", b"\r\nabc\r\n0\r\n\r\n"),
]


def test_smuggling_attempts_are_400_and_close():
    for name, raw in SMUGGLING:
        try:
            expect_error_and_close(raw, 400)
        except AssertionError as e:
            raise AssertionError(f"{name}: {e}")


def test_bad_chunked_bodies_are_400_and_close():
    for name, chunks in BAD_CHUNKS:
        raw = b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks
        try:
            expect_error_and_close(raw, 400)
        except AssertionError as e:
            raise AssertionError(f"{name}: {e}")


def test_request_line_too_long_is_414():
    expect_error_and_close(b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: t\r\n\r\n", 414)
    # Known before the line ends.
    c = Conn(srv.port)
    c.send(b"GET /" + b"b" * 9000)
    r = c.read_response()
    assert r.status == 414 and r.header("Connection") == "close"
    c.close()


def test_header_block_too_large_is_431():
    expect_error_and_close(b"GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + b"v" * 17000 + b"\r\n\r\n", 431)
    many = b"".join(b"X-H%d: v\r\n" % i for i in range(101))
    expect_error_and_close(b"GET / HTTP/1.1\r\nHost: t\r\n" + many + b"\r\n", 431)
    # 99 fields plus Host: fine.
    ok = b"".join(b"X-H%d: v\r\n" % i for i in range(99))
    c = Conn(srv.port)
    c.send(b"GET /info HTTP/1.1\r\nHost: t\r\n" + ok + b"\r\n")
    r = c.read_response()
    assert r.status == 200 and b'"header_count":100' in r.body, r
    c.close()


def test_body_over_max_is_413_before_reading():
    # --max-body 65536: the answer comes without the body being sent at all.
    c = Conn(srv.port)
    c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 65537\r\n\r\n")
    r = c.read_response()
    assert r.status == 413 and r.header("Connection") == "close", r
    c.close()
    # With Expect: 100-continue the client is never invited to send it.
    c = Conn(srv.port)
    c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10000000\r\nExpect: 100-continue\r\n\r\n")
    r = c.read_response()
    assert r.status == 413, r
    c.close()
    # Exactly the limit is fine.
    c = Conn(srv.port)
    body = b"q" * 65536
    c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 65536\r\n\r\n" + body)
    r = c.read_response()
    assert r.status == 200 and r.body == body
    c.close()


def test_chunked_body_over_max_is_413():
    c = Conn(srv.port)
    c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"%x\r\n%s\r\n" % (10000, b"c" * 10000)
    try:
        for _ in range(10):
            c.send(chunk)
    except (BrokenPipeError, ConnectionResetError):
        pass
    r = c.read_response()
    assert r.status == 413 and r.header("Connection") == "close", r
    c.close()


def test_unsupported_and_odd_requests():
    expect_error_and_close(b"GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505)
    expect_error_and_close(b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501)
    # Empty lines before a request are allowed (RFC 9112 2.2).
    c = Conn(srv.port)
    c.send(b"\r\n\r\nGET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n")
    assert c.read_response().body == b"Hello, World!"
    c.close()


def test_garbage_never_crashes_nor_corrupts_others():
    """Random bytes and mangled requests on many connections, while a clean
    keep-alive connection runs alongside: its responses stay intact and the
    worker never changes (no crash)."""
    workers_before = srv.workers()
    rng = random.Random(1234)
    clean = Conn(srv.port)
    base = b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello"
    rounds = int(300 * SCALE)
    for i in range(rounds):
        kind = i % 3
        if kind == 0:
            junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400)))
        elif kind == 1:
            b = bytearray(base)
            for _ in range(rng.randrange(1, 6)):
                b[rng.randrange(len(b))] = rng.randrange(256)
            junk = bytes(b)
        else:
            junk = base[:rng.randrange(len(base))]
        g = Conn(srv.port, timeout=5)
        try:
            g.send(junk)
            g.sock.shutdown(1)
            g.closed_by_server(timeout=5)
        except OSError:
            pass
        finally:
            g.close()
        clean.send(b"GET /info?i=%d HTTP/1.1\r\nHost: clean\r\n\r\n" % i)
        r = clean.read_response()
        assert r.status == 200 and b'"query":"i=%d"' % i in r.body and b'"host":"clean"' in r.body, r
    clean.close()
    assert srv.workers() == workers_before, "a worker died"
    assert get(srv.port, "/plaintext").body == b"Hello, World!"


if __name__ == "__main__":
    with Server("--max-body", "65536", workers=1) as s:
        srv = s
        run([test_smuggling_attempts_are_400_and_close, test_bad_chunked_bodies_are_400_and_close,
             test_request_line_too_long_is_414, test_header_block_too_large_is_431,
             test_body_over_max_is_413_before_reading, test_chunked_body_over_max_is_413,
             test_unsupported_and_odd_requests, test_garbage_never_crashes_nor_corrupts_others])
