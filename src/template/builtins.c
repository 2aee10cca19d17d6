/* builtins.c - the globals every template has: range, dict, lipsum,
 * cycler, joiner and namespace (Jinja2's DEFAULT_NAMESPACE).
 *
 * range is kept lazy (a start/stop/step triple) so `for i in range(1000)`
 * allocates nothing per item until someone asks for a list. lipsum is random
 * by nature; it follows Jinja2's recipe (sentences of words with commas and
 * full stops at random intervals) over a lorem-ipsum vocabulary, so its shape
 * matches Jinja2's but its words cannot. */
#include "template/tpl.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { B_RANGE, B_DICT, B_LIPSUM, B_CYCLER, B_JOINER, B_NAMESPACE };

#define BUILTIN(id, nm) {.h = {.base = {.type = VIAL_NULL, .as = {.s = {vial_tpl_marker, TK_FUNC}}}}, .fkind = FN_BUILTIN, .which = id, .name = nm}

static tpl_func builtin_objs[] = {
    BUILTIN(B_RANGE, "range"),   BUILTIN(B_DICT, "dict"),     BUILTIN(B_LIPSUM, "lipsum"),
    BUILTIN(B_CYCLER, "cycler"), BUILTIN(B_JOINER, "joiner"), BUILTIN(B_NAMESPACE, "namespace"),
};

vial_value *vial_tpl_builtin_global(tpl_render *r, const char *name, size_t len) {
    (void)r;
    for (size_t i = 0; i < sizeof builtin_objs / sizeof builtin_objs[0]; i++)
        if (strlen(builtin_objs[i].name) == len && memcmp(builtin_objs[i].name, name, len) == 0)
            return &builtin_objs[i].h.base;
    return NULL;
}

static bool int_arg(tpl_render *r, const tpl_node *site, const vial_value *v, int64_t *out) {
    if (v->type == VIAL_INT) {
        *out = v->as.i;
        return true;
    }
    if (v->type == VIAL_BOOL) {
        *out = v->as.b;
        return true;
    }
    if (tv_kind(v) == TK_UNDEF) {
        vial_tpl_undef_fail(r, site, v);
        return false;
    }
    vial_tpl_raise(r, site, "'%s' object cannot be interpreted as an integer", vial_tv_type_name(v));
    return false;
}

static vial_value *make_range(tpl_render *r, const tpl_node *site, tpl_args *a) {
    if (a->nkw) return vial_tpl_failv(r, site, "range() takes no keyword arguments");
    if (a->npos < 1 || a->npos > 3)
        return vial_tpl_failv(r, site, a->npos ? "range expected at most 3 arguments, got %zu" : "range expected at least 1 argument, got %zu", a->npos);
    int64_t v[3] = {0, 0, 1};
    for (size_t i = 0; i < a->npos; i++)
        if (!int_arg(r, site, a->pos[i], &v[i])) return NULL;
    tpl_range *rg = vial_tpl_obj_new(r->arena, sizeof *rg, TK_RANGE);
    if (!rg) return vial_tpl_oom(r, site);
    if (a->npos == 1) {
        rg->start = 0;
        rg->stop = v[0];
        rg->step = 1;
    } else {
        rg->start = v[0];
        rg->stop = v[1];
        rg->step = a->npos == 3 ? v[2] : 1;
        if (rg->step == 0) return vial_tpl_failv(r, site, "range() arg 3 must not be zero");
    }
    return &rg->h.base;
}

/* dict(mapping_or_pairs, **kwargs) */
static vial_value *make_dict(tpl_render *r, const tpl_node *site, tpl_args *a, const char *fname) {
    if (a->npos > 1) return vial_tpl_failv(r, site, "%s expected at most 1 argument, got %zu", fname, a->npos);
    vial_value *obj = vial_new_object(r->arena);
    if (!obj) return vial_tpl_oom(r, site);
    if (a->npos == 1) {
        vial_value *src = a->pos[0];
        int k = tv_kind(src);
        if (k == TK_OBJECT) {
            for (size_t i = 0; i < src->as.obj.len; i++)
                if (vial_object_set_ref(obj, src->as.obj.items[i].key, src->as.obj.items[i].key_len,
                                        src->as.obj.items[i].value) != 0)
                    return vial_tpl_oom(r, site);
        } else if (k == TK_NAMESPACE) {
            return vial_tpl_failv(r, site, "'Namespace' object is not iterable");
        } else {
            vial_value *list = vial_tv_list(r, site, src);
            if (!list) return NULL;
            for (size_t i = 0; i < list->as.arr.len; i++) {
                vial_value *pair = vial_tv_list(r, site, list->as.arr.items[i]);
                if (!pair) return NULL;
                if (pair->as.arr.len != 2)
                    return vial_tpl_failv(r, site,
                                     "dictionary update sequence element #%zu has length %zu; 2 is required", i,
                                     pair->as.arr.len);
                vial_value *key = vial_tv_to_str(r, site, pair->as.arr.items[0]);
                if (!key) return NULL;
                if (vial_object_set_ref(obj, key->as.s.ptr, key->as.s.len, pair->as.arr.items[1]) != 0)
                    return vial_tpl_oom(r, site);
            }
        }
    }
    for (size_t i = 0; i < a->nkw; i++)
        if (vial_object_set_ref(obj, a->kwnames[i].ptr, a->kwnames[i].len, a->kwvals[i]) != 0)
            return vial_tpl_oom(r, site);
    return obj;
}

