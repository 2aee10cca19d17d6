/* db_app.c - the app's database, as Flask-SQLAlchemy's db.session inside a request.
 *
 * An app has one database, DATABASE_URL, opened once per process: by a worker
 * hook in every worker after fork, or on first use in the CLI and the test
 * client. A request checks a connection out of that process's pool on its
 * first database call and the db extension's teardown gives it back, rolling
 * back whatever the request left open. Statements commit on their own unless
 * the view opened a transaction (vial_begin), so "commit explicitly" only
 * concerns views that asked for a transaction.
 *
 * Failures end the request as Flask-SQLAlchemy's exceptions end a Flask view:
 * a database that cannot be reached (or a pool with no free connection, a
 * lock or a query that timed out) is 503, anything else 500, each with one log
 * line naming the request and the reason. A view that expects a failure says
 * so for its next call with vial_db_catch (try/except IntegrityError) and gets
 * -1 / NULL and the code instead. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app/app.h"
#include "db/db.h"

#define DB_EXTENSION_SLOT 2 /* app->extensions[]: session, templates, db (app.h) */

typedef struct db_app {
    bool registered;               /* extension, worker hook and db command are on the app */
    const vial_model *const *models;
    vial_db *db;                   /* this process's database, NULL until opened */
    uint64_t generation;           /* process generation that opened db */
    uint64_t config_version;       /* config the URL was read from */
    char *url;                     /* DATABASE_URL as opened (relative SQLite paths made absolute) */
    char *mkdir_path;              /* folder to create before the first connection (NULL: none) */
    int pool_size, pool_timeout_ms; /* the options db was opened with */
    bool shared_pipeline;
    int checked_out;               /* connections held by requests of this process */
    bool open_failed_logged;
} db_app;

typedef struct db_req {
    vial_db_conn *conn;  /* the pooled connection the request holds, NULL until it needs one */
    vial_db_conn *lane;  /* its handle on the worker's shared connection (pg_lane.c), NULL until used */
    int catch_code;  /* a VIAL_DB_* error the next call returns instead of aborting */
    int last_code;   /* code of the last request-level call */
    const char *last_msg;
} db_req;

/* ---- processes ---- */

static uint64_t process_generation = 1;
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;
static void on_fork_child(void) { process_generation++; }
static void fork_watch(void) { pthread_atfork(NULL, NULL, on_fork_child); }

/* ---- the app's state ---- */

static int worker_start(vial_app *app, int worker_index, void *data);
static void worker_stop(vial_app *app, int worker_index, void *data);
static void ext_teardown(vial_req *rq, int status, void *data);

/* vial_app_free: the pool goes with the app (its connections, its memory). */
static void app_state_free(void *data) {
    db_app *st = data;
    if (st->db) vial_db_close(st->db);
    st->db = NULL;
    free(st->url);
    st->url = NULL;
}

static db_app *app_state(vial_app *app) {
    db_app *st = app->extensions[DB_EXTENSION_SLOT];
    if (st && st->registered) return st;
    if (!st) {
        st = vial_arena_calloc(app->arena, sizeof *st);
        if (!st) return NULL;
        if (vial_arena_defer(app->arena, app_state_free, st) != 0) return NULL;
        app->extensions[DB_EXTENSION_SLOT] = st;
    }
    pthread_once(&fork_once, fork_watch);
    app_extension ext = {.teardown = ext_teardown, .data = st};
    if (app_add_extension(app, &ext) != 0) {
        vial_log(VIAL_LOG_ERROR, "database: the app has no room for another extension");
        return NULL;
    }
    app_worker_hook hook = {.start = worker_start, .stop = worker_stop, .data = st};
    if (app_add_worker_hook(app, &hook) != 0) vial_log(VIAL_LOG_WARNING, "database: no room for a worker hook; pools open on first use");
    app->db_command = vial_db_app_cli;
    st->registered = true;
    return st;
}

const vial_model *const *vial_db_app_models(vial_app *app) {
    db_app *st = app_state(app);
    return st ? st->models : NULL;
}

