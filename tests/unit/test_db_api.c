/* The statement API on SQLite (default) or PostgreSQL (VIAL_TEST_DATABASE_URL):
 * binding, typed results, NULLs, unicode, blobs, errors, transactions and
 * savepoints, the pool (reuse, limits, broken connections, fork), and a
 * PostgreSQL server that is down or silent. */
#include <signal.h>
#include <sys/wait.h>

#include "db/db.h"
#include "db_testutil.h"

TestSuite(db_api, .init = test_db_setup, .fini = test_db_teardown, .timeout = 120);

static vial_db_conn *conn(void) {
    vial_db_conn *c = vial_db_acquire(T.db);
    cr_assert_not_null(c);
    cr_assert_eq(vial_db_errcode(c), VIAL_DB_OK, "acquire: %s", vial_db_errmsg(c));
    return c;
}

static void make_table(vial_db_conn *c) {
    char sql[512];
    snprintf(sql, sizeof sql,
             "CREATE TABLE item (%s, i BIGINT, r DOUBLE PRECISION, s TEXT UNIQUE, b %s, flag BOOLEAN, at TIMESTAMP)",
             test_db_serial_pk(), test_db_blob_type());
    cr_assert_eq(vial_db_script(c, sql), 0, "%s", vial_db_errmsg(c));
}

Test(db_api, literals_come_back_typed) {
    vial_db_conn *c = conn();
    vial_value *row = vial_db_one(c, T.a, "SELECT 1 AS i, 2.5 AS d, 'h\xc3\xa9llo' AS s, NULL AS n");
    cr_assert_not_null(row, "%s", vial_db_errmsg(c));
    cr_assert_eq(vial_object_get(row, "i")->type, VIAL_INT);
    cr_assert_eq(vial_get_int(row, "i", 0), 1);
    cr_assert_eq(vial_object_get(row, "d")->type, VIAL_DOUBLE);
    cr_assert_float_eq(vial_get_double(row, "d", 0), 2.5, 1e-12);
    cr_assert_str_eq(vial_get_str(row, "s"), "h\xc3\xa9llo");
    cr_assert_eq(vial_object_get(row, "n")->type, VIAL_NULL);
    /* keys keep the select-list order */
    cr_assert_str_eq(row->as.obj.items[0].key, "i");
    cr_assert_str_eq(row->as.obj.items[3].key, "n");
    vial_db_release(c);
}

Test(db_api, generic_binding_round_trip) {
    vial_db_conn *c = conn();
    make_table(c);
    static const unsigned char bytes[] = {0, 1, 2, 0xff, 0, 'x'};
    long long big = 9007199254740993LL;
    int64_t n = vial_db_exec(c, "INSERT INTO item (i, r, s, b, flag, at) VALUES (?, ?, ?, ?, ?, ?)", big, 3.25,
                             "text", VIAL_BLOB(bytes, sizeof bytes), (bool)true, "2024-01-02 03:04:05");
    cr_assert_eq(n, 1, "%s", vial_db_errmsg(c));
    vial_value *row = vial_db_one(c, T.a, "SELECT i, r, s, b, flag, at FROM item WHERE s = ?", "text");
    cr_assert_not_null(row, "%s", vial_db_errmsg(c));
    cr_assert_eq(vial_object_get(row, "i")->type, VIAL_INT);
    cr_assert_eq(vial_get_int(row, "i", 0), big);
    cr_assert_eq(vial_object_get(row, "r")->type, VIAL_DOUBLE);
    cr_assert_eq(vial_get_double(row, "r", 0), 3.25);
    vial_value *b = vial_object_get(row, "b");
    cr_assert_eq(b->type, VIAL_STRING);
    cr_assert(b->flags & VIAL_FLAG_BLOB);
    cr_assert_eq(b->as.s.len, sizeof bytes);
    cr_assert_eq(memcmp(b->as.s.ptr, bytes, sizeof bytes), 0);
    vial_value *flag = vial_object_get(row, "flag");
    cr_assert_eq(flag->type, VIAL_BOOL, "BOOLEAN columns are bools on both backends");
    cr_assert(flag->as.b);
    cr_assert_str_eq(vial_get_str(row, "at"), "2024-01-02 03:04:05");
    /* bind by other C types: unsigned, short, float, const char *, vial_value * */
    unsigned short us = 7;
    float f = 0.5f;
    const char *cs = "other";
    vial_value *vi = vial_new_int(T.a, 11);
    cr_assert_eq(vial_db_exec(c, "INSERT INTO item (i, r, s) VALUES (?, ?, ?)", us, f, cs), 1, "%s",
                 vial_db_errmsg(c));
    cr_assert_eq(vial_db_exec(c, "UPDATE item SET i = ? WHERE s = ?", vi, "other"), 1, "%s", vial_db_errmsg(c));
    vial_value *v = vial_db_scalar(c, T.a, "SELECT r FROM item WHERE i = ?", 11);
    cr_assert_not_null(v, "%s", vial_db_errmsg(c));
    cr_assert_eq(v->as.d, 0.5);
    vial_db_release(c);
}

