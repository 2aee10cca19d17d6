/* autogen.c - `db migrate`: compare the models with the live schema.
 *
 * Like Flask-Migrate's autogenerate, it reads what the database has (tables,
 * their columns and indexes, from sqlite_master / PRAGMA table_info on
 * SQLite and information_schema / pg_indexes on PostgreSQL, in the current
 * schema) and writes the SQL for what the models add: new tables (with their
 * indexes), new columns, new indexes, each with the matching down statement,
 * the down section in reverse order. Anything the database has that the
 * models do not is reported, never dropped. What SQLite cannot do with ALTER
 * TABLE (a NOT NULL column without a default, a non-constant default) is
 * still written, with a NOTE for the reader: a generated migration is a
 * draft to review, as Alembic's are. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "db/db.h"

#define VERSION_TABLE "vial_migrations"

static bool pg(vial_db_conn *c) { return c->db->url.backend == VIAL_DB_POSTGRES; }

/* Names from a one-column query, as an array of strings; NULL on error. */
static vial_value *names(vial_db_conn *c, vial_arena *a, const char *sql, const char *arg) {
    vial_value *rows = arg ? vial_db_query(c, a, sql, arg) : vial_db_query(c, a, sql);
    if (!rows) return NULL;
    vial_value *out = vial_new_array(a);
    for (size_t i = 0; out && i < vial_len(rows); i++) {
        const char *n = vial_get_str(vial_array_get(rows, i), "name");
        if (n) vial_array_push(out, vial_new_str(a, n));
    }
    return out;
}

static bool has_name(const vial_value *list, const char *name) {
    for (size_t i = 0; i < vial_len(list); i++)
        if (strcmp(vial_str_of(vial_array_get(list, i)), name) == 0) return true;
    return false;
}

static vial_value *live_tables(vial_db_conn *c, vial_arena *a) {
    return names(c, a,
                 pg(c) ? "SELECT table_name AS name FROM information_schema.tables "
                         "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1"
                       : "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' "
                         "ESCAPE '\\' ORDER BY 1",
                 NULL);
}

static vial_value *live_columns(vial_db_conn *c, vial_arena *a, const char *table) {
    return names(c, a,
                 pg(c) ? "SELECT column_name AS name FROM information_schema.columns "
                         "WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position"
                       : "SELECT name FROM pragma_table_info(?) ORDER BY cid",
                 table);
}

static vial_value *live_indexes(vial_db_conn *c, vial_arena *a, const char *table) {
    return names(c, a,
                 pg(c) ? "SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema() "
                         "AND tablename = ? ORDER BY 1"
                       : "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? ORDER BY 1",
                 table);
}

bool vial_db_table_exists(vial_db_conn *c, vial_arena *a, const char *table, int *error) {
    vial_value *n = vial_db_scalar(c, a,
                                   pg(c) ? "SELECT count(*) FROM information_schema.tables "
                                           "WHERE table_schema = current_schema() AND table_name = ?"
                                         : "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?",
                                   table);
    *error = n ? 0 : 1;
    return n && n->as.i > 0;
}

/* Down statements are collected in order and written reversed. */
typedef struct downs {
    vial_value *list;
    vial_arena *a;
} downs;

static int push_down(downs *d, const char *sql) { return vial_array_push(d->list, vial_new_str(d->a, sql)); }

typedef struct index_diff {
    vial_db_conn *c;
    const vial_model *m;
    const vial_value *live;
    vial_buf *up, *notes;
    downs *down;
    vial_arena *a;
    int changes;
} index_diff;

static int add_missing_index(void *arg, const char *name, const char *columns, bool unique) {
    index_diff *x = arg;
    if (x->live && has_name(x->live, name)) return 0;
    if (vial_db_index_ddl(x->up, x->m, name, false) != 0) return -1;
    vial_buf d;
    vial_buf_init(&d, x->a, 4096);
    vial_buf_puts(&d, "DROP INDEX ");
    vial_db_quote_ident(&d, name, strlen(name));
    vial_buf_puts(&d, ";\n");
    push_down(x->down, vial_buf_cstr(&d));
    if (x->live) /* a new table's indexes are part of "added table" */
        vial_buf_printf(x->notes, "Detected added %sindex '%s' on %s(%s)\n", unique ? "unique " : "", name,
                        x->m->table, columns);
    x->changes++;
    return 0;
}

/* Would SQLite refuse to ADD this column? Then say why. */
static const char *sqlite_add_problem(const vial_column *col) {
    if (col->primary_key) return "SQLite cannot add a PRIMARY KEY column; rebuild the table instead";
    if (col->not_null && !col->default_sql)
        return "SQLite cannot add a NOT NULL column without a default (PostgreSQL only on an empty table); "
               "give it a default_sql";
    if (col->default_sql && (strncasecmp(col->default_sql, "CURRENT_", 8) == 0 || col->default_sql[0] == '('))
        return "SQLite cannot add a column whose default is not a constant";
    if (col->references && col->default_sql && strcasecmp(col->default_sql, "NULL") != 0)
        return "SQLite cannot add a foreign key column with a non-NULL default";
    return NULL;
}

