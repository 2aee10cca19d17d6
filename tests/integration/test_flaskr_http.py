#!/usr/bin/python3
"""examples/flaskr served for real: the `flaskr` binary on 127.0.0.1, driven
with Python requests, beside the Flask tutorial's own flaskr (Flask 2.2.2's
examples/tutorial as Debian ships it in /usr/share/doc/python3-flask/examples,
copied to a scratch folder) on Flask's development server.

1. The walk: `flaskr init-db`, then register -> log in -> create -> update ->
   delete -> log out with requests.Session, checking statuses, redirects,
   pages, the cookie and the database file after each step; a second user
   meets 403s, a missing post 404, wrong methods 405.
2. The same script of requests against both servers, each on its own fresh
   database: every response's status, Location, Content-Type and body must be
   the same (bodies byte for byte).
3. Both servers on ONE database file with the same SECRET_KEY: a user
   registered by Flask logs in on vial (Werkzeug's pbkdf2 hash read by vial),
   and a session cookie made by either server is accepted by the other.

Servers run in scratch folders, are stopped by their PIDs at the end (also on
failure), and every wait is bounded.
"""
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

import requests

SOURCE = os.environ.get("VIAL_SOURCE_DIR") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("VIAL_BUILD_DIR") or os.path.join(SOURCE, "build", "release")
FLASKR = os.path.join(BUILD, "examples", "flaskr", "flaskr")
TUTORIAL = "/usr/share/doc/python3-flask/examples"

failures = []
checks = 0


def check(cond, what):
    global checks
    checks += 1
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


FLASK_RUNNER = """
import sys
sys.path.insert(0, sys.argv[1])
from flaskr import create_app
from flaskr.db import init_db
app = create_app({"DATABASE": sys.argv[2], "SECRET_KEY": "dev"})
if sys.argv[3] == "init":
    with app.app_context():
        init_db()
    print("Initialized the database.")
else:
    app.run(host="127.0.0.1", port=int(sys.argv[3]), debug=False, use_reloader=False)
"""


class Server:
    """flaskr (vial) or the tutorial's flaskr (Flask) on a free port, in a scratch folder."""

    def __init__(self, kind, db_path, init=True):
        self.kind = kind
        self.dir = tempfile.mkdtemp(prefix=f"flaskr-{kind}-")
        self.db_path = db_path
        self.err_path = os.path.join(self.dir, "log.txt")
        self.env = dict(os.environ, VIAL_DATABASE_URL="sqlite:///" + db_path)
        self.env.pop("VIAL_DEBUG", None)
        if kind == "flask":
            shutil.copytree(os.path.join(TUTORIAL, "flaskr"), os.path.join(self.dir, "pkg", "flaskr"))
        self.proc = None
        if init:
            out = self.run_init()
            check(out.strip() == "Initialized the database.", f"{kind} init-db said {out!r}")
        for attempt in range(5):  # another process may take the free port before the server binds it
            self.port = free_port()
            if self.start():
                return
        raise RuntimeError(f"the {kind} server did not start: {self.log()}")

    def run_init(self):
        if self.kind == "vial":
            argv = [FLASKR, "init-db"]
        else:
            argv = ["/usr/bin/python3", "-W", "ignore", "-c", FLASK_RUNNER, os.path.join(self.dir, "pkg"),
                    self.db_path, "init"]
        done = subprocess.run(argv, cwd=self.dir, env=self.env, capture_output=True, text=True, timeout=120)
        check(done.returncode == 0, f"{self.kind} init-db exited {done.returncode}: {done.stderr}")
        return done.stdout

    def start(self):
        if self.kind == "vial":
            argv = [FLASKR, "run", "--host", "127.0.0.1", "--port", str(self.port), "--workers", "2"]
        else:
            argv = ["/usr/bin/python3", "-W", "ignore", "-c", FLASK_RUNNER, os.path.join(self.dir, "pkg"),
                    self.db_path, str(self.port)]
        with open(self.err_path, "ab") as err:
            self.proc = subprocess.Popen(argv, cwd=self.dir, stdout=err, stderr=err, env=self.env)
        self.url = f"http://127.0.0.1:{self.port}"
        for _ in range(600):  # up to ~30 s on a loaded machine or the sanitizer build
            if self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return True
            except OSError:
                time.sleep(0.05)
        self.stop()
        return False

    def log(self):
        with open(self.err_path, encoding="utf-8", errors="replace") as fh:
            return fh.read()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def get(s, server, path, **kw):
    return s.get(server.url + path, allow_redirects=False, timeout=30, **kw)


