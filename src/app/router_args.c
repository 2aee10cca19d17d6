/* router_args.c - the argument list of a converter: <int(min=1, max=10):n>.
 *
 * Werkzeug reads "min=1, max=10" by scanning for items of the form
 * [name =] value "," where a value is True/False, a number, a bare word or a
 * quoted string (an r/u prefix allowed, no escapes processed, so '\d' stays
 * \d), then turns each value into a Python literal: None/True/False, int(),
 * float(), else a string with the quotes removed. We do the same, with one
 * deliberate difference: text Werkzeug silently skips (`any(a b)` quietly
 * becomes `any(b)`) is an error naming its offset here. Python's int() and
 * float() rules (underscores between digits, Unicode digits, surrounding
 * whitespace, inf/nan) are reproduced because they decide what a token is. */
#include <float.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app/router.h"

/* The item grammar, applied like re.finditer over the text plus a ','. */
static const char ARG_ITEM_RE[] = "(?:(\\w+)\\s*=\\s*)?"
                                  "(True|False|\\d+.\\d+|\\d+.|\\d+|[\\w.]+|[urUR]?(\"[^\"]*?\"|'[^']*'))"
                                  "\\s*,";

static pcre2_code *arg_item;
static pthread_once_t arg_item_once = PTHREAD_ONCE_INIT;

static void arg_item_compile(void) {
    int errcode;
    PCRE2_SIZE erroff;
    arg_item = pcre2_compile((PCRE2_SPTR)ARG_ITEM_RE, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP, &errcode, &erroff,
                             NULL);
}

static pcre2_code *arg_item_code(void) {
    pthread_once(&arg_item_once, arg_item_compile);
    return arg_item;
}

/* Number text: s with Python's whitespace stripped and Unicode digits mapped
 * to ASCII, in a small inline buffer or on the heap for long inputs. */
typedef struct numtext {
    char small[128];
    char *p;
    size_t len;
} numtext;

static void numtext_free(numtext *t) {
    if (t->p && t->p != t->small) free(t->p);
    t->p = NULL;
}

