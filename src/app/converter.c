/* converter.c - Werkzeug's built-in converters: string (default), int,
 * float, path, uuid and any.
 *
 * Each placeholder gets its own configured copy (conv_inst) when a rule is
 * added: the arguments of <int(min=1, max=10, fixed_digits=4):v> are bound
 * like Python keyword arguments, and the placeholder's regex is chosen as
 * Werkzeug chooses it. After a rule matched, to_value turns each captured
 * text into the handler's typed value (Werkzeug's to_python); a validation
 * failure rejects the whole match. When building URLs, to_url does the
 * reverse with Python's str()/int()/float() conversions and error messages.
 * Python's \d and int() accept every Unicode decimal digit, so the Nd table
 * below (Unicode 14, Python 3.11's and PCRE2 10.42's version) is part of it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/router.h"

/* First code point (digit zero) of each run of ten Unicode decimal digits. */
static const uint32_t ND_ZEROS[] = {
    0x30,    0x660,   0x6f0,   0x7c0,   0x966,   0x9e6,   0xa66,   0xae6,   0xb66,   0xbe6,   0xc66,
    0xce6,   0xd66,   0xde6,   0xe50,   0xed0,   0xf20,   0x1040,  0x1090,  0x17e0,  0x1810,  0x1946,
    0x19d0,  0x1a80,  0x1a90,  0x1b50,  0x1bb0,  0x1c40,  0x1c50,  0xa620,  0xa8d0,  0xa900,  0xa9d0,
    0xa9f0,  0xaa50,  0xabf0,  0xff10,  0x104a0, 0x10d30, 0x11066, 0x110f0, 0x11136, 0x111d0, 0x112f0,
    0x11450, 0x114d0, 0x11650, 0x116c0, 0x11730, 0x118e0, 0x11950, 0x11c50, 0x11d50, 0x11da0, 0x16a60,
    0x16ac0, 0x16b50, 0x1d7ce, 0x1d7d8, 0x1d7e2, 0x1d7ec, 0x1d7f6, 0x1e140, 0x1e2f0, 0x1e950, 0x1fbf0,
};

