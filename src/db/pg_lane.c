/* pg_lane.c - one PostgreSQL connection a worker's requests share, pipelined.
 *
 * A request that holds no connection of its own (no transaction open, no
 * vial_req_db) sends its statements down the worker's lane: a pooled
 * connection kept in libpq's pipeline mode, where each request's Bind/Execute
 * messages and a Sync go out as soon as the request asks, behind those of the
 * requests before it. The server answers in order; whichever waiting request
 * holds the reading role reads the answers for everyone, hands each request
 * its rows and wakes it (vial_unpark: no system call), and passes the role on
 * when its own answer is in. Under load one read brings the answers of many
 * requests, and the server reads many requests' statements at once (the
 * first request of a loop turn corks the socket until the turn's others have
 * queued theirs, so they leave in one segment): on the
 * benchmark box (bench/RESULTS.md, bench/tfb) PostgreSQL spent ~50 us of CPU
 * per /db request with a connection per request and ~20 us with this.
 *
 * Each request's statements end with their own Sync, so each is its own
 * implicit transaction exactly as on a connection of its own (a batch of
 * reads from vial_query_many keeps its one Sync, one snapshot). Only
 * statements that leave nothing behind in the session take the lane (reads,
 * UPDATE, DELETE: see vial_db_sql_sessionless); INSERT (lastval), SET,
 * transactions and anything else run on a pooled connection of the request's
 * own. An idle lane gets the pool's health check before a statement goes
 * out, so a server restart costs a reconnect, not a failed request. A statement that keeps the lane's head waiting longer than
 * LANE_STALL_MS sends later requests to pooled connections until it is done,
 * so one slow query does not hold up the worker's others. A lost connection
 * fails every request waiting on it (reads are retried once on a new lane);
 * the next request opens a new one. */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "db/db.h"
#include "db/pg.h"

#define LANE_STALL_MS 20    /* a head statement older than this: new requests go to pooled connections */
#define LANE_MAX_JOBS 4096  /* requests in flight on one lane; past it, pooled connections */

typedef struct lane_job {
    vial_db_conn *c;   /* the request's handle: errors, SQLSTATE and changes land here */
    const char *sql;
    vial_arena *a;
    vial_value *rows;    /* one run: its rows (NULL: discard) */
    size_t max_rows;
    vial_value *results; /* several runs: one array each, made before sending (NULL: discard) */
    size_t nruns;
    bool preparing;      /* the first command is the Parse of a new statement */
    unsigned stmt_id;    /* the statement the runs execute (0: unnamed) */
    size_t command;      /* the command whose results come next */
    size_t syncs_left;   /* PGRES_PIPELINE_SYNC results still to come */
    int64_t changes;
    int64_t deadline;    /* 0: none */
    int rc;
    bool done;
    void *parked; /* vial_park slot while the request waits */
    struct lane_job *next;
} lane_job;

typedef struct db_lane {
    vial_db *db;
    vial_db_conn *conn;     /* checked out of the pool while the lane lives; NULL: none yet */
    lane_job *head, *tail;  /* requests whose commands went out, in the order they did */
    int njobs;
    int64_t head_since_ms;  /* when the head started waiting at the head */
    bool opening;           /* a request is connecting it: others use pooled connections meanwhile */
    bool reading;           /* a waiting request is reading answers for all */
    bool corked;            /* TCP_CORK is on until the end of this loop turn */
} db_lane;

static PGconn *pg_of(vial_db_conn *c) { return (PGconn *)c->handle; }

static db_lane *lane_of(vial_db *db) {
    if (!db->lane) {
        db->lane = calloc(1, sizeof *db->lane);
        if (db->lane) db->lane->db = db;
    }
    return db->lane;
}

