/* filters.c - Jinja2's builtin filters.
 *
 * Each filter follows its Jinja2 3.1 definition step by step, because the
 * output has to be byte-identical: `title` splits at -, whitespace and
 * opening brackets; `truncate` allows a leeway of 5 and cuts at the last
 * space; `indent` drops a trailing newline; `round` rounds half to even on
 * the exact binary value (Python's round), `filesizeformat` uses decimal
 * units unless binary=true; `join`, `replace`, `urlize` and `xmlattr` return
 * Markup only when the template autoescapes; `tojson` is json.dumps with
 * sorted keys and <, >, &, ' escaped; `wordwrap` is textwrap's algorithm;
 * `pprint` is pprint.pformat. Filters that return generators in Jinja2
 * (map, select, reject, unique, batch, slice, reverse) return lists here:
 * they print differently only when printed without |list or |join, where
 * Jinja2 prints an object address. */
#include "template/tpl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define F(nm) static vial_value *nm(tpl_render *r, const tpl_node *site, vial_value *v, vial_value **p, tpl_args *raw)
#define UNUSED (void)r, (void)site, (void)v, (void)p, (void)raw

vial_value *vial_tpl_str_capitalize(tpl_render *r, const tpl_node *site, vial_value *self);
vial_value *vial_tpl_str_strip(tpl_render *r, const tpl_node *site, vial_value *self, vial_value *chars, int which);
vial_value *vial_tpl_str_split(tpl_render *r, const tpl_node *site, vial_value *self, vial_value *sep, int64_t maxsplit,
                          bool right);
vial_value *vial_tpl_str_splitlines(tpl_render *r, const tpl_node *site, vial_value *self, bool keepends);
vial_value *vial_tpl_str_replace(tpl_render *r, const tpl_node *site, vial_value *self, vial_value *old, vial_value *new_,
                            int64_t count, bool safe);
vial_value *vial_tpl_str_pad(tpl_render *r, const tpl_node *site, vial_value *self, int64_t width, vial_value *fill,
                        int where);
vial_value *vial_tpl_dict_items(tpl_render *r, vial_value *self);
int vial_tpl_striptags(tpl_render *r, vial_buf *out, const char *s, size_t n);
size_t vial_tpl_random_index(size_t n);
vial_value *vial_tpl_str_case(tpl_render *r, const tpl_node *site, vial_value *self, bool upper);

/* ---- helpers ---- */

static bool truthy_arg(tpl_render *r, const tpl_node *site, vial_value *v, bool dflt, int *out) {
    if (!v) {
        *out = dflt;
        return true;
    }
    int t = vial_tv_truthy(r, site, v);
    if (t < 0) return false;
    *out = t;
    return true;
}

static bool int_arg(tpl_render *r, const tpl_node *site, vial_value *v, int64_t dflt, int64_t *out) {
    if (!v || tv_kind(v) == TK_NULL) {
        *out = dflt;
        return true;
    }
    if (v->type == VIAL_INT) return *out = v->as.i, true;
    if (v->type == VIAL_BOOL) return *out = v->as.b, true;
    if (tv_kind(v) == TK_UNDEF) {
        vial_tpl_undef_fail(r, site, v);
        return false;
    }
    vial_tpl_raise(r, site, "'%s' object cannot be interpreted as an integer", vial_tv_type_name(v));
    return false;
}

/* Markupsafe's soft_str: strings (Markup included) as they are, else str(). */
static vial_value *soft_str(tpl_render *r, const tpl_node *site, vial_value *v) { return vial_tv_to_str(r, site, v); }

static vial_value *new_list(tpl_render *r, const tpl_node *site) {
    vial_value *l = vial_new_array(r->arena);
    return l ? l : vial_tpl_oom(r, site);
}

static int push(tpl_render *r, const tpl_node *site, vial_value *list, vial_value *v) {
    if (!v) return -1;
    if (vial_array_push(list, v) != 0) {
        vial_tpl_oom(r, site);
        return -1;
    }
    return 0;
}

static vial_value *copy_as_list(tpl_render *r, const tpl_node *site, vial_value *v) {
    vial_value *src = vial_tv_list(r, site, v);
    if (!src) return NULL;
    vial_value *out = new_list(r, site);
    if (!out) return NULL;
    for (size_t i = 0; i < src->as.arr.len; i++)
        if (push(r, site, out, src->as.arr.items[i]) != 0) return NULL;
    return out;
}

/* ---- attribute getters (make_attrgetter) ---- */

typedef struct attr_path {
    vial_value **parts;
    size_t n;
    uint32_t hint; /* where the first part was last found in a dict item */
} attr_path;

static bool parse_attr(tpl_render *r, const tpl_node *site, vial_value *attr, attr_path *ap) {
    ap->n = 0;
    ap->parts = NULL;
    ap->hint = 0;
    if (!attr || tv_kind(attr) == TK_NULL) return true;
    if (attr->type != VIAL_STRING) {
        ap->parts = vial_arena_alloc(r->arena, sizeof *ap->parts);
        if (!ap->parts) return vial_tpl_oom(r, site), false;
        ap->parts[0] = attr;
        ap->n = 1;
        return true;
    }
    size_t count = 1;
    for (size_t i = 0; i < attr->as.s.len; i++) count += attr->as.s.ptr[i] == '.';
    ap->parts = vial_arena_alloc(r->arena, count * sizeof *ap->parts);
    if (!ap->parts) return vial_tpl_oom(r, site), false;
    const char *s = attr->as.s.ptr;
    size_t n = attr->as.s.len, st = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '.') continue;
        bool digits = i > st;
        for (size_t k = st; k < i; k++)
            if (s[k] < '0' || s[k] > '9') digits = false;
        vial_value *part;
        if (digits) {
            int64_t idx = 0;
            for (size_t k = st; k < i && idx < INT64_MAX / 10 - 10; k++) idx = idx * 10 + (s[k] - '0');
            part = vial_tv_int(r, idx);
        } else {
            part = vial_new_str_ref(r->arena, s + st, i - st);
            if (!part) vial_tpl_oom(r, site);
        }
        if (!part) return false;
        ap->parts[ap->n++] = part;
        st = i + 1;
    }
    return true;
}

static vial_value *lower_if_str(tpl_render *r, const tpl_node *site, vial_value *v) {
    if (v->type != VIAL_STRING) return v;
    return vial_tpl_str_case(r, site, v, false);
}

static vial_value *get_path(tpl_render *r, const tpl_node *site, vial_value *item, attr_path *ap,
                            vial_value *dflt, bool lower) {
    for (size_t i = 0; i < ap->n; i++) {
        vial_value *part = ap->parts[i], *found;
        /* a dict item with the key: what getitem returns first, found without hashing */
        if (i == 0 && item->type == VIAL_OBJECT && part->type == VIAL_STRING &&
            (found = tv_object_get_hinted(item, part->as.s.ptr, part->as.s.len, &ap->hint)))
            item = found;
        else
            item = vial_tpl_getitem(r, site, item, part);
        if (!item) return NULL;
        if (dflt && tv_kind(dflt) != TK_NULL && tv_kind(item) == TK_UNDEF) item = dflt;
    }
    if (lower) return lower_if_str(r, site, item);
    return item;
}

/* ---- sorting (stable, Python's comparisons) ---- */

typedef struct sort_ctx {
    tpl_render *r;
    const tpl_node *site;
    bool reverse, failed;
} sort_ctx;

static int cmp_keys(sort_ctx *c, vial_value *a, vial_value *b) {
    if (c->failed) return 0;
    int x = c->reverse ? vial_tv_cmp(c->r, c->site, b, a) : vial_tv_cmp(c->r, c->site, a, b);
    if (x == -2) {
        c->failed = true;
        return 0;
    }
    return x;
}

static void merge_sort(sort_ctx *c, vial_value **items, vial_value **keys, vial_value **ti, vial_value **tk, size_t n) {
    if (n < 2 || c->failed) return;
    size_t h = n / 2;
    merge_sort(c, items, keys, ti, tk, h);
    merge_sort(c, items + h, keys + h, ti, tk, n - h);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n) {
        if (cmp_keys(c, keys[j], keys[i]) < 0) {
            ti[k] = items[j];
            tk[k++] = keys[j++];
        } else {
            ti[k] = items[i];
            tk[k++] = keys[i++];
        }
    }
    while (i < h) ti[k] = items[i], tk[k++] = keys[i++];
    while (j < n) ti[k] = items[j], tk[k++] = keys[j++];
    memcpy(items, ti, n * sizeof *items);
    memcpy(keys, tk, n * sizeof *keys);
}

int vial_tpl_sort_values(tpl_render *r, const tpl_node *site, vial_value **items, vial_value **keys, size_t n, bool reverse);
int vial_tpl_sort_values(tpl_render *r, const tpl_node *site, vial_value **items, vial_value **keys, size_t n, bool reverse) {
    if (n < 2) return 0;
    vial_value **k = keys;
    if (!k) {
        k = vial_arena_alloc(r->arena, n * sizeof *k);
        if (!k) return vial_tpl_oom(r, site), -1;
        memcpy(k, items, n * sizeof *k);
    }
    vial_value **ti = vial_arena_alloc(r->arena, n * sizeof *ti), **tk = vial_arena_alloc(r->arena, n * sizeof *tk);
    if (!ti || !tk) return vial_tpl_oom(r, site), -1;
    sort_ctx c = {r, site, reverse, false};
    merge_sort(&c, items, k, ti, tk, n);
    return c.failed ? -1 : 0;
}

/* ---- string filters ---- */

F(f_upper) {
    UNUSED;
    vial_value *s = soft_str(r, site, v);
    return s ? vial_tpl_str_case(r, site, s, true) : NULL;
}

F(f_lower) {
    UNUSED;
    vial_value *s = soft_str(r, site, v);
    return s ? vial_tpl_str_case(r, site, s, false) : NULL;
}

F(f_capitalize) {
    UNUSED;
    vial_value *s = soft_str(r, site, v);
    return s ? vial_tpl_str_capitalize(r, site, s) : NULL;
}

static bool title_sep(uint32_t cp) { return cp == '-' || cp == '(' || cp == '{' || cp == '[' || cp == '<' || vial_tv_isspace_cp(cp); }

/* "".join(item[0].upper() + item[1:].lower() for item in re.split(r"([-\s({\[<]+)", s) if item) */
F(f_title) {
    UNUSED;
    vial_value *s = soft_str(r, site, v);
    if (!s) return NULL;
    vial_buf b;
    vial_tv_buf(r, &b);
    const char *str = s->as.s.ptr;
    size_t n = s->as.s.len;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        vial_tv_next_cp(str + i, n - i, &cp);
        bool sep = title_sep(cp);
        size_t j = i;
        while (j < n) {
            size_t k = vial_tv_next_cp(str + j, n - j, &cp);
            if (title_sep(cp) != sep) break;
            j += k;
        }
        if (vial_tv_case_into(&b, str + i, j - i, TV_UPPER_FIRST) != 0) return vial_tpl_failv(r, site, "string too large");
        i = j;
    }
    /* re.split() returns plain strings: the result is never Markup */
    return vial_tv_buf_value(r, &b, false);
}

F(f_trim) {
    UNUSED;
    vial_value *s = soft_str(r, site, v);
    if (!s) return NULL;
    vial_value *chars = p[0];
    if (chars && tv_is_safe(s) && chars->type == VIAL_STRING && !tv_is_safe(chars)) chars = vial_tv_escape(r, site, chars);
    if (chars && tv_kind(chars) == TK_UNDEF) chars = NULL;
    return vial_tpl_str_strip(r, site, s, chars, 3);
}