int router_nd_value(uint32_t cp) {
    if (cp < 0x80) return cp >= '0' && cp <= '9' ? (int)(cp - '0') : -1;
    size_t lo = 0, hi = sizeof ND_ZEROS / sizeof ND_ZEROS[0];
    while (lo < hi) { /* last zero <= cp */
        size_t mid = (lo + hi) / 2;
        if (ND_ZEROS[mid] <= cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0) return -1;
    uint32_t zero = ND_ZEROS[lo - 1];
    return cp - zero < 10 ? (int)(cp - zero) : -1;
}

bool router_py_space(uint32_t cp) {
    if (cp < 0x80) return (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x20);
    return cp == 0x85 || cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 ||
           cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000;
}

/* ---- setup: bind the rule's arguments like a Python signature ---- */

typedef struct param {
    const char *name;
    const vial_value *value; /* bound value or NULL */
} param;

static const char *conv_display_name(conv_kind k) {
    switch (k) {
    case CONV_STRING: return "string";
    case CONV_INT: return "int";
    case CONV_FLOAT: return "float";
    case CONV_PATH: return "path";
    case CONV_UUID: return "uuid";
    case CONV_ANY: return "any";
    default: return "converter";
    }
}

static int bind_params(const char *fn, param *ps, size_t nps, const vial_value *args, const vial_value *kwargs,
                       char *msg, size_t msglen) {
    size_t nargs = vial_len(args);
    if (nargs > nps) {
        if (nps == 0)
            snprintf(msg, msglen, "%s() takes no arguments (%zu given)", fn, nargs);
        else
            snprintf(msg, msglen, "%s() takes at most %zu arguments (%zu given)", fn, nps, nargs);
        return -1;
    }
    for (size_t i = 0; i < nargs; i++) ps[i].value = vial_array_get(args, i);
    size_t nkw = vial_len(kwargs);
    for (size_t k = 0; k < nkw; k++) {
        const vial_member *m = &kwargs->as.obj.items[k];
        size_t i = 0;
        while (i < nps && strcmp(ps[i].name, m->key) != 0) i++;
        if (i == nps) {
            snprintf(msg, msglen, "%s() got an unexpected keyword argument '%s'", fn, m->key);
            return -1;
        }
        if (ps[i].value) {
            snprintf(msg, msglen, "%s() got multiple values for argument '%s'", fn, m->key);
            return -1;
        }
        ps[i].value = m->value;
    }
    return 0;
}


/* int(v) for an argument: ints, bools, floats (truncated) and numeric strings. */
static int arg_int(const char *fn, const char *name, const vial_value *v, long lo, long hi, long *out, char *msg,
                   size_t msglen) {
    int64_t i = 0;
    bool ok = true, overflow = false;
    switch (v->type) {
    case VIAL_INT: i = v->as.i; break;
    case VIAL_BOOL: i = v->as.b; break;
    case VIAL_DOUBLE:
        ok = isfinite(v->as.d) && fabs(v->as.d) < 9.2e18;
        if (ok) i = (int64_t)v->as.d;
        break;
    case VIAL_STRING: ok = router_py_int(v->as.s.ptr, v->as.s.len, &i, &overflow) == 0; break;
    default: ok = false;
    }
    if (!ok || i < lo || i > hi) {
        snprintf(msg, msglen, "%s(): %s must be an integer from %ld to %ld", fn, name, lo, hi);
        return -1;
    }
    *out = (long)i;
    return 0;
}

static int arg_num(const char *fn, const char *name, const vial_value *v, route_num *out, char *msg, size_t msglen) {
    memset(out, 0, sizeof *out);
    if (v->type == VIAL_NULL) return 0;
    out->set = true;
    if (v->type == VIAL_INT || v->type == VIAL_BOOL) {
        out->is_int = true;
        out->i = v->type == VIAL_INT ? v->as.i : v->as.b;
        out->d = (double)out->i;
        return 0;
    }
    if (v->type == VIAL_DOUBLE && !isnan(v->as.d)) {
        out->d = v->as.d;
        return 0;
    }
    snprintf(msg, msglen, "%s(): %s must be a number", fn, name);
    return -1;
}

/* Appends s regex-escaped: every ASCII punctuation gets a backslash. */
static int regex_escape(vial_buf *b, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                     c >= 0x80;
        if (!alnum && vial_buf_putc(b, '\\') != 0) return -1;
        if (vial_buf_putc(b, c) != 0) return -1;
    }
    return 0;
}

static int setup_string(vial_arena *a, conv_inst *in, const vial_value *args, const vial_value *kwargs, char *msg,
                        size_t msglen) {
    param ps[] = {{"minlength", NULL}, {"maxlength", NULL}, {"length", NULL}};
    if (bind_params("string", ps, 3, args, kwargs, msg, msglen) != 0) return -1;
    const long cap = 65535; /* PCRE2's largest repeat count */
    long minlen = 1, maxlen = -1, length = -1;
    if (ps[0].value && arg_int("string", "minlength", ps[0].value, 0, cap, &minlen, msg, msglen) != 0) return -1;
    if (ps[1].value && ps[1].value->type != VIAL_NULL &&
        arg_int("string", "maxlength", ps[1].value, 0, cap, &maxlen, msg, msglen) != 0)
        return -1;
    if (ps[2].value && ps[2].value->type != VIAL_NULL &&
        arg_int("string", "length", ps[2].value, 0, cap, &length, msg, msglen) != 0)
        return -1;
    char *re;
    if (length >= 0) {
        minlen = maxlen = length;
        re = vial_arena_sprintf(a, "[^/]{%ld}", length);
    } else {
        if (maxlen >= 0 && maxlen < minlen) {
            snprintf(msg, msglen, "string(): minlength %ld is greater than maxlength %ld", minlen, maxlen);
            return -1;
        }
        re = maxlen >= 0 ? vial_arena_sprintf(a, "[^/]{%ld,%ld}", minlen, maxlen)
                         : vial_arena_sprintf(a, "[^/]{%ld,}", minlen);
    }
    if (!re) return -1;
    in->regex = re;
    in->minlen = minlen;
    in->maxlen = maxlen;
    in->weight = 100;
    return 0;
}