bool vial_db_lane_usable(vial_db *db, const char *sql) {
    if (!db || db->url.backend != VIAL_DB_POSTGRES || db->opt.shared_pipeline < 0 || !sql) return false;
    if (!vial_in_coroutine()) return false;
    db_lane *l = db->lane;
    if (l) {
        if (l->opening || l->njobs >= LANE_MAX_JOBS) return false;
        if (l->head && vial_db_now_ms() - l->head_since_ms > LANE_STALL_MS) return false;
    }
    return vial_db_sql_sessionless(sql);
}

bool vial_db_lane_handle(vial_db *db, vial_db_conn *c) {
    memset(c, 0, sizeof *c);
    c->db = db;
    c->lane = lane_of(db);
    return c->lane != NULL;
}

int vial_db_lane_fd(const vial_db *db) {
    return db && db->lane && db->lane->conn ? PQsocket(pg_of(db->lane->conn)) : -1;
}

void vial_db_lane_close(vial_db *db) {
    db_lane *l = db->lane;
    if (!l) return;
    if (l->conn) {
        l->conn->broken = true; /* still in pipeline mode: closed, not pooled */
        vial_db_release(l->conn);
    }
    free(l);
    db->lane = NULL;
}

/* ---- answers ---------------------------------------------------------- */

static void job_finish(db_lane *l, lane_job *j) {
    j->done = true;
    if (l->head == j) {
        l->head = j->next;
        if (!l->head) l->tail = NULL;
        l->njobs--;
        l->head_since_ms = vial_db_now_ms();
    }
    vial_unpark(&j->parked);
}

/* Every request waiting on the lane gets the failure; the connection is closed. */
static void lane_fail(db_lane *l, int code, const char *msg) {
    while (l->head) {
        lane_job *j = l->head;
        if (j->rc == 0) j->rc = vial_db_fail(j->c, code, "%s", msg);
        job_finish(l, j);
    }
    if (l->conn) {
        l->conn->broken = true;
        vial_db_release(l->conn);
        l->conn = NULL;
    }
}

static void lane_lost(db_lane *l, const char *what) {
    char line[256], msg[DB_ERRMSG_MAX];
    vial_pg_first_line(line, sizeof line, PQerrorMessage(pg_of(l->conn)));
    snprintf(msg, sizeof msg, "connection to %s lost while %s: %s", l->db->url.display, what,
             line[0] ? line : "server closed the connection");
    lane_fail(l, VIAL_DB_UNAVAILABLE, msg);
}

/* A Parse that failed: the statement is not on the server, so it leaves the cache. */
static void forget_statement(db_lane *l, lane_job *j) {
    db_stmt *s = vial_db_stmt_find(l->conn, j->sql, vial_db_hash(j->sql));
    if (s && s->id == j->stmt_id) {
        s->id = 0; /* nothing to DEALLOCATE */
        vial_db_stmt_remove(l->conn, s);
    }
}

/* Hands one result (NULL: the end of a command's results) to the request it belongs to. */
static void job_feed(db_lane *l, lane_job *j, PGresult *r) {
    if (!r) {
        j->command++;
        return;
    }
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_PIPELINE_SYNC) {
        PQclear(r);
        if (--j->syncs_left == 0) job_finish(l, j);
        return;
    }
    j->c->handle = l->conn->handle; /* for the error's connection status */
    bool parse = j->preparing && j->command == 0;
    size_t run = j->command - (j->preparing ? 1 : 0);
    if (j->rc == 0) {
        if (parse) {
            if (st != PGRES_COMMAND_OK) {
                j->rc = vial_pg_result_error(j->c, r);
                forget_statement(l, j);
            }
        } else {
            switch (st) {
            case PGRES_TUPLES_OK: {
                /* a batch collects into its run's array, a single statement into rows */
                vial_value *into = j->results ? vial_array_get(j->results, run) : j->rows;
                if (into) j->rc = vial_pg_collect_rows(j->c, j->a, r, into, j->max_rows);
                if (strncmp(PQcmdStatus(r), "SELECT", 6) != 0) j->changes += strtoll(PQcmdTuples(r), NULL, 10);
                break;
            }
            case PGRES_COMMAND_OK: j->changes += strtoll(PQcmdTuples(r), NULL, 10); break;
            case PGRES_EMPTY_QUERY: j->rc = vial_db_fail(j->c, VIAL_DB_INVALID, "empty SQL statement"); break;
            case PGRES_PIPELINE_ABORTED:
                j->rc = vial_db_fail(j->c, VIAL_DB_ERROR, "run %zu was skipped: an earlier run failed", run + 1);
                break;
            default:
                j->rc = vial_pg_result_error(j->c, r);
                if (j->nruns > 1) vial_db_name_run(j->c, run);
                break;
            }
        }
    } else if (parse && st != PGRES_COMMAND_OK) {
        forget_statement(l, j);
    }
    j->c->handle = NULL;
    j->c->broken = false; /* the lane's state, not the handle's: checked below */
    PQclear(r);
    if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH) {
        /* The protocol is in copy mode: nothing else can pass. */
        if (j->rc == 0) j->rc = vial_db_fail(j->c, VIAL_DB_INVALID, "COPY is not supported through vial's database API");
        lane_fail(l, VIAL_DB_UNAVAILABLE, "the shared connection was closed after a COPY statement");
    }
}

