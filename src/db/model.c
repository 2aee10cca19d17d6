/* model.c - tables declared once in C: checking, DDL, and rows by primary key.
 *
 * A vial_model is static data (table name, typed columns, indexes,
 * relationships) from which everything else is derived: CREATE TABLE for
 * either backend in foreign-key order (create_all / drop_all, migrations'
 * autogenerate), and the row operations insert / get / update / delete.
 * Values written through a model are checked against it before any SQL is
 * built: an unknown column, a wrong type, a NULL where NOT NULL, or a
 * required column missing is an error naming table.column, so a typo in a
 * form field name never reaches the database as a confusing SQL error.
 * Identifiers are always double-quoted (PostgreSQL reserves "user"); values
 * always travel as bound parameters. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "db/db.h"

#define MAX_COLUMNS 1000

static int msgf(char *msg, size_t msglen, const char *fmt, ...) VIAL_PRINTF(3, 4);
static int msgf(char *msg, size_t msglen, const char *fmt, ...) {
    if (msg && msglen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, msglen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

const vial_column *vial_db_column(const vial_model *m, const char *name, size_t n) {
    if (!m || !m->columns) return NULL;
    for (const vial_column *col = m->columns; col->name; col++)
        if (strlen(col->name) == n && memcmp(col->name, name, n) == 0) return col;
    return NULL;
}

const vial_column *vial_db_pk(const vial_model *m) {
    if (!m || !m->columns) return NULL;
    for (const vial_column *col = m->columns; col->name; col++)
        if (col->primary_key) return col;
    return NULL;
}

static const char *type_word(vial_coltype t) {
    switch (t) {
    case VIAL_INTEGER: return "an integer";
    case VIAL_TEXT: return "text";
    case VIAL_REAL: return "a number";
    case VIAL_BOOLEAN: return "a boolean";
    case VIAL_TIMESTAMP: return "a timestamp (YYYY-MM-DD HH:MM:SS)";
    case VIAL_BLOB: return "bytes";
    default: return "a valid value";
    }
}

static const char *value_word(const vial_value *v) {
    switch (v->type) {
    case VIAL_NULL: return "null";
    case VIAL_BOOL: return "a boolean";
    case VIAL_INT: return "an integer";
    case VIAL_DOUBLE: return "a float";
    case VIAL_STRING: return v->flags & VIAL_FLAG_BLOB ? "bytes" : "a string";
    case VIAL_ARRAY: return "an array";
    case VIAL_OBJECT: return "an object";
    default: return "an unknown value";
    }
}

/* A short quote of a string value for messages. */
static void quote_for_message(char *out, size_t n, const vial_value *v) {
    if (v->type == VIAL_STRING && !(v->flags & VIAL_FLAG_BLOB))
        snprintf(out, n, " (\"%.40s%s\")", v->as.s.ptr, v->as.s.len > 40 ? "..." : "");
    else if (v->type == VIAL_DOUBLE)
        snprintf(out, n, " (%g)", v->as.d);
    else
        out[0] = '\0';
}