static int setup_number(vial_arena *a, conv_inst *in, const vial_value *args, const vial_value *kwargs, char *msg,
                        size_t msglen) {
    (void)a;
    bool is_int = in->kind == CONV_INT;
    const char *fn = is_int ? "int" : "float";
    param ips[] = {{"fixed_digits", NULL}, {"min", NULL}, {"max", NULL}, {"signed", NULL}};
    param fps[] = {{"min", NULL}, {"max", NULL}, {"signed", NULL}};
    param *ps = is_int ? ips : fps;
    size_t nps = is_int ? 4 : 3;
    if (bind_params(fn, ps, nps, args, kwargs, msg, msglen) != 0) return -1;
    size_t at = is_int ? 1 : 0;
    in->fixed_digits = 0;
    if (is_int && ps[0].value && arg_int(fn, "fixed_digits", ps[0].value, 0, 65535, &in->fixed_digits, msg, msglen))
        return -1;
    if (ps[at].value && arg_num(fn, "min", ps[at].value, &in->min, msg, msglen) != 0) return -1;
    if (ps[at + 1].value && arg_num(fn, "max", ps[at + 1].value, &in->max, msg, msglen) != 0) return -1;
    in->is_signed = ps[at + 2].value && vial_truthy(ps[at + 2].value);
    if (is_int)
        in->regex = in->is_signed ? "-?\\d+" : "\\d+";
    else
        in->regex = in->is_signed ? "-?\\d+\\.\\d+" : "\\d+\\.\\d+";
    in->weight = 50;
    return 0;
}

static int setup_any(vial_arena *a, conv_inst *in, const vial_value *args, const vial_value *kwargs, char *msg,
                     size_t msglen) {
    if (vial_len(kwargs)) {
        snprintf(msg, msglen, "any() got an unexpected keyword argument '%s'", kwargs->as.obj.items[0].key);
        return -1;
    }
    size_t n = vial_len(args);
    if (n == 0) {
        snprintf(msg, msglen, "any() needs at least one item");
        return -1;
    }
    const char **items = vial_arena_alloc(a, n * sizeof *items);
    if (!items) return -1;
    vial_buf re;
    vial_buf_init(&re, a, 0);
    if (vial_buf_puts(&re, "(?:") != 0) return -1;
    for (size_t i = 0; i < n; i++) {
        const vial_value *v = vial_array_get(args, i);
        if (v->type != VIAL_STRING) {
            snprintf(msg, msglen, "any(): item %zu is not a string (quote it)", i + 1);
            return -1;
        }
        items[i] = v->as.s.ptr;
        if (i && vial_buf_putc(&re, '|') != 0) return -1;
        if (regex_escape(&re, v->as.s.ptr, v->as.s.len) != 0) return -1;
    }
    if (vial_buf_putc(&re, ')') != 0) return -1;
    in->items = items;
    in->nitems = n;
    in->regex = re.data;
    in->weight = 100;
    return 0;
}

int router_conv_setup(vial_arena *a, conv_inst *in, const conv_entry *entry, const vial_value *args,
                      const vial_value *kwargs, char *msg, size_t msglen) {
    in->kind = entry->kind;
    in->part_isolating = true;
    in->maxlen = -1;
    switch (entry->kind) {
    case CONV_STRING: return setup_string(a, in, args, kwargs, msg, msglen);
    case CONV_INT:
    case CONV_FLOAT: return setup_number(a, in, args, kwargs, msg, msglen);
    case CONV_ANY: return setup_any(a, in, args, kwargs, msg, msglen);
    case CONV_PATH:
    case CONV_UUID:
        if (vial_len(args) || vial_len(kwargs)) {
            snprintf(msg, msglen, "%s() takes no arguments", conv_display_name(entry->kind));
            return -1;
        }
        if (entry->kind == CONV_PATH) {
            in->regex = "[^/].*?";
            in->weight = 200;
            in->part_isolating = false;
        } else {
            in->regex = "[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}";
            in->weight = 100;
        }
        return 0;
    case CONV_USER: {
        const vial_converter *c = entry->user;
        in->conv = c;
        in->weight = c->weight ? c->weight : 100;
        in->part_isolating = !c->spans_slashes;
        vial_converter_setup s = {.args = args, .kwargs = kwargs, .arena = a, .regex = c->regex ? c->regex : "[^/]+",
                                  .state = c->userdata};
        if (c->setup) {
            if (c->setup(&s) != 0) {
                snprintf(msg, msglen, "%s", s.error[0] ? s.error : "the converter refused its arguments");
                return -1;
            }
        } else if (vial_len(args) || vial_len(kwargs)) {
            snprintf(msg, msglen, "%s() takes no arguments", entry->name);
            return -1;
        }
        if (!s.regex || !*s.regex) {
            snprintf(msg, msglen, "%s(): the converter gave no regex", entry->name);
            return -1;
        }
        in->regex = vial_arena_strdup(a, s.regex);
        in->state = s.state;
        return in->regex ? 0 : -1;
    }
    }
    return -1;
}

