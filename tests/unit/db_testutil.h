/* db_testutil.h - one database per test, on the backend the run is about.
 *
 * Without VIAL_TEST_DATABASE_URL the suites run on SQLite files in a fresh
 * temp folder per test. With it (tests/integration/test_db_postgres.sh sets
 * it to a throwaway cluster) each test gets its own PostgreSQL schema, so
 * Criterion's parallel test processes never see each other's tables. */
#ifndef VIAL_DB_TESTUTIL_H
#define VIAL_DB_TESTUTIL_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vial.h"

typedef struct test_db {
    bool pg;
    char dir[256];      /* SQLite: the temp folder */
    char schema[64];    /* PostgreSQL: the test's schema */
    char base_url[512]; /* PostgreSQL: the server URL from the environment */
    char url[1024];
    vial_db *db;
    vial_arena *a;
} test_db;

static test_db T;

static inline void test_db_rmtree(const char *dir) {
    if (!dir[0] || strncmp(dir, "/tmp/", 5) != 0) return;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

/* Runs one statement on a separate connection to the server URL (schema setup). */
static inline void test_db_admin(const char *sql) {
    char err[256];
    vial_db *admin = vial_db_open(T.base_url, NULL, err, sizeof err);
    cr_assert_not_null(admin, "open %s: %s", T.base_url, err);
    vial_db_conn *c = vial_db_acquire(admin);
    cr_assert_eq(vial_db_script(c, sql), 0, "%s: %s", sql, vial_db_errmsg(c));
    vial_db_release(c);
    vial_db_close(admin);
}

/* The URL for this test's database (fresh), with extra_query appended ("k=v" or ""). */
static inline const char *test_db_url(const char *extra_query) {
    if (T.pg) {
        snprintf(T.url, sizeof T.url, "%s%soptions=-c%%20search_path%%3D%s%s%s", T.base_url,
                 strchr(T.base_url, '?') ? "&" : "?", T.schema, extra_query && *extra_query ? "&" : "",
                 extra_query ? extra_query : "");
    } else {
        snprintf(T.url, sizeof T.url, "sqlite:///%s/test.db%s%s", T.dir, extra_query && *extra_query ? "?" : "",
                 extra_query ? extra_query : "");
    }
    return T.url;
}

static inline vial_db *test_db_open_opts(const vial_db_options *opts) {
    char err[256];
    vial_db *db = vial_db_open(test_db_url(""), opts, err, sizeof err);
    cr_assert_not_null(db, "open %s: %s", T.url, err);
    return db;
}

static inline void test_db_setup(void) {
    memset(&T, 0, sizeof T);
    const char *pg = getenv("VIAL_TEST_DATABASE_URL");
    if (pg && *pg) {
        T.pg = true;
        snprintf(T.base_url, sizeof T.base_url, "%s", pg);
        static int counter;
        snprintf(T.schema, sizeof T.schema, "t_%d_%d", (int)getpid(), ++counter);
        char sql[128];
        snprintf(sql, sizeof sql, "CREATE SCHEMA %s", T.schema);
        test_db_admin(sql);
    } else {
        snprintf(T.dir, sizeof T.dir, "/tmp/vial-db-XXXXXX");
        cr_assert_not_null(mkdtemp(T.dir));
    }
    T.db = test_db_open_opts(NULL);
    T.a = vial_arena_new(1 << 16);
}

static inline void test_db_teardown(void) {
    if (T.db) vial_db_close(T.db);
    T.db = NULL;
    if (T.a) vial_arena_free(T.a);
    T.a = NULL;
    if (T.pg) {
        char sql[128];
        snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE", T.schema);
        test_db_admin(sql);
    } else {
        test_db_rmtree(T.dir);
    }
}

/* Backend-specific spelling for the few raw-SQL tests that create tables by hand. */
static inline const char *test_db_serial_pk(void) {
    return T.pg ? "id BIGSERIAL PRIMARY KEY" : "id INTEGER PRIMARY KEY AUTOINCREMENT";
}
static inline const char *test_db_blob_type(void) { return T.pg ? "BYTEA" : "BLOB"; }

/* A TCP port on 127.0.0.1 with nothing listening (bound then closed). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
static inline int test_db_closed_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    socklen_t len = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &len);
    close(fd);
    return ntohs(sa.sin_port);
}

/* A listening socket that never answers (the handshake completes in the kernel). */
static inline int test_db_silent_listener(int *port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    cr_assert_eq(listen(fd, 8), 0);
    socklen_t len = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &len);
    *port = ntohs(sa.sin_port);
    return fd;
}

#endif