int vial_db_coerce(vial_arena *a, const vial_model *m, const vial_column *col, const vial_value *in, vial_value *out,
                   char *err, size_t errlen) {
    *out = *in;
    out->tag = 0;
    char shown[64];
    quote_for_message(shown, sizeof shown, in);
    if (in->type == VIAL_NULL) {
        if (in->tag == VIAL_BIND_BAD_POINTER)
            return msgf(err, errlen, "%s.%s: a void pointer cannot be stored (use VIAL_BLOB)", m->table, col->name);
        if (col->not_null && !col->primary_key)
            return msgf(err, errlen, "%s.%s may not be NULL", m->table, col->name);
        return 0;
    }
    switch (col->type) {
    case VIAL_INTEGER:
        if (in->type == VIAL_INT) return 0;
        if (in->type == VIAL_BOOL) {
            out->type = VIAL_INT;
            out->as.i = in->as.b;
            return 0;
        }
        break;
    case VIAL_REAL:
        if (in->type == VIAL_DOUBLE || in->type == VIAL_INT) return 0;
        break;
    case VIAL_TEXT:
        if (in->type == VIAL_STRING && !(in->flags & VIAL_FLAG_BLOB)) {
            if (!vial_utf8_valid(in->as.s.ptr, in->as.s.len))
                return msgf(err, errlen, "%s.%s: the text is not valid UTF-8 (byte %zu)", m->table, col->name,
                            vial_utf8_invalid_offset(in->as.s.ptr, in->as.s.len));
            if (in->as.s.len && memchr(in->as.s.ptr, '\0', in->as.s.len))
                return msgf(err, errlen, "%s.%s: the text contains a NUL byte", m->table, col->name);
            return 0;
        }
        break;
    case VIAL_BOOLEAN:
        if (in->type == VIAL_BOOL) return 0;
        if (in->type == VIAL_INT && (in->as.i == 0 || in->as.i == 1)) {
            out->type = VIAL_BOOL;
            out->as.b = in->as.i == 1;
            return 0;
        }
        break;
    case VIAL_TIMESTAMP: {
        char norm[20];
        if (in->type == VIAL_STRING && !(in->flags & VIAL_FLAG_BLOB) &&
            vial_db_timestamp_normalize(in->as.s.ptr, in->as.s.len, norm) == 0) {
        } else if (in->type == VIAL_INT) {
            time_t t = (time_t)in->as.i;
            struct tm tm;
            if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 < 1 || tm.tm_year + 1900 > 9999)
                return msgf(err, errlen, "%s.%s: %lld seconds is outside the years 1..9999", m->table, col->name,
                            (long long)in->as.i);
            strftime(norm, sizeof norm, "%Y-%m-%d %H:%M:%S", &tm);
        } else {
            return msgf(err, errlen, "%s.%s must be a timestamp like \"2024-01-31 12:00:00\", not %s%s", m->table,
                        col->name, value_word(in), shown);
        }
        char *copy = a ? vial_arena_strndup(a, norm, 19) : NULL;
        if (!copy) return msgf(err, errlen, "out of memory");
        out->type = VIAL_STRING;
        out->flags = 0;
        out->as.s.ptr = copy;
        out->as.s.len = 19;
        return 0;
    }
    case VIAL_BLOB:
        if (in->type == VIAL_STRING) return 0;
        break;
    default: return msgf(err, errlen, "%s.%s has an unknown column type %d", m->table, col->name, (int)col->type);
    }
    return msgf(err, errlen, "%s.%s must be %s, not %s%s", m->table, col->name, type_word(col->type), value_word(in),
                shown);
}

int vial_db_check(const vial_model *m, const vial_value *row, bool for_insert, char *msg, size_t msglen) {
    if (!m || !m->table || !m->columns) return msgf(msg, msglen, "no model given");
    if (!row || row->type != VIAL_OBJECT)
        return msgf(msg, msglen, "%s: expected an object of column values, got %s", m->table,
                    row ? value_word(row) : "nothing");
    for (size_t i = 0; i < row->as.obj.len; i++) {
        const vial_member *mem = &row->as.obj.items[i];
        const vial_column *col = vial_db_column(m, mem->key, mem->key_len);
        if (!col) return msgf(msg, msglen, "%s has no column \"%.*s\"", m->table, (int)mem->key_len, mem->key);
        vial_value out;
        /* coerce needs an arena only for timestamps; a throwaway one keeps check side-effect free */
        vial_arena *scratch = NULL;
        if (col->type == VIAL_TIMESTAMP) scratch = vial_arena_new(1024);
        int rc = vial_db_coerce(scratch, m, col, mem->value, &out, msg, msglen);
        if (scratch) vial_arena_free(scratch);
        if (rc != 0) return -1;
        if (!for_insert && col->primary_key && mem->value->type == VIAL_NULL)
            return msgf(msg, msglen, "%s.%s (the primary key) may not be set to NULL", m->table, col->name);
    }
    if (for_insert) {
        for (const vial_column *col = m->columns; col->name; col++) {
            if (!col->not_null || col->primary_key || col->default_sql) continue;
            vial_value *v = vial_object_get(row, col->name);
            if (!v || v->type == VIAL_NULL)
                return msgf(msg, msglen, "%s.%s is required (NOT NULL without a default)", m->table, col->name);
        }
    }
    return 0;
}

/* ---- DDL ---- */

static int check_indexes(const vial_model *m, char *err, size_t errlen);

