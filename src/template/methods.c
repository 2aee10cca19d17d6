/* methods.c - the Python methods templates call on strings, lists and dicts.
 *
 * Jinja2 templates reach into Python objects: `s.upper()`, `name.split(',')`,
 * `d.items()`, `d.get('k', 0)`, `xs.append(x)` (the `{% set _ = ... %}`
 * idiom mutates in place, as in Python). These are the methods of str, list,
 * tuple and dict, measured in code points, with Markup's rule that a method
 * of an escaped string returns an escaped string and escapes the string
 * arguments it inserts. What is not here (encode, translate, maketrans,
 * format_map, list.sort with a key) fails with an AttributeError-like
 * undefined value, as a missing method does in Jinja2. */
#include "template/tpl.h"

#include <string.h>

typedef vial_value *(*method_fn)(tpl_render *r, const tpl_node *site, vial_value *self, tpl_args *a);

typedef struct method {
    const char *name;
    method_fn fn;
    uint8_t min, max; /* positional arguments */
} method;

#define M(nm) static vial_value *nm(tpl_render *r, const tpl_node *site, vial_value *self, tpl_args *a)

/* ---- helpers ---- */

static vial_value *arg(tpl_args *a, size_t i, const char *kw) {
    if (i < a->npos) return a->pos[i];
    for (size_t k = 0; k < a->nkw; k++)
        if (kw && a->kwnames[k].len == strlen(kw) && memcmp(a->kwnames[k].ptr, kw, a->kwnames[k].len) == 0)
            return a->kwvals[k];
    return NULL;
}

static bool is_none(const vial_value *v) { return !v || tv_kind(v) == TK_NULL; }

static bool need_str(tpl_render *r, const tpl_node *site, const vial_value *v, const char *what) {
    if (v && v->type == VIAL_STRING) return true;
    vial_tpl_raise(r, site, "%s must be str, not %s", what, v ? vial_tv_type_name(v) : "NoneType");
    return false;
}

static bool need_int(tpl_render *r, const tpl_node *site, const vial_value *v, int64_t *out) {
    if (v->type == VIAL_INT) return *out = v->as.i, true;
    if (v->type == VIAL_BOOL) return *out = v->as.b, true;
    vial_tpl_raise(r, site, "'%s' object cannot be interpreted as an integer", vial_tv_type_name(v));
    return false;
}

static vial_value *str_result(tpl_render *r, vial_buf *b, vial_value *self) {
    return vial_tv_buf_value(r, b, tv_is_safe(self));
}

static vial_value *sub_str(tpl_render *r, vial_value *self, size_t off, size_t len) {
    vial_value *v = vial_new_str_ref(r->arena, self->as.s.ptr + off, len);
    if (!v) return vial_tpl_oom(r, NULL);
    v->flags = self->flags & VIAL_FLAG_SAFE;
    return v;
}

/* An argument a Markup method inserts: escaped when the receiver is Markup. */
static vial_value *esc_arg(tpl_render *r, const tpl_node *site, vial_value *self, vial_value *v) {
    if (!tv_is_safe(self) || !v || v->type != VIAL_STRING || tv_is_safe(v)) return v;
    return vial_tv_escape(r, site, v);
}

/* Python's start/end arguments, as code point indexes clamped to the string. */
static bool span(tpl_render *r, const tpl_node *site, vial_value *self, tpl_args *a, size_t first, size_t *bstart,
                 size_t *bend) {
    int64_t n = (int64_t)vial_tv_cp_len(self->as.s.ptr, self->as.s.len);
    int64_t s = 0, e = n;
    vial_value *vs = arg(a, first, NULL), *ve = arg(a, first + 1, NULL);
    if (!is_none(vs) && !need_int(r, site, vs, &s)) return false;
    if (!is_none(ve) && !need_int(r, site, ve, &e)) return false;
    if (s < 0) s = s + n < 0 ? 0 : s + n;
    if (e < 0) e = e + n < 0 ? 0 : e + n;
    if (s > n) s = n;
    if (e > n) e = n;
    if (e < s) e = s;
    *bstart = vial_tv_cp_offset(self->as.s.ptr, self->as.s.len, (size_t)s);
    *bend = *bstart + vial_tv_cp_offset(self->as.s.ptr + *bstart, self->as.s.len - *bstart, (size_t)(e - s));
    return true;
}


static vial_value *case_str(tpl_render *r, const tpl_node *site, vial_value *self, int mode) {
    const char *src = self->as.s.ptr;
    size_t len = self->as.s.len;
    if (mode == TV_UPPER || mode == TV_LOWER || mode == TV_FOLD) {
        /* ASCII: one allocation, 8 bytes at a time; anything else takes the general path */
        char *dst;
        vial_value *v = vial_tv_new_str(r, len, &dst);
        if (!v) return NULL;
        if (tv_ascii_case(dst, src, len, mode == TV_UPPER)) {
            v->flags = self->flags & VIAL_FLAG_SAFE;
            return v;
        }
    }
    vial_buf b;
    vial_tv_buf(r, &b);
    if (vial_buf_reserve(&b, len) != 0 || vial_tv_case_into(&b, src, len, mode) != 0)
        return vial_tpl_failv(r, site, "string too large");
    return str_result(r, &b, self);
}

vial_value *vial_tpl_str_case(tpl_render *r, const tpl_node *site, vial_value *self, bool upper);
vial_value *vial_tpl_str_case(tpl_render *r, const tpl_node *site, vial_value *self, bool upper) {
    return case_str(r, site, self, upper ? TV_UPPER : TV_LOWER);
}

vial_value *vial_tpl_str_case_mode(tpl_render *r, const tpl_node *site, vial_value *self, int mode);
vial_value *vial_tpl_str_case_mode(tpl_render *r, const tpl_node *site, vial_value *self, int mode) {
    return case_str(r, site, self, mode);
}


/* ---- str ---- */

M(s_upper) {
    (void)a;
    return case_str(r, site, self, TV_UPPER);
}
M(s_lower) {
    (void)a;
    return case_str(r, site, self, TV_LOWER);
}
M(s_swapcase) {
    (void)a;
    return case_str(r, site, self, TV_SWAP);
}
M(s_casefold) {
    (void)a;
    return case_str(r, site, self, TV_FOLD);
}

vial_value *vial_tpl_str_capitalize(tpl_render *r, const tpl_node *site, vial_value *self);
vial_value *vial_tpl_str_capitalize(tpl_render *r, const tpl_node *site, vial_value *self) {
    return case_str(r, site, self, TV_CAPITALIZE);
}

M(s_capitalize) {
    (void)a;
    return case_str(r, site, self, TV_CAPITALIZE);
}

M(s_title) {
    (void)a;
    return case_str(r, site, self, TV_TITLE_WORDS);
}

