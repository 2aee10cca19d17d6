/* postgres.c - the PostgreSQL backend, on libpq in non-blocking mode.
 *
 * Nothing here blocks the worker: connecting is PQconnectStartParams +
 * PQconnectPoll, queries are PQsendQueryPrepared + PQflush / PQconsumeInput /
 * PQisBusy, and every wait in between is vial_wait_fd on the connection's
 * socket, which parks the request's coroutine while other requests run. A
 * deadline bounds the connect (a server that never answers costs
 * connect_timeout_ms, not a hung worker) and, when configured, each query.
 *
 * Statements are prepared once per connection (named vial_<n>) and executed
 * with text-format parameters and results; results are typed from the column
 * type OIDs. The session is set to UTC with ISO dates so timestamps read the
 * same as SQLite's CURRENT_TIMESTAMP. A lost server (connection refused,
 * reset, pg_terminate_backend, shutdown) is VIAL_DB_UNAVAILABLE and marks the
 * connection broken so the pool replaces it. */
#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "db/db.h"
#include "db/pg.h"

/* Type OIDs (pg_type.dat); stable across PostgreSQL versions. */
enum {
    OID_BOOL = 16,
    OID_BYTEA = 17,
    OID_INT8 = 20,
    OID_INT2 = 21,
    OID_INT4 = 23,
    OID_OID = 26,
    OID_FLOAT4 = 700,
    OID_FLOAT8 = 701,
    OID_NUMERIC = 1700,
};

#define BACKSTOP_MS 2000 /* past statement_timeout: the server itself is not answering */

static PGconn *pg_of(vial_db_conn *c) { return (PGconn *)c->handle; }

/* libpq messages end with a newline and may span lines; keep the first line. */
void vial_pg_first_line(char *out, size_t n, const char *msg) {
    if (!msg) msg = "";
    while (*msg == ' ') msg++;
    size_t len = strcspn(msg, "\n");
    if (len >= n) len = n - 1;
    memcpy(out, msg, len);
    out[len] = '\0';
}

int vial_pg_lost(vial_db_conn *c, const char *what) {
    char msg[256];
    vial_pg_first_line(msg, sizeof msg, PQerrorMessage(pg_of(c)));
    c->broken = true;
    vial_db_fail(c, VIAL_DB_UNAVAILABLE, "connection to %s lost while %s: %s", c->db->url.display, what,
                 msg[0] ? msg : "server closed the connection");
    return c->code;
}

int vial_pg_translate(vial_db_conn *c, const char *sql, vial_buf *out, int *nparams) {
    char err[160];
    if (vial_db_sql_translate(sql, out, nparams, err, sizeof err) != 0) return vial_db_fail(c, VIAL_DB_INVALID, "%s", err);
    if (vial_db_sql_blank(vial_buf_cstr(out))) return vial_db_fail(c, VIAL_DB_INVALID, "empty SQL statement");
    return 0;
}

static void notice_to_log(void *arg, const char *message) {
    (void)arg;
    char line[512];
    vial_pg_first_line(line, sizeof line, message);
    vial_log(VIAL_LOG_DEBUG, "postgresql: %s", line);
}

static int pg_check_url(const db_url *u, char *err, size_t errlen) {
    PQconninfoOption *defs = PQconndefaults();
    if (!defs) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < u->nparams && rc == 0; i++) {
        bool known = false;
        for (PQconninfoOption *o = defs; o->keyword; o++)
            if (strcmp(o->keyword, u->keys[i]) == 0) known = true;
        if (!known) {
            if (err && errlen)
                snprintf(err, errlen, "unknown PostgreSQL connection parameter \"%s\" in the database URL", u->keys[i]);
            rc = -1;
        }
    }
    PQconninfoFree(defs);
    return rc;
}

/* Waits for the socket within the deadline (0: none). 1 ready, 0 timeout, -1 error. */
int vial_pg_wait_socket(PGconn *pg, int events, int64_t deadline, int *ready) {
    int timeout = -1;
    if (deadline) {
        int64_t left = deadline - vial_db_now_ms();
        if (left <= 0) return 0;
        timeout = left > 0x7fffffff ? 0x7fffffff : (int)left;
    }
    int w = vial_wait_fd(PQsocket(pg), events, timeout);
    if (w < 0) return -1;
    if (w == 0) return 0;
    if (ready) *ready = w;
    return 1;
}

