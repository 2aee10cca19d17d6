/* pyformat.c - Python's three ways of turning values into text that
 * templates use: the % operator (and the `format` filter, which is
 * `value % args`), str.format(), and pprint.pformat() (the `pprint` filter).
 *
 * % follows CPython's PyUnicode_Format: a tuple supplies positional
 * arguments, a dict supplies %(name)s lookups (and is itself the single
 * argument otherwise), %d truncates floats, %x of a negative number prints a
 * minus sign. Floating point conversions go through C's printf, whose
 * correctly rounded output is the same as Python's for finite values. On a
 * Markup format string every argument is escaped first (Markup.__mod__).
 *
 * pformat reproduces pprint's layout: a repr that fits in the remaining width
 * is written whole; otherwise dicts (keys sorted), lists and tuples break one
 * item per line with pprint's indentation, and long strings are split into
 * adjacent literals at whitespace. */
#include "template/tpl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- shared number output ---- */

static int put_padded(vial_buf *b, const char *body, size_t n, int width, bool left, char fill_char) {
    int pad = width > (int)n ? width - (int)n : 0;
    if (!left)
        for (int i = 0; i < pad; i++)
            if (tb_putc(b, fill_char) != 0) return -1;
    if (tb_append(b, body, n) != 0) return -1;
    if (left)
        for (int i = 0; i < pad; i++)
            if (tb_putc(b, ' ') != 0) return -1;
    return 0;
}

static bool int_of(const vial_value *v, int64_t *out) {
    if (v->type == VIAL_INT) return *out = v->as.i, true;
    if (v->type == VIAL_BOOL) return *out = v->as.b, true;
    return false;
}