int vial_db_models(vial_app *app, const vial_model *const *models) {
    if (!app) return -1;
    db_app *st = app_state(app);
    if (!st) return -1;
    st->models = models;
    return 0;
}

/* Appends s with the characters a database URL would read as syntax percent-encoded. */
static int append_url_path(vial_buf *b, const char *s) {
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '%' || ch == '?' || ch == '#') {
            if (vial_buf_printf(b, "%%%02X", ch) != 0) return -1;
        } else if (vial_buf_putc(b, ch) != 0) {
            return -1;
        }
    }
    return 0;
}

/* DATABASE_URL with a relative SQLite path anchored at the app root (Flask's instance folder
 * is the app's, not the working directory's). *mkdir_dir: the folder to create on first use. */
static char *resolve_url(vial_app *app, const char *url, char **mkdir_dir) {
    *mkdir_dir = NULL;
    while (*url == ' ' || *url == '\t') url++;
    vial_buf b;
    vial_buf_init(&b, NULL, 1 << 16);
    bool sqlite_relative = strncasecmp(url, "sqlite:///", 10) == 0 && url[10] && url[10] != '/' &&
                           strncmp(url + 10, ":memory:", 8) != 0 && url[10] != '?';
    if (!sqlite_relative || !app->root_path || !app->root_path[0]) {
        vial_buf_free(&b);
        return strdup(url);
    }
    const char *root = app->root_path;
    size_t root_len = strlen(root);
    while (root_len > 1 && root[root_len - 1] == '/') root_len--;
    char *root_copy = strndup(root, root_len);
    if (!root_copy) goto fail;
    int rc = vial_buf_puts(&b, "sqlite:///");
    if (rc == 0 && root_copy[0] != '/') rc = vial_buf_putc(&b, '/');
    rc |= append_url_path(&b, root_copy);
    rc |= vial_buf_putc(&b, '/');
    rc |= vial_buf_puts(&b, url + 10);
    if (rc == 0) {
        /* The folder above the file (as it is written, before percent-decoding: the
         * driver decodes the URL; folders with % in their names are rare enough to
         * be created by hand). */
        const char *rel = url + 10;
        const char *q = strchr(rel, '?');
        size_t rel_len = q ? (size_t)(q - rel) : strlen(rel);
        const char *slash = memrchr(rel, '/', rel_len);
        if (slash && !memchr(rel, '%', rel_len))
            *mkdir_dir = vial_arena_sprintf(app->arena, "%s/%.*s", root_copy, (int)(slash - rel), rel);
    }
    free(root_copy);
    if (rc != 0) goto fail;
    char *out = strdup(vial_buf_cstr(&b));
    vial_buf_free(&b);
    return out;
fail:
    vial_buf_free(&b);
    return NULL;
}

/* mkdir -p */
static int make_dirs(const char *path) {
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf) return -1;
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char saved = buf[i];
            buf[i] = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -1;
            buf[i] = saved;
        }
    }
    return 0;
}

static int config_int_range(vial_app *app, const char *key, int fallback, int lo, int hi) {
    int64_t v = vial_config_int(app, key, fallback);
    if (v < lo || v > hi) {
        vial_log(VIAL_LOG_WARNING, "database: %s=%lld is out of range (%d..%d); using %d", key, (long long)v, lo, hi,
                 fallback);
        return fallback;
    }
    return (int)v;
}

