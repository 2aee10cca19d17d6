/* loader.c - the template environment: search path, cache, registrations,
 * and the public rendering API.
 *
 * An environment is Jinja2's Environment with a FileSystemLoader (a list of
 * folders: the app's templates/ first, then blueprint folders) in front of
 * which in-memory sources can be registered (DictLoader). A template is
 * compiled the first time it is asked for and kept, each in its own arena;
 * with auto_reload (debug mode) every lookup re-stats the file and a
 * template whose mtime or size changed is compiled again. A replaced
 * template is freed at once unless a render is running (an include may
 * reload a template that is still on the render stack), in which case it is
 * retired and freed when the last render ends.
 *
 * Rendering draws every temporary from the caller's arena and appends to the
 * caller's vial_buf; on failure the buffer is restored to its length before
 * the call, so a half-rendered page is never sent. */
#include "template/tpl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_TEMPLATE_BYTES (64u << 20)
#define DEFAULT_MAX_OUTPUT (64u << 20)
#define DEFAULT_MAX_DEPTH 200

/* ---- names ---- */

static uint32_t str_hash(const char *s, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

static int names_rehash(tpl_name_table *t, uint32_t slots) {
    uint32_t *index = calloc(slots, sizeof *index);
    if (!index) return -1;
    for (uint32_t i = 0; i < t->n; i++) {
        uint32_t s = str_hash(t->names[i].ptr, t->names[i].len) & (slots - 1);
        while (index[s]) s = (s + 1) & (slots - 1);
        index[s] = i + 1;
    }
    free(t->index);
    t->index = index;
    t->slots = slots;
    return 0;
}

uint32_t vial_tpl_intern(struct vial_tpl_env *env, const char *name, size_t len) {
    tpl_name_table *t = &env->names;
    uint32_t h = str_hash(name, len);
    if (t->slots) {
        for (uint32_t s = h & (t->slots - 1); t->index[s]; s = (s + 1) & (t->slots - 1)) {
            const vial_str *e = &t->names[t->index[s] - 1];
            if (e->len == len && memcmp(e->ptr, name, len) == 0) return t->index[s] - 1;
        }
    }
    if (t->n == t->cap) {
        uint32_t cap = t->cap ? t->cap * 2 : 64;
        vial_str *names = realloc(t->names, cap * sizeof *names);
        if (!names) return UINT32_MAX;
        t->names = names;
        t->cap = cap;
    }
    char *copy = vial_arena_strndup(env->arena, name, len);
    if (!copy) return UINT32_MAX;
    t->names[t->n] = (vial_str){copy, len};
    uint32_t id = t->n++;
    if (t->n * 2 > t->slots) {
        if (names_rehash(t, t->slots ? t->slots * 2 : 128) != 0) return UINT32_MAX;
    } else {
        uint32_t s = h & (t->slots - 1);
        while (t->index[s]) s = (s + 1) & (t->slots - 1);
        t->index[s] = id + 1;
    }
    return id;
}

const tpl_userfn *vial_tpl_env_find(tpl_userfn *const *list, size_t n, const char *name, size_t len) {
    for (size_t i = 0; i < n; i++)
        if (strlen(list[i]->name) == len && memcmp(list[i]->name, name, len) == 0) return list[i];
    return NULL;
}

/* ---- errors ---- */

void vial_tpl_err_where(tpl_err *e, const tpl_template *t) {
    if (!t) {
        e->name[0] = e->file[0] = 0;
        return;
    }
    snprintf(e->name, sizeof e->name, "%s", t->name && t->name[0] ? t->name : "<template>");
    snprintf(e->file, sizeof e->file, "%s", t->filename && t->filename[0] ? t->filename : e->name);
}

static void to_public(const tpl_err *e, vial_tpl_error *out) {
    if (!out) return;
    memset(out, 0, sizeof *out);
    out->kind = e->kind ? e->kind : VIAL_TPL_ERR_RUNTIME;
    out->line = e->line;
    out->column = e->column;
    snprintf(out->name, sizeof out->name, "%s", e->name);
    snprintf(out->file, sizeof out->file, "%s", e->file[0] ? e->file : e->name);
    snprintf(out->message, sizeof out->message, "%s", e->message);
}

static void set_err(tpl_err *e, int kind, const char *name, const char *fmt, ...) VIAL_PRINTF(4, 5);
static void set_err(tpl_err *e, int kind, const char *name, const char *fmt, ...) {
    memset(e, 0, sizeof *e);
    e->kind = kind;
    snprintf(e->name, sizeof e->name, "%s", name ? name : "");
    snprintf(e->file, sizeof e->file, "%s", name ? name : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
}

/* ---- environment ---- */

vial_tpl_env *vial_tpl_env_new(const vial_tpl_options *opt) {
    vial_tpl_env *env = calloc(1, sizeof *env);
    if (!env) return NULL;
    if (opt) env->opt = *opt;
    env->arena = vial_arena_new(16384);
    if (!env->arena) {
        free(env);
        return NULL;
    }
    env->globals = vial_new_object(env->arena);
    env->id_loop = vial_tpl_intern(env, "loop", 4);
    env->id_super = vial_tpl_intern(env, "super", 5);
    env->id_caller = vial_tpl_intern(env, "caller", 6);
    env->id_varargs = vial_tpl_intern(env, "varargs", 7);
    env->id_kwargs = vial_tpl_intern(env, "kwargs", 6);
    if (!env->globals || env->id_kwargs == UINT32_MAX) {
        vial_tpl_env_free(env);
        return NULL;
    }
    return env;
}

vial_tpl_options *vial_tpl_env_options(vial_tpl_env *env) { return &env->opt; }

static void free_template(tpl_template *t) {
    if (t) vial_arena_free(t->arena);
}

static void free_retired(vial_tpl_env *env) {
    for (size_t i = 0; i < env->nretired; i++) free_template(env->retired[i]);
    env->nretired = 0;
}

void vial_tpl_clear_cache(vial_tpl_env *env) {
    for (size_t i = 0; i < env->ncache; i++) {
        tpl_template *t = env->cache[i].tmpl;
        if (env->active_renders) {
            tpl_template **r = realloc(env->retired, (env->nretired + 1) * sizeof *r);
            if (r) {
                env->retired = r;
                env->retired[env->nretired++] = t;
            }
        } else {
            free_template(t);
        }
        free(env->cache[i].name);
    }
    env->ncache = 0;
    if (env->cache_index) memset(env->cache_index, 0, env->cache_slots * sizeof *env->cache_index);
}

void vial_tpl_env_free(vial_tpl_env *env) {
    if (!env) return;
    env->active_renders = 0;
    vial_tpl_clear_cache(env);
    free_retired(env);
    free(env->retired);
    free(env->cache);
    free(env->cache_index);
    for (size_t i = 0; i < env->npaths; i++) free(env->paths[i]);
    free(env->paths);
    for (size_t i = 0; i < env->nsources; i++) {
        free(env->sources[i].name);
        free(env->sources[i].source);
    }
    free(env->sources);
    free(env->filters);
    free(env->tests);
    free(env->functions);
    free(env->names.names);
    free(env->names.index);
    vial_arena_free(env->arena);
    free(env);
}

int vial_tpl_add_path(vial_tpl_env *env, const char *dir) {
    if (!dir) return -1;
    char **p = realloc(env->paths, (env->npaths + 1) * sizeof *p);
    if (!p) return -1;
    env->paths = p;
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/') n--;
    char *copy = malloc(n + 1);
    if (!copy) return -1;
    memcpy(copy, dir, n);
    copy[n] = 0;
    env->paths[env->npaths++] = copy;
    return 0;
}

int vial_tpl_add_source(vial_tpl_env *env, const char *name, const char *source, size_t len) {
    if (!name || !source) return -1;
    for (size_t i = 0; i < env->nsources; i++) {
        if (strcmp(env->sources[i].name, name) == 0) {
            char *copy = malloc(len + 1);
            if (!copy) return -1;
            memcpy(copy, source, len);
            copy[len] = 0;
            free(env->sources[i].source);
            env->sources[i].source = copy;
            env->sources[i].len = len;
            vial_tpl_clear_cache(env);
            return 0;
        }
    }
    tpl_source_entry *s = realloc(env->sources, (env->nsources + 1) * sizeof *s);
    if (!s) return -1;
    env->sources = s;
    char *nm = strdup(name), *copy = malloc(len + 1);
    if (!nm || !copy) {
        free(nm);
        free(copy);
        return -1;
    }
    memcpy(copy, source, len);
    copy[len] = 0;
    env->sources[env->nsources++] = (tpl_source_entry){nm, copy, len};
    vial_tpl_clear_cache(env); /* it may shadow a file compiled earlier */
    return 0;
}

static int add_fn(vial_tpl_env *env, tpl_userfn ***list, size_t *n, const char *name, vial_tpl_fn fn, void *data,
                  tpl_userfn **out) {
    if (!name || !fn) return -1;
    for (size_t i = 0; i < *n; i++) {
        if (strcmp((*list)[i]->name, name) == 0) {
            (*list)[i]->fn = fn;
            (*list)[i]->data = data;
            if (out) *out = (*list)[i];
            return 0;
        }
    }
    tpl_userfn **l = realloc(*list, (*n + 1) * sizeof *l);
    if (!l) return -1;
    *list = l;
    tpl_userfn *u = vial_arena_calloc(env->arena, sizeof *u);
    if (!u) return -1;
    u->name = vial_arena_strdup(env->arena, name);
    if (!u->name) return -1;
    u->fn = fn;
    u->data = data;
    l[(*n)++] = u;
    if (out) *out = u;
    /* templates compiled earlier may have bound a builtin of the same name */
    vial_tpl_clear_cache(env);
    return 0;
}

int vial_tpl_add_filter(vial_tpl_env *env, const char *name, vial_tpl_fn fn, void *data) {
    return add_fn(env, &env->filters, &env->nfilters, name, fn, data, NULL);
}

int vial_tpl_add_test(vial_tpl_env *env, const char *name, vial_tpl_fn fn, void *data) {
    return add_fn(env, &env->tests, &env->ntests, name, fn, data, NULL);
}

int vial_tpl_add_function(vial_tpl_env *env, const char *name, vial_tpl_fn fn, void *data) {
    tpl_userfn *u;
    if (add_fn(env, &env->functions, &env->nfunctions, name, fn, data, &u) != 0) return -1;
    tpl_func *f = vial_tpl_obj_new(env->arena, sizeof *f, TK_FUNC);
    if (!f) return -1;
    f->fkind = FN_USER;
    f->user = u;
    f->name = u->name;
    return vial_object_set(env->globals, name, &f->h.base);
}

int vial_tpl_add_global(vial_tpl_env *env, const char *name, const vial_value *value) {
    if (!name || !value) return -1;
    vial_value *copy = vial_value_copy(env->arena, value);
    if (!copy) return -1;
    return vial_object_set(env->globals, name, copy);
}

bool vial_tpl_autoescape_for(const struct vial_tpl_env *env, const char *name) {
    switch (env->opt.autoescape) {
    case VIAL_TPL_AUTOESCAPE_ON: return true;
    case VIAL_TPL_AUTOESCAPE_BY_NAME: {
        if (!name) return true;
        size_t n = strlen(name);
        static const char *ext[] = {".html", ".htm", ".xml", ".xhtml"};
        for (size_t i = 0; i < 4; i++) {
            size_t k = strlen(ext[i]);
            if (n >= k && memcmp(name + n - k, ext[i], k) == 0) return true;
        }
        return false;
    }
    default: return false;
    }
}

/* ---- cache ---- */

static long cache_find(vial_tpl_env *env, const char *name, size_t len) {
    if (!env->cache_slots) return -1;
    for (size_t s = str_hash(name, len) & (env->cache_slots - 1); env->cache_index[s];
         s = (s + 1) & (env->cache_slots - 1)) {
        tpl_cache_entry *e = &env->cache[env->cache_index[s] - 1];
        if (e->name_len == len && memcmp(e->name, name, len) == 0) return (long)env->cache_index[s] - 1;
    }
    return -1;
}

static int cache_reindex(vial_tpl_env *env, size_t slots) {
    uint32_t *index = calloc(slots, sizeof *index);
    if (!index) return -1;
    for (size_t i = 0; i < env->ncache; i++) {
        size_t s = str_hash(env->cache[i].name, env->cache[i].name_len) & (slots - 1);
        while (index[s]) s = (s + 1) & (slots - 1);
        index[s] = (uint32_t)i + 1;
    }
    free(env->cache_index);
    env->cache_index = index;
    env->cache_slots = slots;
    return 0;
}

static int cache_add(vial_tpl_env *env, const char *name, size_t len, tpl_template *t) {
    if (env->ncache == env->cache_cap) {
        size_t cap = env->cache_cap ? env->cache_cap * 2 : 16;
        tpl_cache_entry *c = realloc(env->cache, cap * sizeof *c);
        if (!c) return -1;
        env->cache = c;
        env->cache_cap = cap;
    }
    char *copy = malloc(len + 1);
    if (!copy) return -1;
    memcpy(copy, name, len);
    copy[len] = 0;
    env->cache[env->ncache++] = (tpl_cache_entry){copy, len, t};
    if (env->ncache * 2 > env->cache_slots) return cache_reindex(env, env->cache_slots ? env->cache_slots * 2 : 64);
    size_t s = str_hash(name, len) & (env->cache_slots - 1);
    while (env->cache_index[s]) s = (s + 1) & (env->cache_slots - 1);
    env->cache_index[s] = (uint32_t)env->ncache;
    return 0;
}

/* ---- loading ---- */

/* Jinja2's split_template_path: "a/./b" -> "a/b"; ".." and backslashes are refused. */
static int safe_relpath(const char *name, size_t len, char *out, size_t cap) {
    size_t o = 0;
    size_t i = 0;
    if (memchr(name, 0, len)) return -1;
    while (i < len) {
        size_t j = i;
        while (j < len && name[j] != '/') j++;
        size_t plen = j - i;
        const char *piece = name + i;
        if (plen == 2 && piece[0] == '.' && piece[1] == '.') return -1;
        if (memchr(piece, '\\', plen)) return -1;
        if (plen && !(plen == 1 && piece[0] == '.')) {
            if (o + plen + 2 > cap) return -1;
            if (o) out[o++] = '/';
            memcpy(out + o, piece, plen);
            o += plen;
        }
        i = j + 1;
    }
    if (!o) return -1;
    out[o] = 0;
    return 0;
}

static char *read_file(const char *path, size_t *len, struct stat *st, int *err_out) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        *err_out = errno;
        return NULL;
    }
    if (fstat(fileno(f), st) != 0 || !S_ISREG(st->st_mode)) {
        fclose(f);
        *err_out = ENOENT;
        return NULL;
    }
    if ((unsigned long long)st->st_size > MAX_TEMPLATE_BYTES) {
        fclose(f);
        *err_out = EFBIG;
        return NULL;
    }
    size_t n = (size_t)st->st_size;
    char *data = malloc(n + 1);
    if (!data) {
        fclose(f);
        *err_out = ENOMEM;
        return NULL;
    }
    size_t got = fread(data, 1, n, f);
    fclose(f);
    data[got] = 0;
    *len = got;
    return data;
}