static bool in_chars(uint32_t cp, const vial_value *chars) {
    if (!chars) return vial_tv_isspace_cp(cp);
    for (size_t i = 0; i < chars->as.s.len;) {
        uint32_t c;
        i += vial_tv_next_cp(chars->as.s.ptr + i, chars->as.s.len - i, &c);
        if (c == cp) return true;
    }
    return false;
}

vial_value *vial_tpl_str_strip(tpl_render *r, const tpl_node *site, vial_value *self, vial_value *chars, int which);
vial_value *vial_tpl_str_strip(tpl_render *r, const tpl_node *site, vial_value *self, vial_value *chars, int which) {
    if (is_none(chars)) chars = NULL;
    else if (!need_str(r, site, chars, "strip arg")) return NULL;
    const char *s = self->as.s.ptr;
    size_t n = self->as.s.len, start = 0, end = n;
    if (which & 1) {
        while (start < n) {
            uint32_t cp;
            size_t k = vial_tv_next_cp(s + start, n - start, &cp);
            if (!in_chars(cp, chars)) break;
            start += k;
        }
    }
    if (which & 2) {
        size_t keep = start;
        for (size_t i = start; i < n;) {
            uint32_t cp;
            i += vial_tv_next_cp(s + i, n - i, &cp);
            if (!in_chars(cp, chars)) keep = i;
        }
        end = keep;
    }
    return sub_str(r, self, start, end - start);
}

M(s_strip) { return vial_tpl_str_strip(r, site, self, esc_arg(r, site, self, arg(a, 0, NULL)), 3); }
M(s_lstrip) { return vial_tpl_str_strip(r, site, self, esc_arg(r, site, self, arg(a, 0, NULL)), 1); }
M(s_rstrip) { return vial_tpl_str_strip(r, site, self, esc_arg(r, site, self, arg(a, 0, NULL)), 2); }

static vial_value *new_list(tpl_render *r) {
    vial_value *l = vial_new_array(r->arena);
    return l ? l : vial_tpl_oom(r, NULL);
}

static int push(tpl_render *r, vial_value *list, vial_value *v) {
    if (!v || vial_array_push(list, v) != 0) {
        if (v) vial_tpl_oom(r, NULL);
        return -1;
    }
    return 0;
}

/* str.split / rsplit (rsplit collects from the right and reverses). */
vial_value *vial_tpl_str_split(tpl_render *r, const tpl_node *site, vial_value *self, vial_value *sep, int64_t maxsplit,
                          bool right);
vial_value *vial_tpl_str_split(tpl_render *r, const tpl_node *site, vial_value *self, vial_value *sep, int64_t maxsplit,
                          bool right) {
    const char *s = self->as.s.ptr;
    size_t n = self->as.s.len;
    vial_value *out = new_list(r);
    if (!out) return NULL;
    if (maxsplit < 0) maxsplit = INT64_MAX;
    if (is_none(sep)) {
        /* runs of whitespace, no empty pieces */
        size_t *starts = vial_arena_alloc(r->arena, (n + 1) * 2 * sizeof *starts);
        if (!starts) return vial_tpl_oom(r, site);
        size_t nw = 0;
        size_t i = 0;
        while (i < n) {
            uint32_t cp;
            size_t k = vial_tv_next_cp(s + i, n - i, &cp);
            if (vial_tv_isspace_cp(cp)) {
                i += k;
                continue;
            }
            size_t ws = i;
            while (i < n) {
                k = vial_tv_next_cp(s + i, n - i, &cp);
                if (vial_tv_isspace_cp(cp)) break;
                i += k;
            }
            starts[2 * nw] = ws;
            starts[2 * nw + 1] = i;
            nw++;
        }
        if (!right) {
            for (size_t w = 0; w < nw; w++) {
                if ((int64_t)w == maxsplit) {
                    /* the rest keeps its trailing whitespace, as Python's does */
                    if (push(r, out, sub_str(r, self, starts[2 * w], n - starts[2 * w])) != 0) return NULL;
                    return out;
                }
                if (push(r, out, sub_str(r, self, starts[2 * w], starts[2 * w + 1] - starts[2 * w])) != 0) return NULL;
            }
            return out;
        }
        /* rsplit: words from the right */
        int64_t splits = 0;
        vial_value *rev = new_list(r);
        if (!rev) return NULL;
        for (size_t w = nw; w > 0; w--) {
            if (splits == maxsplit) {
                if (push(r, rev, sub_str(r, self, 0, starts[2 * (w - 1) + 1])) != 0) return NULL;
                break;
            }
            if (push(r, rev, sub_str(r, self, starts[2 * (w - 1)], starts[2 * (w - 1) + 1] - starts[2 * (w - 1)])) != 0)
                return NULL;
            splits++;
        }
        for (size_t i2 = rev->as.arr.len; i2 > 0; i2--)
            if (push(r, out, rev->as.arr.items[i2 - 1]) != 0) return NULL;
        return out;
    }
    if (!need_str(r, site, sep, "must be str or None")) return NULL;
    if (sep->as.s.len == 0) return vial_tpl_failv(r, site, "empty separator");
    const char *p = sep->as.s.ptr;
    size_t pl = sep->as.s.len;
    if (!right) {
        size_t start = 0;
        int64_t splits = 0;
        while (splits < maxsplit) {
            const char *hit = memmem(s + start, n - start, p, pl);
            if (!hit) break;
            size_t at = (size_t)(hit - s);
            if (push(r, out, sub_str(r, self, start, at - start)) != 0) return NULL;
            start = at + pl;
            splits++;
        }
        if (push(r, out, sub_str(r, self, start, n - start)) != 0) return NULL;
        return out;
    }
    vial_value *rev = new_list(r);
    if (!rev) return NULL;
    size_t end = n;
    int64_t splits = 0;
    while (splits < maxsplit && end >= pl) {
        size_t at = SIZE_MAX;
        for (size_t j = end - pl + 1; j > 0; j--)
            if (memcmp(s + j - 1, p, pl) == 0) {
                at = j - 1;
                break;
            }
        if (at == SIZE_MAX) break;
        if (push(r, rev, sub_str(r, self, at + pl, end - at - pl)) != 0) return NULL;
        end = at;
        splits++;
    }
    if (push(r, rev, sub_str(r, self, 0, end)) != 0) return NULL;
    for (size_t i = rev->as.arr.len; i > 0; i--)
        if (push(r, out, rev->as.arr.items[i - 1]) != 0) return NULL;
    return out;
}

static bool split_args(tpl_render *r, const tpl_node *site, tpl_args *a, vial_value **sep, int64_t *maxsplit) {
    *sep = arg(a, 0, "sep");
    vial_value *m = arg(a, 1, "maxsplit");
    *maxsplit = -1;
    if (m && !need_int(r, site, m, maxsplit)) return false;
    return true;
}

