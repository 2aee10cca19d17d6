#!/usr/bin/python3
"""Differential test: vial's router against the real Werkzeug 2.2.2.

Generates maps of random rules (static text, every built-in converter with
arguments, the tutorials' `re` converter, several converters and literal
text in one segment, branch rules, strict and loose slashes, method sets,
defaults), then matches generated paths (Unicode digits, uppercase UUIDs,
doubled and trailing slashes, newlines, spaces) and builds URLs from
generated values (strings, ints, floats, booleans, lists, None) on both
sides: $VIAL_BUILD_DIR/tests/router_oracle and a bare werkzeug Map. Any
difference in endpoint, converted values, redirect Location, 404/405 with
the allowed methods, built URL or error message fails the test.

The one deliberate difference is skipped explicitly: a matched integer past
int64 (Python ints are unbounded) is a 404 in vial. Run with /usr/bin/python3."""
import json
import os
import random
import subprocess
import sys
import uuid

import werkzeug
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import BaseConverter, BuildError, Map, RequestRedirect, Rule

assert werkzeug.__version__ == "2.2.2", werkzeug.__version__

BUILD = os.environ.get("VIAL_BUILD_DIR", "build/release")
HELPER = os.path.join(BUILD, "tests", "router_oracle")
MAPS = 150
rng = random.Random(20240607)
failures = []
counts = {"maps": 0, "rules": 0, "match": 0, "build": 0}


class RegexConverter(BaseConverter):
    """The tutorials' converter, as vial's built-in `re`."""

    def __init__(self, map, *args):
        super().__init__(map)
        self.regex = args[0]


