"""flask_oracle.py - the real Flask/itsdangerous/Werkzeug as a test oracle.

Run by the C suites (test_session_interop, test_signer, test_password) as
    /usr/bin/python3 tests/unit/flask_oracle.py COMMAND < input.json
with a JSON request on stdin; prints a JSON answer. Values cross in the
"typed" convention of tests/data/vectors (common.typed: {"$tuple": [...]},
{"$bytes_hex": ...}, ...). Must be Debian's /usr/bin/python3 (flask 2.2.2,
werkzeug 2.2.2, itsdangerous 2.1.2).
"""
import base64
import datetime as dt
import hashlib
import hmac
import json
import math
import os
import random
import sys
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "data", "vectors", "generate"))

from common import FrozenClock, typed  # noqa: E402
from flask import Flask  # noqa: E402
from flask.sessions import SecureCookieSessionInterface  # noqa: E402
from markupsafe import Markup  # noqa: E402
import itsdangerous  # noqa: E402
from itsdangerous import encoding as its_encoding  # noqa: E402
from werkzeug.http import parse_date  # noqa: E402
from werkzeug.security import check_password_hash, generate_password_hash  # noqa: E402


def untyped(v):
    """Inverse of common.typed for the markers the C side sends."""
    if isinstance(v, list):
        return [untyped(x) for x in v]
    if isinstance(v, dict):
        if len(v) == 1:
            (k, x), = v.items()
            if k == "$tuple":
                return tuple(untyped(i) for i in x)
            if k == "$bytes_hex":
                return bytes.fromhex(x)
            if k == "$datetime":
                return dt.datetime.fromisoformat(x)
            if k == "$uuid":
                return uuid.UUID(x)
            if k == "$markup":
                return Markup(x)
            if k == "$float":
                return {"nan": math.nan, "inf": math.inf, "-inf": -math.inf, "-0.0": -0.0}[x]
            if k == "$bigint":
                return int(x)
        return {k: untyped(x) for k, x in v.items()}
    return v


def exc_name(e):
    return type(e).__name__


def app_for(secret):
    app = Flask("oracle")
    app.secret_key = secret
    return app


def serializer(app):
    return SecureCookieSessionInterface().get_signing_serializer(app)


# ---- random session values, the kinds Flask's tagged JSON carries ----

TAG_KEYS = [" t", " di", " b", " m", " u", " d"]


def rand_text(r):
    pools = [
        (0x20, 0x7E), (0x00, 0x1F), (0x7F, 0xFF), (0x370, 0x3FF), (0x4E00, 0x9FFF),
        (0xAC00, 0xD7A3), (0x2000, 0x206F), (0xFFF0, 0xFFFD), (0x1F300, 0x1FAFF), (0x10000, 0x10FFFF),
    ]
    out = []
    for _ in range(r.randrange(0, 12)):
        lo, hi = r.choice(pools)
        c = r.randint(lo, hi)
        if 0xD800 <= c <= 0xDFFF:
            c = 0x41
        out.append(chr(c))
    if r.random() < 0.1:
        out.append(r.choice(['"', "\\", "/", "\u2028", "<script>", " t"]))
    return "".join(out)


def rand_scalar(r):
    k = r.randrange(14)
    if k == 0:
        return None
    if k == 1:
        return r.random() < 0.5
    if k == 2:
        return r.randint(-1000, 1000)
    if k == 3:
        return r.choice([2**53, -(2**53) - 1, 2**63 - 1, -(2**63), 2**64, -(10**30) + 7, 10**40])
    if k == 4:
        return r.choice([0.1, -2.5, 1e-7, 1e16, 1e300, 5e-324, -0.0, math.nan, math.inf, -math.inf,
                         r.uniform(-1e6, 1e6), r.random() * 10 ** r.randint(-30, 30)])
    if k == 5:
        return bytes(r.randrange(256) for _ in range(r.randrange(0, 20)))
    if k == 6:
        return Markup(rand_text(r))
    if k == 7:
        return uuid.UUID(int=r.getrandbits(128))
    if k == 8:
        ts = r.randint(-2208988800, 4102444800)  # 1900..2100
        d = dt.datetime.fromtimestamp(ts, dt.timezone.utc).replace(microsecond=r.randrange(1000000))
        if r.random() < 0.3:
            d = d.replace(tzinfo=None)  # naive: taken as UTC
        elif r.random() < 0.5:
            d = d.astimezone(dt.timezone(dt.timedelta(minutes=r.randint(-1439, 1439))))
        return d
    return rand_text(r)


def rand_value(r, depth=0):
    if depth >= 4 or r.random() < 0.55:
        return rand_scalar(r)
    k = r.randrange(4)
    n = r.randrange(0, 4)
    if k == 0:
        return [rand_value(r, depth + 1) for _ in range(n)]
    if k == 1:
        return tuple(rand_value(r, depth + 1) for _ in range(n))
    if k == 2 and r.random() < 0.5:
        return {r.choice(TAG_KEYS): rand_value(r, depth + 1)}  # looks like a tag: " di" escape
    return {rand_text(r): rand_value(r, depth + 1) for _ in range(n)}


def rand_session(r):
    s = {rand_text(r): rand_value(r) for _ in range(r.randrange(1, 6))}
    if r.random() < 0.2:
        s["_flashes"] = [("message", rand_text(r)), ("error", rand_text(r))]
    return s


# ---- commands ----

def cmd_sessions_from_flask(req):
    """Random sessions, the cookie Flask makes for each, and what Flask reads back."""
    r = random.Random(req["seed"])
    app = app_for(req["secret"])
    out = []
    clock = FrozenClock(req["timestamp"]).install()
    try:
        with app.app_context():
            s = serializer(app)
            for _ in range(req["count"]):
                value = rand_session(r)
                cookie = s.dumps(value)
                back = s.loads(cookie, max_age=req["max_age"])
                out.append({"session": typed(value), "cookie": cookie, "loads_back": typed(dict(back))})
    finally:
        clock.uninstall()
    return out


