/* db.h - what the files of the database layer share, and nobody else.
 *
 * The layer is a pool (db.c) of connections, each driven by one backend
 * (sqlite.c, postgres.c) through the small db_driver interface below; SQL
 * text helpers (sql.c), URL parsing (url.c), models and their DDL (model.c),
 * the query builder (query_builder.c), relationships (relation.c), migration
 * files and commands (migrate.c) and autogenerate (autogen.c) sit on top and
 * talk to the backends only through vial_db_* calls. */
#ifndef VIAL_DB_DB_H
#define VIAL_DB_DB_H

#include <stdint.h>
#include <sys/types.h>

#include "vial.h"

#define DB_ERRMSG_MAX 512
#define DB_SQL_MAX (16u << 20) /* cap on SQL we generate */

/* ---- URLs (url.c) ---- */

typedef struct db_url {
    int backend;            /* VIAL_DB_SQLITE / VIAL_DB_POSTGRES */
    char *path;             /* SQLite: the file, or ":memory:" */
    bool memory;            /* SQLite: an in-memory database */
    int busy_timeout_ms;    /* SQLite ?busy_timeout=MS (0: absent) */
    int connect_timeout_ms; /* PostgreSQL ?connect_timeout=SECONDS, in ms (0: absent) */
    size_t nparams;         /* PostgreSQL: libpq keyword/value pairs, NULL-terminated arrays */
    char **keys;
    char **values;
    char *display; /* the URL with the password masked */
} db_url;

/* Parses a database URL; 0, or -1 with the reason in err. */
int vial_db_url_parse(const char *url, db_url *out, char *err, size_t errlen);
/* Frees what vial_db_url_parse allocated. */
void vial_db_url_free(db_url *u);
/* The value of a libpq keyword in u, or NULL. */
const char *vial_db_url_param(const db_url *u, const char *key);

/* ---- prepared statement cache entries (kept by the drivers) ---- */

typedef struct db_stmt {
    uint64_t hash;
    char *sql;          /* the caller's SQL (cache key) */
    void *handle;       /* sqlite3_stmt * (SQLite) */
    unsigned id;        /* PostgreSQL: prepared as "vial_<id>" */
    int nparams;        /* placeholders */
    uint64_t last_used; /* for LRU eviction */
} db_stmt;

/* ---- connections and the pool (db.c) ---- */

typedef struct db_driver db_driver;

struct vial_db_conn {
    vial_db *db;
    void *handle;       /* sqlite3 * or PGconn * */
    uint64_t fork_gen;  /* process generation that opened it */
    int depth;          /* transaction nesting (savepoints beyond 1) */
    bool broken;        /* unusable: closed instead of pooled */
    bool dead;          /* acquire failed: every call reports the error */
    bool sent;          /* driver: the current statement may have reached the server */
    bool counted;       /* holds one of the pool's slots */
    int code;           /* last result code */
    char sqlstate[6];
    char msg[DB_ERRMSG_MAX];
    int64_t changes;
    int64_t last_id;
    db_stmt *stmts;     /* statement cache */
    int nstmts, stmt_cap;
    uint64_t use_clock;
    unsigned next_stmt_id;
    int64_t busy_start_ms; /* SQLite busy handler: when this wait began */
    vial_db_conn *next;    /* idle list */
    struct db_lane *lane;  /* a request's handle on the worker's shared connection (pg_lane.c), not a pooled one */
};

struct vial_db {
    db_url url;
    const db_driver *drv;
    vial_db_options opt;
    vial_db_conn *idle;
    int nidle;
    int open; /* connections holding a slot (idle + checked out) */
    uint64_t fork_gen;
    vial_db_stats st;
    struct db_pool_waiter *wait_head, *wait_tail; /* requests queued for a connection, oldest first */
    struct db_lane *lane; /* PostgreSQL: the shared pipelined connection (pg_lane.c), NULL until used */
};

/* Transaction state reported by a driver. */
enum { DB_TX_IDLE = 0, DB_TX_ACTIVE = 1, DB_TX_FAILED = 2 };

