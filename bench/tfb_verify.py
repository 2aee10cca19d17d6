"""tfb_verify.py BASE_URL DATABASE_URL [--tests "db queries updates fortunes"]

The checks TechEmpower's verifier makes (shared/specs/techempower.md), on one
running server: every URL fetched once, its status, headers and body shape
validated. Exits 1 with one line per failure, 0 when everything passes.

- every response: 200, Server, Date (RFC 7231 format), Content-Type, and
  Content-Length or Transfer-Encoding;
- /db: a JSON object with integer id (1..10000) and randomNumber (<= 10000),
  application/json;
- /queries?queries= 2 / 0 / foo / (empty) / 501: JSON arrays of 2 / 1 / 1 / 1 / 500
  such objects (a bare object fails);
- /updates?queries= the same lengths, and with 501 the World table, read
  before and after from DATABASE_URL, must have more than 90% of the 500 rows
  changed;
- /fortunes: text/html; charset=utf-8, and the page reduced as the verifier's
  fortune_html_parser does (tag names only, whitespace-only text dropped,
  meta/link/thead/tbody ignored, entities decoded) equal to the expected
  13-row table in message order.
"""
import email.utils
import html
import http.client
import json
import re
import sqlite3
import sys
import time
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

JSON_TYPE = re.compile(r"^application/json(; ?charset=(UTF|utf)-8)?$")
HTML_TYPE = re.compile(r"^text/html; ?charset=(UTF|utf)-8$")

FORTUNES = {
    1: "fortune: No such file or directory",
    2: "A computer scientist is someone who fixes things that aren't broken.",
    3: "After enough decimal places, nobody gives a damn.",
    4: "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1",
    5: "A computer program does what you tell it to do, not what you want it to do.",
    6: "Emacs is a nice operating system, but I prefer UNIX. \u2014 Tom Christaensen",
    7: "Any program that runs right is obsolete.",
    8: "A list is only as strong as its weakest link. \u2014 Donald Knuth",
    9: "Feature: A bug with seniority.",
    10: "Computers make very fast, very accurate mistakes.",
    11: '<script>alert("This should not be displayed in a browser alert box.");</script>',
    12: "\u30d5\u30ec\u30fc\u30e0\u30ef\u30fc\u30af\u306e\u30d9\u30f3\u30c1\u30de\u30fc\u30af",
    0: "Additional fortune added at request time.",
}

failures = []


def fail(url, msg):
    failures.append(f"{url}: {msg}")


def fetch(base, path, accept):
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    conn.request("GET", path, headers={"Accept": accept, "User-Agent": "tfb_verify"})
    resp = conn.getresponse()
    body = resp.read()
    headers = {k.lower(): v for k, v in resp.getheaders()}
    conn.close()
    return resp.status, headers, body


def check_common(url, status, headers):
    if status != 200:
        fail(url, f"status {status}, expected 200")
    for name in ("server", "date", "content-type"):
        if name not in headers:
            fail(url, f"no {name.title()} header")
    if "content-length" not in headers and "transfer-encoding" not in headers:
        fail(url, "neither Content-Length nor Transfer-Encoding")
    date = headers.get("date", "")
    try:
        time.strptime(date, "%a, %d %b %Y %H:%M:%S %Z")
        if email.utils.parsedate_to_datetime(date) is None:
            raise ValueError
    except (ValueError, TypeError):
        fail(url, f"Date {date!r} is not an RFC 7231 date")


def check_world(url, obj):
    if not isinstance(obj, dict):
        fail(url, f"expected a JSON object, got {type(obj).__name__}")
        return None
    keys = {k.lower(): v for k, v in obj.items()}
    for key in ("id", "randomnumber"):
        if key not in keys:
            fail(url, f"no {key!r} key in {obj}")
            return None
        if not isinstance(keys[key], int) or isinstance(keys[key], bool):
            fail(url, f"{key} is not an integer in {obj}")
            return None
    if len(obj) > 2:
        fail(url, f"extra keys in {obj}")
    if not 1 <= keys["id"] <= 10000:
        fail(url, f"id {keys['id']} is outside 1..10000")
    if keys["randomnumber"] > 10000:
        fail(url, f"randomNumber {keys['randomnumber']} is above 10000")
    return keys


def get_json(base, path):
    url = base + path
    status, headers, body = fetch(base, path, "application/json,text/html;q=0.9,application/xhtml+xml;q=0.9,*/*;q=0.8")
    check_common(url, status, headers)
    if not JSON_TYPE.match(headers.get("content-type", "")):
        fail(url, f"Content-Type {headers.get('content-type')!r} is not application/json")
    try:
        return json.loads(body)
    except ValueError:
        fail(url, f"body is not JSON: {body[:80]!r}")
        return None


def check_db(base):
    check_world(base + "/db", get_json(base, "/db"))