/* Formats |value| in base with digits; returns the digit string length. */
static size_t utoa_base(uint64_t u, int base, bool upper, char *out) {
    char tmp[72];
    size_t n = 0;
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    do {
        tmp[n++] = digits[u % (uint64_t)base];
        u /= (uint64_t)base;
    } while (u);
    for (size_t i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
    out[n] = 0;
    return n;
}

/* printf("%.*f", prec, |x|) digits, correctly rounded (ties to even on the
 * exact binary value, as both C and Python do). The fast path scales by a
 * power of ten in one correctly rounded multiplication; when the scaled value
 * is not within one ulp of a rounding boundary, the exact product rounds the
 * same way, so only near-ties need glibc's multi-precision printf. */
static const double pow10_table[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};

int vial_tpl_fixed_digits(char *out, size_t cap, double ax, int prec) {
    if (prec >= 0 && prec <= 15 && isfinite(ax) && ax >= 0) {
        double y = ax * pow10_table[prec];
        if (y < 1125899906842624.0) { /* 2^50: ulp(y) <= 1/4 */
            double fl = (double)(uint64_t)y; /* floor: y is >= 0 and below 2^50 */
            double frac = y - fl;
            double d = frac - 0.5; /* exact when it matters: frac is then in [1/4, 3/4] */
            double ulp = y * 2.220446049250313e-16 + 4.9406564584124654e-324; /* >= ulp(y) */
            bool up;
            if (fabs(d) > ulp) {
                up = d > 0;
            } else {
                /* near a tie: the exact product is y + err (fma is exact), and the
                 * sign of a rounded sum is the sign of the exact sum */
                double err = fma(ax, pow10_table[prec], -y);
                double t = d + err;
                up = t > 0 || (t == 0 && ((uint64_t)fl & 1)); /* exact tie: to even (fl < 2^50 is an integer) */
            }
            /* digits right to left: the fraction's, the point, then the integer part's (at least one) */
            uint64_t u = (uint64_t)fl + (up ? 1 : 0);
            char digits[40];
            char *end = digits + sizeof digits, *d0 = end;
            int left = prec;
            for (; left >= 2; left -= 2) {
                unsigned q = (unsigned)(u % 100);
                u /= 100;
                d0 -= 2;
                memcpy(d0, vial_tv_digit_pairs + 2 * q, 2);
            }
            if (left) {
                *--d0 = (char)('0' + u % 10);
                u /= 10;
            }
            if (prec > 0) *--d0 = '.';
            d0 = tv_udigits(d0, u);
            size_t k = (size_t)(end - d0);
            if (k + 1 > cap) goto slow;
            tb_copy(out, d0, k);
            out[k] = 0;
            return (int)k;
        }
    }
slow:;
    int n = snprintf(out, cap, "%.*f", prec < 0 ? 6 : prec, ax);
    return n < 0 || (size_t)n >= cap ? -1 : n;
}

int vial_tpl_format_double_spec(vial_buf *b, double d, char type, int precision, bool alt) {
    char fmt[16], tmp[512];
    if (precision < 0) precision = 6;
    if (precision > 300) precision = 300;
    if (isnan(d)) d = fabs(d); /* "nan", never "-nan" */
    snprintf(fmt, sizeof fmt, "%%%s.*%c", alt ? "#" : "", type);
    int n = snprintf(tmp, sizeof tmp, fmt, precision, d);
    if (n < 0) return -1;
    if ((size_t)n >= sizeof tmp) {
        /* huge %f values: Python prints every digit */
        char *big = vial_arena_alloc(b->arena ? b->arena : NULL, (size_t)n + 1);
        if (!big) return -1;
        snprintf(big, (size_t)n + 1, fmt, precision, d);
        return tb_append(b, big, (size_t)n);
    }
    return tb_append(b, tmp, (size_t)n);
}

/* ---- the % operator ---- */

static vial_value *fmt_fail(tpl_render *r, const tpl_node *site, const char *msg) { return vial_tpl_failv(r, site, "%s", msg); }

vial_value *vial_tpl_percent_format(tpl_render *r, const tpl_node *site, vial_value *fmtv, vial_value *args) {
    bool tuple = args->type == VIAL_ARRAY && tv_is_tuple(args);
    if (tuple) return vial_tpl_percent_format_argv(r, site, fmtv, args->as.arr.items, args->as.arr.len, true, NULL);
    return vial_tpl_percent_format_argv(r, site, fmtv, &args, 1, false, args->type == VIAL_OBJECT ? args : NULL);
}

vial_value *vial_tpl_percent_format_argv(tpl_render *r, const tpl_node *site, vial_value *fmtv, vial_value **argv,
                                    size_t argc, bool tuple, const vial_value *mapping) {
    const char *f = fmtv->as.s.ptr;
    size_t n = fmtv->as.s.len;
    bool safe = tv_is_safe(fmtv);
    size_t argi = 0;
    bool used_mapping = false;
    vial_buf b;
    vial_tv_buf(r, &b);
    /* one allocation for the usual result size: no growth on the way */
    if (vial_buf_reserve(&b, n + 24 * (argc < 8 ? argc : 8) + 8) != 0) goto big;
    size_t i = 0;
    while (i < n) {
        const char *pct = memchr(f + i, '%', n - i);
        size_t lit = pct ? (size_t)(pct - f) - i : n - i;
        if (lit && tb_append(&b, f + i, lit) != 0) goto big;
        i += lit;
        if (i >= n) break;
        size_t spec_start = i;
        i++; /* '%' */
        if (i >= n) return fmt_fail(r, site, "incomplete format");
        vial_value *val = NULL;
        if (f[i] == '(') {
            if (!mapping) {
                int ak2 = argc ? tv_kind(argv[0]) : TK_NULL;
                if (!tuple && ak2 == TK_ARRAY) return fmt_fail(r, site, "list indices must be integers or slices, not str");
                return fmt_fail(r, site, "format requires a mapping");
            }
            int depth = 1;
            size_t ks = ++i;
            while (i < n && depth) {
                if (f[i] == '(') depth++;
                else if (f[i] == ')') depth--;
                i++;
            }
            if (depth) return fmt_fail(r, site, "incomplete format key");
            val = vial_object_getn(mapping, f + ks, i - 1 - ks);
            if (!val) {
                vial_value key = {.type = VIAL_STRING};
                key.as.s.ptr = f + ks;
                key.as.s.len = i - 1 - ks;
                vial_buf kb;
                vial_buf_init(&kb, r->arena, 300);
                vial_tv_repr(r, &kb, &key);
                return vial_tpl_failv(r, site, "%s", vial_buf_cstr(&kb));
            }
            used_mapping = true;
        }
        bool left = false, plus = false, space = false, alt = false, zero = false;
        for (; i < n; i++) {
            char c = f[i];
            if (c == '-') left = true;
            else if (c == '+') plus = true;
            else if (c == ' ') space = true;
            else if (c == '#') alt = true;
            else if (c == '0') zero = true;
            else break;
        }
        int width = -1, prec = -1;
        if (i < n && f[i] == '*') {
            i++;
            if (argi >= argc || !tuple) return fmt_fail(r, site, tuple ? "not enough arguments for format string" : "* wants int");
            int64_t w;
            if (!int_of(argv[argi], &w)) return fmt_fail(r, site, "* wants int");
            argi++;
            if (w < 0) {
                left = true;
                w = -w;
            }
            width = (int)(w > 100000 ? 100000 : w);
        } else {
            while (i < n && f[i] >= '0' && f[i] <= '9') {
                width = (width < 0 ? 0 : width) * 10 + (f[i] - '0');
                if (width > 100000) return fmt_fail(r, site, "width too big");
                i++;
            }
        }
        if (i < n && f[i] == '.') {
            i++;
            prec = 0;
            if (i < n && f[i] == '*') {
                i++;
                int64_t p;
                if (argi >= argc || !tuple || !int_of(argv[argi], &p)) return fmt_fail(r, site, "* wants int");
                argi++;
                prec = (int)(p < 0 ? 0 : p > 100000 ? 100000 : p);
            } else {
                while (i < n && f[i] >= '0' && f[i] <= '9') {
                    prec = prec * 10 + (f[i] - '0');
                    if (prec > 100000) return fmt_fail(r, site, "precision too big");
                    i++;
                }
            }
        }
        while (i < n && (f[i] == 'h' || f[i] == 'l' || f[i] == 'L')) i++;
        if (i >= n) return fmt_fail(r, site, "incomplete format");
        char type = f[i++];
        if (type == '%') {
            if (tb_putc(&b, '%') != 0) goto big;
            continue;
        }
        if (!val) {
            if (argi >= argc) return fmt_fail(r, site, "not enough arguments for format string");
            val = argv[argi++];
        }
        char body[128];
        switch (type) {
        case 's':
        case 'r':
        case 'a': {
            vial_buf sb;
            vial_tv_buf(r, &sb);
            int rc;
            if (type == 's') {
                if (tv_kind(val) == TK_UNDEF && r->strict) return (vial_tpl_undef_fail(r, site, val), NULL);
                rc = vial_tv_str(r, &sb, val);
            } else {
                rc = vial_tv_repr(r, &sb, val);
            }
            if (rc != 0) return r->failed ? NULL : vial_tpl_failv(r, site, "string too large");
            const char *s = sb.data ? sb.data : "";
            size_t sl = sb.len;
            vial_buf eb;
            if (safe && !(type == 's' && tv_is_safe(val))) {
                vial_tv_buf(r, &eb);
                if (vial_tv_escape_into(&eb, s, sl) != 0) goto big;
                s = eb.data ? eb.data : "";
                sl = eb.len;
            }
            if (prec >= 0) sl = vial_tv_cp_offset(s, sl, (size_t)prec);
            size_t cps = vial_tv_cp_len(s, sl);
            int pad = width > (int)cps ? width - (int)cps : 0;
            if (!left)
                for (int k = 0; k < pad; k++) tb_putc(&b, ' ');
            if (tb_append(&b, s, sl) != 0) goto big;
            if (left)
                for (int k = 0; k < pad; k++) tb_putc(&b, ' ');
            break;
        }
        case 'd':
        case 'i':
        case 'u':
        case 'o':
        case 'x':
        case 'X': {
            int64_t iv;
            if (!int_of(val, &iv)) {
                if (val->type == VIAL_DOUBLE && (type == 'd' || type == 'i' || type == 'u')) {
                    double d = val->as.d;
                    if (isnan(d)) return fmt_fail(r, site, "cannot convert float NaN to integer");
                    if (isinf(d)) return fmt_fail(r, site, "cannot convert float infinity to integer");
                    if (d >= 9.2e18 || d <= -9.2e18) return fmt_fail(r, site, "integer overflow (vial templates use 64-bit integers)");
                    iv = (int64_t)d;
                } else if (type == 'd' || type == 'i' || type == 'u') {
                    return vial_tpl_failv(r, site, "%%%c format: a real number is required, not %s", type,
                                     vial_tv_type_name(val));
                } else {
                    return vial_tpl_failv(r, site, "%%%c format: an integer is required, not %s", type, vial_tv_type_name(val));
                }
            }
            uint64_t u = iv < 0 ? (uint64_t)0 - (uint64_t)iv : (uint64_t)iv;
            char digits[72];
            int base = type == 'o' ? 8 : (type == 'x' || type == 'X') ? 16 : 10;
            size_t dl = utoa_base(u, base, type == 'X', digits);
            /* precision pads the digits with zeros */
            char num[200];
            size_t k = 0;
            const char *sign = iv < 0 ? "-" : plus ? "+" : space ? " " : "";
            const char *prefix = !alt ? "" : type == 'o' ? "0o" : type == 'x' ? "0x" : type == 'X' ? "0X" : "";
            int zeros = prec > (int)dl ? prec - (int)dl : 0;
            if (zeros > 100) zeros = 100;
            int total = (int)(strlen(sign) + strlen(prefix) + (size_t)zeros + dl);
            if (zero && !left && width > total) zeros += width - total;
            if (zeros > 150) zeros = 150;
            k += (size_t)snprintf(num + k, sizeof num - k, "%s%s", sign, prefix);
            for (int z = 0; z < zeros && k < sizeof num - 80; z++) num[k++] = '0';
            memcpy(num + k, digits, dl);
            k += dl;
            if (put_padded(&b, num, k, width, left, ' ') != 0) goto big;
            break;
        }
        case 'e':
        case 'E':
        case 'f':
        case 'F':
        case 'g':
        case 'G': {
            double d;
            int64_t iv;
            if (val->type == VIAL_DOUBLE) d = val->as.d;
            else if (int_of(val, &iv)) d = (double)iv;
            else return vial_tpl_failv(r, site, "must be real number, not %s", vial_tv_type_name(val));
            if (isnan(d)) d = fabs(d); /* Python prints every NaN as "nan", C a negative one as "-nan" */
            char num[640];
            int nl;
            if ((type == 'f' || type == 'F') && isfinite(d)) {
                /* sign, then digits from the fast path, then the flags' padding */
                size_t k = 0;
                if (signbit(d)) num[k++] = '-';
                else if (plus) num[k++] = '+';
                else if (space) num[k++] = ' ';
                int dl = vial_tpl_fixed_digits(num + k, sizeof num - k - 2, fabs(d), prec < 0 ? 6 : prec);
                if (dl < 0) return fmt_fail(r, site, "number too large to format");
                k += (size_t)dl;
                if (alt && prec == 0) num[k++] = '.';
                nl = (int)k;
                int pad = width > nl ? width - nl : 0;
                if (zero && !left && pad) {
                    size_t signlen = (num[0] == '-' || num[0] == '+' || num[0] == ' ') ? 1 : 0;
                    if (tb_append(&b, num, signlen) != 0) goto big;
                    for (int z = 0; z < pad; z++) tb_putc(&b, '0');
                    if (tb_append(&b, num + signlen, (size_t)nl - signlen) != 0) goto big;
                } else if (put_padded(&b, num, (size_t)nl, width, left, ' ') != 0) {
                    goto big;
                }
                break;
            }
            char cfmt[32];
            snprintf(cfmt, sizeof cfmt, "%%%s%s%s%s%s*.*%c", left ? "-" : "", plus ? "+" : "", space ? " " : "",
                     alt ? "#" : "", zero ? "0" : "", type);
            nl = snprintf(num, sizeof num, cfmt, width < 0 ? 0 : width, prec < 0 ? 6 : prec, d);
            if (nl < 0 || nl >= (int)sizeof num) {
                int need = snprintf(NULL, 0, cfmt, width < 0 ? 0 : width, prec < 0 ? 6 : prec, d);
                if (need < 0) return fmt_fail(r, site, "format error");
                if (vial_buf_reserve(&b, (size_t)need + 1) != 0) goto big;
                snprintf(b.data + b.len, (size_t)need + 1, cfmt, width < 0 ? 0 : width, prec < 0 ? 6 : prec, d);
                b.len += (size_t)need;
                break;
            }
            if (tb_append(&b, num, (size_t)nl) != 0) goto big;
            break;
        }
        case 'c': {
            int64_t iv;
            if (int_of(val, &iv)) {
                if (iv < 0 || iv > 0x10FFFF) return fmt_fail(r, site, "%c arg not in range(0x110000)");
                char tmp[4];
                size_t cl = vial_utf8_encode((uint32_t)iv, tmp);
                if (put_padded(&b, tmp, cl, width, left, ' ') != 0) goto big;
            } else if (val->type == VIAL_STRING && vial_tv_cp_len(val->as.s.ptr, val->as.s.len) == 1) {
                if (put_padded(&b, val->as.s.ptr, val->as.s.len, width, left, ' ') != 0) goto big;
            } else {
                return fmt_fail(r, site, "%c requires int or char");
            }
            break;
        }
        default:
            snprintf(body, sizeof body, "unsupported format character '%c' (0x%x) at index %zu", type,
                     (unsigned char)type, vial_tv_cp_len(f, i - 1));
            (void)spec_start;
            return fmt_fail(r, site, body);
        }
    }
    /* CPython skips this check when the argument "is a mapping", which means any
     * non-tuple, non-str object with __getitem__: dicts, lists, ranges, Undefined */
    int ak = argc ? tv_kind(argv[0]) : TK_NULL;
    bool mapping_like = !tuple && (ak == TK_OBJECT || ak == TK_ARRAY || ak == TK_RANGE || ak == TK_UNDEF);
    if (argi < argc && !used_mapping && !mapping_like)
        return fmt_fail(r, site, "not all arguments converted during string formatting");
    return vial_tv_buf_value(r, &b, safe);
big:
    return vial_tpl_failv(r, site, "string too large");
}

/* ---- str.format ---- */

typedef struct spec {
    uint32_t fill;
    char align; /* 0 < > ^ = */
    char sign;  /* 0 + - space */
    bool alt, zero;
    int width, prec;
    char grouping; /* 0 , _ */
    char type;
} spec;

static int parse_spec(const char *s, size_t n, spec *sp) {
    memset(sp, 0, sizeof *sp);
    sp->fill = ' ';
    sp->width = -1;
    sp->prec = -1;
    size_t i = 0;
    uint32_t cp0 = 0;
    size_t k0 = n ? vial_tv_next_cp(s, n, &cp0) : 0;
    if (k0 < n && (s[k0] == '<' || s[k0] == '>' || s[k0] == '^' || s[k0] == '=')) {
        sp->fill = cp0;
        sp->align = s[k0];
        i = k0 + 1;
    } else if (n && (s[0] == '<' || s[0] == '>' || s[0] == '^' || s[0] == '=')) {
        sp->align = s[0];
        i = 1;
    }
    if (i < n && (s[i] == '+' || s[i] == '-' || s[i] == ' ')) sp->sign = s[i++];
    if (i < n && s[i] == '#') sp->alt = true, i++;
    if (i < n && s[i] == '0') {
        sp->zero = true;
        i++;
    }
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        sp->width = (sp->width < 0 ? 0 : sp->width) * 10 + (s[i] - '0');
        if (sp->width > 100000) return -1;
        i++;
    }
    if (i < n && (s[i] == ',' || s[i] == '_')) sp->grouping = s[i++];
    if (i < n && s[i] == '.') {
        i++;
        sp->prec = 0;
        if (i >= n || !(s[i] >= '0' && s[i] <= '9')) return -1;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            sp->prec = sp->prec * 10 + (s[i] - '0');
            if (sp->prec > 100000) return -1;
            i++;
        }
    }
    if (i < n) sp->type = s[i++];
    if (i != n) return -1;
    return 0;
}