F(f_center) {
    UNUSED;
    vial_value *s = soft_str(r, site, v);
    if (!s) return NULL;
    int64_t w;
    if (!int_arg(r, site, p[0], 80, &w)) return NULL;
    return vial_tpl_str_pad(r, site, s, w, NULL, 0);
}

F(f_string) {
    UNUSED;
    return soft_str(r, site, v);
}

F(f_safe) {
    UNUSED;
    if (tv_is_safe(v)) return v;
    vial_value *s = vial_tv_to_str(r, site, v);
    if (!s) return NULL;
    vial_value *m = vial_new_str_ref(r->arena, s->as.s.ptr, s->as.s.len);
    if (!m) return vial_tpl_oom(r, site);
    m->flags |= VIAL_FLAG_SAFE;
    return m;
}

F(f_escape) {
    UNUSED;
    return vial_tv_escape(r, site, v);
}

F(f_forceescape) {
    UNUSED;
    vial_value *s = vial_tv_to_str(r, site, v);
    if (!s) return NULL;
    vial_buf b;
    vial_tv_buf(r, &b);
    if (vial_tv_escape_into(&b, s->as.s.ptr, s->as.s.len) != 0) return vial_tpl_failv(r, site, "string too large");
    return vial_tv_buf_value(r, &b, true);
}

F(f_striptags) {
    UNUSED;
    vial_value *s = vial_tv_to_str(r, site, v);
    if (!s) return NULL;
    vial_buf b;
    vial_tv_buf(r, &b);
    if (vial_tpl_striptags(r, &b, s->as.s.ptr, s->as.s.len) != 0) return vial_tpl_failv(r, site, "string too large");
    return vial_tv_buf_value(r, &b, false);
}

F(f_replace) {
    UNUSED;
    int64_t count = -1;
    if (p[2] && !int_arg(r, site, p[2], -1, &count)) return NULL;
    vial_value *old = p[0], *nw = p[1];
    if (!r->autoescape) {
        vial_value *s = vial_tv_to_plain_str(r, site, v), *o = vial_tv_to_plain_str(r, site, old), *n = vial_tv_to_plain_str(r, site, nw);
        if (!s || !o || !n) return NULL;
        return vial_tpl_str_replace(r, site, s, o, n, count, false);
    }
    vial_value *s;
    if (tv_is_safe(old) || (tv_is_safe(nw) && !tv_is_safe(v)))
        s = vial_tv_escape(r, site, v);
    else
        s = soft_str(r, site, v);
    if (!s) return NULL;
    vial_value *o = soft_str(r, site, old), *n = soft_str(r, site, nw);
    if (!o || !n) return NULL;
    if (tv_is_safe(s)) {
        /* Markup.replace escapes its arguments */
        o = vial_tv_escape(r, site, o);
        n = vial_tv_escape(r, site, n);
        if (!o || !n) return NULL;
    }
    return vial_tpl_str_replace(r, site, s, o, n, count, tv_is_safe(s));
}

F(f_truncate) {
    UNUSED;
    int64_t length, leeway;
    int killwords;
    if (!int_arg(r, site, p[0], 255, &length) || !truthy_arg(r, site, p[1], false, &killwords) ||
        !int_arg(r, site, p[3], 5, &leeway))
        return NULL;
    vial_value *end = p[2] ? p[2] : vial_new_str_ref(r->arena, "...", 3);
    if (!end) return vial_tpl_oom(r, site);
    int64_t endlen = vial_tv_len(r, site, end);
    if (endlen < 0) return NULL;
    if (length < endlen) return vial_tpl_failv(r, site, "expected length >= %lld, got %lld", (long long)endlen, (long long)length);
    if (leeway < 0) return vial_tpl_failv(r, site, "expected leeway >= 0, got %lld", (long long)leeway);
    /* do_truncate works on anything with a len() until it has to cut */
    int64_t len = vial_tv_len(r, site, v);
    if (len < 0) return NULL;
    if (len <= length + leeway) return v;
    if (v->type != VIAL_STRING) {
        if (killwords) return vial_tpl_failv(r, site, "can only concatenate %s (not \"str\") to %s", vial_tv_type_name(v), vial_tv_type_name(v));
        return vial_tpl_failv(r, site, "'%s' object has no attribute 'rsplit'", vial_tv_type_name(v));
    }
    size_t cut = vial_tv_cp_offset(v->as.s.ptr, v->as.s.len, (size_t)(length - endlen));
    vial_value *head = vial_new_str_ref(r->arena, v->as.s.ptr, cut);
    if (!head) return vial_tpl_oom(r, site);
    head->flags = v->flags & VIAL_FLAG_SAFE;
    if (!killwords) {
        const char *sp = NULL;
        for (size_t i = cut; i > 0; i--)
            if (head->as.s.ptr[i - 1] == ' ') {
                sp = head->as.s.ptr + i - 1;
                break;
            }
        if (sp) head->as.s.len = (size_t)(sp - head->as.s.ptr);
    }
    return vial_tv_binop(r, site, OP_ADD, head, end);
}

F(f_wordcount) {
    UNUSED;
    vial_value *s = soft_str(r, site, v);
    if (!s) return NULL;
    int64_t count = 0;
    bool in_word = false;
    for (size_t i = 0; i < s->as.s.len;) {
        uint32_t cp;
        i += vial_tv_next_cp(s->as.s.ptr + i, s->as.s.len - i, &cp);
        bool w = cp == '_' || vial_tv_isalnum_cp(cp);
        if (w && !in_word) count++;
        in_word = w;
    }
    return vial_tv_int(r, count);
}

F(f_indent) {
    UNUSED;
    int first, blank;
    if (!truthy_arg(r, site, p[1], false, &first) || !truthy_arg(r, site, p[2], false, &blank)) return NULL;
    vial_value *ind;
    if (p[0] && p[0]->type == VIAL_STRING) {
        ind = p[0];
    } else {
        int64_t w;
        if (!int_arg(r, site, p[0], 4, &w)) return NULL;
        if (w < 0) w = 0;
        if (w > 10000) return vial_tpl_failv(r, site, "indent width too large");
        char *spaces = vial_arena_alloc(r->arena, (size_t)w + 1);
        if (!spaces) return vial_tpl_oom(r, site);
        memset(spaces, ' ', (size_t)w);
        spaces[w] = 0;
        ind = vial_new_str_ref(r->arena, spaces, (size_t)w);
        if (!ind) return vial_tpl_oom(r, site);
    }
    if (v->type != VIAL_STRING) {
        /* s += "\n" then s.splitlines(): a list gets past the first step in Python */
        if (v->type == VIAL_ARRAY && !tv_is_tuple(v))
            return vial_tpl_failv(r, site, "'list' object has no attribute 'splitlines'");
        if (tv_is_tuple(v)) return vial_tpl_failv(r, site, "can only concatenate tuple (not \"str\") to tuple");
        return vial_tpl_failv(r, site, "unsupported operand type(s) for +=: '%s' and 'str'", vial_tv_type_name(v));
    }
    bool markup = tv_is_safe(v);
    /* s += "\n"; lines = s.splitlines() */
    vial_buf sb;
    vial_tv_buf(r, &sb);
    if (tb_append(&sb, v->as.s.ptr, v->as.s.len) != 0 || tb_putc(&sb, '\n') != 0)
        return vial_tpl_failv(r, site, "string too large");
    vial_value *s = vial_tv_buf_value(r, &sb, false);
    vial_value *lines = s ? vial_tpl_str_splitlines(r, site, s, false) : NULL;
    if (!lines) return NULL;
    /* a Markup indent string is not escaped; a plain one added to Markup lines is */
    vial_buf indb;
    const char *is = ind->as.s.ptr;
    size_t il = ind->as.s.len;
    if (markup && !tv_is_safe(ind)) {
        vial_tv_buf(r, &indb);
        vial_tv_escape_into(&indb, ind->as.s.ptr, ind->as.s.len);
        is = indb.data ? indb.data : "";
        il = indb.len;
    }
    vial_buf b;
    vial_tv_buf(r, &b);
    size_t n = lines->as.arr.len;
    for (size_t i = 0; i < n; i++) {
        vial_value *line = lines->as.arr.items[i];
        if (i) tb_putc(&b, '\n');
        bool add = blank ? (i > 0) : (i > 0 && line->as.s.len > 0);
        if (i == 0 && first) add = true;
        if (add && tb_append(&b, is, il) != 0) return vial_tpl_failv(r, site, "string too large");
        if (tb_append(&b, line->as.s.ptr, line->as.s.len) != 0) return vial_tpl_failv(r, site, "string too large");
    }
    return vial_tv_buf_value(r, &b, markup);
}

/* ---- wordwrap: Python's textwrap ---- */

static bool ascii_ws(uint32_t cp) { return cp == ' ' || cp == '\t' || cp == '\n' || cp == 0x0b || cp == 0x0c || cp == '\r'; }
static bool word_char(uint32_t cp) { return cp == '_' || vial_tv_isalnum_cp(cp); }
static bool word_punct(uint32_t cp) {
    return word_char(cp) || cp == '!' || cp == '"' || cp == '\'' || cp == '&' || cp == '.' || cp == ',' || cp == '?';
}
static bool letter(uint32_t cp) { return cp == '_' || (word_char(cp) && !vial_tv_isdigit_cp(cp)); }

typedef struct cps {
    uint32_t *c;
    size_t n;
} cps;

static bool to_cps(tpl_render *r, const char *s, size_t n, cps *out) {
    out->c = vial_arena_alloc(r->arena, (n + 1) * sizeof *out->c);
    if (!out->c) return false;
    out->n = 0;
    for (size_t i = 0; i < n;) i += vial_tv_next_cp(s + i, n - i, &out->c[out->n++]);
    return true;
}

static bool dashes_then_word(const cps *t, size_t j) {
    size_t k = j;
    while (k < t->n && t->c[k] == '-') k++;
    return k - j >= 2 && k < t->n && word_char(t->c[k]);
}

/* TextWrapper._split with break_on_hyphens: returns chunk boundaries */
static size_t next_chunk(const cps *t, size_t i, bool hyphens) {
    if (ascii_ws(t->c[i])) {
        size_t j = i;
        while (j < t->n && ascii_ws(t->c[j])) j++;
        return j;
    }
    if (!hyphens) {
        size_t j = i;
        while (j < t->n && !ascii_ws(t->c[j])) j++;
        return j;
    }
    if (t->c[i] == '-' && i > 0 && word_punct(t->c[i - 1]) && dashes_then_word(t, i)) {
        size_t j = i;
        while (j < t->n && t->c[j] == '-') j++;
        return j;
    }
    for (size_t j = i + 1;; j++) {
        /* the word so far is t[i..j); try the alternatives at j */
        if (j < t->n && t->c[j] == '-') {
            bool lb = (j >= 2 && letter(t->c[j - 2]) && letter(t->c[j - 1])) ||
                      (j >= 3 && letter(t->c[j - 3]) && t->c[j - 2] == '-' && letter(t->c[j - 1]));
            if (lb && j + 1 < t->n && letter(t->c[j + 1])) return j + 1;
            if (lb && j + 2 < t->n && t->c[j + 1] == '-' && letter(t->c[j + 2])) return j + 1;
        }
        if (j >= t->n || ascii_ws(t->c[j])) return j;
        if (word_punct(t->c[j - 1]) && dashes_then_word(t, j)) return j;
    }
}

static int put_cps(vial_buf *b, const uint32_t *c, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (vial_tv_put_cp(b, c[i]) != 0) return -1;
    return 0;
}

static bool all_py_space(const uint32_t *c, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!vial_tv_isspace_cp(c[i])) return false;
    return true;
}

typedef struct chunk {
    size_t start, len;
} chunk;

