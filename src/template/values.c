/* values.c - Python's semantics over vial_value.
 *
 * Jinja2 templates compute with Python objects, so the same template prints
 * the same bytes only if str(), repr(), ==, <, `in`, arithmetic and
 * truthiness behave as Python's do: `1/2` is 0.5, `-7//2` is -4, `-7 % 3` is
 * 2, floats print with repr ("1.0", "1e+16"), lists print as
 * "[1, 'a']", True + 1 is 2, 'a' < 'b' but 1 < 'a' is a TypeError, and a
 * Markup string concatenated with a plain one escapes the plain one. Strings
 * are UTF-8 and measured in code points, as Python measures them.
 *
 * Integers are 64-bit: an operation that would need Python's big integers
 * fails with a clear error instead of wrapping. Character classes and case
 * mappings are Python's own (unicode.c). */
#include "template/tpl.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char vial_tpl_marker[] = "vial-template-object";

void *vial_tpl_obj_new(vial_arena *a, size_t size, int kind) {
    tpl_obj *o = vial_arena_calloc(a, size);
    if (!o) return NULL;
    o->base.type = VIAL_NULL;
    o->base.as.s.ptr = vial_tpl_marker;
    o->base.as.s.len = (size_t)kind;
    return o;
}

/* ---- constructors ---- */

vial_value *vial_tv_bool(bool b) { return vial_new_bool(NULL, b); }

/* Integers are immutable, so small ones are shared: loop.index costs no allocation. */
#define SMALL_INTS 1024
static vial_value small_ints[SMALL_INTS];
static pthread_once_t small_once = PTHREAD_ONCE_INIT;

static void small_init(void) {
    for (int i = 0; i < SMALL_INTS; i++) {
        small_ints[i].type = VIAL_INT;
        small_ints[i].as.i = i;
    }
}

vial_value *vial_tv_int(tpl_render *r, int64_t i) {
    if (i >= 0 && i < SMALL_INTS) {
        pthread_once(&small_once, small_init);
        return &small_ints[i];
    }
    vial_value *v = vial_new_int(r->arena, i);
    if (!v) vial_tpl_oom(r, NULL);
    return v;
}

vial_value *vial_tv_double(tpl_render *r, double d) {
    vial_value *v = vial_new_double(r->arena, d);
    if (!v) vial_tpl_oom(r, NULL);
    return v;
}

vial_value *vial_tv_strn(tpl_render *r, const char *s, size_t n, bool safe) {
    vial_value *v = vial_arena_alloc(r->arena, sizeof *v);
    char *copy = v ? vial_arena_strndup(r->arena, s, n) : NULL;
    if (!copy) return vial_tpl_oom(r, NULL);
    memset(v, 0, sizeof *v);
    v->type = VIAL_STRING;
    v->flags = safe ? VIAL_FLAG_SAFE : 0;
    v->as.s.ptr = copy;
    v->as.s.len = n;
    return v;
}

/* Wraps a buffer's bytes without copying (the buffer must not be reused). */
vial_value *vial_tv_buf_value(tpl_render *r, vial_buf *b, bool safe) {
    vial_value *v = vial_arena_alloc(r->arena, sizeof *v);
    if (!v) return vial_tpl_oom(r, NULL);
    v->type = VIAL_STRING;
    v->flags = safe ? VIAL_FLAG_SAFE : 0;
    v->tag = 0;
    v->as.s.ptr = vial_buf_cstr(b);
    v->as.s.len = b->len;
    return v;
}

/* A string value and room for its n bytes (plus the NUL) in one allocation. */
vial_value *vial_tv_new_str(tpl_render *r, size_t n, char **bytes) {
    vial_value *v = vial_arena_alloc(r->arena, sizeof *v + n + 1);
    if (!v) return vial_tpl_oom(r, NULL);
    char *d = (char *)(v + 1);
    d[n] = 0;
    v->type = VIAL_STRING;
    v->flags = 0;
    v->tag = 0;
    v->as.s.ptr = d;
    v->as.s.len = n;
    *bytes = d;
    return v;
}

vial_value *vial_tv_tuple(tpl_render *r, size_t n, vial_value **items) {
    vial_value *t = vial_new_array(r->arena);
    if (!t) return vial_tpl_oom(r, NULL);
    t->tag = VIAL_TAG_TUPLE;
    if (n) {
        t->as.arr.items = vial_arena_alloc(r->arena, n * sizeof *items);
        if (!t->as.arr.items) return vial_tpl_oom(r, NULL);
        memcpy(t->as.arr.items, items, n * sizeof *items);
        t->as.arr.len = t->as.arr.cap = n;
    }
    return t;
}

void vial_tv_buf(tpl_render *r, vial_buf *b) { vial_buf_init(b, r->arena, r->max_output ? r->max_output : (64u << 20)); }

/* ---- Unicode ---- */

size_t vial_tv_next_cp(const char *s, size_t n, uint32_t *cp) {
    unsigned char c = (unsigned char)s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t k = vial_utf8_decode(s, n, cp);
    if (k == 0) {
        *cp = 0xDC00 + c; /* like Python's surrogateescape: one invalid byte, kept apart */
        return 1;
    }
    return k;
}

int vial_tv_put_cp(vial_buf *b, uint32_t cp) {
    if (cp >= 0xDC80 && cp <= 0xDCFF) return tb_putc(b, (int)(cp - 0xDC00));
    char tmp[4];
    size_t k = vial_utf8_encode(cp, tmp);
    return tb_append(b, tmp, k);
}

bool vial_tv_isspace_cp(uint32_t cp) {
    if (cp < 0x80) return cp == ' ' || (cp >= '\t' && cp <= '\r') || (cp >= 0x1c && cp <= 0x1f);
    return cp == 0x85 || cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 ||
           cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000;
}

size_t vial_tv_cp_len(const char *s, size_t n) {
    size_t count = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            i++;
        } else {
            uint32_t cp;
            i += vial_tv_next_cp(s + i, n - i, &cp);
        }
        count++;
    }
    return count;
}

size_t vial_tv_cp_offset(const char *s, size_t n, size_t idx) {
    size_t i = 0;
    for (size_t k = 0; k < idx && i < n; k++) {
        uint32_t cp;
        i += vial_tv_next_cp(s + i, n - i, &cp);
    }
    return i;
}

/* ---- type names ---- */

const char *vial_tv_type_name(const vial_value *v) {
    switch (tv_kind(v)) {
    case TK_NULL: return "NoneType";
    case TK_BOOL: return "bool";
    case TK_INT: return "int";
    case TK_DOUBLE: return "float";
    case TK_STRING: return tv_is_safe(v) ? "Markup" : "str";
    case TK_ARRAY:
        if (v->tag == TPL_TAG_KEYS) return "dict_keys";
        if (v->tag == TPL_TAG_VALUES) return "dict_values";
        if (v->tag == TPL_TAG_ITEMS) return "dict_items";
        return tv_is_tuple(v) ? "tuple" : "list";
    case TK_OBJECT: return "dict";
    case TK_UNDEF: return "Undefined";
    case TK_MACRO: return "Macro";
    case TK_FUNC: {
        const tpl_func *f = (const tpl_func *)v;
        if (f->fkind == FN_METHOD) return "builtin_function_or_method";
        if (f->fkind == FN_BLOCK) return "BlockReference";
        if (f->fkind == FN_BUILTIN) return "type";
        return "function";
    }
    case TK_LOOP: return "LoopContext";
    case TK_NAMESPACE: return "Namespace";
    case TK_CYCLER: return "Cycler";
    case TK_JOINER: return "Joiner";
    case TK_MODULE: return "TemplateModule";
    case TK_SELF: return "TemplateReference";
    case TK_RANGE: return "range";
    }
    return "object";
}