M(s_split) {
    vial_value *sep;
    int64_t m;
    if (!split_args(r, site, a, &sep, &m)) return NULL;
    return vial_tpl_str_split(r, site, self, sep, m, false);
}

M(s_rsplit) {
    vial_value *sep;
    int64_t m;
    if (!split_args(r, site, a, &sep, &m)) return NULL;
    return vial_tpl_str_split(r, site, self, sep, m, true);
}

/* Python's line boundaries: \n \r \r\n \v \f \x1c \x1d \x1e \x85 \u2028 \u2029 */
vial_value *vial_tpl_str_splitlines(tpl_render *r, const tpl_node *site, vial_value *self, bool keepends);
vial_value *vial_tpl_str_splitlines(tpl_render *r, const tpl_node *site, vial_value *self, bool keepends) {
    (void)site;
    const char *s = self->as.s.ptr;
    size_t n = self->as.s.len;
    vial_value *out = new_list(r);
    if (!out) return NULL;
    size_t start = 0, i = 0;
    while (i < n) {
        uint32_t cp;
        size_t k = vial_tv_next_cp(s + i, n - i, &cp);
        bool brk = cp == '\n' || cp == '\r' || cp == 0x0b || cp == 0x0c || cp == 0x1c || cp == 0x1d || cp == 0x1e ||
                   cp == 0x85 || cp == 0x2028 || cp == 0x2029;
        if (!brk) {
            i += k;
            continue;
        }
        size_t eol = i;
        i += k;
        if (cp == '\r' && i < n && s[i] == '\n') i++;
        if (push(r, out, sub_str(r, self, start, (keepends ? i : eol) - start)) != 0) return NULL;
        start = i;
    }
    if (start < n && push(r, out, sub_str(r, self, start, n - start)) != 0) return NULL;
    return out;
}

M(s_splitlines) {
    vial_value *k = arg(a, 0, "keepends");
    int keep = k ? vial_tv_truthy(r, site, k) : 0;
    if (keep < 0) return NULL;
    return vial_tpl_str_splitlines(r, site, self, keep);
}

static vial_value *affix_test(tpl_render *r, const tpl_node *site, vial_value *self, tpl_args *a, bool suffix) {
    vial_value *x = arg(a, 0, NULL);
    size_t bs, be;
    if (!span(r, site, self, a, 1, &bs, &be)) return NULL;
    const char *s = self->as.s.ptr + bs;
    size_t n = be - bs;
    vial_value *one[1] = {x};
    vial_value **cands = one;
    size_t nc = 1;
    if (x->type == VIAL_ARRAY && tv_is_tuple(x)) {
        cands = x->as.arr.items;
        nc = x->as.arr.len;
    } else if (x->type != VIAL_STRING) {
        return vial_tpl_failv(r, site, "%s first arg must be str or a tuple of str, not %s",
                         suffix ? "endswith" : "startswith", vial_tv_type_name(x));
    }
    for (size_t i = 0; i < nc; i++) {
        vial_value *c = cands[i];
        if (c->type != VIAL_STRING)
            return vial_tpl_failv(r, site, "tuple for %s must only contain str, not %s", suffix ? "endswith" : "startswith",
                             vial_tv_type_name(c));
        size_t cl = c->as.s.len;
        if (cl <= n && memcmp(suffix ? s + n - cl : s, c->as.s.ptr, cl) == 0) return vial_tv_bool(true);
    }
    return vial_tv_bool(false);
}

M(s_startswith) { return affix_test(r, site, self, a, false); }
M(s_endswith) { return affix_test(r, site, self, a, true); }

vial_value *vial_tpl_str_replace(tpl_render *r, const tpl_node *site, vial_value *self, vial_value *old, vial_value *new_,
                            int64_t count, bool safe);
vial_value *vial_tpl_str_replace(tpl_render *r, const tpl_node *site, vial_value *self, vial_value *old, vial_value *new_,
                            int64_t count, bool safe) {
    const char *s = self->as.s.ptr;
    size_t n = self->as.s.len;
    vial_buf b;
    vial_tv_buf(r, &b);
    if (count < 0) count = INT64_MAX;
    size_t ol = old->as.s.len;
    if (ol == 0) {
        /* an empty pattern matches between every code point */
        int64_t done = 0;
        size_t i = 0;
        if (done < count) {
            if (tb_append(&b, new_->as.s.ptr, new_->as.s.len) != 0) goto big;
            done++;
        }
        while (i < n) {
            uint32_t cp;
            size_t k = vial_tv_next_cp(s + i, n - i, &cp);
            if (tb_append(&b, s + i, k) != 0) goto big;
            i += k;
            if (done < count) {
                if (tb_append(&b, new_->as.s.ptr, new_->as.s.len) != 0) goto big;
                done++;
            }
        }
        return vial_tv_buf_value(r, &b, safe);
    }
    size_t start = 0;
    int64_t done = 0;
    while (done < count) {
        const char *hit = memmem(s + start, n - start, old->as.s.ptr, ol);
        if (!hit) break;
        size_t at = (size_t)(hit - s);
        if (tb_append(&b, s + start, at - start) != 0 || tb_append(&b, new_->as.s.ptr, new_->as.s.len) != 0)
            goto big;
        start = at + ol;
        done++;
    }
    if (tb_append(&b, s + start, n - start) != 0) goto big;
    return vial_tv_buf_value(r, &b, safe);
big:
    return vial_tpl_failv(r, site, "string too large");
}

M(s_replace) {
    vial_value *old = esc_arg(r, site, self, arg(a, 0, NULL)), *nw = esc_arg(r, site, self, arg(a, 1, NULL));
    if (!old || !nw) return NULL;
    if (!need_str(r, site, old, "replace() argument 1") || !need_str(r, site, nw, "replace() argument 2")) return NULL;
    int64_t count = -1;
    vial_value *c = arg(a, 2, NULL);
    if (c && !need_int(r, site, c, &count)) return NULL;
    return vial_tpl_str_replace(r, site, self, old, nw, count, tv_is_safe(self));
}

M(s_join) {
    vial_value *it = arg(a, 0, NULL);
    vial_value *list = vial_tv_list(r, site, it);
    if (!list) return NULL;
    vial_buf b;
    vial_tv_buf(r, &b);
    bool safe = tv_is_safe(self);
    for (size_t i = 0; i < list->as.arr.len; i++) {
        vial_value *v = list->as.arr.items[i];
        if (i && tb_append(&b, self->as.s.ptr, self->as.s.len) != 0) return vial_tpl_failv(r, site, "string too large");
        if (safe) {
            vial_value *e = vial_tv_escape(r, site, v);
            if (!e) return NULL;
            v = e;
        } else if (v->type != VIAL_STRING) {
            return vial_tpl_failv(r, site, "sequence item %zu: expected str instance, %s found", i, vial_tv_type_name(v));
        }
        if (tb_append(&b, v->as.s.ptr, v->as.s.len) != 0) return vial_tpl_failv(r, site, "string too large");
    }
    return vial_tv_buf_value(r, &b, safe);
}