/* One backend. Every function records its outcome on c (vial_db_fail / vial_db_ok). */
struct db_driver {
    const char *name;
    /* Checks backend-specific URL parts at open time. */
    int (*check_url)(const db_url *u, char *err, size_t errlen);
    /* Opens c->handle. */
    int (*connect)(vial_db_conn *c);
    /* Closes c->handle; inherited: it was opened before a fork, leave the server side alone. */
    void (*disconnect)(vial_db_conn *c, bool inherited);
    /* An idle pooled connection is still usable. */
    bool (*healthy)(vial_db_conn *c);
    /* Runs one statement; appends up to max_rows (0: all) row objects to rows (NULL: discard). */
    int (*run)(vial_db_conn *c, vial_arena *a, const char *sql, const vial_db_args *args, vial_value *rows,
               size_t max_rows);
    /* Runs one statement n times, once per set of values (NULL: db.c loops over run); results (NULL: discard)
     * gets one array of rows per run; *changes the rows changed in all. one_tx: the runs are reads and may
     * share one transaction (else each is its own, as n separate statements). */
    int (*run_many)(vial_db_conn *c, vial_arena *a, const char *sql, const vial_db_args *sets, size_t n,
                    vial_value *results, int64_t *changes, bool one_tx);
    /* Runs several statements without parameters. */
    int (*script)(vial_db_conn *c, const char *sql);
    /* DB_TX_* as the server sees it. */
    int (*tx_status)(vial_db_conn *c);
    /* Id of the last inserted row. */
    int64_t (*last_insert_id)(vial_db_conn *c);
    /* Frees the statement cache entry's backend part. */
    void (*stmt_free)(vial_db_conn *c, db_stmt *s);
};

extern const db_driver vial_db_sqlite_driver;
extern const db_driver vial_db_postgres_driver;

/* Records an error on c and returns code. */
int vial_db_fail(vial_db_conn *c, int code, const char *fmt, ...) VIAL_PRINTF(3, 4);
/* Records "the statement has N placeholders but M values were given" on c; returns VIAL_DB_INVALID. */
int vial_db_fail_values(vial_db_conn *c, int nparams, size_t given);
/* Puts "run N: " (N = i + 1) before the connection's error message: which run of a batch failed. */
void vial_db_name_run(vial_db_conn *c, size_t i);
/* Records success (or VIAL_DB_NOT_FOUND) on c. */
void vial_db_set_code(vial_db_conn *c, int code);
/* Milliseconds of a monotonic clock. */
int64_t vial_db_now_ms(void);

/* Statement cache shared by the drivers: the entry for sql, or NULL. */
db_stmt *vial_db_stmt_find(vial_db_conn *c, const char *sql, uint64_t hash);
/* Adds an entry (evicting the least recently used past the limit); NULL when caching is off. */
db_stmt *vial_db_stmt_add(vial_db_conn *c, const char *sql, uint64_t hash);
/* Removes one entry. */
void vial_db_stmt_remove(vial_db_conn *c, db_stmt *s);
/* Drops every entry. */
void vial_db_stmt_clear(vial_db_conn *c);
/* FNV-1a of a C string. */
uint64_t vial_db_hash(const char *s);

/* ---- the shared pipelined connection (pg_lane.c) ---- */

/* Whether a request holding no connection may run sql through db's lane now:
 * PostgreSQL, on a request coroutine, lanes on, a sessionless statement, and a
 * lane that is not stuck behind a slow statement. */
bool vial_db_lane_usable(vial_db *db, const char *sql);
/* Makes c (owned by a request) a handle on db's lane; false when out of memory. */
bool vial_db_lane_handle(vial_db *db, vial_db_conn *c);
/* Runs sql through the lane for handle c: n runs (a Sync after each, or one for
 * all with one_tx); n == 1 with rows != NULL appends up to max_rows rows to rows,
 * else results (NULL: discard) gets one array per run. Errors land on c. */
int vial_pg_lane_run(vial_db_conn *c, vial_arena *a, const char *sql, const vial_db_args *sets, size_t n,
                     vial_value *rows, size_t max_rows, vial_value *results, int64_t *changes, bool one_tx);
/* The socket of db's lane connection, -1 when none is open (for tests). */
int vial_db_lane_fd(const vial_db *db);
/* Closes db's lane (its connection goes back to the pool's accounting). */
void vial_db_lane_close(vial_db *db);

/* ---- SQL text (sql.c) ---- */

/* Copies sql to out with each ? placeholder outside literals, identifiers and comments
 * replaced by $1, $2, ...; counts them in *nparams. -1 with err on $N placeholders. */
int vial_db_sql_translate(const char *sql, vial_buf *out, int *nparams, char *err, size_t errlen);
/* True when sql holds only whitespace and comments. */
bool vial_db_sql_blank(const char *sql);
/* True when the statement only reads (SELECT, VALUES, SHOW): safe to retry. */
bool vial_db_sql_readonly(const char *sql);
/* True for statements that leave nothing behind in the session (reads, UPDATE,
 * DELETE; not INSERT, whose id lastval() reads afterwards, nor SET and the like):
 * the ones a request may run on a connection it shares with others. */
