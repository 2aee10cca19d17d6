/* db.c - the database handle, its pool of connections, and the statement API.
 *
 * A vial_db belongs to one worker process: it holds the parsed URL and a
 * small pool (at most pool_size connections, opened lazily). A request checks
 * a connection out, runs statements on it and releases it; release rolls back
 * whatever the request left open, so a handler that fails half-way through a
 * transaction cannot leak it into the next request. An idle connection is
 * checked before reuse and replaced when the server dropped it; a statement
 * that finds its connection broken is retried once on a fresh one, but only
 * when that cannot run it twice (outside a transaction, and either not yet
 * sent or a read). Connections opened before a fork() are never used by the
 * child: the pool notices the new process and forgets them.
 *
 * Inside a request, waiting (for a connection, a lock, a server) goes through
 * vial_wait_fd / vial_sleep_ms / vial_park, which park the request's coroutine.
 * Requests waiting for a connection queue in arrival order, each parked until
 * a releaser unparks it: a released connection goes straight to the oldest one, so under
 * load nobody starves while newcomers take the connections. When a
 * connection cannot be had, acquire still returns a handle, a dead one that
 * reports the reason from every call, so code has a single place to look. */
#include "db/db.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t fork_generation = 1;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;
static void on_fork_child(void) { fork_generation++; }
static void fork_watch(void) { pthread_atfork(NULL, NULL, on_fork_child); }

int64_t vial_db_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t vial_db_hash(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* ---- results and errors ---- */

int vial_db_fail(vial_db_conn *c, int code, const char *fmt, ...) {
    c->code = code;
    c->sqlstate[0] = '\0';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->msg, sizeof c->msg, fmt, ap);
    va_end(ap);
    return code;
}

void vial_db_set_code(vial_db_conn *c, int code) {
    c->code = code;
    c->sqlstate[0] = '\0';
    if (code == VIAL_DB_NOT_FOUND)
        snprintf(c->msg, sizeof c->msg, "no matching row");
    else
        c->msg[0] = '\0';
}

int vial_db_errcode(const vial_db_conn *c) { return c ? c->code : VIAL_DB_INVALID; }
const char *vial_db_errmsg(const vial_db_conn *c) { return c ? c->msg : "no database connection"; }
const char *vial_db_sqlstate(const vial_db_conn *c) { return c ? c->sqlstate : ""; }
vial_db *vial_db_of(const vial_db_conn *c) { return c ? c->db : NULL; }

const char *vial_db_code_name(int code) {
    switch (code) {
    case VIAL_DB_OK: return "ok";
    case VIAL_DB_NOT_FOUND: return "not found";
    case VIAL_DB_ERROR: return "error";
    case VIAL_DB_UNAVAILABLE: return "unavailable";
    case VIAL_DB_INVALID: return "invalid";
    case VIAL_DB_CONSTRAINT: return "constraint violation";
    case VIAL_DB_BUSY: return "busy";
    case VIAL_DB_TIMEOUT: return "timeout";
    case VIAL_DB_NOMEM: return "out of memory";
    default: return "unknown";
    }
}

vial_value *vial_db_blob(vial_arena *a, const void *bytes, size_t n) {
    vial_value *v = vial_new_strn(a, bytes, n);
    if (v) v->flags |= VIAL_FLAG_BLOB;
    return v;
}

/* ---- statement cache ---- */

db_stmt *vial_db_stmt_find(vial_db_conn *c, const char *sql, uint64_t hash) {
    for (int i = 0; i < c->nstmts; i++) {
        db_stmt *s = &c->stmts[i];
        if (s->hash == hash && strcmp(s->sql, sql) == 0) {
            s->last_used = ++c->use_clock;
            return s;
        }
    }
    return NULL;
}

static void stmt_release(vial_db_conn *c, db_stmt *s) {
    if (c->db->drv->stmt_free) c->db->drv->stmt_free(c, s);
    free(s->sql);
    memset(s, 0, sizeof *s);
}

