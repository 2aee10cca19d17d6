"""db_lane_http.py DATABASE_URL - run by test_db_postgres.sh against its throwaway cluster.

bench/tfb_app (TechEmpower's /db, /queries, /updates, /fortunes on the
request-level API) serves 2 workers on PostgreSQL, where requests share each
worker's pipelined connection (src/db/pg_lane.c). Many clients at once then
check what each got back: every /queries?queries=N answer has exactly its own
N rows, each row as the World table holds it (read with psql before any
update), /fortunes is the full sorted table, /updates?queries=N has N rows and
the rows it reports are in the table afterwards; no request fails, and the
server logs no error. Exits non-zero with the reasons."""
import concurrent.futures
import json
import os
import random
import subprocess
import sys
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from app_harness import App, BUILD  # noqa: E402

TFB_APP = os.path.join(BUILD, "bench", "tfb_app")


def psql_rows(url, sql):
    out = subprocess.run(["psql", "-X", "-At", "-F", " ", "-d", url, "-c", sql], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    return [line.split(" ", 1) for line in out.splitlines() if line]


def get(base, path):
    try:
        with urllib.request.urlopen(base + path, timeout=30) as r:
            return r.status, r.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, "[]"


def main():
    url = sys.argv[1]
    env = {"VIAL_DATABASE_URL": url}
    init = subprocess.run([TFB_APP, "init-db"], env={**os.environ, **env}, capture_output=True, text=True, timeout=120)
    if init.returncode != 0:
        print("init-db failed:", init.stderr)
        return 1
    world = {int(i): int(n) for i, n in psql_rows(url, "SELECT id, randomnumber FROM world")}
    failures = []
    with App("--port", "0", "--workers", "2", env=env, binary=TFB_APP) as app:
        base = app.url

        def read_check(k):
            n = 1 + k % 20
            status, body = get(base, f"/queries?queries={n}")
            rows = json.loads(body)
            if status != 200 or len(rows) != n:
                return f"/queries?queries={n}: status {status}, {len(rows)} rows"
            for row in rows:
                if world.get(row["id"]) != row["randomNumber"]:
                    return f"/queries?queries={n}: row {row} is not the table's ({world.get(row['id'])})"
            status, body = get(base, "/db")
            row = json.loads(body)
            if status != 200 or world.get(row["id"]) != row["randomNumber"]:
                return f"/db: status {status}, row {row} is not the table's"
            return None

        with concurrent.futures.ThreadPoolExecutor(32) as pool:
            failures += [f for f in pool.map(read_check, range(1200)) if f]

        status, page = get(base, "/fortunes")
        if status != 200 or page.count("<tr>") != 14 or "Additional fortune added at request time." not in page:
            failures.append(f"/fortunes: status {status}, {page.count('<tr>')} rows")

        def update_check(k):
            n = 1 + k % 10
            status, body = get(base, f"/updates?queries={n}")
            rows = json.loads(body)
            if status != 200 or len(rows) != n:
                return f"/updates?queries={n}: status {status}, {len(rows)} rows", []
            return None, rows

        reported = []
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            for f, rows in pool.map(update_check, range(300)):
                if f:
                    failures.append(f)
                reported += rows
        # Concurrent updates of one id race (the last commit wins), so only
        # ids reported once are compared with the table.
        counts = {}
        for row in reported:
            counts[row["id"]] = counts.get(row["id"], 0) + 1
        after = {int(i): int(n) for i, n in psql_rows(url, "SELECT id, randomnumber FROM world")}
        once = [row for row in reported if counts[row["id"]] == 1]
        wrong = [row for row in once if after[row["id"]] != row["randomNumber"]]
        if len(once) < 100 or wrong:
            failures.append(f"/updates: {len(wrong)} of {len(once)} rows reported once differ from the table: {wrong[:3]}")
        app.stop()
        errors = [line for line in app.lines if "[ERROR]" in line]
        if errors:
            failures.append("server logged errors:\n" + "\n".join(errors[:5]))
    for f in failures[:20]:
        print("FAIL:", f)
    if not failures:
        print("ok: 1,200 concurrent /queries + /db, /fortunes, 300 concurrent /updates on the shared connection")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