static int check_model(const vial_model *m, char *err, size_t errlen) {
    if (!m || !m->table || !*m->table) return msgf(err, errlen, "a model without a table name");
    if (!m->columns || !m->columns[0].name) return msgf(err, errlen, "model %s has no columns", m->table);
    int pks = 0, n = 0;
    for (const vial_column *col = m->columns; col->name; col++) {
        if (++n > MAX_COLUMNS) return msgf(err, errlen, "model %s: too many columns", m->table);
        if (!*col->name) return msgf(err, errlen, "model %s: a column without a name", m->table);
        if (col->type < VIAL_INTEGER || col->type > VIAL_BLOB)
            return msgf(err, errlen, "%s.%s: unknown column type %d", m->table, col->name, (int)col->type);
        if (col->primary_key) pks++;
        if (vial_db_column(m, col->name, strlen(col->name)) != col)
            return msgf(err, errlen, "model %s declares column %s twice", m->table, col->name);
        if (col->references) {
            const char *dot = strchr(col->references, '.');
            if (!dot || dot == col->references || !dot[1] || strchr(dot + 1, '.'))
                return msgf(err, errlen, "%s.%s: references must be \"table.column\", not \"%s\"", m->table,
                            col->name, col->references);
        }
        if (col->on_delete) {
            static const char *ok[] = {"CASCADE", "SET NULL", "SET DEFAULT", "RESTRICT", "NO ACTION"};
            bool found = false;
            for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
                if (strcasecmp(col->on_delete, ok[i]) == 0) found = true;
            if (!found)
                return msgf(err, errlen, "%s.%s: on_delete must be CASCADE, SET NULL, SET DEFAULT, RESTRICT or NO ACTION",
                            m->table, col->name);
            if (!col->references) return msgf(err, errlen, "%s.%s: on_delete without references", m->table, col->name);
        }
    }
    if (pks > 1) return msgf(err, errlen, "model %s has %d primary key columns (one is supported)", m->table, pks);
    return check_indexes(m, err, errlen);
}

static const char *sql_type(int backend, const vial_column *col) {
    bool pg = backend == VIAL_DB_POSTGRES;
    switch (col->type) {
    case VIAL_INTEGER: return pg ? (col->primary_key ? "BIGSERIAL" : "BIGINT") : "INTEGER";
    case VIAL_TEXT: return "TEXT";
    case VIAL_REAL: return pg ? "DOUBLE PRECISION" : "REAL";
    case VIAL_BOOLEAN: return "BOOLEAN";
    case VIAL_TIMESTAMP: return pg ? "TIMESTAMP(0)" : "TIMESTAMP";
    case VIAL_BLOB: return pg ? "BYTEA" : "BLOB";
    default: return "TEXT";
    }
}

/* A default SQLite takes bare (and can add with ALTER TABLE ADD COLUMN): a
 * number, a single-quoted string, or one of its keywords. */
static bool literal_default(const char *d) {
    static const char *words[] = {"NULL", "TRUE", "FALSE", "CURRENT_TIMESTAMP", "CURRENT_DATE", "CURRENT_TIME"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcasecmp(d, words[i]) == 0) return true;
    const char *p = d;
    if (*p == '-' || *p == '+') p++;
    if (isdigit((unsigned char)*p) || (*p == '.' && isdigit((unsigned char)p[1]))) {
        char *end;
        strtod(p, &end);
        return *end == '\0';
    }
    if (d[0] == '\'') {
        for (p = d + 1; *p; p++) {
            if (*p != '\'') continue;
            if (p[1] == '\'') {
                p++;
                continue;
            }
            return p[1] == '\0';
        }
    }
    return false;
}

int vial_db_column_ddl(vial_buf *b, int backend, const vial_model *m, const vial_column *col) {
    (void)m;
    int rc = vial_db_quote_ident(b, col->name, strlen(col->name));
    rc |= vial_buf_printf(b, " %s", sql_type(backend, col));
    if (col->primary_key) {
        rc |= vial_buf_puts(b, " PRIMARY KEY");
        if (col->type == VIAL_INTEGER && backend == VIAL_DB_SQLITE) rc |= vial_buf_puts(b, " AUTOINCREMENT");
        if (col->type != VIAL_INTEGER) rc |= vial_buf_puts(b, " NOT NULL"); /* SQLite would allow NULL keys */
    } else if (col->not_null) {
        rc |= vial_buf_puts(b, " NOT NULL");
    }
    if (col->unique && !col->primary_key) rc |= vial_buf_puts(b, " UNIQUE");
    if (col->default_sql) {
        const char *d = col->default_sql;
        rc |= vial_buf_puts(b, " DEFAULT ");
        if (col->type == VIAL_BOOLEAN && (strcmp(d, "1") == 0 || strcasecmp(d, "true") == 0))
            rc |= vial_buf_puts(b, "TRUE");
        else if (col->type == VIAL_BOOLEAN && (strcmp(d, "0") == 0 || strcasecmp(d, "false") == 0))
            rc |= vial_buf_puts(b, "FALSE");
        else if (col->type == VIAL_TIMESTAMP && backend == VIAL_DB_POSTGRES && strcasecmp(d, "CURRENT_TIMESTAMP") == 0)
            /* whole seconds, truncated like SQLite's CURRENT_TIMESTAMP (timestamp(0) would round) */
            rc |= vial_buf_puts(b, "date_trunc('second', LOCALTIMESTAMP)");
        else if (literal_default(d))
            rc |= vial_buf_puts(b, d);
        else
            rc |= vial_buf_printf(b, "(%s)", d); /* any other expression: parenthesized, as SQLite requires */
    }
    if (col->references) {
        const char *dot = strchr(col->references, '.');
        rc |= vial_buf_puts(b, " REFERENCES ");
        rc |= vial_db_quote_ident(b, col->references, (size_t)(dot - col->references));
        rc |= vial_buf_puts(b, " (");
        rc |= vial_db_quote_ident(b, dot + 1, strlen(dot + 1));
        rc |= vial_buf_putc(b, ')');
        if (col->on_delete) {
            char upper[16];
            size_t i = 0;
            for (; col->on_delete[i] && i < sizeof upper - 1; i++)
                upper[i] = (char)toupper((unsigned char)col->on_delete[i]);
            upper[i] = '\0';
            rc |= vial_buf_printf(b, " ON DELETE %s", upper);
        }
    }
    return rc ? -1 : 0;
}

