"""Redis sessions over real HTTP: a throwaway redis-server on 127.0.0.1 (no
persistence, free port) and session_app with SESSION_TYPE=redis.

Checks the store (signed id in the cookie, tagged JSON under session:<id>
with the lifetime as TTL, deleted on clear, nothing stored for visitors who
only read), that a stopped Redis (SIGSTOP) parks only the requests that need
it while the same worker answers others, the timeout and the Redis-down
paths (503 plus a log line, the worker alive), and reconnection when Redis
comes back. Every process is stopped by pid at the end, also on failure."""
import json
import os
import signal
import socket
import sys
import threading

import requests
from itsdangerous import Signer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from session_harness import SECRET_KEY, Redis, VialApp, _read_reply, run_tests  # noqa: E402

LIFETIME = 600
TIMEOUT = 15 if os.environ.get("VIAL_SANITIZE") == "1" else 5

redis = None


def sid_of(cookie):
    """The session id inside the cookie, checked as Flask-Session would (Signer, salt flask-session, hmac)."""
    return Signer(SECRET_KEY, salt="flask-session", key_derivation="hmac").unsign(cookie).decode()


def app(**config):
    base = dict(SESSION_TYPE="redis", SESSION_REDIS_URL=redis.url, PERMANENT_SESSION_LIFETIME=LIFETIME,
                SESSION_REDIS_TIMEOUT=30)
    base.update(config)
    return VialApp(**base)


def test_store_layout():
    a = app()
    try:
        c = requests.Session()
        r = c.get(a.url + "/set?k=username&v=xiaoming", timeout=TIMEOUT)
        assert r.status_code == 200, r.text
        cookie = c.cookies.get("session")
        sid = sid_of(cookie)
        assert len(sid) == 43, sid  # secrets.token_urlsafe(32)
        stored = redis.command("GET", "session:" + sid)
        assert json.loads(stored) == {"_permanent": True, "username": "xiaoming"}, stored
        ttl = redis.command("TTL", "session:" + sid)
        assert 0 < ttl <= LIFETIME, ttl
        assert "Expires=" in r.headers["Set-Cookie"], r.headers["Set-Cookie"]  # permanent (SESSION_PERMANENT)
        assert "HttpOnly" in r.headers["Set-Cookie"]
        # read back; a permanent session is refreshed (same id, TTL reset) by a request that opens it
        redis.command("EXPIRE", "session:" + sid, 50)
        r = c.get(a.url + "/dump", timeout=TIMEOUT)
        assert json.loads(r.text) == {"_permanent": True, "username": "xiaoming"}, r.text
        assert sid_of(c.cookies.get("session")) == sid
        assert redis.command("TTL", "session:" + sid) > 50
        # nested values and tags survive (tagged JSON, like the cookie store)
        c.get(a.url + "/flash?m=hi&c=info", timeout=TIMEOUT)
        stored = json.loads(redis.command("GET", "session:" + sid))
        assert stored["_flashes"] == [{" t": ["info", "hi"]}], stored
        assert c.get(a.url + "/flashes", timeout=TIMEOUT).json() == [["info", "hi"]]
        # pop, then clear: the entry is deleted and the cookie too
        c.get(a.url + "/set?k=other&v=1", timeout=TIMEOUT)
        assert c.get(a.url + "/pop?k=username", timeout=TIMEOUT).text == "xiaoming"
        assert json.loads(redis.command("GET", "session:" + sid)) == {"_permanent": True, "other": "1"}
        r = c.get(a.url + "/clear", timeout=TIMEOUT)
        assert redis.command("EXISTS", "session:" + sid) == 0
        assert "Max-Age=0" in r.headers["Set-Cookie"], r.headers
        assert c.cookies.get("session") is None
        # a session left with nothing but its _permanent mark is not kept either
        c.get(a.url + "/set?k=a&v=1", timeout=TIMEOUT)
        sid = sid_of(c.cookies.get("session"))
        r = c.get(a.url + "/pop?k=a", timeout=TIMEOUT)
        assert redis.command("EXISTS", "session:" + sid) == 0
        assert "Max-Age=0" in r.headers["Set-Cookie"], r.headers
        # clear and refill in one request (a login): the old entry goes, the session gets a new id
        c.get(a.url + "/set?k=cart&v=3", timeout=TIMEOUT)
        before = sid_of(c.cookies.get("session"))
        c.get(a.url + "/relogin?user=root", timeout=TIMEOUT)
        after = sid_of(c.cookies.get("session"))
        assert after != before
        assert redis.command("EXISTS", "session:" + before) == 0
        assert json.loads(redis.command("GET", "session:" + after)) == {"_permanent": True, "user": "root"}
        # a new session after clear gets a new id
        c.get(a.url + "/set?k=a&v=1", timeout=TIMEOUT)
        assert sid_of(c.cookies.get("session")) != sid
    finally:
        a.stop()