/* ---- to_value (Werkzeug's to_python) ---- */

static size_t count_code_points(const char *s, size_t n) {
    size_t count = 0;
    for (size_t i = 0; i < n; i++) count += ((unsigned char)s[i] & 0xC0) != 0x80;
    return count;
}

static bool num_below(double d, int64_t i, bool is_int, const route_num *bound) {
    if (is_int && bound->is_int) return i < bound->i;
    return (is_int ? (double)i : d) < bound->d;
}

static bool num_above(double d, int64_t i, bool is_int, const route_num *bound) {
    if (is_int && bound->is_int) return i > bound->i;
    return (is_int ? (double)i : d) > bound->d;
}

/* Fast paths for the usual ASCII text (the general parsers handle Unicode
 * digits, huge numbers and long fractions). */
static bool ascii_int(const char *t, size_t n, int64_t *out) {
    size_t i = n && t[0] == '-';
    if (n - i == 0 || n - i > 18) return false;
    int64_t v = 0;
    for (size_t k = i; k < n; k++) {
        if (t[k] < '0' || t[k] > '9') return false;
        v = v * 10 + (t[k] - '0');
    }
    *out = i ? -v : v;
    return true;
}

static bool ascii_float(const char *t, size_t n, double *out) {
    /* digits '.' digits: exact when the digits fit 2^53 and the scale is at
     * most 10^22, since one correctly rounded division of exact values is
     * the correctly rounded result (what Python's float() gives). */
    static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                   1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    size_t i = n && t[0] == '-';
    uint64_t m = 0;
    size_t digits = 0, frac = 0;
    bool dot = false;
    for (size_t k = i; k < n; k++) {
        if (t[k] == '.' && !dot) {
            dot = true;
            continue;
        }
        if (t[k] < '0' || t[k] > '9' || ++digits > 15) return false;
        m = m * 10 + (uint64_t)(t[k] - '0');
        frac += dot;
    }
    if (!dot || !digits || frac > 22) return false;
    double d = (double)m / pow10[frac];
    *out = i ? -d : d;
    return true;
}

vial_value *router_conv_to_value(vial_arena *a, const conv_inst *in, const char *text, size_t len, bool *oom) {
    vial_value *v = NULL;
    *oom = false;
    if (!text) {
        /* A capture group of a custom regex that did not take part: Python
         * hands None to the converter. Strings pass it through; numbers
         * would raise TypeError (a 500 in Flask), which we treat as no match. */
        if (in->kind == CONV_INT || in->kind == CONV_FLOAT) return NULL;
        if (in->kind == CONV_USER && in->conv->to_value) return NULL;
        return vial_value_null();
    }
    switch (in->kind) {
    case CONV_INT:
    case CONV_FLOAT: {
        if (in->fixed_digits && count_code_points(text, len) != (size_t)in->fixed_digits) return NULL;
        int64_t i = 0;
        double d = 0;
        if (in->kind == CONV_INT) {
            bool overflow;
            /* Python's int is unbounded; ours is int64: a larger number cannot
             * reach the handler as an integer, so it does not match. */
            if (!ascii_int(text, len, &i) && router_py_int(text, len, &i, &overflow) != 0) return NULL;
        } else if (!ascii_float(text, len, &d) && router_py_float(text, len, &d) != 0) {
            return NULL;
        }
        bool is_int = in->kind == CONV_INT;
        if (in->min.set && num_below(d, i, is_int, &in->min)) return NULL;
        if (in->max.set && num_above(d, i, is_int, &in->max)) return NULL;
        v = is_int ? vial_new_int(a, i) : vial_new_double(a, d);
        break;
    }
    case CONV_UUID: {
        char *lower = vial_arena_strndup(a, text, len);
        if (!lower) break;
        for (size_t k = 0; k < len; k++)
            if (lower[k] >= 'A' && lower[k] <= 'F') lower[k] = (char)(lower[k] - 'A' + 'a');
        v = vial_new_str_ref(a, lower, len);
        break;
    }
    case CONV_USER:
        if (in->conv->to_value) {
            v = in->conv->to_value(a, text, len, in->state);
            return v; /* NULL: rejected */
        }
        v = vial_new_strn(a, text, len);
        break;
    default: v = vial_new_strn(a, text, len); break;
    }
    if (!v) *oom = true;
    return v;
}

