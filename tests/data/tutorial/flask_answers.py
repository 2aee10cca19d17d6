#!/usr/bin/python3
"""Runs requests.json against the course's Python originals with Flask's test
client and prints (or writes) what Flask answers: flask_answers.json.

    /usr/bin/python3 tests/data/tutorial/flask_answers.py > tests/data/tutorial/flask_answers.json

Each lesson's file in flask/ is imported as a module in a fresh scratch
folder holding a copy of examples/tutorial/avatar.png (the course opens and
saves ./avatar.png), and gets one test client, so cookies carry from one
request to the next as in a browser.

Per lesson: the effective DEBUG and what `flask routes` prints for the app.
Per request the answer holds Flask's status, headers (in order), body (text,
or base64 when it is not UTF-8), what the view printed (stdout), and, when
the request names one, the bytes of the file it saved. stdout_expected is
stdout with the transformations listed under "transformations" applied: the
places where C cannot print what Python prints, each said in the file. The
unit test compares vial's answers with this file; test_tutorial_oracle.py
regenerates it and fails when it is stale.
"""
import base64
import contextlib
import importlib.util
import io
import json
import os
import re
import shutil
import sys
import tempfile

import flask
import werkzeug
from flask.cli import routes_command
from werkzeug.datastructures import MultiDict

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
AVATAR = os.path.join(SOURCE, "examples", "tutorial", "avatar.png")
DEFAULT_UA = "tutorial-test"

# print(type(x)) shows a Python class; the C port prints the vial_value type
# of the same value (a converted URL parameter, the headers object).
TYPE_NAMES = {
    "<class 'str'>": "<VIAL_STRING>",
    "<class 'float'>": "<VIAL_DOUBLE>",
    "<class 'int'>": "<VIAL_INT>",
    "<class 'uuid.UUID'>": "<VIAL_STRING>",
    "<class 'werkzeug.datastructures.EnvironHeaders'>": "<VIAL_OBJECT>",
}

TRANSFORMATIONS = [
    "print(type(x)): Python class names become the vial_value type the C code holds: "
    + ", ".join(f"{k} -> {v}" for k, v in TYPE_NAMES.items()),
    "print(response): '<Response 21 bytes [201 CREATED]>' loses the reason phrase, '<Response 21 bytes [201]>' "
    "(Werkzeug upper-cases reason phrases; vial keeps the RFC's, and neither is part of the answer's meaning)",
    "print(app.url_map): Python's pformat of the Map (line breaks at 80 columns, methods in set order, which "
    "changes with PYTHONHASHSEED, converters left out of the rule) becomes one line with the rule as written "
    "and the methods sorted",
]


def load_lesson(name):
    spec = importlib.util.spec_from_file_location("lesson_" + name.replace("-", "_"), os.path.join(HERE, "flask", name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.app


def url_map_line(app):
    rules = []
    for rule in app.url_map.iter_rules():
        methods = ", ".join(sorted(rule.methods))
        rules.append(f"<Rule '{rule.rule}' ({methods}) -> {rule.endpoint}>")
    return "Map([" + ", ".join(rules) + "])"


def expected_stdout(app, text):
    for python, c in TYPE_NAMES.items():
        text = text.replace(python, c)
    text = re.sub(r"<Response (\d+) bytes \[(\d+) [^\]]*\]>", r"<Response \1 bytes [\2]>", text)
    if "Map([" in text:
        start = text.index("Map([")
        end = text.index("])", start) + 2
        text = text[:start] + url_map_line(app) + text[end:]
    return text


def file_bytes(f):
    if "source" in f:
        with open(os.path.join(SOURCE, "examples", "tutorial", f["source"]), "rb") as fh:
            return fh.read()
    return f["text"].encode("utf-8")


def run_request(app, client, req, workdir):
    headers = [(k, v) for k, v in req.get("headers", [])]
    if not any(k.lower() == "user-agent" for k, _ in headers):
        headers.insert(0, ("User-Agent", DEFAULT_UA))
    kwargs = {"headers": headers}
    if "files" in req or "form" in req:
        data = MultiDict(req.get("form", []))
        for f in req.get("files", []):
            data.add(f["field"], (io.BytesIO(file_bytes(f)), f["filename"], f["content_type"]))
        kwargs["data"] = data
    elif "body" in req:
        kwargs["data"] = req["body"].encode("utf-8")
        kwargs["content_type"] = req["content_type"]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        r = client.open(req["path"], method=req["method"], **kwargs)
        body = r.get_data()
    answer = {"status": r.status_code, "status_line": r.status, "headers": [[k, v] for k, v in r.headers.items()]}
    try:
        answer["body"] = body.decode("utf-8")
    except UnicodeDecodeError:
        answer["body_base64"] = base64.b64encode(body).decode("ascii")
    answer["stdout"] = out.getvalue()
    answer["stdout_expected"] = expected_stdout(app, out.getvalue())
    if "saved" in req:
        with open(os.path.join(workdir, req["saved"]), "rb") as fh:
            answer["saved_base64"] = base64.b64encode(fh.read()).decode("ascii")
    return answer


def main():
    with open(os.path.join(HERE, "requests.json"), encoding="utf-8") as fh:
        spec = json.load(fh)
    result = {
        "about": "Generated by flask_answers.py from requests.json and the lesson files beside it; do not edit.",
        "flask": flask.__version__ if hasattr(flask, "__version__") else "",
        "werkzeug": werkzeug.__version__ if hasattr(werkzeug, "__version__") else "",
        "transformations": TRANSFORMATIONS,
        "lessons": [],
    }
    cwd = os.getcwd()
    for lesson in spec["lessons"]:
        workdir = tempfile.mkdtemp(prefix="tutorial-flask-")
        try:
            shutil.copy(AVATAR, os.path.join(workdir, "avatar.png"))
            os.chdir(workdir)
            app = load_lesson(lesson["lesson"])
            client = app.test_client()
            debug = bool(app.config["DEBUG"])
            answers = [run_request(app, client, req, workdir) for req in lesson["requests"]]
            # (last: loading the app for a CLI command sets DEBUG from FLASK_DEBUG)
            routes = app.test_cli_runner().invoke(routes_command).output
            result["lessons"].append({"lesson": lesson["lesson"], "debug": debug, "routes": routes, "answers": answers})
        finally:
            os.chdir(cwd)
            shutil.rmtree(workdir)
    json.dump(result, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    # Werkzeug lists methods (Allow, print(app.url_map)) in set order, which
    # follows the string hash seed: fix it so the file is the same every run.
    if os.environ.get("PYTHONHASHSEED") != "0":
        os.execve(sys.executable, [sys.executable] + sys.argv, dict(os.environ, PYTHONHASHSEED="0"))
    main()