const char *vial_tv_object_type_repr(const vial_value *v) {
    int k = tv_kind(v);
    if (k == TK_NULL) return "None";
    switch (k) {
    case TK_BOOL: return "bool object";
    case TK_INT: return "int object";
    case TK_DOUBLE: return "float object";
    case TK_STRING: return tv_is_safe(v) ? "markupsafe.Markup object" : "str object";
    case TK_ARRAY: return tv_is_tuple(v) ? "tuple object" : "list object";
    case TK_OBJECT: return "dict object";
    case TK_MACRO: return "jinja2.runtime.Macro object";
    case TK_LOOP: return "jinja2.runtime.LoopContext object";
    case TK_NAMESPACE: return "jinja2.utils.Namespace object";
    case TK_CYCLER: return "jinja2.utils.Cycler object";
    case TK_JOINER: return "jinja2.utils.Joiner object";
    case TK_MODULE: return "jinja2.environment.TemplateModule object";
    case TK_SELF: return "jinja2.runtime.TemplateReference object";
    case TK_RANGE: return "range object";
    case TK_FUNC: return "builtin_function_or_method object";
    default: return "object";
    }
}

/* ---- str() and repr() ---- */

static int repr_string(vial_buf *b, const char *s, size_t n) {
    bool has_single = memchr(s, '\'', n) != NULL, has_double = memchr(s, '"', n) != NULL;
    char quote = has_single && !has_double ? '"' : '\'';
    if (tb_putc(b, quote) != 0) return -1;
    size_t run = 0;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        char esc[16];
        const char *e = NULL;
        size_t k = 1;
        if (c < 0x80) {
            if (c == (unsigned char)quote || c == '\\') {
                esc[0] = '\\', esc[1] = (char)c, esc[2] = 0;
                e = esc;
            } else if (c == '\t') {
                e = "\\t";
            } else if (c == '\n') {
                e = "\\n";
            } else if (c == '\r') {
                e = "\\r";
            } else if (c < 0x20 || c == 0x7f) {
                snprintf(esc, sizeof esc, "\\x%02x", c);
                e = esc;
            }
        } else {
            uint32_t cp;
            k = vial_tv_next_cp(s + i, n - i, &cp);
            if (!vial_tv_isprintable_cp(cp)) {
                if (cp >= 0xDC80 && cp <= 0xDCFF) cp = 0xDC00 + (cp & 0xff);
                if (cp <= 0xff)
                    snprintf(esc, sizeof esc, "\\x%02x", cp);
                else if (cp <= 0xffff)
                    snprintf(esc, sizeof esc, "\\u%04x", cp);
                else
                    snprintf(esc, sizeof esc, "\\U%08x", cp);
                e = esc;
            }
        }
        if (e) {
            if (run && tb_append(b, s + i - run, run) != 0) return -1;
            run = 0;
            if (tb_puts(b, e) != 0) return -1;
        } else {
            run += k;
        }
        i += k;
    }
    if (run && tb_append(b, s + n - run, run) != 0) return -1;
    return tb_putc(b, quote);
}

static int put_double(vial_buf *b, double d) {
    char tmp[VIAL_DOUBLE_BUFSIZE];
    size_t n = vial_format_double(tmp, d);
    return tb_append(b, tmp, n);
}

static _Thread_local int repr_depth;

static int repr_value(tpl_render *r, vial_buf *b, const vial_value *v, bool top_str);

static int repr_seq(tpl_render *r, vial_buf *b, const vial_value *v) {
    const char *view = v->tag == TPL_TAG_KEYS ? "dict_keys(" : v->tag == TPL_TAG_VALUES ? "dict_values(" : v->tag == TPL_TAG_ITEMS ? "dict_items(" : NULL;
    if (view) {
        vial_value plain = *v;
        plain.tag = 0;
        if (tb_puts(b, view) != 0 || repr_seq(r, b, &plain) != 0) return -1;
        return tb_putc(b, ')');
    }
    bool tuple = tv_is_tuple(v);
    if (tb_putc(b, tuple ? '(' : '[') != 0) return -1;
    for (size_t i = 0; i < v->as.arr.len; i++) {
        if (i && tb_append(b, ", ", 2) != 0) return -1;
        if (repr_value(r, b, v->as.arr.items[i], false) != 0) return -1;
    }
    if (tuple && v->as.arr.len == 1 && tb_putc(b, ',') != 0) return -1;
    return tb_putc(b, tuple ? ')' : ']');
}

static int repr_dict(tpl_render *r, vial_buf *b, const vial_value *v) {
    if (tb_putc(b, '{') != 0) return -1;
    for (size_t i = 0; i < v->as.obj.len; i++) {
        const vial_member *m = &v->as.obj.items[i];
        if (i && tb_append(b, ", ", 2) != 0) return -1;
        if (repr_string(b, m->key, m->key_len) != 0 || tb_append(b, ": ", 2) != 0 ||
            repr_value(r, b, m->value, false) != 0)
            return -1;
    }
    return tb_putc(b, '}');
}