static int align_into(vial_buf *b, const char *body, size_t n, const spec *sp, char default_align) {
    size_t cps = vial_tv_cp_len(body, n);
    int pad = sp->width > (int)cps ? sp->width - (int)cps : 0;
    char al = sp->align ? sp->align : default_align;
    int left = al == '<' ? 0 : al == '^' ? pad / 2 : pad;
    int right = pad - left;
    char fillb[4];
    size_t fl = vial_utf8_encode(sp->fill, fillb);
    for (int i = 0; i < left; i++)
        if (tb_append(b, fillb, fl) != 0) return -1;
    if (tb_append(b, body, n) != 0) return -1;
    for (int i = 0; i < right; i++)
        if (tb_append(b, fillb, fl) != 0) return -1;
    return 0;
}

static void group_digits(const char *digits, size_t n, char sep, int every, char *out, size_t *outn) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (i && (n - i) % (size_t)every == 0) out[k++] = sep;
        out[k++] = digits[i];
    }
    *outn = k;
}

/* A number: sign + body, with '=' alignment and zero padding placed after the sign. */
static int emit_number(vial_buf *b, bool neg, const char *body, size_t n, const spec *sp) {
    char signc = neg ? '-' : sp->sign == '+' ? '+' : sp->sign == ' ' ? ' ' : 0;
    spec s2 = *sp;
    if (sp->zero && !sp->align) {
        s2.align = '=';
        s2.fill = '0';
    }
    if (s2.align == '=') {
        int total = (int)n + (signc ? 1 : 0);
        if (signc && tb_putc(b, signc) != 0) return -1;
        char fillb[4];
        size_t fl = vial_utf8_encode(s2.fill, fillb);
        for (int i = total; i < s2.width; i++)
            if (tb_append(b, fillb, fl) != 0) return -1;
        return tb_append(b, body, n);
    }
    char tmp[1024];
    size_t k = 0;
    if (signc) tmp[k++] = signc;
    if (n > sizeof tmp - 2) n = sizeof tmp - 2;
    memcpy(tmp + k, body, n);
    k += n;
    return align_into(b, tmp, k, &s2, '>');
}