static tpl_template *compile_source(vial_tpl_env *env, const char *name, const char *filename, const char *src,
                                    size_t len, bool autoescape, tpl_err *err) {
    vial_arena *a = vial_arena_new(len * 4 + 4096 > 65536 ? 65536 : len * 4 + 4096);
    if (!a) {
        set_err(err, VIAL_TPL_ERR_MEMORY, name, "out of memory");
        return NULL;
    }
    tpl_template *t = vial_arena_calloc(a, sizeof *t);
    if (!t) {
        vial_arena_free(a);
        set_err(err, VIAL_TPL_ERR_MEMORY, name, "out of memory");
        return NULL;
    }
    t->arena = a;
    t->env = env;
    t->name = vial_arena_strdup(a, name ? name : "");
    t->filename = vial_arena_strdup(a, filename ? filename : (name ? name : ""));
    t->autoescape = autoescape;
    if (!t->name || !t->filename) {
        vial_arena_free(a);
        set_err(err, VIAL_TPL_ERR_MEMORY, name, "out of memory");
        return NULL;
    }
    memset(err, 0, sizeof *err);
    if (vial_tpl_parse(t, src, len, err) != 0) {
        vial_tpl_err_where(err, t);
        if (!err->kind) err->kind = VIAL_TPL_ERR_SYNTAX;
        vial_arena_free(a);
        return NULL;
    }
    return t;
}

