/* Pure pieces of the database layer: URL parsing (PostgreSQL URLs checked
 * against libpq's own URI parser), ? placeholder translation, statement
 * classification, timestamp normalization and migration file sections. */
#include <criterion/criterion.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <string.h>

#include "db/db.h"

static db_url parse_ok(const char *url) {
    db_url u;
    char err[256];
    cr_assert_eq(vial_db_url_parse(url, &u, err, sizeof err), 0, "%s: %s", url, err);
    return u;
}

static void parse_fails(const char *url, const char *fragment) {
    db_url u;
    char err[256] = "";
    cr_assert_eq(vial_db_url_parse(url, &u, err, sizeof err), -1, "%s parsed", url);
    cr_assert_not_null(strstr(err, fragment), "%s: \"%s\" not in \"%s\"", url, fragment, err);
}

Test(db_url, sqlite_forms) {
    db_url u = parse_ok("sqlite:///relative/path.db");
    cr_assert_eq(u.backend, VIAL_DB_SQLITE);
    cr_assert_str_eq(u.path, "relative/path.db");
    cr_assert(!u.memory);
    vial_db_url_free(&u);
    u = parse_ok("sqlite:////absolute/path.db");
    cr_assert_str_eq(u.path, "/absolute/path.db");
    vial_db_url_free(&u);
    const char *memories[] = {"sqlite://:memory:", "sqlite:///:memory:", "sqlite://", "SQLITE://:memory:"};
    for (size_t i = 0; i < 4; i++) {
        u = parse_ok(memories[i]);
        cr_assert(u.memory, "%s", memories[i]);
        cr_assert_str_eq(u.path, ":memory:");
        vial_db_url_free(&u);
    }
    u = parse_ok(NULL);
    cr_assert_str_eq(u.path, "instance/app.db", "the default database");
    vial_db_url_free(&u);
    u = parse_ok("  sqlite:///with%20space.db?busy_timeout=250\n");
    cr_assert_str_eq(u.path, "with space.db");
    cr_assert_eq(u.busy_timeout_ms, 250);
    cr_assert_str_eq(u.display, "sqlite:///with%20space.db?busy_timeout=250");
    vial_db_url_free(&u);
}

Test(db_url, bad_urls_say_what_is_wrong) {
    parse_fails("", "empty");
    parse_fails("app.db", "not a database URL");
    parse_fails("://x", "not a database URL");
    parse_fails("mysql://u@h/db", "unsupported database URL scheme \"mysql\"");
    parse_fails("sqlite://host/app.db", "takes no host");
    parse_fails("sqlite:///", "no file path");
    parse_fails("sqlite:///dir/", "names a directory");
    parse_fails("sqlite:///a.db?journal=wal", "unknown parameter \"journal\"");
    parse_fails("sqlite:///a.db?busy_timeout=soon", "busy_timeout");
    parse_fails("sqlite:///a%zz.db", "bad percent escape in the path");
    parse_fails("sqlite:///a%00.db", "NUL");
    parse_fails("postgresql://u@h:99999/db", "invalid port \"99999\"");
    parse_fails("postgresql://u@h:/db", "invalid port");
    parse_fails("postgresql://u@h:5x/db", "invalid port");
    parse_fails("postgresql://u@[::1/db", "unclosed [");
    parse_fails("postgresql://u:p%4@h/db", "bad percent escape in the password");
    parse_fails("postgresql://h/db?sslmode", "has no value");
    parse_fails("postgresql://h/db?connect_timeout=abc", "connect_timeout");
    parse_fails("postgresql://h/db\x01", "control character");
}

/* The pairs libpq's own URI parser finds in url (only those it sets). */
static void expect_like_libpq(const char *url) {
    char *errmsg = NULL;
    PQconninfoOption *opts = PQconninfoParse(url, &errmsg);
    cr_assert_not_null(opts, "libpq rejects %s: %s", url, errmsg ? errmsg : "");
    db_url u = parse_ok(url);
    cr_assert_eq(u.backend, VIAL_DB_POSTGRES);
    size_t libpq_count = 0;
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val) continue;
        libpq_count++;
        const char *ours = vial_db_url_param(&u, o->keyword);
        cr_assert_not_null(ours, "%s: libpq has %s=%s, we do not", url, o->keyword, o->val);
        cr_assert_str_eq(ours, o->val, "%s: %s", url, o->keyword);
    }
    cr_assert_eq(u.nparams, libpq_count, "%s: we found %zu parameters, libpq %zu", url, u.nparams, libpq_count);
    PQconninfoFree(opts);
    vial_db_url_free(&u);
}