db_stmt *vial_db_stmt_add(vial_db_conn *c, const char *sql, uint64_t hash) {
    int limit = c->db->opt.statement_cache;
    if (limit <= 0) return NULL;
    if (!c->stmts) {
        c->stmts = calloc((size_t)limit, sizeof *c->stmts);
        if (!c->stmts) return NULL;
        c->stmt_cap = limit;
    }
    db_stmt *slot;
    if (c->nstmts < c->stmt_cap) {
        slot = &c->stmts[c->nstmts++];
    } else {
        slot = &c->stmts[0];
        for (int i = 1; i < c->nstmts; i++)
            if (c->stmts[i].last_used < slot->last_used) slot = &c->stmts[i];
        stmt_release(c, slot);
    }
    slot->sql = strdup(sql);
    if (!slot->sql) {
        vial_db_stmt_remove(c, slot);
        return NULL;
    }
    slot->hash = hash;
    slot->last_used = ++c->use_clock;
    slot->id = ++c->next_stmt_id;
    return slot;
}

void vial_db_stmt_remove(vial_db_conn *c, db_stmt *s) {
    stmt_release(c, s);
    db_stmt *last = &c->stmts[c->nstmts - 1];
    if (s != last) *s = *last;
    memset(last, 0, sizeof *last);
    c->nstmts--;
}

void vial_db_stmt_clear(vial_db_conn *c) {
    for (int i = 0; i < c->nstmts; i++) stmt_release(c, &c->stmts[i]);
    free(c->stmts);
    c->stmts = NULL;
    c->nstmts = c->stmt_cap = 0;
}

/* ---- opening ---- */