bool vial_db_sql_sessionless(const char *sql);
/* Appends name as a double-quoted identifier. */
int vial_db_quote_ident(vial_buf *b, const char *name, size_t n);
/* Appends s as a single-quoted SQL string literal. */
int vial_db_quote_literal(vial_buf *b, const char *s, size_t n);

/* ---- values ---- */

/* Parses a PostgreSQL bytea hex text ("\x0a0b") into a blob value. */
vial_value *vial_db_bytea_value(vial_arena *a, const char *text, size_t len);
/* Normalizes a timestamp ("2024-01-02T03:04:05Z", "2024-01-02") to "YYYY-MM-DD HH:MM:SS" UTC; -1 if invalid. */
int vial_db_timestamp_normalize(const char *s, size_t n, char out[20]);

/* ---- models (model.c, query_builder.c, relation.c) ---- */

/* The column called name (n bytes), or NULL. */
const vial_column *vial_db_column(const vial_model *m, const char *name, size_t n);
/* The primary key column, or NULL. */
const vial_column *vial_db_pk(const vial_model *m);
/* Appends the model's column list ("t"."a", "t"."b") with an optional table qualifier. */
int vial_db_column_list(vial_buf *b, const vial_model *m, const char *qualifier, const char *alias_prefix);
/* Appends a checked ORDER BY list (without the keywords) for m's columns; -1 with err. */
int vial_db_order_by(vial_buf *b, const vial_model *m, const char *order_by, const char *qualifier, char *err,
                     size_t errlen);
/* Appends CREATE TABLE + CREATE INDEX statements for m (if_not_exists: guarded). */
int vial_db_table_ddl(vial_buf *b, int backend, const vial_model *m, bool if_not_exists);
/* Appends the column definition used by CREATE TABLE and ADD COLUMN. */
int vial_db_column_ddl(vial_buf *b, int backend, const vial_model *m, const vial_column *col);
/* Appends the CREATE INDEX statements of m (all of them, or only those named in only). */
int vial_db_index_ddl(vial_buf *b, const vial_model *m, const char *only, bool if_not_exists);
/* Calls fn for each index m declares (column .index flags and .indexes), with its name and columns. */
int vial_db_each_index(const vial_model *m, vial_arena *a,
                       int (*fn)(void *ctx, const char *name, const char *columns, bool unique), void *ctx);
/* Orders models so that referenced tables come first; fills out (n entries); -1 on a cycle. */
int vial_db_sort_models(const vial_model *const *models, const vial_model **out, size_t n, char *err,
                        size_t errlen);
/* Converts a value for a column about to be written (timestamps normalized, bools kept). */
int vial_db_coerce(vial_arena *a, const vial_model *m, const vial_column *col, const vial_value *in,
                   vial_value *out, char *err, size_t errlen);

/* Runs inner_sql (a select of m's columns, with args) as a subquery LEFT JOINed to the
 * relations' tables; returns m's rows with the related rows nested (relation.c). */
vial_value *vial_db_join_load(vial_db_conn *c, vial_arena *a, const vial_model *m, const char *inner_sql,
                              vial_db_args args, const char *order_by, const char *relations);

/* ---- migrations (migrate.c, autogen.c) ---- */

/* Splits a migration file into its up and down sections (pointers into text). */
int vial_db_migration_split(const char *text, size_t len, vial_str *up, vial_str *down, char *err,
                            size_t errlen);
/* Whether table exists in the current schema; *error set when the check itself failed. */
bool vial_db_table_exists(vial_db_conn *c, vial_arena *a, const char *table, int *error);
/* Writes the SQL that brings the live schema up to the models into up/down; 0 (nothing to do: up empty) or -1. */
int vial_db_autogen(vial_db_conn *c, vial_arena *a, const vial_model *const *models, vial_buf *up, vial_buf *down,
                    vial_buf *notes);

/* ---- the app's database (db_app.c, db_cli.c) ---- */

/* The models the app registered with vial_db_models (NULL when none). */
const vial_model *const *vial_db_app_models(vial_app *app);
/* `./app db ...`: the CLI's db group (app->db_command). */
int vial_db_app_cli(vial_app *app, const char *prog, int argc, char **argv);

#endif
