#!/usr/bin/python3
"""tests/data/tutorial/flask_answers.json is what the course's Python code
answers under the real Flask (Debian's 2.2) for requests.json; the unit test
test_tutorial.c compares vial against it. This test regenerates it with
flask_answers.py and fails when the committed file is stale (a request, a
lesson or the Python code changed without regenerating). The clock's part
(Set-Cookie Expires dates, and the timestamp and signature of a session
cookie) is the only thing left out of the comparison.

To regenerate:
    /usr/bin/python3 tests/data/tutorial/flask_answers.py > tests/data/tutorial/flask_answers.json
"""
import json
import os
import re
import subprocess
import sys

SOURCE = os.environ.get("VIAL_SOURCE_DIR") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DATA = os.path.join(SOURCE, "tests", "data", "tutorial")
EXPIRES = re.compile(r"Expires=[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT")


SESSION_CLOCK = re.compile(r"(session=\.?[A-Za-z0-9_-]+)\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


def without_clock(text):
    return SESSION_CLOCK.sub(r"\1.<timestamp>.<signature>", EXPIRES.sub("Expires=<date>", text))


def main():
    fresh = subprocess.run(
        ["/usr/bin/python3", "-W", "ignore", os.path.join(DATA, "flask_answers.py")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if fresh.returncode != 0:
        print(fresh.stderr, file=sys.stderr)
        print("FAIL: flask_answers.py failed", file=sys.stderr)
        return 1
    with open(os.path.join(DATA, "flask_answers.json"), encoding="utf-8") as fh:
        committed = fh.read()
    new = json.loads(without_clock(fresh.stdout))
    old = json.loads(without_clock(committed))
    if new != old:
        for lesson_new, lesson_old in zip(new["lessons"], old["lessons"]):
            if lesson_new != lesson_old:
                print(f"stale: lesson {lesson_new['lesson']} (committed: {lesson_old['lesson']})", file=sys.stderr)
        if len(new["lessons"]) != len(old["lessons"]):
            print(f"stale: {len(new['lessons'])} lessons now, {len(old['lessons'])} committed", file=sys.stderr)
        print("FAIL: flask_answers.json is stale; regenerate it (see this file's docstring)", file=sys.stderr)
        return 1
    count = sum(len(l["answers"]) for l in new["lessons"])
    print(f"ok: flask_answers.json matches Flask {new['flask']} for {len(new['lessons'])} lessons, {count} requests")
    return 0


if __name__ == "__main__":
    sys.exit(main())