static int64_t find_sub(vial_value *self, size_t bs, size_t be, vial_value *sub, bool right) {
    const char *s = self->as.s.ptr;
    size_t sl = sub->as.s.len;
    if (sl > be - bs) return -1;
    size_t at = SIZE_MAX;
    if (!right) {
        const char *hit = sl ? memmem(s + bs, be - bs, sub->as.s.ptr, sl) : s + bs;
        if (hit) at = (size_t)(hit - s);
    } else {
        for (size_t j = be - sl + 1; j > bs; j--)
            if (memcmp(s + j - 1, sub->as.s.ptr, sl) == 0) {
                at = j - 1;
                break;
            }
    }
    if (at == SIZE_MAX) return -1;
    return (int64_t)vial_tv_cp_len(s, at);
}

static vial_value *find_common(tpl_render *r, const tpl_node *site, vial_value *self, tpl_args *a, bool right,
                               bool raise) {
    vial_value *sub = arg(a, 0, NULL);
    if (!need_str(r, site, sub, "must be str")) return NULL;
    size_t bs, be;
    if (!span(r, site, self, a, 1, &bs, &be)) return NULL;
    int64_t idx = find_sub(self, bs, be, sub, right);
    if (idx < 0 && raise) return vial_tpl_failv(r, site, "substring not found");
    return vial_tv_int(r, idx);
}

M(s_find) { return find_common(r, site, self, a, false, false); }
M(s_rfind) { return find_common(r, site, self, a, true, false); }
M(s_index) { return find_common(r, site, self, a, false, true); }
M(s_rindex) { return find_common(r, site, self, a, true, true); }

M(s_count) {
    vial_value *sub = arg(a, 0, NULL);
    if (!need_str(r, site, sub, "must be str")) return NULL;
    size_t bs, be;
    if (!span(r, site, self, a, 1, &bs, &be)) return NULL;
    if (sub->as.s.len == 0) return vial_tv_int(r, (int64_t)vial_tv_cp_len(self->as.s.ptr + bs, be - bs) + 1);
    int64_t c = 0;
    size_t i = bs;
    while (i < be) {
        const char *hit = memmem(self->as.s.ptr + i, be - i, sub->as.s.ptr, sub->as.s.len);
        if (!hit) break;
        c++;
        i = (size_t)(hit - self->as.s.ptr) + sub->as.s.len;
    }
    return vial_tv_int(r, c);
}

/* center/ljust/rjust with Python's rule for odd padding */
vial_value *vial_tpl_str_pad(tpl_render *r, const tpl_node *site, vial_value *self, int64_t width, vial_value *fill,
                        int where);
vial_value *vial_tpl_str_pad(tpl_render *r, const tpl_node *site, vial_value *self, int64_t width, vial_value *fill,
                        int where) {
    int64_t len = (int64_t)vial_tv_cp_len(self->as.s.ptr, self->as.s.len);
    if (width <= len) return self;
    if (width > (1 << 26)) return vial_tpl_failv(r, site, "width too large");
    const char *fc = " ";
    size_t fl = 1;
    if (fill) {
        if (fill->type != VIAL_STRING || vial_tv_cp_len(fill->as.s.ptr, fill->as.s.len) != 1)
            return vial_tpl_failv(r, site, "The fill character must be exactly one character long");
        fc = fill->as.s.ptr;
        fl = fill->as.s.len;
    }
    int64_t marg = width - len, left;
    if (where == 0) left = marg / 2 + (marg & width & 1); /* center */
    else if (where < 0) left = 0;                        /* ljust */
    else left = marg;                                    /* rjust */
    vial_buf b;
    vial_tv_buf(r, &b);
    for (int64_t i = 0; i < left; i++)
        if (tb_append(&b, fc, fl) != 0) return vial_tpl_failv(r, site, "string too large");
    if (tb_append(&b, self->as.s.ptr, self->as.s.len) != 0) return vial_tpl_failv(r, site, "string too large");
    for (int64_t i = 0; i < marg - left; i++)
        if (tb_append(&b, fc, fl) != 0) return vial_tpl_failv(r, site, "string too large");
    return str_result(r, &b, self);
}

static vial_value *pad_common(tpl_render *r, const tpl_node *site, vial_value *self, tpl_args *a, int where) {
    int64_t w;
    if (!need_int(r, site, arg(a, 0, NULL), &w)) return NULL;
    return vial_tpl_str_pad(r, site, self, w, esc_arg(r, site, self, arg(a, 1, NULL)), where);
}

M(s_center) { return pad_common(r, site, self, a, 0); }
M(s_ljust) { return pad_common(r, site, self, a, -1); }
M(s_rjust) { return pad_common(r, site, self, a, 1); }

M(s_zfill) {
    int64_t w;
    if (!need_int(r, site, arg(a, 0, NULL), &w)) return NULL;
    int64_t len = (int64_t)vial_tv_cp_len(self->as.s.ptr, self->as.s.len);
    if (w <= len) return self;
    vial_buf b;
    vial_tv_buf(r, &b);
    size_t skip = 0;
    if (self->as.s.len && (self->as.s.ptr[0] == '+' || self->as.s.ptr[0] == '-')) {
        tb_putc(&b, self->as.s.ptr[0]);
        skip = 1;
    }
    for (int64_t i = 0; i < w - len; i++) tb_putc(&b, '0');
    if (tb_append(&b, self->as.s.ptr + skip, self->as.s.len - skip) != 0) return vial_tpl_failv(r, site, "string too large");
    return str_result(r, &b, self);
}

static vial_value *partition(tpl_render *r, const tpl_node *site, vial_value *self, tpl_args *a, bool right) {
    vial_value *sep = esc_arg(r, site, self, arg(a, 0, NULL));
    if (!sep || !need_str(r, site, sep, "must be str")) return NULL;
    if (!sep->as.s.len) return vial_tpl_failv(r, site, "empty separator");
    int64_t cpi = find_sub(self, 0, self->as.s.len, sep, right);
    vial_value *parts[3];
    vial_value *empty = sub_str(r, self, 0, 0);
    if (!empty) return NULL;
    if (cpi < 0) {
        if (right) {
            parts[0] = empty, parts[1] = empty, parts[2] = self;
        } else {
            parts[0] = self, parts[1] = empty, parts[2] = empty;
        }
    } else {
        size_t at = vial_tv_cp_offset(self->as.s.ptr, self->as.s.len, (size_t)cpi);
        parts[0] = sub_str(r, self, 0, at);
        parts[1] = sub_str(r, self, at, sep->as.s.len);
        parts[2] = sub_str(r, self, at + sep->as.s.len, self->as.s.len - at - sep->as.s.len);
        if (!parts[0] || !parts[1] || !parts[2]) return NULL;
    }
    return vial_tv_tuple(r, 3, parts);
}