static int repr_value(tpl_render *r, vial_buf *b, const vial_value *v, bool top_str) {
    if (!v) return tb_puts(b, "None");
    switch (tv_kind(v)) {
    case TK_NULL: return tb_append(b, "None", 4);
    case TK_BOOL: return v->as.b ? tb_append(b, "True", 4) : tb_append(b, "False", 5);
    case TK_INT: return vial_buf_put_i64(b, v->as.i);
    case TK_DOUBLE: return put_double(b, v->as.d);
    case TK_STRING:
        if (top_str) return tb_append(b, v->as.s.ptr, v->as.s.len);
        if (tv_is_safe(v)) {
            if (tb_append(b, "Markup(", 7) != 0 || repr_string(b, v->as.s.ptr, v->as.s.len) != 0) return -1;
            return tb_putc(b, ')');
        }
        return repr_string(b, v->as.s.ptr, v->as.s.len);
    case TK_ARRAY:
    case TK_OBJECT: {
        if (++repr_depth > 200) {
            repr_depth--;
            return tb_append(b, "...", 3);
        }
        int rc = v->type == VIAL_ARRAY ? repr_seq(r, b, v) : repr_dict(r, b, v);
        repr_depth--;
        return rc;
    }
    case TK_UNDEF:
        if (top_str) {
            if (r && r->strict) return vial_tpl_undef_fail(r, NULL, v);
            return 0;
        }
        return tb_append(b, "Undefined", 9);
    case TK_MACRO: {
        const tpl_macro *m = (const tpl_macro *)v;
        if (m->def->call) return tb_puts(b, "<Macro anonymous>");
        return vial_buf_printf(b, "<Macro '%.*s'>", (int)m->def->name.len, m->def->name.ptr);
    }
    case TK_FUNC: {
        const tpl_func *f = (const tpl_func *)v;
        switch (f->fkind) {
        case FN_BUILTIN:
            if (strcmp(f->name, "range") == 0 || strcmp(f->name, "dict") == 0)
                return vial_buf_printf(b, "<class '%s'>", f->name);
            if (strcmp(f->name, "lipsum") == 0) return tb_puts(b, "<function generate_lorem_ipsum>");
            return vial_buf_printf(b, "<class 'jinja2.utils.%s'>",
                                   strcmp(f->name, "cycler") == 0   ? "Cycler"
                                   : strcmp(f->name, "joiner") == 0 ? "Joiner"
                                                                    : "Namespace");
        case FN_USER: return vial_buf_printf(b, "<function %s>", f->name);
        case FN_METHOD:
            return vial_buf_printf(b, "<built-in method %s of %s>", f->name, vial_tv_object_type_repr(f->self));
        case FN_BLOCK: return vial_buf_printf(b, "<BlockReference %s>", f->name);
        default: return vial_buf_printf(b, "<bound method %s>", f->name);
        }
    }
    case TK_LOOP: {
        const tpl_loop *l = (const tpl_loop *)v;
        return vial_buf_printf(b, "<LoopContext %zu/%zu>", l->index0 + 1, l->len);
    }
    case TK_NAMESPACE: {
        const tpl_ns *ns = (const tpl_ns *)v;
        if (tb_puts(b, "<Namespace ") != 0 || repr_dict(r, b, ns->attrs) != 0) return -1;
        return tb_putc(b, '>');
    }
    case TK_CYCLER: return tb_puts(b, "<jinja2.utils.Cycler object>");
    case TK_JOINER: return tb_puts(b, "<jinja2.utils.Joiner object>");
    case TK_MODULE: {
        const tpl_module *m = (const tpl_module *)v;
        if (top_str) return m->body ? tb_append(b, m->body->as.s.ptr, m->body->as.s.len) : 0;
        return vial_buf_printf(b, "<TemplateModule '%s'>", m->name ? m->name : "");
    }
    case TK_SELF: {
        const tpl_selfref *s = (const tpl_selfref *)v;
        const char *name = s->ctx && s->ctx->tmpl && s->ctx->tmpl->name ? s->ctx->tmpl->name : "";
        if (!*name) return tb_puts(b, "<TemplateReference None>");
        return vial_buf_printf(b, "<TemplateReference '%s'>", name);
    }
    case TK_RANGE: {
        const tpl_range *rg = (const tpl_range *)v;
        if (rg->step == 1) return vial_buf_printf(b, "range(%lld, %lld)", (long long)rg->start, (long long)rg->stop);
        return vial_buf_printf(b, "range(%lld, %lld, %lld)", (long long)rg->start, (long long)rg->stop,
                               (long long)rg->step);
    }
    }
    return tb_puts(b, "<object>");
}

int vial_tv_str(tpl_render *r, vial_buf *b, const vial_value *v) {
    if (v->type == VIAL_STRING) return tb_append(b, v->as.s.ptr, v->as.s.len);
    if (v->type == VIAL_INT) return vial_buf_put_i64(b, v->as.i);
    return repr_value(r, b, v, true);
}

int vial_tv_repr(tpl_render *r, vial_buf *b, const vial_value *v) { return repr_value(r, b, v, false); }

vial_value *vial_tv_to_str(tpl_render *r, const tpl_node *site, vial_value *v) {
    if (v->type == VIAL_STRING) return v;
    vial_buf b;
    vial_tv_buf(r, &b);
    if (vial_tv_str(r, &b, v) != 0) {
        if (r->failed) return NULL;
        return vial_tpl_failv(r, site, "output too large");
    }
    return vial_tv_buf_value(r, &b, false);
}

vial_value *vial_tv_to_plain_str(tpl_render *r, const tpl_node *site, vial_value *v) {
    if (v->type == VIAL_STRING) {
        if (!(v->flags & VIAL_FLAG_SAFE)) return v;
        return vial_tv_strn(r, v->as.s.ptr, v->as.s.len, false);
    }
    return vial_tv_to_str(r, site, v);
}

const char vial_tv_digit_pairs[200] = {
    '0', '0', '0', '1', '0', '2', '0', '3', '0', '4', '0', '5', '0', '6', '0', '7', '0', '8', '0', '9',
    '1', '0', '1', '1', '1', '2', '1', '3', '1', '4', '1', '5', '1', '6', '1', '7', '1', '8', '1', '9',
    '2', '0', '2', '1', '2', '2', '2', '3', '2', '4', '2', '5', '2', '6', '2', '7', '2', '8', '2', '9',
    '3', '0', '3', '1', '3', '2', '3', '3', '3', '4', '3', '5', '3', '6', '3', '7', '3', '8', '3', '9',
    '4', '0', '4', '1', '4', '2', '4', '3', '4', '4', '4', '5', '4', '6', '4', '7', '4', '8', '4', '9',
    '5', '0', '5', '1', '5', '2', '5', '3', '5', '4', '5', '5', '5', '6', '5', '7', '5', '8', '5', '9',
    '6', '0', '6', '1', '6', '2', '6', '3', '6', '4', '6', '5', '6', '6', '6', '7', '6', '8', '6', '9',
    '7', '0', '7', '1', '7', '2', '7', '3', '7', '4', '7', '5', '7', '6', '7', '7', '7', '8', '7', '9',
    '8', '0', '8', '1', '8', '2', '8', '3', '8', '4', '8', '5', '8', '6', '8', '7', '8', '8', '8', '9',
    '9', '0', '9', '1', '9', '2', '9', '3', '9', '4', '9', '5', '9', '6', '9', '7', '9', '8', '9', '9',
};

/* ---- escaping ---- */

static const unsigned char escape_class[256] = {['&'] = 1, ['<'] = 2, ['>'] = 3, ['"'] = 4, ['\''] = 5};
static const char *const escape_text[] = {NULL, "&amp;", "&lt;", "&gt;", "&#34;", "&#39;"};
static const uint8_t escape_len[] = {0, 5, 4, 4, 5, 5};

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#if defined(__SSE2__)
/* Bit i set when byte i of v is one escaping changes. */
static inline unsigned escape_mask(__m128i v) {
    const __m128i amp = _mm_set1_epi8('&'), lt = _mm_set1_epi8('<'), gt = _mm_set1_epi8('>'),
                  dq = _mm_set1_epi8('"'), sq = _mm_set1_epi8('\'');
    __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, amp), _mm_cmpeq_epi8(v, lt)),
                             _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, gt), _mm_cmpeq_epi8(v, dq)),
                                          _mm_cmpeq_epi8(v, sq)));
    return (unsigned)_mm_movemask_epi8(m);
}
#endif

