"""A real browser logs in to session_app: headless Chromium (Debian's
/usr/bin/chromium) driven by playwright-core from npm (tests/browser, installed
here with `npm ci` from its package-lock.json). The steps and checks are in
tests/browser/login_flow.js: login form with ?next=, flashed errors, the
protected page, reload, logout (CSRF-checked form), remember-me, off-site
next refused - with the browser's own cookie handling."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from session_harness import HERE, VialApp, run_tests  # noqa: E402

BROWSER_DIR = os.path.join(HERE, "..", "browser")


def test_npm_ci():
    assert os.path.exists("/usr/bin/chromium"), "Debian's chromium is missing: scripts/bootstrap test installs it"
    r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=BROWSER_DIR, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, "npm ci failed:\n" + r.stdout + r.stderr


def test_login_flow_in_chromium():
    app = VialApp()
    try:
        r = subprocess.run(["node", "login_flow.js", app.url], cwd=BROWSER_DIR, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=600)
        print(r.stdout, end="")
        assert r.returncode == 0, "browser flow failed:\n" + r.stdout + r.stderr + "\nserver log:\n" + app.log()[-3000:]
    finally:
        app.stop()


if __name__ == "__main__":
    run_tests([test_npm_ci, test_login_flow_in_chromium])