/* A vocabulary for lipsum, from the classic lorem ipsum passage. */
static const char *const lorem_words[] = {
    "lorem",      "ipsum",    "dolor",     "sit",       "amet",     "consectetur", "adipiscing", "elit",
    "sed",        "do",       "eiusmod",   "tempor",    "incididunt", "ut",        "labore",     "et",
    "dolore",     "magna",    "aliqua",    "enim",      "ad",       "minim",       "veniam",     "quis",
    "nostrud",    "exercitation", "ullamco", "laboris", "nisi",     "aliquip",     "ex",         "ea",
    "commodo",    "consequat", "duis",     "aute",      "irure",    "in",          "reprehenderit", "voluptate",
    "velit",      "esse",     "cillum",    "fugiat",    "nulla",    "pariatur",    "excepteur",  "sint",
    "occaecat",   "cupidatat", "non",      "proident",  "sunt",     "culpa",       "qui",        "officia",
    "deserunt",   "mollit",   "anim",      "id",        "est",      "laborum",     "perspiciatis", "unde",
    "omnis",      "iste",     "natus",     "error",     "voluptatem", "accusantium", "doloremque", "laudantium",
    "totam",      "rem",      "aperiam",   "eaque",     "ipsa",     "quae",        "ab",         "illo",
    "inventore",  "veritatis", "quasi",    "architecto", "beatae",  "vitae",       "dicta",      "explicabo",
};

static uint64_t rng_state;