static void retire(vial_tpl_env *env, tpl_template *t) {
    if (!env->active_renders) {
        free_template(t);
        return;
    }
    tpl_template **r = realloc(env->retired, (env->nretired + 1) * sizeof *r);
    if (!r) return; /* leak rather than free a template in use */
    env->retired = r;
    env->retired[env->nretired++] = t;
}

tpl_template *vial_tpl_env_load(struct vial_tpl_env *env, const char *name, size_t len, tpl_err *err) {
    long hit = cache_find(env, name, len);
    if (hit >= 0) {
        tpl_template *t = env->cache[hit].tmpl;
        if (!env->opt.auto_reload || t->from_memory) return t;
        struct stat st;
        if (stat(t->filename, &st) == 0 && st.st_mtim.tv_sec == t->mtime.tv_sec &&
            st.st_mtim.tv_nsec == t->mtime.tv_nsec && (long long)st.st_size == t->size)
            return t;
        /* changed or gone: compile again below, replacing the entry */
    }
    char display[256];
    snprintf(display, sizeof display, "%.*s", (int)(len > 200 ? 200 : len), name);
    char name_z[4096];
    if (len >= sizeof name_z || memchr(name, 0, len)) {
        set_err(err, VIAL_TPL_ERR_NOT_FOUND, display, "template not found: %s", display);
        return NULL;
    }
    memcpy(name_z, name, len);
    name_z[len] = 0;
    tpl_template *t = NULL;
    for (size_t i = 0; i < env->nsources && !t; i++) {
        if (strcmp(env->sources[i].name, name_z) != 0) continue;
        t = compile_source(env, name_z, name_z, env->sources[i].source, env->sources[i].len,
                           vial_tpl_autoescape_for(env, name_z), err);
        if (!t) return NULL;
        t->from_memory = true;
    }
    if (!t) {
        char rel[4096];
        if (safe_relpath(name_z, len, rel, sizeof rel) != 0) {
            set_err(err, VIAL_TPL_ERR_NOT_FOUND, display, "template not found: %s", display);
            return NULL;
        }
        for (size_t i = 0; i < env->npaths && !t; i++) {
            char path[8192];
            snprintf(path, sizeof path, "%s/%s", env->paths[i], rel);
            size_t n;
            struct stat st;
            int e = 0;
            char *src = read_file(path, &n, &st, &e);
            if (!src) {
                if (e == ENOENT || e == ENOTDIR || e == EISDIR) continue;
                set_err(err, e == ENOMEM ? VIAL_TPL_ERR_MEMORY : VIAL_TPL_ERR_NOT_FOUND, display,
                        "cannot read template %s: %s", path, e == EFBIG ? "file too large" : strerror(e));
                return NULL;
            }
            t = compile_source(env, name_z, path, src, n, vial_tpl_autoescape_for(env, name_z), err);
            free(src);
            if (!t) return NULL;
            t->mtime = st.st_mtim;
            t->size = (long long)st.st_size;
        }
    }
    if (!t) {
        set_err(err, VIAL_TPL_ERR_NOT_FOUND, display, "template not found: %s", display);
        return NULL;
    }
    if (hit >= 0) {
        retire(env, env->cache[hit].tmpl);
        env->cache[hit].tmpl = t;
        return t;
    }
    if (cache_add(env, name, len, t) != 0) {
        free_template(t);
        set_err(err, VIAL_TPL_ERR_MEMORY, display, "out of memory");
        return NULL;
    }
    return t;
}

