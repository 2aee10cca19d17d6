/* query_builder.c - Flask-SQLAlchemy's Model.query, as one options struct.
 *
 *   vial_db_select(c, a, &Post, .where = "author_id = ?", .args = VIAL_ARGS(uid),
 *                  .order_by = "created DESC", .limit = 10);
 *
 * filter (a trusted SQL condition with ? placeholders, and/or filter_by: an
 * object of column = value pairs checked against the model), order_by, limit,
 * offset, count, first, all, paginate, update and delete by filter.
 *
 * Safety rule: .where is SQL the programmer wrote (like SQLAlchemy's text()),
 * so it must be a literal in the code, with every value bound through .args.
 * .order_by is different: it is often taken from a request (?sort=title), so
 * it is never pasted: it is parsed as "column [ASC|DESC], ..." against the
 * model's columns and rebuilt from quoted identifiers; anything else is
 * refused with an error naming the word. Limits and offsets are bound too. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db/db.h"

int vial_db_order_by(vial_buf *b, const vial_model *m, const char *order_by, const char *qualifier, char *err,
                     size_t errlen) {
    const char *p = order_by;
    int items = 0;
    for (;;) {
        while (isspace((unsigned char)*p)) p++;
        const char *name = p;
        bool desc = false;
        if (*p == '-') { /* "-created" is accepted as "created DESC" */
            desc = true;
            name = ++p;
        }
        while (*p && !isspace((unsigned char)*p) && *p != ',') p++;
        size_t n = (size_t)(p - name);
        if (n == 0) {
            snprintf(err, errlen, "order_by \"%s\": expected a column name", order_by);
            return -1;
        }
        const vial_column *col = vial_db_column(m, name, n);
        if (!col) {
            char cols[200] = "";
            size_t used = 0;
            for (const vial_column *k = m->columns; k->name && used < sizeof cols - 40; k++)
                used += (size_t)snprintf(cols + used, sizeof cols - used, "%s%s", used ? ", " : "", k->name);
            snprintf(err, errlen, "cannot order %s by \"%.*s\": not one of its columns (%s)", m->table, (int)(n > 60 ? 60 : n),
                     name, cols);
            return -1;
        }
        while (isspace((unsigned char)*p)) p++;
        const char *word = p;
        while (isalpha((unsigned char)*p)) p++;
        size_t wlen = (size_t)(p - word);
        if (wlen) {
            if (wlen == 4 && strncasecmp(word, "DESC", 4) == 0 && !desc)
                desc = true;
            else if (!(wlen == 3 && strncasecmp(word, "ASC", 3) == 0 && !desc)) {
                snprintf(err, errlen, "order_by \"%s\": expected ASC or DESC after %s, not \"%.*s\"", order_by,
                         col->name, (int)(wlen > 20 ? 20 : wlen), word);
                return -1;
            }
            while (isspace((unsigned char)*p)) p++;
        }
        if (items++) vial_buf_puts(b, ", ");
        if (qualifier) {
            vial_db_quote_ident(b, qualifier, strlen(qualifier));
            vial_buf_putc(b, '.');
        }
        vial_db_quote_ident(b, col->name, strlen(col->name));
        if (vial_buf_puts(b, desc ? " DESC" : " ASC") != 0) {
            snprintf(err, errlen, "ORDER BY too long");
            return -1;
        }
        if (*p == '\0') return 0;
        if (*p != ',') {
            snprintf(err, errlen, "order_by \"%s\": unexpected \"%.20s\"", order_by, p);
            return -1;
        }
        p++;
    }
}

/* A statement under construction with its bound values. */
typedef struct built {
    vial_buf sql;
    vial_value *vals;
    size_t nvals, cap;
    vial_arena *a;
} built;

static int add_val(built *q, const vial_value *v) {
    if (q->nvals == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 16;
        vial_value *grown = vial_arena_grow(q->a, q->vals, q->cap * sizeof *grown, cap * sizeof *grown);
        if (!grown) return -1;
        q->vals = grown;
        q->cap = cap;
    }
    q->vals[q->nvals++] = *v;
    return 0;
}