static int wrap_line(tpl_render *r, const tpl_node *site, vial_buf *out, bool *first_line, const cps *t, int64_t width,
                     bool break_long, bool hyphens, const vial_value *wrapstring) {
    chunk *ch = vial_arena_alloc(r->arena, (t->n + 1) * sizeof *ch);
    if (!ch) return vial_tpl_oom(r, site), -1;
    size_t nch = 0;
    for (size_t i = 0; i < t->n;) {
        size_t j = next_chunk(t, i, hyphens);
        ch[nch++] = (chunk){i, j - i};
        i = j;
    }
    /* chunks are consumed from the front; ch[next] is Python's chunks[-1] */
    size_t next = 0;
    bool any_line = false;
    chunk *cur = vial_arena_alloc(r->arena, (nch * 2 + 2) * sizeof *cur);
    if (!cur) return vial_tpl_oom(r, site), -1;
    while (next < nch) {
        size_t ncur = 0;
        int64_t cur_len = 0;
        if (any_line && all_py_space(t->c + ch[next].start, ch[next].len)) next++;
        while (next < nch) {
            int64_t l = (int64_t)ch[next].len;
            if (cur_len + l <= width) {
                cur[ncur++] = ch[next++];
                cur_len += l;
            } else {
                break;
            }
        }
        if (next < nch && (int64_t)ch[next].len > width) {
            int64_t space_left = width < 1 ? 1 : width - cur_len;
            if (break_long) {
                int64_t end = space_left;
                chunk c = ch[next];
                if (hyphens && (int64_t)c.len > space_left) {
                    int64_t hy = -1;
                    for (int64_t k = space_left - 1; k >= 0; k--)
                        if (t->c[c.start + (size_t)k] == '-') {
                            hy = k;
                            break;
                        }
                    if (hy > 0) {
                        bool non_dash = false;
                        for (int64_t k = 0; k < hy; k++)
                            if (t->c[c.start + (size_t)k] != '-') non_dash = true;
                        if (non_dash) end = hy + 1;
                    }
                }
                if (end > (int64_t)c.len) end = (int64_t)c.len;
                cur[ncur++] = (chunk){c.start, (size_t)end};
                ch[next].start += (size_t)end;
                ch[next].len -= (size_t)end;
            } else if (!ncur) {
                cur[ncur++] = ch[next++];
            }
            cur_len = 0;
            for (size_t k = 0; k < ncur; k++) cur_len += (int64_t)cur[k].len;
        }
        if (ncur && all_py_space(t->c + cur[ncur - 1].start, cur[ncur - 1].len)) ncur--;
        if (ncur) {
            if (!*first_line && tb_append(out, wrapstring->as.s.ptr, wrapstring->as.s.len) != 0) return -1;
            *first_line = false;
            for (size_t k = 0; k < ncur; k++)
                if (put_cps(out, t->c + cur[k].start, cur[k].len) != 0) return -1;
            any_line = true;
        }
        if (next < nch && ch[next].len == 0) next++;
    }
    return 0;
}

F(f_wordwrap) {
    UNUSED;
    int64_t width;
    int break_long, hyphens;
    if (!int_arg(r, site, p[0], 79, &width) || !truthy_arg(r, site, p[1], true, &break_long) ||
        !truthy_arg(r, site, p[3], true, &hyphens))
        return NULL;
    vial_value *ws = p[2] && tv_kind(p[2]) != TK_NULL ? p[2] : vial_new_str_ref(r->arena, "\n", 1);
    if (!ws) return vial_tpl_oom(r, site);
    if (ws->type != VIAL_STRING) return vial_tpl_failv(r, site, "wrapstring must be a string");
    if (v->type != VIAL_STRING) return vial_tpl_failv(r, site, "'%s' object has no attribute 'splitlines'", vial_tv_type_name(v));
    if (width <= 0) return vial_tpl_failv(r, site, "invalid width %lld (must be > 0)", (long long)width);
    vial_value *lines = vial_tpl_str_splitlines(r, site, v, false);
    if (!lines) return NULL;
    vial_buf b;
    vial_tv_buf(r, &b);
    for (size_t i = 0; i < lines->as.arr.len; i++) {
        vial_value *line = lines->as.arr.items[i];
        if (i && tb_append(&b, ws->as.s.ptr, ws->as.s.len) != 0) return vial_tpl_failv(r, site, "string too large");
        cps t;
        if (!to_cps(r, line->as.s.ptr, line->as.s.len, &t)) return vial_tpl_oom(r, site);
        bool first = true;
        if (wrap_line(r, site, &b, &first, &t, width, break_long, hyphens, ws) != 0)
            return r->failed ? NULL : vial_tpl_failv(r, site, "string too large");
    }
    return vial_tv_buf_value(r, &b, false);
}

/* ---- urlize ---- */

static bool wchar(uint32_t cp) { return cp == '_' || vial_tv_isalnum_cp(cp); }
static bool host_char(uint32_t cp) { return wchar(cp) || cp == '%' || cp == '-'; }
static bool alpha_ascii(uint32_t cp) { return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z'; }
static bool hexd(uint32_t cp) { return (cp >= '0' && cp <= '9') || ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'f'); }

static bool ieq(const cps *t, size_t at, const char *lit) {
    size_t n = strlen(lit);
    if (at + n > t->n) return false;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = t->c[at + i];
        if (c >= 0x80 || ((c | 0x20) != (uint32_t)(lit[i] | 0x20) && c != (uint32_t)lit[i])) return false;
        if (alpha_ascii((uint32_t)lit[i]) ? (c | 0x20) != (uint32_t)(lit[i] | 0x20) : c != (uint32_t)lit[i]) return false;
    }
    return true;
}

/* (?::\d{1,5})?(?:[/?#]\S*)?$ from position i */
static bool port_path_end(const cps *t, size_t i) {
    if (i < t->n && t->c[i] == ':') {
        size_t j = i + 1;
        while (j < t->n && j - i - 1 < 6 && t->c[j] >= '0' && t->c[j] <= '9') j++;
        size_t nd = j - i - 1;
        if (nd >= 1 && nd <= 5) {
            if (j == t->n) return true;
            if (t->c[j] == '/' || t->c[j] == '?' || t->c[j] == '#') return true; /* \S* to the end: no spaces in a word */
        }
        return false;
    }
    if (i == t->n) return true;
    return t->c[i] == '/' || t->c[i] == '?' || t->c[i] == '#';
}

static size_t host_run(const cps *t, size_t i) {
    while (i < t->n && (host_char(t->c[i]) || t->c[i] == '.')) i++;
    return i;
}

static bool http_alt1(const cps *t) {
    size_t i;
    if (ieq(t, 0, "https://")) i = 8;
    else if (ieq(t, 0, "http://")) i = 7;
    else if (ieq(t, 0, "www.")) i = 4;
    else return false;
    size_t e = host_run(t, i);
    if (e == i) return false;
    /* labels separated by single dots; the last one is the TLD */
    size_t last_dot = SIZE_MAX;
    for (size_t k = i; k < e; k++) {
        if (t->c[k] == '.') {
            if (k == i || t->c[k - 1] == '.') return false;
            last_dot = k;
        }
    }
    size_t ts = last_dot == SIZE_MAX ? i : last_dot + 1;
    size_t tl = e - ts;
    bool tld_ok = false;
    if (tl >= 2 && tl <= 63) {
        tld_ok = true;
        for (size_t k = ts; k < e; k++)
            if (!alpha_ascii(t->c[k])) tld_ok = false;
    }
    if (!tld_ok && tl >= 6 && tl <= 63 && ieq(t, ts, "xn--")) {
        tld_ok = true;
        for (size_t k = ts + 4; k < e; k++)
            if (!(wchar(t->c[k]) || t->c[k] == '%')) tld_ok = false;
    }
    if (!tld_ok) return false;
    return port_path_end(t, e);
}

static bool http_alt2(const cps *t) {
    size_t e = host_run(t, 0);
    if (!e) return false;
    size_t last_dot = SIZE_MAX;
    for (size_t k = 0; k < e; k++)
        if (t->c[k] == '.') last_dot = k;
    if (last_dot == SIZE_MAX) return false;
    static const char *tlds[] = {"com", "net", "int", "edu", "gov", "org", "info", "mil"};
    size_t ts = last_dot + 1;
    bool tld_ok = false;
    for (size_t k = 0; k < 8; k++)
        if (e - ts == strlen(tlds[k]) && ieq(t, ts, tlds[k])) tld_ok = true;
    if (!tld_ok) return false;
    /* ([\w%-]{2,63}\.)+ before it */
    size_t st = 0;
    for (size_t k = 0; k <= last_dot; k++) {
        if (t->c[k] != '.') continue;
        size_t ll = k - st;
        if (ll < 2 || ll > 63) return false;
        st = k + 1;
    }
    return port_path_end(t, e);
}

/* (\[([\da-f]{0,4}:){2}([\da-f]{0,4}:?){1,6}]) with backtracking */
static bool v6_tail(const cps *t, size_t i, int reps) {
    if (reps >= 1 && i < t->n && t->c[i] == ']') return true;
    if (reps == 6) return false;
    size_t j = i;
    for (int d = 0; d <= 4; d++) {
        if (d > 0) {
            if (j >= t->n || !hexd(t->c[j])) break;
            j++;
        }
        /* group of d hex digits, optional colon; an empty group needs the colon to progress */
        if (j < t->n && t->c[j] == ':' && v6_tail(t, j + 1, reps + 1)) return true;
        if (d > 0 && v6_tail(t, j, reps + 1)) return true;
    }
    return false;
}

static bool v6_head(const cps *t, size_t i, int reps) {
    if (reps == 2) return v6_tail(t, i, 0);
    size_t j = i;
    for (int d = 0; d <= 4; d++) {
        if (d > 0) {
            if (j >= t->n || !hexd(t->c[j])) break;
            j++;
        }
        if (j < t->n && t->c[j] == ':' && v6_head(t, j + 1, reps + 1)) return true;
    }
    return false;
}

static bool http_alt3(const cps *t) {
    size_t i;
    if (ieq(t, 0, "https://")) i = 8;
    else if (ieq(t, 0, "http://")) i = 7;
    else return false;
    /* IPv4 */
    size_t j = i;
    bool ok = true;
    for (int g = 0; g < 4 && ok; g++) {
        if (g) {
            if (j < t->n && t->c[j] == '.') j++;
            else ok = false;
        }
        size_t d = 0;
        while (ok && j < t->n && d < 3 && t->c[j] >= '0' && t->c[j] <= '9') j++, d++;
        if (!d) ok = false;
    }
    if (ok && port_path_end(t, j)) return true;
    /* IPv6 */
    if (i < t->n && t->c[i] == '[') {
        for (size_t e = i + 1; e < t->n; e++)
            if (t->c[e] == ']') {
                cps sub = {t->c, e + 1};
                if (v6_head(&sub, i + 1, 0) && port_path_end(t, e + 1)) return true;
            }
    }
    return false;
}

static bool http_match(const cps *t) { return http_alt1(t) || http_alt2(t) || http_alt3(t); }

/* ^\S+@\w[\w.-]*\.\w+$ */
static bool email_match(const cps *t, size_t from) {
    for (size_t at = t->n; at > from + 1; at--) {
        if (t->c[at - 1] != '@') continue;
        size_t d = at; /* domain start */
        if (d >= t->n || !wchar(t->c[d])) continue;
        bool ok = true;
        size_t last_dot = SIZE_MAX;
        for (size_t k = d; k < t->n; k++) {
            if (t->c[k] == '.') last_dot = k;
            else if (!(wchar(t->c[k]) || t->c[k] == '-')) ok = false;
        }
        if (!ok || last_dot == SIZE_MAX || last_dot == d || last_dot + 1 >= t->n) continue;
        for (size_t k = last_dot + 1; k < t->n; k++)
            if (!wchar(t->c[k])) ok = false;
        if (ok) return true;
    }
    return false;
}

