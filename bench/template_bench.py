#!/usr/bin/python3
"""Times Jinja2 (Debian python3-jinja2 3.1.2) on the templates and data that
bench/template_bench.c renders with vial, the same way: templates compiled
once and warmed up, context built once, best of 5 rounds.

  /usr/bin/python3 bench/template_bench.py [--iterations-scale F] [--compare DIR] [--only NAME] [--callgrind N]

--compare DIR checks that Jinja2's output equals the files template_bench
--dump DIR wrote (so both sides render the same bytes). --callgrind N renders
each template N times without timing (for instruction counts under valgrind)."""
import os
import sys
import time

import jinja2

HERE = os.path.dirname(os.path.abspath(__file__))

FORTUNES = [
    "fortune: No such file or directory",
    "A computer scientist is someone who fixes things that aren't broken.",
    "After enough decimal places, nobody gives a damn.",
    "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1",
    "A computer program does what you tell it to do, not what you want it to do.",
    "Emacs is a nice operating system, but I prefer UNIX. \u2014 Tom Christaensen",
    "Any program that runs right is obsolete.",
    "A list is only as strong as its weakest link. \u2014 Donald Knuth",
    "Feature: A bug with seniority.",
    "Computers make very fast, very accurate mistakes.",
    "<script>alert(\"This should not be displayed in a browser alert box.\");</script>",
    "\u30d5\u30ec\u30fc\u30e0\u30ef\u30fc\u30af\u306e\u30d9\u30f3\u30c1\u30de\u30fc\u30af",
]


def fortunes_context():
    rows = [{"id": i + 1, "message": m} for i, m in enumerate(FORTUNES)]
    rows.append({"id": 0, "message": "Additional fortune added at request time."})
    rows.sort(key=lambda r: r["message"].encode())
    return {"fortunes": rows}


def page_context():
    rows = [{"name": f"User {i} <{i % 10}>", "email": f"USER{i}@Example.COM", "balance": i * 1.37 + 0.005,
             "active": i % 3 == 0, "tags": [f"t{i % 5}", f"t{i % 7}"]} for i in range(1000)]
    nav = [{"url": "/", "label": "home"}, {"url": "/accounts", "label": "accounts"},
           {"url": "/about", "label": "about us"}]
    return {"site_name": "Vial & Co", "year": 2024, "current": "/accounts", "nav": nav,
            "heading": "All accounts", "rows": rows}


def main():
    scale = 1.0
    compare = None
    only = None
    callgrind = 0
    args = sys.argv[1:]
    while args:
        a = args.pop(0)
        if a == "--iterations-scale":
            scale = float(args.pop(0))
        elif a == "--compare":
            compare = args.pop(0)
        elif a == "--only":
            only = args.pop(0)
        elif a == "--callgrind":
            callgrind = int(args.pop(0))
        else:
            print(__doc__)
            return 2
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(os.path.join(HERE, "templates")),
                             autoescape=jinja2.select_autoescape(["html", "htm", "xml", "xhtml"]))
    cases = [("fortunes", "fortunes.html", fortunes_context(), 20000), ("page", "page.html", page_context(), 200)]
    status = 0
    for label, name, ctx, iterations in cases:
        if only and label != only:
            continue
        t = env.get_template(name)
        out = t.render(**ctx)
        if callgrind:
            for _ in range(callgrind):
                t.render(**ctx)
            continue
        if compare:
            with open(os.path.join(compare, label + ".out"), "rb") as f:
                theirs = f.read()
            same = theirs == out.encode()
            print(f"{label:9s} output {'identical' if same else 'DIFFERS'} ({len(out.encode())} bytes)")
            status |= 0 if same else 1
            continue
        n = max(1, int(iterations * scale))
        for _ in range(n // 10 + 1):
            t.render(**ctx)
        best = 1e30
        for _ in range(5):
            t0 = time.perf_counter()
            for _ in range(n // 5 + 1):
                t.render(**ctx)
            best = min(best, (time.perf_counter() - t0) / (n // 5 + 1))
        print(f"{label:9s} jinja2 {best * 1e9:10.0f} ns/render  ({len(out.encode())} bytes, best of 5 rounds of {n // 5 + 1})")
    return status


if __name__ == "__main__":
    sys.exit(main())