Test(db_api, nulls_in_and_out) {
    vial_db_conn *c = conn();
    make_table(c);
    const char *no_text = NULL;
    vial_value *no_value = NULL;
    cr_assert_eq(vial_db_exec(c, "INSERT INTO item (i, r, s, b) VALUES (?, ?, ?, ?)", no_value, VIAL_SQL_NULL,
                              no_text, (void *)NULL),
                 1, "%s", vial_db_errmsg(c));
    vial_value *row = vial_db_one(c, T.a, "SELECT i, r, s, b, flag, at FROM item");
    cr_assert_not_null(row);
    for (size_t i = 0; i < row->as.obj.len; i++)
        cr_assert_eq(row->as.obj.items[i].value->type, VIAL_NULL, "%s", row->as.obj.items[i].key);
    cr_assert_eq(vial_db_scalar(c, T.a, "SELECT count(*) FROM item WHERE s IS NULL")->as.i, 1);
    vial_value *n = vial_db_scalar(c, T.a, "SELECT s FROM item");
    cr_assert_not_null(n, "a NULL scalar is a null value, not a missing row");
    cr_assert_eq(n->type, VIAL_NULL);
    vial_db_release(c);
}

Test(db_api, unicode_text_round_trips) {
    vial_db_conn *c = conn();
    make_table(c);
    const char *text = "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xe2\x98\x83 \xf0\x9f\x98\x80 \"q\" 'a'";
    cr_assert_eq(vial_db_exec(c, "INSERT INTO item (s) VALUES (?)", text), 1, "%s", vial_db_errmsg(c));
    vial_value *row = vial_db_one(c, T.a, "SELECT s, length(s) AS n FROM item WHERE s = ?", text);
    cr_assert_not_null(row, "%s", vial_db_errmsg(c));
    cr_assert_str_eq(vial_get_str(row, "s"), text);
    cr_assert_eq(vial_get_int(row, "n", 0), 15, "length counts characters on both backends");
    char *json = vial_json_encode(T.a, row, 0, NULL);
    cr_assert_not_null(strstr(json, "\\\"q\\\""));
    vial_db_release(c);
}

Test(db_api, blobs_of_every_byte) {
    vial_db_conn *c = conn();
    make_table(c);
    unsigned char all[256];
    for (int i = 0; i < 256; i++) all[i] = (unsigned char)i;
    cr_assert_eq(vial_db_exec(c, "INSERT INTO item (b) VALUES (?)", VIAL_BLOB(all, sizeof all)), 1, "%s",
                 vial_db_errmsg(c));
    cr_assert_eq(vial_db_exec(c, "INSERT INTO item (b) VALUES (?)", VIAL_BLOB("", 0)), 1, "%s", vial_db_errmsg(c));
    vial_value *rows = vial_db_query(c, T.a, "SELECT b FROM item ORDER BY id");
    cr_assert_eq(vial_len(rows), 2);
    vial_value *b = vial_object_get(vial_array_get(rows, 0), "b");
    cr_assert(b->flags & VIAL_FLAG_BLOB);
    cr_assert_eq(b->as.s.len, 256);
    cr_assert_eq(memcmp(b->as.s.ptr, all, 256), 0);
    vial_value *empty = vial_object_get(vial_array_get(rows, 1), "b");
    cr_assert(empty->flags & VIAL_FLAG_BLOB);
    cr_assert_eq(empty->as.s.len, 0);
    vial_value *same = vial_db_scalar(c, T.a, "SELECT count(*) FROM item WHERE b = ?", VIAL_BLOB(all, sizeof all));
    cr_assert_eq(same->as.i, 1, "%s", vial_db_errmsg(c));
    vial_db_release(c);
}

Test(db_api, question_marks_inside_literals_and_comments_are_not_placeholders) {
    vial_db_conn *c = conn();
    vial_value *row = vial_db_one(c, T.a,
                                  "SELECT '?' AS q, 'it''s ?' AS s, \"x?\".v AS v, CAST(? AS INTEGER) AS p -- what?\n"
                                  " /* a ? */ FROM (SELECT 1 AS v) AS \"x?\"",
                                  42);
    cr_assert_not_null(row, "%s", vial_db_errmsg(c));
    cr_assert_str_eq(vial_get_str(row, "q"), "?");
    cr_assert_str_eq(vial_get_str(row, "s"), "it's ?");
    cr_assert_eq(vial_get_int(row, "v", 0), 1);
    cr_assert_eq(vial_get_int(row, "p", 0), 42);
    vial_db_release(c);
}

Test(db_api, bad_statements_get_clear_errors) {
    vial_db_conn *c = conn();
    make_table(c);
    cr_assert_eq(vial_db_exec(c, "INSERT INTO item (i) VALUES (?)", 1, 2), -1);
    cr_assert_eq(vial_db_errcode(c), VIAL_DB_INVALID);
    cr_assert_not_null(strstr(vial_db_errmsg(c), "1 placeholder but 2 values"), "%s", vial_db_errmsg(c));
    cr_assert_eq(vial_db_exec(c, "INSERT INTO item (i) VALUES (?)"), -1);
    cr_assert_eq(vial_db_errcode(c), VIAL_DB_INVALID);
    cr_assert_eq(vial_db_exec(c, "SELECT $1", 1), -1);
    cr_assert_eq(vial_db_errcode(c), VIAL_DB_INVALID, "%s", vial_db_errmsg(c));
    cr_assert_eq(vial_db_exec(c, "SELECT 1; SELECT 2"), -1);
    cr_assert_eq(vial_db_errcode(c), VIAL_DB_INVALID, "%s", vial_db_errmsg(c));
    cr_assert_not_null(strstr(vial_db_errmsg(c), "one statement"), "%s", vial_db_errmsg(c));
    cr_assert_eq(vial_db_exec(c, "SELEC 1"), -1);
    cr_assert_eq(vial_db_errcode(c), VIAL_DB_ERROR);
    cr_assert_not_null(strstr(vial_db_errmsg(c), "syntax"), "%s", vial_db_errmsg(c));
    cr_assert_eq(vial_db_exec(c, "   "), -1);
    cr_assert_eq(vial_db_errcode(c), VIAL_DB_INVALID);
    int x = 1;
    cr_assert_eq(vial_db_exec(c, "SELECT ?", (void *)&x), -1, "a non-NULL void pointer is refused");
    cr_assert_eq(vial_db_errcode(c), VIAL_DB_INVALID);
    cr_assert_null(vial_db_query(c, NULL, "SELECT 1"));
    cr_assert_eq(vial_db_errcode(c), VIAL_DB_INVALID);
    /* the connection still works after all that */
    cr_assert_eq(vial_db_scalar(c, T.a, "SELECT 7")->as.i, 7);
    cr_assert_eq(vial_db_errcode(c), VIAL_DB_OK);
    cr_assert_str_eq(vial_db_errmsg(c), "");
    vial_db_release(c);
}