M(s_partition) { return partition(r, site, self, a, false); }
M(s_rpartition) { return partition(r, site, self, a, true); }

typedef bool (*cp_pred)(uint32_t);
static bool is_ascii(uint32_t cp) { return cp < 0x80; }

static vial_value *all_of(tpl_render *r, vial_value *self, cp_pred pred, bool empty_result) {
    (void)r;
    if (!self->as.s.len) return vial_tv_bool(empty_result);
    for (size_t i = 0; i < self->as.s.len;) {
        uint32_t cp;
        i += vial_tv_next_cp(self->as.s.ptr + i, self->as.s.len - i, &cp);
        if (!pred(cp)) return vial_tv_bool(false);
    }
    return vial_tv_bool(true);
}

M(s_isalnum) { (void)site, (void)a; return all_of(r, self, vial_tv_isalnum_cp, false); }
M(s_isalpha) { (void)site, (void)a; return all_of(r, self, vial_tv_isalpha_cp, false); }
M(s_isdigit) { (void)site, (void)a; return all_of(r, self, vial_tv_isdigit_py_cp, false); }
M(s_isdecimal) { (void)site, (void)a; return all_of(r, self, vial_tv_isdigit_cp, false); }
M(s_isnumeric) { (void)site, (void)a; return all_of(r, self, vial_tv_isnumeric_cp, false); }
M(s_isspace) { (void)site, (void)a; return all_of(r, self, vial_tv_isspace_cp, false); }
M(s_isascii) { (void)site, (void)a; return all_of(r, self, is_ascii, true); }

/* str.islower / str.isupper: no character of the other case or titlecase, at least one cased */
static vial_value *case_check(vial_value *self, bool upper) {
    bool any = false;
    for (size_t i = 0; i < self->as.s.len;) {
        uint32_t cp;
        i += vial_tv_next_cp(self->as.s.ptr + i, self->as.s.len - i, &cp);
        if ((upper ? vial_tv_islower_cp(cp) : vial_tv_isupper_cp(cp)) || vial_tv_istitle_cp(cp)) return vial_tv_bool(false);
        if (upper ? vial_tv_isupper_cp(cp) : vial_tv_islower_cp(cp)) any = true;
    }
    return vial_tv_bool(any);
}

M(s_islower) { (void)r, (void)site, (void)a; return case_check(self, false); }
M(s_isupper) { (void)r, (void)site, (void)a; return case_check(self, true); }

M(s_istitle) {
    (void)r, (void)site, (void)a;
    bool prev_cased = false, any = false;
    for (size_t i = 0; i < self->as.s.len;) {
        uint32_t cp;
        i += vial_tv_next_cp(self->as.s.ptr + i, self->as.s.len - i, &cp);
        if (vial_tv_isupper_cp(cp) || vial_tv_istitle_cp(cp)) {
            if (prev_cased) return vial_tv_bool(false);
            prev_cased = any = true;
        } else if (vial_tv_islower_cp(cp)) {
            if (!prev_cased) return vial_tv_bool(false);
            prev_cased = any = true;
        } else {
            prev_cased = false;
        }
    }
    return vial_tv_bool(any);
}

M(s_isidentifier) {
    (void)r, (void)site, (void)a;
    if (!self->as.s.len) return vial_tv_bool(false);
    bool first = true;
    for (size_t i = 0; i < self->as.s.len;) {
        uint32_t cp;
        i += vial_tv_next_cp(self->as.s.ptr + i, self->as.s.len - i, &cp);
        bool ok = cp < 0x80 ? (cp == '_' || vial_tv_isalpha_cp(cp) || (!first && vial_tv_isalnum_cp(cp)))
                            : (first ? vial_tv_isid_start_cp(cp) : vial_tv_isid_continue_cp(cp));
        if (!ok) return vial_tv_bool(false);
        first = false;
    }
    return vial_tv_bool(true);
}

M(s_removeprefix) {
    vial_value *p = arg(a, 0, NULL);
    if (!need_str(r, site, p, "removeprefix() argument")) return NULL;
    if (p->as.s.len <= self->as.s.len && memcmp(self->as.s.ptr, p->as.s.ptr, p->as.s.len) == 0)
        return sub_str(r, self, p->as.s.len, self->as.s.len - p->as.s.len);
    return self;
}

M(s_removesuffix) {
    vial_value *p = arg(a, 0, NULL);
    if (!need_str(r, site, p, "removesuffix() argument")) return NULL;
    if (p->as.s.len && p->as.s.len <= self->as.s.len &&
        memcmp(self->as.s.ptr + self->as.s.len - p->as.s.len, p->as.s.ptr, p->as.s.len) == 0)
        return sub_str(r, self, 0, self->as.s.len - p->as.s.len);
    return self;
}

M(s_expandtabs) {
    int64_t ts = 8;
    vial_value *t = arg(a, 0, "tabsize");
    if (t && !need_int(r, site, t, &ts)) return NULL;
    vial_buf b;
    vial_tv_buf(r, &b);
    int64_t col = 0;
    for (size_t i = 0; i < self->as.s.len;) {
        uint32_t cp;
        size_t k = vial_tv_next_cp(self->as.s.ptr + i, self->as.s.len - i, &cp);
        if (cp == '\t') {
            if (ts > 0) {
                int64_t nsp = ts - col % ts;
                for (int64_t j = 0; j < nsp; j++) tb_putc(&b, ' ');
                col += nsp;
            }
        } else {
            tb_append(&b, self->as.s.ptr + i, k);
            col = (cp == '\n' || cp == '\r') ? 0 : col + 1;
        }
        i += k;
    }
    return str_result(r, &b, self);
}

M(s_format) { return vial_tpl_str_format(r, site, self, a); }

int vial_tpl_striptags(tpl_render *r, vial_buf *out, const char *s, size_t n);

M(s_striptags) {
    (void)a;
    vial_buf b;
    vial_tv_buf(r, &b);
    if (vial_tpl_striptags(r, &b, self->as.s.ptr, self->as.s.len) != 0) return vial_tpl_failv(r, site, "string too large");
    return vial_tv_buf_value(r, &b, false);
}

M(s_unescape) {
    (void)a;
    vial_buf b;
    vial_tv_buf(r, &b);
    if (vial_tpl_html_unescape(&b, self->as.s.ptr, self->as.s.len) != 0) return vial_tpl_failv(r, site, "string too large");
    return vial_tv_buf_value(r, &b, false);
}