/* ---- to_url ---- */

static const char *py_type_name(const vial_value *v) {
    switch (v->type) {
    case VIAL_NULL: return "NoneType";
    case VIAL_ARRAY: return "list";
    case VIAL_OBJECT: return "dict";
    case VIAL_STRING: return "str";
    case VIAL_DOUBLE: return "float";
    case VIAL_BOOL: return "bool";
    default: return "int";
    }
}

static void value_error_repr(char *msg, size_t msglen, const char *prefix, const vial_value *v) {
    vial_buf b;
    vial_buf_init(&b, NULL, 4096);
    if (vial_buf_puts(&b, prefix) == 0) router_py_repr_str(&b, v->as.s.ptr, v->as.s.len);
    snprintf(msg, msglen, "%s", b.data ? b.data : prefix);
    vial_buf_free(&b);
}

/* Appends the decimal text of Python's int(v) (unbounded, as Python's). 0, -1 error, -2 memory. */
static int py_int_text_of(vial_buf *out, const vial_value *v, char *msg, size_t msglen) {
    switch (v->type) {
    case VIAL_INT: return vial_buf_put_i64(out, v->as.i) ? -2 : 0;
    case VIAL_BOOL: return vial_buf_putc(out, v->as.b ? '1' : '0') ? -2 : 0;
    case VIAL_DOUBLE: {
        if (isnan(v->as.d)) {
            snprintf(msg, msglen, "cannot convert float NaN to integer");
            return -1;
        }
        if (isinf(v->as.d)) {
            snprintf(msg, msglen, "cannot convert float infinity to integer");
            return -1;
        }
        double t = trunc(v->as.d);
        if (t == 0) return vial_buf_putc(out, '0') ? -2 : 0; /* not "-0" */
        /* every double this large is an integer; %.0f prints it exactly */
        return vial_buf_printf(out, "%.0f", t) ? -2 : 0;
    }
    case VIAL_STRING: {
        int rc = router_py_int_text(v->as.s.ptr, v->as.s.len, out);
        if (rc == -1) value_error_repr(msg, msglen, "invalid literal for int() with base 10: ", v);
        return rc;
    }
    default:
        snprintf(msg, msglen, "int() argument must be a string, a bytes-like object or a real number, not '%s'",
                 py_type_name(v));
        return -1;
    }
}

static int py_float_of(const vial_value *v, double *out, char *msg, size_t msglen) {
    switch (v->type) {
    case VIAL_INT: *out = (double)v->as.i; return 0;
    case VIAL_BOOL: *out = v->as.b; return 0;
    case VIAL_DOUBLE: *out = v->as.d; return 0;
    case VIAL_STRING:
        if (router_py_float(v->as.s.ptr, v->as.s.len, out) == 0) return 0;
        value_error_repr(msg, msglen, "could not convert string to float: ", v);
        return -1;
    default:
        snprintf(msg, msglen, "float() argument must be a string or a real number, not '%s'", py_type_name(v));
        return -1;
    }
}

/* Appends text left-padded with zeros to width, after a sign (str.zfill). */
static int zfill(vial_buf *out, const char *text, size_t n, long width) {
    size_t pad = (long)n < width ? (size_t)width - n : 0;
    size_t sign = n && (text[0] == '-' || text[0] == '+');
    if (sign && vial_buf_putc(out, text[0]) != 0) return -1;
    for (size_t i = 0; i < pad; i++)
        if (vial_buf_putc(out, '0') != 0) return -1;
    return vial_buf_append(out, text + sign, n - sign);
}