static int format_int(tpl_render *r, const tpl_node *site, vial_buf *b, int64_t iv, const spec *sp) {
    char type = sp->type ? sp->type : 'd';
    uint64_t u = iv < 0 ? (uint64_t)0 - (uint64_t)iv : (uint64_t)iv;
    char digits[80], body[160];
    size_t dl, bl = 0;
    int base = 10;
    bool upper = false;
    const char *prefix = "";
    switch (type) {
    case 'd':
    case 'n': break;
    case 'b': base = 2, prefix = "0b"; break;
    case 'o': base = 8, prefix = "0o"; break;
    case 'x': base = 16, prefix = "0x"; break;
    case 'X': base = 16, upper = true, prefix = "0X"; break;
    case 'c': {
        if (iv < 0 || iv > 0x10FFFF) return vial_tpl_raise(r, site, "%%c arg not in range(0x110000)");
        char tmp[4];
        size_t cl = vial_utf8_encode((uint32_t)iv, tmp);
        return align_into(b, tmp, cl, sp, '<');
    }
    default: return vial_tpl_raise(r, site, "Unknown format code '%c' for object of type 'int'", type);
    }
    dl = utoa_base(u, base, upper, digits);
    if (sp->alt) {
        bl = strlen(prefix);
        memcpy(body, prefix, bl);
    }
    if (sp->grouping) {
        size_t gn;
        group_digits(digits, dl, sp->grouping, base == 10 ? 3 : 4, body + bl, &gn);
        bl += gn;
    } else {
        memcpy(body + bl, digits, dl);
        bl += dl;
    }
    return emit_number(b, iv < 0, body, bl, sp);
}

