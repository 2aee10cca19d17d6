"""Slow clients: a head sent one byte per second is cut off at the header
timeout with 408 while other clients are served normally meanwhile; a
stalled body gets 408; idle keep-alive connections, silent new connections
and clients that stop reading their response are closed."""
import os
import select
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from engine_harness import Conn, Server, get, run  # noqa: E402

srv = None
HEADER_MS, BODY_MS, IDLE_MS, WRITE_MS = 3000, 1500, 1500, 1500


def test_one_byte_per_second_head_is_cut_off_while_others_are_served():
    head = b"GET /plaintext HTTP/1.1\r\nHost: slow\r\nX-Padding: " + b"p" * 40 + b"\r\n\r\n"
    result = {}

    def slow_client():
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
        sent, reply = 0, b""
        try:
            for byte in head:  # bounded: len(head) seconds at most
                try:
                    s.sendall(bytes([byte]))
                    sent += 1
                except OSError:
                    break
                r, _, _ = select.select([s], [], [], 1.0)
                if r:
                    while True:
                        d = s.recv(4096)
                        if not d:
                            break
                        reply += d
                    break
        except OSError as e:
            result["error"] = repr(e)
        finally:
            s.close()
        result["sent"], result["reply"] = sent, reply

    t = threading.Thread(target=slow_client)
    t.start()
    served = 0
    while t.is_alive() and served < 100000:
        r = get(srv.port, "/plaintext")
        assert r.status == 200 and r.body == b"Hello, World!"
        served += 1
        time.sleep(0.01)
    t.join(120)
    assert not t.is_alive()
    assert served > 0
    assert result["reply"].startswith(b"HTTP/1.1 408 Request Timeout\r\n"), result
    assert b"Connection: close" in result["reply"]
    assert result["sent"] < len(head), "the whole head got through"
    print(f"  slow client cut off after {result['sent']} bytes; {served} other requests served meanwhile")


def test_stalled_body_gets_408_and_close():
    c = Conn(srv.port, timeout=30)
    c.send(b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n0123456789")
    r = c.read_response()
    assert r.status == 408 and r.header("Connection") == "close", r
    assert c.closed_by_server()
    c.close()


def test_idle_keep_alive_connection_is_closed():
    c = Conn(srv.port, timeout=30)
    c.send(b"GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n")
    assert c.read_response().status == 200
    assert c.closed_by_server(timeout=IDLE_MS / 1000 * 10)
    assert c.buf == b"", "an idle close sends nothing"
    c.close()


def test_silent_new_connection_is_closed():
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=HEADER_MS / 1000 * 10)
    try:
        assert s.recv(100) == b"", "nothing sent, nothing answered, then closed"
    finally:
        s.close()


def test_client_not_reading_its_response_is_dropped():
    c = Conn(srv.port, timeout=30)
    n = 64 * 1024 * 1024
    c.send(b"GET /big?n=%d HTTP/1.1\r\nHost: t\r\n\r\n" % n)
    # Not reading: the socket buffers fill and the server's writes stall.
    # Others are served meanwhile.
    for _ in range(20):
        assert get(srv.port, "/plaintext").status == 200
    time.sleep(WRITE_MS / 1000 * 3)
    got = 0
    try:
        c.sock.settimeout(10)
        while True:
            d = c.sock.recv(1 << 20)
            if not d:
                break
            got += len(d)
    except (ConnectionResetError, socket.timeout):
        pass
    c.close()
    assert got < n, "the whole response was delivered to a client that did not read"
    print(f"  got {got} of {n} bytes before the server gave up")


if __name__ == "__main__":
    with Server("--header-timeout", str(HEADER_MS), "--body-timeout", str(BODY_MS), "--keepalive-timeout",
                str(IDLE_MS), "--write-timeout", str(WRITE_MS), workers=1) as s:
        srv = s
        run([test_one_byte_per_second_head_is_cut_off_while_others_are_served, test_stalled_body_gets_408_and_close,
             test_idle_keep_alive_connection_is_closed, test_silent_new_connection_is_closed,
             test_client_not_reading_its_response_is_dropped])
