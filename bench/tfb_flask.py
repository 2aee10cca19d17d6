"""tfb_flask.py - bench/tfb_app.c's twin in Flask: TechEmpower's /db,
/queries?queries=N, /updates?queries=N and /fortunes, for gunicorn.

    DATABASE_URL=postgresql://vial@127.0.0.1:5432/vial_test \
        gunicorn --workers 2 --bind 127.0.0.1:8081 --chdir bench tfb_flask:app

The same statements as the C app: one query per row read, the updates'
writes batched into one UPDATE, each statement committed on its own
(autocommit); the same template (bench/templates/fortunes.html).
Connections: one per worker thread, opened on first use and kept (what a
pool gives a Flask app; opening one per request would make Flask look
slower than it needs to be). SQLite through the standard library with the
pragmas vial uses (WAL, synchronous=NORMAL, a busy timeout); PostgreSQL
through psycopg2.
"""
import os
import random
import sqlite3
import threading
from urllib.parse import unquote, urlsplit

from flask import Flask, jsonify, render_template, request

app = Flask(__name__, template_folder="templates")
app.config["JSON_SORT_KEYS"] = True

DATABASE_URL = os.environ.get("DATABASE_URL", "sqlite:///tfb.db")
_local = threading.local()


def _connect():
    if DATABASE_URL.startswith("sqlite:///"):
        path = unquote(DATABASE_URL[len("sqlite:///"):].split("?", 1)[0])
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=5.0)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn, "?"
    import psycopg2

    parts = urlsplit(DATABASE_URL)
    conn = psycopg2.connect(
        host=parts.hostname,
        port=parts.port or 5432,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        dbname=parts.path.lstrip("/"),
    )
    conn.autocommit = True
    return conn, "%s"


def get_db():
    db = getattr(_local, "db", None)
    if db is None:
        db = _local.db = _connect()
    return db


def query(sql, args=()):
    conn, mark = get_db()
    cur = conn.cursor()
    cur.execute(sql.replace("?", mark), args)
    return cur


def queries_param():
    text = request.args.get("queries", "")
    try:
        n = int(text)
    except ValueError:
        return 1
    return 1 if n < 1 else min(n, 500)


SELECT_WORLD = "SELECT id, randomNumber FROM World WHERE id = ?"


def random_world():
    row = query(SELECT_WORLD, (random.randint(1, 10000),)).fetchone()
    return {"id": row[0], "randomNumber": row[1]}


@app.route("/db")
def db():
    return jsonify(random_world())


@app.route("/queries")
def queries():
    return jsonify([random_world() for _ in range(queries_param())])


@app.route("/updates")
def updates():
    # Each row read with its own query, the new numbers written with one UPDATE
    # (batched writes are allowed, batched reads are not); an id drawn twice
    # keeps one new number.
    worlds, numbers = [], {}
    for _ in range(queries_param()):
        world = random_world()
        world["randomNumber"] = numbers.setdefault(world["id"], random.randint(1, 10000))
        worlds.append(world)
    sql = "UPDATE World SET randomNumber = CASE id" + " WHEN ? THEN CAST(? AS INTEGER)" * len(numbers)
    sql += " END WHERE id IN (" + ", ".join("?" * len(numbers)) + ")"
    args = [x for pair in numbers.items() for x in pair] + list(numbers)
    query(sql, args)
    return jsonify(worlds)


@app.route("/fortunes")
def fortunes():
    rows = [{"id": r[0], "message": r[1]} for r in query("SELECT id, message FROM Fortune").fetchall()]
    rows.append({"id": 0, "message": "Additional fortune added at request time."})
    rows.sort(key=lambda f: f["message"])
    return render_template("fortunes.html", fortunes=rows)