size_t vial_tv_escape_scan(const char *s, size_t n) {
#if defined(__SSE2__)
    /* 16 bytes per step, the tail as one more (overlapping) step; strings
     * under 16 bytes as two overlapping halves in one register. Every load
     * stays inside s[0, n). */
    if (n >= 16) {
        size_t i = 0;
        for (; i + 16 <= n; i += 16) {
            unsigned mask = escape_mask(_mm_loadu_si128((const __m128i *)(s + i)));
            if (mask) return i + (size_t)__builtin_ctz(mask);
        }
        if (i == n) return n;
        unsigned mask = escape_mask(_mm_loadu_si128((const __m128i *)(s + n - 16))) >> (i - (n - 16));
        return mask ? i + (size_t)__builtin_ctz(mask) : n;
    }
    if (n >= 8) {
        uint64_t lo, hi;
        memcpy(&lo, s, 8);
        memcpy(&hi, s + n - 8, 8);
        unsigned mask = escape_mask(_mm_set_epi64x((long long)hi, (long long)lo));
        if (mask & 0xff) return (size_t)__builtin_ctz(mask);
        return mask ? n - 8 + (size_t)__builtin_ctz(mask >> 8) : n;
    }
    if (n >= 4) {
        uint32_t lo, hi;
        memcpy(&lo, s, 4);
        memcpy(&hi, s + n - 4, 4);
        unsigned mask = escape_mask(_mm_set_epi32(0, 0, (int)hi, (int)lo)) & 0xff;
        if (mask & 0xf) return (size_t)__builtin_ctz(mask);
        return mask ? n - 4 + (size_t)__builtin_ctz(mask >> 4) : n;
    }
#endif
    for (size_t i = 0; i < n; i++)
        if (escape_class[(unsigned char)s[i]]) return i;
    return n;
}

int vial_tv_escape_into(vial_buf *b, const char *s, size_t n) {
    size_t first = vial_tv_escape_scan(s, n);
    if (first == n) return tb_append(b, s, n);
    if (n <= 256 && n * 5 < b->cap - b->len) {
        /* room for the worst case: clean runs copied whole, found by the scan, no calls into vial_buf */
        char *d = b->data + b->len;
        size_t i = 0, next = first;
        for (;;) {
            tb_copy(d, s + i, next - i);
            d += next - i;
            if (next == n) break;
            unsigned char k = escape_class[(unsigned char)s[next]];
            memcpy(d, escape_text[k], 5);
            d += escape_len[k];
            i = next + 1;
            if (n - i < 16) {
                /* a short rest: one byte at a time is cheaper than scanning it */
                for (; i < n; i++) {
                    k = escape_class[(unsigned char)s[i]];
                    if (!k) {
                        *d++ = s[i];
                        continue;
                    }
                    memcpy(d, escape_text[k], 5);
                    d += escape_len[k];
                }
                break;
            }
            next = i + vial_tv_escape_scan(s + i, n - i);
        }
        b->len = (size_t)(d - b->data);
        b->data[b->len] = 0;
        return 0;
    }
    size_t i = first;
    if (tb_append(b, s, i) != 0) return -1;
    while (i < n) {
        unsigned char k = escape_class[(unsigned char)s[i]];
        if (tb_append(b, escape_text[k], escape_len[k]) != 0) return -1;
        i++;
        size_t next = i + vial_tv_escape_scan(s + i, n - i);
        if (next > i && tb_append(b, s + i, next - i) != 0) return -1;
        i = next;
    }
    return 0;
}

vial_value *vial_tv_escape(tpl_render *r, const tpl_node *site, vial_value *v) {
    if (tv_is_safe(v)) return v;
    if (v->type == VIAL_STRING) {
        const char *s = v->as.s.ptr;
        size_t n = v->as.s.len, i = 0;
        while (i < n && !escape_class[(unsigned char)s[i]]) i++;
        if (i == n) {
            vial_value *c = vial_new_str_ref(r->arena, s, n);
            if (!c) return vial_tpl_oom(r, site);
            c->flags = VIAL_FLAG_SAFE;
            return c;
        }
        vial_buf b;
        vial_tv_buf(r, &b);
        if (vial_tv_escape_into(&b, s, n) != 0) return vial_tpl_failv(r, site, "output too large");
        return vial_tv_buf_value(r, &b, true);
    }
    if (tv_kind(v) == TK_UNDEF && r->strict) {
        vial_tpl_undef_fail(r, site, v);
        return NULL;
    }
    vial_buf tmp;
    vial_tv_buf(r, &tmp);
    if (vial_tv_str(r, &tmp, v) != 0) return r->failed ? NULL : vial_tpl_failv(r, site, "output too large");
    vial_buf b;
    vial_tv_buf(r, &b);
    if (vial_tv_escape_into(&b, tmp.data ? tmp.data : "", tmp.len) != 0) return vial_tpl_failv(r, site, "output too large");
    return vial_tv_buf_value(r, &b, true);
}

/* ---- truthiness, length, equality ---- */

int64_t vial_tpl_range_len(const tpl_range *rg) {
    if (rg->step > 0 && rg->start < rg->stop) return (rg->stop - rg->start - 1) / rg->step + 1;
    if (rg->step < 0 && rg->start > rg->stop) return (rg->start - rg->stop - 1) / (-rg->step) + 1;
    return 0;
}

int vial_tv_truthy(tpl_render *r, const tpl_node *site, const vial_value *v) {
    switch (tv_kind(v)) {
    case TK_NULL: return 0;
    case TK_BOOL: return v->as.b;
    case TK_INT: return v->as.i != 0;
    case TK_DOUBLE: return v->as.d != 0.0;
    case TK_STRING: return v->as.s.len != 0;
    case TK_ARRAY: return v->as.arr.len != 0;
    case TK_OBJECT: return v->as.obj.len != 0;
    case TK_UNDEF:
        if (r && r->strict) return vial_tpl_undef_fail(r, site, v);
        return 0;
    case TK_RANGE: return vial_tpl_range_len((const tpl_range *)v) != 0;
    default: return 1;
    }
}

int64_t vial_tv_len(tpl_render *r, const tpl_node *site, const vial_value *v) {
    switch (tv_kind(v)) {
    case TK_STRING: return (int64_t)vial_tv_cp_len(v->as.s.ptr, v->as.s.len);
    case TK_ARRAY: return (int64_t)v->as.arr.len;
    case TK_OBJECT: return (int64_t)v->as.obj.len;
    case TK_RANGE: return vial_tpl_range_len((const tpl_range *)v);
    case TK_LOOP: return (int64_t)((const tpl_loop *)v)->len;
    case TK_NAMESPACE: break;
    case TK_UNDEF:
        if (r->strict) return vial_tpl_undef_fail(r, site, v);
        return 0;
    default: break;
    }
    vial_tpl_raise(r, site, "object of type '%s' has no len()", vial_tv_type_name(v));
    return -1;
}