/* Opens (or re-opens after a fork or a DATABASE_URL change) this process's database. */
static vial_db *ensure_open(vial_app *app, db_app *st) {
    if (st->db && st->generation == process_generation && st->config_version == app->config_version) return st->db;
    const char *configured = vial_config_str(app, "DATABASE_URL");
    if (!configured || !*configured) configured = "sqlite:///instance/app.db";
    char *mkdir_dir = NULL;
    char *url = resolve_url(app, configured, &mkdir_dir);
    if (!url) {
        vial_log(VIAL_LOG_ERROR, "database: out of memory");
        return NULL;
    }
    int pool_size = config_int_range(app, "DATABASE_POOL_SIZE", 10, 1, 10000);
    int pool_timeout_ms = config_int_range(app, "DATABASE_POOL_TIMEOUT", 30, 1, 86400) * 1000;
    bool shared_pipeline = vial_config_bool(app, "DATABASE_SHARED_PIPELINE", true);
    if (st->db && st->generation == process_generation && st->url && strcmp(st->url, url) == 0 &&
        st->pool_size == pool_size && st->pool_timeout_ms == pool_timeout_ms && st->shared_pipeline == shared_pipeline) {
        st->config_version = app->config_version;
        free(url);
        return st->db;
    }
    if (st->db) {
        if (st->generation == process_generation && st->checked_out > 0) {
            /* Requests of this process still hold connections of the old database; switch later. */
            free(url);
            return st->db;
        }
        vial_db_close(st->db); /* after a fork, the pool leaves the parent's connections alone */
        st->db = NULL;
    }
    free(st->url);
    st->url = url;
    st->mkdir_path = mkdir_dir;
    st->checked_out = 0;
    st->pool_size = pool_size;
    st->pool_timeout_ms = pool_timeout_ms;
    st->shared_pipeline = shared_pipeline;
    vial_db_options opts = {.pool_size = pool_size, .pool_timeout_ms = pool_timeout_ms,
                            .shared_pipeline = shared_pipeline ? 0 : -1};
    char err[512];
    st->db = vial_db_open(url, &opts, err, sizeof err);
    st->generation = process_generation;
    st->config_version = app->config_version;
    if (!st->db) {
        if (!st->open_failed_logged) vial_log(VIAL_LOG_ERROR, "database: DATABASE_URL cannot be used: %s", err);
        st->open_failed_logged = true;
        return NULL;
    }
    st->open_failed_logged = false;
    return st->db;
}

vial_db *vial_app_db(vial_app *app) {
    if (!app) return NULL;
    db_app *st = app_state(app);
    if (!st) return NULL;
    vial_db *db = ensure_open(app, st);
    if (db && st->mkdir_path) {
        if (make_dirs(st->mkdir_path) != 0)
            vial_log(VIAL_LOG_WARNING, "database: cannot create %s: %s", st->mkdir_path, strerror(errno));
        st->mkdir_path = NULL;
    }
    return db;
}

static int worker_start(vial_app *app, int worker_index, void *data) {
    (void)worker_index;
    /* Parses the URL now, so a bad one is logged at startup; nothing connects yet.
     * A bad URL does not stop the worker: its requests answer 500 and say why. */
    ensure_open(app, data);
    return 0;
}

static void worker_stop(vial_app *app, int worker_index, void *data) {
    (void)app;
    (void)worker_index;
    db_app *st = data;
    if (st->db && st->generation == process_generation && st->checked_out == 0) {
        vial_db_close(st->db);
        st->db = NULL;
    }
}

/* ---- the request's connection ---- */

static void ext_teardown(vial_req *rq, int status, void *data) {
    db_req *r = rq->db;
    if (!r || !r->conn) return;
    db_app *st = data;
    int depth = vial_db_depth(r->conn);
    if (depth > 0 && status < 400)
        vial_log(VIAL_LOG_WARNING, "%s %s: the view left a transaction open; rolled back (vial_commit saves it)",
                 vial_method(rq), vial_path(rq));
    vial_db_release(r->conn);
    r->conn = NULL;
    if (st->checked_out > 0) st->checked_out--;
}

static db_req *req_state(vial_req *rq) {
    db_req *r = rq->db;
    if (r) return r;
    r = vial_arena_calloc(rq->arena, sizeof *r);
    if (!r) vial_abort(rq, 500);
    r->last_msg = "";
    rq->db = r;
    return r;
}

static bool is_unavailable(int code) {
    return code == VIAL_DB_UNAVAILABLE || code == VIAL_DB_BUSY || code == VIAL_DB_TIMEOUT;
}

