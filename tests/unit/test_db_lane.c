/* The shared pipelined connection (src/db/pg_lane.c): requests on a worker's
 * loop that hold no connection send their reads, UPDATEs and DELETEs down one
 * PostgreSQL connection, each statement its own transaction, each request
 * getting its own rows and its own errors. On SQLite (no
 * VIAL_TEST_DATABASE_URL) there is no lane: the tests check that and run the
 * same requests on pooled connections, which must give the same answers. */
#include <netinet/tcp.h>

#include "coro_testutil.h"
#include "db/db.h"
#include "db_testutil.h"

static void setup(void) {
    test_db_setup();
    cr_assert_eq(vial_loop_init(&loop, 0, 64), 0);
    jobs_done = 0;
    events[0] = '\0';
    vial_db_conn *c = vial_db_acquire(T.db);
    cr_assert_eq(vial_db_script(c, "CREATE TABLE item (id INTEGER PRIMARY KEY, v INTEGER NOT NULL)"), 0, "%s",
                 vial_db_errmsg(c));
    cr_assert_eq(vial_db_begin(c), 0);
    for (int id = 1; id <= 100; id++) cr_assert_eq(vial_db_exec(c, "INSERT INTO item (id, v) VALUES (?, ?)", id, id * 7), 1);
    cr_assert_eq(vial_db_commit(c), 0);
    vial_db_release(c);
}

static void teardown(void) {
    vial_loop_close(&loop);
    test_db_teardown();
}

TestSuite(db_lane, .init = setup, .fini = teardown, .timeout = 120);

/* A request's statement runs where a request-level call would put it: the
 * lane when it may, else a pooled connection (released by the caller). */
typedef struct where {
    vial_db_conn handle;
    vial_db_conn *conn;
    bool pooled;
} where;

static vial_db_conn *conn_for(where *w, const char *sql) {
    if (vial_db_lane_usable(T.db, sql)) {
        cr_assert(vial_db_lane_handle(T.db, &w->handle));
        w->conn = &w->handle;
        w->pooled = false;
    } else {
        w->conn = vial_db_acquire(T.db);
        w->pooled = true;
    }
    return w->conn;
}

static void done_with(where *w) {
    if (w->pooled) vial_db_release(w->conn);
    w->conn = NULL;
}

/* ---- who may use it ---- */

static bool usable[8];
static void ask_usable(void *arg) {
    (void)arg;
    static const char *const sql[] = {"SELECT 1", " update item SET v = 1", "DELETE FROM item", "VALUES (1)",
                                      "INSERT INTO item (id, v) VALUES (1, 1)", "SET search_path = x", "BEGIN",
                                      "CREATE TABLE x (a int)"};
    for (int i = 0; i < 8; i++) usable[i] = vial_db_lane_usable(T.db, sql[i]);
}

Test(db_lane, only_sessionless_statements_of_postgresql_requests_on_a_loop) {
    cr_assert_not(vial_db_lane_usable(T.db, "SELECT 1"), "outside a request's coroutine there is no lane");
    start(ask_usable, NULL);
    run_until(1);
    for (int i = 0; i < 4; i++) cr_assert_eq(usable[i], T.pg, "statement %d: lane on PostgreSQL only", i);
    for (int i = 4; i < 8; i++) cr_assert_not(usable[i], "statement %d leaves session state: pooled connection", i);

    vial_db_close(T.db);
    T.db = test_db_open_opts(&(vial_db_options){.shared_pipeline = -1});
    jobs_done = 0;
    start(ask_usable, NULL);
    run_until(1);
    for (int i = 0; i < 8; i++) cr_assert_not(usable[i], "shared_pipeline = -1 turns the lane off");
}

/* ---- many requests, one connection, each its own rows ---- */

#define READERS 40
static int right_rows;
static char reader_error[DB_ERRMSG_MAX];

static void reader(void *arg) {
    int id = (int)(intptr_t)arg;
    where w;
    vial_db_conn *c = conn_for(&w, "SELECT id, v FROM item WHERE id = ?");
    vial_value *row = vial_db_one(c, T.a, "SELECT id, v FROM item WHERE id = ?", id);
    bool ok = row && vial_get_int(row, "id", -1) == id && vial_get_int(row, "v", -1) == id * 7;
    /* and a batch of three reads, one snapshot, in the order asked */
    vial_db_args sets[3];
    vial_value ids[3];
    for (int i = 0; i < 3; i++) {
        ids[i] = VIAL_BIND(id + i);
        sets[i] = (vial_db_args){&ids[i], 1};
    }
    vial_value *batch = vial_db_query_many(c, T.a, "SELECT id, v FROM item WHERE id = ?", sets, 3);
    for (int i = 0; ok && i < 3; i++) {
        vial_value *r = vial_array_get(vial_array_get(batch, (size_t)i), 0);
        ok = r && vial_get_int(r, "v", -1) == (id + i) * 7;
    }
    if (ok)
        right_rows++;
    else if (!reader_error[0])
        snprintf(reader_error, sizeof reader_error, "request %d: %s", id, vial_db_errmsg(c));
    done_with(&w);
}