static vial_db_args built_args(const built *q) { return (vial_db_args){q->vals, q->nvals}; }

static int qb_start(vial_db_conn *c, const vial_model *m, const vial_query *q) {
    if (!c) return -1;
    if (c->dead) return c->code;
    vial_db_set_code(c, VIAL_DB_OK);
    if (!m || !m->table || !m->columns || !m->columns[0].name)
        return vial_db_fail(c, VIAL_DB_INVALID, "no model given (or it has no columns)");
    if (!q) return vial_db_fail(c, VIAL_DB_INVALID, "no query options given");
    if (q->args.len && !q->where)
        return vial_db_fail(c, VIAL_DB_INVALID, "%s: .args given without .where", m->table);
    if (q->limit < 0 || q->offset < 0)
        return vial_db_fail(c, VIAL_DB_INVALID, "%s: limit and offset must not be negative", m->table);
    return 0;
}

/* Appends " WHERE ..." for q's filters. */
static int add_where(vial_db_conn *c, built *b, const vial_model *m, const vial_query *q, const char *qualifier) {
    bool any = false;
    if (q->where && *q->where) {
        vial_buf_puts(&b->sql, " WHERE (");
        vial_buf_puts(&b->sql, q->where);
        vial_buf_putc(&b->sql, ')');
        for (size_t i = 0; i < q->args.len; i++)
            if (add_val(b, &q->args.items[i]) != 0) return vial_db_fail(c, VIAL_DB_NOMEM, "out of memory");
        any = true;
    }
    if (q->filter_by) {
        if (q->filter_by->type != VIAL_OBJECT)
            return vial_db_fail(c, VIAL_DB_INVALID, "%s: filter_by must be an object of column values", m->table);
        for (size_t i = 0; i < q->filter_by->as.obj.len; i++) {
            const vial_member *mem = &q->filter_by->as.obj.items[i];
            const vial_column *col = vial_db_column(m, mem->key, mem->key_len);
            if (!col)
                return vial_db_fail(c, VIAL_DB_INVALID, "cannot filter %s by \"%.*s\": no such column", m->table,
                                    (int)mem->key_len, mem->key);
            vial_buf_puts(&b->sql, any ? " AND " : " WHERE ");
            any = true;
            if (qualifier) {
                vial_db_quote_ident(&b->sql, qualifier, strlen(qualifier));
                vial_buf_putc(&b->sql, '.');
            }
            vial_db_quote_ident(&b->sql, col->name, strlen(col->name));
            if (mem->value->type == VIAL_NULL) {
                vial_buf_puts(&b->sql, " IS NULL");
                continue;
            }
            /* filters compare like writes store: timestamps normalized, bools as bools */
            vial_column loose = *col;
            loose.not_null = false;
            vial_value v;
            char err[256];
            if (vial_db_coerce(b->a, m, &loose, mem->value, &v, err, sizeof err) != 0)
                return vial_db_fail(c, VIAL_DB_INVALID, "filter_by: %s", err);
            vial_buf_puts(&b->sql, " = ?");
            if (add_val(b, &v) != 0) return vial_db_fail(c, VIAL_DB_NOMEM, "out of memory");
        }
    }
    return 0;
}

static int add_order_limit(vial_db_conn *c, built *b, const vial_model *m, const char *order_by, int64_t limit,
                           int64_t offset) {
    if (order_by && *order_by) {
        char err[300];
        vial_buf_puts(&b->sql, " ORDER BY ");
        if (vial_db_order_by(&b->sql, m, order_by, NULL, err, sizeof err) != 0)
            return vial_db_fail(c, VIAL_DB_INVALID, "%s", err);
    }
    if (limit > 0) {
        vial_value v = {.type = VIAL_INT};
        v.as.i = limit;
        vial_buf_puts(&b->sql, " LIMIT ?");
        if (add_val(b, &v) != 0) return vial_db_fail(c, VIAL_DB_NOMEM, "out of memory");
    }
    if (offset > 0) {
        if (limit <= 0 && c->db->url.backend == VIAL_DB_SQLITE) vial_buf_puts(&b->sql, " LIMIT -1");
        vial_value v = {.type = VIAL_INT};
        v.as.i = offset;
        vial_buf_puts(&b->sql, " OFFSET ?");
        if (add_val(b, &v) != 0) return vial_db_fail(c, VIAL_DB_NOMEM, "out of memory");
    }
    return 0;
}

