/* migrate.c - versioned migration files and the `db` command (Flask-Migrate's).
 *
 * A migration is a plain SQL file in the migrations folder, named
 * NNNN_description.sql, with an up section and a down section:
 *
 *     -- 0002 add post table
 *     -- up
 *     CREATE TABLE "post" (...);
 *     -- down
 *     DROP TABLE "post";
 *
 * Versions apply in numeric order; each one runs in its own transaction
 * together with its row in the vial_migrations table, so a failing migration
 * leaves no trace. On PostgreSQL every migration also takes an advisory lock
 * and re-checks the table inside it, so several instances starting at once
 * apply each version exactly once (on SQLite, BEGIN IMMEDIATE does the same).
 *
 * vial_db_command is the CLI: init, revision -m MSG, upgrade [target],
 * downgrade [target], current, history, migrate [-m MSG] (autogenerate, see
 * autogen.c). Targets: head, base, a version number, +N / -N steps. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "db/db.h"

#define MIGRATION_MAX (8u << 20) /* bytes per migration file */
#define MIGRATIONS_MAX 100000
#define VERSION_TABLE "vial_migrations"
#define LOCK_KEY "7261746973" /* pg_advisory_xact_lock key: any constant shared by every instance */

/* ---- the file format ---- */

/* Is this line (n bytes) the marker word? "-- up", case-insensitive, blanks around. */
static bool marker(const char *line, size_t n, const char *word) {
    while (n && (line[n - 1] == ' ' || line[n - 1] == '\t' || line[n - 1] == '\r')) n--;
    while (n && (*line == ' ' || *line == '\t')) {
        line++;
        n--;
    }
    if (n < 2 || line[0] != '-' || line[1] != '-') return false;
    line += 2;
    n -= 2;
    while (n && (*line == ' ' || *line == '\t')) {
        line++;
        n--;
    }
    size_t wl = strlen(word);
    return n == wl && strncasecmp(line, word, wl) == 0;
}

static bool blank_or_comment(const char *line, size_t n) {
    while (n && isspace((unsigned char)*line)) {
        line++;
        n--;
    }
    return n == 0 || (n >= 2 && line[0] == '-' && line[1] == '-');
}

int vial_db_migration_split(const char *text, size_t len, vial_str *up, vial_str *down, char *err, size_t errlen) {
    const char *up_at = NULL, *up_end = NULL, *down_at = NULL;
    size_t line_no = 0;
    for (size_t i = 0; i < len;) {
        size_t end = i;
        while (end < len && text[end] != '\n') end++;
        line_no++;
        const char *line = text + i;
        size_t n = end - i;
        if (memchr(line, '\0', n)) {
            snprintf(err, errlen, "line %zu: NUL byte", line_no);
            return -1;
        }
        if (marker(line, n, "up")) {
            if (up_at) {
                snprintf(err, errlen, "line %zu: a second '-- up' line", line_no);
                return -1;
            }
            up_at = end < len ? text + end + 1 : text + len;
        } else if (marker(line, n, "down")) {
            if (!up_at) {
                snprintf(err, errlen, "line %zu: '-- down' comes before '-- up'", line_no);
                return -1;
            }
            if (down_at) {
                snprintf(err, errlen, "line %zu: a second '-- down' line", line_no);
                return -1;
            }
            up_end = line;
            down_at = end < len ? text + end + 1 : text + len;
        } else if (!up_at && !blank_or_comment(line, n)) {
            snprintf(err, errlen, "line %zu: SQL before the '-- up' line", line_no);
            return -1;
        }
        i = end + 1;
    }
    if (!up_at) {
        snprintf(err, errlen, "no '-- up' line (a migration has '-- up' and '-- down' sections)");
        return -1;
    }
    if (!up_end) up_end = text + len;
    up->ptr = up_at;
    up->len = (size_t)(up_end - up_at);
    down->ptr = down_at ? down_at : text + len;
    down->len = down_at ? (size_t)(text + len - down_at) : 0;
    return 0;
}

/* ---- the migrations folder ---- */

typedef struct migration {
    int64_t version;
    char *file; /* name in the folder */
    char *name; /* description: the file name's words */
} migration;

typedef struct migration_set {
    migration *items;
    size_t len;
    char *dir;
} migration_set;