def post(s, server, path, data=None, **kw):
    return s.post(server.url + path, data=data, allow_redirects=False, timeout=30, **kw)


def query(db_path, sql, args=()):
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


# ---------------------------------------------------------------- 1. the walk

def walk(tmp):
    db = os.path.join(tmp, "walk.sqlite")
    vial = Server("vial", db)
    try:
        s = requests.Session()
        r = get(s, vial, "/hello")
        check(r.status_code == 200 and r.text == "Hello, World!", f"/hello: {r.status_code} {r.text!r}")
        r = get(s, vial, "/")
        check(r.status_code == 200 and "Log In" in r.text and "Register" in r.text, "anonymous index")
        check(r.headers.get("Content-Type") == "text/html; charset=utf-8", f"index type {r.headers.get('Content-Type')}")

        # register
        check(get(s, vial, "/auth/register").status_code == 200, "GET register")
        r = post(s, vial, "/auth/register", {"username": "alice", "password": "s3cret"})
        check(r.status_code == 302 and r.headers.get("Location") == "/auth/login", f"register: {r.status_code} {r.headers}")
        check("session" not in s.cookies, "registering does not log in")
        rows = query(db, "SELECT username, password FROM user")
        check(len(rows) == 1 and rows[0][0] == "alice", f"user row {rows}")
        check(re.match(r"^(scrypt|pbkdf2):[^$]+\$[^$]+\$[0-9a-f]+$", rows[0][1] or "") is not None,
              f"a Werkzeug hash is stored, not the password: {rows[0][1]!r}")
        r = post(s, vial, "/auth/register", {"username": "alice", "password": "x"})
        check(r.status_code == 200 and '<div class="flash">User alice is already registered.</div>' in r.text,
              "duplicate registration message")
        check(post(s, vial, "/auth/register", {"username": "bob"}).status_code == 400, "absent password field: 400")

        # log in
        r = post(s, vial, "/auth/login", {"username": "alice", "password": "wrong"})
        check(r.status_code == 200 and "Incorrect password." in r.text, "wrong password message")
        r = post(s, vial, "/auth/login", {"username": "nobody", "password": "x"})
        check("Incorrect username." in r.text, "unknown user message")
        r = post(s, vial, "/auth/login", {"username": "alice", "password": "s3cret"})
        check(r.status_code == 302 and r.headers.get("Location") == "/", f"login redirect {r.status_code}")
        cookie = r.headers.get("Set-Cookie", "")
        check(cookie.startswith("session=") and "HttpOnly" in cookie and "Path=/" in cookie, f"session cookie {cookie!r}")
        r = get(s, vial, "/")
        check("<li><span>alice</span>" in r.text and "Log Out" in r.text, "logged-in nav")
        check('<a class="action" href="/create">New</a>' in r.text, "New link when logged in")

        # create
        check(get(s, vial, "/create").status_code == 200, "GET create")
        r = post(s, vial, "/create", {"title": "", "body": "kept"})
        check(r.status_code == 200 and "Title is required." in r.text and ">kept</textarea>" in r.text,
              "empty title message, body shown again")
        r = post(s, vial, "/create", {"title": "First <post> & \"quotes\"", "body": "line one\nline two"})
        check(r.status_code == 302 and r.headers.get("Location") == "/", f"create redirect {r.status_code}")
        rows = query(db, "SELECT id, title, body, author_id FROM post")
        check(rows == [(1, "First <post> & \"quotes\"", "line one\nline two", 1)], f"post row {rows}")
        r = get(s, vial, "/")
        check("<h1>First &lt;post&gt; &amp; &#34;quotes&#34;</h1>" in r.text, "title escaped on the index")
        check("line one\nline two" in r.text, "body newlines kept")
        check('href="/1/update"' in r.text, "Edit link for the author")
        check(re.search(r"by alice on \d{4}-\d\d-\d\d</div>", r.text) is not None, "by alice on <date>")

        # update
        r = get(s, vial, "/1/update")
        check(r.status_code == 200 and 'value="First &lt;post&gt; &amp; &#34;quotes&#34;"' in r.text, "update form prefilled")
        check('<form action="/1/delete" method="post">' in r.text, "delete form")
        r = post(s, vial, "/1/update", {"title": "Edited", "body": "new body"})
        check(r.status_code == 302 and r.headers.get("Location") == "/", "update redirect")
        check(query(db, "SELECT title, body FROM post WHERE id = 1") == [("Edited", "new body")], "post updated")

        # another user: 403 on alice's post, no Edit link
        other = requests.Session()
        post(other, vial, "/auth/register", {"username": "bob", "password": "pw"})
        r = post(other, vial, "/auth/login", {"username": "bob", "password": "pw"})
        check(r.status_code == 302, "bob logs in")
        check(get(other, vial, "/1/update").status_code == 403, "bob: GET /1/update is 403")
        check(post(other, vial, "/1/update", {"title": "mine"}).status_code == 403, "bob: POST /1/update is 403")
        check(post(other, vial, "/1/delete").status_code == 403, "bob: delete is 403")
        check('href="/1/update"' not in get(other, vial, "/").text, "bob sees no Edit link")
        anon = requests.Session()
        for path in ("/create", "/1/update", "/1/delete", "/99/delete"):
            r = post(anon, vial, path)
            check(r.status_code == 302 and r.headers.get("Location") == "/auth/login", f"anonymous POST {path}")

        # missing posts, methods, ids
        r = post(s, vial, "/99/delete")
        check(r.status_code == 404 and "Post id 99 doesn&#39;t exist." in r.text, f"missing post: {r.status_code}")
        check(get(s, vial, "/1/delete").status_code == 405, "GET delete is 405")
        check(post(s, vial, "/auth/logout").status_code == 405, "POST logout is 405")
        check(get(s, vial, "/abc/update").status_code == 404, "non-integer id is 404")
        r = get(s, vial, "/static/style.css")
        check(r.status_code == 200 and r.headers.get("Content-Type", "").startswith("text/css"), "stylesheet")

        # delete, log out
        r = post(s, vial, "/1/delete")
        check(r.status_code == 302 and r.headers.get("Location") == "/", "delete redirect")
        check(query(db, "SELECT COUNT(*) FROM post") == [(0,)], "post deleted")
        r = get(s, vial, "/auth/logout")
        check(r.status_code == 302 and r.headers.get("Location") == "/", "logout redirect")
        check("Max-Age=0" in r.headers.get("Set-Cookie", "") or "expires=Thu, 01 Jan 1970" in r.headers.get("Set-Cookie", ""),
              f"logout deletes the cookie: {r.headers.get('Set-Cookie')!r}")
        r = get(s, vial, "/")
        check("Log In" in r.text and "Log Out" not in r.text, "anonymous after logout")
    finally:
        vial.cleanup()


