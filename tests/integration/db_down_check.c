/* db_down_check URL - helper for test_db_postgres.sh: PostgreSQL going away.
 *
 * Connects and queries (so a connection sits in the pool), prints "ready",
 * waits for a line on stdin (the script stops the server meanwhile), then
 * checks that the pooled connection is found dead and that the result is
 * VIAL_DB_UNAVAILABLE with a message, for a new checkout and for a query.
 * Prints "ok: <message>" and exits 0, or says what went wrong and exits 1. */
#include <stdio.h>
#include <string.h>

#include "vial.h"

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: db_down_check URL\n");
        return 2;
    }
    char err[256];
    vial_db *db = vial_db_open(argv[1], &(vial_db_options){.connect_timeout_ms = 3000}, err, sizeof err);
    if (!db) {
        printf("fail: open: %s\n", err);
        return 1;
    }
    vial_arena *a = vial_arena_new(4096);
    vial_db_conn *c = vial_db_acquire(db);
    if (!vial_db_scalar(c, a, "SELECT 1")) {
        printf("fail: first query: %s\n", vial_db_errmsg(c));
        return 1;
    }
    vial_db_release(c);
    printf("ready\n");
    fflush(stdout);
    char line[64];
    if (!fgets(line, sizeof line, stdin)) return 1;
    c = vial_db_acquire(db);
    int code = vial_db_errcode(c);
    vial_value *v = code == VIAL_DB_OK ? vial_db_scalar(c, a, "SELECT 1") : NULL;
    code = vial_db_errcode(c);
    int rc = 1;
    if (v)
        printf("fail: the query succeeded with the server stopped\n");
    else if (code != VIAL_DB_UNAVAILABLE)
        printf("fail: expected unavailable, got %s: %s\n", vial_db_code_name(code), vial_db_errmsg(c));
    else {
        printf("ok: %s\n", vial_db_errmsg(c));
        rc = 0;
    }
    vial_db_release(c);
    vial_db_stats st;
    vial_db_get_stats(db, &st);
    if (rc == 0 && st.open != 0) {
        printf("fail: %d connection(s) still counted open\n", st.open);
        rc = 1;
    }
    vial_db_close(db);
    vial_arena_free(a);
    return rc;
}