static void built_init(built *b, vial_arena *a) {
    memset(b, 0, sizeof *b);
    b->a = a;
    vial_buf_init(&b->sql, a, DB_SQL_MAX);
}

/* SELECT <columns> FROM t WHERE ... ORDER BY ... LIMIT ... OFFSET ... */
static int build_select(vial_db_conn *c, built *b, const vial_model *m, const vial_query *q, int64_t limit,
                        int64_t offset) {
    vial_buf_puts(&b->sql, "SELECT ");
    vial_db_column_list(&b->sql, m, NULL, NULL);
    vial_buf_puts(&b->sql, " FROM ");
    vial_db_quote_ident(&b->sql, m->table, strlen(m->table));
    if (add_where(c, b, m, q, NULL) != 0) return c->code;
    if (add_order_limit(c, b, m, q->order_by, limit, offset) != 0) return c->code;
    if (b->sql.len >= b->sql.max) return vial_db_fail(c, VIAL_DB_INVALID, "%s: the query is too long", m->table);
    return 0;
}

/* Runs the select for q (with limit/offset overriding q's), loading relations. */
static vial_value *select_rows(vial_db_conn *c, vial_arena *a, const vial_model *m, const vial_query *q, int64_t limit,
                               int64_t offset) {
    if (!a) return vial_db_fail(c, VIAL_DB_INVALID, "no arena given for the result"), NULL;
    if (q->load && *q->load && q->load_join) {
        vial_query inner = *q;
        inner.limit = limit;
        inner.offset = offset;
        inner.load = NULL;
        built b;
        built_init(&b, a);
        if (build_select(c, &b, m, &inner, limit, offset) != 0) return NULL;
        /* relation.c builds the join around this select */
        return vial_db_join_load(c, a, m, vial_buf_cstr(&b.sql), built_args(&b), q->order_by, q->load);
    }
    built b;
    built_init(&b, a);
    if (build_select(c, &b, m, q, limit, offset) != 0) return NULL;
    vial_value *rows = vial_db_query_args(c, a, vial_buf_cstr(&b.sql), built_args(&b));
    if (!rows) return NULL;
    if (q->load && *q->load && vial_db_load(c, a, m, rows, q->load, false) != 0) return NULL;
    return rows;
}

vial_value *vial_db_select_q(vial_db_conn *c, vial_arena *a, const vial_model *m, const vial_query *q) {
    if (qb_start(c, m, q) != 0) return NULL;
    return select_rows(c, a, m, q, q->limit, q->offset);
}

vial_value *vial_db_first_q(vial_db_conn *c, vial_arena *a, const vial_model *m, const vial_query *q) {
    if (qb_start(c, m, q) != 0) return NULL;
    vial_value *rows = select_rows(c, a, m, q, 1, q->offset);
    if (!rows) return NULL;
    if (vial_len(rows) == 0) {
        vial_db_set_code(c, VIAL_DB_NOT_FOUND);
        return NULL;
    }
    return vial_array_get(rows, 0);
}

int64_t vial_db_count_q(vial_db_conn *c, const vial_model *m, const vial_query *q) {
    if (qb_start(c, m, q) != 0) return -1;
    vial_arena *a = vial_arena_new(4096);
    if (!a) return vial_db_fail(c, VIAL_DB_NOMEM, "out of memory"), -1;
    built b;
    built_init(&b, a);
    int64_t n = -1;
    vial_buf_puts(&b.sql, "SELECT count(*) AS n FROM ");
    vial_db_quote_ident(&b.sql, m->table, strlen(m->table));
    if (add_where(c, &b, m, q, NULL) == 0) {
        vial_value *v = vial_db_scalar_args(c, a, vial_buf_cstr(&b.sql), built_args(&b));
        if (v) n = v->as.i;
    }
    vial_arena_free(a);
    return n;
}