/* The reading role: reads answers for every request until self's are in. */
static void lane_read(db_lane *l, lane_job *self) {
    while (!self->done && l->conn) {
        PGconn *pg = pg_of(l->conn);
        int flushed = PQflush(pg);
        if (flushed < 0) {
            lane_lost(l, "sending statements");
            return;
        }
        bool after_null = false;
        while (l->head && l->conn && !PQisBusy(pg)) {
            PGresult *r = PQgetResult(pg);
            if (!r && after_null) {
                /* Two ends in a row: libpq has no command left that we wait
                 * for. Never seen; failing beats reading forever. */
                lane_fail(l, VIAL_DB_ERROR, "the shared connection lost track of its statements");
                return;
            }
            after_null = r == NULL;
            job_feed(l, l->head, r);
            if (l->conn && PQstatus(pg) == CONNECTION_BAD) {
                lane_lost(l, "reading results");
                return;
            }
        }
        if (self->done || !l->conn) return;
        int ready = 0;
        int w = vial_pg_wait_socket(pg, VIAL_WAIT_READ | (flushed ? VIAL_WAIT_WRITE : 0), l->head->deadline, &ready);
        if (w == 0) {
            char msg[DB_ERRMSG_MAX];
            snprintf(msg, sizeof msg, "no answer from %s on the shared connection, past the %d ms query timeout",
                     l->db->url.display, l->db->opt.query_timeout_ms);
            lane_fail(l, VIAL_DB_TIMEOUT, msg);
            return;
        }
        if (w < 0 || ((ready & VIAL_WAIT_READ) && !PQconsumeInput(pg))) {
            lane_lost(l, "reading results");
            return;
        }
    }
}

static void wait_done(db_lane *l, lane_job *j) {
    while (!j->done) {
        if (!l->reading) {
            l->reading = true;
            lane_read(l, j);
            l->reading = false;
            if (l->head) vial_unpark(&l->head->parked); /* the next in line reads on */
        } else {
            vial_park(&j->parked, -1);
        }
    }
}

/* ---- sending ---------------------------------------------------------- */

/* TCP_CORK on the connection's socket; false where it does not apply (a Unix socket). */
static bool set_cork(PGconn *pg, int on) {
    return setsockopt(PQsocket(pg), IPPROTO_TCP, TCP_CORK, &on, sizeof on) == 0;
}

