/* tfb_floor.c - the database's own share of TechEmpower's /updates?queries=N,
 * with no web framework at all: P processes each run the statements of one
 * request after another, as fast as the database takes them, and the total
 * is printed as requests/s. No framework, however fast, can serve more on the
 * same machine, so where this floor is below 10x Flask's rate the 10x target
 * is out of reach for any framework there.
 *
 * Per request, as bench/tfb_app and bench/tfb_flask.py do it and the rules
 * require: N reads of a random World row, each its own statement and its own
 * transaction, then one UPDATE of those rows to new random numbers (the CASE
 * form both apps send). SQLite through the sqlite3 API (WAL, synchronous =
 * NORMAL, prepared statements, SQLite's own busy handler, and checkpoints
 * 100x less often than the apps'). PostgreSQL through
 * libpq with the N reads and the UPDATE in one pipeline, a Sync after each
 * (every statement its own transaction, all of them in one round trip: fewer
 * than any app can have, since an app reads before it writes).
 *
 *   taskset -c 0 build/release/bench/tfb_floor URL [--procs P] [--seconds S] [--queries N] [--depth D]
 *
 * --depth D (PostgreSQL): each process keeps D requests' statements in one
 * pipeline before reading the answers, as vial's shared connection does
 * under load; the server then reads many requests per wake-up.
 *
 * URL is sqlite:////abs/path.db (a database tfb_app init-db filled) or a
 * libpq postgresql:// URL. The benchmark pins the apps to core 0; run the
 * floor the same way to compare. */
#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t rng;
static int random_number(void) {
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (int)((rng * 2685821657736338717ull) >> 33) % 10000 + 1;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* UPDATE World SET randomNumber = CASE id WHEN ? THEN ? ... END WHERE id IN (?, ...), n distinct ids. */
static void update_sql(char *out, size_t cap, int n, bool dollar) {
    size_t len = (size_t)snprintf(out, cap, "UPDATE World SET randomNumber = CASE id");
    int p = 1;
    for (int i = 0; i < n; i++) {
        if (dollar)
            len += (size_t)snprintf(out + len, cap - len, " WHEN $%d::int THEN $%d::int", p, p + 1);
        else
            len += (size_t)snprintf(out + len, cap - len, " WHEN ? THEN CAST(? AS INTEGER)");
        p += 2;
    }
    len += (size_t)snprintf(out + len, cap - len, " END WHERE id IN (");
    for (int i = 0; i < n; i++) {
        if (dollar)
            len += (size_t)snprintf(out + len, cap - len, "%s$%d::int", i ? ", " : "", p++);
        else
            len += (size_t)snprintf(out + len, cap - len, "%s?", i ? ", " : "");
    }
    snprintf(out + len, cap - len, ")");
}

/* n distinct random ids (a repeated id would be updated once by the apps too). */
static void draw_ids(int *ids, int n) {
    for (int i = 0; i < n; i++) {
        int id;
        bool seen;
        do {
            id = random_number();
            seen = false;
            for (int k = 0; k < i; k++) seen |= ids[k] == id;
        } while (seen);
        ids[i] = id;
    }
}

static long run_sqlite(const char *path, int n, double seconds) {
    sqlite3 *db;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        fprintf(stderr, "tfb_floor: cannot open %s\n", path);
        return -1;
    }
    sqlite3_busy_timeout(db, 5000);
    /* As both apps, except checkpoints: every 100,000 pages instead of
     * SQLite's 1,000 (a generous floor: ~40% more requests/s here). */
    sqlite3_exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 100000", NULL,
                 NULL, NULL);
    sqlite3_stmt *read, *update;
    char sql[8192];
    update_sql(sql, sizeof sql, n, false);
    if (sqlite3_prepare_v2(db, "SELECT id, randomNumber FROM World WHERE id = ?", -1, &read, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, sql, -1, &update, NULL) != SQLITE_OK) {
        fprintf(stderr, "tfb_floor: %s\n", sqlite3_errmsg(db));
        return -1;
    }
    long done = 0;
    int ids[500];
    double end = now() + seconds;
    while (now() < end) {
        draw_ids(ids, n);
        for (int i = 0; i < n; i++) {
            sqlite3_bind_int(read, 1, ids[i]);
            if (sqlite3_step(read) != SQLITE_ROW) {
                fprintf(stderr, "tfb_floor: read: %s\n", sqlite3_errmsg(db));
                return -1;
            }
            sqlite3_reset(read);
        }
        for (int i = 0; i < n; i++) {
            sqlite3_bind_int(update, 2 * i + 1, ids[i]);
            sqlite3_bind_int(update, 2 * i + 2, random_number());
            sqlite3_bind_int(update, 2 * n + i + 1, ids[i]);
        }
        int rc = sqlite3_step(update);
        sqlite3_reset(update);
        if (rc != SQLITE_DONE) {
            fprintf(stderr, "tfb_floor: update: %s\n", sqlite3_errmsg(db));
            return -1;
        }
        done++;
    }
    sqlite3_finalize(read);
    sqlite3_finalize(update);
    sqlite3_close(db);
    return done;
}

