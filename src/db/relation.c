/* relation.c - relationships between models, loaded into rows.
 *
 * A relation on a model names the other model and the foreign key joining
 * them: one-to-many (a user's "posts": post.author_id = user.id, loaded as a
 * list) or many-to-one (a post's "author", loaded as one object or null).
 * Two ways to load, as SQLAlchemy's selectinload and joinedload:
 *  - a second query (default): after the rows are read, one
 *    SELECT ... WHERE key IN (?, ?, ...) per relation (in chunks) fetches
 *    every related row at once, and they are hung on their parents;
 *  - a join (.load_join): the page of parent rows is selected in a subquery
 *    (so LIMIT counts parents, not joined rows) and LEFT JOINed to the
 *    related tables in one statement; rows are regrouped per parent.
 * Either way, rows keep their own columns and gain one key per relation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"

#define IN_CHUNK 500 /* keys per IN (...) list: far below either backend's parameter limit */
#define MAX_RELATIONS 16

static const vial_relation *find_relation(const vial_model *m, const char *name, size_t n) {
    if (!m->relations) return NULL;
    for (const vial_relation *r = m->relations; r->name; r++)
        if (strlen(r->name) == n && memcmp(r->name, name, n) == 0) return r;
    return NULL;
}

/* The columns that join a relation: the key on the "one" side and the foreign key. */
typedef struct rel_cols {
    const vial_relation *rel;
    const vial_column *parent_key; /* column of m compared */
    const vial_column *target_key; /* column of rel->target compared */
} rel_cols;

static int resolve(vial_db_conn *c, const vial_model *m, const char *name, size_t n, rel_cols *out) {
    const vial_relation *r = find_relation(m, name, n);
    if (!r) {
        char names[200] = "";
        size_t used = 0;
        for (const vial_relation *k = m->relations; k && k->name && used < sizeof names - 40; k++)
            used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", used ? ", " : "", k->name);
        return vial_db_fail(c, VIAL_DB_INVALID, "%s has no relationship \"%.*s\" (it has: %s)", m->table,
                            (int)(n > 60 ? 60 : n), name, used ? names : "none");
    }
    if (!r->target || !r->target->table || !r->target->columns || !r->foreign_key)
        return vial_db_fail(c, VIAL_DB_INVALID, "relationship %s.%s needs .target and .foreign_key", m->table, r->name);
    out->rel = r;
    if (r->many_to_one) {
        out->parent_key = vial_db_column(m, r->foreign_key, strlen(r->foreign_key));
        out->target_key = vial_db_pk(r->target);
        if (!out->parent_key)
            return vial_db_fail(c, VIAL_DB_INVALID, "relationship %s.%s: %s has no column %s", m->table, r->name,
                                m->table, r->foreign_key);
        if (!out->target_key)
            return vial_db_fail(c, VIAL_DB_INVALID, "relationship %s.%s: %s has no primary key", m->table, r->name,
                                r->target->table);
    } else {
        out->parent_key = vial_db_pk(m);
        out->target_key = vial_db_column(r->target, r->foreign_key, strlen(r->foreign_key));
        if (!out->parent_key)
            return vial_db_fail(c, VIAL_DB_INVALID, "relationship %s.%s: %s has no primary key", m->table, r->name,
                                m->table);
        if (!out->target_key)
            return vial_db_fail(c, VIAL_DB_INVALID, "relationship %s.%s: %s has no column %s", m->table, r->name,
                                r->target->table, r->foreign_key);
    }
    return 0;
}

/* Parses "a, b" into resolved relations. */
static int resolve_list(vial_db_conn *c, const vial_model *m, const char *list, rel_cols *out, size_t *count) {
    *count = 0;
    const char *p = list;
    for (;;) {
        while (*p == ' ' || *p == '\t') p++;
        const char *start = p;
        while (*p && *p != ',' && *p != ' ' && *p != '\t') p++;
        size_t n = (size_t)(p - start);
        while (*p == ' ' || *p == '\t') p++;
        if (n == 0) return vial_db_fail(c, VIAL_DB_INVALID, "relationship list \"%s\": expected a name", list);
        if (*count == MAX_RELATIONS) return vial_db_fail(c, VIAL_DB_INVALID, "too many relationships to load");
        if (resolve(c, m, start, n, &out[*count]) != 0) return c->code;
        (*count)++;
        if (!*p) return 0;
        if (*p != ',') return vial_db_fail(c, VIAL_DB_INVALID, "relationship list \"%s\": expected ','", list);
        p++;
    }
}