static bool cps_starts(const cps *t, size_t at, const char *lit) {
    size_t n = strlen(lit);
    if (at + n > t->n) return false;
    for (size_t i = 0; i < n; i++)
        if (t->c[at + i] != (unsigned char)lit[i]) return false;
    return true;
}

static bool cps_ends(const cps *t, size_t end, const char *lit) {
    size_t n = strlen(lit);
    return end >= n && cps_starts(t, end - n, lit);
}

static size_t count_lit(const uint32_t *c, size_t n, const char *lit) {
    size_t ln = strlen(lit), count = 0;
    for (size_t i = 0; i + ln <= n;) {
        bool m = true;
        for (size_t k = 0; k < ln; k++)
            if (c[i + k] != (unsigned char)lit[k]) m = false;
        if (m) {
            count++;
            i += ln;
        } else {
            i++;
        }
    }
    return count;
}

static vial_value *urlize_text(tpl_render *r, const tpl_node *site, vial_value *text, int64_t trim_limit, const char *rel,
                               const char *target, vial_value *extra_schemes) {
    vial_value *esc = vial_tv_escape(r, site, text);
    if (!esc) return NULL;
    cps all;
    if (!to_cps(r, esc->as.s.ptr, esc->as.s.len, &all)) return vial_tpl_oom(r, site);
    vial_buf out;
    vial_tv_buf(r, &out);
    vial_buf attrs;
    vial_tv_buf(r, &attrs);
    if (rel && *rel) {
        tb_puts(&attrs, " rel=\"");
        vial_tv_escape_into(&attrs, rel, strlen(rel));
        tb_putc(&attrs, '"');
    }
    if (target && *target) {
        tb_puts(&attrs, " target=\"");
        vial_tv_escape_into(&attrs, target, strlen(target));
        tb_putc(&attrs, '"');
    }
    const char *attr_s = attrs.data ? attrs.data : "";
    size_t i = 0;
    while (i < all.n) {
        size_t st = i;
        bool space = vial_tv_isspace_cp(all.c[i]);
        while (i < all.n && vial_tv_isspace_cp(all.c[i]) == space) i++;
        if (space) {
            put_cps(&out, all.c + st, i - st);
            continue;
        }
        uint32_t *w = all.c + st;
        size_t wn = i - st;
        /* head: ^([(<]|&lt;)+ */
        size_t h = 0;
        for (;;) {
            if (h < wn && (w[h] == '(' || w[h] == '<')) h++;
            else if (h + 4 <= wn && w[h] == '&' && w[h + 1] == 'l' && w[h + 2] == 't' && w[h + 3] == ';') h += 4;
            else break;
        }
        size_t ms = h, me = wn; /* middle = w[ms..me) */
        cps mid = {w + ms, me - ms};
        if (cps_ends(&mid, mid.n, ")") || cps_ends(&mid, mid.n, ">") || cps_ends(&mid, mid.n, ".") ||
            cps_ends(&mid, mid.n, ",") || cps_ends(&mid, mid.n, "\n") || cps_ends(&mid, mid.n, "&gt;")) {
            /* tail: ([)>.,\n]|&gt;)+$ */
            size_t e = mid.n;
            for (;;) {
                if (e >= 1 && (mid.c[e - 1] == ')' || mid.c[e - 1] == '>' || mid.c[e - 1] == '.' ||
                               mid.c[e - 1] == ',' || mid.c[e - 1] == '\n'))
                    e--;
                else if (e >= 4 && cps_ends(&mid, e, "&gt;"))
                    e -= 4;
                else
                    break;
            }
            me = ms + e;
        }
        /* balance brackets by moving closers from the tail back */
        static const char *pairs[3][2] = {{"(", ")"}, {"<", ">"}, {"&lt;", "&gt;"}};
        for (int pi = 0; pi < 3; pi++) {
            size_t sc = count_lit(w + ms, me - ms, pairs[pi][0]);
            if (sc <= count_lit(w + ms, me - ms, pairs[pi][1])) continue;
            size_t tc = count_lit(w + me, wn - me, pairs[pi][1]);
            size_t times = sc < tc ? sc : tc;
            size_t el = strlen(pairs[pi][1]);
            for (size_t k = 0; k < times; k++) {
                cps tail = {w + me, wn - me};
                size_t idx = SIZE_MAX;
                for (size_t q = 0; q + el <= tail.n; q++)
                    if (cps_starts(&tail, q, pairs[pi][1])) {
                        idx = q;
                        break;
                    }
                if (idx == SIZE_MAX) break;
                me += idx + el;
            }
        }
        mid = (cps){w + ms, me - ms};
        put_cps(&out, w, ms);
        if (http_match(&mid)) {
            bool has_scheme = cps_starts(&mid, 0, "https://") || cps_starts(&mid, 0, "http://");
            tb_puts(&out, has_scheme ? "<a href=\"" : "<a href=\"https://");
            put_cps(&out, mid.c, mid.n);
            tb_putc(&out, '"');
            tb_puts(&out, attr_s);
            tb_putc(&out, '>');
            if (trim_limit >= 0 && (int64_t)mid.n > trim_limit) {
                put_cps(&out, mid.c, (size_t)trim_limit);
                tb_puts(&out, "...");
            } else {
                put_cps(&out, mid.c, mid.n);
            }
            tb_puts(&out, "</a>");
        } else if (cps_starts(&mid, 0, "mailto:") && email_match(&(cps){mid.c + 7, mid.n - 7}, 0)) {
            tb_puts(&out, "<a href=\"");
            put_cps(&out, mid.c, mid.n);
            tb_puts(&out, "\">");
            put_cps(&out, mid.c + 7, mid.n - 7);
            tb_puts(&out, "</a>");
        } else {
            bool has_at = false, has_colon = false;
            for (size_t k = 0; k < mid.n; k++) {
                if (mid.c[k] == '@') has_at = true;
                if (mid.c[k] == ':') has_colon = true;
            }
            bool done = false;
            if (has_at && !cps_starts(&mid, 0, "www.") && !has_colon && email_match(&mid, 0)) {
                tb_puts(&out, "<a href=\"mailto:");
                put_cps(&out, mid.c, mid.n);
                tb_puts(&out, "\">");
                put_cps(&out, mid.c, mid.n);
                tb_puts(&out, "</a>");
                done = true;
            } else if (extra_schemes) {
                vial_buf cur;
                vial_tv_buf(r, &cur);
                put_cps(&cur, mid.c, mid.n);
                for (size_t k = 0; k < extra_schemes->as.arr.len; k++) {
                    vial_value *sch = extra_schemes->as.arr.items[k];
                    if (sch->type != VIAL_STRING) continue;
                    if (cur.len != sch->as.s.len && cur.len >= sch->as.s.len &&
                        memcmp(cur.data, sch->as.s.ptr, sch->as.s.len) == 0) {
                        vial_buf rep;
                        vial_tv_buf(r, &rep);
                        tb_puts(&rep, "<a href=\"");
                        tb_append(&rep, cur.data, cur.len);
                        tb_putc(&rep, '"');
                        tb_puts(&rep, attr_s);
                        tb_putc(&rep, '>');
                        tb_append(&rep, cur.data, cur.len);
                        tb_puts(&rep, "</a>");
                        cur = rep;
                    }
                }
                tb_append(&out, cur.data ? cur.data : "", cur.len);
                done = true;
            }
            if (!done) put_cps(&out, mid.c, mid.n);
        }
        put_cps(&out, w + me, wn - me);
    }
    if (out.len > out.max) return vial_tpl_failv(r, site, "string too large");
    return vial_tv_buf_value(r, &out, r->autoescape);
}

static bool valid_scheme(const vial_value *s) {
    /* ^([\w.+-]{2,}:(/){0,2})$ */
    if (s->type != VIAL_STRING) return false;
    const char *p = s->as.s.ptr;
    size_t n = s->as.s.len, i = 0, chars = 0;
    while (i < n) {
        uint32_t cp;
        size_t k = vial_tv_next_cp(p + i, n - i, &cp);
        if (!(wchar(cp) || cp == '.' || cp == '+' || cp == '-')) break;
        i += k;
        chars++;
    }
    if (chars < 2 || i >= n || p[i] != ':') return false;
    i++;
    size_t slashes = 0;
    while (i < n && p[i] == '/' && slashes < 2) i++, slashes++;
    return i == n;
}

F(f_urlize) {
    UNUSED;
    int64_t trim = -1;
    if (p[0] && tv_kind(p[0]) != TK_NULL && !int_arg(r, site, p[0], -1, &trim)) return NULL;
    int nofollow;
    if (!truthy_arg(r, site, p[1], false, &nofollow)) return NULL;
    /* rel: the given words, nofollow, and the policy's "noopener", sorted and unique */
    const char *words[64];
    size_t nw = 0;
    vial_value *relv = p[3] && tv_kind(p[3]) != TK_NULL ? vial_tv_to_str(r, site, p[3]) : NULL;
    if (p[3] && tv_kind(p[3]) != TK_NULL && !relv) return NULL;
    if (relv) {
        vial_value *parts = vial_tpl_str_split(r, site, relv, NULL, -1, false);
        if (!parts) return NULL;
        for (size_t i = 0; i < parts->as.arr.len && nw < 60; i++)
            words[nw++] = vial_arena_strndup(r->arena, parts->as.arr.items[i]->as.s.ptr, parts->as.arr.items[i]->as.s.len);
    }
    if (nofollow) words[nw++] = "nofollow";
    words[nw++] = "noopener";
    for (size_t i = 1; i < nw; i++)
        for (size_t j = i; j > 0 && strcmp(words[j - 1], words[j]) > 0; j--) {
            const char *t = words[j];
            words[j] = words[j - 1];
            words[j - 1] = t;
        }
    vial_buf relb;
    vial_tv_buf(r, &relb);
    for (size_t i = 0; i < nw; i++) {
        if (i && strcmp(words[i], words[i - 1]) == 0) continue;
        if (relb.len) tb_putc(&relb, ' ');
        tb_puts(&relb, words[i]);
    }
    const char *target = NULL;
    if (p[2] && tv_kind(p[2]) != TK_NULL) {
        vial_value *tv = vial_tv_to_str(r, site, p[2]);
        if (!tv) return NULL;
        target = vial_arena_strndup(r->arena, tv->as.s.ptr, tv->as.s.len);
    }
    vial_value *schemes = NULL;
    if (p[4] && tv_kind(p[4]) != TK_NULL) {
        schemes = vial_tv_list(r, site, p[4]);
        if (!schemes) return NULL;
        for (size_t i = 0; i < schemes->as.arr.len; i++)
            if (!valid_scheme(schemes->as.arr.items[i])) {
                vial_buf eb;
                vial_buf_init(&eb, r->arena, 300);
                vial_tv_repr(r, &eb, schemes->as.arr.items[i]);
                return vial_tpl_failv(r, site, "%s is not a valid URI scheme prefix.", vial_buf_cstr(&eb));
            }
    }
    vial_value *text = vial_tv_to_plain_str(r, site, v);
    if (!text) return NULL;
    return urlize_text(r, site, text, trim, vial_buf_cstr(&relb), target, schemes);
}

/* ---- numbers ---- */