static int format_float(tpl_render *r, const tpl_node *site, vial_buf *b, double d, const spec *sp) {
    char type = sp->type;
    char body[1024];
    size_t bl;
    bool neg = signbit(d) && !isnan(d);
    double a = fabs(d);
    if (!type && sp->prec < 0) {
        char tmp[VIAL_DOUBLE_BUFSIZE];
        bl = vial_format_double(tmp, a);
        memcpy(body, tmp, bl);
    } else {
        char t = type ? type : 'g';
        int prec = sp->prec < 0 ? 6 : sp->prec;
        if (prec > 500) prec = 500;
        bool pct = t == '%';
        if (pct) {
            a *= 100;
            t = 'f';
        }
        if (t == 'n') t = 'g';
        if (t != 'e' && t != 'E' && t != 'f' && t != 'F' && t != 'g' && t != 'G')
            return vial_tpl_raise(r, site, "Unknown format code '%c' for object of type 'float'", type);
        if (!type && prec == 0) prec = 1;
        char fmt[16];
        snprintf(fmt, sizeof fmt, "%%%s.*%c", sp->alt ? "#" : "", t);
        int n = (t == 'f' || t == 'F') && !sp->alt && isfinite(a) ? vial_tpl_fixed_digits(body, sizeof body - 4, a, prec)
                                                                   : snprintf(body, sizeof body - 4, fmt, prec, a);
        if (n < 0 || n >= (int)sizeof body - 4) return vial_tpl_raise(r, site, "number too large to format");
        bl = (size_t)n;
        if (!type && !isinf(a) && !isnan(a) && !memchr(body, 'e', bl) && !memchr(body, '.', bl)) {
            /* no type: like 'g' but a fixed-point result keeps a fractional digit */
            body[bl++] = '.';
            body[bl++] = '0';
        }
        if (pct) body[bl++] = '%';
    }
    if (sp->grouping) {
        size_t intlen = 0;
        while (intlen < bl && body[intlen] >= '0' && body[intlen] <= '9') intlen++;
        char g[1200];
        size_t gn;
        group_digits(body, intlen, sp->grouping, 3, g, &gn);
        memcpy(g + gn, body + intlen, bl - intlen);
        gn += bl - intlen;
        return emit_number(b, neg, g, gn, sp);
    }
    return emit_number(b, neg, body, bl, sp);
}

static int format_value(tpl_render *r, const tpl_node *site, vial_buf *b, vial_value *v, const char *specs, size_t sn) {
    spec sp;
    if (parse_spec(specs, sn, &sp) != 0) return vial_tpl_raise(r, site, "Invalid format specifier");
    int k = tv_kind(v);
    int64_t iv = 0;
    if (k == TK_INT || (k == TK_BOOL && sn)) {
        int_of(v, &iv);
        if (sp.type && strchr("eEfFgG%", sp.type)) return format_float(r, site, b, (double)iv, &sp);
        if (sp.prec >= 0) return vial_tpl_raise(r, site, "Precision not allowed in integer format specifier");
        return format_int(r, site, b, iv, &sp);
    }
    if (k == TK_DOUBLE) return format_float(r, site, b, v->as.d, &sp);
    if (k == TK_STRING || !sn) {
        vial_buf tmp;
        vial_tv_buf(r, &tmp);
        if (vial_tv_str(r, &tmp, v) != 0) return -1;
        if (!sn) return tb_append(b, tmp.data ? tmp.data : "", tmp.len);
        if (sp.type && sp.type != 's') return vial_tpl_raise(r, site, "Unknown format code '%c' for object of type 'str'", sp.type);
        if (sp.sign) return vial_tpl_raise(r, site, "Sign not allowed in string format specifier");
        size_t len = tmp.len;
        if (sp.prec >= 0) len = vial_tv_cp_offset(tmp.data ? tmp.data : "", tmp.len, (size_t)sp.prec);
        return align_into(b, tmp.data ? tmp.data : "", len, &sp, '<');
    }
    return vial_tpl_raise(r, site, "unsupported format string passed to %s.__format__", vial_tv_type_name(v));
}