class Oracle:
    def __init__(self):
        self.p = subprocess.Popen([HELPER], stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def ask(self, req):
        self.p.stdin.write((json.dumps(req) + "\n").encode())
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        if not line:
            raise SystemExit(f"router_oracle died on {req!r}")
        return json.loads(line)

    def close(self):
        self.p.stdin.close()
        if self.p.wait() != 0:
            raise SystemExit(f"router_oracle exited with {self.p.returncode}")


STATIC = ["a", "b", "user", "new", "x.y", "é", "docs", "1", "ab", "edit", "中文"]
CONVERTERS = [
    "<{}>", "<int:{}>", "<float:{}>", "<path:{}>", "<any(a, b, ab):{}>", "<string(length=2):{}>",
    "<int(signed=True):{}>", "<uuid:{}>", '<re("[a-c]+"):{}>', "<string(minlength=2):{}>",
    "<int(max=10):{}>", "<float(signed=True):{}>", '<re("\\d{{2}}"):{}>', "<int(fixed_digits=2):{}>",
    "<string(maxlength=3):{}>", "<any(x, \"y,z\"):{}>", "<float(min=1.5):{}>",
]
VALUES = ["a", "b", "ab", "abc", "1", "42", "007", "-3", "1.5", "-0.5", "x.y", "é", "１２", "٣",
          "c9bf9e57-1685-4c89-bafb-ff5af830be8a", "C9BF9E57-1685-4C89-BAFB-FF5AF830BE8A", "new", "edit",
          "docs", "user", "x-1", "a.b.c", "f1", "1.json", "", "a b", "a\nb", "..", "12", "99", "5", "y,z",
          "中文", "2.25"]
BUILD_VALUES = ["a", "ab", "é", "a b", "a/b", 5, -3, 1.5, 2, True, None, "12", "1.25", ["x", "y"],
                "c9bf9e57-1685-4c89-bafb-ff5af830be8a", 1e22, "?&=+", "", "x", 0.1]
METHODS = ["GET", "POST", "PUT", "DELETE"]


def converter(names):
    name = f"v{len(names)}"
    names.append(name)
    return rng.choice(CONVERTERS).format(name)


def segment(names):
    k = rng.random()
    if k < 0.45:
        return rng.choice(STATIC)
    if k < 0.8:
        return converter(names)
    if rng.random() < 0.5:
        return rng.choice(["{}.{}", "{}-{}"]).format(converter(names), converter(names))
    return rng.choice(["x-{}", "{}.json", "f{}", "{}/edit"]).format(converter(names))


def make_rule():
    names = []
    text = "/" + "/".join(segment(names) for _ in range(rng.randint(0, 3)))
    if text != "/" and rng.random() < 0.3:
        text += "/"
    if rng.random() < 0.05:
        text = text.replace("/", "//", 1)
    return text, names


def make_path():
    p = "/" + "/".join(rng.choice(VALUES) for _ in range(rng.randint(0, 4)))
    if rng.random() < 0.2:
        p += "/"
    if rng.random() < 0.1:
        p = p.replace("/", "//", 1)
    if rng.random() < 0.05:
        p = "//" + p
    return p


def plain(v):
    return str(v) if isinstance(v, uuid.UUID) else v


def huge_int(args):
    return any(isinstance(v, int) and not isinstance(v, bool) and abs(v) >= 2**63 for v in args.values())


def check(kind, ok, what):
    counts[kind] += 1
    if not ok:
        failures.append(what)


def one_map(oracle):
    oracle.ask({"op": "reset"})
    m = Map(converters={"re": RegexConverter})
    endpoints = []
    all_names = set()
    for _ in range(rng.randint(1, 12)):
        text, names = make_rule()
        methods = None if rng.random() < 0.2 else sorted(set(rng.sample(METHODS, rng.randint(1, 3))))
        endpoint = f"e{rng.randint(0, 8)}"
        strict = rng.random() < 0.85
        defaults = None
        if not names and rng.random() < 0.1:
            defaults = {"page": 1}
        got = oracle.ask({"op": "add", "rule": text, "endpoint": endpoint, "methods": methods, "strict": strict,
                          "defaults": defaults})
        if "error" in got:
            # vial refuses a rule text registered twice for a common method (it could never match)
            check("rules", "duplicates" in got["error"], f"vial refused {text!r}: {got['error']}")
            continue
        m.add(Rule(text, endpoint=endpoint, methods=methods, strict_slashes=strict, defaults=defaults))
        endpoints.append(endpoint)
        all_names.update(names)
        counts["rules"] += 1
    adapter = m.bind("localhost")
    for _ in range(60):
        path = make_path()
        method = rng.choice(METHODS + ["HEAD", "PATCH"])
        query = rng.choice(["", "", "x=1&y=2", "q=%E4%B8%AD"])
        adapter.query_args = query
        skip = False
        try:
            endpoint, args = adapter.match(path, method)
            want = {"result": "match", "endpoint": endpoint, "args": {k: plain(v) for k, v in args.items()}}
            skip = huge_int(args)
        except RequestRedirect as e:
            want = {"result": "redirect", "location": e.new_url, "code": 308}
        except MethodNotAllowed as e:
            want = {"result": "405", "allowed": ", ".join(sorted(e.valid_methods))}
        except NotFound:
            want = {"result": "404"}
        got = oracle.ask({"op": "match", "method": method, "path": path, "query": query})
        if skip:
            check("match", got == {"result": "404"}, f"{method} {path!r}: an int past int64 must not match: {got}")
            continue
        check("match", got == want,
              f"{method} {path!r} on {[str(r) + ' ' + str(sorted(r.methods or [])) for r in m.iter_rules()]}:\n"
              f"    werkzeug {want}\n    vial     {got}")
    for _ in range(30):
        endpoint = rng.choice(endpoints + ["nope"]) if endpoints else "nope"
        values = {n: rng.choice(BUILD_VALUES) for n in rng.sample(sorted(all_names | {"q", "page"}),
                                                                   rng.randint(0, min(4, len(all_names) + 2)))}
        method = rng.choice([None, None, None, "GET", "POST"])
        try:
            want = {"url": adapter.build(endpoint, values, method=method)}
        except BuildError as e:
            want = {"error": "BuildError", "message": str(e)}
        except (ValueError, TypeError) as e:
            want = {"error": "ValueError", "message": str(e)}
        got = oracle.ask({"op": "build", "endpoint": endpoint, "values": values, "method": method})
        check("build", got == want, f"build {endpoint} {values} {method}:\n    werkzeug {want}\n    vial     {got}")
    counts["maps"] += 1


def main():
    if not os.path.exists(HELPER):
        sys.exit(f"missing {HELPER}: build the project first")
    oracle = Oracle()
    for _ in range(MAPS):
        one_map(oracle)
    oracle.close()
    print(", ".join(f"{k}: {v}" for k, v in counts.items()))
    for f in failures[:30]:
        print("FAIL", f)
    if failures:
        sys.exit(f"{len(failures)} differences from Werkzeug")


if __name__ == "__main__":
    main()