M(s_escape) {
    (void)self;
    vial_value *v = arg(a, 0, "s");
    if (!v) return vial_tpl_failv(r, site, "escape() missing 1 required positional argument: 's'");
    return vial_tv_escape(r, site, v);
}

M(s_html) {
    (void)site, (void)a;
    if (tv_is_safe(self)) return self;
    return vial_tv_strn(r, self->as.s.ptr, self->as.s.len, true);
}

static const method str_methods[] = {
    {"upper", s_upper, 0, 0},         {"lower", s_lower, 0, 0},
    {"title", s_title, 0, 0},         {"capitalize", s_capitalize, 0, 0},
    {"swapcase", s_swapcase, 0, 0},   {"casefold", s_casefold, 0, 0},
    {"strip", s_strip, 0, 1},         {"lstrip", s_lstrip, 0, 1},
    {"rstrip", s_rstrip, 0, 1},       {"split", s_split, 0, 2},
    {"rsplit", s_rsplit, 0, 2},       {"splitlines", s_splitlines, 0, 1},
    {"startswith", s_startswith, 1, 3}, {"endswith", s_endswith, 1, 3},
    {"replace", s_replace, 2, 3},     {"join", s_join, 1, 1},
    {"find", s_find, 1, 3},           {"rfind", s_rfind, 1, 3},
    {"index", s_index, 1, 3},         {"rindex", s_rindex, 1, 3},
    {"count", s_count, 1, 3},         {"center", s_center, 1, 2},
    {"ljust", s_ljust, 1, 2},         {"rjust", s_rjust, 1, 2},
    {"zfill", s_zfill, 1, 1},         {"partition", s_partition, 1, 1},
    {"rpartition", s_rpartition, 1, 1}, {"isalnum", s_isalnum, 0, 0},
    {"isalpha", s_isalpha, 0, 0},     {"isdigit", s_isdigit, 0, 0},
    {"isdecimal", s_isdecimal, 0, 0}, {"isnumeric", s_isnumeric, 0, 0},
    {"isspace", s_isspace, 0, 0},     {"islower", s_islower, 0, 0},
    {"isupper", s_isupper, 0, 0},     {"istitle", s_istitle, 0, 0},
    {"isidentifier", s_isidentifier, 0, 0}, {"isascii", s_isascii, 0, 0},
    {"removeprefix", s_removeprefix, 1, 1}, {"removesuffix", s_removesuffix, 1, 1},
    {"expandtabs", s_expandtabs, 0, 1}, {"format", s_format, 0, 255},
    {NULL, NULL, 0, 0},
};

static const method markup_methods[] = {
    {"striptags", s_striptags, 0, 0}, {"unescape", s_unescape, 0, 0},
    {"escape", s_escape, 1, 1},       {"__html__", s_html, 0, 0},
    {NULL, NULL, 0, 0},
};

/* ---- list / tuple ---- */

static vial_value *copy_list(tpl_render *r, vial_value *self) {
    vial_value *out = new_list(r);
    if (!out) return NULL;
    for (size_t i = 0; i < self->as.arr.len; i++)
        if (push(r, out, self->as.arr.items[i]) != 0) return NULL;
    return out;
}

static bool mutable_list(tpl_render *r, const tpl_node *site, vial_value *self) {
    if (!self->as.arr.arena) {
        vial_tpl_raise(r, site, "this list cannot be modified");
        return false;
    }
    return true;
}

M(l_append) {
    if (!mutable_list(r, site, self)) return NULL;
    if (push(r, self, arg(a, 0, NULL)) != 0) return NULL;
    return vial_value_null();
}

M(l_extend) {
    if (!mutable_list(r, site, self)) return NULL;
    vial_value *list = vial_tv_list(r, site, arg(a, 0, NULL));
    if (!list) return NULL;
    size_t n = list->as.arr.len; /* x.extend(x) adds the items once */
    for (size_t i = 0; i < n; i++)
        if (push(r, self, list->as.arr.items[i]) != 0) return NULL;
    return vial_value_null();
}

M(l_insert) {
    if (!mutable_list(r, site, self)) return NULL;
    int64_t i;
    if (!need_int(r, site, arg(a, 0, NULL), &i)) return NULL;
    int64_t n = (int64_t)self->as.arr.len;
    if (i < 0) i = i + n < 0 ? 0 : i + n;
    if (i > n) i = n;
    if (push(r, self, arg(a, 1, NULL)) != 0) return NULL;
    vial_value **items = self->as.arr.items;
    memmove(items + i + 1, items + i, (size_t)(n - i) * sizeof *items);
    items[i] = arg(a, 1, NULL);
    return vial_value_null();
}

M(l_pop) {
    if (!mutable_list(r, site, self)) return NULL;
    int64_t n = (int64_t)self->as.arr.len, i = n - 1;
    vial_value *iv = arg(a, 0, NULL);
    if (iv && !need_int(r, site, iv, &i)) return NULL;
    if (!n) return vial_tpl_failv(r, site, "pop from empty list");
    if (i < 0) i += n;
    if (i < 0 || i >= n) return vial_tpl_failv(r, site, "pop index out of range");
    vial_value **items = self->as.arr.items;
    vial_value *v = items[i];
    memmove(items + i, items + i + 1, (size_t)(n - i - 1) * sizeof *items);
    self->as.arr.len--;
    return v;
}

M(l_remove) {
    if (!mutable_list(r, site, self)) return NULL;
    vial_value *x = arg(a, 0, NULL);
    for (size_t i = 0; i < self->as.arr.len; i++) {
        if (vial_tv_equal(self->as.arr.items[i], x)) {
            memmove(self->as.arr.items + i, self->as.arr.items + i + 1,
                    (self->as.arr.len - i - 1) * sizeof(vial_value *));
            self->as.arr.len--;
            return vial_value_null();
        }
    }
    return vial_tpl_failv(r, site, "list.remove(x): x not in list");
}

M(l_clear) {
    (void)a;
    if (!mutable_list(r, site, self)) return NULL;
    self->as.arr.len = 0;
    return vial_value_null();
}

M(l_copy) {
    (void)site, (void)a;
    return copy_list(r, self);
}

M(l_count) {
    (void)site;
    vial_value *x = arg(a, 0, NULL);
    int64_t c = 0;
    for (size_t i = 0; i < self->as.arr.len; i++) c += vial_tv_equal(self->as.arr.items[i], x);
    return vial_tv_int(r, c);
}

M(l_index) {
    vial_value *x = arg(a, 0, NULL);
    for (size_t i = 0; i < self->as.arr.len; i++)
        if (vial_tv_equal(self->as.arr.items[i], x)) return vial_tv_int(r, (int64_t)i);
    vial_buf b;
    vial_buf_init(&b, r->arena, 300);
    vial_tv_repr(r, &b, x);
    if (tv_is_tuple(self)) return vial_tpl_failv(r, site, "tuple.index(x): x not in tuple");
    return vial_tpl_failv(r, site, "%s is not in list", vial_buf_cstr(&b));
}