bool vial_tv_is_number(const vial_value *v) { return v->type == VIAL_INT || v->type == VIAL_DOUBLE || v->type == VIAL_BOOL; }

double vial_tv_as_double(const vial_value *v) {
    if (v->type == VIAL_DOUBLE) return v->as.d;
    if (v->type == VIAL_INT) return (double)v->as.i;
    if (v->type == VIAL_BOOL) return v->as.b;
    return 0;
}

static int64_t as_i64(const vial_value *v) { return v->type == VIAL_BOOL ? v->as.b : v->as.i; }

/* Python compares an int and a float exactly, not through rounding. */
static int cmp_int_double(int64_t i, double d) {
    if (isnan(d)) return 2; /* unordered */
    if (d >= 9223372036854775808.0) return -1;
    if (d < -9223372036854775808.0) return 1;
    double fl = floor(d);
    int64_t di = (int64_t)fl;
    if (i < di) return -1;
    if (i > di) return 1;
    return fl == d ? 0 : -1; /* i == floor(d) < d */
}

/* -1/0/1 for numbers, 2 when unordered (nan). */
static int num_cmp(const vial_value *a, const vial_value *b) {
    if (a->type != VIAL_DOUBLE && b->type != VIAL_DOUBLE) {
        int64_t x = as_i64(a), y = as_i64(b);
        return x < y ? -1 : x > y;
    }
    if (a->type == VIAL_DOUBLE && b->type == VIAL_DOUBLE) {
        if (isnan(a->as.d) || isnan(b->as.d)) return 2;
        return a->as.d < b->as.d ? -1 : a->as.d > b->as.d;
    }
    if (a->type == VIAL_DOUBLE) {
        int c = cmp_int_double(as_i64(b), a->as.d);
        return c == 2 ? 2 : -c;
    }
    return cmp_int_double(as_i64(a), b->as.d);
}

static int str_cmp(const vial_value *a, const vial_value *b) {
    size_t n = a->as.s.len < b->as.s.len ? a->as.s.len : b->as.s.len;
    int c = memcmp(a->as.s.ptr, b->as.s.ptr, n);
    if (c) return c < 0 ? -1 : 1;
    return a->as.s.len < b->as.s.len ? -1 : a->as.s.len > b->as.s.len;
}

static _Thread_local int cmp_depth; /* structures built at runtime can nest deeply */

static bool tv_equal_rec(const vial_value *a, const vial_value *b);

bool vial_tv_equal(const vial_value *a, const vial_value *b) {
    if (++cmp_depth > 400) {
        cmp_depth--;
        return a == b;
    }
    bool eq = tv_equal_rec(a, b);
    cmp_depth--;
    return eq;
}

static bool tv_equal_rec(const vial_value *a, const vial_value *b) {
    if (a == b) return tv_kind(a) != TK_DOUBLE || !isnan(a->as.d);
    int ka = tv_kind(a), kb = tv_kind(b);
    if (vial_tv_is_number(a) && vial_tv_is_number(b)) return num_cmp(a, b) == 0;
    if (ka == TK_UNDEF || kb == TK_UNDEF) return ka == kb;
    if (ka != kb) return false;
    switch (ka) {
    case TK_NULL: return true;
    case TK_STRING: return a->as.s.len == b->as.s.len && memcmp(a->as.s.ptr, b->as.s.ptr, a->as.s.len) == 0;
    case TK_ARRAY:
        if (tv_is_tuple(a) != tv_is_tuple(b) || a->as.arr.len != b->as.arr.len) return false;
        for (size_t i = 0; i < a->as.arr.len; i++)
            if (!vial_tv_equal(a->as.arr.items[i], b->as.arr.items[i])) return false;
        return true;
    case TK_OBJECT:
        if (a->as.obj.len != b->as.obj.len) return false;
        for (size_t i = 0; i < a->as.obj.len; i++) {
            const vial_member *m = &a->as.obj.items[i];
            const vial_value *o = vial_object_getn(b, m->key, m->key_len);
            if (!o || !vial_tv_equal(m->value, o)) return false;
        }
        return true;
    case TK_RANGE: {
        const tpl_range *x = (const tpl_range *)a, *y = (const tpl_range *)b;
        int64_t lx = vial_tpl_range_len(x), ly = vial_tpl_range_len(y);
        if (lx != ly) return false;
        if (lx == 0) return true;
        if (x->start != y->start) return false;
        return lx == 1 || x->step == y->step;
    }
    default: return false;
    }
}

static const char *op_symbol(int op) {
    switch (op) {
    case CMP_LT: return "<";
    case CMP_LE: return "<=";
    case CMP_GT: return ">";
    case CMP_GE: return ">=";
    default: return "?";
    }
}

/* -1/0/1, 2 unordered, -2 TypeError recorded */
static int order3(tpl_render *r, const tpl_node *site, int op, const vial_value *a, const vial_value *b) {
    int ka = tv_kind(a), kb = tv_kind(b);
    if (vial_tv_is_number(a) && vial_tv_is_number(b)) return num_cmp(a, b);
    if (ka == TK_STRING && kb == TK_STRING) return str_cmp(a, b);
    if (ka == TK_ARRAY && kb == TK_ARRAY && tv_is_tuple(a) == tv_is_tuple(b)) {
        if (cmp_depth > 400) {
            if (r) vial_tpl_raise(r, site, "maximum recursion depth exceeded in comparison");
            return -2;
        }
        size_t n = a->as.arr.len < b->as.arr.len ? a->as.arr.len : b->as.arr.len;
        for (size_t i = 0; i < n; i++) {
            const vial_value *x = a->as.arr.items[i], *y = b->as.arr.items[i];
            if (vial_tv_equal(x, y)) continue;
            cmp_depth++;
            int c = order3(r, site, op, x, y);
            cmp_depth--;
            return c;
        }
        return a->as.arr.len < b->as.arr.len ? -1 : a->as.arr.len > b->as.arr.len;
    }
    if ((ka == TK_UNDEF || kb == TK_UNDEF) && r) {
        vial_tpl_undef_fail(r, site, ka == TK_UNDEF ? a : b);
        return -2;
    }
    if (r)
        vial_tpl_raise(r, site, "'%s' not supported between instances of '%s' and '%s'", op_symbol(op), vial_tv_type_name(a),
                 vial_tv_type_name(b));
    return -2;
}

int vial_tv_order(tpl_render *r, const tpl_node *site, int op, const vial_value *a, const vial_value *b) {
    int c = order3(r, site, op, a, b);
    if (c == -2) return -1;
    if (c == 2) return 0;
    switch (op) {
    case CMP_LT: return c < 0;
    case CMP_LE: return c <= 0;
    case CMP_GT: return c > 0;
    case CMP_GE: return c >= 0;
    }
    return 0;
}

int vial_tv_cmp(tpl_render *r, const tpl_node *site, const vial_value *a, const vial_value *b) {
    int c = order3(r, site, CMP_LT, a, b);
    if (c == 2) return 0;
    return c;
}