/* Ends the request for a database failure: 503 when the database cannot serve, else 500. */
VIAL_NORETURN static void fail_request(vial_req *rq, int code, const char *msg) {
    int status = is_unavailable(code) ? 503 : 500;
    vial_log(VIAL_LOG_ERROR, "%s %s: %d: database %s: %s", vial_method(rq), vial_path(rq), status,
             vial_db_code_name(code), msg);
    if (app_settings_get(rq->app)->debug)
        vial_abort_msg(rq, status, "database %s: %s", vial_db_code_name(code), msg);
    vial_abort(rq, status);
}

vial_db_conn *vial_req_db(vial_req *rq) {
    db_req *r = req_state(rq);
    if (r->conn) return r->conn;
    db_app *st = app_state(rq->app);
    if (!st) vial_abort(rq, 500);
    vial_db *db = vial_app_db(rq->app);
    if (!db) fail_request(rq, VIAL_DB_INVALID, "DATABASE_URL cannot be used (see the log line above)");
    vial_db_conn *c = vial_db_acquire(db);
    if (!c) fail_request(rq, VIAL_DB_NOMEM, "out of memory");
    r->conn = c;
    st->checked_out++;
    int code = vial_db_errcode(c);
    if (code < 0) {
        r->last_code = code;
        r->last_msg = vial_arena_strdup(rq->arena, vial_db_errmsg(c));
        fail_request(rq, code, r->last_msg ? r->last_msg : "");
    }
    return c;
}

/* Where a statement of the request runs: on the connection it holds; else, for
 * a statement that leaves nothing behind in the session, on the worker's
 * shared pipelined connection when there is one to share; else on a pooled
 * connection it now holds until the request ends. */
static vial_db_conn *conn_for(vial_req *rq, const char *sql) {
    db_req *r = req_state(rq);
    if (r->conn) return r->conn;
    vial_db *db = vial_app_db(rq->app);
    if (db && vial_db_lane_usable(db, sql)) {
        if (!r->lane) {
            vial_db_conn *h = vial_arena_alloc(rq->arena, sizeof *h);
            if (h && vial_db_lane_handle(db, h)) r->lane = h;
        }
        if (r->lane) return r->lane;
    }
    return vial_req_db(rq);
}

void vial_db_catch(vial_req *rq, int code) { req_state(rq)->catch_code = code < 0 ? code : 0; }

int vial_db_error(vial_req *rq) {
    db_req *r = rq->db;
    return r ? r->last_code : VIAL_DB_OK;
}

const char *vial_db_error_msg(vial_req *rq) {
    db_req *r = rq->db;
    return r && r->last_msg ? r->last_msg : "";
}

/* After a request-level call: records its code; a failure either returns (caught) or ends the request. */
static bool settle(vial_req *rq, vial_db_conn *c) {
    db_req *r = rq->db;
    int code = vial_db_errcode(c);
    int caught = r->catch_code;
    r->catch_code = 0;
    r->last_code = code;
    if (code >= 0) {
        r->last_msg = code == VIAL_DB_OK ? "" : "no matching row";
        return true;
    }
    r->last_msg = vial_arena_strdup(rq->arena, vial_db_errmsg(c));
    if (!r->last_msg) r->last_msg = "";
    if (code == caught) return false;
    fail_request(rq, code, r->last_msg);
}

vial_value *vial_query_args(vial_req *rq, const char *sql, vial_db_args args) {
    vial_db_conn *c = conn_for(rq, sql);
    vial_value *rows = vial_db_query_args(c, rq->arena, sql, args);
    return settle(rq, c) ? rows : NULL;
}

vial_value *vial_query_one_args(vial_req *rq, const char *sql, vial_db_args args) {
    vial_db_conn *c = conn_for(rq, sql);
    vial_value *row = vial_db_one_args(c, rq->arena, sql, args);
    return settle(rq, c) ? row : NULL;
}

vial_value *vial_query_one_or_404_args(vial_req *rq, const char *sql, vial_db_args args) {
    vial_value *row = vial_query_one_args(rq, sql, args);
    if (!row && vial_db_error(rq) == VIAL_DB_NOT_FOUND) vial_abort(rq, 404);
    return row;
}

