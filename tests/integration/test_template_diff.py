#!/usr/bin/python3
"""Differential test: every case in tests/data/templates/*.cases is rendered
by the real Jinja2 (Debian's python3-jinja2, imported here) and by vial's
engine (the template_batch helper, one process for all cases), and the
results must agree: the same output bytes, or both failing with the error
on the same template file and line. A few cases also go through the
vial-template command to check its exit codes and error format.

Case file format (see tests/data/templates/README.md):
    @@ context {"json": "object"}      default context for the file
    === case name [options]            options: autoescape, by_name, trim, lstrip,
    template text                                keep_nl, strict, escapes, name=FILE
    --- context {"json": ...}          context for this case (merged over the default)
    --- file NAME                      an extra template (include/extends/import)
    file text
Run with --only SUBSTRING to run a subset, -v to print every case.

Besides the stored cases, a fixed-seed generator composes random templates
(text with Unicode and ASCII whitespace, tags with -/+ markers, comments, raw
blocks, nested if/for, expressions with operators, filters, tests,
attributes and slices, under random lexer options); they are compared the
same way. --random N sets how many (default 300), --seed S the seed."""
import codecs
import copy
import json
import random
import re
import os
import shutil
import subprocess
import sys
import tempfile
import traceback
import warnings

import jinja2

SRC = os.environ.get("VIAL_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("VIAL_BUILD_DIR", os.path.join(SRC, "build", "release"))
DATA = os.environ.get("VIAL_TEST_DATA", os.path.join(SRC, "tests", "data"))
CASES_DIR = os.path.join(DATA, "templates")
BATCH = os.path.join(BUILD, "tests", "template_batch")
TOOL = os.path.join(BUILD, "vial-template")
MIN_CASES = 400

OPTION_WORDS = {"autoescape", "by_name", "trim", "lstrip", "keep_nl", "strict", "escapes"}


def parse_cases(path):
    cases = []
    default_ctx = {}
    cur = None
    section = None  # ("template",) or ("file", name)
    buf = []

    def flush():
        nonlocal buf
        if cur is None or section is None:
            buf = []
            return
        text = "\n".join(buf)
        if "escapes" in cur["options"]:
            text = re.sub(r"\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|x[0-9a-fA-F]{2}|[nrt\\])",
                          lambda m: codecs.decode(m.group(0), "unicode_escape"), text)
        if section[0] == "template":
            cur["template"] = text
        else:
            cur["files"][section[1]] = text
        buf = []

    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for raw in lines:
        if raw.startswith("@@ context "):
            default_ctx = json.loads(raw[len("@@ context "):])
            continue
        if raw.startswith("=== "):
            flush()
            words = raw[4:].split(" [", 1)
            name = words[0].strip()
            opts = set()
            tname = None
            if len(words) == 2:
                for w in words[1].rstrip("]").split():
                    if w.startswith("name="):
                        tname = w[5:]
                    elif w in OPTION_WORDS:
                        opts.add(w)
                    else:
                        raise SystemExit(f"{path}: unknown option {w!r} in {raw!r}")
            cur = {"file": os.path.basename(path), "name": name, "options": opts, "context": dict(default_ctx),
                   "files": {}, "tname": tname}
            cases.append(cur)
            section = ("template",)
            continue
        if raw.startswith("--- ") and cur is not None:
            flush()
            rest = raw[4:]
            if rest.startswith("context "):
                cur["context"].update(json.loads(rest[len("context "):]))
                section = None
            elif rest.startswith("file "):
                section = ("file", rest[5:].strip())
            else:
                raise SystemExit(f"{path}: bad marker {raw!r}")
            continue
        if cur is None:
            if raw.strip() and not raw.startswith("#"):
                raise SystemExit(f"{path}: text before the first case: {raw!r}")
            continue
        buf.append(raw)
    flush()
    return cases


def template_name(case):
    if case["tname"]:
        return case["tname"]
    return "t.html" if ("autoescape" in case["options"] or "by_name" in case["options"]) else "t.txt"


def jinja_env(case, directory):
    o = case["options"]
    if "by_name" in o:
        autoescape = lambda name: True if name is None else name.endswith((".html", ".htm", ".xml", ".xhtml"))
    else:
        autoescape = "autoescape" in o
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory),
        autoescape=autoescape,
        trim_blocks="trim" in o,
        lstrip_blocks="lstrip" in o,
        keep_trailing_newline="keep_nl" in o,
        undefined=jinja2.StrictUndefined if "strict" in o else jinja2.Undefined,
    )