Test(db_url, postgres_urls_read_as_libpq_reads_them) {
    const char *urls[] = {
        "postgresql://user:pass@host:5433/db",
        "postgres://user@localhost/app",
        "postgresql://localhost",
        "postgresql://",
        "postgresql:///dbonly",
        "postgresql://u%40x:p%3Aa%2Fss@h/d%20b",
        "postgresql://[::1]:5432/db",
        "postgresql://h1:5432,h2:5433/db?target_session_attrs=read-write",
        "postgresql://%2Fvar%2Frun%2Fpostgresql/db",
        "postgresql://u@h/db?sslmode=disable&application_name=my%20app&connect_timeout=3",
        "postgresql://u@h/db?options=-c%20search_path%3Dx",
        "postgresql://:secret@h/db",
    };
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) expect_like_libpq(urls[i]);
    db_url u = parse_ok("postgresql://u@h/db?connect_timeout=3");
    cr_assert_eq(u.connect_timeout_ms, 3000);
    vial_db_url_free(&u);
}

Test(db_url, passwords_are_masked_for_display) {
    db_url u = parse_ok("postgresql://alice:s3cret@db.example:5432/app?sslmode=require");
    cr_assert_str_eq(u.display, "postgresql://alice:***@db.example:5432/app?sslmode=require");
    vial_db_url_free(&u);
    u = parse_ok("postgresql://alice@h/app?password=s3cret&sslmode=disable");
    cr_assert_str_eq(u.display, "postgresql://alice@h/app?password=***&sslmode=disable");
    vial_db_url_free(&u);
    char err[256];
    vial_db *db = vial_db_open("postgresql://a:b@h/d?nonsense=1", NULL, err, sizeof err);
    cr_assert_null(db);
    cr_assert_str_eq(err, "unknown PostgreSQL connection parameter \"nonsense\" in the database URL");
    db = vial_db_open("postgresql://a:topsecret@h/d", NULL, err, sizeof err);
    cr_assert_not_null(db, "opening does not connect");
    cr_assert_str_eq(vial_db_display_url(db), "postgresql://a:***@h/d");
    vial_db_close(db);
}

/* ---- SQL text ---- */

static const char *translated(const char *sql, int *n) {
    static char out[1024];
    vial_buf b;
    vial_buf_init(&b, NULL, 0);
    char err[160];
    int rc = vial_db_sql_translate(sql, &b, n, err, sizeof err);
    snprintf(out, sizeof out, "%s", rc == 0 ? vial_buf_cstr(&b) : err);
    vial_buf_free(&b);
    return out;
}

Test(db_sql, placeholders_become_numbered) {
    int n = -1;
    cr_assert_str_eq(translated("SELECT * FROM t WHERE a = ? AND b IN (?, ?)", &n),
                     "SELECT * FROM t WHERE a = $1 AND b IN ($2, $3)");
    cr_assert_eq(n, 3);
    cr_assert_str_eq(translated("SELECT '?', 'it''s ?', ?", &n), "SELECT '?', 'it''s ?', $1");
    cr_assert_eq(n, 1);
    cr_assert_str_eq(translated("SELECT E'\\'?', ?", &n), "SELECT E'\\'?', $1");
    cr_assert_str_eq(translated("SELECT \"a?\"\"b\" FROM t WHERE x = ?", &n), "SELECT \"a?\"\"b\" FROM t WHERE x = $1");
    cr_assert_str_eq(translated("SELECT 1 -- why?\n, ?", &n), "SELECT 1 -- why?\n, $1");
    cr_assert_str_eq(translated("SELECT /* a /* nested? */ ? */ ?", &n), "SELECT /* a /* nested? */ ? */ $1");
    cr_assert_eq(n, 1);
    cr_assert_str_eq(translated("SELECT $$ what? $$, $tag$ a $$ ? $tag$, ?", &n),
                     "SELECT $$ what? $$, $tag$ a $$ ? $tag$, $1");
    cr_assert_eq(n, 1);
    cr_assert_str_eq(translated("SELECT a$b, ?", &n), "SELECT a$b, $1", "$ inside an identifier");
    cr_assert_str_eq(translated("SELECT 'unterminated ?", &n), "SELECT 'unterminated ?");
    cr_assert_eq(n, 0);
    cr_assert_str_eq(translated("SELECT 1;  -- done\n", &n), "SELECT 1;  -- done\n");
    cr_assert_not_null(strstr(translated("SELECT $1", &n), "use ? placeholders"));
    cr_assert_not_null(strstr(translated("SELECT 1; SELECT 2", &n), "one statement"));
}

