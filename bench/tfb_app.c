/* tfb_app.c - TechEmpower's database tests on the full framework: /db,
 * /queries?queries=N, /updates?queries=N and /fortunes, written as a user
 * would with the request-level database API (vial_query_one, vial_query_many,
 * vial_exec) and a Jinja2 template (bench/templates/fortunes.html, the one the
 * Flask app renders), on SQLite or PostgreSQL (DATABASE_URL). bench/tfb starts it
 * beside bench/tfb_flask.py, the same app in Flask, and compares them.
 *
 *   VIAL_DATABASE_URL=postgresql://... tfb_app init-db     World (10,000 rows) and Fortune (12 rows)
 *   VIAL_DATABASE_URL=postgresql://... tfb_app run --port 8080 --workers 2
 *
 * The rules followed are in shared/specs/techempower.md: one query per row
 * read, a new random id per query, results never cached, the request-time
 * fortune added and the list sorted in the app, every message escaped by
 * the template. */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vial.h>

/* ---- random ids: xorshift64*, seeded per process from the kernel ---- */

static uint64_t rng_state;

static int random_number(void) {
    if (rng_state == 0) {
        /* Seeded lazily, so every worker (forked after main) gets its own sequence. */
        if (vial_random_bytes(&rng_state, sizeof rng_state) != 0 || rng_state == 0) rng_state = 0x9e3779b97f4a7c15ull;
    }
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (int)((rng_state * 2685821657736338717ull) >> 33) % 10000 + 1;
}

/* ?queries=N clamped as the rules say: missing, empty, not an integer or < 1 → 1; > 500 → 500. */
static int queries_param(vial_req *rq) {
    const char *text = vial_arg(rq, "queries");
    if (!text || !*text) return 1;
    char *end;
    long n = strtol(text, &end, 10);
    if (*end || end == text || n < 1) return 1;
    return n > 500 ? 500 : (int)n;
}

static const char *const select_world = "SELECT id, randomNumber AS \"randomNumber\" FROM World WHERE id = ?";

VIAL_ROUTE(db, "/db", VIAL_GET) {
    vial_value *row = vial_query_one(rq, select_world, random_number());
    if (!row) vial_abort(rq, 404);
    vial_jsonify(rs, row);
}

/* N random rows, each read by its own statement. vial_query_many runs them as
 * one batch of reads: on PostgreSQL pipelined (one round trip) under one Sync,
 * on SQLite one after the other in one read transaction; either way one
 * snapshot, which the rules allow for /queries. /updates may not put its N
 * reads in one transaction (the rules allow one around a read+write iteration,
 * never around all N): it uses vial_query_each, every read its own statement,
 * still pipelined on PostgreSQL. */
static vial_value *random_worlds(vial_req *rq, int n, bool one_snapshot) {
    vial_value *ids = vial_arena_alloc(vial_req_arena(rq), sizeof *ids * (size_t)n);
    vial_db_args *sets = vial_arena_alloc(vial_req_arena(rq), sizeof *sets * (size_t)n);
    if (!ids || !sets) vial_abort(rq, 500);
    for (int i = 0; i < n; i++) {
        ids[i] = VIAL_BIND(random_number());
        sets[i] = (vial_db_args){&ids[i], 1};
    }
    vial_value *results = one_snapshot ? vial_query_many(rq, select_world, sets, (size_t)n)
                                       : vial_query_each(rq, select_world, sets, (size_t)n);
    vial_value *worlds = vial_array(rq);
    for (int i = 0; i < n; i++) {
        vial_value *row = vial_array_get(vial_array_get(results, (size_t)i), 0);
        if (!row) vial_abort(rq, 404);
        vial_array_push(worlds, row);
    }
    return worlds;
}

VIAL_ROUTE(queries, "/queries", VIAL_GET) { vial_jsonify(rs, random_worlds(rq, queries_param(rq), true)); }

/* Each row is read with its own query, each its own transaction (see
 * random_worlds); the new numbers are written with one UPDATE per request
 * (the rules allow batching the writes, not the reads):
 *   UPDATE World SET randomNumber = CASE id WHEN ? THEN CAST(? AS INTEGER) ... END WHERE id IN (?, ...)
 * An id drawn twice keeps one new number, so the answer matches the table. */
VIAL_ROUTE(updates, "/updates", VIAL_GET) {
    int n = queries_param(rq);
    vial_arena *a = vial_req_arena(rq);
    vial_value *args = vial_arena_alloc(a, sizeof *args * (size_t)n * 3);
    vial_buf sql;
    vial_buf_init(&sql, a, 0);
    if (!args) vial_abort(rq, 500);
    vial_buf_puts(&sql, "UPDATE World SET randomNumber = CASE id");
    int distinct = 0;
    vial_value *worlds = random_worlds(rq, n, false);
    for (int i = 0; i < n; i++) {
        vial_value *row = vial_array_get(worlds, (size_t)i);
        int64_t id = vial_get_int(row, "id", 0);
        int64_t number = random_number();
        int seen = -1;
        for (int k = 0; k < distinct; k++)
            if (args[2 * k].as.i == id) seen = k;
        if (seen >= 0) {
            number = args[2 * seen + 1].as.i;
        } else {
            args[2 * distinct] = (vial_value){.type = VIAL_INT, .as.i = id};
            args[2 * distinct + 1] = (vial_value){.type = VIAL_INT, .as.i = number};
            distinct++;
            vial_buf_puts(&sql, " WHEN ? THEN CAST(? AS INTEGER)");
        }
        vial_object_set(row, "randomNumber", vial_int(rq, number));
    }
    vial_buf_puts(&sql, " END WHERE id IN (");
    for (int k = 0; k < distinct; k++) {
        args[2 * distinct + k] = args[2 * k];
        vial_buf_puts(&sql, k ? ", ?" : "?");
    }
    if (vial_buf_puts(&sql, ")") != 0) vial_abort(rq, 500);
    vial_exec_args(rq, vial_buf_cstr(&sql), (vial_db_args){args, (size_t)distinct * 3});
    vial_jsonify(rs, worlds);
}

