#!/usr/bin/python3
"""Differential test: vial's form/cookie code against the real Werkzeug 2.2.2.

Generates a few thousand inputs (deterministic seed) for each parser and
formatter -- query strings, Cookie headers, Content-Type/Disposition
parameters, multipart bodies (also streamed in 1- and 7-byte reads with a
tiny temp-file threshold), secure_filename (POSIX and Windows rules),
Set-Cookie lines, IDNA hosts, iri_to_uri, charset names -- feeds them to
$VIAL_BUILD_DIR/tests/forms_oracle and to Werkzeug, and fails on any
difference. Run with /usr/bin/python3 (Debian's Werkzeug)."""
import codecs
import datetime
import io
import json
import ntpath
import os
import random
import subprocess
import sys
import types

import werkzeug
import werkzeug.http
import werkzeug.utils
from werkzeug._internal import _encode_idna
from werkzeug.http import dump_cookie, parse_cookie, parse_options_header
from werkzeug.test import create_environ
from werkzeug.urls import iri_to_uri, url_decode
from werkzeug.wrappers import Request

assert werkzeug.__version__ == "2.2.2", werkzeug.__version__

BUILD = os.environ.get("VIAL_BUILD_DIR", "build/release")
HELPER = os.path.join(BUILD, "tests", "forms_oracle")
rng = random.Random(20240601)
failures = []
counts = {}