def test_visitors_who_only_read_leave_nothing():
    a = app()
    try:
        before = redis.command("DBSIZE")
        r = requests.get(a.url + "/dump", timeout=TIMEOUT)
        assert r.status_code == 200
        assert json.loads(r.text) == {"_permanent": True}
        assert "Set-Cookie" not in r.headers
        assert r.headers.get("Vary") == "Cookie"
        assert redis.command("DBSIZE") == before
    finally:
        a.stop()


def test_forged_tampered_and_missing_entries():
    a = app()
    try:
        c = requests.Session()
        c.get(a.url + "/set?k=a&v=1", timeout=TIMEOUT)
        good = c.cookies.get("session")
        sid = sid_of(good)
        # an unsigned id or another key's signature is a new session, never an error
        for cookie in [sid, good[:-2] + ("AA" if not good.endswith("AA") else "BB"),
                       Signer("other", salt="flask-session", key_derivation="hmac").sign(sid).decode()]:
            r = requests.get(a.url + "/dump", cookies={"session": cookie}, timeout=TIMEOUT)
            assert r.status_code == 200
            assert json.loads(r.text) == {"_permanent": True}, (cookie, r.text)
        # an entry that expired in Redis: a new session under the same id
        redis.command("DEL", "session:" + sid)
        assert json.loads(c.get(a.url + "/dump", timeout=TIMEOUT).text) == {"_permanent": True}
        # an entry that is not a session
        redis.command("SET", "session:" + sid, "not json")
        assert json.loads(c.get(a.url + "/dump", timeout=TIMEOUT).text) == {"_permanent": True}
    finally:
        a.stop()


def test_not_permanent_and_key_prefix():
    a = app(SESSION_PERMANENT="false", SESSION_KEY_PREFIX="myapp:")
    try:
        c = requests.Session()
        r = c.get(a.url + "/set?k=a&v=1", timeout=TIMEOUT)
        assert "Expires=" not in r.headers["Set-Cookie"]
        sid = sid_of(c.cookies.get("session"))
        assert json.loads(redis.command("GET", "myapp:" + sid)) == {"a": "1"}
        assert 0 < redis.command("TTL", "myapp:" + sid) <= LIFETIME
        r = c.get(a.url + "/dump", timeout=TIMEOUT)
        assert "Set-Cookie" not in r.headers  # not permanent, not modified: nothing written
    finally:
        a.stop()


def test_stopped_redis_does_not_stall_the_worker():
    a = app(SESSION_REDIS_TIMEOUT=120)
    try:
        c = requests.Session()
        c.get(a.url + "/set?k=k&v=1", timeout=TIMEOUT)
        result = {}

        def slow():
            r = c.get(a.url + "/slow", timeout=300)
            result["status"], result["text"] = r.status_code, r.text

        redis.signal(signal.SIGSTOP)
        try:
            mark = a.line_count()
            t = threading.Thread(target=slow, daemon=True)
            t.start()
            # the request is on the worker and waiting for Redis...
            a.wait_line("slow: reading the session", timeout=60, start=mark)
            # ...while the same (single) worker answers others, several times over
            for _ in range(5):
                r = requests.get(a.url + "/ping", timeout=TIMEOUT)
                assert r.status_code == 200 and r.text == "pong"
            assert t.is_alive(), "the parked request cannot have finished: Redis is stopped"
            # a second request needing Redis parks on its own connection too, and the worker still answers
            t2 = threading.Thread(target=lambda: requests.get(a.url + "/slow", cookies=c.cookies, timeout=300),
                                  daemon=True)
            mark2 = a.line_count()
            t2.start()
            a.wait_line("slow: reading the session", timeout=60, start=mark2)
            assert requests.get(a.url + "/ping", timeout=TIMEOUT).text == "pong"
        finally:
            redis.signal(signal.SIGCONT)
        t.join(timeout=60)
        t2.join(timeout=60)
        assert not t.is_alive() and not t2.is_alive()
        assert result == {"status": 200, "text": "slow k=1"}, result
    finally:
        a.stop()