F(f_abs) {
    UNUSED;
    switch (tv_kind(v)) {
    case TK_INT:
        if (v->as.i == INT64_MIN) return vial_tpl_failv(r, site, "integer overflow (vial templates use 64-bit integers)");
        return v->as.i < 0 ? vial_tv_int(r, -v->as.i) : v;
    case TK_BOOL: return vial_tv_int(r, v->as.b);
    case TK_DOUBLE: return signbit(v->as.d) ? vial_tv_double(r, fabs(v->as.d)) : v;
    default: return vial_tpl_failv(r, site, "bad operand type for abs(): '%s'", vial_tv_type_name(v));
    }
}

static bool to_double_py(tpl_render *r, vial_value *v, double *out) {
    (void)r;
    switch (tv_kind(v)) {
    case TK_DOUBLE: *out = v->as.d; return true;
    case TK_INT: *out = (double)v->as.i; return true;
    case TK_BOOL: *out = v->as.b; return true;
    case TK_STRING: return vial_tv_parse_float(v->as.s.ptr, v->as.s.len, out);
    default: return false;
    }
}

F(f_float) {
    UNUSED;
    double d;
    /* float(Undefined) raises UndefinedError, which do_float does not catch */
    if (tv_kind(v) == TK_UNDEF) return (vial_tpl_undef_fail(r, site, v), NULL);
    if (to_double_py(r, v, &d)) return vial_tv_double(r, d);
    return p[0] ? p[0] : vial_tv_double(r, 0.0);
}

F(f_int) {
    UNUSED;
    int64_t base = 10;
    bool base_ok = true;
    if (p[1]) {
        if (p[1]->type == VIAL_INT) base = p[1]->as.i;
        else if (p[1]->type == VIAL_BOOL) base = p[1]->as.b;
        else base_ok = false; /* int(s, base) raises TypeError, do_int falls back to float */
    }
    if (tv_kind(v) == TK_UNDEF) return (vial_tpl_undef_fail(r, site, v), NULL);
    vial_value *dflt = p[0] ? p[0] : NULL;
    int64_t iv;
    bool overflow = false;
    switch (tv_kind(v)) {
    case TK_INT: return v;
    case TK_BOOL: return vial_tv_int(r, v->as.b);
    case TK_DOUBLE:
        if (isfinite(v->as.d) && fabs(v->as.d) < 9.2e18) return vial_tv_int(r, (int64_t)v->as.d);
        if (isfinite(v->as.d)) return vial_tpl_failv(r, site, "integer overflow (vial templates use 64-bit integers)");
        break;
    case TK_STRING:
        if (base_ok && (base == 0 || (base >= 2 && base <= 36)) &&
            vial_tv_parse_int(v->as.s.ptr, v->as.s.len, (int)base, &iv, &overflow)) {
            if (overflow) return vial_tpl_failv(r, site, "integer overflow (vial templates use 64-bit integers)");
            return vial_tv_int(r, iv);
        }
        {
            double d;
            if (vial_tv_parse_float(v->as.s.ptr, v->as.s.len, &d) && isfinite(d)) {
                if (fabs(d) >= 9.2e18) return vial_tpl_failv(r, site, "integer overflow (vial templates use 64-bit integers)");
                return vial_tv_int(r, (int64_t)d);
            }
        }
        break;
    default: break;
    }
    return dflt ? dflt : vial_tv_int(r, 0);
}

/* Python's round(x, n) for floats: correctly rounded, ties to even on the exact value. */
static double py_round(double x, int64_t n) {
    if (!isfinite(x) || x == 0) return x;
    if (n > 300) return x;
    if (n >= 0) {
        char buf[400];
        size_t k = 0;
        if (signbit(x)) buf[k++] = '-';
        if (vial_tpl_fixed_digits(buf + k, sizeof buf - k, fabs(x), (int)n) < 0) return x;
        return strtod(buf, NULL);
    }
    if (n < -308) return copysign(0.0, x);
    double pow10 = pow(10.0, (double)-n);
    double y = x / pow10;
    char buf[400];
    snprintf(buf, sizeof buf, "%.0f", y);
    return strtod(buf, NULL) * pow10;
}

F(f_round) {
    UNUSED;
    int64_t prec;
    if (!int_arg(r, site, p[0], 0, &prec)) return NULL;
    const char *method = "common";
    if (p[1]) {
        if (p[1]->type != VIAL_STRING) return vial_tpl_failv(r, site, "method must be common, ceil or floor");
        method = vial_arena_strndup(r->arena, p[1]->as.s.ptr, p[1]->as.s.len);
    }
    bool common = strcmp(method, "common") == 0, ceil_ = strcmp(method, "ceil") == 0, floor_ = strcmp(method, "floor") == 0;
    if (!common && !ceil_ && !floor_) return vial_tpl_failv(r, site, "method must be common, ceil or floor");
    int k = tv_kind(v);
    if (common) {
        if (k == TK_INT || k == TK_BOOL) {
            int64_t x = k == TK_BOOL ? v->as.b : v->as.i;
            if (prec >= 0) return vial_tv_int(r, x);
            if (prec < -18) return vial_tv_int(r, 0);
            int64_t pw = 1;
            for (int64_t i = 0; i < -prec; i++) pw *= 10;
            int64_t q = x / pw, rem = x % pw;
            if (rem < 0) rem += pw, q -= 1;
            if (rem * 2 > pw || (rem * 2 == pw && (q & 1))) q += 1;
            return vial_tv_int(r, q * pw);
        }
        if (k == TK_DOUBLE) return vial_tv_double(r, py_round(v->as.d, prec));
        return vial_tpl_failv(r, site, "type %s doesn't define __round__ method", vial_tv_type_name(v));
    }
    double x;
    if (k == TK_DOUBLE) x = v->as.d;
    else if (k == TK_INT) x = (double)v->as.i;
    else if (k == TK_BOOL) x = v->as.b;
    else return vial_tpl_failv(r, site, "unsupported operand type(s) for *: '%s' and 'int'", vial_tv_type_name(v));
    double scale = pow(10.0, (double)prec);
    double y = ceil_ ? ceil(x * scale) : floor(x * scale);
    if (!isfinite(y)) return vial_tpl_failv(r, site, "cannot convert float infinity to integer");
    return vial_tv_double(r, y / scale);
}