/* Splits "a, b" into trimmed names; calls fn for each; -1 on an empty name. */
static int each_name(const char *list, int (*fn)(void *ctx, const char *name, size_t n), void *ctx) {
    const char *p = list;
    for (;;) {
        while (*p == ' ' || *p == '\t') p++;
        const char *start = p;
        while (*p && *p != ',') p++;
        const char *end = p;
        while (end > start && (end[-1] == ' ' || end[-1] == '\t')) end--;
        if (end == start) return -1;
        if (fn(ctx, start, (size_t)(end - start)) != 0) return -1;
        if (!*p) return 0;
        p++;
    }
}

typedef struct index_cols_ctx {
    const vial_model *m;
    vial_buf *b;
    int count;
    char *err;
    size_t errlen;
} index_cols_ctx;

static int index_col(void *arg, const char *name, size_t n) {
    index_cols_ctx *x = arg;
    if (!vial_db_column(x->m, name, n))
        return msgf(x->err, x->errlen, "index on %s: no column \"%.*s\"", x->m->table, (int)n, name);
    if (x->b) {
        if (x->count) vial_buf_puts(x->b, ", ");
        vial_db_quote_ident(x->b, name, n);
    }
    x->count++;
    return 0;
}

int vial_db_each_index(const vial_model *m, vial_arena *a,
                       int (*fn)(void *ctx, const char *name, const char *columns, bool unique), void *ctx) {
    for (const vial_column *col = m->columns; col->name; col++) {
        if (!col->index) continue;
        char *name = vial_arena_sprintf(a, "ix_%s_%s", m->table, col->name);
        if (!name || fn(ctx, name, col->name, false) != 0) return -1;
    }
    if (m->indexes) {
        for (const vial_index *ix = m->indexes; ix->columns; ix++) {
            const char *name = ix->name;
            if (!name) {
                vial_buf nb;
                vial_buf_init(&nb, a, 4096);
                vial_buf_printf(&nb, "ix_%s", m->table);
                for (const char *p = ix->columns; *p; p++) {
                    if (*p == ' ' || *p == '\t') continue;
                    vial_buf_putc(&nb, *p == ',' ? '_' : *p);
                }
                name = vial_buf_cstr(&nb);
                if (nb.len == 0) name = NULL;
            }
            if (!name || fn(ctx, name, ix->columns, ix->unique) != 0) return -1;
        }
    }
    return 0;
}

typedef struct index_check_ctx {
    const vial_model *m;
    char *err;
    size_t errlen;
} index_check_ctx;

static int check_index(void *arg, const char *name, const char *columns, bool unique) {
    (void)unique;
    index_check_ctx *x = arg;
    index_cols_ctx cc = {x->m, NULL, 0, x->err, x->errlen};
    if (x->err && x->errlen) x->err[0] = '\0';
    if (!columns || each_name(columns, index_col, &cc) != 0) {
        if (x->err && x->errlen && !x->err[0])
            snprintf(x->err, x->errlen, "index %s on %s: bad column list \"%s\"", name, x->m->table,
                     columns ? columns : "");
        return -1;
    }
    return 0;
}

static int check_indexes(const vial_model *m, char *err, size_t errlen) {
    vial_arena *a = vial_arena_new(4096);
    if (!a) return msgf(err, errlen, "out of memory");
    index_check_ctx x = {m, err, errlen};
    int rc = vial_db_each_index(m, a, check_index, &x);
    vial_arena_free(a);
    return rc;
}

typedef struct index_ddl_ctx {
    const vial_model *m;
    vial_buf *b;
    const char *only;
    bool if_not_exists;
    char err[160];
} index_ddl_ctx;