Test(db_api, constraint_violations_are_their_own_code) {
    vial_db_conn *c = conn();
    make_table(c);
    cr_assert_eq(vial_db_exec(c, "INSERT INTO item (s) VALUES (?)", "dup"), 1);
    cr_assert_eq(vial_db_exec(c, "INSERT INTO item (s) VALUES (?)", "dup"), -1);
    cr_assert_eq(vial_db_errcode(c), VIAL_DB_CONSTRAINT, "%s", vial_db_errmsg(c));
    if (T.pg) cr_assert_str_eq(vial_db_sqlstate(c), "23505");
    vial_db_release(c);
}

Test(db_api, one_and_scalar_report_not_found) {
    vial_db_conn *c = conn();
    make_table(c);
    cr_assert_null(vial_db_one(c, T.a, "SELECT * FROM item WHERE id = ?", 99));
    cr_assert_eq(vial_db_errcode(c), VIAL_DB_NOT_FOUND);
    cr_assert_null(vial_db_scalar(c, T.a, "SELECT s FROM item WHERE id = ?", 99));
    cr_assert_eq(vial_db_errcode(c), VIAL_DB_NOT_FOUND);
    vial_value *rows = vial_db_query(c, T.a, "SELECT * FROM item");
    cr_assert_not_null(rows);
    cr_assert_eq(rows->type, VIAL_ARRAY);
    cr_assert_eq(vial_len(rows), 0);
    cr_assert_eq(vial_db_errcode(c), VIAL_DB_OK);
    vial_db_release(c);
}

Test(db_api, changes_and_last_insert_id) {
    vial_db_conn *c = conn();
    make_table(c);
    for (int i = 1; i <= 3; i++) {
        cr_assert_eq(vial_db_exec(c, "INSERT INTO item (i) VALUES (?)", i * 10), 1);
        cr_assert_eq(vial_db_last_insert_id(c), i, "%s", vial_db_errmsg(c));
    }
    cr_assert_eq(vial_db_exec(c, "UPDATE item SET r = ? WHERE i >= ?", 1.5, 20), 2);
    cr_assert_eq(vial_db_changes(c), 2);
    cr_assert_not_null(vial_db_query(c, T.a, "SELECT * FROM item"));
    cr_assert_eq(vial_db_changes(c), 0, "a SELECT changes nothing");
    cr_assert_eq(vial_db_exec(c, "DELETE FROM item WHERE i = ?", 999), 0);
    cr_assert_eq(vial_db_exec(c, "DELETE FROM item"), 3);
    vial_db_release(c);
}

/* ---- many runs of one statement (pipelined on PostgreSQL) ---- */

Test(db_api, exec_many_and_query_many_match_single_statements) {
    vial_db_conn *c = conn();
    make_table(c);
    enum { N = 300 };
    vial_db_args sets[N];
    vial_value *vals = vial_arena_alloc(T.a, sizeof *vals * N * 2);
    char *names = vial_arena_alloc(T.a, N * 16);
    for (int i = 0; i < N; i++) {
        snprintf(names + i * 16, 16, "n%03d", i);
        vals[2 * i] = VIAL_BIND(i * 7);
        vals[2 * i + 1] = (i % 10 == 3) ? VIAL_SQL_NULL : VIAL_BIND((const char *)(names + i * 16));
        sets[i] = (vial_db_args){&vals[2 * i], 2};
    }
    cr_assert_eq(vial_db_exec_many(c, "INSERT INTO item (i, s) VALUES (?, ?)", sets, N), N, "%s", vial_db_errmsg(c));
    cr_assert_eq(vial_db_changes(c), N);
    cr_assert_eq(vial_db_scalar(c, T.a, "SELECT count(*) FROM item")->as.i, N);

    /* reads: one result list per run, in order, each equal to the single statement's */
    vial_db_args ids[N + 1];
    vial_value idv[N + 1];
    for (int i = 0; i <= N; i++) {
        idv[i] = VIAL_BIND((N - i) * 7); /* the last one, i = 0 .. N, is 0; (N)*7 matches nothing */
        ids[i] = (vial_db_args){&idv[i], 1};
    }
    vial_value *results = vial_db_query_many(c, T.a, "SELECT id, i, s FROM item WHERE i = ?", ids, N + 1);
    cr_assert_not_null(results, "%s", vial_db_errmsg(c));
    cr_assert_eq(vial_len(results), N + 1);
    cr_assert_eq(vial_len(vial_array_get(results, 0)), 0, "i = %d matches no row", N * 7);
    for (int i = 1; i <= N; i++) {
        vial_value *rows = vial_array_get(results, (size_t)i);
        cr_assert_eq(vial_len(rows), 1, "run %d", i);
        vial_value *single = vial_db_one(c, T.a, "SELECT id, i, s FROM item WHERE i = ?", (N - i) * 7);
        cr_assert(vial_value_equal(vial_array_get(rows, 0), single), "run %d: %s vs %s", i,
                  vial_json_encode(T.a, vial_array_get(rows, 0), 0, NULL), vial_json_encode(T.a, single, 0, NULL));
    }
    /* writes: the changes of every run added up */
    /* thresholds 14, 7 and 0 over i = 0, 7, 14, ...: N - 2, N - 1 and N rows */
    cr_assert_eq(vial_db_exec_many(c, "UPDATE item SET r = 1.5 WHERE i >= ?", ids + N - 2, 3), 3 * N - 3,
                 "%s", vial_db_errmsg(c));
    cr_assert_eq(vial_db_exec_many(c, "DELETE FROM item WHERE i = ?", ids, 0), 0, "no runs, no changes");
    cr_assert_not_null(vial_db_query_many(c, T.a, "SELECT 1", NULL, 0));
    vial_db_release(c);
}