/* Sets key to an int, or to null when has is false. */
static int set_num(vial_arena *a, vial_value *obj, const char *key, bool has, int64_t n) {
    return vial_object_set(obj, key, has ? vial_new_int(a, n) : vial_value_null());
}

vial_value *vial_db_paginate_q(vial_db_conn *c, vial_arena *a, const vial_model *m, const vial_query *q) {
    if (qb_start(c, m, q) != 0) return NULL;
    if (!a) return vial_db_fail(c, VIAL_DB_INVALID, "no arena given for the result"), NULL;
    bool error_out = !q->no_error_out;
    int64_t page = q->page ? q->page : 1;
    int64_t per_page = q->per_page ? q->per_page : 20;
    int64_t max_per_page = q->max_per_page ? q->max_per_page : 100;
    if (max_per_page > 0 && per_page > max_per_page) per_page = max_per_page;
    if (page < 1) {
        if (error_out) {
            vial_db_fail(c, VIAL_DB_NOT_FOUND, "page %lld does not exist (pages start at 1)", (long long)page);
            return NULL;
        }
        page = 1;
    }
    if (per_page < 1) {
        if (error_out) {
            vial_db_fail(c, VIAL_DB_NOT_FOUND, "per_page must be at least 1, not %lld", (long long)per_page);
            return NULL;
        }
        per_page = 20;
    }
    if (page > INT64_MAX / per_page) {
        vial_db_fail(c, VIAL_DB_NOT_FOUND, "page %lld does not exist", (long long)page);
        return NULL;
    }
    vial_value *items = select_rows(c, a, m, q, per_page, (page - 1) * per_page);
    if (!items) return NULL;
    size_t n = vial_len(items);
    if (n == 0 && page != 1 && error_out) {
        vial_db_fail(c, VIAL_DB_NOT_FOUND, "page %lld is past the last page", (long long)page);
        return NULL;
    }
    vial_query counting = *q;
    counting.load = NULL;
    int64_t total = vial_db_count_q(c, m, &counting);
    if (total < 0) return NULL;
    int64_t pages = total == 0 ? 0 : (total + per_page - 1) / per_page;
    bool has_prev = page > 1, has_next = page < pages;
    int64_t first = n == 0 ? 0 : (page - 1) * per_page + 1;
    int64_t last = n == 0 ? 0 : first + (int64_t)n - 1;
    vial_value *p = vial_new_object(a);
    int rc = p ? 0 : -1;
    if (rc == 0) {
        rc |= vial_object_set(p, "items", items);
        rc |= set_num(a, p, "page", true, page);
        rc |= set_num(a, p, "per_page", true, per_page);
        rc |= set_num(a, p, "total", true, total);
        rc |= set_num(a, p, "pages", true, pages);
        rc |= vial_object_set(p, "has_prev", vial_new_bool(a, has_prev));
        rc |= vial_object_set(p, "has_next", vial_new_bool(a, has_next));
        rc |= set_num(a, p, "prev_num", has_prev, page - 1);
        rc |= set_num(a, p, "next_num", has_next, page + 1);
        rc |= set_num(a, p, "first", true, first);
        rc |= set_num(a, p, "last", true, last);
    }
    if (rc != 0) {
        vial_db_fail(c, VIAL_DB_NOMEM, "out of memory");
        return NULL;
    }
    vial_db_set_code(c, VIAL_DB_OK);
    return p;
}