static int emit_index(void *arg, const char *name, const char *columns, bool unique) {
    index_ddl_ctx *x = arg;
    if (x->only) {
        size_t n = strlen(name);
        const char *p = x->only;
        bool wanted = false;
        while ((p = strstr(p, name)) != NULL) {
            bool start_ok = p == x->only || p[-1] == ',' || p[-1] == ' ';
            bool end_ok = p[n] == '\0' || p[n] == ',' || p[n] == ' ';
            if (start_ok && end_ok) wanted = true;
            p += n;
        }
        if (!wanted) return 0;
    }
    int rc = vial_buf_printf(x->b, "CREATE %sINDEX %s", unique ? "UNIQUE " : "", x->if_not_exists ? "IF NOT EXISTS " : "");
    rc |= vial_db_quote_ident(x->b, name, strlen(name));
    rc |= vial_buf_puts(x->b, " ON ");
    rc |= vial_db_quote_ident(x->b, x->m->table, strlen(x->m->table));
    rc |= vial_buf_puts(x->b, " (");
    index_cols_ctx cc = {x->m, x->b, 0, x->err, sizeof x->err};
    if (each_name(columns, index_col, &cc) != 0) {
        if (!x->err[0]) snprintf(x->err, sizeof x->err, "index %s: bad column list \"%s\"", name, columns);
        return -1;
    }
    rc |= vial_buf_puts(x->b, ");\n");
    return rc ? -1 : 0;
}

int vial_db_index_ddl(vial_buf *b, const vial_model *m, const char *only, bool if_not_exists) {
    vial_arena *a = vial_arena_new(4096);
    if (!a) return -1;
    index_ddl_ctx x = {.m = m, .b = b, .only = only, .if_not_exists = if_not_exists};
    int rc = vial_db_each_index(m, a, emit_index, &x);
    vial_arena_free(a);
    return rc;
}

int vial_db_table_ddl(vial_buf *b, int backend, const vial_model *m, bool if_not_exists) {
    int rc = vial_buf_printf(b, "CREATE TABLE %s", if_not_exists ? "IF NOT EXISTS " : "");
    rc |= vial_db_quote_ident(b, m->table, strlen(m->table));
    rc |= vial_buf_puts(b, " (\n");
    for (const vial_column *col = m->columns; col->name; col++) {
        rc |= vial_buf_puts(b, "    ");
        rc |= vial_db_column_ddl(b, backend, m, col);
        rc |= vial_buf_puts(b, col[1].name ? ",\n" : "\n");
    }
    rc |= vial_buf_puts(b, ");\n");
    if (rc) return -1;
    return vial_db_index_ddl(b, m, NULL, if_not_exists);
}

int vial_db_sort_models(const vial_model *const *models, const vial_model **out, size_t n, char *err, size_t errlen) {
    /* Repeatedly emit a model whose referenced tables (among the list) are already out. */
    bool *done = calloc(n ? n : 1, sizeof *done);
    if (!done) return msgf(err, errlen, "out of memory");
    size_t emitted = 0;
    while (emitted < n) {
        bool progress = false;
        for (size_t i = 0; i < n; i++) {
            if (done[i]) continue;
            bool ready = true;
            for (const vial_column *col = models[i]->columns; col->name && ready; col++) {
                if (!col->references) continue;
                size_t tlen = (size_t)(strchr(col->references, '.') - col->references);
                for (size_t j = 0; j < n; j++) {
                    if (j == i || done[j]) continue;
                    if (strlen(models[j]->table) == tlen && memcmp(models[j]->table, col->references, tlen) == 0)
                        ready = false;
                }
            }
            if (ready) {
                done[i] = true;
                out[emitted++] = models[i];
                progress = true;
            }
        }
        if (!progress) {
            free(done);
            return msgf(err, errlen, "the models' foreign keys form a cycle; create those tables with a migration");
        }
    }
    free(done);
    return 0;
}

static size_t count_models(const vial_model *const *models) {
    size_t n = 0;
    while (models && models[n]) n++;
    return n;
}

/* Checks and orders models; the ordered list is malloc'd. */
static const vial_model **ordered(const vial_model *const *models, size_t *n_out, char *err, size_t errlen) {
    size_t n = count_models(models);
    for (size_t i = 0; i < n; i++)
        if (check_model(models[i], err, errlen) != 0) return NULL;
    const vial_model **out = calloc(n ? n : 1, sizeof *out);
    if (!out) {
        msgf(err, errlen, "out of memory");
        return NULL;
    }
    if (vial_db_sort_models(models, out, n, err, errlen) != 0) {
        free(out);
        return NULL;
    }
    *n_out = n;
    return out;
}