static int pg_connect(vial_db_conn *c) {
    const db_url *u = &c->db->url;
    const char *keys[80], *values[80];
    size_t n = 0;
    const char *user_options = NULL;
    for (size_t i = 0; i < u->nparams && n < 70; i++) {
        if (strcmp(u->keys[i], "options") == 0) {
            user_options = u->values[i];
            continue;
        }
        keys[n] = u->keys[i];
        values[n] = u->values[i];
        n++;
    }
    /* Our session settings first, so that the URL's own options= can override them. */
    /* A query timeout is enforced by the server (statement_timeout), which
     * cancels the statement and keeps the session usable; our own deadline in
     * wait_ready is only the backstop for a server that stopped answering. */
    char timeout[48] = "";
    if (c->db->opt.query_timeout_ms)
        snprintf(timeout, sizeof timeout, " -c statement_timeout=%d", c->db->opt.query_timeout_ms);
    char options[1024];
    snprintf(options, sizeof options, "-c TimeZone=UTC -c DateStyle=ISO,YMD -c bytea_output=hex%s%s%s", timeout,
             user_options ? " " : "", user_options ? user_options : "");
    keys[n] = "options";
    values[n++] = options;
    if (!vial_db_url_param(u, "client_encoding")) {
        keys[n] = "client_encoding";
        values[n++] = "UTF8";
    }
    keys[n] = "fallback_application_name";
    values[n++] = "vial";
    keys[n] = NULL;
    values[n] = NULL;

    PGconn *pg = PQconnectStartParams(keys, values, 0);
    if (!pg) return vial_db_fail(c, VIAL_DB_NOMEM, "out of memory connecting to %s", u->display);
    c->handle = pg;
    char msg[256];
    if (PQstatus(pg) == CONNECTION_BAD) goto failed;
    int64_t deadline = vial_db_now_ms() + c->db->opt.connect_timeout_ms;
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    while (st != PGRES_POLLING_OK) {
        if (st == PGRES_POLLING_FAILED) goto failed;
        int w = vial_pg_wait_socket(pg, st == PGRES_POLLING_READING ? VIAL_WAIT_READ : VIAL_WAIT_WRITE, deadline, NULL);
        if (w == 0) {
            vial_db_fail(c, VIAL_DB_UNAVAILABLE, "could not connect to %s: no answer within %d ms", u->display,
                         c->db->opt.connect_timeout_ms);
            PQfinish(pg);
            c->handle = NULL;
            return c->code;
        }
        st = PQconnectPoll(pg);
    }
    if (PQsetnonblocking(pg, 1) != 0) goto failed;
    PQsetNoticeProcessor(pg, notice_to_log, NULL);
    return 0;
failed:
    vial_pg_first_line(msg, sizeof msg, PQerrorMessage(pg));
    vial_db_fail(c, VIAL_DB_UNAVAILABLE, "could not connect to %s: %s", u->display, msg);
    PQfinish(pg);
    c->handle = NULL;
    return c->code;
}

static void pg_disconnect(vial_db_conn *c, bool inherited) {
    PGconn *pg = pg_of(c);
    if (!pg) return;
    if (inherited) {
        /* Closing our copy of the socket first keeps PQfinish's goodbye message
         * off the wire: the parent's session on the same socket lives on. */
        int fd = PQsocket(pg);
        if (fd >= 0) close(fd);
    }
    PQfinish(pg);
}

static bool pg_healthy(vial_db_conn *c) {
    PGconn *pg = pg_of(c);
    if (!pg || c->broken || PQstatus(pg) != CONNECTION_OK) return false;
    if (PQtransactionStatus(pg) != PQTRANS_IDLE) return false;
    /* An idle session has nothing to say; if the socket is readable the server
     * sent an error and/or closed it (shutdown, pg_terminate_backend). A zero
     * timeout poll never waits, so it needs no coroutine parking. */
    struct pollfd p = {.fd = PQsocket(pg), .events = POLLIN};
    int r = poll(&p, 1, 0);
    if (r == 0) return true;
    return false;
}