/* A batch of reads (on SQLite: one read transaction for the whole batch) leaves
 * no transaction behind, succeeded or failed, and never ends the caller's own. */
Test(db_api, read_batches_leave_the_transaction_state_as_they_found_it) {
    vial_db_conn *c = conn();
    make_table(c);
    vial_value nums[3] = {VIAL_BIND(1), VIAL_BIND((int64_t)INT64_MIN), VIAL_BIND(-3)};
    vial_db_args sets[3] = {{&nums[0], 1}, {&nums[2], 1}, {&nums[0], 1}};
    vial_value *results = vial_db_query_many(c, T.a, "SELECT abs(CAST(? AS BIGINT)) AS v", sets, 3);
    cr_assert_not_null(results, "%s", vial_db_errmsg(c));
    cr_assert_eq(vial_get_int(vial_array_get(vial_array_get(results, 1), 0), "v", 0), 3);
    cr_assert_eq(vial_db_begin(c), 0, "the batch left a transaction open: %s", vial_db_errmsg(c));
    cr_assert_eq(vial_db_rollback(c), 0);

    /* run 2 fails (abs of the smallest int64 overflows on both backends) */
    sets[1] = (vial_db_args){&nums[1], 1};
    cr_assert_null(vial_db_query_many(c, T.a, "SELECT abs(CAST(? AS BIGINT)) AS v", sets, 3));
    cr_assert(strstr(vial_db_errmsg(c), "run 2"), "%s", vial_db_errmsg(c));
    cr_assert_eq(vial_db_begin(c), 0, "the failed batch left a transaction open: %s", vial_db_errmsg(c));
    cr_assert_eq(vial_db_rollback(c), 0);

    /* inside the caller's transaction: the batch neither commits nor ends it */
    cr_assert_eq(vial_db_begin(c), 0);
    cr_assert_eq(vial_db_exec(c, "INSERT INTO item (s) VALUES (?)", "inside"), 1, "%s", vial_db_errmsg(c));
    sets[1] = (vial_db_args){&nums[2], 1};
    cr_assert_not_null(vial_db_query_many(c, T.a, "SELECT abs(CAST(? AS BIGINT)) AS v", sets, 3), "%s", vial_db_errmsg(c));
    cr_assert_eq(vial_db_depth(c), 1);
    cr_assert_eq(vial_db_rollback(c), 0, "%s", vial_db_errmsg(c));
    cr_assert_eq(vial_db_scalar(c, T.a, "SELECT count(*) FROM item")->as.i, 0, "the insert was rolled back");
    vial_db_release(c);
}

/* query_many's reads share one transaction; query_each's runs are separate
 * statements (PostgreSQL shows it: one transaction id, or one per run). */
