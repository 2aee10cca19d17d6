/* sqlite.c - the SQLite backend.
 *
 * Every connection is opened in WAL mode (readers never block the writer,
 * several worker processes can share one file), with foreign keys enforced
 * and synchronous=NORMAL (durable at each checkpoint, safe against
 * corruption). A writer that finds the database locked by another process
 * waits in our busy handler, which sleeps through vial_sleep_ms so the
 * worker's other requests keep running, up to busy_timeout_ms; after that
 * the call fails with VIAL_DB_BUSY rather than hanging. Statements are
 * prepared once per connection and kept (see db.c's cache). Column types
 * declared BOOLEAN come back as bools, so rows look the same as PostgreSQL's. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <errno.h>

#include "db/db.h"

static sqlite3 *handle_of(vial_db_conn *c) { return (sqlite3 *)c->handle; }

/* Maps an SQLite result code to ours and records the message. */
static int sqlite_error(vial_db_conn *c, int rc, const char *what) {
    sqlite3 *h = handle_of(c);
    const char *msg = h ? sqlite3_errmsg(h) : sqlite3_errstr(rc);
    int code;
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED: code = VIAL_DB_BUSY; break;
    case SQLITE_CONSTRAINT: code = VIAL_DB_CONSTRAINT; break;
    case SQLITE_NOMEM: code = VIAL_DB_NOMEM; break;
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_FULL:
        code = VIAL_DB_UNAVAILABLE;
        c->broken = true;
        break;
    case SQLITE_RANGE:
    case SQLITE_MISUSE: code = VIAL_DB_INVALID; break;
    default: code = VIAL_DB_ERROR;
    }
    if (code == VIAL_DB_BUSY)
        return vial_db_fail(c, code, "%s: database %s is locked by another connection (waited %d ms): %s", what,
                            c->db->url.path, c->db->opt.busy_timeout_ms, msg);
    return vial_db_fail(c, code, "%s: %s", what, msg);
}

static int busy_wait(void *arg, int count) {
    static const int delays[] = {1, 2, 5, 10, 15, 20, 25, 25, 25, 50, 50, 100};
    vial_db_conn *c = arg;
    int64_t now = vial_db_now_ms();
    if (count == 0) c->busy_start_ms = now;
    int64_t waited = now - c->busy_start_ms;
    int64_t left = c->db->opt.busy_timeout_ms - waited;
    if (left <= 0) return 0;
    int delay = count < (int)(sizeof delays / sizeof delays[0]) ? delays[count] : 100;
    if (delay > left) delay = (int)left;
    vial_sleep_ms(delay);
    return 1;
}

/* Creates the folders above a relative database path (sqlite:///instance/app.db
 * makes instance/), as Flask creates its instance folder. An absolute path's
 * folder must exist: a typo there should be an error, not a new directory. */
static int ensure_parent(vial_db_conn *c, const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path) return 0;
    char dir[4096];
    size_t n = (size_t)(slash - path);
    if (n >= sizeof dir) return vial_db_fail(c, VIAL_DB_UNAVAILABLE, "database path too long: %s", path);
    memcpy(dir, path, n);
    dir[n] = '\0';
    struct stat st;
    if (stat(dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            return vial_db_fail(c, VIAL_DB_UNAVAILABLE, "cannot open sqlite database %s: %s is not a directory", path,
                                dir);
        return 0;
    }
    if (path[0] == '/')
        return vial_db_fail(c, VIAL_DB_UNAVAILABLE, "cannot open sqlite database %s: directory %s does not exist", path,
                            dir);
    for (size_t i = 1; i <= n; i++) {
        if (dir[i] == '/' || dir[i] == '\0') {
            char saved = dir[i];
            dir[i] = '\0';
            if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
                int e = errno;
                dir[i] = saved;
                return vial_db_fail(c, VIAL_DB_UNAVAILABLE, "cannot create directory %.*s for database %s: %s",
                                    (int)i, dir, path, strerror(e));
            }
            dir[i] = saved;
        }
    }
    return 0;
}

static int pragma(vial_db_conn *c, const char *sql, char *result, size_t result_len) {
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(handle_of(c), sql, -1, &st, NULL);
    if (rc != SQLITE_OK) return sqlite_error(c, rc, sql);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && result) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        snprintf(result, result_len, "%s", t ? (const char *)t : "");
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) return sqlite_error(c, rc, sql);
    return 0;
}