Test(db_sql, blank_and_readonly) {
    cr_assert(vial_db_sql_blank(""));
    cr_assert(vial_db_sql_blank("  ;\n -- c\n /* d */ ;"));
    cr_assert(!vial_db_sql_blank(" x"));
    cr_assert(vial_db_sql_readonly("SELECT 1"));
    cr_assert(vial_db_sql_readonly("  /* c */ (select a from t)"));
    cr_assert(vial_db_sql_readonly("values (1)"));
    cr_assert(!vial_db_sql_readonly("SELECT * INTO copy FROM t"));
    cr_assert(vial_db_sql_readonly("SELECT 'into' FROM t"));
    cr_assert(!vial_db_sql_readonly("INSERT INTO t VALUES (1)"));
    cr_assert(!vial_db_sql_readonly("WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x"));
    cr_assert(!vial_db_sql_readonly("UPDATE t SET a = 1"));
}

Test(db_sql, quoting) {
    vial_buf b;
    vial_buf_init(&b, NULL, 0);
    vial_db_quote_ident(&b, "we\"ird", 6);
    vial_buf_putc(&b, ' ');
    vial_db_quote_literal(&b, "it's", 4);
    cr_assert_str_eq(vial_buf_cstr(&b), "\"we\"\"ird\" 'it''s'");
    vial_buf_free(&b);
}

/* ---- timestamps ---- */

static const char *norm(const char *s) {
    static char out[20];
    if (vial_db_timestamp_normalize(s, strlen(s), out) != 0) return "invalid";
    return out;
}

Test(db_values, timestamps_normalize_to_utc_seconds) {
    cr_assert_str_eq(norm("2024-01-02 03:04:05"), "2024-01-02 03:04:05");
    cr_assert_str_eq(norm("2024-01-02T03:04:05"), "2024-01-02 03:04:05");
    cr_assert_str_eq(norm("2024-01-02"), "2024-01-02 00:00:00");
    cr_assert_str_eq(norm("2024-01-02 03:04"), "2024-01-02 03:04:00");
    cr_assert_str_eq(norm("2024-01-02T03:04:05.999999Z"), "2024-01-02 03:04:05");
    cr_assert_str_eq(norm("2024-01-02T03:04:05+02:00"), "2024-01-02 01:04:05");
    cr_assert_str_eq(norm("2024-01-01T01:00:00+0230"), "2023-12-31 22:30:00");
    cr_assert_str_eq(norm("2023-12-31T23:30:00-01"), "2024-01-01 00:30:00");
    cr_assert_str_eq(norm("2024-02-29 12:00:00"), "2024-02-29 12:00:00");
    const char *bad[] = {"2023-02-29", "2024-13-01", "2024-00-10", "2024-01-32", "24-01-01", "2024-01-02 24:00:00",
                         "2024-01-02 10:60", "2024-01-02X10:00", "2024-01-02 10:00:00+", "2024-01-02 10:00:00.",
                         "yesterday", "", "2024-01-02 10:00:00 ", "0000-01-01"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) cr_assert_str_eq(norm(bad[i]), "invalid", "%s", bad[i]);
}

Test(db_values, bytea_hex) {
    vial_arena *a = vial_arena_new(1024);
    vial_value *v = vial_db_bytea_value(a, "\\x00ff41", 8);
    cr_assert(v->flags & VIAL_FLAG_BLOB);
    cr_assert_eq(v->as.s.len, 3);
    cr_assert_eq(memcmp(v->as.s.ptr, "\x00\xff" "A", 3), 0);
    v = vial_db_bytea_value(a, "\\x", 2);
    cr_assert_eq(v->as.s.len, 0);
    vial_arena_free(a);
}

/* ---- migration files ---- */

static int split(const char *text, char *up, char *down, char *err) {
    vial_str u, d;
    int rc = vial_db_migration_split(text, strlen(text), &u, &d, err, 200);
    if (rc == 0) {
        snprintf(up, 200, "%.*s", (int)u.len, u.ptr);
        snprintf(down, 200, "%.*s", (int)d.len, d.ptr);
    }
    return rc;
}