/* A map key for a value: its JSON text (1 and "1" stay apart). */
static const char *key_of(vial_arena *a, const vial_value *v) { return vial_json_encode(a, v, 0, NULL); }

/* Loads one relation by a second query into rows (objects). */
static int load_select(vial_db_conn *c, vial_arena *a, const vial_model *m, vial_value **rows, size_t nrows,
                       const rel_cols *rc) {
    const vial_relation *r = rc->rel;
    const vial_model *t = r->target;
    /* key (JSON text) -> array of children (one-to-many) or the target row (many-to-one) */
    vial_value *map = vial_new_object(a);
    vial_value *keys = vial_new_array(a);
    if (!map || !keys) return vial_db_fail(c, VIAL_DB_NOMEM, "out of memory");
    for (size_t i = 0; i < nrows; i++) {
        vial_value *k = vial_object_get(rows[i], rc->parent_key->name);
        vial_value *slot = r->many_to_one ? vial_value_null() : NULL;
        if (k && k->type != VIAL_NULL) {
            const char *ks = key_of(a, k);
            if (!ks) return vial_db_fail(c, VIAL_DB_NOMEM, "out of memory");
            vial_value *found = vial_object_get(map, ks);
            if (!found) {
                /* many-to-one: a null placeholder until the target row is read */
                found = r->many_to_one ? vial_value_null() : vial_new_array(a);
                if (!found || vial_object_set(map, ks, found) != 0 || vial_array_push(keys, k) != 0)
                    return vial_db_fail(c, VIAL_DB_NOMEM, "out of memory");
            }
            if (!r->many_to_one) slot = found; /* parents with the same key share one list */
        }
        if (!slot) slot = vial_new_array(a);
        if (!slot || vial_object_set(rows[i], r->name, slot) != 0) return vial_db_fail(c, VIAL_DB_NOMEM, "out of memory");
    }
    size_t nkeys = vial_len(keys);
    for (size_t start = 0; start < nkeys; start += IN_CHUNK) {
        size_t n = nkeys - start < IN_CHUNK ? nkeys - start : IN_CHUNK;
        vial_buf b;
        vial_buf_init(&b, a, DB_SQL_MAX);
        vial_buf_puts(&b, "SELECT ");
        vial_db_column_list(&b, t, NULL, NULL);
        vial_buf_puts(&b, " FROM ");
        vial_db_quote_ident(&b, t->table, strlen(t->table));
        vial_buf_puts(&b, " WHERE ");
        vial_db_quote_ident(&b, rc->target_key->name, strlen(rc->target_key->name));
        vial_buf_puts(&b, " IN (");
        vial_value *vals = vial_arena_alloc(a, sizeof *vals * n);
        if (!vals) return vial_db_fail(c, VIAL_DB_NOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
            vals[i] = *vial_array_get(keys, start + i);
            vial_buf_puts(&b, i ? ", ?" : "?");
        }
        vial_buf_putc(&b, ')');
        if (!r->many_to_one) {
            const vial_column *tpk = vial_db_pk(t);
            vial_buf_puts(&b, " ORDER BY ");
            char err[300];
            if (r->order_by && *r->order_by) {
                if (vial_db_order_by(&b, t, r->order_by, NULL, err, sizeof err) != 0)
                    return vial_db_fail(c, VIAL_DB_INVALID, "relationship %s.%s: %s", m->table, r->name, err);
                if (tpk) vial_buf_puts(&b, ", ");
            }
            if (tpk) vial_db_quote_ident(&b, tpk->name, strlen(tpk->name));
            else if (!(r->order_by && *r->order_by)) vial_buf_puts(&b, "1");
        }
        if (b.len >= b.max) return vial_db_fail(c, VIAL_DB_INVALID, "query too long");
        vial_value *found = vial_db_query_args(c, a, vial_buf_cstr(&b), (vial_db_args){vals, n});
        if (!found) return c->code;
        for (size_t i = 0; i < vial_len(found); i++) {
            vial_value *row = vial_array_get(found, i);
            vial_value *k = vial_object_get(row, rc->target_key->name);
            const char *ks = k ? key_of(a, k) : NULL;
            if (!ks) continue;
            if (r->many_to_one) {
                if (vial_object_set(map, ks, row) != 0) return vial_db_fail(c, VIAL_DB_NOMEM, "out of memory");
            } else {
                vial_value *list = vial_object_get(map, ks);
                if (list && vial_array_push(list, row) != 0) return vial_db_fail(c, VIAL_DB_NOMEM, "out of memory");
            }
        }
    }
    if (r->many_to_one) {
        for (size_t i = 0; i < nrows; i++) {
            vial_value *k = vial_object_get(rows[i], rc->parent_key->name);
            if (!k || k->type == VIAL_NULL) continue;
            vial_value *target = vial_object_get(map, key_of(a, k));
            if (target && vial_object_set(rows[i], r->name, target) != 0)
                return vial_db_fail(c, VIAL_DB_NOMEM, "out of memory");
        }
    }
    return 0;
}