int vial_tpl_load(vial_tpl_env *env, const char *name, vial_tpl_error *err) {
    tpl_err e;
    if (!name) return -1;
    if (!vial_tpl_env_load(env, name, strlen(name), &e)) {
        to_public(&e, err);
        return -1;
    }
    return 0;
}

/* ---- rendering ---- */

static int render_template(vial_tpl_env *env, tpl_template *t, const vial_value *ctx,
                           const vial_tpl_render_args *extra, vial_arena *arena, vial_buf *out, vial_tpl_error *err) {
    tpl_err e;
    e.kind = 0;
    e.message[0] = 0;
    if (ctx && ctx->type != VIAL_OBJECT) {
        set_err(&e, VIAL_TPL_ERR_RUNTIME, t->name, "the template context must be an object, not %s",
                vial_tv_type_name(ctx));
        to_public(&e, err);
        return -1;
    }
    size_t start_len = out->len, saved_max = out->max;
    size_t limit = env->opt.max_output ? env->opt.max_output : DEFAULT_MAX_OUTPUT;
    if (out->max - out->len > limit) out->max = out->len + limit;
    tpl_render r = {
        .env = env,
        .arena = arena,
        .user_ctx = ctx,
        .extra = extra && extra->globals && extra->globals->type == VIAL_OBJECT ? extra->globals : NULL,
        .user = extra ? extra->user : NULL,
        .resolve = extra ? extra->resolve : NULL,
        .out = out,
        .max_output = limit,
        .strict = env->opt.strict_undefined,
        .max_depth = env->opt.max_depth > 0 ? env->opt.max_depth : DEFAULT_MAX_DEPTH,
        .max_steps = env->opt.max_steps,
        .tmpl = t,
        .err = &e,
    };
    env->active_renders++;
    /* start the output as big as this template's last one: no regrowth on the way */
    if (t->output_hint && out->cap - out->len <= t->output_hint) vial_buf_reserve(out, t->output_hint);
    int rc = -1;
    tpl_context *c = vial_tpl_context_new(&r, t, NULL, true);
    if (c && vial_tpl_context_add_blocks(&r, c, t) == 0) {
        rc = vial_tpl_run_template(&r, c, t);
    }
    /* t may have been replaced during the render (auto_reload): it stays valid until free_retired */
    if (rc == 0 && !r.failed) t->output_hint = out->len - start_len + 16;
    if (--env->active_renders == 0) free_retired(env);
    out->max = saved_max;
    if (rc != 0 || r.failed) {
        out->len = start_len;
        if (out->data) out->data[start_len] = 0;
        if (!e.kind) e.kind = VIAL_TPL_ERR_RUNTIME;
        if (!e.message[0]) snprintf(e.message, sizeof e.message, "rendering failed");
        to_public(&e, err);
        return -1;
    }
    return 0;
}