static int sqlite_connect(vial_db_conn *c) {
    const db_url *u = &c->db->url;
    if (!u->memory && ensure_parent(c, u->path) != 0) return c->code;
    sqlite3 *h = NULL;
    int rc = sqlite3_open_v2(u->path, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        vial_db_fail(c, VIAL_DB_UNAVAILABLE, "cannot open sqlite database %s: %s", u->path,
                     h ? sqlite3_errmsg(h) : sqlite3_errstr(rc));
        sqlite3_close_v2(h);
        return c->code;
    }
    c->handle = h;
    sqlite3_extended_result_codes(h, 1);
    sqlite3_busy_handler(h, busy_wait, c);
    char mode[32] = "";
    if (pragma(c, "PRAGMA foreign_keys = ON", NULL, 0) != 0) goto fail;
    if (!u->memory) {
        /* The first opener converts the file; the mode is persistent, later opens just read it. */
        if (pragma(c, "PRAGMA journal_mode = WAL", mode, sizeof mode) != 0) goto fail;
        if (strcasecmp(mode, "wal") != 0)
            vial_log(VIAL_LOG_WARNING, "sqlite database %s could not switch to WAL mode (journal_mode=%s)", u->path,
                     mode);
        if (pragma(c, "PRAGMA synchronous = NORMAL", NULL, 0) != 0) goto fail;
    }
    return 0;
fail:
    if (c->code == VIAL_DB_ERROR) c->code = VIAL_DB_UNAVAILABLE;
    sqlite3_close_v2(h);
    c->handle = NULL;
    return c->code;
}

static void sqlite_stmt_free(vial_db_conn *c, db_stmt *s) {
    (void)c;
    if (s->handle) sqlite3_finalize(s->handle);
    s->handle = NULL;
}

static void sqlite_disconnect(vial_db_conn *c, bool inherited) {
    /* SQLite must not close, in a child, a handle opened before fork(): the
     * parent's locks and WAL index are shared state. Leaking it is the safe choice. */
    if (!inherited) sqlite3_close_v2(handle_of(c));
}

static bool sqlite_healthy(vial_db_conn *c) { return c->handle != NULL && !c->broken; }

enum { KIND_PLAIN, KIND_BOOL };

static int column_kind(sqlite3_stmt *st, int i) {
    const char *decl = sqlite3_column_decltype(st, i);
    if (!decl) return KIND_PLAIN;
    if (strncasecmp(decl, "BOOL", 4) == 0) return KIND_BOOL;
    return KIND_PLAIN;
}

static int bind_all(vial_db_conn *c, sqlite3_stmt *st, const vial_db_args *args) {
    for (size_t i = 0; i < args->len; i++) {
        const vial_value *v = &args->items[i];
        int idx = (int)i + 1, rc;
        switch (v->type) {
        case VIAL_NULL: rc = sqlite3_bind_null(st, idx); break;
        case VIAL_BOOL: rc = sqlite3_bind_int(st, idx, v->as.b ? 1 : 0); break;
        case VIAL_INT: rc = sqlite3_bind_int64(st, idx, v->as.i); break;
        case VIAL_DOUBLE: rc = sqlite3_bind_double(st, idx, v->as.d); break;
        case VIAL_STRING:
            if (v->flags & VIAL_FLAG_BLOB)
                rc = sqlite3_bind_blob64(st, idx, v->as.s.ptr ? v->as.s.ptr : "", v->as.s.len, SQLITE_STATIC);
            else
                rc = sqlite3_bind_text64(st, idx, v->as.s.ptr ? v->as.s.ptr : "", v->as.s.len, SQLITE_STATIC,
                                         SQLITE_UTF8);
            break;
        default: return vial_db_fail(c, VIAL_DB_INVALID, "value %zu cannot be bound", i + 1);
        }
        if (rc != SQLITE_OK) return sqlite_error(c, rc, "binding a value");
    }
    return 0;
}

static vial_value *row_object(vial_arena *a, sqlite3_stmt *st, int ncols, const char **names,
                              const size_t *name_lens, const int *kinds) {
    vial_value *obj = vial_new_object(a);
    if (!obj) return NULL;
    for (int i = 0; i < ncols; i++) {
        vial_value *v;
        switch (sqlite3_column_type(st, i)) {
        case SQLITE_INTEGER: {
            sqlite3_int64 x = sqlite3_column_int64(st, i);
            v = kinds[i] == KIND_BOOL ? vial_new_bool(a, x != 0) : vial_new_int(a, x);
            break;
        }
        case SQLITE_FLOAT: v = vial_new_double(a, sqlite3_column_double(st, i)); break;
        case SQLITE_TEXT: {
            const unsigned char *t = sqlite3_column_text(st, i);
            v = vial_new_strn(a, (const char *)t, (size_t)sqlite3_column_bytes(st, i));
            break;
        }
        case SQLITE_BLOB: {
            const void *b = sqlite3_column_blob(st, i);
            v = vial_db_blob(a, b ? b : "", (size_t)sqlite3_column_bytes(st, i));
            break;
        }
        default: v = vial_value_null(); break;
        }
        if (!v || vial_object_set_ref(obj, names[i], name_lens[i], v) != 0) return NULL;
    }
    return obj;
}