# ------------------------------------------------------------- 2. vs Flask

SCRIPT = [
    ("anon", "GET", "/", None),
    ("anon", "GET", "/hello", None),
    ("anon", "GET", "/auth/register", None),
    ("anon", "GET", "/auth/login", None),
    ("anon", "POST", "/auth/register", {"username": "", "password": ""}),
    ("anon", "POST", "/auth/register", {"username": "a", "password": ""}),
    ("anon", "POST", "/auth/register", {"username": "alice"}),
    ("anon", "POST", "/auth/register", {"username": "alice", "password": "pw"}),
    ("anon", "POST", "/auth/register", {"username": "alice", "password": "pw"}),
    ("anon", "POST", "/auth/register", {"username": "bob", "password": "pw2"}),
    ("anon", "POST", "/auth/login", {"username": "nobody", "password": "pw"}),
    ("anon", "POST", "/auth/login", {"username": "alice", "password": "nope"}),
    ("anon", "POST", "/create", None),
    ("anon", "POST", "/1/update", None),
    ("anon", "POST", "/7/delete", None),
    ("alice", "POST", "/auth/login", {"username": "alice", "password": "pw"}),
    ("alice", "GET", "/", None),
    ("alice", "GET", "/create", None),
    ("alice", "POST", "/create", {"title": "", "body": "b"}),
    ("alice", "POST", "/create", {"title": "<b>Hi</b> & \"q\" 'a'", "body": "one\ntwo <i>"}),
    ("alice", "GET", "/", None),
    ("alice", "GET", "/1/update", None),
    ("alice", "POST", "/1/update", {"title": "", "body": "x"}),
    ("alice", "POST", "/1/update", {"title": "Edited", "body": "Body"}),
    ("alice", "GET", "/", None),
    ("alice", "GET", "/2/update", None),
    ("alice", "POST", "/2/delete", None),
    ("alice", "GET", "/1/delete", None),
    ("alice", "PUT", "/create", None),
    ("alice", "GET", "/abc/update", None),
    ("alice", "GET", "/nowhere", None),
    ("bob", "POST", "/auth/login", {"username": "bob", "password": "pw2"}),
    ("bob", "GET", "/", None),
    ("bob", "GET", "/1/update", None),
    ("bob", "POST", "/1/update", None),
    ("bob", "POST", "/1/delete", None),
    ("alice", "POST", "/1/delete", None),
    ("alice", "GET", "/", None),
    ("alice", "GET", "/auth/logout", None),
    ("alice", "GET", "/", None),
]