int vial_tv_contains(tpl_render *r, const tpl_node *site, const vial_value *container, const vial_value *item) {
    switch (tv_kind(container)) {
    case TK_STRING:
        if (item->type != VIAL_STRING)
            return vial_tpl_raise(r, site, "'in <string>' requires string as left operand, not %s", vial_tv_type_name(item));
        if (item->as.s.len == 0) return 1;
        return memmem(container->as.s.ptr, container->as.s.len, item->as.s.ptr, item->as.s.len) != NULL;
    case TK_ARRAY:
        for (size_t i = 0; i < container->as.arr.len; i++)
            if (vial_tv_equal(container->as.arr.items[i], item)) return 1;
        return 0;
    case TK_OBJECT:
        if (item->type == VIAL_ARRAY && !tv_is_tuple(item)) return vial_tpl_raise(r, site, "unhashable type: 'list'");
        if (item->type == VIAL_OBJECT) return vial_tpl_raise(r, site, "unhashable type: 'dict'");
        if (item->type != VIAL_STRING) return 0;
        return vial_object_getn(container, item->as.s.ptr, item->as.s.len) != NULL;
    case TK_RANGE: {
        const tpl_range *rg = (const tpl_range *)container;
        if (!vial_tv_is_number(item)) return 0;
        if (item->type == VIAL_DOUBLE && item->as.d != floor(item->as.d)) return 0;
        int64_t x = item->type == VIAL_DOUBLE ? (int64_t)item->as.d : as_i64(item);
        if (rg->step > 0 ? (x < rg->start || x >= rg->stop) : (x > rg->start || x <= rg->stop)) return 0;
        return (x - rg->start) % rg->step == 0;
    }
    case TK_UNDEF:
        if (r->strict) return vial_tpl_undef_fail(r, site, container);
        return 0;
    case TK_NAMESPACE: return 0;
    default: return vial_tpl_raise(r, site, "argument of type '%s' is not iterable", vial_tv_type_name(container));
    }
}

/* ---- arithmetic ---- */

static const char *binop_symbol(int op) {
    static const char *s[] = {"+", "-", "*", "/", "//", "%", "** or pow()"};
    return s[op];
}

static vial_value *unsupported(tpl_render *r, const tpl_node *site, int op, const vial_value *a, const vial_value *b) {
    return vial_tpl_failv(r, site, "unsupported operand type(s) for %s: '%s' and '%s'", binop_symbol(op), vial_tv_type_name(a),
                     vial_tv_type_name(b));
}

static vial_value *overflow(tpl_render *r, const tpl_node *site) {
    return vial_tpl_failv(r, site, "integer overflow (vial templates use 64-bit integers)");
}

static vial_value *concat_str(tpl_render *r, const tpl_node *site, vial_value *a, vial_value *b) {
    bool safe = tv_is_safe(a) || tv_is_safe(b);
    vial_buf buf;
    vial_tv_buf(r, &buf);
    int rc;
    if (safe) {
        rc = tv_is_safe(a) ? tb_append(&buf, a->as.s.ptr, a->as.s.len) : vial_tv_escape_into(&buf, a->as.s.ptr, a->as.s.len);
        if (rc == 0)
            rc = tv_is_safe(b) ? tb_append(&buf, b->as.s.ptr, b->as.s.len)
                               : vial_tv_escape_into(&buf, b->as.s.ptr, b->as.s.len);
    } else {
        rc = vial_buf_reserve(&buf, a->as.s.len + b->as.s.len);
        if (rc == 0) rc = tb_append(&buf, a->as.s.ptr, a->as.s.len);
        if (rc == 0) rc = tb_append(&buf, b->as.s.ptr, b->as.s.len);
    }
    if (rc != 0) return vial_tpl_failv(r, site, "string too large");
    return vial_tv_buf_value(r, &buf, safe);
}

static vial_value *concat_seq(tpl_render *r, const tpl_node *site, vial_value *a, vial_value *b) {
    size_t n = a->as.arr.len + b->as.arr.len;
    vial_value *out = vial_new_array(r->arena);
    if (!out) return vial_tpl_oom(r, site);
    out->tag = a->tag;
    if (n) {
        out->as.arr.items = vial_arena_alloc(r->arena, n * sizeof(vial_value *));
        if (!out->as.arr.items) return vial_tpl_oom(r, site);
        if (a->as.arr.len) memcpy(out->as.arr.items, a->as.arr.items, a->as.arr.len * sizeof(vial_value *));
        if (b->as.arr.len)
            memcpy(out->as.arr.items + a->as.arr.len, b->as.arr.items, b->as.arr.len * sizeof(vial_value *));
        out->as.arr.len = out->as.arr.cap = n;
    }
    return out;
}

static vial_value *repeat(tpl_render *r, const tpl_node *site, vial_value *seq, int64_t times) {
    if (times < 0) times = 0;
    if (seq->type == VIAL_STRING) {
        if (seq->as.s.len && (uint64_t)times > (r->max_output ? r->max_output : (64u << 20)) / seq->as.s.len)
            return vial_tpl_failv(r, site, "string too large");
        vial_buf b;
        vial_tv_buf(r, &b);
        if (vial_buf_reserve(&b, seq->as.s.len * (size_t)times) != 0) return vial_tpl_failv(r, site, "string too large");
        for (int64_t i = 0; i < times; i++) tb_append(&b, seq->as.s.ptr, seq->as.s.len);
        return vial_tv_buf_value(r, &b, tv_is_safe(seq));
    }
    size_t n = seq->as.arr.len;
    if (n && (uint64_t)times > (16u << 20) / n) return vial_tpl_failv(r, site, "list too large");
    vial_value *out = vial_new_array(r->arena);
    if (!out) return vial_tpl_oom(r, site);
    out->tag = seq->tag;
    size_t total = n * (size_t)times;
    if (total) {
        out->as.arr.items = vial_arena_alloc(r->arena, total * sizeof(vial_value *));
        if (!out->as.arr.items) return vial_tpl_oom(r, site);
        for (int64_t i = 0; i < times; i++) memcpy(out->as.arr.items + (size_t)i * n, seq->as.arr.items, n * sizeof(vial_value *));
        out->as.arr.len = out->as.arr.cap = total;
    }
    return out;
}

static double py_fmod(double x, double y) {
    double mod = fmod(x, y);
    if (mod != 0) {
        if ((y < 0) != (mod < 0)) mod += y;
    } else {
        mod = copysign(0.0, y);
    }
    return mod;
}

static double py_floordiv(double x, double y) {
    double mod = fmod(x, y);
    double div = (x - mod) / y;
    if (mod != 0 && ((y < 0) != (mod < 0))) div -= 1.0;
    if (div != 0) {
        double fl = floor(div);
        if (div - fl > 0.5) fl += 1.0;
        return fl;
    }
    return copysign(0.0, x / y);
}