static int cmp_migration(const void *a, const void *b) {
    int64_t x = ((const migration *)a)->version, y = ((const migration *)b)->version;
    return x < y ? -1 : x > y;
}

static void set_free(migration_set *s) {
    for (size_t i = 0; i < s->len; i++) {
        free(s->items[i].file);
        free(s->items[i].name);
    }
    free(s->items);
    free(s->dir);
    memset(s, 0, sizeof *s);
}

/* Parses "0002_add_post.sql": 0 and the version, or -1. */
static int parse_file_name(const char *f, int64_t *version) {
    size_t n = strlen(f);
    if (n < 5 || strcmp(f + n - 4, ".sql") != 0) return -1;
    size_t i = 0;
    int64_t v = 0;
    while (isdigit((unsigned char)f[i])) {
        if (v > (INT64_MAX - 9) / 10) return -1;
        v = v * 10 + (f[i] - '0');
        i++;
    }
    if (i == 0 || (f[i] != '_' && i != n - 4)) return -1;
    for (size_t k = i; k < n - 4; k++)
        if (!isalnum((unsigned char)f[k]) && f[k] != '_' && f[k] != '-') return -1;
    *version = v;
    return 0;
}

static int load_set(const char *dir, migration_set *s, FILE *err) {
    memset(s, 0, sizeof *s);
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(err, "Error: no migrations folder at %s (%s); run `db init` first\n", dir, strerror(errno));
        return -1;
    }
    s->dir = strdup(dir);
    size_t cap = 0;
    int rc = s->dir ? 0 : -1;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        const char *f = e->d_name;
        size_t n = strlen(f);
        if (f[0] == '.' || n < 4 || strcmp(f + n - 4, ".sql") != 0) continue;
        int64_t v;
        if (parse_file_name(f, &v) != 0) {
            fprintf(err, "Error: %s/%s: migration files are named NNNN_description.sql\n", dir, f);
            rc = -1;
            break;
        }
        if (s->len == MIGRATIONS_MAX) {
            fprintf(err, "Error: too many migration files in %s\n", dir);
            rc = -1;
            break;
        }
        if (s->len == cap) {
            cap = cap ? cap * 2 : 16;
            migration *grown = realloc(s->items, cap * sizeof *grown);
            if (!grown) {
                rc = -1;
                break;
            }
            s->items = grown;
        }
        migration *m = &s->items[s->len];
        m->version = v;
        m->file = strdup(f);
        const char *words = strchr(f, '_');
        m->name = strndup(words ? words + 1 : "", words ? (size_t)(f + n - 4 - words - 1) : 0);
        if (!m->file || !m->name) {
            free(m->file);
            free(m->name);
            rc = -1;
            break;
        }
        for (char *p = m->name; *p; p++)
            if (*p == '_') *p = ' ';
        s->len++;
    }
    closedir(d);
    if (rc == 0 && s->len) qsort(s->items, s->len, sizeof *s->items, cmp_migration);
    for (size_t i = 1; rc == 0 && i < s->len; i++) {
        if (s->items[i].version == s->items[i - 1].version) {
            fprintf(err, "Error: %s and %s have the same version %lld\n", s->items[i - 1].file, s->items[i].file,
                    (long long)s->items[i].version);
            rc = -1;
        }
    }
    if (rc != 0) set_free(s);
    return rc;
}