Test(db_api, query_each_runs_separate_statements_and_query_many_one_snapshot) {
    vial_db_conn *c = conn();
    make_table(c);
    enum { N = 5 };
    vial_value vals[N];
    vial_db_args sets[N];
    for (int i = 0; i < N; i++) {
        vals[i] = VIAL_BIND(i * 10);
        sets[i] = (vial_db_args){&vals[i], 1};
    }
    /* the same rows either way */
    vial_value *many = vial_db_query_many(c, T.a, "SELECT CAST(? AS BIGINT) + 1 AS v", sets, N);
    vial_value *each = vial_db_query_each(c, T.a, "SELECT CAST(? AS BIGINT) + 1 AS v", sets, N);
    cr_assert_not_null(many, "%s", vial_db_errmsg(c));
    cr_assert_not_null(each, "%s", vial_db_errmsg(c));
    cr_assert(vial_value_equal(many, each), "%s vs %s", vial_json_encode(T.a, many, 0, NULL),
              vial_json_encode(T.a, each, 0, NULL));
    cr_assert_eq(vial_get_int(vial_array_get(vial_array_get(each, 4), 0), "v", 0), 41);
    cr_assert_eq(vial_db_begin(c), 0, "a batch left a transaction open: %s", vial_db_errmsg(c));
    cr_assert_eq(vial_db_rollback(c), 0);
    if (T.pg) {
        vial_value *one = vial_db_query_many(c, T.a, "SELECT CAST(? AS BIGINT) AS i, txid_current() AS x", sets, N);
        vial_value *sep = vial_db_query_each(c, T.a, "SELECT CAST(? AS BIGINT) AS i, txid_current() AS x", sets, N);
        cr_assert_not_null(one, "%s", vial_db_errmsg(c));
        cr_assert_not_null(sep, "%s", vial_db_errmsg(c));
        for (int i = 1; i < N; i++) {
            int64_t one_prev = vial_get_int(vial_array_get(vial_array_get(one, (size_t)i - 1), 0), "x", -1);
            int64_t one_this = vial_get_int(vial_array_get(vial_array_get(one, (size_t)i), 0), "x", -2);
            int64_t sep_prev = vial_get_int(vial_array_get(vial_array_get(sep, (size_t)i - 1), 0), "x", -1);
            int64_t sep_this = vial_get_int(vial_array_get(vial_array_get(sep, (size_t)i), 0), "x", -1);
            cr_assert_eq(one_this, one_prev, "query_many run %d in another transaction", i + 1);
            cr_assert_neq(sep_this, sep_prev, "query_each runs %d and %d shared a transaction", i, i + 1);
        }
    }
    vial_db_release(c);
}

Test(db_api, many_runs_check_values_before_sending_and_report_the_first_failure) {
    vial_db_conn *c = conn();
    make_table(c);
    vial_value two[2] = {VIAL_BIND(1), VIAL_BIND("x")};
    vial_db_args sets[3] = {{two, 2}, {two, 1}, {two, 2}};
    cr_assert_eq(vial_db_exec_many(c, "INSERT INTO item (i, s) VALUES (?, ?)", sets, 3), -1);
    cr_assert_eq(vial_db_errcode(c), VIAL_DB_INVALID);
    cr_assert(strstr(vial_db_errmsg(c), "run 2"), "%s", vial_db_errmsg(c));
    cr_assert_eq(vial_db_scalar(c, T.a, "SELECT count(*) FROM item")->as.i, 0, "nothing ran");
    /* a unique violation in run 2 of 3: outside a transaction each run stands alone */
    vial_value a = VIAL_BIND("a"), b = VIAL_BIND("b");
    vial_db_args uniq[3] = {{&a, 1}, {&a, 1}, {&b, 1}};
    cr_assert_eq(vial_db_exec_many(c, "INSERT INTO item (s) VALUES (?)", uniq, 3), -1);
    cr_assert_eq(vial_db_errcode(c), VIAL_DB_CONSTRAINT, "%s", vial_db_errmsg(c));
    int64_t expected = T.pg ? 2 : 1; /* PostgreSQL ran the third (its own Sync); SQLite stops at the failure */
    cr_assert_eq(vial_db_scalar(c, T.a, "SELECT count(*) FROM item")->as.i, expected);
    /* inside a transaction the failure spoils the transaction, as single statements would */
    cr_assert_eq(vial_db_begin(c), 0);
    vial_value d = VIAL_BIND("d"), e = VIAL_BIND("e");
    vial_db_args tx[3] = {{&d, 1}, {&a, 1}, {&e, 1}};
    cr_assert_eq(vial_db_exec_many(c, "INSERT INTO item (s) VALUES (?)", tx, 3), -1);
    cr_assert_eq(vial_db_errcode(c), VIAL_DB_CONSTRAINT);
    cr_assert_eq(vial_db_rollback(c), 0, "%s", vial_db_errmsg(c));
    cr_assert_eq(vial_db_scalar(c, T.a, "SELECT count(*) FROM item")->as.i, expected);
    cr_assert_not_null(vial_db_one(c, T.a, "SELECT 1 AS one"), "the connection is usable afterwards: %s",
                       vial_db_errmsg(c));
    vial_db_release(c);
}

Test(db_api, rows_are_ready_for_json) {
    vial_db_conn *c = conn();
    make_table(c);
    vial_db_exec(c, "INSERT INTO item (i, r, s, flag) VALUES (?, ?, ?, ?)", 1, 0.25, "a<b", false);
    vial_value *rows = vial_db_query(c, T.a, "SELECT id, i, r, s, flag, at FROM item");
    char *json = vial_json_encode(T.a, rows, 0, NULL);
    cr_assert_str_eq(json, "[{\"id\":1,\"i\":1,\"r\":0.25,\"s\":\"a<b\",\"flag\":false,\"at\":null}]");
    vial_db_release(c);
}

Test(db_api, script_runs_several_statements) {
    vial_db_conn *c = conn();
    make_table(c);
    cr_assert_eq(vial_db_script(c, "INSERT INTO item (i) VALUES (1); INSERT INTO item (i) VALUES (2);\n"
                                   "-- a comment; with a semicolon\nINSERT INTO item (s) VALUES ('a;b');"),
                 0, "%s", vial_db_errmsg(c));
    cr_assert_eq(vial_db_scalar(c, T.a, "SELECT count(*) FROM item")->as.i, 3);
    cr_assert_eq(vial_db_script(c, "INSERT INTO item (i) VALUES (4); SELEC 1"), -1);
    cr_assert_eq(vial_db_errcode(c), VIAL_DB_ERROR);
    vial_db_release(c);
}

/* ---- transactions ---- */