def render_jinja(case, directory):
    name = template_name(case)
    try:
        out = jinja_env(case, directory).get_template(name).render(**copy.deepcopy(case["context"]))
        return {"ok": True, "output": out}
    except jinja2.TemplateSyntaxError as e:
        return {"ok": False, "file": os.path.basename(e.filename or name), "line": e.lineno,
                "message": f"{type(e).__name__}: {e.message}"}
    except Exception as e:  # runtime errors: the innermost frame in a template file
        where = (name, None)
        for fr in traceback.extract_tb(e.__traceback__):
            if fr.filename and fr.filename.startswith(directory):
                where = (os.path.basename(fr.filename), fr.lineno)
        return {"ok": False, "file": where[0], "line": where[1], "message": f"{type(e).__name__}: {e}"}


def write_case(case, directory):
    os.makedirs(directory)
    files = dict(case["files"])
    files[template_name(case)] = case["template"]
    for fname, text in files.items():
        path = os.path.join(directory, fname)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(text)


def batch_request(case, idx, directory):
    o = case["options"]
    return {
        "id": idx,
        "dir": directory,
        "name": template_name(case),
        "context": case["context"],
        "options": {
            "autoescape": "by_name" if "by_name" in o else ("autoescape" in o),
            "trim_blocks": "trim" in o,
            "lstrip_blocks": "lstrip" in o,
            "keep_trailing_newline": "keep_nl" in o,
            "strict_undefined": "strict" in o,
        },
    }


RANDOM_WS = ["", " ", "  ", "\n", " \n", "\n  ", "\t", "\n\n", " \t\n ", "\u3000", "\xa0"]
RANDOM_ATOMS = ["x", "n", "xs", "d", "s", "f", "missing", "none", "true", "1", "-2", "0.5", '"a b"', "'q\\'u'",
                '[1, "z"]', "(1,)", '{"k": n}', "range(3)", "users", "e"]
RANDOM_FILTERS = ["upper", "lower", "title", "capitalize", "length", "first", "last", "list", "sort", "reverse|list",
                  'join(",")', 'default("D")', "string", "trim", "e", "safe", "int", "float", "abs", "round(1)", "sum",
                  "unique|list", "tojson", "pprint", "wordcount", "center(9)", "truncate(9)", "indent(2)",
                  'replace("a","b")', "batch(2)|list", "slice(2)|list", "dictsort", "items|list", 'map("string")|list',
                  "select|list", "reject|list", "urlencode", "striptags", "filesizeformat", "format(1)", "wordwrap(5)",
                  "xmlattr", 'groupby("name")|list', "max", "min", "count"]
RANDOM_OPS = ["+", "-", "*", "/", "//", "%", "~", "==", "!=", "<", ">", "in", "and", "or"]
RANDOM_CONTEXT = {"x": "X<&>", "xs": [3, 1, 2], "n": 3, "d": {"b": 2, "a": [1]}, "s": "Hello World", "f": 2.675,
                  "users": [{"name": "ann"}, {"name": "Bob"}], "e": []}