static char *read_file(const char *path, size_t *len, FILE *err) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(err, "Error: cannot read %s: %s\n", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(MIGRATION_MAX + 1);
    size_t n = buf ? fread(buf, 1, MIGRATION_MAX + 1, f) : 0;
    fclose(f);
    if (!buf) return NULL;
    if (n > MIGRATION_MAX) {
        fprintf(err, "Error: %s is larger than %u bytes\n", path, MIGRATION_MAX);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* The up or down SQL of a migration, malloc'd; NULL with a message on err. */
static char *section_of(const migration_set *s, const migration *m, bool up, FILE *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", s->dir, m->file);
    size_t len;
    char *text = read_file(path, &len, err);
    if (!text) return NULL;
    vial_str u, d;
    char why[200];
    if (vial_db_migration_split(text, len, &u, &d, why, sizeof why) != 0) {
        fprintf(err, "Error: %s: %s\n", path, why);
        free(text);
        return NULL;
    }
    vial_str part = up ? u : d;
    char *out = strndup(part.ptr, part.len);
    free(text);
    return out;
}

/* ---- the version table ---- */

static bool is_pg(vial_db_conn *c) { return c->db->url.backend == VIAL_DB_POSTGRES; }

static int ensure_version_table(vial_db_conn *c, FILE *err) {
    if (vial_db_begin(c) != 0) goto fail;
    if (is_pg(c) && vial_db_script(c, "SELECT pg_advisory_xact_lock(" LOCK_KEY ")") != 0) goto fail_tx;
    if (vial_db_script(c, "CREATE TABLE IF NOT EXISTS " VERSION_TABLE " (version BIGINT PRIMARY KEY, "
                          "name TEXT NOT NULL, applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)") != 0)
        goto fail_tx;
    if (vial_db_commit(c) != 0) goto fail;
    return 0;
fail_tx:
    fprintf(err, "Error: cannot create the %s table: %s\n", VERSION_TABLE, vial_db_errmsg(c));
    vial_db_rollback(c);
    return -1;
fail:
    fprintf(err, "Error: cannot create the %s table: %s\n", VERSION_TABLE, vial_db_errmsg(c));
    return -1;
}

/* Applied versions, ascending, as an array of {version, name}; NULL on error. */
static vial_value *applied_versions(vial_db_conn *c, vial_arena *a, bool create, FILE *err) {
    int e = 0;
    bool exists = vial_db_table_exists(c, a, VERSION_TABLE, &e);
    if (e) {
        fprintf(err, "Error: %s\n", vial_db_errmsg(c));
        return NULL;
    }
    if (!exists) {
        if (!create) return vial_new_array(a);
        if (ensure_version_table(c, err) != 0) return NULL;
    }
    vial_value *rows = vial_db_query(c, a, "SELECT version, name FROM " VERSION_TABLE " ORDER BY version");
    if (!rows) fprintf(err, "Error: cannot read %s: %s\n", VERSION_TABLE, vial_db_errmsg(c));
    return rows;
}

static bool is_applied(const vial_value *applied, int64_t version) {
    for (size_t i = 0; i < vial_len(applied); i++)
        if (vial_get_int(vial_array_get(applied, i), "version", -1) == version) return true;
    return false;
}

static int64_t current_version(const vial_value *applied) {
    size_t n = vial_len(applied);
    return n ? vial_get_int(vial_array_get(applied, n - 1), "version", 0) : 0;
}

static const migration *find(const migration_set *s, int64_t version) {
    for (size_t i = 0; i < s->len; i++)
        if (s->items[i].version == version) return &s->items[i];
    return NULL;
}

static void vlabel(char *out, size_t n, int64_t version) {
    if (version <= 0)
        snprintf(out, n, "<base>");
    else
        snprintf(out, n, "%04lld", (long long)version);
}

/* Resolves a target against the known versions: head, base, N, +N, -N. */
static int resolve_target(const migration_set *s, const vial_value *applied, const char *target, bool up,
                          int64_t *out, FILE *err) {
    int64_t head = s->len ? s->items[s->len - 1].version : 0;
    int64_t cur = current_version(applied);
    if (!target || strcmp(target, "head") == 0 || strcmp(target, "heads") == 0) {
        *out = head;
        return 0;
    }
    if (strcmp(target, "base") == 0) {
        *out = 0;
        return 0;
    }
    const char *p = target;
    int sign = 0;
    if (*p == '+' || *p == '-') sign = *p++ == '+' ? 1 : -1;
    if (!*p || strspn(p, "0123456789") != strlen(p) || strlen(p) > 15) {
        fprintf(err, "Error: bad target \"%s\" (use head, base, a version number, +N or -N)\n", target);
        return -1;
    }
    int64_t n = strtoll(p, NULL, 10);
    if (!sign) {
        if (n != 0 && !find(s, n) && !is_applied(applied, n)) {
            fprintf(err, "Error: no migration with version %s\n", p);
            return -1;
        }
        *out = n;
        return 0;
    }
    if ((sign > 0) != up) {
        fprintf(err, "Error: %s %s would go the other way (use %s)\n", up ? "upgrade" : "downgrade", target,
                up ? "downgrade" : "upgrade");
        return -1;
    }
    /* steps along the ordered list of versions, starting from the current one */
    int64_t at = cur;
    if (sign > 0) {
        for (size_t i = 0; i < s->len && n > 0; i++)
            if (s->items[i].version > at && !is_applied(applied, s->items[i].version)) {
                at = s->items[i].version;
                n--;
            }
    } else {
        size_t k = vial_len(applied);
        while (n > 0 && k > 0) {
            k--;
            n--;
            at = k ? vial_get_int(vial_array_get(applied, k - 1), "version", 0) : 0;
        }
    }
    if (n > 0) {
        fprintf(err, "Error: cannot go %s%s steps from %lld: not that many migrations\n", sign > 0 ? "+" : "-", p,
                (long long)cur);
        return -1;
    }
    *out = at;
    return 0;
}

/* Runs one migration step in a transaction (with the version row); 1 if another instance did it. */
static int step(vial_db_conn *c, vial_arena *a, const migration_set *s, const migration *m, int64_t version,
                bool up, FILE *err) {
    char *sql = NULL;
    if (m) {
        sql = section_of(s, m, up, err);
        if (!sql) return -1;
    } else {
        fprintf(err, "Error: version %lld is recorded in %s but its file is missing from %s\n", (long long)version,
                VERSION_TABLE, s->dir);
        return -1;
    }
    if (!up && vial_db_sql_blank(sql))
        fprintf(err, "warning: %s has an empty down section; nothing is undone\n", m->file);
    int rc = -1;
    if (vial_db_begin(c) != 0) goto fail;
    if (is_pg(c) && vial_db_script(c, "SELECT pg_advisory_xact_lock(" LOCK_KEY ")") != 0) goto fail_tx;
    vial_value *seen = vial_db_scalar(c, a, "SELECT count(*) FROM " VERSION_TABLE " WHERE version = ?", version);
    if (!seen) goto fail_tx;
    if ((seen->as.i > 0) == up) { /* another instance got here first */
        vial_db_rollback(c);
        free(sql);
        return 1;
    }
    if (!vial_db_sql_blank(sql) && vial_db_script(c, sql) != 0) goto fail_tx;
    if (up) {
        if (vial_db_exec(c, "INSERT INTO " VERSION_TABLE " (version, name) VALUES (?, ?)", version, m->name) != 1)
            goto fail_tx;
    } else if (vial_db_exec(c, "DELETE FROM " VERSION_TABLE " WHERE version = ?", version) != 1) {
        goto fail_tx;
    }
    if (vial_db_commit(c) != 0) goto fail;
    rc = 0;
    free(sql);
    return rc;
fail_tx:
    fprintf(err, "Error: %s %s failed: %s\n", up ? "upgrade" : "downgrade", m->file, vial_db_errmsg(c));
    vial_db_rollback(c);
    free(sql);
    return -1;
fail:
    fprintf(err, "Error: %s %s failed: %s\n", up ? "upgrade" : "downgrade", m->file, vial_db_errmsg(c));
    free(sql);
    return -1;
}

typedef struct session {
    vial_db_conn *c;
    vial_arena *a;
    migration_set set;
} session;

static int session_open(session *ss, vial_db *db, const char *dir, FILE *err) {
    memset(ss, 0, sizeof *ss);
    if (load_set(dir, &ss->set, err) != 0) return -1;
    ss->a = vial_arena_new(1 << 16);
    ss->c = vial_db_acquire(db);
    if (!ss->a || !ss->c || vial_db_errcode(ss->c) != VIAL_DB_OK) {
        fprintf(err, "Error: %s\n", ss->c ? vial_db_errmsg(ss->c) : "out of memory");
        return -1;
    }
    return 0;
}

static void session_close(session *ss) {
    if (ss->c) vial_db_release(ss->c);
    if (ss->a) vial_arena_free(ss->a);
    set_free(&ss->set);
}

static int do_upgrade(session *ss, const char *target, FILE *out, FILE *err) {
    vial_value *applied = applied_versions(ss->c, ss->a, true, err);
    if (!applied) return -1;
    int64_t to;
    if (resolve_target(&ss->set, applied, target, true, &to, err) != 0) return -1;
    int64_t prev = current_version(applied);
    int ran = 0;
    for (size_t i = 0; i < ss->set.len; i++) {
        const migration *m = &ss->set.items[i];
        if (m->version > to || is_applied(applied, m->version)) continue;
        char from_l[32], to_l[32];
        vlabel(from_l, sizeof from_l, prev);
        vlabel(to_l, sizeof to_l, m->version);
        fprintf(out, "Running upgrade %s -> %s, %s\n", from_l, to_l, m->name);
        int rc = step(ss->c, ss->a, &ss->set, m, m->version, true, err);
        if (rc < 0) return -1;
        prev = m->version;
        ran++;
    }
    if (!ran) {
        char l[32];
        vlabel(l, sizeof l, prev);
        fprintf(out, "Already up to date (%s).\n", l);
    }
    return 0;
}

static int do_downgrade(session *ss, const char *target, FILE *out, FILE *err) {
    vial_value *applied = applied_versions(ss->c, ss->a, true, err);
    if (!applied) return -1;
    if (!target && vial_len(applied) == 0) {
        fprintf(out, "Nothing to downgrade.\n");
        return 0;
    }
    int64_t to;
    if (resolve_target(&ss->set, applied, target ? target : "-1", false, &to, err) != 0) return -1;
    size_t n = vial_len(applied);
    int ran = 0;
    for (size_t k = n; k > 0; k--) {
        int64_t v = vial_get_int(vial_array_get(applied, k - 1), "version", 0);
        if (v <= to) break;
        int64_t below = k > 1 ? vial_get_int(vial_array_get(applied, k - 2), "version", 0) : 0;
        const migration *m = find(&ss->set, v);
        char from_l[32], to_l[32];
        vlabel(from_l, sizeof from_l, v);
        vlabel(to_l, sizeof to_l, below);
        fprintf(out, "Running downgrade %s -> %s, %s\n", from_l, to_l,
                m ? m->name : vial_get_str(vial_array_get(applied, k - 1), "name"));
        if (step(ss->c, ss->a, &ss->set, m, v, false, err) < 0) return -1;
        ran++;
    }
    if (!ran) fprintf(out, "Nothing to downgrade.\n");
    return 0;
}

static int do_current(session *ss, FILE *out, FILE *err) {
    vial_value *applied = applied_versions(ss->c, ss->a, false, err);
    if (!applied) return -1;
    int64_t cur = current_version(applied);
    if (!cur) {
        fprintf(out, "<base> (no migration applied)\n");
        return 0;
    }
    const migration *m = find(&ss->set, cur);
    bool head = ss->set.len && ss->set.items[ss->set.len - 1].version == cur;
    fprintf(out, "%04lld%s, %s\n", (long long)cur, head ? " (head)" : "",
            m ? m->name : vial_get_str(vial_array_get(applied, vial_len(applied) - 1), "name"));
    return 0;
}

static int do_history(session *ss, FILE *out, FILE *err) {
    vial_value *applied = applied_versions(ss->c, ss->a, false, err);
    if (!applied) return -1;
    int64_t cur = current_version(applied);
    for (size_t k = ss->set.len; k > 0; k--) {
        const migration *m = &ss->set.items[k - 1];
        char from_l[32], to_l[32];
        vlabel(from_l, sizeof from_l, k > 1 ? ss->set.items[k - 2].version : 0);
        vlabel(to_l, sizeof to_l, m->version);
        fprintf(out, "%s -> %s%s%s%s, %s\n", from_l, to_l, k == ss->set.len ? " (head)" : "",
                m->version == cur ? " (current)" : "",
                is_applied(applied, m->version) ? "" : " (pending)", m->name);
    }
    for (size_t i = 0; i < vial_len(applied); i++) {
        int64_t v = vial_get_int(vial_array_get(applied, i), "version", 0);
        if (!find(&ss->set, v))
            fprintf(out, "%04lld (applied, file missing), %s\n", (long long)v,
                    vial_get_str(vial_array_get(applied, i), "name"));
    }
    if (!ss->set.len && !vial_len(applied)) fprintf(out, "No migrations yet (db revision -m MSG or db migrate).\n");
    return 0;
}

/* "Add post table!" -> "add_post_table" */
static void slugify(char *out, size_t n, const char *msg) {
    size_t o = 0;
    bool gap = false;
    for (const char *p = msg ? msg : ""; *p && o + 2 < n && o < 48; p++) {
        unsigned char ch = (unsigned char)*p;
        if (isalnum(ch)) {
            if (gap && o) out[o++] = '_';
            out[o++] = (char)tolower(ch);
            gap = false;
        } else {
            gap = true;
        }
    }
    if (!o) o = (size_t)snprintf(out, n, "revision");
    out[o] = '\0';
}

/* Writes the next migration file; its path in path_out. */
static int write_revision(const migration_set *s, const char *msg, const char *up, const char *down, char *path_out,
                          size_t path_len, FILE *err) {
    int64_t next = s->len ? s->items[s->len - 1].version + 1 : 1;
    char slug[64];
    slugify(slug, sizeof slug, msg);
    snprintf(path_out, path_len, "%s/%04lld_%s.sql", s->dir, (long long)next, slug);
    FILE *f = fopen(path_out, "wx");
    if (!f) {
        fprintf(err, "Error: cannot create %s: %s\n", path_out, strerror(errno));
        return -1;
    }
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    fprintf(f, "-- %04lld %s\n-- created %s UTC\n-- up\n%s\n-- down\n%s\n", (long long)next,
            msg && *msg ? msg : slug, when, up ? up : "", down ? down : "");
    if (fclose(f) != 0) {
        fprintf(err, "Error: writing %s: %s\n", path_out, strerror(errno));
        return -1;
    }
    return 0;
}

static int do_init(const char *dir, FILE *out, FILE *err) {
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        bool empty = true;
        while ((e = readdir(d)) != NULL)
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) empty = false;
        closedir(d);
        if (!empty) {
            fprintf(err, "Error: Directory %s already exists and is not empty\n", dir);
            return -1;
        }
    } else if (mkdir(dir, 0755) != 0) {
        fprintf(err, "Error: cannot create %s: %s\n", dir, strerror(errno));
        return -1;
    }
    fprintf(out, "Creating directory %s ... done\n", dir);
    char path[4096];
    snprintf(path, sizeof path, "%s/README", dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(err, "Error: cannot create %s: %s\n", path, strerror(errno));
        return -1;
    }
    fputs("Database migrations for this app, applied in version order by `db upgrade`.\n"
          "Each file NNNN_description.sql has a '-- up' section and a '-- down' section.\n"
          "`db revision -m MSG` writes an empty one; `db migrate -m MSG` writes one from the models.\n",
          f);
    fclose(f);
    fprintf(out, "Generating %s ... done\n", path);
    return 0;
}

