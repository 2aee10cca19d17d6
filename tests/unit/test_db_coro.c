/* Database waits on a worker's coroutines (SQLite by default, PostgreSQL with
 * VIAL_TEST_DATABASE_URL): a slow statement, a lock wait, a wait for a pooled
 * connection and a PostgreSQL connect all park the coroutine, so another
 * coroutine on the same thread keeps running meanwhile. Were any of them to
 * block the thread, the other coroutine could not make progress (and the lock
 * and pool cases would deadlock until their timeouts). Coroutines get the
 * loop's default stack size, as request handlers do. */
#include "db/db.h"
#include "coro_testutil.h"
#include "db_testutil.h"

static void setup(void) {
    test_db_setup();
    cr_assert_eq(vial_loop_init(&loop, 0, 8), 0);
    jobs_done = 0;
    events[0] = '\0';
}

static void teardown(void) {
    vial_loop_close(&loop);
    test_db_teardown();
}

TestSuite(db_coro, .init = setup, .fini = teardown, .timeout = 120);

/* A coroutine that counts its turns until *stop is set (bounded). */
static volatile bool slow_done;
static int ticks_while_waiting;
static void ticker(void *arg) {
    (void)arg;
    for (int i = 0; i < 1000 && !slow_done; i++) {
        ticks_while_waiting++;
        vial_sleep_ms(5);
    }
}

/* ---- a slow statement (PostgreSQL) or a lock held by another coroutine (SQLite) ---- */

static int slow_ok;
static void slow_query(void *arg) {
    (void)arg;
    cr_assert(vial_in_coroutine());
    vial_db_conn *c = vial_db_acquire(T.db);
    note("slow:start");
    slow_ok = vial_db_scalar(c, T.a, "SELECT 1 FROM (SELECT pg_sleep(0.3)) AS s") != NULL;
    note(slow_ok ? "slow:done" : vial_db_errmsg(c));
    slow_done = true;
    vial_db_release(c);
}

static int writer_ok;
static void lock_holder(void *arg) {
    (void)arg;
    vial_db_conn *c = vial_db_acquire(T.db);
    cr_assert_eq(vial_db_begin(c), 0, "%s", vial_db_errmsg(c));
    cr_assert_eq(vial_db_exec(c, "INSERT INTO item (v) VALUES (1)"), 1);
    note("holder:locked");
    for (int i = 0; i < 10; i++) vial_sleep_ms(10); /* the writer must wait, parked, meanwhile */
    note("holder:commit");
    cr_assert_eq(vial_db_commit(c), 0, "%s", vial_db_errmsg(c));
    vial_db_release(c);
}
static void blocked_writer(void *arg) {
    (void)arg;
    vial_db_conn *c = vial_db_acquire(T.db);
    note("writer:start");
    writer_ok = vial_db_exec(c, "INSERT INTO item (v) VALUES (2)") == 1;
    note(writer_ok ? "writer:done" : vial_db_errmsg(c));
    slow_done = true;
    vial_db_release(c);
}

Test(db_coro, a_waiting_statement_lets_the_worker_run_other_coroutines) {
    vial_db_conn *c = vial_db_acquire(T.db);
    cr_assert_eq(vial_db_script(c, "CREATE TABLE item (v INTEGER)"), 0, "%s", vial_db_errmsg(c));
    vial_db_release(c);
    slow_done = false;
    ticks_while_waiting = 0;
    if (T.pg) {
        start(slow_query, NULL);
        start(ticker, NULL);
        run_until(2);
        cr_assert(slow_ok, "%s", events);
    } else {
        start(lock_holder, NULL);
        start(blocked_writer, NULL);
        start(ticker, NULL);
        run_until(3);
        cr_assert(writer_ok, "%s", events);
        cr_assert_str_eq(events, "holder:locked,writer:start,holder:commit,writer:done",
                         "the writer waited for the lock while the holder went on");
        c = vial_db_acquire(T.db);
        cr_assert_eq(vial_db_scalar(c, T.a, "SELECT count(*) FROM item")->as.i, 2);
        vial_db_release(c);
    }
    cr_assert_gt(ticks_while_waiting, 2, "another coroutine ran %d times meanwhile (events: %s)",
                 ticks_while_waiting, events);
}

/* ---- waiting for a pooled connection ---- */

static vial_db_conn *first_conn, *second_conn;
static void holds_the_only_connection(void *arg) {
    (void)arg;
    first_conn = vial_db_acquire(T.db);
    note("a:acquired");
    for (int i = 0; i < 5; i++) vial_sleep_ms(10);
    note("a:release");
    vial_db_release(first_conn);
}
static void waits_for_a_connection(void *arg) {
    (void)arg;
    note("b:acquire");
    second_conn = vial_db_acquire(T.db);
    note(vial_db_errcode(second_conn) == VIAL_DB_OK ? "b:acquired" : vial_db_errmsg(second_conn));
    vial_value *v = vial_db_scalar(second_conn, T.a, "SELECT 3");
    if (!v || v->as.i != 3) note("b:query failed");
    vial_db_release(second_conn);
}