/* A connection for the lane, in pipeline mode; 0, or the error on c. */
static int lane_open(db_lane *l, vial_db_conn *c) {
    l->opening = true;
    vial_db_conn *conn = vial_db_acquire(l->db);
    l->opening = false;
    if (!conn) return vial_db_fail(c, VIAL_DB_NOMEM, "out of memory");
    if (vial_db_errcode(conn) < 0) {
        vial_db_fail(c, vial_db_errcode(conn), "%s", vial_db_errmsg(conn));
        vial_db_release(conn);
        return c->code;
    }
    if (!PQenterPipelineMode(pg_of(conn))) {
        char line[256];
        vial_pg_first_line(line, sizeof line, PQerrorMessage(pg_of(conn)));
        conn->broken = true;
        vial_db_release(conn);
        return vial_db_fail(c, VIAL_DB_UNAVAILABLE, "could not share the connection to %s: %s", l->db->url.display,
                            line);
    }
    l->conn = conn;
    return 0;
}

/* Queues j's commands behind the others'; 0, or the error on j->c (nothing of j's was sent). */
static int lane_send(db_lane *l, lane_job *j, const vial_db_args *sets, size_t n, bool one_tx) {
    vial_db_conn *c = j->c;
    vial_db_conn *conn = l->conn;
    PGconn *pg = pg_of(conn);
    uint64_t hash = vial_db_hash(j->sql);
    db_stmt *entry = vial_db_stmt_find(conn, j->sql, hash);
    vial_buf translated;
    vial_buf_init(&translated, NULL, DB_SQL_MAX);
    int nparams = 0, rc = 0;
    pg_params *params = NULL;
    if (entry)
        nparams = entry->nparams;
    else if ((rc = vial_pg_translate(c, j->sql, &translated, &nparams)) != 0)
        goto done;
    for (size_t i = 0; i < n; i++)
        if ((size_t)nparams != sets[i].len) {
            rc = vial_db_fail_values(c, nparams, sets[i].len);
            if (n > 1) vial_db_name_run(c, i);
            goto done;
        }
    params = calloc(n, sizeof *params);
    if (!params) {
        rc = vial_db_fail(c, VIAL_DB_NOMEM, "out of memory binding values");
        goto done;
    }
    for (size_t i = 0; i < n && rc == 0; i++) rc = vial_pg_build_params(c, &sets[i], &params[i]);
    if (rc != 0) goto done;
    /* A full statement cache would evict with a DEALLOCATE, which cannot go
     * down a pipeline: past the limit the lane runs unnamed statements. */
    bool fresh = false;
    if (!entry && conn->nstmts < conn->db->opt.statement_cache) {
        entry = vial_db_stmt_add(conn, j->sql, hash);
        fresh = entry != NULL;
    }
    char name[32] = "";
    if (entry) snprintf(name, sizeof name, "vial_%u", entry->id);

    /* From here on the job is in line: a failure to queue fails the lane (and j with it). */
    j->next = NULL;
    if (l->tail)
        l->tail->next = j;
    else {
        l->head = j;
        l->head_since_ms = vial_db_now_ms();
    }
    l->tail = j;
    l->njobs++;
    c->sent = true;
    if (fresh) {
        /* Parsed in the same pipeline, just before its first run. Requests
         * queued behind it use the name at once: the server has parsed it by
         * the time their Bind arrives. */
        entry->nparams = nparams;
        j->preparing = true;
        if (!PQsendPrepare(pg, name, vial_buf_cstr(&translated), nparams, NULL)) goto send_failed;
    }
    j->stmt_id = entry ? entry->id : 0;
    for (size_t i = 0; i < n; i++) {
        int ok = entry ? PQsendQueryPrepared(pg, name, nparams, params[i].values, params[i].lengths, params[i].formats, 0)
                       : PQsendQueryParams(pg, vial_buf_cstr(&translated), nparams, NULL, params[i].values,
                                           params[i].lengths, params[i].formats, 0);
        if (!ok) goto send_failed;
        if ((!one_tx || i == n - 1)) {
            if (!PQpipelineSync(pg)) goto send_failed;
            j->syncs_left++;
        }
    }
    j->deadline = vial_pg_query_deadline(conn);
    goto done;
send_failed:
    lane_lost(l, "sending statements");
    rc = j->rc;
done:
    if (params)
        for (size_t i = 0; i < n; i++) vial_pg_free_params(&params[i]);
    free(params);
    vial_buf_free(&translated);
    return rc;
}