def compare(tmp):
    servers = [Server("vial", os.path.join(tmp, "vial.sqlite")), Server("flask", os.path.join(tmp, "flask.sqlite"))]
    try:
        sessions = [{}, {}]
        for step, (who, method, path, data) in enumerate(SCRIPT, 1):
            answers = []
            for i, server in enumerate(servers):
                s = sessions[i].setdefault(who, requests.Session())
                r = s.request(method, server.url + path, data=data, allow_redirects=False, timeout=30)
                answers.append(r)
            v, f = answers
            what = f"step {step} ({who} {method} {path})"
            check(v.status_code == f.status_code, f"{what}: status vial {v.status_code}, Flask {f.status_code}")
            check(v.headers.get("Location") == f.headers.get("Location"),
                  f"{what}: Location vial {v.headers.get('Location')!r}, Flask {f.headers.get('Location')!r}")
            check(v.headers.get("Content-Type") == f.headers.get("Content-Type"),
                  f"{what}: Content-Type vial {v.headers.get('Content-Type')!r}, Flask {f.headers.get('Content-Type')!r}")
            check(("Set-Cookie" in v.headers) == ("Set-Cookie" in f.headers),
                  f"{what}: Set-Cookie vial {v.headers.get('Set-Cookie')!r}, Flask {f.headers.get('Set-Cookie')!r}")
            if v.content != f.content:
                check(False, f"{what}: bodies differ\n--- vial\n{v.text}\n--- Flask\n{f.text}")
    finally:
        for server in servers:
            server.cleanup()


# ------------------------------------------------------------ 3. one database

def interop(tmp):
    db = os.path.join(tmp, "shared.sqlite")
    flask = Server("flask", db)
    vial = Server("vial", db, init=False)
    try:
        fs = requests.Session()
        r = post(fs, flask, "/auth/register", {"username": "carol", "password": "pw"})
        check(r.status_code == 302, "carol registered on Flask")
        check(query(db, "SELECT password FROM user WHERE username = 'carol'")[0][0].startswith("pbkdf2:"),
              "Flask 2.2 stored a pbkdf2 hash")
        vs = requests.Session()
        r = post(vs, vial, "/auth/login", {"username": "carol", "password": "pw"})
        check(r.status_code == 302, "vial checks the hash Werkzeug wrote: carol logs in on vial")
        r = post(vs, vial, "/create", {"title": "from vial", "body": "b"})
        check(r.status_code == 302, "carol posts on vial")
        check("from vial" in get(fs, flask, "/").text, "Flask shows the post vial wrote")

        # Flask's session cookie on vial, and vial's on Flask
        r = post(fs, flask, "/auth/login", {"username": "carol", "password": "pw"})
        flask_cookie = fs.cookies.get("session")
        vial_cookie = vs.cookies.get("session")
        check(bool(flask_cookie) and bool(vial_cookie), "both servers set a session cookie")
        r = requests.get(vial.url + "/", cookies={"session": flask_cookie}, timeout=30)
        check("<li><span>carol</span>" in r.text, "vial reads Flask's session cookie")
        r = requests.get(flask.url + "/", cookies={"session": vial_cookie}, timeout=30)
        check("<li><span>carol</span>" in r.text, "Flask reads vial's session cookie")
        r = requests.get(flask.url + "/1/update", cookies={"session": vial_cookie}, timeout=30)
        check(r.status_code == 200, "and lets carol edit her post")
    finally:
        vial.cleanup()
        flask.cleanup()


def main():
    if not os.access(FLASKR, os.X_OK):
        print(f"test_flaskr_http: {FLASKR} is not built", file=sys.stderr)
        return 1
    if not os.path.isdir(os.path.join(TUTORIAL, "flaskr")):
        print(f"test_flaskr_http: the Flask tutorial is missing ({TUTORIAL}: scripts/bootstrap test installs "
              "python3-flask)", file=sys.stderr)
        return 1
    tmp = tempfile.mkdtemp(prefix="flaskr-http-")
    try:
        for part in (walk, compare, interop):
            print(f"== {part.__name__}")
            part(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{checks} checks, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