vial_value *vial_tv_binop(tpl_render *r, const tpl_node *site, int op, vial_value *a, vial_value *b) {
    int ka = tv_kind(a), kb = tv_kind(b);
    /* str.__mod__ runs before the right operand's methods: "x" % undefined formats */
    if (op == OP_MOD && ka == TK_STRING) return vial_tpl_percent_format(r, site, a, b);
    if (ka == TK_UNDEF || kb == TK_UNDEF) {
        vial_tpl_undef_fail(r, site, ka == TK_UNDEF ? a : b);
        return NULL;
    }
    bool na = vial_tv_is_number(a), nb = vial_tv_is_number(b);
    if (na && nb) {
        bool ints = a->type != VIAL_DOUBLE && b->type != VIAL_DOUBLE;
        if (ints) {
            int64_t x = as_i64(a), y = as_i64(b), z;
            switch (op) {
            case OP_ADD:
                if (__builtin_add_overflow(x, y, &z)) return overflow(r, site);
                return vial_tv_int(r, z);
            case OP_SUB:
                if (__builtin_sub_overflow(x, y, &z)) return overflow(r, site);
                return vial_tv_int(r, z);
            case OP_MUL:
                if (__builtin_mul_overflow(x, y, &z)) return overflow(r, site);
                return vial_tv_int(r, z);
            case OP_DIV:
                if (y == 0) return vial_tpl_failv(r, site, "division by zero");
                return vial_tv_double(r, (double)x / (double)y);
            case OP_FLOORDIV:
            case OP_MOD: {
                if (y == 0)
                    return vial_tpl_failv(r, site, op == OP_MOD ? "integer modulo by zero" : "integer division or modulo by zero");
                if (x == INT64_MIN && y == -1) {
                    if (op == OP_MOD) return vial_tv_int(r, 0);
                    return overflow(r, site);
                }
                int64_t q = x / y, m = x % y;
                if (m != 0 && ((m < 0) != (y < 0))) {
                    q -= 1;
                    m += y;
                }
                return vial_tv_int(r, op == OP_MOD ? m : q);
            }
            case OP_POW: {
                if (y < 0) {
                    if (x == 0) return vial_tpl_failv(r, site, "0.0 cannot be raised to a negative power");
                    return vial_tv_double(r, pow((double)x, (double)y));
                }
                int64_t result = 1, base = x;
                int64_t e = y;
                while (e) {
                    if (e & 1)
                        if (__builtin_mul_overflow(result, base, &result)) return overflow(r, site);
                    e >>= 1;
                    if (e && __builtin_mul_overflow(base, base, &base)) return overflow(r, site);
                }
                return vial_tv_int(r, result);
            }
            }
        }
        double x = vial_tv_as_double(a), y = vial_tv_as_double(b);
        switch (op) {
        case OP_ADD: return vial_tv_double(r, x + y);
        case OP_SUB: return vial_tv_double(r, x - y);
        case OP_MUL: return vial_tv_double(r, x * y);
        case OP_DIV:
            if (y == 0) return vial_tpl_failv(r, site, "float division by zero");
            return vial_tv_double(r, x / y);
        case OP_FLOORDIV:
            if (y == 0) return vial_tpl_failv(r, site, "float floor division by zero");
            return vial_tv_double(r, py_floordiv(x, y));
        case OP_MOD:
            if (y == 0) return vial_tpl_failv(r, site, "float modulo");
            return vial_tv_double(r, py_fmod(x, y));
        case OP_POW:
            if (x == 0 && y < 0) return vial_tpl_failv(r, site, "0.0 cannot be raised to a negative power");
            if (x < 0 && y != floor(y))
                return vial_tpl_failv(r, site, "negative number raised to a fractional power (complex result)");
            {
                double z = pow(x, y);
                if (isinf(z) && !isinf(x) && !isinf(y)) return vial_tpl_failv(r, site, "(34, 'Numerical result out of range')");
                return vial_tv_double(r, z);
            }
        }
    }
    switch (op) {
    case OP_ADD:
        if (ka == TK_STRING && kb == TK_STRING) return concat_str(r, site, a, b);
        if (ka == TK_ARRAY && kb == TK_ARRAY && tv_is_tuple(a) == tv_is_tuple(b)) return concat_seq(r, site, a, b);
        if (ka == TK_STRING) {
            if (tv_is_safe(a)) return unsupported(r, site, op, a, b);
            return vial_tpl_failv(r, site, "can only concatenate str (not \"%s\") to str", vial_tv_type_name(b));
        }
        if (ka == TK_ARRAY)
            return vial_tpl_failv(r, site, "can only concatenate %s (not \"%s\") to %s", vial_tv_type_name(a), vial_tv_type_name(b),
                             vial_tv_type_name(a));
        break;
    case OP_MUL:
        if ((ka == TK_STRING || ka == TK_ARRAY) && (b->type == VIAL_INT || b->type == VIAL_BOOL))
            return repeat(r, site, a, as_i64(b));
        if ((kb == TK_STRING || kb == TK_ARRAY) && (a->type == VIAL_INT || a->type == VIAL_BOOL))
            return repeat(r, site, b, as_i64(a));
        if (ka == TK_STRING || kb == TK_STRING || ka == TK_ARRAY || kb == TK_ARRAY)
            return vial_tpl_failv(r, site, "can't multiply sequence by non-int of type '%s'",
                             vial_tv_type_name(ka == TK_STRING || ka == TK_ARRAY ? b : a));
        break;
    case OP_MOD:
        if (ka == TK_STRING) return vial_tpl_percent_format(r, site, a, b);
        break;
    default: break;
    }
    return unsupported(r, site, op, a, b);
}

vial_value *vial_tv_neg(tpl_render *r, const tpl_node *site, vial_value *a, bool positive) {
    switch (tv_kind(a)) {
    case TK_BOOL:
    case TK_INT: {
        int64_t x = as_i64(a);
        if (positive) return a->type == VIAL_INT ? a : vial_tv_int(r, x);
        if (x == INT64_MIN) return overflow(r, site);
        return vial_tv_int(r, -x);
    }
    case TK_DOUBLE: return positive ? a : vial_tv_double(r, -a->as.d);
    case TK_UNDEF: vial_tpl_undef_fail(r, site, a); return NULL;
    default: return vial_tpl_failv(r, site, "bad operand type for unary %c: '%s'", positive ? '+' : '-', vial_tv_type_name(a));
    }
}

/* ---- iteration ---- */