/* 0, or -1 when a character is neither ASCII nor a Unicode digit (it cannot be a number). */
static int numtext_make(numtext *t, const char *s, size_t n) {
    size_t start = 0, end = n;
    uint32_t cp;
    size_t k;
    t->p = NULL;
    while (start < end && (k = vial_utf8_decode(s + start, end - start, &cp)) && router_py_space(cp)) start += k;
    while (end > start) {
        size_t b = end - 1;
        while (b > start && ((unsigned char)s[b] & 0xC0) == 0x80) b--;
        k = vial_utf8_decode(s + b, end - b, &cp);
        if (k && k == end - b && router_py_space(cp))
            end = b;
        else
            break;
    }
    t->p = end - start < sizeof t->small ? t->small : malloc(end - start + 1);
    if (!t->p) return -1;
    size_t o = 0;
    for (size_t i = start; i < end;) {
        k = vial_utf8_decode(s + i, end - i, &cp);
        int d = k && cp >= 0x80 ? router_nd_value(cp) : 0;
        if (!k || d < 0) {
            numtext_free(t);
            return -1;
        }
        t->p[o++] = cp < 0x80 ? (char)cp : (char)('0' + d);
        i += k;
    }
    t->p[o] = '\0';
    t->len = o;
    return 0;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Removes '_' that sit between two digits; -1 when an underscore is elsewhere. */
static int drop_underscores(char *t) {
    char *w = t;
    for (char *p = t; *p; p++) {
        if (*p == '_') {
            if (p == t || !is_digit(p[-1]) || !is_digit(p[1])) return -1;
            continue;
        }
        *w++ = *p;
    }
    *w = '\0';
    return 0;
}

/* Python's int(str) grammar: [sign] digits with single '_' between digits.
 * Points *digits at the digits (in t) and sets *neg. */
static int int_syntax(numtext *t, const char *s, size_t n, const char **digits, bool *neg) {
    if (numtext_make(t, s, n) != 0) return -1;
    char *p = t->p;
    *neg = false;
    if (*p == '+' || *p == '-') *neg = *p++ == '-';
    if (!is_digit(*p) || drop_underscores(p) != 0) return -1;
    for (const char *q = p; *q; q++)
        if (!is_digit(*q)) return -1;
    *digits = p;
    return 0;
}

int router_py_int(const char *s, size_t n, int64_t *out, bool *overflow) {
    numtext t;
    const char *p;
    bool neg;
    *overflow = false;
    int rc = int_syntax(&t, s, n, &p, &neg);
    if (rc == 0) {
        uint64_t acc = 0;
        const uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
        for (; *p && rc == 0; p++) {
            unsigned d = (unsigned)(*p - '0');
            if (acc > (limit - d) / 10)
                *overflow = true, rc = -1;
            else
                acc = acc * 10 + d;
        }
        if (rc == 0) *out = neg ? (int64_t)(0 - acc) : (int64_t)acc;
    }
    numtext_free(&t);
    return rc;
}

int router_py_int_text(const char *s, size_t n, vial_buf *out) {
    numtext t;
    const char *p;
    bool neg;
    int rc = int_syntax(&t, s, n, &p, &neg);
    if (rc == 0) {
        while (p[0] == '0' && p[1]) p++;
        if (neg && p[0] != '0') rc = vial_buf_putc(out, '-');
        if (rc == 0) rc = vial_buf_puts(out, p) ? -2 : 0;
    }
    numtext_free(&t);
    return rc;
}

static locale_t c_loc;
static pthread_once_t c_loc_once = PTHREAD_ONCE_INIT;

static void c_loc_make(void) { c_loc = newlocale(LC_ALL_MASK, "C", (locale_t)0); }

static locale_t c_locale(void) {
    pthread_once(&c_loc_once, c_loc_make);
    return c_loc;
}

/* Python's float(str): decimal with optional fraction and exponent, or inf/infinity/nan. */
int router_py_float(const char *s, size_t n, double *out) {
    numtext t;
    if (numtext_make(&t, s, n) != 0) return -1;
    int rc = -1;
    char *p = t.p;
    bool neg = false;
    if (*p == '+' || *p == '-') neg = *p++ == '-';
    if (strcasecmp(p, "inf") == 0 || strcasecmp(p, "infinity") == 0) {
        *out = neg ? -INFINITY : INFINITY;
        rc = 0;
    } else if (strcasecmp(p, "nan") == 0) {
        *out = NAN;
        rc = 0;
    } else {
        /* digits [. digits] [e [+-] digits], a digit somewhere in the mantissa */
        const char *q = p;
        size_t mant = 0;
        while (is_digit(*q) || *q == '_') mant += is_digit(*q++);
        if (*q == '.') {
            q++;
            while (is_digit(*q) || *q == '_') mant += is_digit(*q++);
        }
        bool ok = mant > 0;
        if (ok && (*q == 'e' || *q == 'E')) {
            q++;
            if (*q == '+' || *q == '-') q++;
            ok = is_digit(*q);
            while (is_digit(*q) || *q == '_') q++;
        }
        /* underscores only between digits: '.', 'e' and signs are not digits */
        locale_t loc = c_locale();
        if (ok && !*q && drop_underscores(p) == 0 && loc) {
            char *end;
            double d = strtod_l(p, &end, loc);
            if (!*end) {
                *out = neg ? -d : d;
                rc = 0;
            }
        }
    }
    numtext_free(&t);
    return rc;
}

static vial_value *pythonize(vial_arena *a, const char *s, size_t n, bool quoted) {
    if (quoted) return vial_new_strn(a, s + 1, n - 2);
    if (n == 4 && memcmp(s, "None", 4) == 0) return vial_value_null();
    if (n == 4 && memcmp(s, "True", 4) == 0) return vial_new_bool(a, true);
    if (n == 5 && memcmp(s, "False", 5) == 0) return vial_new_bool(a, false);
    int64_t i;
    bool overflow;
    if (router_py_int(s, n, &i, &overflow) == 0) return vial_new_int(a, i);
    if (overflow) return NULL; /* the caller reports it */
    double d;
    if (router_py_float(s, n, &d) == 0) return vial_new_double(a, d);
    return vial_new_strn(a, s, n);
}

static bool only_space(const char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = vial_utf8_decode(s + i, n - i, &cp);
        if (!k || !router_py_space(cp)) return false;
        i += k;
    }
    return true;
}