/* Flushes what libpq queued and waits until a result can be read without blocking. */
static int wait_ready(vial_db_conn *c, int64_t deadline, const char *what) {
    PGconn *pg = pg_of(c);
    for (;;) {
        int f = PQflush(pg);
        if (f < 0) return vial_pg_lost(c, what);
        if (f == 0) break;
        int ready = 0;
        int w = vial_pg_wait_socket(pg, VIAL_WAIT_READ | VIAL_WAIT_WRITE, deadline, &ready);
        if (w == 0) goto timeout;
        if (w > 0 && (ready & VIAL_WAIT_READ) && !PQconsumeInput(pg)) return vial_pg_lost(c, what);
    }
    while (PQisBusy(pg)) {
        int w = vial_pg_wait_socket(pg, VIAL_WAIT_READ, deadline, NULL);
        if (w == 0) goto timeout;
        if (!PQconsumeInput(pg)) return vial_pg_lost(c, what);
    }
    return 0;
timeout:
    /* The server may still be working on it; the connection is in an unknown
     * state, so it is dropped rather than reused. */
    c->broken = true;
    return vial_db_fail(c, VIAL_DB_TIMEOUT, "no answer from %s within %d ms while %s", c->db->url.display,
                        c->db->opt.query_timeout_ms + BACKSTOP_MS, what);
}

int64_t vial_pg_query_deadline(vial_db_conn *c) {
    return c->db->opt.query_timeout_ms ? vial_db_now_ms() + c->db->opt.query_timeout_ms + BACKSTOP_MS : 0;
}

/* Records an error result on c, classifying it by SQLSTATE. */
int vial_pg_result_error(vial_db_conn *c, PGresult *r) {
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    const char *primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    const char *detail = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
    char msg[400];
    if (primary)
        snprintf(msg, sizeof msg, "%s%s%s", primary, detail ? " (" : "", detail ? detail : "");
    else
        vial_pg_first_line(msg, sizeof msg, PQresultErrorMessage(r));
    if (detail && strlen(msg) < sizeof msg - 1) strcat(msg, ")");
    int code = VIAL_DB_ERROR;
    if (PQstatus(pg_of(c)) == CONNECTION_BAD) {
        c->broken = true;
        code = VIAL_DB_UNAVAILABLE;
    } else if (state) {
        if (strncmp(state, "23", 2) == 0)
            code = VIAL_DB_CONSTRAINT;
        else if (strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 || strcmp(state, "57P02") == 0 ||
                 strcmp(state, "57P03") == 0 || strncmp(state, "53", 2) == 0) {
            code = VIAL_DB_UNAVAILABLE;
            if (strncmp(state, "53", 2) != 0) c->broken = true;
        } else if (strcmp(state, "57014") == 0)
            code = VIAL_DB_TIMEOUT;
    }
    vial_db_fail(c, code, "%s", msg);
    if (code == VIAL_DB_UNAVAILABLE) {
        char full[DB_ERRMSG_MAX];
        snprintf(full, sizeof full, "%s: %s", c->db->url.display, msg);
        snprintf(c->msg, sizeof c->msg, "%s", full);
    }
    if (state) snprintf(c->sqlstate, sizeof c->sqlstate, "%s", state);
    return code;
}

static vial_value *text_value(vial_arena *a, Oid type, const char *t, size_t len) {
    switch (type) {
    case OID_BOOL: return vial_new_bool(a, t[0] == 't');
    case OID_INT2:
    case OID_INT4:
    case OID_INT8:
    case OID_OID: return vial_new_int(a, strtoll(t, NULL, 10));
    case OID_FLOAT4:
    case OID_FLOAT8: return vial_new_double(a, strtod(t, NULL));
    case OID_NUMERIC: {
        /* sum() and friends return numeric; whole numbers that fit come back as
         * ints (as SQLite gives them), the rest as doubles. */
        const char *p = t + (t[0] == '-');
        bool whole = *p != '\0' && strspn(p, "0123456789") == strlen(p) && strlen(p) <= 18;
        if (whole) return vial_new_int(a, strtoll(t, NULL, 10));
        return vial_new_double(a, strtod(t, NULL));
    }
    case OID_BYTEA: return vial_db_bytea_value(a, t, len);
    default: return vial_new_strn(a, t, len);
    }
}