/* Resolves a field name: index or name, then .attr / [key] parts. */
static vial_value *field_value(tpl_render *r, const tpl_node *site, const char *s, size_t n, tpl_args *a,
                               size_t *auto_idx, bool *used_auto, bool *used_manual) {
    size_t i = 0;
    while (i < n && s[i] != '.' && s[i] != '[') i++;
    vial_value *v = NULL;
    if (i == 0) {
        if (*used_manual)
            return vial_tpl_failv(r, site, "cannot switch from manual field specification to automatic field numbering");
        *used_auto = true;
        if (*auto_idx >= a->npos) return vial_tpl_failv(r, site, "Replacement index %zu out of range for positional args tuple", *auto_idx);
        v = a->pos[(*auto_idx)++];
    } else {
        bool numeric = true;
        for (size_t k = 0; k < i; k++)
            if (s[k] < '0' || s[k] > '9') numeric = false;
        if (numeric) {
            if (*used_auto)
                return vial_tpl_failv(r, site, "cannot switch from automatic field numbering to manual field specification");
            *used_manual = true;
            size_t idx = 0;
            for (size_t k = 0; k < i && idx < 1000000; k++) idx = idx * 10 + (size_t)(s[k] - '0');
            if (idx >= a->npos) return vial_tpl_failv(r, site, "Replacement index %zu out of range for positional args tuple", idx);
            v = a->pos[idx];
        } else {
            for (size_t k = 0; k < a->nkw; k++)
                if (a->kwnames[k].len == i && memcmp(a->kwnames[k].ptr, s, i) == 0) v = a->kwvals[k];
            if (!v) return vial_tpl_failv(r, site, "'%.*s'", (int)i, s);
        }
    }
    while (i < n) {
        if (s[i] == '.') {
            size_t st = ++i;
            while (i < n && s[i] != '.' && s[i] != '[') i++;
            v = vial_tpl_getattr(r, site, v, s + st, i - st);
            if (!v) return NULL;
            if (tv_kind(v) == TK_UNDEF) return vial_tpl_failv(r, site, "'%s' object has no attribute '%.*s'", "object", (int)(i - st), s + st);
        } else if (s[i] == '[') {
            size_t st = ++i;
            while (i < n && s[i] != ']') i++;
            if (i >= n) return vial_tpl_failv(r, site, "Missing ']' in format string");
            bool numeric = i > st;
            for (size_t k = st; k < i; k++)
                if (s[k] < '0' || s[k] > '9') numeric = false;
            vial_value key;
            memset(&key, 0, sizeof key);
            if (numeric) {
                key.type = VIAL_INT;
                for (size_t k = st; k < i; k++) key.as.i = key.as.i * 10 + (s[k] - '0');
            } else {
                key.type = VIAL_STRING;
                key.as.s.ptr = s + st;
                key.as.s.len = i - st;
            }
            i++;
            vial_value *kp = numeric ? vial_tv_int(r, key.as.i) : vial_new_str_ref(r->arena, key.as.s.ptr, key.as.s.len);
            if (!kp) return vial_tpl_oom(r, site);
            vial_value *got = vial_tpl_getitem(r, site, v, kp);
            if (!got) return NULL;
            if (tv_kind(got) == TK_UNDEF) return vial_tpl_failv(r, site, numeric ? "list index out of range" : "'%.*s'", (int)(kp->type == VIAL_STRING ? kp->as.s.len : 0), kp->type == VIAL_STRING ? kp->as.s.ptr : "");
            v = got;
        } else {
            return vial_tpl_failv(r, site, "Only '.' or '[' may follow ']' in format field specifier");
        }
    }
    return v;
}

vial_value *vial_tpl_str_format(tpl_render *r, const tpl_node *site, vial_value *fmtv, tpl_args *a) {
    const char *f = fmtv->as.s.ptr;
    size_t n = fmtv->as.s.len;
    bool safe = tv_is_safe(fmtv);
    vial_buf b;
    vial_tv_buf(r, &b);
    size_t auto_idx = 0;
    bool used_auto = false, used_manual = false;
    size_t i = 0;
    while (i < n) {
        char c = f[i];
        if (c == '}') {
            if (i + 1 < n && f[i + 1] == '}') {
                tb_putc(&b, '}');
                i += 2;
                continue;
            }
            return vial_tpl_failv(r, site, "Single '}' encountered in format string");
        }
        if (c != '{') {
            size_t st = i;
            while (i < n && f[i] != '{' && f[i] != '}') i++;
            if (tb_append(&b, f + st, i - st) != 0) goto big;
            continue;
        }
        if (i + 1 < n && f[i + 1] == '{') {
            tb_putc(&b, '{');
            i += 2;
            continue;
        }
        /* a replacement field: name[!conv][:spec], spec may nest one {field} */
        size_t st = ++i;
        int depth = 1;
        while (i < n && depth) {
            if (f[i] == '{') depth++;
            else if (f[i] == '}') depth--;
            if (depth) i++;
        }
        if (i >= n) return vial_tpl_failv(r, site, "expected '}' before end of string");
        const char *field = f + st;
        size_t fl = i - st;
        i++;
        size_t name_end = 0;
        while (name_end < fl && field[name_end] != '!' && field[name_end] != ':') {
            if (field[name_end] == '[')
                while (name_end < fl && field[name_end] != ']') name_end++;
            if (name_end < fl) name_end++;
        }
        char conv = 0;
        size_t p = name_end;
        if (p < fl && field[p] == '!') {
            if (p + 1 >= fl) return vial_tpl_failv(r, site, "end of string while looking for conversion specifier");
            conv = field[p + 1];
            p += 2;
            if (p < fl && field[p] != ':') return vial_tpl_failv(r, site, "expected ':' after conversion specifier");
        }
        const char *specs = "";
        size_t sn = 0;
        if (p < fl && field[p] == ':') {
            specs = field + p + 1;
            sn = fl - p - 1;
        }
        vial_value *v = field_value(r, site, field, name_end, a, &auto_idx, &used_auto, &used_manual);
        if (!v) return NULL;
        /* nested replacement fields in the spec */
        vial_buf specb;
        if (memchr(specs, '{', sn)) {
            vial_tv_buf(r, &specb);
            for (size_t k = 0; k < sn; k++) {
                if (specs[k] == '{') {
                    size_t e = k + 1;
                    while (e < sn && specs[e] != '}') e++;
                    vial_value *sv = field_value(r, site, specs + k + 1, e - k - 1, a, &auto_idx, &used_auto, &used_manual);
                    if (!sv) return NULL;
                    if (vial_tv_str(r, &specb, sv) != 0) goto big;
                    k = e;
                } else {
                    tb_putc(&specb, specs[k]);
                }
            }
            specs = specb.data ? specb.data : "";
            sn = specb.len;
        }
        if (conv == 'r' || conv == 'a') {
            vial_buf rb;
            vial_tv_buf(r, &rb);
            if (vial_tv_repr(r, &rb, v) != 0) goto big;
            v = vial_tv_buf_value(r, &rb, false);
        } else if (conv == 's') {
            v = vial_tv_to_plain_str(r, site, v);
        } else if (conv) {
            return vial_tpl_failv(r, site, "Unknown conversion specifier %c", conv);
        }
        if (!v) return NULL;
        if (safe && !tv_is_safe(v) && (v->type == VIAL_STRING || !vial_tv_is_number(v))) {
            vial_value *e = vial_tv_escape(r, site, v);
            if (!e) return NULL;
            v = e;
        }
        if (format_value(r, site, &b, v, specs, sn) != 0) return r->failed ? NULL : vial_tpl_failv(r, site, "string too large");
    }
    return vial_tv_buf_value(r, &b, safe);
big:
    return vial_tpl_failv(r, site, "string too large");
}