int router_parse_args(vial_arena *a, const char *s, size_t n, vial_value **args_out, vial_value **kwargs_out,
                      size_t *bad_offset, char *msg, size_t msglen) {
    vial_value *args = vial_new_array(a), *kwargs = vial_new_object(a);
    *bad_offset = 0;
    if (!args || !kwargs) {
        snprintf(msg, msglen, "out of memory");
        return -1;
    }
    pcre2_code *code = arg_item_code();
    if (!code) {
        snprintf(msg, msglen, "cannot compile the argument grammar");
        return -1;
    }
    /* the text plus the ',' Werkzeug appends */
    char *text = vial_arena_alloc(a, n + 2);
    if (!text) {
        snprintf(msg, msglen, "out of memory");
        return -1;
    }
    memcpy(text, s, n);
    text[n] = ',';
    text[n + 1] = '\0';
    size_t tlen = n + 1;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(code, NULL);
    if (!md) {
        snprintf(msg, msglen, "out of memory");
        return -1;
    }
    int rc_out = 0;
    size_t pos = 0;
    while (pos < tlen) {
        int rc = pcre2_match(code, (PCRE2_SPTR)text, tlen, pos, 0, md, NULL);
        size_t start = tlen, end = tlen;
        PCRE2_SIZE *ov = NULL;
        if (rc > 0) {
            ov = pcre2_get_ovector_pointer(md);
            start = ov[0];
            end = ov[1];
        }
        /* what finditer would skip between items */
        const char *gap = text + pos;
        size_t gaplen = start - pos;
        bool last = rc <= 0;
        if (!(only_space(gap, gaplen) ||
              (last && gaplen >= 1 && gap[gaplen - 1] == ',' && only_space(gap, gaplen - 1)))) {
            size_t off = pos;
            while (off < start && (text[off] == ' ' || text[off] == '\t')) off++;
            *bad_offset = off < n ? off : n;
            int shown = (int)(n - *bad_offset > 40 ? 40 : n - *bad_offset);
            const char *minus = memchr(gap, '-', gaplen);
            if (minus && minus + 1 < text + tlen && minus[1] >= '0' && minus[1] <= '9')
                snprintf(msg, msglen,
                         "cannot read the converter arguments at '%.*s': negative numbers are not part of the "
                         "syntax (Werkzeug would silently drop the '-')",
                         shown, s + *bad_offset);
            else
                snprintf(msg, msglen,
                         "cannot read the converter arguments at '%.*s': expected a comma-separated list of "
                         "[name=]value, values being numbers, True/False/None, words or quoted strings",
                         shown, s + *bad_offset);
            rc_out = -1;
            break;
        }
        if (last) break;
        const char *val = text + ov[4];
        size_t vlen = ov[5] - ov[4];
        bool quoted = ov[6] != PCRE2_UNSET;
        if (quoted) {
            val = text + ov[6];
            vlen = ov[7] - ov[6];
        }
        vial_value *v = pythonize(a, val, vlen, quoted);
        if (!v) {
            *bad_offset = ov[4];
            snprintf(msg, msglen, "the number '%.*s' does not fit in 64 bits", (int)vlen, val);
            rc_out = -1;
            break;
        }
        if (ov[2] != PCRE2_UNSET) {
            const char *name = text + ov[2];
            size_t nlen = ov[3] - ov[2];
            if (vial_object_getn(kwargs, name, nlen)) {
                *bad_offset = ov[2];
                snprintf(msg, msglen, "keyword argument '%.*s' given twice", (int)nlen, name);
                rc_out = -1;
                break;
            }
            if (vial_object_setn(kwargs, name, nlen, v) != 0) rc_out = -1;
        } else if (vial_array_push(args, v) != 0) {
            rc_out = -1;
        }
        if (rc_out) {
            snprintf(msg, msglen, "out of memory");
            break;
        }
        pos = end;
    }
    pcre2_match_data_free(md);
    if (rc_out) return -1;
    *args_out = args;
    *kwargs_out = kwargs;
    return 0;
}
