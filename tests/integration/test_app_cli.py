"""The app binary as its own `flask` command: run with each option (and the
VIAL_RUN_* environment), routes, config, user commands, --help at every
level, and bad options / unknown commands answered with usage and exit 2."""
import os
import sys
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from app_harness import App, cli  # noqa: E402


def get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, r.read().decode()


class Run(unittest.TestCase):
    def test_port_and_host_options(self):
        with App("--host", "127.0.0.1", "--port", "0", "--workers", "2") as app:
            self.assertIn("2 workers", app.wait_line("Running on", 5))
            status, body = get(f"{app.url}/echo_header?v=x")
            self.assertEqual((status, body), (200, "set=0"))
        self.assertEqual(app.proc.returncode, 0, "SIGTERM stops cleanly with status 0")

    def test_short_options_and_equals_form(self):
        with App("-h", "127.0.0.1", "--port=0", "-w", "1") as app:
            self.assertIn("1 worker", app.wait_line("Running on", 5))
            self.assertEqual(get(f"{app.url}/echo_header?v=y")[0], 200)

    def test_environment_variables(self):
        with App(env={"VIAL_RUN_HOST": "127.0.0.1", "VIAL_RUN_PORT": "0", "VIAL_RUN_WORKERS": "1"}) as app:
            self.assertEqual(get(f"{app.url}/echo_header?v=z")[0], 200)

    def test_debug_shows_details_and_runs_one_worker(self):
        with App("--port", "0", "--workers", "3", "--debug") as app:
            self.assertIn("1 worker", app.wait_line("Running on", 5))
            try:
                urllib.request.urlopen(f"{app.url}/boom", timeout=10)
                self.fail("expected 500")
            except urllib.error.HTTPError as e:
                self.assertEqual(e.code, 500)
                page = e.read().decode()
                self.assertIn("details for debug mode", page)
                self.assertIn("<code>crash()</code> at <code>", page, "the debug page says where the view aborted")
                self.assertIn("app_server.c:", page)
                self.assertIn("<tr><th>endpoint<td>crash", page)
        with App("--port", "0") as app:
            try:
                urllib.request.urlopen(f"{app.url}/boom", timeout=10)
            except urllib.error.HTTPError as e:
                self.assertEqual(e.code, 500)
                self.assertNotIn("details for debug mode", e.read().decode(), "no details without --debug")
            app.wait_line("the view failed: details for debug mode", 5)

    def test_bad_options_exit_2_with_usage(self):
        for args, message in [
            (["run", "--bogus"], "No such option: --bogus"),
            (["run", "--port", "seventy"], "'seventy' is not a valid port"),
            (["run", "--port", "70000"], "'70000' is not a valid port"),
            (["run", "--workers", "0"], "is not a number from 1 to 1024"),
            (["run", "--port"], "requires an argument"),
            (["run", "extra"], "Got unexpected extra argument (extra)"),
            (["routes", "--sort", "size"], "is not one of 'endpoint', 'methods', 'rule', 'match'"),
            (["nope"], "No such command 'nope'."),
            (["--bogus"], "No such option: --bogus"),
            (["hello", "--bogus"], "No such option: --bogus"),
            (["hello", "--count"], "requires an argument"),
        ]:
            r = cli(*args)
            self.assertEqual(r.returncode, 2, f"{args}: {r.stderr}")
            self.assertIn("Usage: app_server", r.stderr, args)
            self.assertIn("\nError: ", r.stderr, args)
            self.assertIn(message, r.stderr.split("\nError: ", 1)[1], args)
        r = cli("run", env={"VIAL_RUN_PORT": "abc"})
        self.assertEqual(r.returncode, 2)
        self.assertIn("VIAL_RUN_PORT", r.stderr)

    def test_help_everywhere(self):
        for args in (["--help"], [], ["run", "--help"], ["routes", "--help"], ["config", "--help"], ["hello", "--help"]):
            r = cli(*args)
            self.assertEqual(r.returncode, 0, args)
            self.assertIn("Usage: app_server", r.stdout, args)
        self.assertIn("--port INTEGER", cli("run", "--help").stdout)
        self.assertIn("How many times.", cli("hello", "--help").stdout)
        top = cli("--help").stdout
        self.assertLess(top.index("config"), top.index("hello"))
        self.assertLess(top.index("hello"), top.index("routes"))


class Routes(unittest.TestCase):
    def test_table_like_flask_routes(self):
        lines = cli("routes").stdout.splitlines()
        self.assertEqual(lines[0].split(), ["Endpoint", "Methods", "Rule"])
        self.assertTrue(set(lines[1].replace(" ", "")) == {"-"})
        rows = [line.split(None, 2) for line in lines[2:]]
        endpoints = [r[0] for r in rows]
        self.assertEqual(endpoints, sorted(endpoints), "sorted by endpoint by default")
        by_endpoint = {r[0]: r for r in rows}
        self.assertEqual(by_endpoint["upload"][1:], ["POST", "/upload"])
        self.assertEqual(by_endpoint["static"][1:], ["GET", "/static/<path:filename>"])
        self.assertEqual(by_endpoint["files"][2], "/files/<path:name>")
        # the columns line up: every row's Methods starts where the header's does
        col = lines[0].index("Methods")
        for line in lines[2:]:
            self.assertNotEqual(line[col], " ")
            self.assertEqual(line[col - 2:col], "  ")

    def test_sorting_and_all_methods(self):
        rules = [line.split()[-1] for line in cli("routes", "--sort", "rule").stdout.splitlines()[2:]]
        self.assertEqual(rules, sorted(rules))
        with_all = cli("routes", "--all-methods").stdout
        self.assertIn("GET, HEAD, OPTIONS", with_all)
        self.assertNotIn("HEAD", cli("routes").stdout)


class Config(unittest.TestCase):
    def test_effective_config_with_secrets_masked(self):
        out = cli("config").stdout
        self.assertIn("SECRET_KEY = '***'", out)
        self.assertNotIn("s3cret-do-not-print", out)
        self.assertNotIn("hunter2", out)
        self.assertIn('DATABASE_URL = "postgresql://user:***@127.0.0.1:5432/db"', out)
        self.assertIn("SESSION_COOKIE_NAME = \"session\"", out)
        out = cli("config", env={"VIAL_MAX_CONTENT_LENGTH": "1024", "VIAL_MY__NESTED": "1"}).stdout
        self.assertIn("MAX_CONTENT_LENGTH = 1024", out)
        self.assertIn('MY = {"NESTED": 1}', out)
        r = cli("config", env={"VIAL_MAX_CONTENT_LENGTH": "lots"})
        self.assertEqual(r.returncode, 1)
        self.assertIn("MAX_CONTENT_LENGTH must be an integer", r.stderr)


class Commands(unittest.TestCase):
    def test_registered_command_with_options(self):
        r = cli("hello", "-n", "vial", "--count=2", "--shout", "a", "b")
        self.assertEqual(r.returncode, 0)
        self.assertEqual(r.stdout, "hello vial!\nhello vial!\narg a\narg b\n")
        self.assertEqual(cli("hello").stdout, "hello world\n")


if __name__ == "__main__":
    unittest.main(verbosity=2)