int vial_db_load(vial_db_conn *c, vial_arena *a, const vial_model *m, vial_value *rows, const char *relations,
                 bool join) {
    if (!c) return -1;
    if (c->dead) return -1;
    vial_db_set_code(c, VIAL_DB_OK);
    if (!a || !m || !rows || !relations) return vial_db_fail(c, VIAL_DB_INVALID, "vial_db_load: missing argument"), -1;
    (void)join; /* rows already read: a join would read them again; a second query is the way */
    rel_cols rels[MAX_RELATIONS];
    size_t nrels;
    if (resolve_list(c, m, relations, rels, &nrels) != 0) return -1;
    vial_value **list;
    size_t n;
    if (rows->type == VIAL_OBJECT) {
        list = &rows;
        n = 1;
    } else if (rows->type == VIAL_ARRAY) {
        list = rows->as.arr.items;
        n = rows->as.arr.len;
        for (size_t i = 0; i < n; i++)
            if (list[i]->type != VIAL_OBJECT) return vial_db_fail(c, VIAL_DB_INVALID, "vial_db_load: row %zu is not an object", i), -1;
    } else {
        return vial_db_fail(c, VIAL_DB_INVALID, "vial_db_load: expected a row or an array of rows"), -1;
    }
    for (size_t i = 0; i < nrels; i++)
        if (load_select(c, a, m, list, n, &rels[i]) != 0) return -1;
    return 0;
}

/* ---- joined loading ---- */

