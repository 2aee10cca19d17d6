"""vial and the real Flask side by side over HTTP, with the same SECRET_KEY:
session_app on one 127.0.0.1 port, Flask 2.2 (flask_session_app.py, with
Flask-Login and Flask-WTF) on another. One cookie jar talks to both, as a
browser does with two services under one host name.

A session written by either is read by the other (strings, numbers, lists,
nested dicts, tuples, bytes, Markup, datetimes, UUIDs); flashes made by one
are shown by the other; a pbkdf2 hash made by Werkzeug verifies in vial and
the other way round; a user logged in by one is logged in for the other
(session keys and the remember-me cookie); a CSRF token from one is accepted
by the other."""
import os
import sys

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from session_harness import HERE, Proc, VialApp, free_port, run_tests, wait_port  # noqa: E402

TIMEOUT = 30
vial = flask = None


class FlaskApp(Proc):
    def __init__(self):
        self.port = free_port()
        env = dict(os.environ, PYTHONPATH=HERE, PYTHONDONTWRITEBYTECODE="1")
        super().__init__(["/usr/bin/python3", os.path.join(HERE, "flask_session_app.py"), str(self.port)], env=env,
                         name="flask")
        wait_port(self.port, self.proc)
        self.url = f"http://127.0.0.1:{self.port}"


def client():
    c = requests.Session()
    c.headers["User-Agent"] = "interop-test/1.0"
    return c


def get(c, base, path):
    r = c.get(base + path, timeout=TIMEOUT, allow_redirects=False)
    assert r.status_code == 200, (base + path, r.status_code, r.text)
    return r


def test_flask_session_read_by_vial_and_back():
    c = client()
    get(c, flask.url, "/set?k=username&v=xiaoming")
    get(c, flask.url, "/set_types")
    from_flask = get(c, flask.url, "/dump").text
    assert get(c, vial.url, "/dump").text == from_flask, "vial reads every value Flask stored"
    # vial changes it; Flask sees the change and everything else unchanged
    get(c, vial.url, "/set?k=from&v=vial")
    after = get(c, flask.url, "/dump").text
    assert '"from":"vial"' in after, after
    assert after.replace(',"from":"vial"', "") == from_flask, (after, from_flask)


def test_vial_session_read_by_flask():
    c = client()
    get(c, vial.url, "/set_types")
    get(c, vial.url, "/set?k=username&v=xiaoming")
    from_vial = get(c, vial.url, "/dump").text
    assert get(c, flask.url, "/dump").text == from_vial, "Flask reads every value vial stored"
    # the same values set by Flask itself serialize to the same text
    c2 = client()
    get(c2, flask.url, "/set_types")
    get(c2, flask.url, "/set?k=username&v=xiaoming")
    assert get(c2, flask.url, "/dump").text == from_vial


def test_flashes_cross_over():
    c = client()
    get(c, flask.url, "/flash?m=from+flask&c=error")
    get(c, vial.url, "/flash?m=from+vial&c=info")
    assert get(c, flask.url, "/flashes").json() == [["error", "from flask"], ["info", "from vial"]]
    get(c, vial.url, "/flash?m=again&c=warning")
    get(c, flask.url, "/flash?m=and+flask")
    assert get(c, vial.url, "/flashes").json() == [["warning", "again"], ["message", "and flask"]]
    assert get(c, flask.url, "/flashes").json() == []


def test_password_hashes_cross_over():
    c = client()
    for maker, checker in ((flask, vial), (vial, flask)):
        h = get(c, maker.url, "/hash?pw=123456").text
        assert h.startswith("pbkdf2:sha256:260000$"), h
        for pw, want in (("123456", "1"), ("1234567", "0")):
            r = c.post(checker.url + "/check", data={"hash": h, "pw": pw}, timeout=TIMEOUT)
            assert r.status_code == 200 and r.text == want, (maker.url, checker.url, pw, r.status_code, r.text)


def test_login_crosses_over():
    # Flask-Login logs in; vial sees the user, keeps the session fresh (same _id) and lets /user through
    c = client()
    assert c.post(flask.url + "/login", data={"username": "root"}, timeout=TIMEOUT).text == "logged in"
    assert get(c, vial.url, "/whoami").text == "root"
    r = get(c, vial.url, "/user")
    assert "root" in r.text
    assert '"_fresh":true' in get(c, vial.url, "/dump").text, "vial computes Flask-Login's _id identically"
    # vial logs out; Flask sees nobody
    token = get(c, vial.url, "/csrf").text
    r = c.post(vial.url + "/logout", data={"csrf_token": token}, timeout=TIMEOUT, allow_redirects=False)
    assert r.status_code == 302, (r.status_code, r.text)
    assert get(c, flask.url, "/whoami").text == "anonymous"
    # vial logs in with remember-me; a fresh browser session with only that cookie is logged in on Flask
    token = get(c, vial.url, "/csrf").text
    r = c.post(vial.url + "/login", data={"csrf_token": token, "username": "root", "password": "123456",
                                          "remember": "on"}, timeout=TIMEOUT, allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"] == "/user", (r.status_code, r.headers, r.text)
    assert get(c, flask.url, "/whoami").text == "root"
    remember = c.cookies.get("remember_token")
    assert remember and remember.startswith("root|"), remember
    fresh = client()
    fresh.cookies.set("remember_token", remember)
    assert get(fresh, flask.url, "/user").text == "user root"
    # and the other way: Flask's remember cookie alone logs in on vial
    c3 = client()
    c3.post(flask.url + "/login", data={"username": "root", "remember": "y"}, timeout=TIMEOUT)
    fresh2 = client()
    fresh2.cookies.set("remember_token", c3.cookies.get("remember_token"))
    assert get(fresh2, vial.url, "/whoami").text == "root"
    assert '"_fresh":false' in get(fresh2, vial.url, "/dump").text
    # Flask logs out with the remember cookie present: both forget the user
    c3.post(flask.url + "/logout", timeout=TIMEOUT, allow_redirects=False)
    assert c3.cookies.get("remember_token") is None
    assert get(c3, vial.url, "/whoami").text == "anonymous"


def test_csrf_tokens_cross_over():
    c = client()
    flask_token = get(c, flask.url, "/csrf").text
    r = c.post(vial.url + "/submit", data={"csrf_token": flask_token}, timeout=TIMEOUT)
    assert r.status_code == 200 and r.text == "submitted", (r.status_code, r.text)
    vial_token = get(c, vial.url, "/csrf").text
    r = c.post(flask.url + "/submit", headers={"X-CSRFToken": vial_token}, timeout=TIMEOUT)
    assert r.status_code == 200 and r.text == "submitted", (r.status_code, r.text)
    # both refuse a missing token with Flask-WTF's reason
    r = c.post(vial.url + "/submit", data={"x": "1"}, timeout=TIMEOUT)
    assert r.status_code == 400 and "The CSRF token is missing." in r.text, r.text
    r = c.post(flask.url + "/submit", data={"x": "1"}, timeout=TIMEOUT)
    assert r.status_code == 400 and "The CSRF token is missing." in r.text, r.text


def main():
    global vial, flask
    vial = VialApp()
    flask = FlaskApp()
    run_tests([
        test_flask_session_read_by_vial_and_back,
        test_vial_session_read_by_flask,
        test_flashes_cross_over,
        test_password_hashes_cross_over,
        test_login_crosses_over,
        test_csrf_tokens_cross_over,
    ])


if __name__ == "__main__":
    main()