static int64_t count_items(vial_db_conn *c) {
    vial_value *v = vial_db_scalar(c, T.a, "SELECT count(*) FROM item");
    cr_assert_not_null(v, "%s", vial_db_errmsg(c));
    return v->as.i;
}

Test(db_api, commit_and_rollback) {
    vial_db_conn *c = conn();
    make_table(c);
    cr_assert_eq(vial_db_begin(c), 0, "%s", vial_db_errmsg(c));
    cr_assert_eq(vial_db_depth(c), 1);
    vial_db_exec(c, "INSERT INTO item (i) VALUES (1)");
    cr_assert_eq(vial_db_rollback(c), 0);
    cr_assert_eq(vial_db_depth(c), 0);
    cr_assert_eq(count_items(c), 0);
    cr_assert_eq(vial_db_begin(c), 0);
    vial_db_exec(c, "INSERT INTO item (i) VALUES (2)");
    cr_assert_eq(vial_db_commit(c), 0, "%s", vial_db_errmsg(c));
    cr_assert_eq(count_items(c), 1);
    cr_assert_eq(vial_db_commit(c), -1, "commit without begin");
    cr_assert_eq(vial_db_errcode(c), VIAL_DB_INVALID);
    vial_db_release(c);
}

Test(db_api, nested_transactions_are_savepoints) {
    vial_db_conn *c = conn();
    make_table(c);
    cr_assert_eq(vial_db_begin(c), 0);
    vial_db_exec(c, "INSERT INTO item (s) VALUES ('outer')");
    cr_assert_eq(vial_db_begin(c), 0, "%s", vial_db_errmsg(c));
    cr_assert_eq(vial_db_depth(c), 2);
    vial_db_exec(c, "INSERT INTO item (s) VALUES ('inner rolled back')");
    cr_assert_eq(vial_db_rollback(c), 0, "%s", vial_db_errmsg(c));
    cr_assert_eq(vial_db_begin(c), 0);
    vial_db_exec(c, "INSERT INTO item (s) VALUES ('inner kept')");
    cr_assert_eq(vial_db_begin(c), 0);
    cr_assert_eq(vial_db_depth(c), 3);
    vial_db_exec(c, "INSERT INTO item (s) VALUES ('innermost kept')");
    cr_assert_eq(vial_db_commit(c), 0, "%s", vial_db_errmsg(c));
    cr_assert_eq(vial_db_commit(c), 0, "%s", vial_db_errmsg(c));
    cr_assert_eq(vial_db_depth(c), 1);
    cr_assert_eq(vial_db_commit(c), 0, "%s", vial_db_errmsg(c));
    vial_value *rows = vial_db_query(c, T.a, "SELECT s FROM item ORDER BY id");
    cr_assert_eq(vial_len(rows), 3);
    cr_assert_str_eq(vial_get_str(vial_array_get(rows, 0), "s"), "outer");
    cr_assert_str_eq(vial_get_str(vial_array_get(rows, 1), "s"), "inner kept");
    cr_assert_str_eq(vial_get_str(vial_array_get(rows, 2), "s"), "innermost kept");
    vial_db_release(c);
}

Test(db_api, a_failed_statement_inside_a_savepoint_is_recoverable) {
    vial_db_conn *c = conn();
    make_table(c);
    cr_assert_eq(vial_db_begin(c), 0);
    vial_db_exec(c, "INSERT INTO item (s) VALUES ('a')");
    cr_assert_eq(vial_db_begin(c), 0);
    cr_assert_eq(vial_db_exec(c, "INSERT INTO item (s) VALUES ('a')"), -1, "duplicate");
    cr_assert_eq(vial_db_errcode(c), VIAL_DB_CONSTRAINT);
    cr_assert_eq(vial_db_rollback(c), 0, "%s", vial_db_errmsg(c));
    cr_assert_eq(vial_db_exec(c, "INSERT INTO item (s) VALUES ('c')"), 1, "%s", vial_db_errmsg(c));
    cr_assert_eq(vial_db_commit(c), 0, "%s", vial_db_errmsg(c));
    cr_assert_eq(count_items(c), 2);
    vial_db_release(c);
}

Test(db_api, commit_after_a_failed_statement) {
    vial_db_conn *c = conn();
    make_table(c);
    cr_assert_eq(vial_db_begin(c), 0);
    vial_db_exec(c, "INSERT INTO item (s) VALUES ('a')");
    cr_assert_eq(vial_db_exec(c, "INSERT INTO item (s) VALUES ('a')"), -1);
    if (T.pg) {
        /* PostgreSQL aborts the whole transaction: commit reports it and rolls back. */
        cr_assert_eq(vial_db_commit(c), -1);
        cr_assert_not_null(strstr(vial_db_errmsg(c), "rolled back"), "%s", vial_db_errmsg(c));
        cr_assert_eq(vial_db_depth(c), 0);
        cr_assert_eq(count_items(c), 0);
    } else {
        /* SQLite keeps the transaction: only the failed statement is undone. */
        cr_assert_eq(vial_db_commit(c), 0, "%s", vial_db_errmsg(c));
        cr_assert_eq(count_items(c), 1);
    }
    vial_db_release(c);
}