vial_value *vial_db_join_load(vial_db_conn *c, vial_arena *a, const vial_model *m, const char *inner_sql,
                              vial_db_args args, const char *order_by, const char *relations) {
    rel_cols rels[MAX_RELATIONS];
    size_t nrels;
    if (resolve_list(c, m, relations, rels, &nrels) != 0) return NULL;
    int to_many = -1;
    for (size_t i = 0; i < nrels; i++) {
        if (rels[i].rel->many_to_one) continue;
        if (to_many >= 0) {
            vial_db_fail(c, VIAL_DB_INVALID,
                         "a join can load one one-to-many relationship (%s and %s were asked); load the others "
                         "with a second query",
                         rels[to_many].rel->name, rels[i].rel->name);
            return NULL;
        }
        to_many = (int)i;
    }
    const vial_column *pk = vial_db_pk(m);
    size_t ncols = 0;
    for (const vial_column *col = m->columns; col->name; col++) ncols++;
    vial_buf b;
    vial_buf_init(&b, a, DB_SQL_MAX);
    vial_buf_puts(&b, "SELECT ");
    vial_db_column_list(&b, m, "p", NULL);
    char alias[16], prefix[200];
    for (size_t i = 0; i < nrels; i++) {
        snprintf(alias, sizeof alias, "r%zu", i);
        snprintf(prefix, sizeof prefix, "%s.", rels[i].rel->name);
        vial_buf_puts(&b, ", ");
        vial_db_column_list(&b, rels[i].rel->target, alias, prefix);
    }
    vial_buf_puts(&b, " FROM (");
    vial_buf_puts(&b, inner_sql);
    vial_buf_puts(&b, ") AS \"p\"");
    for (size_t i = 0; i < nrels; i++) {
        const vial_model *t = rels[i].rel->target;
        snprintf(alias, sizeof alias, "r%zu", i);
        vial_buf_puts(&b, " LEFT JOIN ");
        vial_db_quote_ident(&b, t->table, strlen(t->table));
        vial_buf_printf(&b, " AS \"%s\" ON \"%s\".", alias, alias);
        vial_db_quote_ident(&b, rels[i].target_key->name, strlen(rels[i].target_key->name));
        vial_buf_puts(&b, " = \"p\".");
        vial_db_quote_ident(&b, rels[i].parent_key->name, strlen(rels[i].parent_key->name));
    }
    /* Parents in the subquery's order (its ORDER BY, repeated on the outer query with the
     * primary key as tie-breaker so a parent's joined rows stay together), children after. */
    vial_buf_puts(&b, " ORDER BY ");
    char err[300];
    bool first = true;
    if (order_by && *order_by) {
        if (vial_db_order_by(&b, m, order_by, "p", err, sizeof err) != 0) {
            vial_db_fail(c, VIAL_DB_INVALID, "%s", err);
            return NULL;
        }
        first = false;
    }
    if (pk) {
        vial_buf_puts(&b, first ? "\"p\"." : ", \"p\".");
        vial_db_quote_ident(&b, pk->name, strlen(pk->name));
        first = false;
    }
    if (to_many >= 0) {
        const vial_relation *r = rels[to_many].rel;
        snprintf(alias, sizeof alias, "r%d", to_many);
        if (r->order_by && *r->order_by) {
            if (!first) vial_buf_puts(&b, ", ");
            if (vial_db_order_by(&b, r->target, r->order_by, alias, err, sizeof err) != 0) {
                vial_db_fail(c, VIAL_DB_INVALID, "relationship %s.%s: %s", m->table, r->name, err);
                return NULL;
            }
            first = false;
        }
        const vial_column *tpk = vial_db_pk(r->target);
        if (tpk) {
            vial_buf_printf(&b, "%s\"%s\".", first ? "" : ", ", alias);
            vial_db_quote_ident(&b, tpk->name, strlen(tpk->name));
            first = false;
        }
    }
    if (first) vial_buf_puts(&b, "1");
    if (b.len >= b.max) {
        vial_db_fail(c, VIAL_DB_INVALID, "query too long");
        return NULL;
    }
    vial_value *flat = vial_db_query_args(c, a, vial_buf_cstr(&b), args);
    if (!flat) return NULL;

    vial_value *out = vial_new_array(a);
    if (!out) return vial_db_fail(c, VIAL_DB_NOMEM, "out of memory"), NULL;
    vial_value *parent = NULL;
    for (size_t i = 0; i < vial_len(flat); i++) {
        vial_value *row = vial_array_get(flat, i);
        vial_member *mem = row->as.obj.items;
        bool same = parent && pk && to_many >= 0 &&
                    vial_value_equal(vial_object_get(parent, pk->name), vial_object_get(row, pk->name));
        if (!same) {
            parent = vial_new_object(a);
            if (!parent || vial_array_push(out, parent) != 0) return vial_db_fail(c, VIAL_DB_NOMEM, "out of memory"), NULL;
            for (size_t k = 0; k < ncols; k++)
                vial_object_set_ref(parent, mem[k].key, mem[k].key_len, mem[k].value);
        }
        size_t at = ncols;
        for (size_t r = 0; r < nrels; r++) {
            const vial_model *t = rels[r].rel->target;
            size_t prefix_len = strlen(rels[r].rel->name) + 1;
            size_t tcols = 0;
            for (const vial_column *col = t->columns; col->name; col++) tcols++;
            const vial_column *tpk = vial_db_pk(t);
            vial_value *obj = vial_new_object(a);
            bool present = false;
            for (size_t k = 0; k < tcols && at + k < row->as.obj.len; k++) {
                vial_member *tm = &mem[at + k];
                const char *key = tm->key + prefix_len;
                vial_object_set_ref(obj, key, tm->key_len - prefix_len, tm->value);
                if (tm->value->type != VIAL_NULL && (!tpk || strcmp(key, tpk->name) == 0)) present = true;
            }
            at += tcols;
            if (rels[r].rel->many_to_one) {
                if (!same) vial_object_set(parent, rels[r].rel->name, present ? obj : vial_value_null());
            } else {
                vial_value *list = vial_object_get(parent, rels[r].rel->name);
                if (!list) {
                    list = vial_new_array(a);
                    vial_object_set(parent, rels[r].rel->name, list);
                }
                if (present) vial_array_push(list, obj);
            }
        }
    }
    return out;
}