Test(db_lane, concurrent_requests_share_one_connection_and_each_gets_its_own_rows) {
    right_rows = 0;
    reader_error[0] = '\0';
    for (int i = 1; i <= READERS; i++) start(reader, (void *)(intptr_t)i);
    run_until(READERS);
    /* then one at a time: the lane is idle before each, and stays the same connection */
    for (int i = 1; i <= 5; i++) {
        start(reader, (void *)(intptr_t)i);
        run_until(READERS + i);
    }
    cr_assert_eq(right_rows, READERS + 5, "%d of %d requests got their own rows (%s)", right_rows, READERS + 5,
                 reader_error);
    vial_db_stats st;
    vial_db_get_stats(T.db, &st);
    if (T.pg) {
        /* the turn's statements were corked into one segment; the cork is off again */
        int fd = vial_db_lane_fd(T.db), corked = -1;
        socklen_t len = sizeof corked;
        cr_assert_geq(fd, 0);
        cr_assert_eq(getsockopt(fd, IPPROTO_TCP, TCP_CORK, &corked, &len), 0);
        cr_assert_eq(corked, 0, "the lane's socket is left uncorked");
    }
    if (T.pg)
        cr_assert(st.connects == 1 && st.open == 1 && st.replaced == 0,
                  "one connection (the setup's, then the lane's), not one per request: %llu opened, %d open, "
                  "%llu replaced",
                  (unsigned long long)st.connects, st.open, (unsigned long long)st.replaced);
}

/* ---- errors stay with their request ---- */

typedef struct outcome {
    const char *sql;
    int code;
    char msg[DB_ERRMSG_MAX];
    int64_t value;
} outcome;

static void run_scalar(void *arg) {
    outcome *o = arg;
    where w;
    vial_db_conn *c = conn_for(&w, o->sql);
    vial_value *v = vial_db_scalar(c, T.a, o->sql);
    o->code = vial_db_errcode(c);
    snprintf(o->msg, sizeof o->msg, "%s", vial_db_errmsg(c));
    o->value = v && v->type == VIAL_INT ? v->as.i : -1;
    done_with(&w);
}

Test(db_lane, a_failing_statement_fails_only_its_own_request) {
    outcome o[6] = {
        {.sql = "SELECT v FROM item WHERE id = 1"},
        {.sql = "SELECT abs(-9223372036854775807 - 1 + 0 * v) FROM item WHERE id = 2"}, /* fails when it runs */
        {.sql = "SELECT v FROM item WHERE id = 3"},
        {.sql = "SELECT nope FROM item WHERE id = 4"},          /* fails when parsed */
        {.sql = "SELECT nope FROM item WHERE id = 4"},          /* the same, queued behind the failing Parse */
        {.sql = "SELECT v FROM item WHERE id = 5"},
    };
    for (int i = 0; i < 6; i++) start(run_scalar, &o[i]);
    run_until(6);
    cr_assert_eq(o[0].value, 7, "%s", o[0].msg);
    cr_assert_eq(o[2].value, 21, "%s", o[2].msg);
    cr_assert_eq(o[5].value, 35, "%s", o[5].msg);
    cr_assert_eq(o[1].code, VIAL_DB_ERROR, "%d %s", o[1].code, o[1].msg);
    cr_assert(strstr(o[1].msg, T.pg ? "out of range" : "integer overflow"), "%s", o[1].msg);
    for (int i = 3; i <= 4; i++) {
        cr_assert_eq(o[i].code, VIAL_DB_ERROR, "%d: %s", i, o[i].msg);
        cr_assert(strstr(o[i].msg, "nope"), "%d names the column: %s", i, o[i].msg);
    }
    /* and afterwards the lane still answers */
    outcome after = {.sql = "SELECT v FROM item WHERE id = 6"};
    jobs_done = 0;
    start(run_scalar, &after);
    run_until(1);
    cr_assert_eq(after.value, 42, "%s", after.msg);
}