static uint64_t rng(void) {
    if (!rng_state) rng_state = (uint64_t)time(NULL) ^ ((uint64_t)(uintptr_t)&rng_state << 17) ^ 0x9E3779B97F4A7C15ull;
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* random integer in [lo, hi) like Python's randrange */
static int64_t randrange(int64_t lo, int64_t hi) {
    if (hi <= lo) return lo;
    return lo + (int64_t)(rng() % (uint64_t)(hi - lo));
}

size_t vial_tpl_random_index(size_t n);
size_t vial_tpl_random_index(size_t n) { return n ? (size_t)(rng() % n) : 0; }

vial_value *vial_tpl_lipsum(tpl_render *r, const tpl_node *site, int64_t n, bool html, int64_t min, int64_t max) {
    if (n > 10000 || max > 100000) return vial_tpl_failv(r, site, "lipsum() arguments too large");
    size_t nwords = sizeof lorem_words / sizeof lorem_words[0];
    vial_buf out;
    vial_tv_buf(r, &out);
    if (max <= min) return vial_tpl_failv(r, site, "empty range for randrange() (%lld, %lld, %lld)", (long long)min,
                                      (long long)max, (long long)(max - min));
    for (int64_t p = 0; p < n; p++) {
        vial_buf para;
        vial_tv_buf(r, &para);
        bool next_cap = true;
        int64_t last_comma = 0, last_fullstop = 0;
        const char *last = NULL;
        int64_t count = randrange(min, max);
        for (int64_t idx = 0; idx < count; idx++) {
            const char *word;
            do word = lorem_words[rng() % nwords];
            while (word == last);
            last = word;
            if (idx) tb_putc(&para, ' ');
            if (next_cap) {
                tb_putc(&para, word[0] - 32);
                tb_puts(&para, word + 1);
                next_cap = false;
            } else {
                tb_puts(&para, word);
            }
            if (idx - randrange(3, 8) > last_comma) {
                last_comma = idx;
                last_fullstop += 2;
                tb_putc(&para, ',');
            }
            if (idx - randrange(10, 20) > last_fullstop) {
                last_comma = last_fullstop = idx;
                tb_putc(&para, '.');
                next_cap = true;
            }
            if (para.len + out.len >= out.max) return vial_tpl_failv(r, site, "lipsum() output too large");
        }
        if (para.len && para.data[para.len - 1] == ',') para.data[para.len - 1] = '.';
        else if (!para.len || para.data[para.len - 1] != '.') tb_putc(&para, '.');
        int rc = 0;
        if (p) rc |= tb_puts(&out, html ? "\n" : "\n\n");
        if (html) rc |= tb_puts(&out, "<p>");
        if (html) rc |= vial_tv_escape_into(&out, para.data ? para.data : "", para.len);
        else rc |= tb_append(&out, para.data ? para.data : "", para.len);
        if (html) rc |= tb_puts(&out, "</p>");
        if (rc || para.len >= para.max) return vial_tpl_failv(r, site, "lipsum() output too large");
    }
    return vial_tv_buf_value(r, &out, html);
}

static vial_value *kwarg(tpl_args *a, const char *name) {
    for (size_t i = 0; i < a->nkw; i++)
        if (a->kwnames[i].len == strlen(name) && memcmp(a->kwnames[i].ptr, name, a->kwnames[i].len) == 0)
            return a->kwvals[i];
    return NULL;
}

vial_value *vial_tpl_call_builtin(tpl_render *r, const tpl_node *site, tpl_func *fn, tpl_args *a) {
    switch (fn->which) {
    case B_RANGE: return make_range(r, site, a);
    case B_DICT: return make_dict(r, site, a, "dict");
    case B_NAMESPACE: {
        vial_value *attrs = make_dict(r, site, a, "dict");
        if (!attrs) return NULL;
        tpl_ns *ns = vial_tpl_obj_new(r->arena, sizeof *ns, TK_NAMESPACE);
        if (!ns) return vial_tpl_oom(r, site);
        ns->attrs = attrs;
        return &ns->h.base;
    }
    case B_CYCLER: {
        if (a->nkw) return vial_tpl_failv(r, site, "Cycler.__init__() got an unexpected keyword argument '%.*s'",
                                     (int)a->kwnames[0].len, a->kwnames[0].ptr);
        if (!a->npos) return vial_tpl_failv(r, site, "at least one item has to be provided");
        tpl_cycler *c = vial_tpl_obj_new(r->arena, sizeof *c, TK_CYCLER);
        vial_value **items = vial_arena_alloc(r->arena, a->npos * sizeof *items);
        if (!c || !items) return vial_tpl_oom(r, site);
        memcpy(items, a->pos, a->npos * sizeof *items);
        c->items = items;
        c->n = a->npos;
        return &c->h.base;
    }
    case B_JOINER: {
        vial_value *sep = a->npos ? a->pos[0] : kwarg(a, "sep");
        if (a->npos > 1) return vial_tpl_failv(r, site, "Joiner.__init__() takes from 1 to 2 positional arguments");
        tpl_joiner *j = vial_tpl_obj_new(r->arena, sizeof *j, TK_JOINER);
        if (!j) return vial_tpl_oom(r, site);
        j->sep = sep ? sep : vial_new_str_ref(r->arena, ", ", 2);
        if (!j->sep) return vial_tpl_oom(r, site);
        return &j->h.base;
    }
    case B_LIPSUM: {
        static const char *const names[] = {"n", "html", "min", "max"};
        vial_value *p[4] = {NULL, NULL, NULL, NULL};
        if (a->npos > 4) return vial_tpl_failv(r, site, "generate_lorem_ipsum() takes from 0 to 4 positional arguments");
        for (size_t i = 0; i < a->npos; i++) p[i] = a->pos[i];
        for (size_t k = 0; k < a->nkw; k++) {
            int slot = -1;
            for (int i = 0; i < 4; i++)
                if (a->kwnames[k].len == strlen(names[i]) && memcmp(a->kwnames[k].ptr, names[i], a->kwnames[k].len) == 0)
                    slot = i;
            if (slot < 0)
                return vial_tpl_failv(r, site, "generate_lorem_ipsum() got an unexpected keyword argument '%.*s'",
                                 (int)a->kwnames[k].len, a->kwnames[k].ptr);
            p[slot] = a->kwvals[k];
        }
        int64_t n = 5, mn = 20, mx = 100;
        if (p[0] && !int_arg(r, site, p[0], &n)) return NULL;
        if (p[2] && !int_arg(r, site, p[2], &mn)) return NULL;
        if (p[3] && !int_arg(r, site, p[3], &mx)) return NULL;
        bool html = true;
        if (p[1]) {
            int t = vial_tv_truthy(r, site, p[1]);
            if (t < 0) return NULL;
            html = t;
        }
        return vial_tpl_lipsum(r, site, n, html, mn, mx);
    }
    }
    return vial_tpl_failv(r, site, "unknown builtin");
}