vial_value *vial_query_scalar_args(vial_req *rq, const char *sql, vial_db_args args) {
    vial_db_conn *c = conn_for(rq, sql);
    vial_value *v = vial_db_scalar_args(c, rq->arena, sql, args);
    return settle(rq, c) ? v : NULL;
}

int64_t vial_exec_args(vial_req *rq, const char *sql, vial_db_args args) {
    vial_db_conn *c = conn_for(rq, sql);
    int64_t n = vial_db_exec_args(c, sql, args);
    return settle(rq, c) ? n : -1;
}

vial_value *vial_query_many(vial_req *rq, const char *sql, const vial_db_args *sets, size_t n) {
    vial_db_conn *c = conn_for(rq, sql);
    vial_value *results = vial_db_query_many(c, rq->arena, sql, sets, n);
    return settle(rq, c) ? results : NULL;
}

vial_value *vial_query_each(vial_req *rq, const char *sql, const vial_db_args *sets, size_t n) {
    vial_db_conn *c = conn_for(rq, sql);
    vial_value *results = vial_db_query_each(c, rq->arena, sql, sets, n);
    return settle(rq, c) ? results : NULL;
}

int64_t vial_exec_many(vial_req *rq, const char *sql, const vial_db_args *sets, size_t n) {
    vial_db_conn *c = conn_for(rq, sql);
    int64_t changed = vial_db_exec_many(c, sql, sets, n);
    return settle(rq, c) ? changed : -1;
}

int64_t vial_last_insert_id(vial_req *rq) {
    vial_db_conn *c = vial_req_db(rq);
    int64_t id = vial_db_last_insert_id(c);
    return settle(rq, c) ? id : -1;
}

int vial_begin(vial_req *rq) {
    vial_db_conn *c = vial_req_db(rq);
    int rc = vial_db_begin(c);
    return settle(rq, c) ? rc : -1;
}

int vial_commit(vial_req *rq) {
    vial_db_conn *c = vial_req_db(rq);
    int rc = vial_db_commit(c);
    return settle(rq, c) ? rc : -1;
}

int vial_rollback(vial_req *rq) {
    vial_db_conn *c = vial_req_db(rq);
    int rc = vial_db_rollback(c);
    return settle(rq, c) ? rc : -1;
}

/* ---- models ---- */

vial_value *vial_get_v(vial_req *rq, const vial_model *m, vial_value key) {
    vial_db_conn *c = conn_for(rq, "SELECT"); /* the statement it generates */
    vial_value *row = vial_db_get_v(c, rq->arena, m, key);
    return settle(rq, c) ? row : NULL;
}

vial_value *vial_get_or_404_v(vial_req *rq, const vial_model *m, vial_value key) {
    vial_value *row = vial_get_v(rq, m, key);
    if (!row && vial_db_error(rq) == VIAL_DB_NOT_FOUND) vial_abort(rq, 404);
    return row;
}

int64_t vial_insert(vial_req *rq, const vial_model *m, const vial_value *row) {
    vial_db_conn *c = vial_req_db(rq);
    int64_t id = vial_db_insert(c, m, row);
    return settle(rq, c) ? id : -1;
}

int64_t vial_update_v(vial_req *rq, const vial_model *m, vial_value key, const vial_value *changes) {
    vial_db_conn *c = conn_for(rq, "UPDATE"); /* the statement it generates */
    int64_t n = vial_db_update_v(c, m, key, changes);
    return settle(rq, c) ? n : -1;
}

int64_t vial_delete_v(vial_req *rq, const vial_model *m, vial_value key) {
    vial_db_conn *c = conn_for(rq, "DELETE"); /* the statement it generates */
    int64_t n = vial_db_delete_v(c, m, key);
    return settle(rq, c) ? n : -1;
}

vial_value *vial_select_q(vial_req *rq, const vial_model *m, const vial_query *q) {
    vial_db_conn *c = conn_for(rq, "SELECT"); /* the statement it generates */
    vial_value *rows = vial_db_select_q(c, rq->arena, m, q);
    return settle(rq, c) ? rows : NULL;
}