int vial_pg_collect_rows(vial_db_conn *c, vial_arena *a, PGresult *r, vial_value *rows, size_t max_rows) {
    int nf = PQnfields(r), nt = PQntuples(r);
    if (!rows || nt == 0) return 0;
    const char **names = vial_arena_alloc(a, sizeof *names * (size_t)(nf ? nf : 1));
    size_t *lens = vial_arena_alloc(a, sizeof *lens * (size_t)(nf ? nf : 1));
    Oid *types = vial_arena_alloc(a, sizeof *types * (size_t)(nf ? nf : 1));
    if (!names || !lens || !types) return vial_db_fail(c, VIAL_DB_NOMEM, "out of memory for the result");
    for (int i = 0; i < nf; i++) {
        const char *n = PQfname(r, i);
        lens[i] = strlen(n);
        names[i] = vial_arena_strndup(a, n, lens[i]);
        types[i] = PQftype(r, i);
        if (!names[i]) return vial_db_fail(c, VIAL_DB_NOMEM, "out of memory for the result");
    }
    size_t limit = max_rows && max_rows < (size_t)nt ? max_rows : (size_t)nt;
    for (size_t row = 0; row < limit; row++) {
        vial_value *obj = vial_new_object(a);
        if (!obj) return vial_db_fail(c, VIAL_DB_NOMEM, "out of memory for the result");
        for (int i = 0; i < nf; i++) {
            vial_value *v;
            if (PQgetisnull(r, (int)row, i))
                v = vial_value_null();
            else
                v = text_value(a, types[i], PQgetvalue(r, (int)row, i), (size_t)PQgetlength(r, (int)row, i));
            if (!v || vial_object_set_ref(obj, names[i], lens[i], v) != 0)
                return vial_db_fail(c, VIAL_DB_NOMEM, "out of memory for the result");
        }
        if (vial_array_push(rows, obj) != 0) return vial_db_fail(c, VIAL_DB_NOMEM, "out of memory for the result");
    }
    return 0;
}

/* Reads every result of what was sent; the first failure wins. */
static int drain(vial_db_conn *c, vial_arena *a, vial_value *rows, size_t max_rows, const char *what) {
    PGconn *pg = pg_of(c);
    int64_t deadline = vial_pg_query_deadline(c);
    int rc = 0;
    bool any = false;
    for (;;) {
        int w = wait_ready(c, deadline, what);
        if (w != 0) return w;
        PGresult *r = PQgetResult(pg);
        if (!r) break;
        any = true;
        if (rc == 0) {
            switch (PQresultStatus(r)) {
            case PGRES_TUPLES_OK:
                rc = vial_pg_collect_rows(c, a, r, rows, max_rows);
                c->changes = strtoll(PQcmdTuples(r), NULL, 10);
                if (strncmp(PQcmdStatus(r), "SELECT", 6) == 0) c->changes = 0;
                break;
            case PGRES_COMMAND_OK: c->changes = strtoll(PQcmdTuples(r), NULL, 10); break;
            case PGRES_EMPTY_QUERY: rc = vial_db_fail(c, VIAL_DB_INVALID, "empty SQL statement"); break;
            case PGRES_COPY_IN:
            case PGRES_COPY_OUT:
            case PGRES_COPY_BOTH:
                rc = vial_db_fail(c, VIAL_DB_INVALID, "COPY is not supported through vial's database API");
                c->broken = true; /* the protocol is now in copy mode: drop the connection */
                PQclear(r);
                return rc;
            default: rc = vial_pg_result_error(c, r); break;
            }
        }
        PQclear(r);
    }
    if (!any && rc == 0 && PQstatus(pg) == CONNECTION_BAD) return vial_pg_lost(c, what);
    return rc;
}