F(f_filesizeformat) {
    UNUSED;
    int binary;
    if (!truthy_arg(r, site, p[0], false, &binary)) return NULL;
    double bytes;
    if (!to_double_py(r, v, &bytes)) {
        if (v->type == VIAL_STRING) {
            vial_buf eb;
            vial_buf_init(&eb, r->arena, 300);
            vial_tv_repr(r, &eb, v);
            return vial_tpl_failv(r, site, "could not convert string to float: %s", vial_buf_cstr(&eb));
        }
        return vial_tpl_failv(r, site, "float() argument must be a string or a real number, not '%s'", vial_tv_type_name(v));
    }
    double base = binary ? 1024 : 1000;
    static const char *dec[] = {"kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
    static const char *bin[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"};
    char out[128];
    if (bytes == 1) {
        snprintf(out, sizeof out, "1 Byte");
    } else if (bytes < base) {
        if (!isfinite(bytes)) return vial_tpl_failv(r, site, "cannot convert float NaN to integer");
        snprintf(out, sizeof out, "%lld Bytes", (long long)bytes);
    } else {
        double unit = 0;
        int i;
        for (i = 0; i < 8; i++) {
            unit = pow(base, i + 2);
            if (bytes < unit) break;
        }
        if (i == 8) i = 7;
        double q = base * bytes / unit;
        char num[96];
        size_t k = 0;
        if (signbit(q)) num[k++] = '-';
        if (vial_tpl_fixed_digits(num + k, sizeof num - k, fabs(q), 1) < 0) return vial_tpl_failv(r, site, "number too large");
        snprintf(out, sizeof out, "%s %s", num, binary ? bin[i] : dec[i]);
    }
    return vial_tv_strn(r, out, strlen(out), false);
}

/* ---- sequences ---- */

F(f_length) {
    UNUSED;
    int64_t n = vial_tv_len(r, site, v);
    if (n < 0) return NULL;
    return vial_tv_int(r, n);
}

F(f_first) {
    UNUSED;
    if (tv_kind(v) == TK_RANGE) {
        tpl_range *rg = (tpl_range *)v;
        if (vial_tpl_range_len(rg)) return vial_tv_int(r, rg->start);
    } else {
        vial_value *list = vial_tv_list(r, site, v);
        if (!list) return NULL;
        if (list->as.arr.len) return list->as.arr.items[0];
    }
    return vial_tpl_undefined(r, "No first item, sequence was empty.", NULL, NULL, 0);
}

F(f_last) {
    UNUSED;
    vial_value *list = vial_tv_list(r, site, v);
    if (!list) return NULL;
    if (list->as.arr.len) return list->as.arr.items[list->as.arr.len - 1];
    return vial_tpl_undefined(r, "No last item, sequence was empty.", NULL, NULL, 0);
}

F(f_random) {
    UNUSED;
    int k = tv_kind(v);
    if (k != TK_ARRAY && k != TK_STRING && k != TK_RANGE && k != TK_UNDEF)
        return vial_tpl_failv(r, site, "object of type '%s' has no len()", vial_tv_type_name(v));
    vial_value *list = vial_tv_list(r, site, v);
    if (!list) return NULL;
    if (!list->as.arr.len) return vial_tpl_undefined(r, "No random item, sequence was empty.", NULL, NULL, 0);
    return list->as.arr.items[vial_tpl_random_index(list->as.arr.len)];
}

F(f_list) {
    UNUSED;
    return copy_as_list(r, site, v);
}

F(f_reverse) {
    UNUSED;
    if (v->type == VIAL_STRING) {
        cps t;
        if (!to_cps(r, v->as.s.ptr, v->as.s.len, &t)) return vial_tpl_oom(r, site);
        vial_buf b;
        vial_tv_buf(r, &b);
        for (size_t i = t.n; i > 0; i--)
            if (vial_tv_put_cp(&b, t.c[i - 1]) != 0) return vial_tpl_failv(r, site, "string too large");
        return vial_tv_buf_value(r, &b, tv_is_safe(v));
    }
    int k = tv_kind(v);
    if (k != TK_ARRAY && k != TK_OBJECT && k != TK_RANGE && k != TK_UNDEF)
        return vial_tpl_failv(r, site, "argument must be iterable");
    vial_value *list = vial_tv_list(r, site, v);
    if (!list) return NULL;
    vial_value *out = new_list(r, site);
    if (!out) return NULL;
    for (size_t i = list->as.arr.len; i > 0; i--)
        if (push(r, site, out, list->as.arr.items[i - 1]) != 0) return NULL;
    return out;
}

F(f_join) {
    UNUSED;
    vial_value *d = p[0] ? p[0] : vial_new_str_ref(r->arena, "", 0);
    if (!d) return vial_tpl_oom(r, site);
    vial_value *list = vial_tv_list(r, site, v);
    if (!list) return NULL;
    attr_path ap;
    if (!parse_attr(r, site, p[1], &ap)) return NULL;
    size_t n = list->as.arr.len;
    vial_value **items = list->as.arr.items;
    if (ap.n) {
        items = vial_arena_alloc(r->arena, (n ? n : 1) * sizeof *items);
        if (!items) return vial_tpl_oom(r, site);
        for (size_t i = 0; i < n; i++)
            if (!(items[i] = get_path(r, site, list->as.arr.items[i], &ap, NULL, false))) return NULL;
    }
    bool escape = false;
    if (r->autoescape) {
        escape = tv_is_safe(d);
        for (size_t i = 0; i < n && !escape; i++) escape = tv_is_safe(items[i]);
    }
    vial_value *ds = d->type == VIAL_STRING ? d : vial_tv_to_str(r, site, d);
    if (!ds) return NULL;
    vial_buf b;
    vial_tv_buf(r, &b);
    size_t guess = n ? (n - 1) * ds->as.s.len : 0;
    for (size_t i = 0; i < n && i < 64; i++) guess += items[i]->type == VIAL_STRING ? items[i]->as.s.len : 8;
    if (vial_buf_reserve(&b, guess + 1) != 0) return vial_tpl_failv(r, site, "string too large");
    for (size_t i = 0; i < n; i++) {
        int rc;
        if (i) {
            rc = escape && !tv_is_safe(d) ? vial_tv_escape_into(&b, ds->as.s.ptr, ds->as.s.len)
                                          : tb_append(&b, ds->as.s.ptr, ds->as.s.len);
            if (rc != 0) return vial_tpl_failv(r, site, "string too large");
        }
        vial_value *it = items[i];
        if (escape && !tv_is_safe(it)) {
            vial_value *s = vial_tv_to_str(r, site, it);
            if (!s) return NULL;
            rc = vial_tv_escape_into(&b, s->as.s.ptr, s->as.s.len);
        } else {
            rc = vial_tv_str(r, &b, it);
        }
        if (rc != 0) return r->failed ? NULL : vial_tpl_failv(r, site, "string too large");
    }
    return vial_tv_buf_value(r, &b, escape);
}

F(f_batch) {
    UNUSED;
    int64_t count;
    if (!int_arg(r, site, p[0], 1, &count)) return NULL;
    vial_value *list = vial_tv_list(r, site, v);
    if (!list) return NULL;
    vial_value *out = new_list(r, site), *cur = NULL;
    if (!out) return NULL;
    for (size_t i = 0; i < list->as.arr.len; i++) {
        if (!cur || (int64_t)cur->as.arr.len == count) {
            if (cur && push(r, site, out, cur) != 0) return NULL;
            cur = new_list(r, site);
            if (!cur) return NULL;
        }
        if (push(r, site, cur, list->as.arr.items[i]) != 0) return NULL;
    }
    if (cur && cur->as.arr.len) {
        if (p[1] && tv_kind(p[1]) != TK_NULL)
            while ((int64_t)cur->as.arr.len < count)
                if (push(r, site, cur, p[1]) != 0) return NULL;
        if (push(r, site, out, cur) != 0) return NULL;
    }
    return out;
}

F(f_slice) {
    UNUSED;
    int64_t slices;
    if (!int_arg(r, site, p[0], 1, &slices)) return NULL;
    vial_value *seq = vial_tv_list(r, site, v);
    if (!seq) return NULL;
    if (slices <= 0) {
        if (slices == 0) return vial_tpl_failv(r, site, "integer division or modulo by zero");
    }
    if (slices > 1000000) return vial_tpl_failv(r, site, "too many slices");
    int64_t length = (int64_t)seq->as.arr.len;
    int64_t per = length / slices, extra = length % slices;
    if (extra < 0) extra += slices, per -= 1;
    int64_t offset = 0;
    vial_value *out = new_list(r, site);
    if (!out) return NULL;
    for (int64_t s = 0; s < slices; s++) {
        int64_t start = offset + s * per;
        if (s < extra) offset++;
        int64_t end = offset + (s + 1) * per;
        vial_value *tmp = new_list(r, site);
        if (!tmp) return NULL;
        if (start < 0) start = 0;
        for (int64_t i = start; i < end && i < length; i++)
            if (push(r, site, tmp, seq->as.arr.items[i]) != 0) return NULL;
        if (p[1] && tv_kind(p[1]) != TK_NULL && s >= extra)
            if (push(r, site, tmp, p[1]) != 0) return NULL;
        if (push(r, site, out, tmp) != 0) return NULL;
    }
    return out;
}

F(f_sort) {
    UNUSED;
    int reverse, cs;
    if (!truthy_arg(r, site, p[0], false, &reverse) || !truthy_arg(r, site, p[1], false, &cs)) return NULL;
    vial_value *out = copy_as_list(r, site, v);
    if (!out) return NULL;
    size_t n = out->as.arr.len;
    /* make_multi_attrgetter: keys are lists of the comma-separated attributes */
    attr_path *paths = NULL;
    size_t npaths = 0;
    if (p[2] && tv_kind(p[2]) != TK_NULL) {
        if (p[2]->type == VIAL_STRING) {
            vial_value *comma = vial_new_str_ref(r->arena, ",", 1);
            vial_value *parts = comma ? vial_tpl_str_split(r, site, p[2], comma, -1, false) : NULL;
            if (!parts) return NULL;
            npaths = parts->as.arr.len;
            paths = vial_arena_alloc(r->arena, npaths * sizeof *paths);
            if (!paths) return vial_tpl_oom(r, site);
            for (size_t i = 0; i < npaths; i++)
                if (!parse_attr(r, site, parts->as.arr.items[i], &paths[i])) return NULL;
        } else {
            npaths = 1;
            paths = vial_arena_alloc(r->arena, sizeof *paths);
            if (!paths || !parse_attr(r, site, p[2], &paths[0])) return paths ? NULL : vial_tpl_oom(r, site);
        }
    }
    vial_value **keys = vial_arena_alloc(r->arena, (n ? n : 1) * sizeof *keys);
    if (!keys) return vial_tpl_oom(r, site);
    for (size_t i = 0; i < n; i++) {
        vial_value *item = out->as.arr.items[i];
        vial_value *parts[16];
        size_t np = npaths ? npaths : 1;
        if (np > 16) return vial_tpl_failv(r, site, "too many sort attributes");
        for (size_t k = 0; k < np; k++) {
            vial_value *key = npaths ? get_path(r, site, item, &paths[k], NULL, false) : item;
            if (!key) return NULL;
            if (!cs) key = lower_if_str(r, site, key);
            if (!key) return NULL;
            parts[k] = key;
        }
        /* lists of keys compare element-wise */
        vial_value *kl = new_list(r, site);
        if (!kl) return NULL;
        for (size_t k = 0; k < np; k++)
            if (push(r, site, kl, parts[k]) != 0) return NULL;
        keys[i] = kl;
    }
    if (vial_tpl_sort_values(r, site, out->as.arr.items, keys, n, reverse) != 0) return NULL;
    return out;
}

F(f_dictsort) {
    UNUSED;
    int cs, reverse;
    if (!truthy_arg(r, site, p[0], false, &cs) || !truthy_arg(r, site, p[2], false, &reverse)) return NULL;
    int pos = 0;
    if (p[1]) {
        if (p[1]->type == VIAL_STRING && p[1]->as.s.len == 3 && memcmp(p[1]->as.s.ptr, "key", 3) == 0) pos = 0;
        else if (p[1]->type == VIAL_STRING && p[1]->as.s.len == 5 && memcmp(p[1]->as.s.ptr, "value", 5) == 0) pos = 1;
        else return vial_tpl_failv(r, site, "You can only sort by either \"key\" or \"value\"");
    }
    if (v->type != VIAL_OBJECT) {
        if (tv_kind(v) == TK_UNDEF) return vial_tpl_failv(r, site, "'Undefined' object has no attribute 'items'");
        return vial_tpl_failv(r, site, "'%s' object has no attribute 'items'", vial_tv_type_name(v));
    }
    vial_value *items = vial_tpl_dict_items(r, v);
    if (!items) return NULL;
    items->tag = 0;
    size_t n = items->as.arr.len;
    vial_value **keys = vial_arena_alloc(r->arena, (n ? n : 1) * sizeof *keys);
    if (!keys) return vial_tpl_oom(r, site);
    for (size_t i = 0; i < n; i++) {
        vial_value *k = items->as.arr.items[i]->as.arr.items[pos];
        if (!cs && !(k = lower_if_str(r, site, k))) return NULL;
        keys[i] = k;
    }
    if (vial_tpl_sort_values(r, site, items->as.arr.items, keys, n, reverse) != 0) return NULL;
    return items;
}

F(f_items) {
    UNUSED;
    if (tv_kind(v) == TK_UNDEF) return new_list(r, site);
    if (v->type != VIAL_OBJECT) return vial_tpl_failv(r, site, "Can only get item pairs from a mapping.");
    vial_value *items = vial_tpl_dict_items(r, v);
    if (items) items->tag = 0;
    return items;
}

F(f_unique) {
    UNUSED;
    int cs;
    if (!truthy_arg(r, site, p[0], false, &cs)) return NULL;
    attr_path ap;
    if (!parse_attr(r, site, p[1], &ap)) return NULL;
    vial_value *list = vial_tv_list(r, site, v);
    if (!list) return NULL;
    vial_value *out = new_list(r, site), *seen = new_list(r, site);
    if (!out || !seen) return NULL;
    for (size_t i = 0; i < list->as.arr.len; i++) {
        vial_value *item = list->as.arr.items[i];
        vial_value *key = get_path(r, site, item, &ap, NULL, !cs);
        if (!key) return NULL;
        int kk = tv_kind(key);
        if ((kk == TK_ARRAY && !tv_is_tuple(key)) || kk == TK_OBJECT)
            return vial_tpl_failv(r, site, "unhashable type: '%s'", vial_tv_type_name(key));
        bool dup = false;
        for (size_t j = 0; j < seen->as.arr.len && !dup; j++) dup = vial_tv_equal(seen->as.arr.items[j], key);
        if (dup) continue;
        if (push(r, site, seen, key) != 0 || push(r, site, out, item) != 0) return NULL;
    }
    return out;
}

static vial_value *min_max(tpl_render *r, const tpl_node *site, vial_value *v, vial_value **p, bool want_max) {
    int cs;
    if (!truthy_arg(r, site, p[0], false, &cs)) return NULL;
    attr_path ap;
    if (!parse_attr(r, site, p[1], &ap)) return NULL;
    vial_value *list = vial_tv_list(r, site, v);
    if (!list) return NULL;
    if (!list->as.arr.len) return vial_tpl_undefined(r, "No aggregated item, sequence was empty.", NULL, NULL, 0);
    vial_value *best = list->as.arr.items[0];
    vial_value *bkey = get_path(r, site, best, &ap, NULL, !cs);
    if (!bkey) return NULL;
    for (size_t i = 1; i < list->as.arr.len; i++) {
        vial_value *item = list->as.arr.items[i];
        vial_value *key = get_path(r, site, item, &ap, NULL, !cs);
        if (!key) return NULL;
        int c = vial_tv_order(r, site, want_max ? CMP_GT : CMP_LT, key, bkey);
        if (c < 0) return NULL;
        if (c) {
            best = item;
            bkey = key;
        }
    }
    return best;
}

F(f_max) {
    UNUSED;
    return min_max(r, site, v, p, true);
}

F(f_min) {
    UNUSED;
    return min_max(r, site, v, p, false);
}

F(f_sum) {
    UNUSED;
    attr_path ap;
    if (!parse_attr(r, site, p[0], &ap)) return NULL;
    vial_value *acc = p[1] ? p[1] : vial_tv_int(r, 0);
    if (!acc) return NULL;
    if (acc->type == VIAL_STRING) return vial_tpl_failv(r, site, "sum() can't sum strings [use ''.join(seq) instead]");
    vial_value *list = vial_tv_list(r, site, v);
    if (!list) return NULL;
    for (size_t i = 0; i < list->as.arr.len; i++) {
        vial_value *item = list->as.arr.items[i];
        if (ap.n && !(item = get_path(r, site, item, &ap, NULL, false))) return NULL;
        if (!(acc = vial_tv_binop(r, site, OP_ADD, acc, item))) return NULL;
    }
    return acc;
}

F(f_groupby) {
    UNUSED;
    int cs;
    if (!truthy_arg(r, site, p[2], false, &cs)) return NULL;
    attr_path ap;
    if (!parse_attr(r, site, p[0], &ap)) return NULL;
    vial_value *dflt = p[1];
    vial_value *sorted = copy_as_list(r, site, v);
    if (!sorted) return NULL;
    size_t n = sorted->as.arr.len;
    vial_value **keys = vial_arena_alloc(r->arena, (n ? n : 1) * sizeof *keys);
    if (!keys) return vial_tpl_oom(r, site);
    for (size_t i = 0; i < n; i++)
        if (!(keys[i] = get_path(r, site, sorted->as.arr.items[i], &ap, dflt, !cs))) return NULL;
    if (vial_tpl_sort_values(r, site, sorted->as.arr.items, keys, n, false) != 0) return NULL;
    vial_value *out = new_list(r, site);
    if (!out) return NULL;
    size_t i = 0;
    while (i < n) {
        size_t j = i + 1;
        while (j < n && vial_tv_equal(keys[j], keys[i])) j++;
        vial_value *group = new_list(r, site);
        if (!group) return NULL;
        for (size_t k = i; k < j; k++)
            if (push(r, site, group, sorted->as.arr.items[k]) != 0) return NULL;
        vial_value *grouper = keys[i];
        if (!cs && !(grouper = get_path(r, site, sorted->as.arr.items[i], &ap, dflt, false))) return NULL;
        vial_value *pair[2] = {grouper, group};
        vial_value *t = vial_tv_tuple(r, 2, pair);
        if (!t) return NULL;
        t->tag = TPL_TAG_GROUP;
        if (push(r, site, out, t) != 0) return NULL;
        i = j;
    }
    return out;
}

/* select / reject / selectattr / rejectattr */
static vial_value *select_common(tpl_render *r, const tpl_node *site, vial_value *v, tpl_args *a, bool want,
                                 bool lookup_attr) {
    int t = vial_tv_truthy(r, site, v);
    if (t < 0) return NULL;
    vial_value *out = new_list(r, site);
    if (!out || !t) return out;
    size_t off = 0;
    attr_path ap = {0};
    if (lookup_attr) {
        if (a->npos < 1) return vial_tpl_failv(r, site, "Missing parameter for attribute name");
        if (!parse_attr(r, site, a->pos[0], &ap)) return NULL;
        off = 1;
    }
    vial_value *test = a->npos > off ? a->pos[off] : NULL;
    tpl_args rest = {a->pos + off + 1, a->npos > off + 1 ? a->npos - off - 1 : 0, a->kwnames, a->kwvals, a->nkw};
    vial_value *list = vial_tv_list(r, site, v);
    if (!list) return NULL;
    for (size_t i = 0; i < list->as.arr.len; i++) {
        vial_value *item = list->as.arr.items[i];
        vial_value *x = item;
        if (lookup_attr && !(x = get_path(r, site, item, &ap, NULL, false))) return NULL;
        int ok;
        if (test) {
            ok = vial_tpl_call_test_named(r, site, test, x, &rest);
        } else {
            ok = vial_tv_truthy(r, site, x);
        }
        if (ok < 0) return NULL;
        if ((ok != 0) == want && push(r, site, out, item) != 0) return NULL;
    }
    return out;
}

F(f_select) {
    UNUSED;
    return select_common(r, site, v, raw, true, false);
}
F(f_reject) {
    UNUSED;
    return select_common(r, site, v, raw, false, false);
}
F(f_selectattr) {
    UNUSED;
    return select_common(r, site, v, raw, true, true);
}
F(f_rejectattr) {
    UNUSED;
    return select_common(r, site, v, raw, false, true);
}

F(f_map) {
    UNUSED;
    int t = vial_tv_truthy(r, site, v);
    if (t < 0) return NULL;
    vial_value *out = new_list(r, site);
    if (!out || !t) return out;
    vial_value *list = vial_tv_list(r, site, v);
    if (!list) return NULL;
    tpl_args *a = raw;
    vial_value *attribute = NULL, *dflt = NULL;
    bool by_attr = false;
    if (!a->npos) {
        for (size_t k = 0; k < a->nkw; k++) {
            vial_str kn = a->kwnames[k];
            if (kn.len == 9 && memcmp(kn.ptr, "attribute", 9) == 0) attribute = a->kwvals[k], by_attr = true;
            else if (kn.len == 7 && memcmp(kn.ptr, "default", 7) == 0) dflt = a->kwvals[k];
        }
        if (by_attr) {
            for (size_t k = 0; k < a->nkw; k++) {
                vial_str kn = a->kwnames[k];
                if (!(kn.len == 9 && memcmp(kn.ptr, "attribute", 9) == 0) && !(kn.len == 7 && memcmp(kn.ptr, "default", 7) == 0))
                    return vial_tpl_failv(r, site, "Unexpected keyword argument '%.*s'", (int)kn.len, kn.ptr);
            }
        }
    }
    if (by_attr) {
        attr_path ap;
        if (!parse_attr(r, site, attribute, &ap)) return NULL;
        for (size_t i = 0; i < list->as.arr.len; i++)
            if (push(r, site, out, get_path(r, site, list->as.arr.items[i], &ap, dflt, false)) != 0) return NULL;
        return out;
    }
    if (!a->npos) return vial_tpl_failv(r, site, "map requires a filter argument");
    tpl_args rest = {a->pos + 1, a->npos - 1, a->kwnames, a->kwvals, a->nkw};
    for (size_t i = 0; i < list->as.arr.len; i++)
        if (push(r, site, out, vial_tpl_call_filter_named(r, site, a->pos[0], list->as.arr.items[i], &rest)) != 0) return NULL;
    return out;
}

F(f_default) {
    UNUSED;
    vial_value *dflt = p[0] ? p[0] : vial_new_str_ref(r->arena, "", 0);
    if (!dflt) return vial_tpl_oom(r, site);
    int boolean;
    if (!truthy_arg(r, site, p[1], false, &boolean)) return NULL;
    if (tv_kind(v) == TK_UNDEF) return dflt;
    if (boolean) {
        int t = vial_tv_truthy(r, site, v);
        if (t < 0) return NULL;
        if (!t) return dflt;
    }
    return v;
}

F(f_attr) {
    UNUSED;
    vial_value *name = p[0];
    if (name->type != VIAL_STRING) return vial_tpl_failv(r, site, "attribute name must be string, not '%s'", vial_tv_type_name(name));
    int k = tv_kind(v);
    /* attribute lookup only: dict keys are items, not attributes */
    if (k == TK_OBJECT || k == TK_ARRAY || k == TK_STRING) {
        if (vial_tpl_has_method(v, name->as.s.ptr, name->as.s.len))
            return vial_tpl_getattr(r, site, v, name->as.s.ptr, name->as.s.len);
        return vial_tpl_undefined(r, NULL, v, name->as.s.ptr, name->as.s.len);
    }
    if (k == TK_UNDEF) return vial_tpl_undefined(r, NULL, v, name->as.s.ptr, name->as.s.len);
    return vial_tpl_getattr(r, site, v, name->as.s.ptr, name->as.s.len);
}

F(f_format) {
    UNUSED;
    tpl_args *a = raw;
    if (a->npos && a->nkw) return vial_tpl_failv(r, site, "can't handle positional and keyword arguments at the same time");
    vial_value *s = soft_str(r, site, v);
    if (!s) return NULL;
    vial_value *args;
    if (a->nkw) {
        args = vial_new_object(r->arena);
        if (!args) return vial_tpl_oom(r, site);
        for (size_t i = 0; i < a->nkw; i++)
            if (vial_object_set_ref(args, a->kwnames[i].ptr, a->kwnames[i].len, a->kwvals[i]) != 0) return vial_tpl_oom(r, site);
    } else {
        return vial_tpl_percent_format_argv(r, site, s, a->pos, a->npos, true, NULL);
    }
    return vial_tpl_percent_format(r, site, s, args);
}

F(f_pprint) {
    UNUSED;
    vial_buf b;
    vial_tv_buf(r, &b);
    if (vial_tpl_pformat(r, &b, v) != 0) return r->failed ? NULL : vial_tpl_failv(r, site, "string too large");
    return vial_tv_buf_value(r, &b, false);
}

/* ---- tojson: json.dumps(sort_keys=True) made safe for HTML ---- */

static int json_str(vial_buf *b, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    if (tb_putc(b, '"') != 0) return -1;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = vial_tv_next_cp(s + i, n - i, &cp);
        i += k;
        if (cp >= 0xDC80 && cp <= 0xDCFF) cp = 0xFFFD;
        char e[16];
        switch (cp) {
        case '"': tb_puts(b, "\\\""); continue;
        case '\\': tb_puts(b, "\\\\"); continue;
        case '\n': tb_puts(b, "\\n"); continue;
        case '\r': tb_puts(b, "\\r"); continue;
        case '\t': tb_puts(b, "\\t"); continue;
        case '\b': tb_puts(b, "\\b"); continue;
        case '\f': tb_puts(b, "\\f"); continue;
        case '<': case '>': case '&': case '\'':
            snprintf(e, sizeof e, "\\u00%c%c", hex[cp >> 4], hex[cp & 15]);
            tb_puts(b, e);
            continue;
        default: break;
        }
        if (cp < 0x20 || cp >= 0x7f) {
            if (cp >= 0x10000) {
                uint32_t x = cp - 0x10000;
                snprintf(e, sizeof e, "\\u%04x\\u%04x", 0xD800 + (x >> 10), 0xDC00 + (x & 0x3FF));
            } else {
                snprintf(e, sizeof e, "\\u%04x", cp);
            }
            if (tb_puts(b, e) != 0) return -1;
            continue;
        }
        if (tb_putc(b, (int)cp) != 0) return -1;
    }
    return tb_putc(b, '"');
}

static int cmp_member_ptrs(const void *x, const void *y) {
    const vial_member *a = *(const vial_member *const *)x, *b = *(const vial_member *const *)y;
    size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
    int c = memcmp(a->key, b->key, n);
    if (c) return c;
    return a->key_len < b->key_len ? -1 : a->key_len > b->key_len;
}

static int json_indent(vial_buf *b, const vial_value *indent, int level) {
    if (tb_putc(b, '\n') != 0) return -1;
    for (int i = 0; i < level; i++)
        if (tb_append(b, indent->as.s.ptr, indent->as.s.len) != 0) return -1;
    return 0;
}

static int json_value(tpl_render *r, const tpl_node *site, vial_buf *b, const vial_value *v, const vial_value *indent,
                      int level) {
    if (level > 500) return vial_tpl_raise(r, site, "maximum recursion depth exceeded while encoding a JSON object");
    switch (tv_kind(v)) {
    case TK_NULL: return tb_puts(b, "null");
    case TK_BOOL: return tb_puts(b, v->as.b ? "true" : "false");
    case TK_INT: return vial_buf_put_i64(b, v->as.i);
    case TK_DOUBLE:
        if (isnan(v->as.d)) return tb_puts(b, "NaN");
        if (isinf(v->as.d)) return tb_puts(b, v->as.d > 0 ? "Infinity" : "-Infinity");
        {
            char tmp[VIAL_DOUBLE_BUFSIZE];
            return tb_append(b, tmp, vial_format_double(tmp, v->as.d));
        }
    case TK_STRING: return json_str(b, v->as.s.ptr, v->as.s.len);
    case TK_ARRAY:
        if (!v->as.arr.len) return tb_puts(b, "[]");
        tb_putc(b, '[');
        for (size_t i = 0; i < v->as.arr.len; i++) {
            if (i) tb_puts(b, indent ? "," : ", ");
            if (indent && json_indent(b, indent, level + 1) != 0) return -1;
            if (json_value(r, site, b, v->as.arr.items[i], indent, level + 1) != 0) return -1;
        }
        if (indent && json_indent(b, indent, level) != 0) return -1;
        return tb_putc(b, ']');
    case TK_OBJECT: {
        if (!v->as.obj.len) return tb_puts(b, "{}");
        size_t n = v->as.obj.len;
        const vial_member **m = vial_arena_alloc(r->arena, n * sizeof *m);
        if (!m) return vial_tpl_oom(r, site), -1;
        for (size_t i = 0; i < n; i++) m[i] = &v->as.obj.items[i];
        qsort(m, n, sizeof *m, cmp_member_ptrs);
        tb_putc(b, '{');
        for (size_t i = 0; i < n; i++) {
            if (i) tb_puts(b, indent ? "," : ", ");
            if (indent && json_indent(b, indent, level + 1) != 0) return -1;
            if (json_str(b, m[i]->key, m[i]->key_len) != 0 || tb_puts(b, ": ") != 0) return -1;
            if (json_value(r, site, b, m[i]->value, indent, level + 1) != 0) return -1;
        }
        if (indent && json_indent(b, indent, level) != 0) return -1;
        return tb_putc(b, '}');
    }
    case TK_NAMESPACE:
    default: return vial_tpl_raise(r, site, "Object of type %s is not JSON serializable", vial_tv_type_name(v));
    }
}

F(f_tojson) {
    UNUSED;
    vial_value *indent = NULL;
    if (p[0] && tv_kind(p[0]) != TK_NULL) {
        if (p[0]->type == VIAL_STRING) {
            indent = p[0];
        } else {
            int64_t n;
            if (!int_arg(r, site, p[0], 0, &n)) return NULL;
            if (n < 0) n = 0;
            if (n > 1000) return vial_tpl_failv(r, site, "indent too large");
            char *sp = vial_arena_alloc(r->arena, (size_t)n + 1);
            if (!sp) return vial_tpl_oom(r, site);
            memset(sp, ' ', (size_t)n);
            indent = vial_new_str_ref(r->arena, sp, (size_t)n);
            if (!indent) return vial_tpl_oom(r, site);
        }
    }
    vial_buf b;
    vial_tv_buf(r, &b);
    if (json_value(r, site, &b, v, indent, 0) != 0) return r->failed ? NULL : vial_tpl_failv(r, site, "string too large");
    return vial_tv_buf_value(r, &b, true);
}

/* ---- urlencode ---- */

static int url_quote(vial_buf *b, const char *s, size_t n, bool for_qs) {
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '.' || c == '-' || c == '~' || (!for_qs && c == '/');
        int rc;
        if (safe) rc = tb_putc(b, c);
        else if (for_qs && c == ' ') rc = tb_putc(b, '+');
        else {
            char e[3] = {'%', hex[c >> 4], hex[c & 15]};
            rc = tb_append(b, e, 3);
        }
        if (rc != 0) return -1;
    }
    return 0;
}