static int quoted_str(vial_buf *out, const vial_value *v, const char *safe) {
    if (v->type == VIAL_STRING) return router_quote(out, v->as.s.ptr, v->as.s.len, safe);
    vial_buf tmp;
    vial_buf_init(&tmp, NULL, 0);
    int rc = router_py_str(&tmp, v);
    if (rc == 0) rc = router_quote(out, tmp.data ? tmp.data : "", tmp.len, safe);
    vial_buf_free(&tmp);
    return rc;
}

static int cmp_cstr(const void *x, const void *y) { return strcmp(*(const char *const *)x, *(const char *const *)y); }

int router_conv_to_url(vial_buf *out, const conv_inst *in, const vial_value *v, char *msg, size_t msglen) {
    switch (in->kind) {
    case CONV_INT: {
        vial_buf num;
        vial_buf_init(&num, NULL, 0);
        int rc = py_int_text_of(&num, v, msg, msglen);
        if (rc == 0 && zfill(out, num.data, num.len, in->fixed_digits) != 0) rc = -2;
        vial_buf_free(&num);
        return rc;
    }
    case CONV_FLOAT: {
        double d;
        if (py_float_of(v, &d, msg, msglen) != 0) return -1;
        char num[VIAL_DOUBLE_BUFSIZE];
        size_t n = vial_format_double(num, d);
        return vial_buf_append(out, num, n) == 0 ? 0 : -2;
    }
    case CONV_UUID:
        /* str(value), not quoted, as Werkzeug. Bytes that are not UTF-8 have
         * no Python counterpart (a str always is): those are quoted rather
         * than put in a URL raw. */
        if (v->type == VIAL_STRING && !vial_utf8_valid(v->as.s.ptr, v->as.s.len))
            return router_quote(out, v->as.s.ptr, v->as.s.len, "/:") == 0 ? 0 : -2;
        return (v->type == VIAL_STRING ? vial_buf_append(out, v->as.s.ptr, v->as.s.len) : router_py_str(out, v)) == 0
                   ? 0
                   : -2;
    case CONV_ANY: {
        if (v->type == VIAL_ARRAY || v->type == VIAL_OBJECT) { /* `value in self.items` hashes it */
            snprintf(msg, msglen, "unhashable type: '%s'", py_type_name(v));
            return -1;
        }
        if (v->type == VIAL_STRING)
            for (size_t k = 0; k < in->nitems; k++)
                if (strlen(in->items[k]) == v->as.s.len && memcmp(in->items[k], v->as.s.ptr, v->as.s.len) == 0)
                    return vial_buf_append(out, v->as.s.ptr, v->as.s.len) == 0 ? 0 : -2;
        const char **sorted = malloc(in->nitems * sizeof *sorted);
        vial_buf b;
        vial_buf_init(&b, NULL, 4096);
        if (sorted) {
            memcpy(sorted, in->items, in->nitems * sizeof *sorted);
            qsort(sorted, in->nitems, sizeof *sorted, cmp_cstr);
            vial_buf_putc(&b, '\'');
            router_py_str(&b, v);
            vial_buf_puts(&b, "' is not one of ");
            for (size_t k = 0; k < in->nitems; k++) vial_buf_printf(&b, "%s'%s'", k ? ", " : "", sorted[k]);
        }
        snprintf(msg, msglen, "%s", b.data ? b.data : "value is not one of the any() items");
        vial_buf_free(&b);
        free(sorted);
        return -1;
    }
    case CONV_USER:
        if (in->conv->to_url) {
            char err[256] = "";
            if (in->conv->to_url(out, v, in->state, err, sizeof err) != 0) {
                snprintf(msg, msglen, "%s", err[0] ? err : "the converter could not build this value");
                return -1;
            }
            return 0;
        }
        return quoted_str(out, v, "/:") == 0 ? 0 : -2; /* BaseConverter.to_url */
    default: return quoted_str(out, v, "/:") == 0 ? 0 : -2;
    }
}