/* One attempt: 0, or the error on c. */
static int lane_attempt(db_lane *l, lane_job *j, const vial_db_args *sets, size_t n, bool one_tx) {
    if (l->conn && !l->head && !l->db->drv->healthy(l->conn)) {
        /* Idle, and the server closed it meanwhile (restart, pg_terminate_backend,
         * idle timeout): replace it before sending, as the pool does. */
        vial_log(VIAL_LOG_WARNING, "database connection to %s was closed by the server; reconnecting",
                 l->db->url.display);
        l->db->st.replaced++;
        l->conn->broken = true;
        vial_db_release(l->conn);
        l->conn = NULL;
    }
    if (!l->conn && lane_open(l, j->c) != 0) return j->c->code;
    /* libpq 15 writes to the socket at every Sync. The first request of a
     * loop turn corks the socket and uncorks it once the turn's other
     * requests have queued theirs: the statements of a whole turn leave in
     * one segment and wake the server once. */
    vial_db_conn *corked_conn = NULL;
    if (!l->corked && set_cork(pg_of(l->conn), 1)) {
        l->corked = true;
        corked_conn = l->conn;
    }
    int rc = lane_send(l, j, sets, n, one_tx);
    if (corked_conn) {
        vial_sleep_ms(0);
        if (l->conn == corked_conn) set_cork(pg_of(corked_conn), 0);
        l->corked = false;
    }
    if (rc != 0) return j->c->code;
    if (!j->done) wait_done(l, j);
    return j->rc;
}

int vial_pg_lane_run(vial_db_conn *c, vial_arena *a, const char *sql, const vial_db_args *sets, size_t n,
                     vial_value *rows, size_t max_rows, vial_value *results, int64_t *changes, bool one_tx) {
    db_lane *l = c->lane;
    *changes = 0;
    if (!l) return vial_db_fail(c, VIAL_DB_NOMEM, "out of memory");
    size_t rows_before = rows ? rows->as.arr.len : 0;
    for (int attempt = 0;; attempt++) {
        lane_job j;
        memset(&j, 0, sizeof j);
        j.c = c;
        j.sql = sql;
        j.a = a;
        j.rows = rows;
        j.max_rows = max_rows;
        j.nruns = n;
        if (results && n > 0) {
            /* One array per run, ready before the answers arrive. */
            j.results = results;
            results->as.arr.len = 0;
            for (size_t i = 0; i < n; i++) {
                vial_value *one = vial_new_array(a);
                if (!one || vial_array_push(results, one) != 0) return vial_db_fail(c, VIAL_DB_NOMEM, "out of memory");
            }
        }
        vial_db_set_code(c, VIAL_DB_OK);
        c->sent = false;
        int rc = lane_attempt(l, &j, sets, n, one_tx);
        c->handle = NULL;
        c->broken = false;
        if (rc == 0) {
            *changes = j.changes;
            c->changes = j.changes;
            return 0;
        }
        if (attempt > 0) return rc;
        /* Once more, as a pooled connection would: a read (or what never left)
         * after a lost connection, or a statement whose prepared plan the
         * schema changed under it. */
        bool retry = (rc == VIAL_DB_UNAVAILABLE && (!c->sent || vial_db_sql_readonly(sql))) ||
                     (rc == VIAL_DB_ERROR && (strcmp(c->sqlstate, "0A000") == 0 || strcmp(c->sqlstate, "26000") == 0));
        if (!retry) return rc;
        if (rc == VIAL_DB_UNAVAILABLE)
            vial_log(VIAL_LOG_WARNING, "database connection to %s lost (%s); reconnecting and retrying once",
                     l->db->url.display, c->msg);
        if (rows) rows->as.arr.len = rows_before;
    }
}
