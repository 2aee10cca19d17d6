/* pg.h - what postgres.c (a pooled connection's statements) and pg_lane.c
 * (the shared pipelined connection) share: libpq results to values, errors
 * by SQLSTATE, parameters, waiting on the socket. Nobody else includes it. */
#ifndef VIAL_DB_PG_H
#define VIAL_DB_PG_H

#include <libpq-fe.h>

#include "db/db.h"

/* Parameter values in text format (blobs in binary), NUL-terminated as libpq wants. */
typedef struct pg_params {
    const char **values;
    int *lengths;
    int *formats;
    char *scratch;
} pg_params;

/* Copies the first line of a libpq message (leading blanks dropped). */
void vial_pg_first_line(char *out, size_t n, const char *msg);
/* Marks c broken and records "connection ... lost while what"; returns VIAL_DB_UNAVAILABLE. */
int vial_pg_lost(vial_db_conn *c, const char *what);
/* Records a failed PQsend* on c. */
int vial_pg_send_failed(vial_db_conn *c, const char *what);
/* sql with $N placeholders into out, counted in *nparams; VIAL_DB_INVALID on c for bad or empty SQL. */
int vial_pg_translate(vial_db_conn *c, const char *sql, vial_buf *out, int *nparams);
/* Waits for the socket within the deadline (0: none). 1 ready (*ready: VIAL_WAIT_* bits), 0 timeout, -1 error. */
int vial_pg_wait_socket(PGconn *pg, int events, int64_t deadline, int *ready);
/* When the answer to a statement sent now is overdue (0: no query timeout). */
int64_t vial_pg_query_deadline(vial_db_conn *c);
/* Records an error result on c (c->handle: the PGconn it came from), classified by SQLSTATE. */
int vial_pg_result_error(vial_db_conn *c, PGresult *r);
/* Appends up to max_rows (0: all) of r's rows to rows as typed objects. */
int vial_pg_collect_rows(vial_db_conn *c, vial_arena *a, PGresult *r, vial_value *rows, size_t max_rows);
/* Converts args for libpq into p (free with vial_pg_free_params, also after a failure). */
int vial_pg_build_params(vial_db_conn *c, const vial_db_args *args, pg_params *p);
void vial_pg_free_params(pg_params *p);

#endif