char *vial_db_schema_sql(vial_arena *a, int backend, const vial_model *const *models) {
    char err[256];
    size_t n;
    const vial_model **list = ordered(models, &n, err, sizeof err);
    if (!list) return NULL;
    vial_buf b;
    vial_buf_init(&b, a, DB_SQL_MAX);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (i) rc = vial_buf_putc(&b, '\n');
        rc |= vial_db_table_ddl(&b, backend, list[i], false);
    }
    free(list);
    return rc == 0 ? (char *)vial_buf_cstr(&b) : NULL;
}

/* Runs fn inside a transaction unless one is already open (then it joins it). */
static int in_transaction(vial_db_conn *c, int (*fn)(vial_db_conn *, void *), void *arg) {
    bool own = vial_db_depth(c) == 0;
    if (own && vial_db_begin(c) != 0) return -1;
    int rc = fn(c, arg);
    if (own) {
        if (rc == 0) return vial_db_commit(c);
        int code = c->code;
        char msg[DB_ERRMSG_MAX];
        memcpy(msg, c->msg, sizeof msg);
        vial_db_rollback(c);
        c->code = code;
        memcpy(c->msg, msg, sizeof msg);
    }
    return rc;
}

typedef struct schema_job {
    const vial_model **list;
    size_t n;
    bool drop;
} schema_job;

static int run_schema_job(vial_db_conn *c, void *arg) {
    schema_job *job = arg;
    vial_buf b;
    vial_buf_init(&b, NULL, DB_SQL_MAX);
    int rc = 0;
    for (size_t k = 0; k < job->n && rc == 0; k++) {
        const vial_model *m = job->drop ? job->list[job->n - 1 - k] : job->list[k];
        vial_buf_reset(&b);
        if (job->drop) {
            vial_buf_puts(&b, "DROP TABLE IF EXISTS ");
            rc = vial_db_quote_ident(&b, m->table, strlen(m->table));
        } else {
            rc = vial_db_table_ddl(&b, c->db->url.backend, m, true);
        }
        if (rc != 0) {
            rc = vial_db_fail(c, VIAL_DB_INVALID, "cannot build the DDL of %s", m->table);
            break;
        }
        if (vial_db_script(c, vial_buf_cstr(&b)) != 0) rc = -1;
    }
    vial_buf_free(&b);
    return rc ? -1 : 0;
}

static int schema_op(vial_db_conn *c, const vial_model *const *models, bool drop) {
    if (!c || c->dead) return -1;
    char err[256];
    size_t n;
    const vial_model **list = ordered(models, &n, err, sizeof err);
    if (!list) return vial_db_fail(c, VIAL_DB_INVALID, "%s", err), -1;
    schema_job job = {list, n, drop};
    int rc = in_transaction(c, run_schema_job, &job);
    free(list);
    return rc;
}

int vial_db_create_all(vial_db_conn *c, const vial_model *const *models) { return schema_op(c, models, false); }
int vial_db_drop_all(vial_db_conn *c, const vial_model *const *models) { return schema_op(c, models, true); }

/* ---- rows by primary key ---- */

int vial_db_column_list(vial_buf *b, const vial_model *m, const char *qualifier, const char *alias_prefix) {
    int rc = 0;
    for (const vial_column *col = m->columns; col->name; col++) {
        if (col != m->columns) rc |= vial_buf_puts(b, ", ");
        if (qualifier) {
            rc |= vial_db_quote_ident(b, qualifier, strlen(qualifier));
            rc |= vial_buf_putc(b, '.');
        }
        rc |= vial_db_quote_ident(b, col->name, strlen(col->name));
        if (alias_prefix) {
            rc |= vial_buf_puts(b, " AS ");
            char *alias = NULL;
            size_t plen = strlen(alias_prefix), clen = strlen(col->name);
            alias = malloc(plen + clen + 1);
            if (!alias) return -1;
            memcpy(alias, alias_prefix, plen);
            memcpy(alias + plen, col->name, clen + 1);
            rc |= vial_db_quote_ident(b, alias, plen + clen);
            free(alias);
        }
    }
    return rc ? -1 : 0;
}

static int model_usable(vial_db_conn *c, const vial_model *m) {
    if (!c) return -1;
    if (c->dead) return c->code;
    vial_db_set_code(c, VIAL_DB_OK);
    char err[256];
    if (check_model(m, err, sizeof err) != 0) return vial_db_fail(c, VIAL_DB_INVALID, "%s", err);
    return 0;
}