int vial_tpl_render(vial_tpl_env *env, const char *name, const vial_value *ctx, const vial_tpl_render_args *extra,
                    vial_arena *arena, vial_buf *out, vial_tpl_error *err) {
    tpl_err e;
    if (!env || !name || !arena || !out) return -1;
    tpl_template *t = vial_tpl_env_load(env, name, strlen(name), &e);
    if (!t) {
        to_public(&e, err);
        return -1;
    }
    return render_template(env, t, ctx, extra, arena, out, err);
}

int vial_tpl_render_string(vial_tpl_env *env, const char *source, size_t len, const vial_value *ctx,
                           const vial_tpl_render_args *extra, vial_arena *arena, vial_buf *out, vial_tpl_error *err) {
    tpl_err e;
    if (!env || !source || !arena || !out) return -1;
    bool ae = env->opt.autoescape != VIAL_TPL_AUTOESCAPE_OFF;
    tpl_template *t = compile_source(env, "", "<template>", source, len, ae, &e);
    if (!t) {
        to_public(&e, err);
        return -1;
    }
    t->from_memory = true;
    env->active_renders++;
    int rc = render_template(env, t, ctx, extra, arena, out, err);
    env->active_renders--;
    free_template(t);
    if (env->active_renders == 0) free_retired(env);
    return rc;
}