int vial_db_autogen(vial_db_conn *c, vial_arena *a, const vial_model *const *models, vial_buf *up, vial_buf *down,
                    vial_buf *notes) {
    size_t n = 0;
    while (models[n]) n++;
    const vial_model **sorted = vial_arena_alloc(a, sizeof *sorted * (n ? n : 1));
    char err[256];
    if (!sorted) return vial_db_fail(c, VIAL_DB_NOMEM, "out of memory"), -1;
    if (vial_db_sort_models(models, sorted, n, err, sizeof err) != 0)
        return vial_db_fail(c, VIAL_DB_INVALID, "%s", err), -1;
    char *check = vial_db_schema_sql(a, c->db->url.backend, models); /* validates every model */
    if (!check) return vial_db_fail(c, VIAL_DB_INVALID, "the models are not valid (see vial_db_create_all's error)"), -1;
    vial_value *tables = live_tables(c, a);
    if (!tables) return -1;
    downs d = {vial_new_array(a), a};
    int changes = 0;
    bool sqlite = !pg(c);
    for (size_t i = 0; i < n; i++) {
        const vial_model *m = sorted[i];
        if (!has_name(tables, m->table)) {
            if (vial_db_table_ddl(up, c->db->url.backend, m, false) != 0)
                return vial_db_fail(c, VIAL_DB_INVALID, "cannot build the DDL of %s", m->table), -1;
            vial_buf_putc(up, '\n');
            vial_buf drop;
            vial_buf_init(&drop, a, 4096);
            vial_buf_puts(&drop, "DROP TABLE ");
            vial_db_quote_ident(&drop, m->table, strlen(m->table));
            vial_buf_puts(&drop, ";\n");
            push_down(&d, vial_buf_cstr(&drop));
            vial_buf_printf(notes, "Detected added table '%s'\n", m->table);
            changes++;
            continue;
        }
        vial_value *cols = live_columns(c, a, m->table);
        vial_value *ixs = cols ? live_indexes(c, a, m->table) : NULL;
        if (!cols || !ixs) return -1;
        for (const vial_column *col = m->columns; col->name; col++) {
            if (has_name(cols, col->name)) continue;
            const char *problem = sqlite ? sqlite_add_problem(col) : NULL;
            if (problem) {
                vial_buf_printf(up, "-- NOTE: %s\n", problem);
                vial_buf_printf(notes, "NOTE: %s.%s: %s\n", m->table, col->name, problem);
            }
            vial_column plain = *col;
            bool unique_index = sqlite && col->unique; /* SQLite cannot ADD a UNIQUE column; an index does it */
            if (unique_index) plain.unique = false;
            vial_buf_puts(up, "ALTER TABLE ");
            vial_db_quote_ident(up, m->table, strlen(m->table));
            vial_buf_puts(up, " ADD COLUMN ");
            vial_db_column_ddl(up, c->db->url.backend, m, &plain);
            vial_buf_puts(up, ";\n");
            vial_buf drop;
            vial_buf_init(&drop, a, 4096);
            vial_buf_puts(&drop, "ALTER TABLE ");
            vial_db_quote_ident(&drop, m->table, strlen(m->table));
            vial_buf_puts(&drop, " DROP COLUMN ");
            vial_db_quote_ident(&drop, col->name, strlen(col->name));
            vial_buf_puts(&drop, ";\n");
            push_down(&d, vial_buf_cstr(&drop));
            if (unique_index) {
                char *ix = vial_arena_sprintf(a, "uq_%s_%s", m->table, col->name);
                vial_buf_puts(up, "CREATE UNIQUE INDEX ");
                vial_db_quote_ident(up, ix, strlen(ix));
                vial_buf_puts(up, " ON ");
                vial_db_quote_ident(up, m->table, strlen(m->table));
                vial_buf_puts(up, " (");
                vial_db_quote_ident(up, col->name, strlen(col->name));
                vial_buf_puts(up, ");\n");
                vial_buf di;
                vial_buf_init(&di, a, 4096);
                vial_buf_puts(&di, "DROP INDEX ");
                vial_db_quote_ident(&di, ix, strlen(ix));
                vial_buf_puts(&di, ";\n");
                push_down(&d, vial_buf_cstr(&di));
            }
            vial_buf_printf(notes, "Detected added column '%s.%s'\n", m->table, col->name);
            changes++;
        }
        index_diff x = {c, m, ixs, up, notes, &d, a, 0};
        if (vial_db_each_index(m, a, add_missing_index, &x) != 0)
            return vial_db_fail(c, VIAL_DB_INVALID, "cannot build the indexes of %s", m->table), -1;
        changes += x.changes;
        for (size_t k = 0; k < vial_len(cols); k++) {
            const char *name = vial_str_of(vial_array_get(cols, k));
            if (!vial_db_column(m, name, strlen(name)))
                vial_buf_printf(notes, "Column '%s.%s' is in the database but not in the model (left alone)\n",
                                m->table, name);
        }
    }
    for (size_t k = 0; k < vial_len(tables); k++) {
        const char *name = vial_str_of(vial_array_get(tables, k));
        bool known = strcmp(name, VERSION_TABLE) == 0;
        for (size_t i = 0; i < n && !known; i++) known = strcmp(models[i]->table, name) == 0;
        if (!known) vial_buf_printf(notes, "Table '%s' is in the database but not in the models (left alone)\n", name);
    }
    for (size_t k = vial_len(d.list); k > 0; k--) vial_buf_puts(down, vial_str_of(vial_array_get(d.list, k - 1)));
    if (up->len >= up->max || down->len >= down->max)
        return vial_db_fail(c, VIAL_DB_INVALID, "the generated migration is too large"), -1;
    vial_db_set_code(c, VIAL_DB_OK);
    return changes > 0 ? 1 : 0;
}
