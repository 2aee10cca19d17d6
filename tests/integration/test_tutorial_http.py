#!/usr/bin/python3
"""examples/tutorial served for real: `tutorial <lesson> run` on 127.0.0.1,
driven with curl and Python requests, side by side with the course's Python
code served by Flask's own development server (tests/data/tutorial/flask/).

Each server runs in its own scratch folder holding a copy of avatar.png
(the course reads and writes ./avatar.png) and is stopped by its PID at the
end, also on failure. Compared over the sockets: status codes, bodies, the
headers the course is about (Content-Type, Location, Company, Allow,
Set-Cookie), files saved by uploads, cookie jars, redirects followed by the
clients, and what the views printed to the console.
"""
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import requests

SOURCE = os.environ.get("VIAL_SOURCE_DIR") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("VIAL_BUILD_DIR") or os.path.join(SOURCE, "build", "release")
TUTORIAL = os.path.join(BUILD, "examples", "tutorial", "tutorial")
FLASK_DIR = os.path.join(SOURCE, "tests", "data", "tutorial", "flask")
AVATAR = os.path.join(SOURCE, "examples", "tutorial", "avatar.png")

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
import importlib.util, sys
spec = importlib.util.spec_from_file_location("lesson", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
module.app.run(host="127.0.0.1", port=int(sys.argv[2]), debug=False, use_reloader=False)
"""


class Server:
    """One server process in a scratch folder; stopped by PID."""

    def __init__(self, kind, lesson):
        self.kind, self.lesson = kind, lesson
        self.dir = tempfile.mkdtemp(prefix=f"tutorial-{kind}-")
        shutil.copy(AVATAR, os.path.join(self.dir, "avatar.png"))
        self.port = free_port()
        self.out_path = os.path.join(self.dir, "console.txt")
        self.err_path = os.path.join(self.dir, "log.txt")
        if kind == "vial":
            argv = [TUTORIAL, lesson, "run", "--port", str(self.port), "--workers", "1"]
        else:
            argv = ["/usr/bin/python3", "-u", "-W", "ignore", "-c", FLASK_RUNNER,
                    os.path.join(FLASK_DIR, lesson + ".py"), str(self.port)]
        env = dict(os.environ, PYTHONHASHSEED="0")
        env.pop("VIAL_DEBUG", None)
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(argv, cwd=self.dir, stdout=out, stderr=err, env=env)
        self.url = f"http://127.0.0.1:{self.port}"
        for _ in range(400):  # bounded: up to ~20 s on a loaded machine / sanitizer build
            if self.proc.poll() is not None:
                break
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        log = self.log()
        self.cleanup()
        raise RuntimeError(f"{kind} server for {lesson} did not start: {log}")

    def log(self):
        with open(self.err_path, encoding="utf-8", errors="replace") as fh:
            return fh.read()

    def console(self):
        """What the views printed (Flask's own startup banner left out)."""
        with open(self.out_path, encoding="utf-8", errors="replace", newline="") as fh:
            return "".join(line for line in fh.read().splitlines(True) if not line.startswith(" * "))

    def path(self, name):
        return os.path.join(self.dir, name)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def start(kind, lesson):
    """A server on a free port; tries again when another process took the port first."""
    for attempt in range(3):
        try:
            return Server(kind, lesson)
        except RuntimeError:
            if attempt == 2:
                raise


class Pair:
    """The lesson served by vial and by Flask, for the same requests."""

    def __init__(self, lesson):
        self.lesson = lesson
        self.vial = self.flask = None
        try:
            self.vial = start("vial", lesson)
            self.flask = start("flask", lesson)
        except BaseException:
            self.__exit__()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for s in (self.vial, self.flask):
            if s:
                s.cleanup()


# ---- comparing answers ----

COMPARED_HEADERS = ["content-type", "location", "company", "allow", "content-length"]
EXPIRES = re.compile(r"Expires=[^;]+")


def header_view(r):
    view = {}
    for name in COMPARED_HEADERS:
        value = r.headers.get(name)
        if value is not None and name == "allow":
            value = ", ".join(sorted(v.strip() for v in value.split(",")))
        view[name] = value
    cookies = r.raw.headers.getlist("Set-Cookie") if hasattr(r.raw.headers, "getlist") else []
    view["set-cookie"] = [EXPIRES.sub("Expires=<date>", c) for c in cookies]
    return view


def same_answer(pair, method, path, what=None, expect_status=None, **kwargs):
    """Sends one request to both servers; status, body and the compared headers must agree."""
    what = what or f"{pair.lesson}: {method} {path}"
    rv = requests.request(method, pair.vial.url + path, allow_redirects=False, timeout=30, **kwargs)
    rf = requests.request(method, pair.flask.url + path, allow_redirects=False, timeout=30, **kwargs)
    check(rv.status_code == rf.status_code, f"{what}: status vial {rv.status_code}, Flask {rf.status_code}")
    if expect_status is not None:
        check(rv.status_code == expect_status, f"{what}: status {rv.status_code}, expected {expect_status}")
    check(rv.content == rf.content, f"{what}: body vial {rv.content[:200]!r}, Flask {rf.content[:200]!r}")
    hv, hf = header_view(rv), header_view(rf)
    check(hv == hf, f"{what}: headers vial {hv}, Flask {hf}")
    return rv, rf


def curl(*args):
    r = subprocess.run(["curl", "-sS", "--max-time", "30", *args], capture_output=True, timeout=60)
    check(r.returncode == 0, f"curl {' '.join(args)}: exit {r.returncode}: {r.stderr.decode(errors='replace')}")
    return r.stdout


# Python's type names in print(type(x)), as the C port names what it holds
TYPE_NAMES = {
    "<class 'str'>": "<VIAL_STRING>",
    "<class 'float'>": "<VIAL_DOUBLE>",
    "<class 'uuid.UUID'>": "<VIAL_STRING>",
}


def python_console_as_c(text):
    for py, c in TYPE_NAMES.items():
        text = text.replace(py, c)
    return text


# ---- the tests ----


def test_cli():
    r = subprocess.run([TUTORIAL], capture_output=True, text=True, timeout=30)
    check(r.returncode == 0, f"tutorial alone: exit {r.returncode}")
    with open(os.path.join(SOURCE, "tests", "data", "tutorial", "requests.json"), encoding="utf-8") as fh:
        lessons = [l["lesson"] for l in json.load(fh)["lessons"]]
    for name in lessons:
        check(re.search(rf"^  {re.escape(name)} ", r.stdout, re.M), f"tutorial alone does not list lesson {name}")
    r = subprocess.run([TUTORIAL, "nope", "run"], capture_output=True, text=True, timeout=30)
    check(r.returncode == 2 and "No such lesson 'nope'" in r.stderr, f"unknown lesson: exit {r.returncode}, {r.stderr}")
    r = subprocess.run([TUTORIAL, "hello", "run", "--port", "http"], capture_output=True, text=True, timeout=30)
    check(r.returncode == 2 and "Usage: tutorial hello run" in r.stderr, f"bad --port: exit {r.returncode}, {r.stderr}")
    with open(os.path.join(SOURCE, "tests", "data", "tutorial", "flask_answers.json"), encoding="utf-8") as fh:
        answers = {l["lesson"]: l for l in json.load(fh)["lessons"]}
    for name in ("regex", "body", "cookie", "session"):
        r = subprocess.run([TUTORIAL, name, "routes"], capture_output=True, text=True, timeout=30)
        check(r.returncode == 0 and r.stdout == answers[name]["routes"],
              f"tutorial {name} routes:\n{r.stdout}\nflask routes:\n{answers[name]['routes']}")
    r = subprocess.run([TUTORIAL, "config", "config"], capture_output=True, text=True, timeout=30)
    check("DEBUG = true" in r.stdout.splitlines(), f"config lesson: DEBUG not true:\n{r.stdout}")


def test_routing():
    with Pair("converters") as p:
        same_answer(p, "GET", "/goods/1.5/6A4E7C16-8B2D-4E0F-9F7C-3C2B1A0E5D4F", expect_status=200)
        same_answer(p, "GET", "/goods/10.0/6a4e7c16-8b2d-4e0f-9f7c-3c2b1a0e5d4f")
        same_answer(p, "GET", "/goods/1/6a4e7c16-8b2d-4e0f-9f7c-3c2b1a0e5d4f", expect_status=404)
        same_answer(p, "POST", "/")
        same_answer(p, "DELETE", "/", expect_status=405)
        p.vial.stop(), p.flask.stop()
        check(p.vial.console() == python_console_as_c(p.flask.console()),
              f"converters console:\nvial:\n{p.vial.console()}\nFlask:\n{p.flask.console()}")
    with Pair("regex") as p:
        same_answer(p, "GET", "/sms/13012345671", expect_status=200)
        same_answer(p, "GET", "/sms/12012345671", expect_status=404)
        same_answer(p, "GET", "/goods/42", expect_status=200)
        same_answer(p, "GET", "/goods/4x2", expect_status=404)
    with Pair("methods") as p:
        same_answer(p, "GET", "/")
        same_answer(p, "POST", "/")
        same_answer(p, "OPTIONS", "/", expect_status=200)
        same_answer(p, "PUT", "/", expect_status=405)


def test_requests():
    with Pair("qs") as p:
        same_answer(p, "GET", "/qs?user=xiaoming&age=16")
        same_answer(p, "GET", "/qs?user=xiaoming&fav=shopping&fav=coding&fav=rap")
        same_answer(p, "GET", "/qs", params={"user": "小明", "fav": ["watch TV", "a&b"]})
        p.vial.stop(), p.flask.stop()
        check(p.vial.console() == p.flask.console(), f"qs console:\nvial:\n{p.vial.console()}\nFlask:\n{p.flask.console()}")

    with Pair("body") as p:
        # multipart from curl -F: fields, repeated fields, two files
        scratch = tempfile.mkdtemp(prefix="tutorial-upload-")
        try:
            for name, data in (("a.png", b"\x89PNG first"), ("s.png", b"\x89PNG second")):
                with open(os.path.join(scratch, name), "wb") as fh:
                    fh.write(data)
            form = ["-F", "username=root", "-F", "fav=swimming", "-F", "fav=watch TV",
                    "-F", f"avatar=@{scratch}/a.png;type=image/png", "-F", f"avatar=@{scratch}/s.png;type=image/png"]
            check(curl(*form, p.vial.url + "/form1") == b"hello, flask", "curl -F /form1 (vial)")
            check(curl(*form, p.flask.url + "/form1") == b"hello, flask", "curl -F /form1 (Flask)")
            # urlencoded from curl -d
            check(curl("-d", "username=root", "-d", "password=123456", "-d", "fav=swimming",
                       p.vial.url + "/form1") == b"hello, flask", "curl -d /form1 (vial)")
            curl("-d", "username=root", "-d", "password=123456", "-d", "fav=swimming", p.flask.url + "/form1")
            # JSON and raw bodies
            same_answer(p, "POST", "/data", json={"username": "root", "password": "123456"})
            same_answer(p, "POST", "/data", data='{\n  "username": "root",\n  "password": "123456"\n}',
                        headers={"Content-Type": "application/json"})
            rv = requests.post(p.vial.url + "/data", data="<user>root</user>",
                               headers={"Content-Type": "application/xml"}, timeout=30)
            rf = requests.post(p.flask.url + "/data", data="<user>root</user>",
                               headers={"Content-Type": "application/xml"}, timeout=30)
            check(rv.status_code == 415 and rf.status_code == 400,
                  f"/data with XML: vial {rv.status_code} (415 as Flask 2.3+), Flask 2.2 {rf.status_code} (400)")
            # an upload over the in-memory threshold (500 KiB): saved from vial's temp file
            big = random.Random(7).randbytes(3 * 1024 * 1024)
            with open(os.path.join(scratch, "big.png"), "wb") as fh:
                fh.write(big)
            for server in (p.vial, p.flask):
                out = curl("-F", f"avatar=@{scratch}/big.png;type=image/png", server.url + "/file")
                check(out == b"hello, flask", f"curl -F /file ({server.kind}): {out[:100]!r}")
                with open(server.path("avatar.png"), "rb") as fh:
                    check(fh.read() == big, f"/file ({server.kind}): the saved avatar.png is not the upload")
            # PUT with requests
            for server in (p.vial, p.flask):
                r = requests.put(server.url + "/file", files={"avatar": ("s.png", b"small one", "image/png")}, timeout=30)
                check(r.status_code == 200, f"PUT /file ({server.kind}): {r.status_code}")
                with open(server.path("avatar.png"), "rb") as fh:
                    check(fh.read() == b"small one", f"PUT /file ({server.kind}): saved file differs")
            # no file: the course's code fails (500), the port too
            same_answer(p, "POST", "/file", data={"username": "root"}, expect_status=500)
        finally:
            shutil.rmtree(scratch)
        p.vial.stop(), p.flask.stop()
        check(p.vial.console() == p.flask.console(),
              f"body console:\nvial:\n{p.vial.console()}\nFlask:\n{p.flask.console()}")

    with Pair("header") as p:
        out = curl("-H", "Company: flask.edu", "-H", "User-Agent: PostmanRuntime/7.26.10",
                   "-d", "a=1", p.vial.url + "/header")
        check(out == b"hello, flask", f"/header body {out!r}")
        p.vial.stop()
        lines = p.vial.console().split("\n")
        host = f"127.0.0.1:{p.vial.port}"
        for expected in ("PostmanRuntime/7.26.10", host, "application/x-www-form-urlencoded", "/header",
                         f"http://{host}/header", f"http://{host}/", "POST", "127.0.0.1",
                         f"('127.0.0.1', {p.vial.port})", "flask.edu", "Company: flask.edu\r",
                         f"Host: {host}\r", " <VIAL_OBJECT>"):
            check(expected in lines, f"/header console lacks the line {expected!r}:\n{lines}")


def test_responses():
    with Pair("status") as p:
        same_answer(p, "GET", "/", expect_status=201)
    with Pair("status-666") as p:
        same_answer(p, "GET", "/", expect_status=666)
        head = curl("-si", p.vial.url + "/").split(b"\r\n")[0]
        check(head == b"HTTP/1.1 666 Unknown", f"666 status line: {head!r}")
    for lesson in ("html", "html-tuple", "html-make", "jsonapi", "jsonapi-dumps", "jsonapi-response"):
        with Pair(lesson) as p:
            same_answer(p, "GET", "/jsonapi" if lesson.startswith("jsonapi") else "/")
    with Pair("img") as p:
        rv, _ = same_answer(p, "GET", "/img", expect_status=200)
        with open(AVATAR, "rb") as fh:
            check(rv.content == fh.read() and rv.headers["Content-Type"] == "image/png", "/img is not avatar.png")
        same_answer(p, "HEAD", "/img")
    for lesson, location in (("jump", "https://www.163.com"), ("jump-redirect", "https://www.qq.com")):
        with Pair(lesson) as p:
            rv, _ = same_answer(p, "GET", "/jump", expect_status=302)
            check(rv.headers.get("Location") == location, f"{lesson}: Location {rv.headers.get('Location')}")
            out = curl("-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", p.vial.url + "/jump")
            check(out.decode().startswith(f"302 {location}"), f"{lesson}: curl saw {out!r}")
    with Pair("redirect") as p:
        same_answer(p, "GET", "/user", expect_status=302)
        same_answer(p, "GET", "/user?token=abc", expect_status=200)
        r = requests.get(p.vial.url + "/user", timeout=30)  # follows to /login
        check(r.text == "登录视图" and [h.status_code for h in r.history] == [302] and r.url.endswith("/login"),
              f"/user followed: {r.status_code} {r.url} {r.text!r}")
    with Pair("redirect-params") as p:
        same_answer(p, "GET", "/info", expect_status=302)
        out = curl("-sL", "-w", "\n%{url_effective}", p.vial.url + "/info")
        check(out == f"发送短信给13012345677\n{p.vial.url}/mobile/13012345677".encode(),
              f"curl -L /info: {out.decode(errors='replace')!r}")


def test_cookies():
    with Pair("cookie") as p:
        # curl with a cookie jar, the same steps against both servers: bodies and jars must agree
        def jar_cookies(jar):
            cookies = {}
            with open(jar, encoding="utf-8") as fh:
                for line in fh:
                    if line.startswith("#HttpOnly_"):
                        line = line[len("#HttpOnly_"):]
                    if line.strip() and not line.startswith("#"):
                        parts = line.rstrip("\n").split("\t")
                        cookies[parts[5]] = (parts[2], parts[4] == "0", parts[6])  # path, session cookie, value
            return cookies

        steps = [
            ([], "/set_cookie"),
            ([], "/get_cookie"),
            ([], "/del_cookie"),
            (["-L", "-d", "username=root", "-d", "password=bad"], "/login"),  # redirected to the form
            (["-d", "username=root", "-d", "password=123456"], "/login"),
            ([], "/user"),
        ]
        jars = {s.kind: os.path.join(s.dir, "jar.txt") for s in (p.vial, p.flask)}
        for args, path in steps:
            out = {s.kind: curl("-c", jars[s.kind], "-b", jars[s.kind], *args, s.url + path) for s in (p.vial, p.flask)}
            check(out["vial"] == out["flask"], f"curl {path}: vial {out['vial'][:120]!r}, Flask {out['flask'][:120]!r}")
            cv, cf = jar_cookies(jars["vial"]), jar_cookies(jars["flask"])
            check(cv == cf, f"curl cookie jars after {path}: vial {cv}, Flask {cf}")
        check(jar_cookies(jars["vial"]).get("username", ("", "", ""))[2] == "root", "logged in: the jar holds username=root")
        check(curl("-b", jars["vial"], p.vial.url + "/user").decode() == "个人中心的信息展示", "/user with the login cookie")
        check(b"Redirecting" in curl(p.vial.url + "/user"), "/user without cookies redirects")
        # the same flow with requests.Session, against both servers
        sessions = {"vial": requests.Session(), "flask": requests.Session()}
        steps = [("GET", "/set_cookie", None), ("GET", "/get_cookie", None), ("GET", "/del_cookie", None),
                 ("GET", "/get_cookie", None), ("GET", "/user", None),
                 ("POST", "/login", {"username": "root", "password": "123456"}), ("GET", "/user", None),
                 ("GET", "/get_cookie", None)]
        for method, path, form in steps:
            r = {k: s.request(method, getattr(p, k).url + path, data=form, timeout=30) for k, s in sessions.items()}
            check(r["vial"].status_code == r["flask"].status_code and r["vial"].content == r["flask"].content,
                  f"cookie flow {method} {path}: vial {r['vial'].status_code} {r['vial'].text[:80]!r}, "
                  f"Flask {r['flask'].status_code} {r['flask'].text[:80]!r}")
            check(sessions["vial"].cookies.get_dict() == sessions["flask"].cookies.get_dict(),
                  f"cookie jars after {path}: vial {sessions['vial'].cookies.get_dict()}, "
                  f"Flask {sessions['flask'].cookies.get_dict()}")
        p.vial.stop(), p.flask.stop()
        check(p.vial.console() == p.flask.console(),
              f"cookie console:\nvial:\n{p.vial.console()}\nFlask:\n{p.flask.console()}")


def test_sessions():
    with Pair("session") as p:
        # the same steps with requests.Session against both servers: statuses, bodies and the console agree
        sessions = {"vial": requests.Session(), "flask": requests.Session()}
        steps = [("GET", "/get_session", None), ("GET", "/set_session", None), ("GET", "/get_session", None),
                 ("GET", "/del_session", None), ("GET", "/get_session", None), ("GET", "/user", None),
                 ("POST", "/login", {"username": "root", "password": "bad"}), ("GET", "/user", None),
                 ("POST", "/login", {"username": "root", "password": "123456"}), ("GET", "/user", None),
                 ("GET", "/get_session", None)]
        for method, path, form in steps:
            r = {k: s.request(method, getattr(p, k).url + path, data=form, timeout=30) for k, s in sessions.items()}
            check(r["vial"].status_code == r["flask"].status_code and r["vial"].content == r["flask"].content,
                  f"session flow {method} {path}: vial {r['vial'].status_code} {r['vial'].text[:80]!r}, "
                  f"Flask {r['flask'].status_code} {r['flask'].text[:80]!r}")
            check(set(sessions["vial"].cookies.keys()) == set(sessions["flask"].cookies.keys()),
                  f"cookie names after {path}: vial {sessions['vial'].cookies.keys()}, "
                  f"Flask {sessions['flask'].cookies.keys()}")
        # the course's SECRET_KEY is the same on both: each server reads the other's session cookie
        for reader, writer in (("vial", "flask"), ("flask", "vial")):
            cookie = sessions[writer].cookies.get("session")
            r = requests.get(getattr(p, reader).url + "/user", cookies={"session": cookie}, allow_redirects=False,
                             timeout=30)
            check(r.status_code == 200 and r.text == "个人中心的信息展示",
                  f"{reader} reading {writer}'s session cookie: {r.status_code} {r.text[:80]!r}")
        r = requests.get(p.vial.url + "/user", cookies={"session": "forged.cookie.value"}, allow_redirects=False,
                         timeout=30)
        check(r.status_code == 302, f"a forged session cookie is no login: {r.status_code}")
        p.vial.stop(), p.flask.stop()
        check(p.vial.console() == p.flask.console(),
              f"session console:\nvial:\n{p.vial.console()}\nFlask:\n{p.flask.console()}")


def main():
    if not os.path.exists(TUTORIAL):
        print(f"FAIL: {TUTORIAL} is not built", file=sys.stderr)
        return 1
    for test in (test_cli, test_routing, test_requests, test_responses, test_cookies, test_sessions):
        try:
            test()
        except Exception as e:  # a crash is a failure, reported with the rest
            failures.append(f"{test.__name__}: {type(e).__name__}: {e}")
            print(f"FAIL: {test.__name__}: {type(e).__name__}: {e}", file=sys.stderr)
    if failures:
        print(f"{len(failures)} of {checks} checks failed", file=sys.stderr)
        return 1
    print(f"ok: {checks} checks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