static int do_revision(const char *dir, const char *msg, FILE *out, FILE *err) {
    migration_set s;
    if (load_set(dir, &s, err) != 0) return -1;
    char path[4096];
    int rc = write_revision(&s, msg, "", "", path, sizeof path, err);
    if (rc == 0) fprintf(out, "Generating %s ... done\n", path);
    set_free(&s);
    return rc;
}

static int do_migrate(session *ss, const vial_model *const *models, const char *msg, FILE *out, FILE *err) {
    if (!models || !models[0]) {
        fprintf(err, "Error: the app declares no models to compare with the database\n");
        return -1;
    }
    vial_value *applied = applied_versions(ss->c, ss->a, false, err);
    if (!applied) return -1;
    for (size_t i = 0; i < ss->set.len; i++) {
        if (!is_applied(applied, ss->set.items[i].version)) {
            fprintf(err, "Error: Target database is not up to date (%s is not applied); run `db upgrade` first\n",
                    ss->set.items[i].file);
            return -1;
        }
    }
    vial_buf up, down, notes;
    vial_buf_init(&up, ss->a, DB_SQL_MAX);
    vial_buf_init(&down, ss->a, DB_SQL_MAX);
    vial_buf_init(&notes, ss->a, 1 << 20);
    int rc = vial_db_autogen(ss->c, ss->a, models, &up, &down, &notes);
    if (rc < 0) {
        fprintf(err, "Error: %s\n", vial_db_errmsg(ss->c));
        return -1;
    }
    fputs(vial_buf_cstr(&notes), out);
    if (rc == 0) {
        fprintf(out, "No changes in schema detected.\n");
        return 0;
    }
    char path[4096];
    if (write_revision(&ss->set, msg, vial_buf_cstr(&up), vial_buf_cstr(&down), path, sizeof path, err) != 0) return -1;
    fprintf(out, "Generating %s ... done\n", path);
    return 0;
}