Test(db_api, rollback_all_and_release_undo_what_a_request_left_open) {
    vial_db_conn *c = conn();
    make_table(c);
    vial_db_begin(c);
    vial_db_exec(c, "INSERT INTO item (i) VALUES (1)");
    vial_db_begin(c);
    vial_db_exec(c, "INSERT INTO item (i) VALUES (2)");
    cr_assert_eq(vial_db_rollback_all(c), 2);
    cr_assert_eq(vial_db_depth(c), 0);
    cr_assert_eq(count_items(c), 0);
    cr_assert_eq(vial_db_rollback_all(c), 0, "nothing open: nothing to do");
    vial_db_begin(c);
    vial_db_exec(c, "INSERT INTO item (i) VALUES (3)");
    vial_db_release(c); /* the request ended without committing */
    c = conn();
    cr_assert_eq(vial_db_depth(c), 0);
    cr_assert_eq(count_items(c), 0);
    /* a transaction opened with plain SQL is rolled back too */
    cr_assert_eq(vial_db_script(c, "BEGIN"), 0);
    vial_db_exec(c, "INSERT INTO item (i) VALUES (4)");
    vial_db_release(c);
    c = conn();
    cr_assert_eq(count_items(c), 0);
    vial_db_release(c);
}

/* ---- the pool ---- */

Test(db_api, pool_reuses_connections) {
    vial_db_conn *c = conn();
    vial_db_release(c);
    vial_db_conn *d = conn();
    cr_assert_eq(d, c, "the idle connection is handed out again");
    vial_db_release(d);
    vial_db_stats st;
    vial_db_get_stats(T.db, &st);
    cr_assert_eq(st.connects, 1);
    cr_assert_eq(st.reuses, 1);
    cr_assert_eq(st.open, 1);
    cr_assert_eq(st.idle, 1);
}

Test(db_api, pool_size_is_a_limit) {
    vial_db_close(T.db);
    T.db = test_db_open_opts(&(vial_db_options){.pool_size = 2});
    vial_db_conn *a = conn(), *b = conn();
    vial_db_conn *c = vial_db_acquire(T.db);
    cr_assert_not_null(c);
    cr_assert_eq(vial_db_errcode(c), VIAL_DB_UNAVAILABLE);
    cr_assert_not_null(strstr(vial_db_errmsg(c), "pool exhausted"), "%s", vial_db_errmsg(c));
    cr_assert_null(vial_db_query(c, T.a, "SELECT 1"), "a dead handle fails every call");
    cr_assert_eq(vial_db_errcode(c), VIAL_DB_UNAVAILABLE);
    vial_db_release(c);
    vial_db_release(a);
    c = conn();
    cr_assert_eq(c, a);
    vial_db_release(b);
    vial_db_release(c);
    vial_db_stats st;
    vial_db_get_stats(T.db, &st);
    cr_assert_eq(st.open, 2);
    cr_assert_eq(st.connects, 2);
}

static int64_t backend_pid(vial_db_conn *c) {
    vial_value *v = vial_db_scalar(c, T.a, "SELECT pg_backend_pid()");
    cr_assert_not_null(v, "%s", vial_db_errmsg(c));
    return v->as.i;
}

/* Kills c's server session from another connection and waits (bounded) until it is gone. */
static void kill_backend(int64_t pid) {
    vial_db *other = test_db_open_opts(NULL);
    vial_db_conn *k = vial_db_acquire(other);
    vial_value *ok = vial_db_scalar(k, T.a, "SELECT pg_terminate_backend(CAST(? AS INTEGER))", pid);
    cr_assert_not_null(ok, "%s", vial_db_errmsg(k));
    cr_assert(ok->as.b);
    int i;
    for (i = 0; i < 500; i++) {
        vial_value *n = vial_db_scalar(k, T.a, "SELECT count(*) FROM pg_stat_activity WHERE pid = ?", pid);
        if (n && n->as.i == 0) break;
        vial_sleep_ms(10);
    }
    cr_assert_lt(i, 500, "the terminated backend went away");
    vial_db_release(k);
    vial_db_close(other);
}

Test(db_api, broken_idle_connection_is_replaced) {
    vial_db_conn *c = conn();
    int64_t pid = 0;
    if (T.pg)
        pid = backend_pid(c);
    else
        c->broken = true; /* SQLite has no server to lose; an I/O error marks a connection so */
    vial_db_release(c);
    if (T.pg) kill_backend(pid);
    vial_db_conn *d = conn();
    cr_assert_eq(vial_db_scalar(d, T.a, "SELECT 5")->as.i, 5, "%s", vial_db_errmsg(d));
    if (T.pg) cr_assert_neq(backend_pid(d), pid);
    vial_db_release(d);
    vial_db_stats st;
    vial_db_get_stats(T.db, &st);
    cr_assert_eq(st.connects, 2, "a new connection replaced the broken one");
    cr_assert_eq(st.open, 1);
    if (T.pg) cr_assert_eq(st.replaced, 1);
}