static int wrong_count_code;
static char wrong_count_msg[DB_ERRMSG_MAX];
static void wrong_count(void *arg) {
    (void)arg;
    where w;
    vial_db_conn *c = conn_for(&w, "SELECT v FROM item WHERE id = ?");
    vial_value *v = vial_db_scalar(c, T.a, "SELECT v FROM item WHERE id = ?", 1, 2);
    wrong_count_code = v ? 0 : vial_db_errcode(c);
    snprintf(wrong_count_msg, sizeof wrong_count_msg, "%s", vial_db_errmsg(c));
    done_with(&w);
}

Test(db_lane, a_wrong_number_of_values_is_refused_before_sending) {
    start(wrong_count, NULL);
    run_until(1);
    cr_assert_eq(wrong_count_code, VIAL_DB_INVALID);
    cr_assert(strstr(wrong_count_msg, "1 placeholder but 2 values were given"), "%s", wrong_count_msg);
}

/* ---- transactions: one per statement, one per batch of reads ---- */

static int64_t txids[8];
static int64_t many_txids[3], each_txids[3];
static void own_transaction(void *arg) {
    int i = (int)(intptr_t)arg;
    where w;
    vial_db_conn *c = conn_for(&w, "SELECT 1");
    vial_value *v = vial_db_scalar(c, T.a, T.pg ? "SELECT txid_current()" : "SELECT 1");
    txids[i] = v ? v->as.i : -1;
    done_with(&w);
}
static void batch_transactions(void *arg) {
    (void)arg;
    where w;
    const char *sql = "SELECT txid_current() + 0 * ?";
    vial_db_conn *c = conn_for(&w, sql);
    vial_db_args sets[3];
    vial_value zeros[3];
    for (int i = 0; i < 3; i++) {
        zeros[i] = VIAL_BIND(i);
        sets[i] = (vial_db_args){&zeros[i], 1};
    }
    vial_value *many = vial_db_query_many(c, T.a, sql, sets, 3);
    vial_value *each = vial_db_query_each(c, T.a, sql, sets, 3);
    for (int i = 0; i < 3; i++) {
        vial_value *m = vial_array_get(vial_array_get(many, (size_t)i), 0);
        vial_value *e = vial_array_get(vial_array_get(each, (size_t)i), 0);
        many_txids[i] = m && m->as.obj.len ? m->as.obj.items[0].value->as.i : -1;
        each_txids[i] = e && e->as.obj.len ? e->as.obj.items[0].value->as.i : -1;
    }
    done_with(&w);
}

Test(db_lane, each_statement_is_its_own_transaction_and_a_batch_of_reads_shares_one) {
    if (!T.pg) {
        /* txid_current is PostgreSQL's; SQLite has no lane to check (first test). */
        start(own_transaction, (void *)0);
        run_until(1);
        cr_assert_eq(txids[0], 1);
        return;
    }
    for (int i = 0; i < 8; i++) start(own_transaction, (void *)(intptr_t)i);
    start(batch_transactions, NULL);
    run_until(9);
    for (int i = 0; i < 8; i++) {
        cr_assert_gt(txids[i], 0);
        for (int k = 0; k < i; k++) cr_assert_neq(txids[i], txids[k], "statements %d and %d shared a transaction", k, i);
    }
    cr_assert_gt(many_txids[0], 0);
    cr_assert(many_txids[0] == many_txids[1] && many_txids[1] == many_txids[2], "query_many: one transaction");
    cr_assert(each_txids[0] != each_txids[1] && each_txids[1] != each_txids[2] && each_txids[0] != each_txids[2],
              "query_each: one transaction per run");
}

/* ---- writes: UPDATE and DELETE, rows counted per request ---- */

static int64_t changed[4];
static void writer(void *arg) {
    int i = (int)(intptr_t)arg;
    where w;
    const char *sql = i < 3 ? "UPDATE item SET v = v + 1000 WHERE id BETWEEN ? AND ?" : "DELETE FROM item WHERE id > ?";
    vial_db_conn *c = conn_for(&w, sql);
    changed[i] = i < 3 ? vial_db_exec(c, sql, i * 10 + 1, i * 10 + 1 + i) : vial_db_exec(c, sql, 90);
    done_with(&w);
}

Test(db_lane, updates_and_deletes_count_their_own_rows) {
    for (int i = 0; i < 4; i++) start(writer, (void *)(intptr_t)i);
    run_until(4);
    cr_assert_eq(changed[0], 1);
    cr_assert_eq(changed[1], 2);
    cr_assert_eq(changed[2], 3);
    cr_assert_eq(changed[3], 10);
    vial_db_conn *c = vial_db_acquire(T.db);
    cr_assert_eq(vial_db_scalar(c, T.a, "SELECT count(*) FROM item")->as.i, 90);
    cr_assert_eq(vial_db_scalar(c, T.a, "SELECT count(*) FROM item WHERE v >= 1000")->as.i, 6);
    vial_db_release(c);
}