static int quote_value(tpl_render *r, const tpl_node *site, vial_buf *b, vial_value *v, bool for_qs) {
    vial_value *s = vial_tv_to_str(r, site, v);
    if (!s) return -1;
    return url_quote(b, s->as.s.ptr, s->as.s.len, for_qs);
}

F(f_urlencode) {
    UNUSED;
    vial_buf b;
    vial_tv_buf(r, &b);
    int k = tv_kind(v);
    if (k == TK_STRING || !(k == TK_ARRAY || k == TK_OBJECT || k == TK_RANGE || k == TK_UNDEF)) {
        if (quote_value(r, site, &b, v, false) != 0) return r->failed ? NULL : vial_tpl_failv(r, site, "string too large");
        return vial_tv_buf_value(r, &b, false);
    }
    vial_value *items;
    if (k == TK_OBJECT) {
        items = vial_tpl_dict_items(r, v);
    } else {
        items = vial_tv_list(r, site, v);
    }
    if (!items) return NULL;
    for (size_t i = 0; i < items->as.arr.len; i++) {
        vial_value *pair = items->as.arr.items[i];
        vial_value *pl = tv_kind(pair) == TK_ARRAY ? pair : NULL;
        if (!pl) {
            if (pair->type == VIAL_STRING) pl = vial_tv_list(r, site, pair);
            else return vial_tpl_failv(r, site, "cannot unpack non-iterable %s object", vial_tv_type_name(pair));
            if (!pl) return NULL;
        }
        if (pl->as.arr.len != 2)
            return vial_tpl_failv(r, site, pl->as.arr.len < 2 ? "not enough values to unpack (expected 2, got %zu)"
                                                         : "too many values to unpack (expected 2)",
                             pl->as.arr.len);
        if (i) tb_putc(&b, '&');
        if (quote_value(r, site, &b, pl->as.arr.items[0], true) != 0 || tb_putc(&b, '=') != 0 ||
            quote_value(r, site, &b, pl->as.arr.items[1], true) != 0)
            return r->failed ? NULL : vial_tpl_failv(r, site, "string too large");
    }
    return vial_tv_buf_value(r, &b, false);
}