vial_value *vial_tv_list(tpl_render *r, const tpl_node *site, vial_value *v) {
    switch (tv_kind(v)) {
    case TK_ARRAY: return v;
    case TK_OBJECT: {
        vial_value *out = vial_new_array(r->arena);
        if (!out) return vial_tpl_oom(r, site);
        size_t n = v->as.obj.len;
        if (n) {
            out->as.arr.items = vial_arena_alloc(r->arena, n * sizeof(vial_value *));
            vial_value *keys = vial_arena_calloc(r->arena, n * sizeof(vial_value));
            if (!out->as.arr.items || !keys) return vial_tpl_oom(r, site);
            for (size_t i = 0; i < n; i++) {
                keys[i].type = VIAL_STRING;
                keys[i].as.s.ptr = v->as.obj.items[i].key;
                keys[i].as.s.len = v->as.obj.items[i].key_len;
                out->as.arr.items[i] = &keys[i];
            }
            out->as.arr.len = out->as.arr.cap = n;
        }
        return out;
    }
    case TK_STRING: {
        vial_value *out = vial_new_array(r->arena);
        if (!out) return vial_tpl_oom(r, site);
        size_t n = vial_tv_cp_len(v->as.s.ptr, v->as.s.len);
        if (n) {
            out->as.arr.items = vial_arena_alloc(r->arena, n * sizeof(vial_value *));
            vial_value *chars = vial_arena_calloc(r->arena, n * sizeof(vial_value));
            if (!out->as.arr.items || !chars) return vial_tpl_oom(r, site);
            size_t off = 0;
            for (size_t i = 0; i < n; i++) {
                uint32_t cp;
                size_t k = vial_tv_next_cp(v->as.s.ptr + off, v->as.s.len - off, &cp);
                chars[i].type = VIAL_STRING;
                chars[i].flags = v->flags & VIAL_FLAG_SAFE;
                chars[i].as.s.ptr = v->as.s.ptr + off;
                chars[i].as.s.len = k;
                out->as.arr.items[i] = &chars[i];
                off += k;
            }
            out->as.arr.len = out->as.arr.cap = n;
        }
        return out;
    }
    case TK_RANGE: {
        const tpl_range *rg = (const tpl_range *)v;
        int64_t n = vial_tpl_range_len(rg);
        if (n > (16 << 20)) return vial_tpl_failv(r, site, "range too large to iterate (%lld items)", (long long)n);
        vial_value *out = vial_new_array(r->arena);
        if (!out) return vial_tpl_oom(r, site);
        if (n) {
            out->as.arr.items = vial_arena_alloc(r->arena, (size_t)n * sizeof(vial_value *));
            vial_value *ints = vial_arena_calloc(r->arena, (size_t)n * sizeof(vial_value));
            if (!out->as.arr.items || !ints) return vial_tpl_oom(r, site);
            for (int64_t i = 0; i < n; i++) {
                ints[i].type = VIAL_INT;
                ints[i].as.i = rg->start + i * rg->step;
                out->as.arr.items[i] = &ints[i];
            }
            out->as.arr.len = out->as.arr.cap = (size_t)n;
        }
        return out;
    }
    case TK_UNDEF: {
        if (r->strict) {
            vial_tpl_undef_fail(r, site, v);
            return NULL;
        }
        vial_value *out = vial_new_array(r->arena);
        return out ? out : vial_tpl_oom(r, site);
    }
    case TK_LOOP: {
        /* iterating a loop object yields what is left of it */
        const tpl_loop *l = (const tpl_loop *)v;
        vial_value *out = vial_new_array(r->arena);
        if (!out) return vial_tpl_oom(r, site);
        for (size_t i = l->index0 + 1; i < l->len; i++)
            if (vial_array_push(out, l->items[i]) != 0) return vial_tpl_oom(r, site);
        return out;
    }
    default: return vial_tpl_failv(r, site, "'%s' object is not iterable", vial_tv_type_name(v));
    }
}

/* ---- number parsing (int() and float() of strings) ---- */

static size_t strip_py(const char *s, size_t n, size_t *start) {
    size_t a = 0, b = n;
    while (a < b) {
        uint32_t cp;
        size_t k = vial_tv_next_cp(s + a, b - a, &cp);
        if (!vial_tv_isspace_cp(cp)) break;
        a += k;
    }
    while (b > a) {
        size_t k = 1;
        while (k < b - a && ((unsigned char)s[b - k] & 0xC0) == 0x80) k++;
        uint32_t cp;
        vial_tv_next_cp(s + b - k, k, &cp);
        if (!vial_tv_isspace_cp(cp)) break;
        b -= k;
    }
    *start = a;
    return b - a;
}

bool vial_tv_parse_int(const char *s, size_t n, int base, int64_t *out, bool *overflow_out) {
    size_t a;
    n = strip_py(s, n, &a);
    s += a;
    size_t i = 0;
    bool neg = false;
    if (overflow_out) *overflow_out = false;
    if (i < n && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
    if (i + 1 < n && s[i] == '0') {
        char p = (char)(s[i + 1] | 0x20);
        int pb = p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 0;
        if (pb && (base == pb || base == 0)) {
            base = pb;
            i += 2;
            if (i < n && s[i] == '_') i++;
        }
    }
    if (base == 0) {
        base = 10;
        /* base 0 forbids leading zeros on non-zero decimals */
        if (i + 1 < n && s[i] == '0') {
            for (size_t k = i; k < n; k++)
                if (s[k] != '0' && s[k] != '_') return false;
        }
    }
    if (i >= n) return false;
    uint64_t acc = 0;
    bool any = false, prev_us = true, big = false;
    for (; i < n; i++) {
        char c = s[i];
        if (c == '_') {
            if (prev_us) return false;
            prev_us = true;
            continue;
        }
        int d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') d = (c | 0x20) - 'a' + 10;
        else return false;
        if (d >= base) return false;
        if (acc > (UINT64_MAX - (uint64_t)d) / (uint64_t)base) big = true;
        else acc = acc * (uint64_t)base + (uint64_t)d;
        any = true;
        prev_us = false;
    }
    if (!any || prev_us) return false;
    if (big || acc > (uint64_t)INT64_MAX + (neg ? 1 : 0)) {
        if (overflow_out) *overflow_out = true;
        *out = neg ? INT64_MIN : INT64_MAX;
        return true;
    }
    *out = neg ? (int64_t)(0 - acc) : (int64_t)acc;
    return true;
}

bool vial_tv_parse_float(const char *s, size_t n, double *out) {
    size_t a;
    n = strip_py(s, n, &a);
    s += a;
    if (n == 0 || n > 400) return false;
    char tmp[512];
    size_t k = 0;
    bool prev_digit = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '_') {
            if (!prev_digit || i + 1 >= n || !(s[i + 1] >= '0' && s[i + 1] <= '9')) return false;
            continue;
        }
        prev_digit = c >= '0' && c <= '9';
        tmp[k++] = c;
    }
    tmp[k] = 0;
    const char *p = tmp;
    bool neg = false;
    if (*p == '+' || *p == '-') neg = *p++ == '-';
    if (strcasecmp(p, "inf") == 0 || strcasecmp(p, "infinity") == 0) {
        *out = neg ? -INFINITY : INFINITY;
        return true;
    }
    if (strcasecmp(p, "nan") == 0) {
        *out = neg ? -NAN : NAN;
        return true;
    }
    /* digits [. digits] [e [+-] digits], at least one digit in the mantissa */
    const char *q = p;
    bool digits = false;
    while (*q >= '0' && *q <= '9') q++, digits = true;
    if (*q == '.') {
        q++;
        while (*q >= '0' && *q <= '9') q++, digits = true;
    }
    if (!digits) return false;
    if (*q == 'e' || *q == 'E') {
        q++;
        if (*q == '+' || *q == '-') q++;
        if (!(*q >= '0' && *q <= '9')) return false;
        while (*q >= '0' && *q <= '9') q++;
    }
    if (*q) return false;
    *out = strtod(tmp, NULL);
    return true;
}