/* ---- models: reads, UPDATE and DELETE by key and by filter ---- */

static const vial_model Item = {
    .table = "item",
    .columns = (const vial_column[]){{"id", VIAL_INTEGER, .primary_key = true}, {"v", VIAL_INTEGER, .not_null = true}, {0}},
};

static int model_ok;
static char model_error[DB_ERRMSG_MAX];
static void model_request(void *arg) {
    int id = (int)(intptr_t)arg;
    where w;
    vial_db_conn *c = conn_for(&w, "SELECT");
    bool ok = true;
    vial_value *row = vial_db_get(c, T.a, &Item, id);
    ok &= row && vial_get_int(row, "v", -1) == id * 7;
    vial_value *changes = vial_new_object(T.a);
    vial_object_set(changes, "v", vial_new_int(T.a, -id));
    ok &= vial_db_update(c, &Item, id, changes) == 1;
    vial_value *args = vial_new_int(T.a, -id);
    vial_query q = {.where = "v = ?", .args = {args, 1}};
    ok &= vial_db_count_q(c, &Item, &q) == 1;
    vial_query page = {.where = "id BETWEEN ? AND ?", .args = {(vial_value[]){VIAL_BIND(id), VIAL_BIND(id + 2)}, 2},
                       .order_by = "id DESC"};
    vial_value *rows = vial_db_select_q(c, T.a, &Item, &page);
    ok &= rows && rows->as.arr.len == 3 && vial_get_int(vial_array_get(rows, 0), "id", -1) == id + 2;
    if (ok)
        model_ok++;
    else if (!model_error[0])
        snprintf(model_error, sizeof model_error, "request %d: %s", id, vial_db_errmsg(c));
    done_with(&w);
}

Test(db_lane, model_reads_and_writes_from_many_requests_at_once) {
    model_ok = 0;
    model_error[0] = '\0';
    for (int id = 1; id <= 30; id += 3) start(model_request, (void *)(intptr_t)id);
    run_until(10);
    cr_assert_eq(model_ok, 10, "%s", model_error);
    vial_db_conn *c = vial_db_acquire(T.db);
    cr_assert_eq(vial_db_scalar(c, T.a, "SELECT count(*) FROM item WHERE v < 0")->as.i, 10);
    vial_db_release(c);
}

/* ---- a slow statement ---- */

static volatile bool slow_finished;
static void slow_reader(void *arg) {
    (void)arg;
    where w;
    const char *sql = "SELECT 1 FROM (SELECT pg_sleep(0.3)) AS s";
    vial_db_conn *c = conn_for(&w, sql);
    note(w.pooled ? "slow:pooled" : "slow:lane");
    note(vial_db_scalar(c, T.a, sql) ? "slow:done" : vial_db_errmsg(c));
    slow_finished = true;
    done_with(&w);
}
static void fast_reader(void *arg) {
    (void)arg;
    vial_sleep_ms(60); /* the slow statement has been at the head of the lane for a while */
    where w;
    vial_db_conn *c = conn_for(&w, "SELECT v FROM item WHERE id = 9");
    note(w.pooled ? "fast:pooled" : "fast:lane");
    vial_value *v = vial_db_scalar(c, T.a, "SELECT v FROM item WHERE id = 9");
    note(v && v->as.i == 63 ? (slow_finished ? "fast:after-slow" : "fast:done") : vial_db_errmsg(c));
    done_with(&w);
}

Test(db_lane, a_slow_statement_sends_the_next_requests_to_pooled_connections) {
    if (!T.pg) {
        cr_assert_not(vial_db_lane_usable(T.db, "SELECT 1"));
        return; /* pg_sleep is PostgreSQL's; db_coro covers waiting on SQLite */
    }
    slow_finished = false;
    start(slow_reader, NULL);
    start(fast_reader, NULL);
    run_until(2);
    cr_assert_str_eq(events, "slow:lane,fast:pooled,fast:done,slow:done", "%s", events);
}

/* ---- the server ends the lane's session ---- */