int vial_pg_send_failed(vial_db_conn *c, const char *what) {
    if (PQstatus(pg_of(c)) == CONNECTION_BAD) return vial_pg_lost(c, what);
    char msg[256];
    vial_pg_first_line(msg, sizeof msg, PQerrorMessage(pg_of(c)));
    return vial_db_fail(c, VIAL_DB_ERROR, "%s: %s", what, msg);
}

static void pg_stmt_free(vial_db_conn *c, db_stmt *s) {
    PGconn *pg = pg_of(c);
    if (!s->id || !pg || c->broken || PQstatus(pg) != CONNECTION_OK) return;
    if (PQtransactionStatus(pg) == PQTRANS_INERROR) return; /* would fail; the name is never reused anyway */
    char sql[48];
    snprintf(sql, sizeof sql, "DEALLOCATE vial_%u", s->id);
    int saved_code = c->code;
    char saved[DB_ERRMSG_MAX];
    memcpy(saved, c->msg, sizeof saved);
    if (PQsendQuery(pg, sql)) drain(c, NULL, NULL, 0, "freeing a prepared statement");
    c->code = saved_code;
    memcpy(c->msg, saved, sizeof saved);
}

int vial_pg_build_params(vial_db_conn *c, const vial_db_args *args, pg_params *p) {
    size_t n = args->len;
    memset(p, 0, sizeof *p);
    if (n == 0) return 0;
    size_t scratch = 0;
    for (size_t i = 0; i < n; i++) {
        const vial_value *v = &args->items[i];
        if (v->type == VIAL_INT || v->type == VIAL_DOUBLE || v->type == VIAL_BOOL)
            scratch += 32;
        else if (v->type == VIAL_STRING && !(v->flags & VIAL_FLAG_BLOB))
            scratch += v->as.s.len + 1;
    }
    p->values = calloc(n, sizeof *p->values);
    p->lengths = calloc(n, sizeof *p->lengths);
    p->formats = calloc(n, sizeof *p->formats);
    p->scratch = malloc(scratch + 1);
    if (!p->values || !p->lengths || !p->formats || !p->scratch)
        return vial_db_fail(c, VIAL_DB_NOMEM, "out of memory binding values");
    char *s = p->scratch;
    for (size_t i = 0; i < n; i++) {
        const vial_value *v = &args->items[i];
        switch (v->type) {
        case VIAL_NULL: p->values[i] = NULL; break;
        case VIAL_BOOL:
            /* '1'/'0' read as true/false in a boolean column and as 1/0 in an integer one. */
            p->values[i] = v->as.b ? "1" : "0";
            break;
        case VIAL_INT:
            p->values[i] = s;
            s += vial_format_i64(s, v->as.i) + 1;
            s[-1] = '\0';
            break;
        case VIAL_DOUBLE: {
            p->values[i] = s;
            int len;
            if (v->as.d != v->as.d)
                len = snprintf(s, 32, "NaN");
            else if (v->as.d > 1.7976931348623157e308)
                len = snprintf(s, 32, "Infinity");
            else if (v->as.d < -1.7976931348623157e308)
                len = snprintf(s, 32, "-Infinity");
            else
                len = snprintf(s, 32, "%.17g", v->as.d);
            s += len + 1;
            break;
        }
        case VIAL_STRING:
            if (v->flags & VIAL_FLAG_BLOB) {
                if (v->as.s.len > 0x7fffffff) return vial_db_fail(c, VIAL_DB_INVALID, "value %zu: blob too large", i + 1);
                p->values[i] = v->as.s.ptr ? v->as.s.ptr : "";
                p->lengths[i] = (int)v->as.s.len;
                p->formats[i] = 1;
            } else {
                if (v->as.s.len && memchr(v->as.s.ptr, '\0', v->as.s.len))
                    return vial_db_fail(c, VIAL_DB_INVALID,
                                        "value %zu: text contains a NUL byte, which PostgreSQL text cannot hold "
                                        "(bind it as VIAL_BLOB)",
                                        i + 1);
                p->values[i] = s;
                if (v->as.s.len) memcpy(s, v->as.s.ptr, v->as.s.len);
                s[v->as.s.len] = '\0';
                s += v->as.s.len + 1;
            }
            break;
        default: return vial_db_fail(c, VIAL_DB_INVALID, "value %zu cannot be bound", i + 1);
        }
    }
    return 0;
}