static void usage(FILE *err) {
    fputs("Usage: db COMMAND [ARGS]\n"
          "\n"
          "Commands:\n"
          "  init                 create the migrations folder\n"
          "  revision -m MSG      write a new, empty migration\n"
          "  migrate [-m MSG]     write a migration for what the models add to the database\n"
          "  upgrade [TARGET]     apply migrations up to TARGET (default: head)\n"
          "  downgrade [TARGET]   undo migrations down to TARGET (default: -1)\n"
          "  current              show the database's version\n"
          "  history              list the migrations\n"
          "\n"
          "TARGET: head, base, a version number, +N or -N.\n",
          err);
}

int vial_db_upgrade(vial_db *db, const char *migrations_dir, const char *target, FILE *out, FILE *err) {
    session ss;
    if (!db || !migrations_dir) return -1;
    int rc = session_open(&ss, db, migrations_dir, err) == 0 ? do_upgrade(&ss, target, out, err) : -1;
    session_close(&ss);
    return rc;
}

int vial_db_command(vial_db *db, const vial_model *const *models, const char *migrations_dir, int argc, char **argv,
                    FILE *out, FILE *err) {
    if (!out) out = stdout;
    if (!err) err = stderr;
    if (!migrations_dir) migrations_dir = "migrations";
    if (argc < 1 || !argv || !argv[0] || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
        usage(argc < 1 ? err : out);
        return argc < 1 ? 2 : 0;
    }
    const char *cmd = argv[0];
    const char *msg = NULL, *target = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if ((strcmp(a, "-m") == 0 || strcmp(a, "--message") == 0) && i + 1 < argc) {
            msg = argv[++i];
        } else if (strncmp(a, "--message=", 10) == 0) {
            msg = a + 10;
        } else if ((a[0] != '-' || (isdigit((unsigned char)a[1]))) && !target) {
            target = a;
        } else {
            fprintf(err, "Error: unexpected argument \"%s\" for db %s\n", a, cmd);
            usage(err);
            return 2;
        }
    }
    bool takes_target = strcmp(cmd, "upgrade") == 0 || strcmp(cmd, "downgrade") == 0;
    bool takes_msg = strcmp(cmd, "revision") == 0 || strcmp(cmd, "migrate") == 0;
    if ((target && !takes_target) || (msg && !takes_msg)) {
        fprintf(err, "Error: db %s takes %s\n", cmd, takes_target ? "only a target" : takes_msg ? "only -m MSG" : "no arguments");
        return 2;
    }
    if (strcmp(cmd, "init") == 0) return do_init(migrations_dir, out, err) == 0 ? 0 : 1;
    if (strcmp(cmd, "revision") == 0) {
        if (!msg) {
            fprintf(err, "Error: db revision needs a message: -m \"what it does\"\n");
            return 2;
        }
        return do_revision(migrations_dir, msg, out, err) == 0 ? 0 : 1;
    }
    int (*run)(session *, FILE *, FILE *) = NULL;
    if (strcmp(cmd, "current") == 0) run = do_current;
    else if (strcmp(cmd, "history") == 0) run = do_history;
    else if (!takes_target && strcmp(cmd, "migrate") != 0) {
        fprintf(err, "Error: unknown command \"db %s\"\n", cmd);
        usage(err);
        return 2;
    }
    if (!db) {
        fprintf(err, "Error: no database\n");
        return 1;
    }
    session ss;
    int rc = session_open(&ss, db, migrations_dir, err);
    if (rc == 0) {
        if (run)
            rc = run(&ss, out, err);
        else if (strcmp(cmd, "upgrade") == 0)
            rc = do_upgrade(&ss, target, out, err);
        else if (strcmp(cmd, "downgrade") == 0)
            rc = do_downgrade(&ss, target, out, err);
        else
            rc = do_migrate(&ss, models, msg, out, err);
    }
    session_close(&ss);
    return rc == 0 ? 0 : 1;
}