/* ---- fortunes: all rows, one more added in memory, sorted, through a template ---- */

/* Rows sorted by message: each message looked up once, not at every comparison. */
typedef struct fortune {
    const vial_value *message;
    vial_value *row;
} fortune;

static int by_message(const void *x, const void *y) {
    const vial_value *a = ((const fortune *)x)->message, *b = ((const fortune *)y)->message;
    size_t n = a->as.s.len < b->as.s.len ? a->as.s.len : b->as.s.len;
    int c = memcmp(a->as.s.ptr, b->as.s.ptr, n); /* UTF-8 byte order is code point order */
    return c ? c : (a->as.s.len > b->as.s.len) - (a->as.s.len < b->as.s.len);
}

VIAL_ROUTE(fortunes, "/fortunes", VIAL_GET) {
    vial_value *rows = vial_query(rq, "SELECT id, message FROM Fortune");
    vial_array_push(rows, vial_pack(rq, "{s:i, s:s}", "id", 0, "message", "Additional fortune added at request time."));
    size_t n = rows->as.arr.len;
    fortune *sorted = vial_arena_alloc(vial_req_arena(rq), sizeof *sorted * n);
    if (!sorted) vial_abort(rq, 500);
    for (size_t i = 0; i < n; i++) {
        sorted[i].row = rows->as.arr.items[i];
        sorted[i].message = vial_object_get(sorted[i].row, "message");
        if (!sorted[i].message || sorted[i].message->type != VIAL_STRING) vial_abort(rq, 500);
    }
    qsort(sorted, n, sizeof *sorted, by_message);
    for (size_t i = 0; i < n; i++) rows->as.arr.items[i] = sorted[i].row;
    vial_render(rs, "fortunes.html", vial_pack(rq, "{s:o}", "fortunes", rows));
}

/* ---- init-db: the benchmark's tables and rows ---- */

static const char *const fortune_rows[] = {
    "fortune: No such file or directory",
    "A computer scientist is someone who fixes things that aren't broken.",
    "After enough decimal places, nobody gives a damn.",
    "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1",
    "A computer program does what you tell it to do, not what you want it to do.",
    "Emacs is a nice operating system, but I prefer UNIX. — Tom Christaensen",
    "Any program that runs right is obsolete.",
    "A list is only as strong as its weakest link. — Donald Knuth",
    "Feature: A bug with seniority.",
    "Computers make very fast, very accurate mistakes.",
    "<script>alert(\"This should not be displayed in a browser alert box.\");</script>",
    "フレームワークのベンチマーク",
};

static int init_db(vial_app *app, vial_cmd *cmd) {
    (void)cmd;
    vial_db *db = vial_app_db(app);
    if (!db) return 1;
    vial_db_conn *c = vial_db_acquire(db);
    int rc = 1;
    if (vial_db_errcode(c) != VIAL_DB_OK) goto out;
    if (vial_db_script(c, "DROP TABLE IF EXISTS World; DROP TABLE IF EXISTS Fortune;"
                          "CREATE TABLE World (id integer NOT NULL PRIMARY KEY, randomNumber integer NOT NULL DEFAULT 0);"
                          "CREATE TABLE Fortune (id integer NOT NULL PRIMARY KEY, message varchar(2048) NOT NULL);") != 0)
        goto out;
    if (vial_db_begin(c) != 0) goto out;
    for (int id = 1; id <= 10000; id++)
        if (vial_db_exec(c, "INSERT INTO World (id, randomNumber) VALUES (?, ?)", id, random_number()) != 1) goto out;
    for (int i = 0; i < (int)(sizeof fortune_rows / sizeof fortune_rows[0]); i++)
        if (vial_db_exec(c, "INSERT INTO Fortune (id, message) VALUES (?, ?)", i + 1, fortune_rows[i]) != 1) goto out;
    if (vial_db_commit(c) != 0) goto out;
    printf("Initialized the database: World (10000 rows), Fortune (12 rows) at %s\n", vial_db_display_url(db));
    rc = 0;
out:
    if (rc) fprintf(stderr, "Error: %s\n", vial_db_errmsg(c));
    vial_db_release(c);
    return rc;
}

int main(int argc, char **argv) {
    vial_app *app = vial_app_new("tfb_app");
    char source[4096];
    snprintf(source, sizeof source, "%s", __FILE__);
    vial_app_set_root(app, dirname(source)); /* bench/: templates/fortunes.html */
    vial_config_set_bool(app, "GZIP_ENABLED", false); /* the rules forbid compression */
    vial_app_static(app, NULL, NULL);
    vial_command(app, "init-db", "Create and fill the World and Fortune tables.", init_db);
    int status = vial_main(app, argc, argv);
    vial_app_free(app);
    return status;
}