vial_value *vial_first_q(vial_req *rq, const vial_model *m, const vial_query *q) {
    vial_db_conn *c = conn_for(rq, "SELECT"); /* the statement it generates */
    vial_value *row = vial_db_first_q(c, rq->arena, m, q);
    return settle(rq, c) ? row : NULL;
}

vial_value *vial_first_or_404_q(vial_req *rq, const vial_model *m, const vial_query *q) {
    vial_value *row = vial_first_q(rq, m, q);
    if (!row && vial_db_error(rq) == VIAL_DB_NOT_FOUND) vial_abort(rq, 404);
    return row;
}

int64_t vial_count_q(vial_req *rq, const vial_model *m, const vial_query *q) {
    vial_db_conn *c = conn_for(rq, "SELECT"); /* the statement it generates */
    int64_t n = vial_db_count_q(c, m, q);
    return settle(rq, c) ? n : -1;
}

/* Python's int() of a query argument: blanks around, an optional sign, digits. */
static bool parse_arg_int(const char *s, int64_t *out) {
    if (!s) return false;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '\f' || *s == '\v') s++;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || errno) return false;
    while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r' || *end == '\f' || *end == '\v') end++;
    if (*end) return false;
    *out = v;
    return true;
}

/* Flask-SQLAlchemy's page arguments: unset page/per_page come from ?page= / ?per_page=
 * (a value that is not an integer: 404 with error_out, else the default). */
static bool page_args(vial_req *rq, const vial_query *q, vial_query *out, bool error_out) {
    *out = *q;
    if (!out->page) {
        const char *text = vial_arg(rq, "page");
        int64_t v = 1;
        if (text && !parse_arg_int(text, &v)) {
            if (error_out) return false;
            v = 1;
        }
        out->page = v;
    }
    if (!out->per_page) {
        const char *text = vial_arg(rq, "per_page");
        int64_t v = 20;
        if (text && !parse_arg_int(text, &v)) {
            if (error_out) return false;
            v = 20;
        }
        out->per_page = v;
    }
    if (out->page == 0) out->page = error_out ? -1 : 1; /* "?page=0": below 1, not "unset" */
    if (out->per_page == 0) out->per_page = error_out ? -1 : 20;
    out->no_error_out = !error_out;
    return true;
}

vial_value *vial_paginate_q(vial_req *rq, const vial_model *m, const vial_query *q) {
    vial_db_conn *c = conn_for(rq, "SELECT"); /* the statement it generates */
    vial_query pq;
    bool error_out = !q->no_error_out;
    db_req *r = rq->db;
    if (!page_args(rq, q, &pq, error_out)) {
        r->catch_code = 0;
        r->last_code = VIAL_DB_NOT_FOUND;
        r->last_msg = "?page= or ?per_page= is not an integer";
        return NULL;
    }
    vial_value *p = vial_db_paginate_q(c, rq->arena, m, &pq);
    return settle(rq, c) ? p : NULL;
}

vial_value *vial_paginate_or_404_q(vial_req *rq, const vial_model *m, const vial_query *q) {
    vial_value *p = vial_paginate_q(rq, m, q);
    if (!p && vial_db_error(rq) == VIAL_DB_NOT_FOUND) vial_abort(rq, 404);
    return p;
}

int64_t vial_update_where_q(vial_req *rq, const vial_model *m, const vial_value *changes, const vial_query *q) {
    vial_db_conn *c = conn_for(rq, "UPDATE"); /* the statement it generates */
    int64_t n = vial_db_update_where_q(c, m, changes, q);
    return settle(rq, c) ? n : -1;
}

int64_t vial_delete_where_q(vial_req *rq, const vial_model *m, const vial_query *q) {
    vial_db_conn *c = conn_for(rq, "DELETE"); /* the statement it generates */
    int64_t n = vial_db_delete_where_q(c, m, q);
    return settle(rq, c) ? n : -1;
}

int vial_load(vial_req *rq, const vial_model *m, vial_value *rows, const char *relations) {
    vial_db_conn *c = conn_for(rq, "SELECT"); /* the statement it generates */
    int rc = vial_db_load(c, rq->arena, m, rows, relations, false);
    return settle(rq, c) ? rc : -1;
}