void vial_pg_free_params(pg_params *p) {
    free(p->values);
    free(p->lengths);
    free(p->formats);
    free(p->scratch);
}

static int pg_run(vial_db_conn *c, vial_arena *a, const char *sql, const vial_db_args *args, vial_value *rows,
                  size_t max_rows) {
    if (c->lane) {
        int64_t changes;
        return vial_pg_lane_run(c, a, sql, args, 1, rows, max_rows, NULL, &changes, false);
    }
    PGconn *pg = pg_of(c);
    if (PQstatus(pg) != CONNECTION_OK) return vial_pg_lost(c, "starting a statement");
    uint64_t hash = vial_db_hash(sql);
    db_stmt *entry = vial_db_stmt_find(c, sql, hash);
    vial_buf translated;
    vial_buf_init(&translated, NULL, DB_SQL_MAX);
    int nparams = 0, rc;
    pg_params params = {0};
    char name[32];
    if (entry)
        nparams = entry->nparams;
    else if ((rc = vial_pg_translate(c, sql, &translated, &nparams)) != 0)
        goto done;
    if ((size_t)nparams != args->len) {
        rc = vial_db_fail_values(c, nparams, args->len);
        goto done;
    }
    if ((rc = vial_pg_build_params(c, args, &params)) != 0) goto done;
    if (!entry) {
        entry = vial_db_stmt_add(c, sql, hash);
        if (entry) {
            entry->nparams = nparams;
            snprintf(name, sizeof name, "vial_%u", entry->id);
            c->sent = true;
            if (!PQsendPrepare(pg, name, vial_buf_cstr(&translated), nparams, NULL)) {
                c->sent = false;
                entry->id = 0; /* never prepared: nothing to DEALLOCATE */
                vial_db_stmt_remove(c, entry);
                rc = vial_pg_send_failed(c, "preparing the statement");
                goto done;
            }
            if ((rc = drain(c, NULL, NULL, 0, "preparing the statement")) != 0) {
                entry->id = 0;
                vial_db_stmt_remove(c, entry);
                goto done;
            }
        }
    }
    c->sent = true;
    int ok;
    if (entry) {
        snprintf(name, sizeof name, "vial_%u", entry->id);
        ok = PQsendQueryPrepared(pg, name, nparams, params.values, params.lengths, params.formats, 0);
    } else {
        ok = PQsendQueryParams(pg, vial_buf_cstr(&translated), nparams, NULL, params.values, params.lengths,
                               params.formats, 0);
    }
    if (!ok) {
        c->sent = false;
        rc = vial_pg_send_failed(c, "sending the statement");
        goto done;
    }
    rc = drain(c, a, rows, max_rows, "running the statement");
    if (rc == VIAL_DB_ERROR && entry && (strcmp(c->sqlstate, "0A000") == 0 || strcmp(c->sqlstate, "26000") == 0) &&
        PQtransactionStatus(pg) == PQTRANS_IDLE) {
        /* "cached plan must not change result type" after a schema change, or the
         * prepared statement vanished (DISCARD ALL): prepare again, once. */
        vial_db_stmt_remove(c, entry);
        vial_pg_free_params(&params);
        vial_buf_free(&translated);
        if (rows && a) rows->as.arr.len = 0;
        vial_db_set_code(c, VIAL_DB_OK);
        return pg_run(c, a, sql, args, rows, max_rows);
    }
done:
    vial_pg_free_params(&params);
    vial_buf_free(&translated);
    return rc;
}