vial_value *vial_db_iter_pages(vial_arena *a, const vial_value *pagination, int left_edge, int left_current,
                               int right_current, int right_edge) {
    vial_value *out = vial_new_array(a);
    if (!out) return NULL;
    int64_t pages = vial_get_int(pagination, "pages", 0), page = vial_get_int(pagination, "page", 1);
    int64_t pages_end = pages + 1;
    if (pages_end == 1) return out;
    int64_t left_end = 1 + left_edge < pages_end ? 1 + left_edge : pages_end;
    for (int64_t i = 1; i < left_end; i++) vial_array_push(out, vial_new_int(a, i));
    if (left_end == pages_end) return out;
    int64_t mid_start = page - left_current > left_end ? page - left_current : left_end;
    int64_t mid_end = page + right_current + 1 < pages_end ? page + right_current + 1 : pages_end;
    if (mid_start - left_end > 0) vial_array_push(out, vial_value_null());
    for (int64_t i = mid_start; i < mid_end; i++) vial_array_push(out, vial_new_int(a, i));
    if (mid_end == pages_end) return out;
    int64_t right_start = mid_end > pages_end - right_edge ? mid_end : pages_end - right_edge;
    if (right_start - mid_end > 0) vial_array_push(out, vial_value_null());
    for (int64_t i = right_start; i < pages_end; i++) vial_array_push(out, vial_new_int(a, i));
    return out;
}

int64_t vial_db_update_where_q(vial_db_conn *c, const vial_model *m, const vial_value *changes, const vial_query *q) {
    if (qb_start(c, m, q) != 0) return -1;
    char err[256];
    if (vial_db_check(m, changes, false, err, sizeof err) != 0) return vial_db_fail(c, VIAL_DB_INVALID, "%s", err), -1;
    if (changes->as.obj.len == 0) return vial_db_fail(c, VIAL_DB_INVALID, "%s: nothing to update", m->table), -1;
    if (q->order_by || q->limit || q->offset || q->load)
        return vial_db_fail(c, VIAL_DB_INVALID, "%s: update by filter takes only where/args/filter_by", m->table), -1;
    vial_arena *a = vial_arena_new(4096);
    if (!a) return vial_db_fail(c, VIAL_DB_NOMEM, "out of memory"), -1;
    built b;
    built_init(&b, a);
    int64_t n = -1;
    vial_buf_puts(&b.sql, "UPDATE ");
    vial_db_quote_ident(&b.sql, m->table, strlen(m->table));
    vial_buf_puts(&b.sql, " SET ");
    int rc = 0;
    for (size_t i = 0; i < changes->as.obj.len && rc == 0; i++) {
        const vial_member *mem = &changes->as.obj.items[i];
        const vial_column *col = vial_db_column(m, mem->key, mem->key_len);
        vial_value v;
        if (vial_db_coerce(a, m, col, mem->value, &v, err, sizeof err) != 0) {
            rc = vial_db_fail(c, VIAL_DB_INVALID, "%s", err);
            break;
        }
        if (i) vial_buf_puts(&b.sql, ", ");
        vial_db_quote_ident(&b.sql, col->name, strlen(col->name));
        vial_buf_puts(&b.sql, " = ?");
        if (add_val(&b, &v) != 0) rc = vial_db_fail(c, VIAL_DB_NOMEM, "out of memory");
    }
    if (rc == 0 && add_where(c, &b, m, q, NULL) == 0) n = vial_db_exec_args(c, vial_buf_cstr(&b.sql), built_args(&b));
    vial_arena_free(a);
    return n;
}

int64_t vial_db_delete_where_q(vial_db_conn *c, const vial_model *m, const vial_query *q) {
    if (qb_start(c, m, q) != 0) return -1;
    if (q->order_by || q->limit || q->offset || q->load)
        return vial_db_fail(c, VIAL_DB_INVALID, "%s: delete by filter takes only where/args/filter_by", m->table), -1;
    vial_arena *a = vial_arena_new(4096);
    if (!a) return vial_db_fail(c, VIAL_DB_NOMEM, "out of memory"), -1;
    built b;
    built_init(&b, a);
    int64_t n = -1;
    vial_buf_puts(&b.sql, "DELETE FROM ");
    vial_db_quote_ident(&b.sql, m->table, strlen(m->table));
    if (add_where(c, &b, m, q, NULL) == 0) n = vial_db_exec_args(c, vial_buf_cstr(&b.sql), built_args(&b));
    vial_arena_free(a);
    return n;
}