Test(db_api, connection_lost_mid_request_retries_reads_outside_transactions) {
    if (!T.pg) {
        /* SQLite: a broken connection (I/O error) fails the call; release closes it. */
        vial_db_conn *c = conn();
        c->broken = true;
        cr_assert_null(vial_db_query(c, T.a, "SELECT 1"));
        cr_assert_eq(vial_db_errcode(c), VIAL_DB_UNAVAILABLE);
        vial_db_release(c);
        vial_db_stats st;
        vial_db_get_stats(T.db, &st);
        cr_assert_eq(st.open, 0);
        return;
    }
    vial_db_conn *c = conn();
    make_table(c);
    kill_backend(backend_pid(c));
    /* a read outside a transaction: reconnected and retried */
    vial_value *v = vial_db_scalar(c, T.a, "SELECT count(*) FROM item");
    cr_assert_not_null(v, "%s", vial_db_errmsg(c));
    cr_assert_eq(v->as.i, 0);
    /* inside a transaction: the transaction is gone, so the error is reported */
    cr_assert_eq(vial_db_begin(c), 0);
    vial_db_exec(c, "INSERT INTO item (i) VALUES (1)");
    kill_backend(backend_pid(c));
    cr_assert_eq(vial_db_exec(c, "INSERT INTO item (i) VALUES (2)"), -1);
    cr_assert_eq(vial_db_errcode(c), VIAL_DB_UNAVAILABLE, "%s", vial_db_errmsg(c));
    vial_db_release(c);
    c = conn();
    cr_assert_eq(count_items(c), 0);
    vial_db_release(c);
}

Test(db_api, waits_for_a_lock_are_bounded) {
    vial_db_close(T.db);
    T.db = test_db_open_opts(&(vial_db_options){.busy_timeout_ms = 200, .query_timeout_ms = 1000});
    vial_db_conn *c = conn();
    make_table(c);
    vial_db_conn *holder = conn();
    cr_assert_eq(vial_db_begin(holder), 0);
    cr_assert_eq(vial_db_exec(holder, "INSERT INTO item (s) VALUES ('x')"), 1);
    if (T.pg) {
        /* the same row key is locked by holder's transaction: the insert waits */
        cr_assert_eq(vial_db_exec(c, "INSERT INTO item (s) VALUES ('x')"), -1);
        cr_assert_eq(vial_db_errcode(c), VIAL_DB_TIMEOUT, "%s", vial_db_errmsg(c));
    } else {
        cr_assert_eq(vial_db_exec(c, "INSERT INTO item (s) VALUES ('y')"), -1);
        cr_assert_eq(vial_db_errcode(c), VIAL_DB_BUSY, "%s", vial_db_errmsg(c));
        cr_assert_not_null(strstr(vial_db_errmsg(c), "locked"), "%s", vial_db_errmsg(c));
    }
    cr_assert_eq(vial_db_rollback(holder), 0);
    vial_db_release(holder);
    vial_db_release(c);
    c = conn();
    cr_assert_eq(vial_db_exec(c, "INSERT INTO item (s) VALUES ('z')"), 1, "%s", vial_db_errmsg(c));
    vial_db_release(c);
}

Test(db_api, forked_child_opens_its_own_connection) {
    vial_db_conn *c = conn();
    make_table(c);
    vial_db_exec(c, "INSERT INTO item (i) VALUES (1)");
    vial_db_release(c); /* pooled: the child inherits it */
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        vial_db_conn *k = vial_db_acquire(T.db);
        int ok = vial_db_errcode(k) == VIAL_DB_OK && vial_db_exec(k, "INSERT INTO item (i) VALUES (2)") == 1;
        vial_db_stats st;
        vial_db_get_stats(T.db, &st);
        ok = ok && st.reuses == 0; /* not the parent's connection */
        vial_db_release(k);
        vial_db_close(T.db);
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child could use the database");
    c = conn();
    cr_assert_eq(count_items(c), 2, "and the parent's connection still works: %s", vial_db_errmsg(c));
    vial_db_release(c);
}

/* ---- PostgreSQL that is not there (no server needed) ---- */

Test(db_api, postgres_down_is_unavailable_quickly) {
    char url[128], err[256];
    snprintf(url, sizeof url, "postgresql://nobody:secret@127.0.0.1:%d/none", test_db_closed_port());
    vial_db *db = vial_db_open(url, NULL, err, sizeof err);
    cr_assert_not_null(db, "%s", err);
    cr_assert_eq(vial_db_backend(db), VIAL_DB_POSTGRES);
    vial_db_conn *c = vial_db_acquire(db);
    cr_assert_not_null(c);
    cr_assert_eq(vial_db_errcode(c), VIAL_DB_UNAVAILABLE);
    cr_assert_not_null(strstr(vial_db_errmsg(c), "could not connect"), "%s", vial_db_errmsg(c));
    cr_assert_null(strstr(vial_db_errmsg(c), "secret"), "the password is never shown: %s", vial_db_errmsg(c));
    cr_assert_eq(vial_db_exec(c, "SELECT 1"), -1);
    cr_assert_eq(vial_db_errcode(c), VIAL_DB_UNAVAILABLE);
    vial_db_release(c);
    vial_db_stats st;
    vial_db_get_stats(db, &st);
    cr_assert_eq(st.open, 0, "a failed connect holds no pool slot");
    vial_db_close(db);
}

Test(db_api, postgres_silent_server_times_out) {
    int port;
    int fd = test_db_silent_listener(&port);
    char url[128], err[256];
    snprintf(url, sizeof url, "postgresql://u@127.0.0.1:%d/db", port);
    vial_db *db = vial_db_open(url, &(vial_db_options){.connect_timeout_ms = 300}, err, sizeof err);
    cr_assert_not_null(db, "%s", err);
    vial_db_conn *c = vial_db_acquire(db);
    cr_assert_eq(vial_db_errcode(c), VIAL_DB_UNAVAILABLE);
    cr_assert_not_null(strstr(vial_db_errmsg(c), "no answer within 300 ms"), "%s", vial_db_errmsg(c));
    vial_db_release(c);
    vial_db_close(db);
    close(fd);
}