static const vial_column *require_pk(vial_db_conn *c, const vial_model *m, const vial_value *key) {
    const vial_column *pk = vial_db_pk(m);
    if (!pk) {
        vial_db_fail(c, VIAL_DB_INVALID, "%s has no primary key column", m->table);
        return NULL;
    }
    vial_value out;
    char err[256];
    if (key->type == VIAL_NULL) {
        vial_db_fail(c, VIAL_DB_INVALID, "%s: the %s to look up is NULL", m->table, pk->name);
        return NULL;
    }
    if (vial_db_coerce(NULL, m, pk, key, &out, err, sizeof err) != 0) {
        vial_db_fail(c, VIAL_DB_INVALID, "%s", err);
        return NULL;
    }
    return pk;
}

int64_t vial_db_insert(vial_db_conn *c, const vial_model *m, const vial_value *row) {
    if (model_usable(c, m) != 0) return -1;
    char err[256];
    if (vial_db_check(m, row, true, err, sizeof err) != 0) return vial_db_fail(c, VIAL_DB_INVALID, "%s", err), -1;
    vial_arena *a = vial_arena_new(4096);
    if (!a) return vial_db_fail(c, VIAL_DB_NOMEM, "out of memory"), -1;
    size_t n = row->as.obj.len;
    vial_value *vals = vial_arena_alloc(a, sizeof *vals * (n ? n : 1));
    vial_buf b;
    vial_buf_init(&b, a, DB_SQL_MAX);
    const vial_column *pk = vial_db_pk(m);
    bool explicit_pk = false;
    size_t used = 0;
    int rc = vals ? 0 : -1;
    rc |= vial_buf_puts(&b, "INSERT INTO ");
    rc |= vial_db_quote_ident(&b, m->table, strlen(m->table));
    for (size_t i = 0; i < n && rc == 0; i++) {
        const vial_member *mem = &row->as.obj.items[i];
        const vial_column *col = vial_db_column(m, mem->key, mem->key_len);
        if (col->primary_key && mem->value->type == VIAL_NULL) continue; /* NULL id: let the database number it */
        if (col->primary_key) explicit_pk = true;
        if (vial_db_coerce(a, m, col, mem->value, &vals[used], err, sizeof err) != 0) {
            vial_arena_free(a);
            return vial_db_fail(c, VIAL_DB_INVALID, "%s", err), -1;
        }
        rc |= vial_buf_puts(&b, used ? ", " : " (");
        rc |= vial_db_quote_ident(&b, col->name, strlen(col->name));
        used++;
    }
    if (used) {
        rc |= vial_buf_puts(&b, ") VALUES (");
        for (size_t i = 0; i < used; i++) rc |= vial_buf_puts(&b, i ? ", ?" : "?");
        rc |= vial_buf_putc(&b, ')');
    } else {
        rc |= vial_buf_puts(&b, " DEFAULT VALUES");
    }
    bool pg = c->db->url.backend == VIAL_DB_POSTGRES;
    if (pg && pk) {
        rc |= vial_buf_puts(&b, " RETURNING ");
        rc |= vial_db_quote_ident(&b, pk->name, strlen(pk->name));
    }
    if (rc != 0) {
        vial_arena_free(a);
        return vial_db_fail(c, VIAL_DB_NOMEM, "out of memory building the INSERT"), -1;
    }
    int64_t id = -1;
    vial_db_args args = {vals, used};
    if (pg && pk) {
        vial_value *v = vial_db_scalar_args(c, a, vial_buf_cstr(&b), args);
        if (v) id = v->type == VIAL_INT ? v->as.i : 0;
        if (v && explicit_pk && pk->type == VIAL_INTEGER) {
            /* An explicit id (fixtures) must not be handed out again by the sequence,
             * as SQLite's AUTOINCREMENT would not: move it forward, never back. */
            vial_buf_reset(&b);
            vial_buf_puts(&b, "SELECT setval(s, GREATEST(CAST(? AS BIGINT), COALESCE(pg_sequence_last_value(s), 0))) "
                              "FROM (SELECT CAST(pg_get_serial_sequence(?, ?) AS regclass) AS s) AS q WHERE s IS NOT NULL");
            vial_buf qt;
            vial_buf_init(&qt, a, 4096);
            vial_db_quote_ident(&qt, m->table, strlen(m->table));
            if (!vial_db_query(c, a, vial_buf_cstr(&b), id, vial_buf_cstr(&qt), pk->name)) id = -1;
        }
    } else {
        if (vial_db_exec_args(c, vial_buf_cstr(&b), args) >= 0) id = c->last_id;
        if (id >= 0 && pk && pk->type != VIAL_INTEGER) id = 0;
    }
    vial_arena_free(a);
    return id;
}