def cmd_loads_cookies(req):
    """Flask's own reading of cookies (what open_session does)."""
    app = app_for(req["secret"])
    out = []
    clock = FrozenClock(req["now"]).install()
    try:
        with app.app_context():
            s = serializer(app)
            for c in req["cookies"]:
                try:
                    v = s.loads(c, max_age=req["max_age"])
                    out.append({"ok": True, "session": typed(dict(v or ()))})
                except Exception as e:
                    out.append({"ok": False, "exception": exc_name(e)})
    finally:
        clock.uninstall()
    return out


def cmd_tagged_loads(req):
    app = app_for("x")
    out = []
    with app.app_context():
        tj = SecureCookieSessionInterface.serializer
        for p in req["payloads"]:
            try:
                v = tj.loads(p)
                out.append({"ok": True, "value": typed(v), "ascii": ascii(v)})
            except Exception as e:
                out.append({"ok": False, "exception": exc_name(e)})
    return out


def cmd_parse_dates(req):
    out = []
    for d in req["dates"]:
        try:
            v = parse_date(d)
            out.append({"ok": True, "value": None if v is None else int(v.timestamp())})
        except Exception as e:
            out.append({"ok": False, "exception": exc_name(e)})
    return out


def cmd_b64decode(req):
    out = []
    for h in req["inputs"]:
        data = bytes.fromhex(h)
        try:
            if req["urlsafe"]:
                v = its_encoding.base64_decode(data)  # urlsafe, '=' padding added
            else:
                v = base64.b64decode(data)
            out.append(v.hex())
        except Exception:
            out.append(None)
    return out


def make_its(cfg):
    kw = {}
    for k in ("salt", "sep", "key_derivation"):
        if cfg.get(k) is not None:
            kw[k] = cfg[k]
    if cfg.get("digest"):
        kw["digest_method"] = getattr(hashlib, cfg["digest"])
    keys = cfg["keys_oldest_first"]
    kind = cfg["kind"]
    if kind == "signer":
        return itsdangerous.Signer(keys, **kw)
    if kind == "timestamp_signer":
        return itsdangerous.TimestampSigner(keys, **kw)
    skw = {"salt": kw.pop("salt")} if "salt" in kw else {}
    if kw:
        skw["signer_kwargs"] = kw
    return itsdangerous.URLSafeTimedSerializer(keys, **skw)


def cmd_its_tokens(req):
    """Tokens made by itsdangerous for each configuration, at a frozen time."""
    out = []
    for cfg in req["configs"]:
        clock = FrozenClock(cfg["now"]).install()
        try:
            obj = make_its(cfg)
            if cfg["kind"] in ("signer", "timestamp_signer"):
                tok = obj.sign(bytes.fromhex(cfg["value_hex"])).decode("utf-8")
            else:
                tok = obj.dumps(untyped(cfg["value"]))
            out.append({"ok": True, "token": tok})
        except Exception as e:
            out.append({"ok": False, "exception": exc_name(e)})
        finally:
            clock.uninstall()
    return out


def cmd_its_loads(req):
    out = []
    for cfg in req["configs"]:
        clock = FrozenClock(cfg["now"]).install()
        try:
            obj = make_its(cfg)
            tok = cfg["token"].encode("utf-8")
            max_age = cfg.get("max_age")
            if cfg["kind"] == "signer":
                out.append({"ok": True, "value_hex": obj.unsign(tok).hex()})
            elif cfg["kind"] == "timestamp_signer":
                out.append({"ok": True, "value_hex": obj.unsign(tok, max_age=max_age).hex()})
            else:
                out.append({"ok": True, "value": typed(obj.loads(cfg["token"], max_age=max_age))})
        except Exception as e:
            out.append({"ok": False, "exception": exc_name(e)})
        finally:
            clock.uninstall()
    return out


def werkzeug3_check(pwhash, password):
    """Werkzeug 3's check_password_hash for scrypt (not installed here):
    split('$', 2), scrypt(n, r, p, maxmem=132*n*r*p, dklen=64).hex(), compare_digest."""
    method, salt, hashval = pwhash.split("$", 2)
    name, *args = method.split(":")
    assert name == "scrypt"
    n, r, p = map(int, args) if args else (2**15, 8, 1)
    h = hashlib.scrypt(password.encode(), salt=salt.encode(), n=n, r=r, p=p, maxmem=132 * n * r * p).hex()
    return hmac.compare_digest(h, hashval)


def cmd_check_passwords(req):
    out = []
    for c in req["checks"]:
        try:
            if c["hash"].startswith("scrypt"):
                out.append({"ok": True, "result": werkzeug3_check(c["hash"], c["password"]), "by": "werkzeug3-algorithm"})
            else:
                out.append({"ok": True, "result": check_password_hash(c["hash"], c["password"]), "by": "werkzeug-2.2"})
        except Exception as e:
            out.append({"ok": False, "exception": exc_name(e)})
    return out


def cmd_gen_passwords(req):
    return [generate_password_hash(c["password"], **({"method": c["method"]} if c.get("method") else {}))
            for c in req["passwords"]]


COMMANDS = {name[4:]: fn for name, fn in globals().items() if name.startswith("cmd_")}

if __name__ == "__main__":
    request = json.load(sys.stdin)
    # ASCII output: a Python str may hold a lone surrogate, which UTF-8 cannot.
    json.dump(COMMANDS[sys.argv[1]](request), sys.stdout, allow_nan=False)