Test(db_migration_file, sections) {
    char up[200], down[200], err[200];
    cr_assert_eq(split("-- 0001 x\n\n-- up\nCREATE TABLE a (id INT);\n-- down\nDROP TABLE a;\n", up, down, err), 0, "%s", err);
    cr_assert_str_eq(up, "CREATE TABLE a (id INT);\n");
    cr_assert_str_eq(down, "DROP TABLE a;\n");
    cr_assert_eq(split("--UP\r\nx;\r\n  --  Down  \r\ny;", up, down, err), 0, "%s", err);
    cr_assert_str_eq(up, "x;\r\n");
    cr_assert_str_eq(down, "y;");
    cr_assert_eq(split("-- up\nonly up;\n", up, down, err), 0);
    cr_assert_str_eq(down, "");
    cr_assert_eq(split("-- up\n-- upgrade notes are just comments\nx;\n-- down", up, down, err), 0);
    cr_assert_str_eq(up, "-- upgrade notes are just comments\nx;\n");
    cr_assert_eq(split("x;\n-- up\n", up, down, err), -1);
    cr_assert_str_eq(err, "line 1: SQL before the '-- up' line");
    cr_assert_eq(split("-- down\n-- up\n", up, down, err), -1);
    cr_assert_str_eq(err, "line 1: '-- down' comes before '-- up'");
    cr_assert_eq(split("-- up\n-- down\n-- down\n", up, down, err), -1);
    cr_assert_str_eq(err, "line 3: a second '-- down' line");
    cr_assert_eq(split("", up, down, err), -1);
}

/* ---- binding C values by type ---- */

Test(db_bind, vial_args_counts_and_types) {
    vial_db_args none = VIAL_ARGS();
    cr_assert_eq(none.len, 0);
    cr_assert_null(none.items);
    const char *text = "t", *no_text = NULL;
    vial_value iv = {.type = VIAL_INT};
    iv.as.i = 9;
    vial_db_args a = VIAL_ARGS(1, (short)2, 3L, 4LL, 5u, (int64_t)6, 2.5, 0.5f, (bool)true, text, no_text, &iv,
                            (vial_value *)NULL, VIAL_BLOB("\0x", 2), VIAL_SQL_NULL, (unsigned long long)UINT64_MAX, 'c');
    cr_assert_eq(a.len, 17);
    for (int i = 0; i < 6; i++) {
        cr_assert_eq(a.items[i].type, VIAL_INT, "%d", i);
        cr_assert_eq(a.items[i].as.i, i + 1);
    }
    cr_assert_eq(a.items[6].type, VIAL_DOUBLE);
    cr_assert_eq(a.items[6].as.d, 2.5);
    cr_assert_eq(a.items[7].type, VIAL_DOUBLE);
    cr_assert_eq(a.items[8].type, VIAL_BOOL);
    cr_assert(a.items[8].as.b);
    cr_assert_eq(a.items[9].type, VIAL_STRING);
    cr_assert_eq(a.items[9].as.s.len, 1);
    cr_assert_eq(a.items[10].type, VIAL_NULL);
    cr_assert_eq(a.items[11].type, VIAL_INT);
    cr_assert_eq(a.items[11].as.i, 9);
    cr_assert_eq(a.items[12].type, VIAL_NULL);
    cr_assert_eq(a.items[13].type, VIAL_STRING);
    cr_assert(a.items[13].flags & VIAL_FLAG_BLOB);
    cr_assert_eq(a.items[13].as.s.len, 2);
    cr_assert_eq(a.items[14].type, VIAL_NULL);
    cr_assert_eq(a.items[15].type, VIAL_DOUBLE, "past INT64_MAX: a double, not a wrapped negative");
    cr_assert_eq(a.items[16].type, VIAL_INT);
    cr_assert_eq(a.items[16].as.i, 'c');
    int x = 0;
    vial_db_args p = VIAL_ARGS((void *)&x, (void *)NULL);
    cr_assert_eq(p.items[0].tag, VIAL_BIND_BAD_POINTER, "a pointer is marked, and refused when run");
    cr_assert_eq(p.items[1].tag, 0);
    vial_db_args many = VIAL_ARGS(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
                               25, 26, 27, 28, 29, 30, 31, 32);
    cr_assert_eq(many.len, 32);
    cr_assert_eq(many.items[31].as.i, 32);
}