def test_redis_timeout_is_a_503():
    a = app(SESSION_REDIS_TIMEOUT=0.5)
    try:
        c = requests.Session()
        c.get(a.url + "/set?k=k&v=1", timeout=TIMEOUT)
        redis.signal(signal.SIGSTOP)
        try:
            mark = a.line_count()
            r = c.get(a.url + "/slow", timeout=60)
            assert r.status_code == 503, (r.status_code, r.text)
            assert "The session store is unavailable" in r.text, r.text
            i = a.wait_line(r"session: Redis redis://127\.0\.0\.1:\d+/0: GET for GET /slow: timed out", start=mark)
            assert "ERROR" in a.lines[i], a.lines[i]
            assert requests.get(a.url + "/ping", timeout=TIMEOUT).text == "pong"
        finally:
            redis.signal(signal.SIGCONT)
        # the timed-out connection was dropped; the next request reconnects and works
        r = c.get(a.url + "/slow", timeout=TIMEOUT)
        assert r.status_code == 200 and r.text == "slow k=1", r.text
    finally:
        a.stop()


def test_redis_down_is_a_503_and_comes_back():
    global redis
    a = app(SESSION_REDIS_TIMEOUT=5)
    try:
        c = requests.Session()
        c.get(a.url + "/set?k=k&v=1", timeout=TIMEOUT)
        port = redis.port
        redis.stop()
        mark = a.line_count()
        r = c.get(a.url + "/slow", timeout=60)
        assert r.status_code == 503, (r.status_code, r.text)
        a.wait_line(r"session: Redis redis://127\.0\.0\.1:%d/0: GET for GET /slow: (connect: Connection refused|"
                    r"Redis closed the connection|write: .*|read: .*)" % port, start=mark)
        # writing a new session needs Redis as well
        r = requests.get(a.url + "/set?k=x&v=y", timeout=60)
        assert r.status_code == 503
        assert "Set-Cookie" not in r.headers
        assert requests.get(a.url + "/ping", timeout=TIMEOUT).text == "pong", "the worker lives on"
        # Redis back on the same port: the next request reconnects (the old entry is gone with it)
        redis = Redis(port=port)
        r = c.get(a.url + "/set?k=k&v=2", timeout=TIMEOUT)
        assert r.status_code == 200, r.text
        assert c.get(a.url + "/slow", timeout=TIMEOUT).text == "slow k=2"
    finally:
        a.stop()


def authed(password, db, *args):
    """One command on a connection that authenticates and selects db first (the harness' client does neither)."""
    with socket.create_connection(("127.0.0.1", redis.port), timeout=10) as s:
        out = b""
        for cmd in (("AUTH", password), ("SELECT", db), args):
            out += b"*%d\r\n" % len(cmd)
            for a in cmd:
                a = str(a).encode()
                out += b"$%d\r\n%s\r\n" % (len(a), a)
        s.sendall(out)
        f = s.makefile("rb")
        assert _read_reply(f) == "OK"
        assert _read_reply(f) == "OK"
        return _read_reply(f)


def test_redis_url_with_password_and_db():
    password = "s3cr:t@"
    redis.command("CONFIG", "SET", "requirepass", password)
    try:
        a = app(SESSION_REDIS_URL=f"redis://:s3cr%3At%40@127.0.0.1:{redis.port}/3")
        try:
            c = requests.Session()
            assert c.get(a.url + "/set?k=a&v=1", timeout=TIMEOUT).status_code == 200
            sid = sid_of(c.cookies.get("session"))
            assert json.loads(authed(password, 3, "GET", "session:" + sid)) == {"_permanent": True, "a": "1"}
            assert authed(password, 0, "EXISTS", "session:" + sid) == 0
        finally:
            a.stop()
        b = app(SESSION_REDIS_URL=f"redis://:wrong-password@127.0.0.1:{redis.port}/3", SESSION_REDIS_TIMEOUT=5)
        try:
            mark = b.line_count()
            assert requests.get(b.url + "/set?k=a&v=1", timeout=TIMEOUT).status_code == 503
            b.wait_line(r"session: Redis redis://\*\*\*@127\.0\.0\.1:\d+/3: SET for GET /set: AUTH", start=mark)
            assert "wrong-password" not in b.log(), "the password is not logged"
        finally:
            b.stop()
    finally:
        authed(password, 0, "CONFIG", "SET", "requirepass", "")


def main():
    global redis
    redis = Redis()
    run_tests([
        test_store_layout,
        test_visitors_who_only_read_leave_nothing,
        test_forged_tampered_and_missing_entries,
        test_not_permanent_and_key_prefix,
        test_stopped_redis_does_not_stall_the_worker,
        test_redis_timeout_is_a_503,
        test_redis_down_is_a_503_and_comes_back,
        test_redis_url_with_password_and_db,
    ])


if __name__ == "__main__":
    main()