/* ---- xmlattr ---- */

F(f_xmlattr) {
    UNUSED;
    int autospace;
    if (!truthy_arg(r, site, p[0], true, &autospace)) return NULL;
    if (v->type != VIAL_OBJECT) return vial_tpl_failv(r, site, "'%s' object has no attribute 'items'", vial_tv_type_name(v));
    vial_buf b;
    vial_tv_buf(r, &b);
    bool any = false;
    for (size_t i = 0; i < v->as.obj.len; i++) {
        const vial_member *m = &v->as.obj.items[i];
        int vk = tv_kind(m->value);
        if (vk == TK_NULL || vk == TK_UNDEF) continue;
        for (size_t k = 0; k < m->key_len; k++) {
            char c = m->key[k];
            if (c == ' ' || (c >= '\t' && c <= '\r') || c == '/' || c == '>' || c == '=') {
                vial_value key = {.type = VIAL_STRING};
                key.as.s.ptr = m->key;
                key.as.s.len = m->key_len;
                vial_buf eb;
                vial_buf_init(&eb, r->arena, 300);
                vial_tv_repr(r, &eb, &key);
                return vial_tpl_failv(r, site, "Invalid character in attribute name: %s", vial_buf_cstr(&eb));
            }
        }
        if (any || autospace) tb_putc(&b, ' ');
        any = true;
        vial_tv_escape_into(&b, m->key, m->key_len);
        tb_puts(&b, "=\"");
        vial_value *ev = vial_tv_escape(r, site, m->value);
        if (!ev) return NULL;
        tb_append(&b, ev->as.s.ptr, ev->as.s.len);
        if (tb_putc(&b, '"') != 0) return vial_tpl_failv(r, site, "string too large");
    }
    return vial_tv_buf_value(r, &b, r->autoescape);
}

/* ---- the table ---- */

#define P0(nm, py, fn, fl) {nm, py, {.filter = fn}, fl, 0, 0, {0}}
#define P(nm, py, fn, fl, req, np, ...) {nm, py, {.filter = fn}, fl, req, np, {__VA_ARGS__}}
#define VA(nm, py, fn) {nm, py, {.filter = fn}, BF_VARARGS, 0, 0, {0}}

static const tpl_builtin filters[] = {
    P0("abs", "abs", f_abs, BF_PURE),
    P("attr", "do_attr", f_attr, 0, 1, 1, "name"),
    P("batch", "do_batch", f_batch, 0, 1, 2, "linecount", "fill_with"),
    P0("capitalize", "do_capitalize", f_capitalize, BF_PURE),
    P("center", "do_center", f_center, BF_PURE, 0, 1, "width"),
    P0("count", "len", f_length, BF_PURE),
    P("d", "do_default", f_default, 0, 0, 2, "default_value", "boolean"),
    P("default", "do_default", f_default, 0, 0, 2, "default_value", "boolean"),
    P("dictsort", "do_dictsort", f_dictsort, 0, 0, 3, "case_sensitive", "by", "reverse"),
    P0("e", "escape", f_escape, BF_PURE),
    P0("escape", "escape", f_escape, BF_PURE),
    P("filesizeformat", "do_filesizeformat", f_filesizeformat, BF_PURE, 0, 1, "binary"),
    P0("first", "do_first", f_first, 0),
    P("float", "do_float", f_float, BF_PURE, 0, 1, "default"),
    P0("forceescape", "do_forceescape", f_forceescape, BF_PURE),
    VA("format", "do_format", f_format),
    P("groupby", "do_groupby", f_groupby, 0, 1, 3, "attribute", "default", "case_sensitive"),
    P("indent", "do_indent", f_indent, BF_PURE, 0, 3, "width", "first", "blank"),
    P("int", "do_int", f_int, BF_PURE, 0, 2, "default", "base"),
    P0("items", "do_items", f_items, 0),
    P("join", "do_join", f_join, 0, 0, 2, "d", "attribute"),
    P0("last", "do_last", f_last, 0),
    P0("length", "len", f_length, BF_PURE),
    P0("list", "do_list", f_list, 0),
    P0("lower", "do_lower", f_lower, BF_PURE),
    VA("map", "do_map", f_map),
    P("max", "do_max", f_max, 0, 0, 2, "case_sensitive", "attribute"),
    P("min", "do_min", f_min, 0, 0, 2, "case_sensitive", "attribute"),
    P0("pprint", "do_pprint", f_pprint, 0),
    P0("random", "do_random", f_random, 0),
    VA("reject", "do_reject", f_reject),
    VA("rejectattr", "do_rejectattr", f_rejectattr),
    P("replace", "do_replace", f_replace, 0, 2, 3, "old", "new", "count"),
    P0("reverse", "do_reverse", f_reverse, 0),
    P("round", "do_round", f_round, BF_PURE, 0, 2, "precision", "method"),
    P0("safe", "do_mark_safe", f_safe, BF_PURE),
    VA("select", "do_select", f_select),
    VA("selectattr", "do_selectattr", f_selectattr),
    P("slice", "do_slice", f_slice, 0, 1, 2, "slices", "fill_with"),
    P("sort", "do_sort", f_sort, 0, 0, 3, "reverse", "case_sensitive", "attribute"),
    P0("string", "soft_str", f_string, BF_PURE),
    P0("striptags", "do_striptags", f_striptags, BF_PURE),
    P("sum", "do_sum", f_sum, 0, 0, 2, "attribute", "start"),
    P0("title", "do_title", f_title, BF_PURE),
    P("tojson", "do_tojson", f_tojson, 0, 0, 1, "indent"),
    P("trim", "do_trim", f_trim, BF_PURE, 0, 1, "chars"),
    P("truncate", "do_truncate", f_truncate, BF_PURE, 0, 4, "length", "killwords", "end", "leeway"),
    P("unique", "do_unique", f_unique, 0, 0, 2, "case_sensitive", "attribute"),
    P0("upper", "do_upper", f_upper, BF_PURE),
    P0("urlencode", "do_urlencode", f_urlencode, BF_PURE),
    P("urlize", "do_urlize", f_urlize, 0, 0, 5, "trim_url_limit", "nofollow", "target", "rel", "extra_schemes"),
    P0("wordcount", "do_wordcount", f_wordcount, BF_PURE),
    P("wordwrap", "do_wordwrap", f_wordwrap, BF_PURE, 0, 4, "width", "break_long_words", "wrapstring", "break_on_hyphens"),
    P("xmlattr", "do_xmlattr", f_xmlattr, 0, 0, 1, "autospace"),
};

const tpl_builtin *vial_tpl_find_filter(const char *name, size_t len) {
    for (size_t i = 0; i < sizeof filters / sizeof filters[0]; i++)
        if (strlen(filters[i].name) == len && memcmp(filters[i].name, name, len) == 0) return &filters[i];
    return NULL;
}