vial_db *vial_db_open(const char *url, const vial_db_options *opts, char *err, size_t errlen) {
    pthread_once(&fork_once, fork_watch);
    vial_db *db = calloc(1, sizeof *db);
    if (!db) {
        if (err && errlen) snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (vial_db_url_parse(url, &db->url, err, errlen) != 0) {
        free(db);
        return NULL;
    }
    db->drv = db->url.backend == VIAL_DB_SQLITE ? &vial_db_sqlite_driver : &vial_db_postgres_driver;
    if (db->drv->check_url && db->drv->check_url(&db->url, err, errlen) != 0) {
        vial_db_url_free(&db->url);
        free(db);
        return NULL;
    }
    if (opts) db->opt = *opts;
    if (db->opt.pool_size <= 0) db->opt.pool_size = 10;
    if (db->url.memory) db->opt.pool_size = 1; /* each :memory: connection is its own database */
    if (db->opt.pool_timeout_ms <= 0) db->opt.pool_timeout_ms = 30000;
    if (db->url.busy_timeout_ms) db->opt.busy_timeout_ms = db->url.busy_timeout_ms;
    if (db->opt.busy_timeout_ms == 0) db->opt.busy_timeout_ms = 5000;
    if (db->opt.busy_timeout_ms < 0) db->opt.busy_timeout_ms = 0;
    if (db->url.connect_timeout_ms) db->opt.connect_timeout_ms = db->url.connect_timeout_ms;
    if (db->opt.connect_timeout_ms <= 0) db->opt.connect_timeout_ms = 5000;
    if (db->opt.query_timeout_ms < 0) db->opt.query_timeout_ms = 0;
    if (db->opt.statement_cache == 0) db->opt.statement_cache = 64;
    db->fork_gen = fork_generation;
    return db;
}

static void conn_close(vial_db_conn *c, bool inherited) {
    vial_db *db = c->db;
    c->broken = true; /* going away: prepared statements die with the session, no DEALLOCATE each */
    if (c->handle) {
        if (inherited) {
            /* Only forget our bookkeeping: the parent still owns the server side. */
            for (int i = 0; i < c->nstmts; i++) free(c->stmts[i].sql);
            free(c->stmts);
            c->stmts = NULL;
            c->nstmts = 0;
        } else {
            vial_db_stmt_clear(c);
        }
        db->drv->disconnect(c, inherited);
        c->handle = NULL;
    }
    if (c->counted && !inherited) db->open--;
    free(c->stmts);
    free(c);
}

/* A child process after fork(): the connections it inherited are the parent's. */
static void forget_inherited(vial_db *db) {
    while (db->idle) {
        vial_db_conn *c = db->idle;
        db->idle = c->next;
        conn_close(c, true);
    }
    db->nidle = 0;
    db->open = 0;
    db->fork_gen = fork_generation;
}

void vial_db_close(vial_db *db) {
    if (!db) return;
    if (db->fork_gen != fork_generation) forget_inherited(db);
    vial_db_lane_close(db);
    while (db->idle) {
        vial_db_conn *c = db->idle;
        db->idle = c->next;
        conn_close(c, false);
    }
    vial_db_url_free(&db->url);
    free(db);
}

int vial_db_backend(const vial_db *db) { return db ? db->url.backend : 0; }
const char *vial_db_display_url(const vial_db *db) { return db ? db->url.display : ""; }

void vial_db_get_stats(const vial_db *db, vial_db_stats *st) {
    *st = db->st;
    st->open = db->open;
    st->idle = db->nidle;
}

/* ---- the pool ---- */

static vial_db_conn *conn_new(vial_db *db) {
    vial_db_conn *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->db = db;
    c->fork_gen = fork_generation;
    return c;
}

static void conn_fresh_state(vial_db_conn *c) {
    c->code = VIAL_DB_OK;
    c->msg[0] = '\0';
    c->sqlstate[0] = '\0';
    c->changes = 0;
    c->depth = 0;
    c->next = NULL;
}

static vial_db_conn *dead_conn(vial_db *db, int code, const char *msg) {
    vial_db_conn *c = conn_new(db);
    if (!c) return NULL;
    c->dead = true;
    c->code = code;
    snprintf(c->msg, sizeof c->msg, "%s", msg);
    return c;
}

/* Opens c's connection; on failure c holds the reason. */
static int conn_open(vial_db_conn *c) {
    c->broken = false;
    c->depth = 0;
    c->fork_gen = fork_generation;
    int rc = c->db->drv->connect(c);
    if (rc == 0) c->db->st.connects++;
    return rc;
}

/* A request parked until a connection is handed to it (or a slot frees up). */
typedef struct db_pool_waiter {
    void *parked;          /* vial_park slot: the releaser wakes it with vial_unpark */
    vial_db_conn *handed;  /* the connection given to this waiter, or NULL */
    bool woken;            /* removed from the queue by a releaser */
    struct db_pool_waiter *next;
} db_pool_waiter;

static void waiter_remove(vial_db *db, db_pool_waiter *w) {
    db_pool_waiter **p = &db->wait_head, *prev = NULL;
    while (*p && *p != w) {
        prev = *p;
        p = &(*p)->next;
    }
    if (!*p) return;
    *p = w->next;
    if (db->wait_tail == w) db->wait_tail = prev;
}

/* Wakes the oldest waiter, handing it c (or, with c NULL, telling it a slot is free); false when nobody waits. */
static bool wake_waiter(vial_db *db, vial_db_conn *c) {
    db_pool_waiter *w = db->wait_head;
    if (!w) return false;
    db->wait_head = w->next;
    if (!db->wait_head) db->wait_tail = NULL;
    w->handed = c;
    w->woken = true;
    vial_unpark(&w->parked);
    return true;
}

/* Queues the calling request (on a coroutine) and parks it until woken or deadline. */
static void pool_wait(vial_db *db, int64_t deadline, vial_db_conn **handed) {
    db_pool_waiter w = {0};
    if (db->wait_tail)
        db->wait_tail->next = &w;
    else
        db->wait_head = &w;
    db->wait_tail = &w;
    while (!w.woken) {
        int64_t left = deadline - vial_db_now_ms();
        if (left <= 0) break;
        if (vial_park(&w.parked, (int)(left > INT32_MAX ? INT32_MAX : left)) < 0) break;
    }
    if (!w.woken) waiter_remove(db, &w);
    *handed = w.handed;
}

vial_db_conn *vial_db_acquire(vial_db *db) {
    if (!db) return NULL;
    pthread_once(&fork_once, fork_watch);
    if (db->fork_gen != fork_generation) forget_inherited(db);
    int64_t deadline = 0;
    for (;;) {
        while (db->idle) {
            vial_db_conn *c = db->idle;
            db->idle = c->next;
            db->nidle--;
            if (db->drv->healthy(c)) {
                conn_fresh_state(c);
                db->st.reuses++;
                return c;
            }
            /* The server closed it while it sat in the pool (restart, idle timeout,
             * pg_terminate_backend): open a fresh one in its place. */
            vial_log(VIAL_LOG_WARNING, "database connection to %s was closed by the server; reconnecting",
                     db->url.display);
            c->broken = true;
            vial_db_stmt_clear(c);
            db->drv->disconnect(c, false);
            c->handle = NULL;
            conn_fresh_state(c);
            db->st.replaced++;
            if (conn_open(c) == 0) return c;
            db->open--;
            c->counted = false;
            c->dead = true;
            wake_waiter(db, NULL);
            vial_log(VIAL_LOG_ERROR, "database unavailable: %s", c->msg);
            return c;
        }
        if (db->open < db->opt.pool_size) {
            vial_db_conn *c = conn_new(db);
            if (!c) return NULL;
            c->counted = true;
            db->open++;
            if (conn_open(c) == 0) return c;
            db->open--;
            c->counted = false;
            c->dead = true;
            wake_waiter(db, NULL);
            if (c->code == VIAL_DB_UNAVAILABLE || c->code == VIAL_DB_BUSY || c->code == VIAL_DB_TIMEOUT)
                vial_log(VIAL_LOG_ERROR, "database unavailable: %s", c->msg);
            return c;
        }
        /* Every connection is checked out. Another request on this worker will
         * release one; outside the event loop nobody can, so waiting is useless. */
        char msg[256];
        if (!vial_in_coroutine()) {
            snprintf(msg, sizeof msg, "connection pool exhausted: all %d connections to %s are checked out",
                     db->opt.pool_size, db->url.display);
            vial_log(VIAL_LOG_ERROR, "database unavailable: %s", msg);
            return dead_conn(db, VIAL_DB_UNAVAILABLE, msg);
        }
        int64_t now = vial_db_now_ms();
        if (!deadline) deadline = now + db->opt.pool_timeout_ms;
        if (now >= deadline) {
            snprintf(msg, sizeof msg, "timed out after %d ms waiting for a free connection to %s (pool size %d)",
                     db->opt.pool_timeout_ms, db->url.display, db->opt.pool_size);
            vial_log(VIAL_LOG_ERROR, "database unavailable: %s", msg);
            return dead_conn(db, VIAL_DB_UNAVAILABLE, msg);
        }
        vial_db_conn *handed = NULL;
        pool_wait(db, deadline, &handed);
        if (handed) {
            conn_fresh_state(handed);
            db->st.reuses++;
            return handed;
        }
    }
}

void vial_db_release(vial_db_conn *c) {
    if (!c) return;
    vial_db *db = c->db;
    if (c->dead) {
        free(c);
        return;
    }
    if (c->fork_gen != fork_generation || db->fork_gen != fork_generation) {
        conn_close(c, true);
        return;
    }
    if (!c->broken && vial_db_rollback_all(c) < 0) c->broken = true;
    if (c->broken || db->nidle >= db->opt.pool_size) {
        conn_close(c, false);
        wake_waiter(db, NULL); /* its slot is free: the oldest waiter may open a new connection */
        return;
    }
    if (wake_waiter(db, c)) return;
    c->next = db->idle;
    db->idle = c;
    db->nidle++;
}

/* ---- running statements ---- */

static int check_args(vial_db_conn *c, const vial_db_args *args) {
    for (size_t i = 0; i < args->len; i++) {
        const vial_value *v = &args->items[i];
        if (v->type == VIAL_NULL && v->tag == VIAL_BIND_BAD_POINTER)
            return vial_db_fail(c, VIAL_DB_INVALID,
                                "value %zu: a void pointer cannot be bound (use VIAL_BLOB(ptr, len) for bytes)", i + 1);
        if (v->type == VIAL_ARRAY || v->type == VIAL_OBJECT)
            return vial_db_fail(c, VIAL_DB_INVALID, "value %zu: an %s cannot be bound to a placeholder", i + 1,
                                v->type == VIAL_ARRAY ? "array" : "object");
        if (v->type > VIAL_OBJECT) return vial_db_fail(c, VIAL_DB_INVALID, "value %zu: not a valid value", i + 1);
    }
    return 0;
}

/* Runs one statement, replacing a broken connection and retrying once when safe. */
static int run(vial_db_conn *c, vial_arena *a, const char *sql, const vial_db_args *args, vial_value *rows,
               size_t max_rows) {
    if (!c) return VIAL_DB_INVALID;
    if (c->dead) return c->code;
    vial_db_set_code(c, VIAL_DB_OK);
    if (!sql) return vial_db_fail(c, VIAL_DB_INVALID, "no SQL statement given");
    static const vial_db_args none = {NULL, 0};
    if (!args) args = &none;
    if (args->len && !args->items) return vial_db_fail(c, VIAL_DB_INVALID, "values missing");
    if (check_args(c, args) != 0) return c->code;
    if (c->broken) return vial_db_fail(c, VIAL_DB_UNAVAILABLE, "the connection to %s was lost", c->db->url.display);
    const db_driver *drv = c->db->drv;
    bool was_idle = c->depth == 0 && drv->tx_status(c) == DB_TX_IDLE;
    size_t rows_before = rows ? rows->as.arr.len : 0;
    c->sent = false;
    int rc = drv->run(c, a, sql, args, rows, max_rows);
    if (rc == VIAL_DB_UNAVAILABLE && !c->lane && c->broken && was_idle && (!c->sent || vial_db_sql_readonly(sql))) {
        vial_log(VIAL_LOG_WARNING, "database connection to %s lost (%s); reconnecting and retrying once",
                 c->db->url.display, c->msg);
        c->broken = true;
        vial_db_stmt_clear(c);
        drv->disconnect(c, false);
        c->handle = NULL;
        c->db->st.replaced++;
        if (conn_open(c) != 0) {
            c->broken = true;
            vial_log(VIAL_LOG_ERROR, "database unavailable: %s", c->msg);
            return c->code;
        }
        if (rows) rows->as.arr.len = rows_before;
        vial_db_set_code(c, VIAL_DB_OK);
        c->sent = false;
        rc = drv->run(c, a, sql, args, rows, max_rows);
    }
    return rc;
}

int vial_db_fail_values(vial_db_conn *c, int nparams, size_t given) {
    return vial_db_fail(c, VIAL_DB_INVALID, "the statement has %d placeholder%s but %zu value%s given", nparams,
                        nparams == 1 ? "" : "s", given, given == 1 ? " was" : "s were");
}

void vial_db_name_run(vial_db_conn *c, size_t i) {
    char prefix[32];
    int plen = snprintf(prefix, sizeof prefix, "run %zu: ", i + 1);
    size_t mlen = strlen(c->msg);
    if ((size_t)plen + mlen >= sizeof c->msg) mlen = sizeof c->msg - 1 - (size_t)plen;
    memmove(c->msg + plen, c->msg, mlen);
    memcpy(c->msg, prefix, (size_t)plen);
    c->msg[plen + mlen] = '\0';
}

/* The empty array a result is collected in, or NULL with the reason on c. */
static vial_value *result_array(vial_db_conn *c, vial_arena *a) {
    if (!a) {
        vial_db_fail(c, VIAL_DB_INVALID, "no arena given for the result");
        return NULL;
    }
    vial_value *array = vial_new_array(a);
    if (!array) vial_db_fail(c, VIAL_DB_NOMEM, "out of memory");
    return array;
}

vial_value *vial_db_query_args(vial_db_conn *c, vial_arena *a, const char *sql, vial_db_args args) {
    if (!c) return NULL;
    vial_value *rows = result_array(c, a);
    if (!rows) return NULL;
    return run(c, a, sql, &args, rows, 0) == 0 ? rows : NULL;
}

vial_value *vial_db_one_args(vial_db_conn *c, vial_arena *a, const char *sql, vial_db_args args) {
    if (!c) return NULL;
    if (!a) {
        vial_db_fail(c, VIAL_DB_INVALID, "no arena given for the result");
        return NULL;
    }
    vial_value *rows = vial_new_array(a);
    if (!rows) {
        vial_db_fail(c, VIAL_DB_NOMEM, "out of memory");
        return NULL;
    }
    if (run(c, a, sql, &args, rows, 1) != 0) return NULL;
    if (rows->as.arr.len == 0) {
        vial_db_set_code(c, VIAL_DB_NOT_FOUND);
        return NULL;
    }
    return rows->as.arr.items[0];
}

vial_value *vial_db_scalar_args(vial_db_conn *c, vial_arena *a, const char *sql, vial_db_args args) {
    vial_value *row = vial_db_one_args(c, a, sql, args);
    if (!row) return NULL;
    if (row->as.obj.len == 0) {
        vial_db_fail(c, VIAL_DB_INVALID, "the statement returned no columns");
        return NULL;
    }
    return row->as.obj.items[0].value;
}

int64_t vial_db_exec_args(vial_db_conn *c, const char *sql, vial_db_args args) {
    if (!c) return -1;
    if (run(c, NULL, sql, &args, NULL, 0) != 0) return -1;
    return c->changes;
}

static int control(vial_db_conn *c, const char *sql);

/* run_many without a driver pipeline: one run after the other, the failing run named in the message. */
static int run_each(vial_db_conn *c, vial_arena *a, const char *sql, const vial_db_args *sets, size_t n,
                    vial_value *results, int64_t *changes) {
    for (size_t i = 0; i < n; i++) {
        vial_value *rows = NULL;
        if (results) {
            rows = vial_new_array(a);
            if (!rows || vial_array_push(results, rows) != 0) return vial_db_fail(c, VIAL_DB_NOMEM, "out of memory");
        }
        int rc = run(c, a, sql, &sets[i], rows, 0);
        if (rc != 0) {
            vial_db_name_run(c, i);
            return rc;
        }
        *changes += c->changes;
    }
    c->changes = *changes;
    return 0;
}

/* Runs sql once per set of values: the driver's pipeline when it has one, else one run after the other.
 * snapshot: a batch of reads may run as one transaction (query_many), else every run is its own
 * statement exactly as n calls would be (query_each, and every batch of writes). */
static int run_many(vial_db_conn *c, vial_arena *a, const char *sql, const vial_db_args *sets, size_t n,
                    vial_value *results, int64_t *changes, bool snapshot) {
    *changes = 0;
    if (c->dead) return c->code;
    vial_db_set_code(c, VIAL_DB_OK);
    if (!sql) return vial_db_fail(c, VIAL_DB_INVALID, "no SQL statement given");
    if (n && !sets) return vial_db_fail(c, VIAL_DB_INVALID, "values missing");
    for (size_t i = 0; i < n; i++) {
        if (sets[i].len && !sets[i].items) return vial_db_fail(c, VIAL_DB_INVALID, "run %zu: values missing", i + 1);
        if (check_args(c, &sets[i]) != 0) return c->code;
    }
    if (n == 0) return 0;
    if (c->broken) return vial_db_fail(c, VIAL_DB_UNAVAILABLE, "the connection to %s was lost", c->db->url.display);
    /* Every run's values are counted against the placeholders before the first run starts. */
    vial_buf scratch;
    vial_buf_init(&scratch, NULL, DB_SQL_MAX);
    int nparams = 0;
    char err[160];
    int trc = vial_db_sql_translate(sql, &scratch, &nparams, err, sizeof err);
    vial_buf_free(&scratch);
    if (trc != 0) return vial_db_fail(c, VIAL_DB_INVALID, "%s", err);
    for (size_t i = 0; i < n; i++)
        if (sets[i].len != (size_t)nparams) {
            vial_db_fail_values(c, nparams, sets[i].len);
            vial_db_name_run(c, i);
            return c->code;
        }
    const db_driver *drv = c->db->drv;
    const bool one_tx = snapshot && n > 1 && vial_db_sql_readonly(sql);
    if (drv->run_many) {
        bool was_idle = c->depth == 0 && drv->tx_status(c) == DB_TX_IDLE;
        c->sent = false;
        int rc = drv->run_many(c, a, sql, sets, n, results, changes, one_tx);
        if (rc == VIAL_DB_UNAVAILABLE && !c->lane && c->broken && was_idle && (!c->sent || vial_db_sql_readonly(sql))) {
            /* As run(): a lost connection is replaced and the batch retried once when that cannot run it twice. */
            vial_log(VIAL_LOG_WARNING, "database connection to %s lost (%s); reconnecting and retrying once",
                     c->db->url.display, c->msg);
            vial_db_stmt_clear(c);
            drv->disconnect(c, false);
            c->handle = NULL;
            c->db->st.replaced++;
            if (conn_open(c) != 0) {
                c->broken = true;
                vial_log(VIAL_LOG_ERROR, "database unavailable: %s", c->msg);
                return c->code;
            }
            if (results) results->as.arr.len = 0;
            vial_db_set_code(c, VIAL_DB_OK);
            c->sent = false;
            rc = drv->run_many(c, a, sql, sets, n, results, changes, one_tx);
        }
        return rc;
    }
    /* Reads on SQLite outside a transaction: one snapshot for the whole batch
     * (each run sees the same data) and one read transaction instead of n. */
    const bool read_tx = one_tx && c->depth == 0 && c->db->url.backend == VIAL_DB_SQLITE &&
                         drv->tx_status(c) == DB_TX_IDLE;
    if (read_tx && control(c, "BEGIN") != 0) return c->code;
    int rc = run_each(c, a, sql, sets, n, results, changes);
    if (read_tx) {
        if (rc == 0) {
            if (control(c, "COMMIT") != 0) rc = c->code;
        } else {
            /* Keep the run's error, not the rollback's. */
            if (drv->tx_status(c) != DB_TX_IDLE) drv->script(c, "ROLLBACK");
        }
    }
    return rc;
}

vial_value *vial_db_query_many(vial_db_conn *c, vial_arena *a, const char *sql, const vial_db_args *sets, size_t n) {
    if (!c) return NULL;
    vial_value *results = result_array(c, a);
    if (!results) return NULL;
    int64_t changes;
    return run_many(c, a, sql, sets, n, results, &changes, true) == 0 ? results : NULL;
}

vial_value *vial_db_query_each(vial_db_conn *c, vial_arena *a, const char *sql, const vial_db_args *sets, size_t n) {
    if (!c) return NULL;
    vial_value *results = result_array(c, a);
    if (!results) return NULL;
    int64_t changes;
    return run_many(c, a, sql, sets, n, results, &changes, false) == 0 ? results : NULL;
}

int64_t vial_db_exec_many(vial_db_conn *c, const char *sql, const vial_db_args *sets, size_t n) {
    if (!c) return -1;
    int64_t changes;
    if (run_many(c, NULL, sql, sets, n, NULL, &changes, false) != 0) return -1;
    return changes;
}

int vial_db_script(vial_db_conn *c, const char *sql) {
    if (!c) return -1;
    if (c->dead) return -1;
    vial_db_set_code(c, VIAL_DB_OK);
    if (!sql) return vial_db_fail(c, VIAL_DB_INVALID, "no SQL given"), -1;
    if (c->broken) return vial_db_fail(c, VIAL_DB_UNAVAILABLE, "the connection to %s was lost", c->db->url.display), -1;
    return c->db->drv->script(c, sql) == 0 ? 0 : -1;
}

int64_t vial_db_changes(const vial_db_conn *c) { return c ? c->changes : 0; }

int64_t vial_db_last_insert_id(vial_db_conn *c) {
    if (!c || c->dead) return -1;
    return c->db->drv->last_insert_id(c);
}

/* ---- transactions ---- */

static int control(vial_db_conn *c, const char *sql) {
    if (c->broken) return vial_db_fail(c, VIAL_DB_UNAVAILABLE, "the connection to %s was lost", c->db->url.display);
    return c->db->drv->script(c, sql);
}

int vial_db_begin(vial_db_conn *c) {
    if (!c || c->dead) return -1;
    vial_db_set_code(c, VIAL_DB_OK);
    char sql[64];
    if (c->depth == 0) {
        if (c->db->drv->tx_status(c) != DB_TX_IDLE)
            return vial_db_fail(c, VIAL_DB_INVALID, "a transaction opened with plain SQL is still open"), -1;
        snprintf(sql, sizeof sql, "%s", c->db->url.backend == VIAL_DB_SQLITE ? "BEGIN IMMEDIATE" : "BEGIN");
    } else {
        snprintf(sql, sizeof sql, "SAVEPOINT vial_sp_%d", c->depth);
    }
    if (control(c, sql) != 0) return -1;
    c->depth++;
    return 0;
}

int vial_db_commit(vial_db_conn *c) {
    if (!c || c->dead) return -1;
    vial_db_set_code(c, VIAL_DB_OK);
    if (c->depth == 0) return vial_db_fail(c, VIAL_DB_INVALID, "commit without a transaction (call vial_db_begin first)"), -1;
    const db_driver *drv = c->db->drv;
    char sql[96];
    if (c->depth == 1) {
        if (drv->tx_status(c) == DB_TX_FAILED) {
            control(c, "ROLLBACK");
            c->depth = 0;
            return vial_db_fail(c, VIAL_DB_ERROR, "the transaction was aborted by an earlier error and has been rolled back"), -1;
        }
        if (control(c, "COMMIT") != 0) {
            if (drv->tx_status(c) == DB_TX_IDLE || c->broken) c->depth = 0;
            return -1;
        }
        c->depth = 0;
        return 0;
    }
    int sp = c->depth - 1;
    if (drv->tx_status(c) == DB_TX_FAILED) {
        snprintf(sql, sizeof sql, "ROLLBACK TO SAVEPOINT vial_sp_%d; RELEASE SAVEPOINT vial_sp_%d", sp, sp);
        int rc = control(c, sql);
        c->depth--;
        if (rc != 0) return -1;
        return vial_db_fail(c, VIAL_DB_ERROR, "a statement inside the savepoint failed; it has been rolled back"), -1;
    }
    snprintf(sql, sizeof sql, "RELEASE SAVEPOINT vial_sp_%d", sp);
    if (control(c, sql) != 0) return -1;
    c->depth--;
    return 0;
}

int vial_db_rollback(vial_db_conn *c) {
    if (!c || c->dead) return -1;
    vial_db_set_code(c, VIAL_DB_OK);
    if (c->depth == 0) {
        if (!c->broken && c->db->drv->tx_status(c) != DB_TX_IDLE) return control(c, "ROLLBACK") == 0 ? 0 : -1;
        return 0;
    }
    if (c->depth == 1) {
        c->depth = 0;
        return control(c, "ROLLBACK") == 0 ? 0 : -1;
    }
    char sql[96];
    int sp = c->depth - 1;
    snprintf(sql, sizeof sql, "ROLLBACK TO SAVEPOINT vial_sp_%d; RELEASE SAVEPOINT vial_sp_%d", sp, sp);
    c->depth--;
    return control(c, sql) == 0 ? 0 : -1;
}

int vial_db_depth(const vial_db_conn *c) { return c ? c->depth : 0; }

int vial_db_rollback_all(vial_db_conn *c) {
    if (!c || c->dead) return 0;
    int levels = c->depth;
    if (c->broken) {
        c->depth = 0;
        return levels ? -1 : 0;
    }
    if (levels == 0 && c->db->drv->tx_status(c) == DB_TX_IDLE) return 0;
    c->depth = 0;
    if (control(c, "ROLLBACK") != 0) return -1;
    return levels ? levels : 1;
}