def random_cases(count, seed):
    rnd = random.Random(seed)

    def sign():
        return rnd.choice(["", "", "-", "+"])

    def atom(depth=0):
        a = rnd.choice(RANDOM_ATOMS)
        if rnd.random() < 0.3 and depth < 2:
            a = "(%s %s %s)" % (atom(depth + 1), rnd.choice(RANDOM_OPS), atom(depth + 1))
        if rnd.random() < 0.4:
            a += "|" + rnd.choice(RANDOM_FILTERS)
        if rnd.random() < 0.15:
            a += rnd.choice([".name", "[0]", "[1:]", ".upper()", ".items()", " is defined", " is number"])
        if rnd.random() < 0.1:
            a = "%s if %s else %s" % (a, atom(depth + 1), atom(depth + 1))
        return a

    def text():
        return rnd.choice(["a", "b", "x y", "", "<&>", "\u00e9"]) + rnd.choice(RANDOM_WS)

    def frag(depth):
        k = rnd.randint(0, 9 if depth < 3 else 5)
        ws = lambda: rnd.choice(RANDOM_WS)
        if k <= 2:
            return text()
        if k == 3:
            return "{{%s %s %s}}" % (sign(), atom(), sign().replace("+", ""))
        if k == 4:
            return "{#%s c %s#}" % (sign(), sign())
        if k == 5:
            return ws() + "{%%%s raw %s%%}%s{{ x }}%s{%%%s endraw %s%%}" % (sign(), sign(), ws(), ws(), sign(), sign())
        if k <= 7:
            return "%s{%%%s if %s %s%%}%s%s{%%%s else %s%%}%s{%%%s endif %s%%}%s" % (
                ws(), sign(), atom(), sign(), body(depth + 1), ws(), sign(), sign(), body(depth + 1), sign(), sign(), ws())
        return "%s{%%%s for i in xs %s%%}%s{{ i }}%s{%%%s endfor %s%%}%s" % (
            ws(), sign(), sign(), body(depth + 1), ws(), sign(), sign(), ws())

    def body(depth):
        return "".join(frag(depth) for _ in range(rnd.randint(0, 3)))

    cases = []
    for i in range(count):
        opts = {w for w in ("trim", "lstrip", "keep_nl") if rnd.random() < 0.4}
        cases.append({"file": f"random(seed={seed})", "name": f"#{i}", "options": opts,
                      "context": copy.deepcopy(RANDOM_CONTEXT), "files": {}, "tname": None, "template": body(0)})
    return cases


def check_tool(work):
    """The command: output on stdout byte for byte, errors on stderr, exit codes."""
    failures = []
    d = os.path.join(work, "tool")
    os.makedirs(d)
    with open(os.path.join(d, "base.html"), "w") as f:
        f.write("<title>{% block t %}{% endblock %}</title>{% include 'part.html' %}\n")
    with open(os.path.join(d, "part.html"), "w") as f:
        f.write("<p>{{ who }}</p>")
    with open(os.path.join(d, "page.html"), "w") as f:
        f.write("{% extends 'base.html' %}{% block t %}{{ title }}{% endblock %}")
    with open(os.path.join(d, "bad.html"), "w") as f:
        f.write("line one\n{% if x %}\n{{ x + }}\n{% endif %}\n")
    with open(os.path.join(d, "ctx.json"), "w") as f:
        json.dump({"title": "A & B", "who": "<me>"}, f)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(d), autoescape=True)
    want = env.get_template("page.html").render(title="A & B", who="<me>")
    p = subprocess.run([TOOL, "render", os.path.join(d, "page.html"), "--context", os.path.join(d, "ctx.json"),
                        "--autoescape"], capture_output=True)
    if p.returncode != 0 or p.stdout.decode() != want:
        failures.append(f"tool render: rc={p.returncode} out={p.stdout!r} want={want!r} err={p.stderr!r}")
    p = subprocess.run([TOOL, "render", os.path.join(d, "bad.html")], capture_output=True)
    err = p.stderr.decode()
    if p.returncode != 1 or not err.startswith(os.path.join(d, "bad.html") + ":3:") or p.stdout:
        failures.append(f"tool syntax error: rc={p.returncode} stderr={err!r}")
    for args in (["render"], ["render", "--bogus", "x"], ["--help"], ["frobnicate"]):
        p = subprocess.run([TOOL] + args, capture_output=True)
        if p.returncode != 2 or b"usage: vial-template" not in p.stderr or p.stdout:
            failures.append(f"tool usage {args}: rc={p.returncode} stderr={p.stderr!r}")
    p = subprocess.run([TOOL, "render", os.path.join(d, "nope.html")], capture_output=True)
    if p.returncode != 1 or b"not found" not in p.stderr:
        failures.append(f"tool missing file: rc={p.returncode} stderr={p.stderr!r}")
    return failures