static int sqlite_run(vial_db_conn *c, vial_arena *a, const char *sql, const vial_db_args *args, vial_value *rows,
                      size_t max_rows) {
    sqlite3 *h = handle_of(c);
    uint64_t hash = vial_db_hash(sql);
    db_stmt *entry = vial_db_stmt_find(c, sql, hash);
    sqlite3_stmt *st;
    int nparams;
    if (entry) {
        st = entry->handle;
        nparams = entry->nparams;
    } else {
        const char *tail = NULL;
        int rc = sqlite3_prepare_v3(h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, &tail);
        if (rc != SQLITE_OK) return sqlite_error(c, rc, "preparing the statement");
        if (!st) return vial_db_fail(c, VIAL_DB_INVALID, "empty SQL statement");
        if (tail && !vial_db_sql_blank(tail)) {
            sqlite3_finalize(st);
            return vial_db_fail(c, VIAL_DB_INVALID,
                                "only one statement per call (use vial_db_script for several): %.60s", tail);
        }
        nparams = sqlite3_bind_parameter_count(st);
        for (int i = 1; i <= nparams; i++) {
            const char *name = sqlite3_bind_parameter_name(st, i);
            if (name) {
                vial_db_fail(c, VIAL_DB_INVALID, "use ? placeholders only, not %s", name);
                sqlite3_finalize(st); /* owns name */
                return c->code;
            }
        }
        entry = vial_db_stmt_add(c, sql, hash);
        if (entry) {
            entry->handle = st;
            entry->nparams = nparams;
        }
    }
    int rc;
    if ((size_t)nparams != args->len) {
        rc = vial_db_fail_values(c, nparams, args->len);
        goto done;
    }
    if ((rc = bind_all(c, st, args)) != 0) goto done;

    int ncols = sqlite3_column_count(st);
    const char **names = NULL;
    size_t *name_lens = NULL;
    int *kinds = NULL;
    if (rows && ncols > 0) {
        names = vial_arena_alloc(a, sizeof *names * (size_t)ncols);
        name_lens = vial_arena_alloc(a, sizeof *name_lens * (size_t)ncols);
        kinds = vial_arena_alloc(a, sizeof *kinds * (size_t)ncols);
        if (!names || !name_lens || !kinds) {
            rc = vial_db_fail(c, VIAL_DB_NOMEM, "out of memory for the result");
            goto done;
        }
        for (int i = 0; i < ncols; i++) {
            const char *n = sqlite3_column_name(st, i);
            name_lens[i] = n ? strlen(n) : 0;
            names[i] = vial_arena_strndup(a, n ? n : "", name_lens[i]);
            kinds[i] = column_kind(st, i);
            if (!names[i]) {
                rc = vial_db_fail(c, VIAL_DB_NOMEM, "out of memory for the result");
                goto done;
            }
        }
    }
    sqlite3_int64 total_before = sqlite3_total_changes64(h);
    size_t count = 0;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (rows) {
            vial_value *row = row_object(a, st, ncols, names, name_lens, kinds);
            if (!row || vial_array_push(rows, row) != 0) {
                rc = vial_db_fail(c, VIAL_DB_NOMEM, "out of memory for the result (arena full?)");
                goto done;
            }
        }
        if (max_rows && ++count >= max_rows) break;
    }
    if (step != SQLITE_ROW && step != SQLITE_DONE) {
        rc = sqlite_error(c, step, "running the statement");
        goto done;
    }
    c->changes = sqlite3_total_changes64(h) != total_before ? sqlite3_changes64(h) : 0;
    c->last_id = sqlite3_last_insert_rowid(h);
    rc = 0;
done:
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (!entry) sqlite3_finalize(st);
    return rc;
}

static int sqlite_script(vial_db_conn *c, const char *sql) {
    char *errmsg = NULL;
    int rc = sqlite3_exec(handle_of(c), sql, NULL, NULL, &errmsg);
    sqlite3_free(errmsg);
    if (rc != SQLITE_OK) return sqlite_error(c, rc, "running SQL");
    c->changes = sqlite3_changes64(handle_of(c));
    return 0;
}

static int sqlite_tx_status(vial_db_conn *c) {
    return c->handle && !sqlite3_get_autocommit(handle_of(c)) ? DB_TX_ACTIVE : DB_TX_IDLE;
}

static int64_t sqlite_last_insert_id(vial_db_conn *c) {
    vial_db_set_code(c, VIAL_DB_OK);
    return sqlite3_last_insert_rowid(handle_of(c));
}

const db_driver vial_db_sqlite_driver = {
    .name = "sqlite",
    .check_url = NULL,
    .connect = sqlite_connect,
    .disconnect = sqlite_disconnect,
    .healthy = sqlite_healthy,
    .run = sqlite_run,
    .script = sqlite_script,
    .tx_status = sqlite_tx_status,
    .last_insert_id = sqlite_last_insert_id,
    .stmt_free = sqlite_stmt_free,
};