/* The cache entry of sql, prepared on the server now if it was not; *out NULL when caching is off. */
static int ensure_prepared(vial_db_conn *c, const char *sql, db_stmt **out) {
    *out = NULL;
    uint64_t hash = vial_db_hash(sql);
    db_stmt *entry = vial_db_stmt_find(c, sql, hash);
    if (entry) {
        *out = entry;
        return 0;
    }
    vial_buf translated;
    vial_buf_init(&translated, NULL, DB_SQL_MAX);
    int nparams = 0;
    int rc = vial_pg_translate(c, sql, &translated, &nparams);
    if (rc == 0 && (entry = vial_db_stmt_add(c, sql, hash)) != NULL) {
        entry->nparams = nparams;
        char name[32];
        snprintf(name, sizeof name, "vial_%u", entry->id);
        c->sent = true;
        if (!PQsendPrepare(pg_of(c), name, vial_buf_cstr(&translated), nparams, NULL)) {
            c->sent = false;
            entry->id = 0;
            vial_db_stmt_remove(c, entry);
            rc = vial_pg_send_failed(c, "preparing the statement");
        } else if ((rc = drain(c, NULL, NULL, 0, "preparing the statement")) != 0) {
            entry->id = 0;
            vial_db_stmt_remove(c, entry);
        } else {
            *out = entry;
        }
    }
    vial_buf_free(&translated);
    return rc;
}

/* n runs of one prepared statement in libpq's pipeline mode: every Bind/Execute
 * and a Sync after each (so each run is its own implicit transaction outside
 * vial_db_begin, exactly as n separate statements would be; a batch of reads
 * from query_many shares one Sync, see below) go out together, and the answers are read as
 * they come: one round trip instead of n.
 * results (NULL for exec) gets one array of rows per run; *changes the sum. */
static int pg_run_many(vial_db_conn *c, vial_arena *a, const char *sql, const vial_db_args *sets, size_t n,
                       vial_value *results, int64_t *changes, bool one_tx) {
    if (c->lane) return vial_pg_lane_run(c, a, sql, sets, n, NULL, 0, results, changes, one_tx);
    PGconn *pg = pg_of(c);
    if (PQstatus(pg) != CONNECTION_OK) return vial_pg_lost(c, "starting a statement");
    *changes = 0;
    db_stmt *entry;
    int rc = ensure_prepared(c, sql, &entry);
    if (rc != 0) return rc;
    if (!entry) {
        /* No statement cache: one statement after the other. */
        for (size_t i = 0; i < n; i++) {
            vial_value *rows = results ? vial_new_array(a) : NULL;
            if (results && (!rows || vial_array_push(results, rows) != 0))
                return vial_db_fail(c, VIAL_DB_NOMEM, "out of memory for the result");
            if ((rc = pg_run(c, a, sql, &sets[i], rows, 0)) != 0) return rc;
            *changes += c->changes;
        }
        return 0;
    }
    int nparams = entry->nparams;
    for (size_t i = 0; i < n; i++)
        if ((size_t)nparams != sets[i].len) {
            vial_db_fail_values(c, nparams, sets[i].len);
            vial_db_name_run(c, i);
            return c->code;
        }
    pg_params *params = calloc(n ? n : 1, sizeof *params);
    if (!params) return vial_db_fail(c, VIAL_DB_NOMEM, "out of memory binding values");
    for (size_t i = 0; i < n && rc == 0; i++) rc = vial_pg_build_params(c, &sets[i], &params[i]);
    if (rc != 0) goto done;
    char name[32];
    snprintf(name, sizeof name, "vial_%u", entry->id);
    if (!PQenterPipelineMode(pg)) {
        rc = vial_pg_send_failed(c, "entering pipeline mode");
        goto done;
    }
    c->sent = true;
    /* A batch of reads that may share a transaction (one_tx) needs one Sync,
     * at the end: one implicit transaction (one snapshot, one begin/commit on
     * the server, one write from here: libpq 15 flushes at every Sync). */
    for (size_t i = 0; i < n; i++) {
        if (!PQsendQueryPrepared(pg, name, nparams, params[i].values, params[i].lengths, params[i].formats, 0) ||
            ((!one_tx || i == n - 1) && !PQpipelineSync(pg))) {
            /* Part of the pipeline is queued: the session's state is unknown, drop it. */
            rc = vial_pg_send_failed(c, "sending pipelined statements");
            c->broken = true;
            goto done;
        }
    }
    int64_t deadline = vial_pg_query_deadline(c);
    for (size_t i = 0; i < n; i++) {
        vial_value *rows = NULL;
        for (;;) {
            int w = wait_ready(c, deadline, "running pipelined statements");
            if (w != 0) {
                rc = w;
                c->broken = true;
                goto done;
            }
            PGresult *r = PQgetResult(pg);
            if (!r) {
                /* The end of run i's results: its Sync comes next, or the next run's results. */
                if (one_tx && i < n - 1) break;
                continue;
            }
            ExecStatusType st = PQresultStatus(r);
            if (st == PGRES_PIPELINE_SYNC) {
                PQclear(r);
                break;
            }
            if (rc == 0) {
                switch (st) {
                case PGRES_TUPLES_OK:
                    if (results) {
                        rows = vial_new_array(a);
                        rc = rows ? vial_pg_collect_rows(c, a, r, rows, 0) : vial_db_fail(c, VIAL_DB_NOMEM, "out of memory");
                    }
                    if (strncmp(PQcmdStatus(r), "SELECT", 6) != 0) *changes += strtoll(PQcmdTuples(r), NULL, 10);
                    break;
                case PGRES_COMMAND_OK: *changes += strtoll(PQcmdTuples(r), NULL, 10); break;
                case PGRES_PIPELINE_ABORTED:
                    rc = vial_db_fail(c, VIAL_DB_ERROR, "run %zu was skipped: an earlier run failed", i + 1);
                    break;
                default:
                    rc = vial_pg_result_error(c, r);
                    vial_db_name_run(c, i);
                    break;
                }
            }
            PQclear(r);
        }
        if (results && rc == 0) {
            if (!rows) rows = vial_new_array(a);
            if (!rows || vial_array_push(results, rows) != 0) rc = vial_db_fail(c, VIAL_DB_NOMEM, "out of memory");
        }
    }
    if (!PQexitPipelineMode(pg)) {
        rc = rc ? rc : vial_pg_send_failed(c, "leaving pipeline mode");
        c->broken = true;
    }
done:
    for (size_t i = 0; i < n; i++) vial_pg_free_params(&params[i]);
    free(params);
    if (rc == 0) c->changes = *changes;
    return rc;
}