/* ---- pprint ---- */

#define PP_WIDTH 80

static int pp_repr(tpl_render *r, vial_buf *b, const vial_value *v);

static int cmp_members(const void *x, const void *y) {
    const vial_member *a = *(const vial_member *const *)x, *b = *(const vial_member *const *)y;
    size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
    int c = memcmp(a->key, b->key, n);
    if (c) return c;
    return a->key_len < b->key_len ? -1 : a->key_len > b->key_len;
}

static const vial_member **sorted_members(tpl_render *r, const vial_value *d) {
    size_t n = d->as.obj.len;
    const vial_member **m = vial_arena_alloc(r->arena, (n ? n : 1) * sizeof *m);
    if (!m) return NULL;
    for (size_t i = 0; i < n; i++) m[i] = &d->as.obj.items[i];
    qsort(m, n, sizeof *m, cmp_members);
    return m;
}

static int pp_depth;

/* repr with dict keys sorted (pprint's _safe_repr) */
static int pp_repr(tpl_render *r, vial_buf *b, const vial_value *v) {
    if (v->type == VIAL_OBJECT) {
        if (++pp_depth > 100) {
            pp_depth--;
            return tb_puts(b, "{...}");
        }
        const vial_member **m = sorted_members(r, v);
        if (!m) return -1;
        tb_putc(b, '{');
        for (size_t i = 0; i < v->as.obj.len; i++) {
            if (i) tb_append(b, ", ", 2);
            vial_value key = {.type = VIAL_STRING};
            key.as.s.ptr = m[i]->key;
            key.as.s.len = m[i]->key_len;
            if (vial_tv_repr(r, b, &key) != 0 || tb_append(b, ": ", 2) != 0 || pp_repr(r, b, m[i]->value) != 0) {
                pp_depth--;
                return -1;
            }
        }
        pp_depth--;
        return tb_putc(b, '}');
    }
    if (v->type == VIAL_ARRAY && (v->tag == 0 || tv_is_tuple(v))) {
        if (++pp_depth > 100) {
            pp_depth--;
            return tb_puts(b, "[...]");
        }
        bool tuple = tv_is_tuple(v);
        tb_putc(b, tuple ? '(' : '[');
        for (size_t i = 0; i < v->as.arr.len; i++) {
            if (i) tb_append(b, ", ", 2);
            if (pp_repr(r, b, v->as.arr.items[i]) != 0) {
                pp_depth--;
                return -1;
            }
        }
        if (tuple && v->as.arr.len == 1) tb_putc(b, ',');
        pp_depth--;
        return tb_putc(b, tuple ? ')' : ']');
    }
    return vial_tv_repr(r, b, v);
}

static size_t cplen_buf(const vial_buf *b, size_t from) { return vial_tv_cp_len(b->data + from, b->len - from); }

static int pp_format(tpl_render *r, vial_buf *b, const vial_value *v, int indent, int allowance, int level);

static int pp_items(tpl_render *r, vial_buf *b, vial_value *const *items, size_t n, int indent, int allowance,
                    int level) {
    indent += 1;
    for (size_t i = 0; i < n; i++) {
        bool last = i + 1 == n;
        if (i) {
            tb_append(b, ",\n", 2);
            for (int k = 0; k < indent; k++) tb_putc(b, ' ');
        }
        if (pp_format(r, b, items[i], indent, last ? allowance : 1, level) != 0) return -1;
    }
    return 0;
}

