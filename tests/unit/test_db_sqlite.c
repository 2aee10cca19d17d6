/* SQLite specifics: the default URL and its instance folder, WAL and foreign
 * keys on every connection, missing folders, :memory:, and several worker
 * processes writing one file at once. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vial.h"

static char dir[256];
static vial_arena *A;

static void setup(void) {
    snprintf(dir, sizeof dir, "/tmp/vial-sqlite-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    A = vial_arena_new(1 << 16);
}

static void teardown(void) {
    vial_arena_free(A);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

TestSuite(db_sqlite, .init = setup, .fini = teardown, .timeout = 300);

static vial_db *open_url(const char *url, const vial_db_options *opts) {
    char err[256];
    vial_db *db = vial_db_open(url, opts, err, sizeof err);
    cr_assert_not_null(db, "%s: %s", url, err);
    return db;
}

Test(db_sqlite, default_url_creates_the_instance_folder) {
    cr_assert_eq(chdir(dir), 0);
    vial_db *db = open_url(NULL, NULL);
    cr_assert_eq(vial_db_backend(db), VIAL_DB_SQLITE);
    cr_assert_str_eq(vial_db_display_url(db), "sqlite:///instance/app.db");
    struct stat st;
    cr_assert_neq(stat("instance", &st), 0, "nothing is created before first use");
    vial_db_conn *c = vial_db_acquire(db);
    cr_assert_eq(vial_db_errcode(c), VIAL_DB_OK, "%s", vial_db_errmsg(c));
    cr_assert_eq(stat("instance", &st), 0);
    cr_assert(S_ISDIR(st.st_mode));
    cr_assert_eq(stat("instance/app.db", &st), 0);
    vial_db_release(c);
    vial_db_close(db);
    /* deeper relative paths too */
    db = open_url("sqlite:///a/b/c.db", NULL);
    c = vial_db_acquire(db);
    cr_assert_eq(vial_db_errcode(c), VIAL_DB_OK, "%s", vial_db_errmsg(c));
    cr_assert_eq(stat("a/b/c.db", &st), 0);
    vial_db_release(c);
    vial_db_close(db);
}

Test(db_sqlite, every_connection_is_wal_with_foreign_keys) {
    char url[320];
    snprintf(url, sizeof url, "sqlite:///%s/app.db", dir);
    vial_db *db = open_url(url, NULL);
    vial_db_conn *c = vial_db_acquire(db);
    cr_assert_str_eq(vial_str_of(vial_db_scalar(c, A, "PRAGMA journal_mode")), "wal");
    cr_assert_eq(vial_db_scalar(c, A, "PRAGMA foreign_keys")->as.i, 1);
    cr_assert_eq(vial_db_scalar(c, A, "PRAGMA synchronous")->as.i, 1, "NORMAL");
    vial_db_release(c);
    vial_db_close(db);
}

Test(db_sqlite, a_missing_absolute_folder_is_an_error) {
    char url[320];
    snprintf(url, sizeof url, "sqlite:///%s/nope/app.db", dir);
    vial_db *db = open_url(url, NULL);
    vial_db_conn *c = vial_db_acquire(db);
    cr_assert_eq(vial_db_errcode(c), VIAL_DB_UNAVAILABLE);
    cr_assert_not_null(strstr(vial_db_errmsg(c), "does not exist"), "%s", vial_db_errmsg(c));
    vial_db_release(c);
    vial_db_close(db);
}

Test(db_sqlite, memory_database_is_one_connection) {
    vial_db *db = open_url("sqlite://:memory:", &(vial_db_options){.pool_size = 8});
    vial_db_conn *c = vial_db_acquire(db);
    cr_assert_eq(vial_db_script(c, "CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (41)"), 0);
    vial_db_conn *d = vial_db_acquire(db);
    cr_assert_eq(vial_db_errcode(d), VIAL_DB_UNAVAILABLE, "a second connection would be another, empty database");
    vial_db_release(d);
    vial_db_release(c);
    c = vial_db_acquire(db);
    cr_assert_eq(vial_db_scalar(c, A, "SELECT x + 1 FROM t")->as.i, 42, "the data is still there");
    vial_db_release(c);
    vial_db_close(db);
}