/* ---- C callables' helpers ---- */

vial_value *vial_tpl_arg(const vial_tpl_call *call, size_t i, const char *kw) {
    if (i < call->nargs) return call->args[i];
    if (kw && call->kwargs) return vial_object_get(call->kwargs, kw);
    return NULL;
}

vial_value *vial_tpl_fail(vial_tpl_call *call, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(call->error, sizeof call->error, fmt, ap);
    va_end(ap);
    if (!call->error[0]) snprintf(call->error, sizeof call->error, "template function failed");
    return NULL;
}

bool vial_tpl_is_undefined(const vial_value *v) { return v && tv_kind(v) == TK_UNDEF; }

/* ---- error display ---- */

int vial_tpl_error_format(const vial_tpl_error *err, vial_buf *out) {
    const char *file = err->file[0] ? err->file : err->name[0] ? err->name : "<template>";
    if (err->line > 0)
        return vial_buf_printf(out, "%s:%d:%d: %s", file, err->line, err->column > 0 ? err->column : 1, err->message);
    return vial_buf_printf(out, "%s: %s", file, err->message);
}

int vial_tpl_excerpt(const char *source, size_t len, int line, int column, int context, vial_buf *out) {
    if (!source || line < 1) return -1;
    if (context < 0) context = 0;
    int first = line - context < 1 ? 1 : line - context, last = line + context;
    int cur = 1;
    size_t i = 0;
    while (i <= len && cur <= last) {
        size_t start = i;
        while (i < len && source[i] != '\n' && source[i] != '\r') i++;
        size_t end = i;
        if (i < len && source[i] == '\r' && i + 1 < len && source[i + 1] == '\n') i++;
        i++;
        if (cur >= first) {
            if (vial_buf_printf(out, "%s%5d | ", cur == line ? ">" : " ", cur) != 0) return -1;
            if (tb_append(out, source + start, end - start) != 0 || tb_putc(out, '\n') != 0) return -1;
            if (cur == line && column > 0) {
                if (tb_puts(out, "       | ") != 0) return -1;
                size_t off = 0;
                for (int c = 1; c < column && start + off < end; c++) {
                    uint32_t cp;
                    size_t k = vial_tv_next_cp(source + start + off, end - start - off, &cp);
                    if (tb_putc(out, cp == '\t' ? '\t' : ' ') != 0) return -1;
                    off += k;
                }
                if (tb_puts(out, "^\n") != 0) return -1;
            }
        }
        cur++;
        if (end == len) break;
    }
    return 0;
}

int vial_tpl_error_excerpt(vial_tpl_env *env, const vial_tpl_error *err, int context, vial_buf *out) {
    if (!env || !err || err->line < 1) return -1;
    long hit = cache_find(env, err->name, strlen(err->name));
    if (hit >= 0) {
        tpl_template *t = env->cache[hit].tmpl;
        return vial_tpl_excerpt(t->source, t->source_len, err->line, err->column, context, out);
    }
    for (size_t i = 0; i < env->nsources; i++)
        if (strcmp(env->sources[i].name, err->name) == 0)
            return vial_tpl_excerpt(env->sources[i].source, env->sources[i].len, err->line, err->column, context, out);
    if (err->file[0] && strcmp(err->file, "<template>") != 0) {
        size_t n;
        struct stat st;
        int e;
        char *src = read_file(err->file, &n, &st, &e);
        if (src) {
            int rc = vial_tpl_excerpt(src, n, err->line, err->column, context, out);
            free(src);
            return rc;
        }
    }
    return -1;
}