def main():
    # Jinja2 compiles templates to Python: constant-slicing cases make Python warn
    warnings.simplefilter("ignore", SyntaxWarning)
    only = None
    verbose = "-v" in sys.argv
    if "--only" in sys.argv:
        only = sys.argv[sys.argv.index("--only") + 1]
    nrandom = int(sys.argv[sys.argv.index("--random") + 1]) if "--random" in sys.argv else 300
    seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 20240611
    cases = []
    for fname in sorted(os.listdir(CASES_DIR)):
        if fname.endswith(".cases"):
            cases.extend(parse_cases(os.path.join(CASES_DIR, fname)))
    total = len(cases)
    if only:
        cases = [c for c in cases if only in c["name"] or only in c["file"]]
    else:
        cases.extend(random_cases(nrandom, seed))
    work = tempfile.mkdtemp(prefix="vial-tpl-diff-")
    try:
        requests = []
        expected = []
        for i, case in enumerate(cases):
            directory = os.path.join(work, f"c{i}")
            write_case(case, directory)
            expected.append(render_jinja(case, directory))
            requests.append(json.dumps(batch_request(case, i, directory)))
        proc = subprocess.run([BATCH], input=("\n".join(requests) + "\n").encode(), capture_output=True, timeout=600)
        if proc.returncode != 0:
            print(proc.stderr.decode(errors="replace"))
            print(f"template_batch exited with {proc.returncode}")
            return 1
        got = {}
        for line in proc.stdout.decode().splitlines():
            r = json.loads(line)
            got[r["id"]] = r
        failures = []
        msg_diffs = 0
        for i, case in enumerate(cases):
            j, v = expected[i], got.get(i)
            label = f"{case['file']}: {case['name']}"
            if v is None:
                failures.append(f"{label}: no result from template_batch")
                continue
            if j["ok"] and v["ok"]:
                ok = j["output"] == v["output"]
                detail = f"\n    jinja2: {j['output']!r}\n    vial:   {v['output']!r}"
            elif not j["ok"] and not v["ok"]:
                ok = j["line"] == v["line"] and j["file"] == os.path.basename(v["file"])
                detail = (f"\n    jinja2: {j['file']}:{j['line']}: {j['message']}"
                          f"\n    vial:   {os.path.basename(v['file'])}:{v['line']}: {v['message']}")
                if j["message"].split(": ", 1)[-1] != v["message"]:
                    msg_diffs += 1
            else:
                ok = False
                detail = (f"\n    jinja2: {j.get('output', j.get('message'))!r}"
                          f"\n    vial:   {v.get('output', v.get('message'))!r}")
            if verbose or not ok:
                print(("ok   " if ok else "FAIL ") + label + ("" if ok and not verbose else detail))
            if not ok:
                failures.append(label)
        tool_failures = [] if only else check_tool(work)
        for f in tool_failures:
            print("FAIL " + f)
        print(f"{len(cases)} cases ({total} stored, {len(cases) - total if not only else 0} random), "
              f"{len(failures)} differ from Jinja2; "
              f"{msg_diffs} error messages worded differently (not a failure)")
        if not only and total < MIN_CASES:
            print(f"FAIL: the suite has {total} cases, fewer than {MIN_CASES}")
            return 1
        return 1 if failures or tool_failures else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