M(l_reverse) {
    (void)a;
    if (!mutable_list(r, site, self)) return NULL;
    vial_value **it = self->as.arr.items;
    for (size_t i = 0, j = self->as.arr.len; i + 1 < j; i++, j--) {
        vial_value *t = it[i];
        it[i] = it[j - 1];
        it[j - 1] = t;
    }
    return vial_value_null();
}

int vial_tpl_sort_values(tpl_render *r, const tpl_node *site, vial_value **items, vial_value **keys, size_t n, bool reverse);

M(l_sort) {
    if (!mutable_list(r, site, self)) return NULL;
    for (size_t k = 0; k < a->nkw; k++)
        if (!(a->kwnames[k].len == 7 && memcmp(a->kwnames[k].ptr, "reverse", 7) == 0))
            return vial_tpl_failv(r, site, "sort() got an unexpected keyword argument '%.*s'", (int)a->kwnames[k].len,
                             a->kwnames[k].ptr);
    if (a->npos) return vial_tpl_failv(r, site, "sort() takes no positional arguments");
    vial_value *rv = arg(a, 99, "reverse");
    int rev = rv ? vial_tv_truthy(r, site, rv) : 0;
    if (rev < 0) return NULL;
    if (vial_tpl_sort_values(r, site, self->as.arr.items, NULL, self->as.arr.len, rev) != 0) return NULL;
    return vial_value_null();
}

static const method list_methods[] = {
    {"append", l_append, 1, 1}, {"extend", l_extend, 1, 1},   {"insert", l_insert, 2, 2},
    {"pop", l_pop, 0, 1},       {"remove", l_remove, 1, 1},   {"clear", l_clear, 0, 0},
    {"copy", l_copy, 0, 0},     {"count", l_count, 1, 1},     {"index", l_index, 1, 3},
    {"reverse", l_reverse, 0, 0}, {"sort", l_sort, 0, 0},     {NULL, NULL, 0, 0},
};

static const method tuple_methods[] = {
    {"count", l_count, 1, 1},
    {"index", l_index, 1, 3},
    {NULL, NULL, 0, 0},
};

/* ---- dict ---- */

static vial_value *view(tpl_render *r, vial_value *self, uint16_t tag) {
    vial_value *out = new_list(r);
    if (!out) return NULL;
    out->tag = tag;
    for (size_t i = 0; i < self->as.obj.len; i++) {
        const vial_member *m = &self->as.obj.items[i];
        vial_value *v;
        if (tag == TPL_TAG_VALUES) {
            v = m->value;
        } else {
            vial_value *key = vial_new_str_ref(r->arena, m->key, m->key_len);
            if (!key) return vial_tpl_oom(r, NULL);
            if (tag == TPL_TAG_KEYS) {
                v = key;
            } else {
                vial_value *pair[2] = {key, m->value};
                v = vial_tv_tuple(r, 2, pair);
            }
        }
        if (push(r, out, v) != 0) return NULL;
    }
    return out;
}

vial_value *vial_tpl_dict_items(tpl_render *r, vial_value *self);
vial_value *vial_tpl_dict_items(tpl_render *r, vial_value *self) { return view(r, self, TPL_TAG_ITEMS); }

M(d_items) { (void)site, (void)a; return view(r, self, TPL_TAG_ITEMS); }
M(d_keys) { (void)site, (void)a; return view(r, self, TPL_TAG_KEYS); }
M(d_values) { (void)site, (void)a; return view(r, self, TPL_TAG_VALUES); }

M(d_get) {
    (void)site;
    vial_value *k = arg(a, 0, NULL), *dflt = arg(a, 1, NULL);
    if (k->type == VIAL_STRING) {
        vial_value *v = vial_object_getn(self, k->as.s.ptr, k->as.s.len);
        if (v) return v;
    }
    (void)r;
    return dflt ? dflt : vial_value_null();
}

static bool mutable_dict(tpl_render *r, const tpl_node *site, vial_value *self) {
    if (!self->as.obj.arena) {
        vial_tpl_raise(r, site, "this dict cannot be modified");
        return false;
    }
    return true;
}

M(d_pop) {
    if (!mutable_dict(r, site, self)) return NULL;
    vial_value *k = arg(a, 0, NULL), *dflt = arg(a, 1, NULL);
    if (k->type == VIAL_STRING) {
        vial_value *v = vial_object_getn(self, k->as.s.ptr, k->as.s.len);
        if (v) {
            char *key = vial_arena_strndup(r->arena, k->as.s.ptr, k->as.s.len);
            if (!key) return vial_tpl_oom(r, site);
            vial_object_del(self, key);
            return v;
        }
    }
    if (dflt) return dflt;
    vial_buf b;
    vial_buf_init(&b, r->arena, 300);
    vial_tv_repr(r, &b, k);
    return vial_tpl_failv(r, site, "%s", vial_buf_cstr(&b));
}

M(d_popitem) {
    (void)a;
    if (!mutable_dict(r, site, self)) return NULL;
    if (!self->as.obj.len) return vial_tpl_failv(r, site, "'popitem(): dictionary is empty'");
    vial_member *m = &self->as.obj.items[self->as.obj.len - 1];
    vial_value *pair[2] = {vial_new_str_ref(r->arena, m->key, m->key_len), m->value};
    if (!pair[0]) return vial_tpl_oom(r, site);
    vial_value *t = vial_tv_tuple(r, 2, pair);
    vial_object_del(self, m->key);
    return t;
}

M(d_setdefault) {
    if (!mutable_dict(r, site, self)) return NULL;
    vial_value *k = arg(a, 0, NULL), *dflt = arg(a, 1, NULL);
    if (!dflt) dflt = vial_value_null();
    vial_value *ks = vial_tv_to_str(r, site, k);
    if (!ks) return NULL;
    vial_value *v = vial_object_getn(self, ks->as.s.ptr, ks->as.s.len);
    if (v) return v;
    if (vial_object_setn(self, ks->as.s.ptr, ks->as.s.len, dflt) != 0) return vial_tpl_oom(r, site);
    return dflt;
}