static int pp_str(tpl_render *r, vial_buf *b, const vial_value *v, int indent, int allowance, int level) {
    if (!v->as.s.len) return vial_tv_repr(r, b, v);
    vial_value *self = (vial_value *)v;
    vial_value *lines = NULL;
    lines = vial_tpl_str_splitlines(r, NULL, self, true);
    if (!lines) return -1;
    if (level == 1) {
        indent += 1;
        allowance += 1;
    }
    int max_width1 = PP_WIDTH - indent, max_width = max_width1;
    vial_value **chunks = vial_arena_alloc(r->arena, (v->as.s.len + 2) * sizeof *chunks);
    if (!chunks) return -1;
    size_t nch = 0;
    vial_buf rep;
    for (size_t i = 0; i < lines->as.arr.len; i++) {
        vial_value *line = lines->as.arr.items[i];
        vial_tv_buf(r, &rep);
        vial_tv_repr(r, &rep, line);
        if (i + 1 == lines->as.arr.len) max_width1 -= allowance;
        if ((int)cplen_buf(&rep, 0) <= max_width1) {
            chunks[nch++] = vial_tv_buf_value(r, &rep, false);
            continue;
        }
        /* parts = re.findall(r'\S*\s*', line) without the final empty match */
        const char *s = line->as.s.ptr;
        size_t n = line->as.s.len, pos = 0;
        int max_width2 = max_width;
        size_t cur_start = 0, cur_len = 0;
        bool have_cur = false;
        while (pos < n) {
            size_t ps = pos;
            uint32_t cp;
            while (pos < n) {
                size_t k = vial_tv_next_cp(s + pos, n - pos, &cp);
                if (vial_tv_isspace_cp(cp)) break;
                pos += k;
            }
            while (pos < n) {
                size_t k = vial_tv_next_cp(s + pos, n - pos, &cp);
                if (!vial_tv_isspace_cp(cp)) break;
                pos += k;
            }
            bool last_part = pos >= n;
            size_t cand_start = have_cur ? cur_start : ps;
            size_t cand_len = pos - cand_start;
            if (last_part && i + 1 == lines->as.arr.len) max_width2 -= allowance;
            vial_value cand = {.type = VIAL_STRING};
            cand.as.s.ptr = s + cand_start;
            cand.as.s.len = cand_len;
            vial_buf cr;
            vial_tv_buf(r, &cr);
            vial_tv_repr(r, &cr, &cand);
            if ((int)cplen_buf(&cr, 0) > max_width2) {
                if (have_cur && cur_len) {
                    vial_value cv = {.type = VIAL_STRING};
                    cv.as.s.ptr = s + cur_start;
                    cv.as.s.len = cur_len;
                    vial_buf cb;
                    vial_tv_buf(r, &cb);
                    vial_tv_repr(r, &cb, &cv);
                    chunks[nch++] = vial_tv_buf_value(r, &cb, false);
                }
                cur_start = ps;
                cur_len = pos - ps;
                have_cur = true;
            } else {
                cur_start = cand_start;
                cur_len = cand_len;
                have_cur = true;
            }
        }
        if (have_cur && cur_len) {
            vial_value cv = {.type = VIAL_STRING};
            cv.as.s.ptr = s + cur_start;
            cv.as.s.len = cur_len;
            vial_buf cb;
            vial_tv_buf(r, &cb);
            vial_tv_repr(r, &cb, &cv);
            chunks[nch++] = vial_tv_buf_value(r, &cb, false);
        }
    }
    if (nch == 1) return tb_append(b, rep.data ? rep.data : "", rep.len);
    if (level == 1) tb_putc(b, '(');
    for (size_t i = 0; i < nch; i++) {
        if (i) {
            tb_putc(b, '\n');
            for (int k = 0; k < indent; k++) tb_putc(b, ' ');
        }
        tb_append(b, chunks[i]->as.s.ptr, chunks[i]->as.s.len);
    }
    if (level == 1) tb_putc(b, ')');
    return 0;
}

static int pp_format(tpl_render *r, vial_buf *b, const vial_value *v, int indent, int allowance, int level) {
    level++;
    if (level > 100) return pp_repr(r, b, v);
    vial_buf rep;
    vial_tv_buf(r, &rep);
    if (pp_repr(r, &rep, v) != 0) return -1;
    int max_width = PP_WIDTH - indent - allowance;
    if ((int)cplen_buf(&rep, 0) <= max_width) return tb_append(b, rep.data ? rep.data : "", rep.len);
    int k = tv_kind(v);
    if (k == TK_OBJECT) {
        tb_putc(b, '{');
        if (v->as.obj.len) {
            const vial_member **m = sorted_members(r, v);
            if (!m) return -1;
            int ind = indent + 1;
            for (size_t i = 0; i < v->as.obj.len; i++) {
                bool last = i + 1 == v->as.obj.len;
                vial_value key = {.type = VIAL_STRING};
                key.as.s.ptr = m[i]->key;
                key.as.s.len = m[i]->key_len;
                size_t before = b->len;
                vial_tv_repr(r, b, &key);
                int kl = (int)cplen_buf(b, before);
                tb_append(b, ": ", 2);
                if (pp_format(r, b, m[i]->value, ind + kl + 2, last ? allowance + 1 : 1, level) != 0) return -1;
                if (!last) {
                    tb_append(b, ",\n", 2);
                    for (int s = 0; s < ind; s++) tb_putc(b, ' ');
                }
            }
        }
        return tb_putc(b, '}');
    }
    if (k == TK_ARRAY && (v->tag == 0 || tv_is_tuple(v))) {
        bool tuple = tv_is_tuple(v);
        tb_putc(b, tuple ? '(' : '[');
        const char *end = tuple ? (v->as.arr.len == 1 ? ",)" : ")") : "]";
        if (pp_items(r, b, v->as.arr.items, v->as.arr.len, indent, allowance + (int)strlen(end), level) != 0) return -1;
        return tb_puts(b, end);
    }
    if (k == TK_STRING && !tv_is_safe(v)) return pp_str(r, b, v, indent, allowance, level);
    return tb_append(b, rep.data ? rep.data : "", rep.len);
}

int vial_tpl_pformat(tpl_render *r, vial_buf *b, const vial_value *v) { return pp_format(r, b, v, 0, 0, 0); }