vial_value *vial_db_get_v(vial_db_conn *c, vial_arena *a, const vial_model *m, vial_value key) {
    if (model_usable(c, m) != 0) return NULL;
    const vial_column *pk = require_pk(c, m, &key);
    if (!pk) return NULL;
    if (!a) return vial_db_fail(c, VIAL_DB_INVALID, "no arena given for the result"), NULL;
    vial_buf b;
    vial_buf_init(&b, a, DB_SQL_MAX);
    vial_buf_puts(&b, "SELECT ");
    vial_db_column_list(&b, m, NULL, NULL);
    vial_buf_puts(&b, " FROM ");
    vial_db_quote_ident(&b, m->table, strlen(m->table));
    vial_buf_puts(&b, " WHERE ");
    vial_db_quote_ident(&b, pk->name, strlen(pk->name));
    if (vial_buf_puts(&b, " = ?") != 0) return vial_db_fail(c, VIAL_DB_NOMEM, "out of memory"), NULL;
    return vial_db_one_args(c, a, vial_buf_cstr(&b), (vial_db_args){&key, 1});
}

int64_t vial_db_update_v(vial_db_conn *c, const vial_model *m, vial_value key, const vial_value *changes) {
    if (model_usable(c, m) != 0) return -1;
    const vial_column *pk = require_pk(c, m, &key);
    if (!pk) return -1;
    char err[256];
    if (vial_db_check(m, changes, false, err, sizeof err) != 0) return vial_db_fail(c, VIAL_DB_INVALID, "%s", err), -1;
    size_t n = changes->as.obj.len;
    if (n == 0) return vial_db_fail(c, VIAL_DB_INVALID, "%s: nothing to update", m->table), -1;
    vial_arena *a = vial_arena_new(4096);
    if (!a) return vial_db_fail(c, VIAL_DB_NOMEM, "out of memory"), -1;
    vial_value *vals = vial_arena_alloc(a, sizeof *vals * (n + 1));
    vial_buf b;
    vial_buf_init(&b, a, DB_SQL_MAX);
    int rc = vals ? 0 : -1;
    rc |= vial_buf_puts(&b, "UPDATE ");
    rc |= vial_db_quote_ident(&b, m->table, strlen(m->table));
    rc |= vial_buf_puts(&b, " SET ");
    for (size_t i = 0; i < n && rc == 0; i++) {
        const vial_member *mem = &changes->as.obj.items[i];
        const vial_column *col = vial_db_column(m, mem->key, mem->key_len);
        if (vial_db_coerce(a, m, col, mem->value, &vals[i], err, sizeof err) != 0) {
            vial_arena_free(a);
            return vial_db_fail(c, VIAL_DB_INVALID, "%s", err), -1;
        }
        if (i) rc |= vial_buf_puts(&b, ", ");
        rc |= vial_db_quote_ident(&b, col->name, strlen(col->name));
        rc |= vial_buf_puts(&b, " = ?");
    }
    rc |= vial_buf_puts(&b, " WHERE ");
    rc |= vial_db_quote_ident(&b, pk->name, strlen(pk->name));
    rc |= vial_buf_puts(&b, " = ?");
    if (rc != 0) {
        vial_arena_free(a);
        return vial_db_fail(c, VIAL_DB_NOMEM, "out of memory building the UPDATE"), -1;
    }
    vals[n] = key;
    int64_t changed = vial_db_exec_args(c, vial_buf_cstr(&b), (vial_db_args){vals, n + 1});
    vial_arena_free(a);
    if (changed == 0) vial_db_set_code(c, VIAL_DB_NOT_FOUND);
    return changed;
}

int64_t vial_db_delete_v(vial_db_conn *c, const vial_model *m, vial_value key) {
    if (model_usable(c, m) != 0) return -1;
    const vial_column *pk = require_pk(c, m, &key);
    if (!pk) return -1;
    vial_buf b;
    vial_buf_init(&b, NULL, 4096);
    vial_buf_puts(&b, "DELETE FROM ");
    vial_db_quote_ident(&b, m->table, strlen(m->table));
    vial_buf_puts(&b, " WHERE ");
    vial_db_quote_ident(&b, pk->name, strlen(pk->name));
    int64_t changed = -1;
    if (vial_buf_puts(&b, " = ?") == 0)
        changed = vial_db_exec_args(c, vial_buf_cstr(&b), (vial_db_args){&key, 1});
    else
        vial_db_fail(c, VIAL_DB_NOMEM, "out of memory");
    vial_buf_free(&b);
    if (changed == 0) vial_db_set_code(c, VIAL_DB_NOT_FOUND);
    return changed;
}