M(d_update) {
    if (!mutable_dict(r, site, self)) return NULL;
    if (a->npos > 1) return vial_tpl_failv(r, site, "update expected at most 1 argument, got %zu", a->npos);
    if (a->npos) {
        vial_value *src = a->pos[0];
        if (src->type == VIAL_OBJECT) {
            for (size_t i = 0; i < src->as.obj.len; i++)
                if (vial_object_setn(self, src->as.obj.items[i].key, src->as.obj.items[i].key_len,
                                     src->as.obj.items[i].value) != 0)
                    return vial_tpl_oom(r, site);
        } else {
            vial_value *list = vial_tv_list(r, site, src);
            if (!list) return NULL;
            for (size_t i = 0; i < list->as.arr.len; i++) {
                vial_value *pair = vial_tv_list(r, site, list->as.arr.items[i]);
                if (!pair) return NULL;
                if (pair->as.arr.len != 2)
                    return vial_tpl_failv(r, site, "dictionary update sequence element #%zu has length %zu; 2 is required",
                                     i, pair->as.arr.len);
                vial_value *ks = vial_tv_to_str(r, site, pair->as.arr.items[0]);
                if (!ks) return NULL;
                if (vial_object_setn(self, ks->as.s.ptr, ks->as.s.len, pair->as.arr.items[1]) != 0)
                    return vial_tpl_oom(r, site);
            }
        }
    }
    for (size_t i = 0; i < a->nkw; i++)
        if (vial_object_setn(self, a->kwnames[i].ptr, a->kwnames[i].len, a->kwvals[i]) != 0) return vial_tpl_oom(r, site);
    return vial_value_null();
}

M(d_copy) {
    (void)a;
    vial_value *out = vial_new_object(r->arena);
    if (!out) return vial_tpl_oom(r, site);
    for (size_t i = 0; i < self->as.obj.len; i++)
        if (vial_object_set_ref(out, self->as.obj.items[i].key, self->as.obj.items[i].key_len,
                                self->as.obj.items[i].value) != 0)
            return vial_tpl_oom(r, site);
    return out;
}

M(d_clear) {
    (void)a;
    if (!mutable_dict(r, site, self)) return NULL;
    while (self->as.obj.len) vial_object_del(self, self->as.obj.items[self->as.obj.len - 1].key);
    return vial_value_null();
}

static const method dict_methods[] = {
    {"items", d_items, 0, 0},   {"keys", d_keys, 0, 0},   {"values", d_values, 0, 0},
    {"get", d_get, 1, 2},       {"pop", d_pop, 1, 2},     {"popitem", d_popitem, 0, 0},
    {"setdefault", d_setdefault, 1, 2}, {"update", d_update, 0, 1}, {"copy", d_copy, 0, 0},
    {"clear", d_clear, 0, 0},   {NULL, NULL, 0, 0},
};

/* ---- numbers and ranges ---- */

M(n_bit_length) {
    (void)site, (void)a;
    int64_t v = self->type == VIAL_BOOL ? self->as.b : self->as.i;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    int bits = 0;
    while (u) bits++, u >>= 1;
    return vial_tv_int(r, bits);
}

M(n_conjugate) {
    (void)r, (void)site, (void)a;
    return self;
}

M(f_is_integer) {
    (void)r, (void)site, (void)a;
    double d = self->as.d;
    return vial_tv_bool(d == (double)(int64_t)d || (d == d && (d > 9.2e18 || d < -9.2e18) && d - d == 0));
}

static const method int_methods[] = {
    {"bit_length", n_bit_length, 0, 0},
    {"conjugate", n_conjugate, 0, 0},
    {NULL, NULL, 0, 0},
};

static const method float_methods[] = {
    {"is_integer", f_is_integer, 0, 0},
    {"conjugate", n_conjugate, 0, 0},
    {NULL, NULL, 0, 0},
};

M(rg_count) {
    (void)site;
    int c = vial_tv_contains(r, site, self, arg(a, 0, NULL));
    if (c < 0) return NULL;
    return vial_tv_int(r, c);
}

M(rg_index) {
    vial_value *x = arg(a, 0, NULL);
    int c = vial_tv_contains(r, site, self, x);
    if (c < 0) return NULL;
    if (!c) return vial_tpl_failv(r, site, "%lld is not in range", (long long)(x->type == VIAL_INT ? x->as.i : 0));
    tpl_range *rg = (tpl_range *)self;
    return vial_tv_int(r, (x->as.i - rg->start) / rg->step);
}

static const method range_methods[] = {
    {"count", rg_count, 1, 1},
    {"index", rg_index, 1, 1},
    {NULL, NULL, 0, 0},
};

/* ---- dispatch ---- */

static const method *find_in(const method *table, const char *name, size_t len) {
    for (const method *m = table; m->name; m++)
        if (m->name[0] == name[0] && strlen(m->name) == len && memcmp(m->name, name, len) == 0) return m;
    return NULL;
}

static const method *lookup(const vial_value *obj, const char *name, size_t len) {
    if (!len) return NULL;
    switch (tv_kind(obj)) {
    case TK_STRING: {
        const method *m = find_in(str_methods, name, len);
        if (!m && tv_is_safe(obj)) m = find_in(markup_methods, name, len);
        return m;
    }
    case TK_ARRAY:
        if (obj->tag == TPL_TAG_KEYS || obj->tag == TPL_TAG_VALUES || obj->tag == TPL_TAG_ITEMS) return NULL;
        return find_in(tv_is_tuple(obj) ? tuple_methods : list_methods, name, len);
    case TK_OBJECT:
        /* hot path: most attribute names are not dict methods */
        if (len < 3 || len > 10) return NULL;
        switch (name[0]) {
        case 'i': case 'k': case 'v': case 'g': case 'p': case 's': case 'u': case 'c':
            return find_in(dict_methods, name, len);
        default: return NULL;
        }
    case TK_INT:
    case TK_BOOL: return find_in(int_methods, name, len);
    case TK_DOUBLE: return find_in(float_methods, name, len);
    case TK_RANGE: return find_in(range_methods, name, len);
    default: return NULL;
    }
}

bool vial_tpl_has_method(const vial_value *obj, const char *name, size_t len) { return lookup(obj, name, len) != NULL; }

vial_value *vial_tpl_call_method(tpl_render *r, const tpl_node *site, vial_value *obj, const char *name, size_t len,
                            tpl_args *a, bool *found) {
    const method *m = lookup(obj, name, len);
    *found = m != NULL;
    if (!m) return NULL;
    bool kw_ok = m->fn == s_format || m->fn == s_split || m->fn == s_rsplit || m->fn == s_splitlines ||
                 m->fn == d_update || m->fn == l_sort || m->fn == s_expandtabs || m->fn == s_escape;
    if (a->nkw && !kw_ok)
        return vial_tpl_failv(r, site, "%s() takes no keyword arguments", m->name);
    if (m->fn != s_format && m->fn != d_update && m->fn != l_sort) {
        size_t given = a->npos + a->nkw;
        if (given < m->min || a->npos > m->max)
            return vial_tpl_failv(r, site, "%s() takes %s %u argument%s (%zu given)", m->name,
                             m->min == m->max ? "exactly" : given < m->min ? "at least" : "at most",
                             given < m->min ? m->min : m->max, (given < m->min ? m->min : m->max) == 1 ? "" : "s",
                             given);
    }
    return m->fn(r, site, obj, a);
}