class Oracle:
    def __init__(self):
        self.p = subprocess.Popen([HELPER], stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def ask(self, req):
        self.p.stdin.write((json.dumps(req) + "\n").encode())
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        if not line:
            raise SystemExit(f"forms_oracle died on {req!r}")
        return json.loads(line)

    def close(self):
        self.p.stdin.close()
        if self.p.wait() != 0:
            raise SystemExit(f"forms_oracle exited with {self.p.returncode}")


def check(kind, ok, what):
    counts[kind] = counts.get(kind, 0) + 1
    if not ok:
        failures.append(f"{kind}: {what}")


def pick(tokens, lo, hi):
    return "".join(rng.choice(tokens) for _ in range(rng.randint(lo, hi)))


# ---- query strings and cookies ----

QUERY_TOKENS = ["a", "b", "Key", "=", "=", "&", "&", "+", "%", "%4", "%41", "%2B", "%zz", "%E4%B8%AD", "%E4%B8",
                "%ED%A0%80", "%FF", "%C3%28", "\xe4\xb8\xad", "\xff", ";", "#", " ", "%00", "[]", "?", "%%41"]


def run_query(o):
    for _ in range(600):
        raw = pick(QUERY_TOKENS, 0, 12).encode("latin-1")
        want = [list(p) for p in url_decode(raw, "utf-8", errors="replace").items(multi=True)]
        got = o.ask({"op": "query", "hex": raw.hex()})
        grouped = group(got["pairs"])
        check("query", grouped == want, f"{raw!r}: werkzeug {want} vial {grouped}")


def group(pairs):
    """MultiDict(pairs).items(multi=True): keys in first-seen order."""
    order, values = [], {}
    for k, v in pairs:
        if k not in values:
            order.append(k)
            values[k] = []
        values[k].append(v)
    return [[k, v] for k in order for v in values[k]]


COOKIE_TOKENS = ["a", "b", "c", "=", "=", ";", ";", " ", "  ", "\t", "\n", "\r", "\"", "\"", "\\", "\\\"", "\\073",
                 "\\344", "\\400", ",", "x y", "\xff", "\xe4\xb8\xad", "$Path", "%E4", "\x0b", "\\\\"]


def run_cookie(o):
    for _ in range(1500):
        raw = pick(COOKIE_TOKENS, 0, 14).encode("latin-1")
        want = [list(p) for p in parse_cookie(raw.decode("latin-1")).items(multi=True)]
        got = o.ask({"op": "cookie", "hex": raw.hex()})
        grouped = group(got["pairs"])
        check("cookie", grouped == want, f"{raw!r}: werkzeug {want} vial {grouped}")


# ---- parse_options_header ----

OPT_TOKENS = ["text/html", "form-data", "a", ";", ";", ";", ",", " ", "\t", "=", "=", "*", "*0", "*1", "*2", "\"",
              "\"", "\\", "\\\\", "\\\"", "'", "utf-8''", "UTF-8'en'", "latin-1''", "%E4%B8%AD", "%e9", "%ZZ", "%",
              "name", "filename", "NAME", "FileName", "x", "\u3000", "\xa0", "\x85", "é", "中", "\x1c", "charset",
              "boundary", "--", "\\\\srv"]


def run_options(o):
    for i in range(3000):
        s = pick(OPT_TOKENS, 1, 14)
        latin1 = i % 3 == 0
        if latin1:
            try:
                raw = s.encode("latin-1")
            except UnicodeEncodeError:
                continue
        else:
            raw = s.encode("utf-8")
        try:
            value, params = parse_options_header(s)
            want = {"value": value, "params": [[k, v] for k, v in params.items()]}
        except (LookupError, ValueError, TypeError) as e:
            want = {"error": type(e).__name__}
        got = o.ask({"op": "options", "hex": raw.hex(), "latin1": latin1})
        if "error" in want or "error" in got:
            check("options", ("error" in want) == ("error" in got), f"{s!r}: werkzeug {want} vial {got}")
        else:
            check("options", got == want, f"{s!r}: werkzeug {want} vial {got}")


# ---- multipart ----

def werkzeug_multipart(ct, body):
    env = create_environ(method="POST", input_stream=io.BytesIO(body), content_type=ct, content_length=len(body))
    req = Request(env)
    form = [["" if k is None else k, v] for k, v in req.form.items(multi=True)]
    files = []
    for k, fs in req.files.items(multi=True):
        files.append({"field": "" if k is None else k, "filename": fs.filename, "content_type": fs.content_type,
                      "mimetype": fs.mimetype, "headers": [[a, b] for a, b in fs.headers.items()],
                      "hex": fs.read().hex()})
    return form, files


LB = [b"\r\n", b"\r\n", b"\r\n", b"\n", b"\r"]


def gen_part(boundary):
    name = rng.choice([b"a", b"tags", b"\xe5\xa7\x93\xe5\x90\x8d", b"f", b"x y"])
    kind = rng.random()
    lines = []
    cd = b"form-data; name=\"" + name + b"\""
    if kind < 0.4:
        cd += rng.choice([b"; filename=\"a.txt\"", b"; filename=\"\"", b"; filename*=UTF-8''%E4%B8%AD.txt",
                          b"; filename=\"x.bin\"; filename*=UTF-8''%E6%8A%A5.pdf", b"; filename=\"C:\\\\a\\\\b.txt\"",
                          b"; filename=\"say \\\"hi\\\".txt\"", b"; filename=\"\xe7\x85\xa7.jpg\"", b"; filename",
                          b"; filename=plain name.txt ", b"; filename=\"\\\\\\\\unc\\\\x\""])
    hname = rng.choice([b"Content-Disposition", b"content-disposition", b"CONTENT-DISPOSITION"])
    if rng.random() < 0.1:
        cd = cd.replace(b"; ", b";\r\n  ", 1)  # folded
    lines.append(hname + rng.choice([b": ", b":", b" :  "]) + cd)
    r = rng.random()
    if r < 0.3:
        lines.append(b"Content-Type: " + rng.choice([b"text/plain", b"TEXT/Plain; charset=latin-1",
                                                     b"text/plain; charset=utf-8", b"application/octet-stream",
                                                     b"text/plain; charset=ascii", b"text/plain; charset=cp1252",
                                                     b"", b"image/JPEG"]))
    elif r < 0.35:
        lines.append(b"X-Extra: " + rng.choice([b"1", b"\xff", b"  spaced  "]))
    elif r < 0.38:
        lines.append(b"no colon here")
    if rng.random() < 0.04:
        lines = lines[1:]  # no Content-Disposition
    if rng.random() < 0.5:
        lines.reverse()
    data = rng.choice([b"", b"v", b"Hello", b"line1\r\nline2\n", b"caf\xe9", b"caf\xc3\xa9", b"\x00\x01\xff",
                       b"--" + boundary + b"x", b"\r\n--" + boundary + b"x\r\n", b"\r\n--" + boundary + b" \tx",
                       b"a\r", b"a\n", b"\r\n", b"-", b"x" * rng.randint(0, 300)])
    lb = rng.choice(LB)
    return lb.join(lines) + lb + lb, data


def gen_multipart():
    boundary = rng.choice([b"----WebKitFormBoundary7MA4YWxkTrZu0gW", b"b", b"simple boundary", b"--xx--", b"a.b-c"])
    ct = "multipart/form-data; boundary=" + (
        '"' + boundary.decode() + '"' if (b" " in boundary or rng.random() < 0.2) else boundary.decode())
    if rng.random() < 0.03:
        ct = "multipart/form-data"
    body = b""
    if rng.random() < 0.2:
        body += rng.choice([b"preamble\r\n", b"x", b"--" + boundary + b"x\r\n", b"\r\n"])
    for i in range(rng.randint(0, 4)):
        headers, data = gen_part(boundary)
        lb = rng.choice(LB)
        body += (lb if i or rng.random() < 0.5 else b"") + b"--" + boundary + rng.choice([b"", b"", b" ", b"\t "]) + lb
        body += headers + data
    end = rng.random()
    lb = rng.choice(LB)
    if end < 0.85:
        body += lb + b"--" + boundary + b"--" + rng.choice([b"", b"\r\n", b"  \r\n", b"\r\nepilogue"])
    elif end < 0.92:
        body += lb + b"--" + boundary
    return ct, body


def run_multipart(o):
    for i in range(1500):
        ct, body = gen_multipart()
        try:
            form, files = werkzeug_multipart(ct, body)
            status = None
        except werkzeug.exceptions.RequestEntityTooLarge:
            form, files, status = [], [], 413
        except (LookupError, TypeError, AttributeError):
            continue  # Werkzeug answers 500; we answer differently (documented)
        for chunk, threshold in ((0, 0), (1, 2), (7, 0)):
            got = o.ask({"op": "multipart", "ct": ct, "hex": body.hex(), "chunk": chunk, "threshold": threshold})
            gfiles = [{k: f[k] for k in ("field", "filename", "content_type", "mimetype", "headers", "hex")}
                      for f in got["files"]]
            # Werkzeug's MultiDicts group by key (items(multi=True)); group ours the same way
            gfiles = [f for field in dict.fromkeys(f["field"] for f in gfiles) for f in gfiles if f["field"] == field]
            same = group(got["form"]) == form and gfiles == files
            if got["rc"] < 0:
                same = same and got["form"] == [] and got["files"] == [] and got["status"] in (400, status)
            elif status:
                same = False
            counts["multipart_errors" if got["rc"] < 0 else "multipart_parsed"] = \
                counts.get("multipart_errors" if got["rc"] < 0 else "multipart_parsed", 0) + 1
            check("multipart", same, f"ct={ct!r} body={body!r} chunk={chunk}: werkzeug form={form} files={files} "
                                     f"status={status}; vial {got}")


# ---- secure_filename ----

FN_TOKENS = ["a", "Z", "9", ".", "..", "_", "-", " ", "  ", "\t", "\n", "\x1c", "\x1f", "/", "\\", "../", "é", "Ö",
             "ﬁ", "ﬀ", "ℌ", "①", "½", "™", "…", "Ａ", "ｚ", "ǅ", "中文", "照片", "😀", "ß", "Ø", "Ł", "ı", "ﬆ", "㎒",
             "\u00a0", "\u2003", "\u3000", "CON", "con", "nul", "Com1", "lpt3", "PRN", "aux", ".txt", ".tar.gz",
             "*", "?", "<", ">", "|", ":", "\"", "'", "(", ")", "%", "$", "~", "^", "\x00", "\u0301", "e\u0301"]


def run_secure_filename(o):
    real_os = werkzeug.utils.os
    nt_os = types.SimpleNamespace(name="nt", path=ntpath)
    names = [pick(FN_TOKENS, 0, 8) for _ in range(800)]
    for windows in (False, True):
        werkzeug.utils.os = nt_os if windows else real_os
        try:
            for s in names:
                want = werkzeug.utils.secure_filename(s)
                got = o.ask({"op": "secure_filename", "s": s, "windows": windows})
                check("secure_filename", got.get("r") == want, f"{s!r} windows={windows}: {want!r} vs {got}")
        finally:
            werkzeug.utils.os = real_os
    # every code point whose NFKD form keeps ASCII, one by one
    import unicodedata
    for c in range(0x80, 0x30000):
        if 0xD800 <= c < 0xE000:
            continue
        ch = chr(c)
        if unicodedata.normalize("NFKD", ch).encode("ascii", "ignore") or c % 97 == 0:
            s = "x" + ch + "y"
            want = werkzeug.utils.secure_filename(s)
            got = o.ask({"op": "secure_filename", "s": s})
            check("secure_filename_table", got.get("r") == want, f"U+{c:04X}: {want!r} vs {got}")


# ---- Set-Cookie ----

NOW = 1700000000


class FrozenDatetime(datetime.datetime):
    @classmethod
    def now(cls, tz=None):
        return datetime.datetime.fromtimestamp(NOW, tz)


def run_set_cookie(o):
    werkzeug.http.datetime = FrozenDatetime
    keys = ["k", "session", "键", "a b", "x=y", "tab\tkey"]
    values = [b"", b"v", b"a b", b"a\"b", b"a;b", b"a,b", b"a\\b", "中文".encode(), b"\x00\x7f\x80\xff", b"(x)",
              b"ok!#$%&'*+-.^_`|~:/=", b"<>?@[]{}", b"\t"]
    for _ in range(1500):
        kw, opts = {}, {"now": NOW}
        if rng.random() < 0.4:
            kw["max_age"] = opts["max_age"] = rng.choice([0, 1, 3600, -5, 86400 * 400])
        r = rng.random()
        if r < 0.2:
            kw["expires"] = opts["expires"] = rng.choice([0, 1, NOW, 2 ** 31, -86400, 253402300799])
        elif r < 0.3:
            kw["expires"] = opts["expires_str"] = rng.choice(["Wed, 21 Oct 2015 07:28:00 GMT", "soon", ""])
        r = rng.random()
        if r < 0.1:
            kw["path"] = None
            opts["no_path"] = True
        elif r < 0.4:
            kw["path"] = opts["path"] = rng.choice(["/app", "/路径 x", "/a?b#c", "x", "/%41", "//host/p", "/a b;c",
                                                    "http://例子.测试/p", "/\x7f", "mailto:x", ""])
        if rng.random() < 0.3:
            kw["domain"] = opts["domain"] = rng.choice(["example.com", ".example.com", "example.com:8080",
                                                        "例子.测试", "localhost", "Bücher.de", "a b.com", "x.",
                                                        "ÄÖÜ.example", "xn--x.com", "a" * 70 + ".com",
                                                        "a" * 70 + ".例子", "例子。测试"])
        for flag in ("secure", "httponly"):
            if rng.random() < 0.3:
                kw[flag] = opts[flag] = True
        if rng.random() < 0.3:
            kw["samesite"] = opts["samesite"] = rng.choice(["Lax", "strict", "NONE", "bogus", "ſtrict", "ﬅrict", ""])
        key, value = rng.choice(keys), rng.choice(values)
        delete = rng.random() < 0.15
        try:
            if delete:
                want = dump_cookie(key, expires=0, max_age=0, max_size=0,
                                   **{k: v for k, v in kw.items() if k not in ("max_age", "expires")})
            else:
                want = dump_cookie(key, value, max_size=0, **kw)
            want = {"hex": want.encode("latin-1").hex()}
        except ValueError as e:
            want = {"error": str(e)}
        got = o.ask({"op": "delete_cookie" if delete else "set_cookie", "key": key, "hex": value.hex(), "opts": opts})
        counts["set_cookie_errors"] = counts.get("set_cookie_errors", 0) + ("error" in want)
        if "error" in want:
            check("set_cookie", "error" in got, f"{key!r}={value!r} {kw}: werkzeug raised {want}, vial {got}")
        else:
            check("set_cookie", got == want, f"{key!r}={value!r} {kw}: werkzeug {bytes.fromhex(want['hex'])!r} "
                                             f"vial {got if 'error' in got else bytes.fromhex(got['hex'])!r}")


# ---- IDNA hosts, iri_to_uri, charsets ----

HOST_TOKENS = ["example", "com", ".", ".", "例子", "测试", "Bücher", "ÄÖÜ", "MÜNCHEN", "straße", "xn--", "ﬁ", "Ａ",
               "\u3002", "\uff0e", "٣", "עברית", "العربية", "a1", "-", ":8080", "Ⅻ", "\u00ad", "\u200b", "ǅ",
               "\ue000", "ς", "Σ", "İ", "ᾏ", "ﬃx"]


def run_idna(o):
    for _ in range(1500):
        s = pick(HOST_TOKENS, 1, 5)
        try:
            want = {"r": _encode_idna(s).decode("ascii")}
        except UnicodeError:
            want = {"error": True}
        got = o.ask({"op": "idna", "s": s})
        counts["idna_errors"] = counts.get("idna_errors", 0) + ("error" in want)
        if "error" in want:
            check("idna", "error" in got, f"{s!r}: werkzeug raised, vial {got}")
        else:
            check("idna", got == want, f"{s!r}: werkzeug {want} vial {got}")


IRI_TOKENS = ["http", "HTTPS", ":", "//", "/", "/", "?", "#", "@", "user", "pw", "例子.测试", "example.com", ":80",
              ":99999", ":x", "[::1]", "路径", " ", "%", "%41", "a", "b", "=", "&", ";", "\x7f", "+", "~", "[", "]"]


def run_iri(o):
    for i in range(1500):
        s = pick(IRI_TOKENS, 0, 9)
        safe = i % 2 == 1
        try:
            want = {"r": iri_to_uri(s, safe_conversion=safe)}
        except ValueError:
            want = {"error": True}
        got = o.ask({"op": "iri", "s": s, "safe": safe})
        if "error" in want:
            check("iri", "error" in got, f"{s!r}: werkzeug raised, vial {got}")
        else:
            check("iri", got == want, f"{s!r} safe={safe}: werkzeug {want} vial {got}")


def run_charset(o):
    ours = {"utf-8", "ascii", "iso8859-1", "cp1252"}
    names = ["utf-8", "UTF8", "u8", "utf", "UTF_8", "utf--8", " utf 8 ", "utf8.", "u.t.f.8", "latin-1", "Latin_1",
             "latin1", "l1", "ISO-8859-1", "iso8859-1", "iso_8859_1:1987", "8859", "cp819", "ibm819", "latin",
             "us-ascii", "ASCII", "646", "ansi_x3.4-1968", "iso_646.irv:1991", "windows-1252", "cp1252", "1252",
             "utf-16", "koi8-r", "", "unknown", "csASCII", "ISO_IR_100", "us", "cp65001", "iso8859_15", "x.y"]
    for s in names:
        try:
            name = codecs.lookup(s).name
            want = name if name in ours else None
        except LookupError:
            want = None
        got = o.ask({"op": "charset", "s": s})
        check("charset", got.get("r") == want, f"{s!r}: python {want} vial {got}")


def main():
    o = Oracle()
    try:
        for run in (run_query, run_cookie, run_options, run_multipart, run_secure_filename, run_set_cookie,
                    run_idna, run_iri, run_charset):
            run(o)
    finally:
        o.close()
    print(" ".join(f"{k}={v}" for k, v in counts.items()))
    if failures:
        print(f"{len(failures)} differences from Werkzeug:")
        for f in failures[:40]:
            print("  " + (f if len(f) < 1500 else f[:1500] + "..."))
        sys.exit(1)
    print("all agree with Werkzeug", werkzeug.__version__)


if __name__ == "__main__":
    main()