static int pg_script(vial_db_conn *c, const char *sql) {
    /* Scripts and transaction control change the session: never on the shared connection. */
    if (c->lane) return vial_db_fail(c, VIAL_DB_INVALID, "not on the shared connection: %s", sql);
    PGconn *pg = pg_of(c);
    if (PQstatus(pg) != CONNECTION_OK) return vial_pg_lost(c, "starting a statement");
    c->sent = true;
    if (!PQsendQuery(pg, sql)) {
        c->sent = false;
        return vial_pg_send_failed(c, "sending SQL");
    }
    return drain(c, NULL, NULL, 0, "running SQL");
}

static int pg_tx_status(vial_db_conn *c) {
    if (c->lane) return DB_TX_IDLE; /* every statement on the lane is its own transaction */
    switch (PQtransactionStatus(pg_of(c))) {
    case PQTRANS_IDLE: return DB_TX_IDLE;
    case PQTRANS_INERROR:
    case PQTRANS_UNKNOWN: return DB_TX_FAILED;
    default: return DB_TX_ACTIVE;
    }
}

static int64_t pg_last_insert_id(vial_db_conn *c) {
    if (c->lane) return -1; /* lastval() belongs to a session the request does not own */
    vial_arena *a = vial_arena_new(1024);
    if (!a) return -1;
    vial_value *rows = vial_new_array(a);
    static const vial_db_args none = {NULL, 0};
    int64_t id = -1;
    if (rows && pg_run(c, a, "SELECT lastval()", &none, rows, 1) == 0 && rows->as.arr.len == 1)
        id = vial_get_int(rows->as.arr.items[0], "lastval", -1);
    vial_arena_free(a);
    return id;
}

const db_driver vial_db_postgres_driver = {
    .name = "postgresql",
    .check_url = pg_check_url,
    .connect = pg_connect,
    .disconnect = pg_disconnect,
    .healthy = pg_healthy,
    .run = pg_run,
    .run_many = pg_run_many,
    .script = pg_script,
    .tx_status = pg_tx_status,
    .last_insert_id = pg_last_insert_id,
    .stmt_free = pg_stmt_free,
};