Test(db_coro, a_request_waits_parked_for_a_free_connection) {
    vial_db_close(T.db);
    T.db = test_db_open_opts(&(vial_db_options){.pool_size = 1, .pool_timeout_ms = 30000});
    start(holds_the_only_connection, NULL);
    start(waits_for_a_connection, NULL);
    run_until(2);
    /* (on PostgreSQL a's connect parks too, so b may ask before a has it) */
    const char *asked = strstr(events, "b:acquire,"), *released = strstr(events, "a:release");
    cr_assert(asked && released && asked < released, "b asked while a held it: %s", events);
    cr_assert_not_null(strstr(events, "a:acquired"), "%s", events);
    cr_assert_str_eq(released, "a:release,b:acquired", "b got it once a released it: %s", events);
    cr_assert_eq(second_conn, first_conn, "the released connection was handed over");
}

static void times_out_waiting(void *arg) {
    (void)arg;
    vial_db_conn *c = vial_db_acquire(T.db);
    note(vial_db_errcode(c) == VIAL_DB_UNAVAILABLE && strstr(vial_db_errmsg(c), "waiting for a free connection")
             ? "timed out"
             : vial_db_errmsg(c));
    vial_db_release(c);
}
static void hogs_the_connection(void *arg) {
    (void)arg;
    vial_db_conn *c = vial_db_acquire(T.db);
    while (!slow_done) vial_sleep_ms(10);
    vial_db_release(c);
}
static void waits_then_stops_the_hog(void *arg) {
    times_out_waiting(arg);
    slow_done = true;
}

Test(db_coro, the_wait_for_a_connection_is_bounded) {
    vial_db_close(T.db);
    T.db = test_db_open_opts(&(vial_db_options){.pool_size = 1, .pool_timeout_ms = 100});
    slow_done = false;
    start(hogs_the_connection, NULL);
    start(waits_then_stops_the_hog, NULL);
    run_until(2);
    cr_assert_str_eq(events, "timed out");
}

/* Waiters are served in arrival order: a request arriving just as a connection
 * is released queues behind those already waiting instead of taking it. */
static volatile bool released_once;
static void fifo_holder(void *arg) {
    (void)arg;
    vial_db_conn *c = vial_db_acquire(T.db);
    note("A");
    for (int i = 0; i < 10; i++) vial_sleep_ms(5); /* B, C and D queue meanwhile */
    vial_db_release(c);
    released_once = true;
}
static void fifo_waiter(void *arg) {
    vial_db_conn *c = vial_db_acquire(T.db);
    note(vial_db_errcode(c) == VIAL_DB_OK ? (const char *)arg : vial_db_errmsg(c));
    vial_sleep_ms(2);
    vial_db_release(c);
}
static void fifo_latecomer(void *arg) {
    for (int i = 0; i < 1000 && !released_once; i++) vial_sleep_ms(1);
    fifo_waiter(arg);
}

Test(db_coro, waiting_requests_get_connections_in_arrival_order) {
    vial_db_close(T.db);
    T.db = test_db_open_opts(&(vial_db_options){.pool_size = 1, .pool_timeout_ms = 30000});
    released_once = false;
    start(fifo_holder, NULL);
    start(fifo_latecomer, "E");
    start(fifo_waiter, "B");
    start(fifo_waiter, "C");
    start(fifo_waiter, "D");
    run_until(5);
    cr_assert_str_eq(events, "A,B,C,D,E", "served in arrival order: %s", events);
    vial_db_stats st;
    vial_db_get_stats(T.db, &st);
    cr_assert_eq(st.connects, 1, "one connection handed from request to request");
}

/* ---- connecting to PostgreSQL (no server needed) ---- */

static int silent_port;
static void connects_to_a_silent_server(void *arg) {
    (void)arg;
    char url[128], err[256];
    snprintf(url, sizeof url, "postgresql://u@127.0.0.1:%d/db", silent_port);
    vial_db *db = vial_db_open(url, &(vial_db_options){.connect_timeout_ms = 300}, err, sizeof err);
    vial_db_conn *c = vial_db_acquire(db);
    note(vial_db_errcode(c) == VIAL_DB_UNAVAILABLE ? "connect:unavailable" : "connect:unexpected");
    slow_done = true;
    vial_db_release(c);
    vial_db_close(db);
}

Test(db_coro, connecting_to_postgresql_does_not_block_the_worker) {
    int fd = test_db_silent_listener(&silent_port);
    slow_done = false;
    ticks_while_waiting = 0;
    start(connects_to_a_silent_server, NULL);
    start(ticker, NULL);
    run_until(2);
    close(fd);
    cr_assert_str_eq(events, "connect:unavailable");
    cr_assert_gt(ticks_while_waiting, 2, "another coroutine ran %d times during the connect", ticks_while_waiting);
}