static int64_t lane_pid;
static int after_loss_code[2];
static int64_t after_loss_value;
static void lane_backend_pid(void *arg) {
    (void)arg;
    where w;
    vial_db_conn *c = conn_for(&w, "SELECT pg_backend_pid()");
    vial_value *v = vial_db_scalar(c, T.a, "SELECT pg_backend_pid()");
    lane_pid = v ? v->as.i : -1;
    done_with(&w);
}
static void terminate_lane(void) {
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%lld)", (long long)lane_pid);
    test_db_admin(sql);
    vial_sleep_ms(100); /* outside the loop: the backend has gone by now */
}
static void read_after_loss(void *arg) {
    (void)arg;
    where w;
    vial_db_conn *c = conn_for(&w, "SELECT v FROM item WHERE id = 10");
    vial_value *v = vial_db_scalar(c, T.a, "SELECT v FROM item WHERE id = 10");
    after_loss_code[0] = vial_db_errcode(c);
    after_loss_value = v ? v->as.i : -1;
    done_with(&w);
}
/* An UPDATE the server is running when its session is terminated. */
static const char *const slow_update = "UPDATE item SET v = v + 0 * (SELECT count(*) FROM pg_sleep(0.5)) WHERE id = 11";
static void update_in_flight(void *arg) {
    (void)arg;
    where w;
    vial_db_conn *c = conn_for(&w, slow_update);
    vial_db_exec(c, slow_update);
    after_loss_code[1] = vial_db_errcode(c);
    done_with(&w);
}
static void terminator(void *arg) {
    (void)arg;
    vial_sleep_ms(150); /* the UPDATE is running by now */
    terminate_lane();
}

Test(db_lane, a_lost_session_is_replaced_reads_retried_writes_reported) {
    if (!T.pg) {
        cr_assert_not(vial_db_lane_usable(T.db, "SELECT 1"));
        return; /* pg_terminate_backend is PostgreSQL's; test_db_api covers lost SQLite files */
    }
    /* Terminated while idle: the next statement finds out before sending. */
    start(lane_backend_pid, NULL);
    run_until(1);
    cr_assert_gt(lane_pid, 0);
    int64_t first_pid = lane_pid;
    terminate_lane();
    start(read_after_loss, NULL);
    run_until(2);
    cr_assert_eq(after_loss_code[0], VIAL_DB_OK, "the idle lane was replaced before the read went out");
    cr_assert_eq(after_loss_value, 70);
    start(lane_backend_pid, NULL);
    run_until(3);
    cr_assert_neq(lane_pid, first_pid, "a new session");

    /* Terminated while an UPDATE runs: that request is told, not retried (it may have committed). */
    start(update_in_flight, NULL);
    start(terminator, NULL);
    run_until(5);
    cr_assert_eq(after_loss_code[1], VIAL_DB_UNAVAILABLE, "a write that may have reached the server is not repeated");
    start(read_after_loss, NULL);
    run_until(6);
    cr_assert_eq(after_loss_code[0], VIAL_DB_OK, "the next request opens a new lane");
    vial_db_stats st;
    vial_db_get_stats(T.db, &st);
    cr_assert_geq(st.replaced, 1, "the idle replacement is counted");
}

/* ---- more statements than the cache holds ---- */

static int cached_ok;
static void distinct_statement(void *arg) {
    int i = (int)(intptr_t)arg;
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT v + %d FROM item WHERE id = ?", i);
    where w;
    vial_db_conn *c = conn_for(&w, sql);
    vial_value *v = vial_db_scalar(c, T.a, sql, i + 1);
    if (v && v->as.i == (i + 1) * 7 + i) cached_ok++;
    done_with(&w);
}

Test(db_lane, statements_past_the_cache_run_unnamed) {
    vial_db_close(T.db);
    T.db = test_db_open_opts(&(vial_db_options){.statement_cache = 2});
    cached_ok = 0;
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 6; i++) start(distinct_statement, (void *)(intptr_t)i);
    run_until(12);
    cr_assert_eq(cached_ok, 12);
}

/* ---- the server's statement timeout ---- */

Test(db_lane, a_statement_past_the_query_timeout_fails_alone) {
    vial_db_close(T.db);
    T.db = test_db_open_opts(&(vial_db_options){.query_timeout_ms = 200});
    outcome o[2] = {
        {.sql = T.pg ? "SELECT 1 FROM (SELECT pg_sleep(2)) AS s" : "SELECT 1"},
        {.sql = "SELECT v FROM item WHERE id = 12"},
    };
    for (int i = 0; i < 2; i++) start(run_scalar, &o[i]);
    run_until(2);
    cr_assert_eq(o[0].code, T.pg ? VIAL_DB_TIMEOUT : VIAL_DB_OK, "%s", o[0].msg);
    cr_assert_eq(o[1].value, 84, "the request behind it got its answer: %s", o[1].msg);
}