/* Several processes write the same file at once: every write lands, none fails. */
Test(db_sqlite, concurrent_writers_from_several_processes) {
    char url[320];
    snprintf(url, sizeof url, "sqlite:///%s/shared.db?busy_timeout=30000", dir);
    vial_db *db = open_url(url, NULL);
    vial_db_conn *c = vial_db_acquire(db);
    cr_assert_eq(vial_db_script(c, "CREATE TABLE hit (id INTEGER PRIMARY KEY AUTOINCREMENT, worker INTEGER, n INTEGER);"
                                   "CREATE TABLE counter (id INTEGER PRIMARY KEY, value INTEGER);"
                                   "INSERT INTO counter VALUES (1, 0)"),
                 0, "%s", vial_db_errmsg(c));
    vial_db_release(c);
    vial_db_close(db);
    enum { WORKERS = 4, ROWS = 150 };
    pid_t pids[WORKERS + 1];
    for (int w = 0; w <= WORKERS; w++) {
        pids[w] = fork();
        cr_assert_neq(pids[w], -1);
        if (pids[w] != 0) continue;
        vial_db *mine = vial_db_open(url, NULL, NULL, 0);
        vial_arena *a = vial_arena_new(4096);
        int failures = 0;
        vial_db_conn *k = vial_db_acquire(mine);
        if (w == WORKERS) {
            /* a reader, running alongside the writers: WAL never blocks it */
            for (int i = 0; i < 300; i++) {
                vial_arena_reset(a);
                if (!vial_db_scalar(k, a, "SELECT count(*) FROM hit")) failures++;
            }
        } else {
            for (int i = 0; i < ROWS; i++) {
                if (i % 3 == 0) {
                    /* read-modify-write inside a transaction: no lost updates */
                    if (vial_db_begin(k) != 0) {
                        failures++;
                        continue;
                    }
                    vial_arena_reset(a);
                    vial_value *v = vial_db_scalar(k, a, "SELECT value FROM counter WHERE id = 1");
                    if (!v || vial_db_exec(k, "UPDATE counter SET value = ? WHERE id = 1", v->as.i + 1) != 1 ||
                        vial_db_exec(k, "INSERT INTO hit (worker, n) VALUES (?, ?)", w, i) != 1 ||
                        vial_db_commit(k) != 0) {
                        fprintf(stderr, "worker %d: %s\n", w, vial_db_errmsg(k));
                        vial_db_rollback(k);
                        failures++;
                    }
                } else if (vial_db_exec(k, "INSERT INTO hit (worker, n) VALUES (?, ?)", w, i) != 1) {
                    fprintf(stderr, "worker %d: %s\n", w, vial_db_errmsg(k));
                    failures++;
                }
            }
        }
        vial_db_release(k);
        vial_db_close(mine);
        vial_arena_free(a);
        _exit(failures ? 1 : 0);
    }
    for (int w = 0; w <= WORKERS; w++) {
        int status;
        cr_assert_eq(waitpid(pids[w], &status, 0), pids[w]);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "process %d had failures", w);
    }
    db = open_url(url, NULL);
    c = vial_db_acquire(db);
    cr_assert_eq(vial_db_scalar(c, A, "SELECT count(*) FROM hit")->as.i, WORKERS * ROWS);
    cr_assert_eq(vial_db_scalar(c, A, "SELECT value FROM counter")->as.i, WORKERS * ((ROWS + 2) / 3),
                 "every increment survived");
    for (int w = 0; w < WORKERS; w++)
        cr_assert_eq(vial_db_scalar(c, A, "SELECT count(DISTINCT n) FROM hit WHERE worker = ?", w)->as.i, ROWS);
    cr_assert_str_eq(vial_str_of(vial_db_scalar(c, A, "PRAGMA integrity_check")), "ok");
    vial_db_release(c);
    vial_db_close(db);
}