def check_list(base, path, cases):
    for arg, expected_len in cases:
        url = f"{path}?queries={arg}"
        value = get_json(base, url)
        if not isinstance(value, list):
            fail(base + url, f"expected a JSON array, got {type(value).__name__}")
            continue
        if len(value) != expected_len:
            fail(base + url, f"{len(value)} items, expected {expected_len}")
        for item in value:
            if check_world(base + url, item) is None:
                break


CASES = [("2", 2), ("0", 1), ("foo", 1), ("", 1), ("501", 500)]


def world_table(database_url):
    if database_url.startswith("sqlite:///"):
        conn = sqlite3.connect(unquote(database_url[len("sqlite:///"):].split("?", 1)[0]))
        rows = dict(conn.execute("SELECT id, randomNumber FROM World").fetchall())
        conn.close()
        return rows
    import psycopg2

    parts = urlsplit(database_url)
    conn = psycopg2.connect(host=parts.hostname, port=parts.port or 5432, user=unquote(parts.username or ""),
                            password=unquote(parts.password or ""), dbname=parts.path.lstrip("/"))
    cur = conn.cursor()
    cur.execute("SELECT id, randomNumber FROM World")
    rows = dict(cur.fetchall())
    conn.close()
    return rows


def check_updates(base, database_url):
    check_list(base, "/updates", CASES[:-1])
    before = world_table(database_url)
    check_list(base, "/updates", CASES[-1:])
    after = world_table(database_url)
    changed = sum(1 for k, v in after.items() if before.get(k) != v)
    if changed <= 450:
        fail(base + "/updates?queries=501", f"only {changed} of 500 World rows changed (more than 90% must)")


class FortuneParser(HTMLParser):
    """What the verifier's fortune_html_parser keeps of a page."""

    IGNORED = {"meta", "link", "thead", "tbody"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tokens = []
        self.in_script = False

    def handle_decl(self, decl):
        self.tokens.append(f"<!{decl.lower()}>")

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.in_script = True
        if tag in self.IGNORED or self.in_script:
            return
        self.tokens.append(f"<{tag}>")

    def handle_endtag(self, tag):
        if tag == "script":
            self.in_script = False
            return
        if tag in self.IGNORED or self.in_script:
            return
        self.tokens.append(f"</{tag}>")

    def handle_data(self, data):
        if self.in_script or not data.strip():
            return
        if self.tokens and self.tokens[-1].startswith("text:"):
            self.tokens[-1] += data
        else:
            self.tokens.append("text:" + data)


def expected_fortunes():
    t = ["<!doctype html>", "<html>", "<head>", "<title>", "text:Fortunes", "</title>", "</head>", "<body>",
         "<table>", "<tr>", "<th>", "text:id", "</th>", "<th>", "text:message", "</th>", "</tr>"]
    for fid, message in sorted(FORTUNES.items(), key=lambda kv: kv[1]):
        t += ["<tr>", "<td>", f"text:{fid}", "</td>", "<td>", "text:" + message, "</td>", "</tr>"]
    return t + ["</table>", "</body>", "</html>"]


def check_fortunes(base):
    url = base + "/fortunes"
    status, headers, body = fetch(base, "/fortunes", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
    check_common(url, status, headers)
    if not HTML_TYPE.match(headers.get("content-type", "")):
        fail(url, f"Content-Type {headers.get('content-type')!r} is not text/html; charset=utf-8")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        fail(url, "the page is not UTF-8")
        return
    p = FortuneParser()
    p.feed(text)
    p.close()
    got, want = [s.strip() if s.startswith("text:") else s for s in p.tokens], expected_fortunes()
    if got != want:
        for i, (g, w) in enumerate(zip(got + [""] * len(want), want + [""] * len(got))):
            if g != w:
                fail(url, f"the page differs from the expected table at item {i}: got {g!r}, expected {w!r}")
                break
    if "<script>" in text:
        fail(url, "a message's '<' reached the page unescaped")
    if html.unescape(text).count("Additional fortune added at request time.") != 1:
        fail(url, "the request-time fortune is not on the page once")


def main():
    args = sys.argv[1:]
    tests = "db queries updates fortunes"
    if "--tests" in args:
        i = args.index("--tests")
        tests = args[i + 1]
        del args[i:i + 2]
    if len(args) != 2:
        print(__doc__.splitlines()[0], file=sys.stderr)
        return 2
    base, database_url = args[0].rstrip("/"), args[1]
    for test in tests.split():
        if test == "db":
            check_db(base)
        elif test == "queries":
            check_list(base, "/queries", CASES)
        elif test == "updates":
            check_updates(base, database_url)
        elif test == "fortunes":
            check_fortunes(base)
        else:
            print(f"tfb_verify: unknown test {test}", file=sys.stderr)
            return 2
    for f in failures:
        print("FAIL " + f)
    if not failures:
        print(f"verified {base}: {tests} (status, headers, shapes, lengths" +
              (", rows changed" if "updates" in tests else "") + ")")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