static bool pg_ok(PGresult *r, ExecStatusType want, PGconn *pg) {
    bool ok = r && PQresultStatus(r) == want;
    if (!ok) fprintf(stderr, "tfb_floor: %s", r ? PQresultErrorMessage(r) : PQerrorMessage(pg));
    PQclear(r);
    return ok;
}

/* Queues one request's statements: n reads and the UPDATE, a Sync after each. */
static bool pg_send_request(PGconn *pg, int n) {
    int ids[500];
    char text[1500][12];
    const char *values[1500];
    draw_ids(ids, n);
    for (int i = 0; i < n; i++) {
        snprintf(text[i], sizeof text[i], "%d", ids[i]);
        values[0] = text[i];
        if (!PQsendQueryPrepared(pg, "r", 1, values, NULL, NULL, 0) || !PQpipelineSync(pg)) return false;
    }
    for (int i = 0; i < n; i++) {
        snprintf(text[n + 2 * i], sizeof text[0], "%d", ids[i]);
        snprintf(text[n + 2 * i + 1], sizeof text[0], "%d", random_number());
        values[2 * i] = text[n + 2 * i];
        values[2 * i + 1] = text[n + 2 * i + 1];
        values[2 * n + i] = text[n + 2 * i];
    }
    return PQsendQueryPrepared(pg, "u", 3 * n, values, NULL, NULL, 0) && PQpipelineSync(pg);
}

/* Reads one request's answers: each statement's result then NULL, then its Sync. */
static bool pg_read_request(PGconn *pg, int n) {
    for (int s = 0; s < n + 1; s++) {
        if (!pg_ok(PQgetResult(pg), s < n ? PGRES_TUPLES_OK : PGRES_COMMAND_OK, pg)) return false;
        if (PQgetResult(pg) != NULL) return false;
        if (!pg_ok(PQgetResult(pg), PGRES_PIPELINE_SYNC, pg)) return false;
    }
    return true;
}

static long run_postgres(const char *url, int n, double seconds, int depth) {
    PGconn *pg = PQconnectdb(url);
    if (PQstatus(pg) != CONNECTION_OK) {
        fprintf(stderr, "tfb_floor: %s", PQerrorMessage(pg));
        return -1;
    }
    char sql[16384];
    update_sql(sql, sizeof sql, n, true);
    if (!pg_ok(PQprepare(pg, "r", "SELECT id, randomNumber FROM World WHERE id = $1", 1, NULL), PGRES_COMMAND_OK, pg) ||
        !pg_ok(PQprepare(pg, "u", sql, 3 * n, NULL), PGRES_COMMAND_OK, pg) || !PQenterPipelineMode(pg))
        return -1;
    long done = 0;
    double end = now() + seconds;
    while (now() < end) {
        for (int d = 0; d < depth; d++)
            if (!pg_send_request(pg, n)) return -1;
        for (int d = 0; d < depth; d++)
            if (!pg_read_request(pg, n)) return -1;
        done += depth;
    }
    PQfinish(pg);
    return done;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: tfb_floor URL [--procs P] [--seconds S] [--queries N] [--depth D]\n");
        return 2;
    }
    const char *url = argv[1];
    int procs = 2, n = 20, depth = 1;
    double seconds = 5;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--procs") == 0)
            procs = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--seconds") == 0)
            seconds = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--queries") == 0)
            n = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--depth") == 0)
            depth = atoi(argv[i + 1]);
        else {
            fprintf(stderr, "tfb_floor: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (procs < 1 || procs > 64 || n < 1 || n > 500 || seconds <= 0 || depth < 1 || depth > 64) {
        fprintf(stderr, "tfb_floor: --procs 1..64, --queries 1..500, --depth 1..64, --seconds > 0\n");
        return 2;
    }
    bool sqlite = strncmp(url, "sqlite:///", 10) == 0;
    int fds[64][2];
    for (int p = 0; p < procs; p++) {
        if (pipe(fds[p]) != 0) return 1;
        pid_t pid = fork();
        if (pid < 0) return 1;
        if (pid == 0) {
            rng = 0x9e3779b97f4a7c15ull ^ ((uint64_t)getpid() << 20) ^ (uint64_t)time(NULL);
            long done = sqlite ? run_sqlite(url + 9, n, seconds) : run_postgres(url, n, seconds, depth);
            if (write(fds[p][1], &done, sizeof done) != (ssize_t)sizeof done) _exit(1);
            _exit(done < 0);
        }
        close(fds[p][1]);
    }
    long total = 0;
    int failed = 0;
    for (int p = 0; p < procs; p++) {
        long done = -1;
        if (read(fds[p][0], &done, sizeof done) != (ssize_t)sizeof done || done < 0) failed++;
        else total += done;
        close(fds[p][0]);
    }
    while (wait(NULL) > 0) {
    }
    if (failed) {
        fprintf(stderr, "tfb_floor: %d of %d processes failed\n", failed, procs);
        return 1;
    }
    printf("%s updates?queries=%d: %.0f requests/s (%d processes, %d in flight each, %.0f s, no framework)\n",
           sqlite ? "sqlite" : "postgres", n, (double)total / seconds, procs, sqlite ? 1 : depth, seconds);
    return 0;
}
