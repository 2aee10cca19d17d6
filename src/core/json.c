/* json.c - RFC 8259 JSON to and from vial_value.
 *
 * The parser is strict (every JSONTestSuite n_ file is rejected) and reports
 * the byte offset, line and column of the first problem. Nesting is bounded by
 * the caller's depth limit, so hostile input cannot exhaust the stack. Integers
 * that fit int64 stay exact; other numbers become doubles. Strings must be
 * valid UTF-8; a lone UTF-16 surrogate escape (\ud800) becomes U+FFFD so the
 * values we hold, and everything we emit, are valid UTF-8.
 *
 * The writer emits compact JSON by default, Python's json.dumps spacing or
 * indentation on request, optional key sorting, and floats as Python's repr()
 * writes them so output matches Flask's jsonify. */
#include "vial.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


typedef struct {
    const char *start, *p, *end;
    vial_arena *arena;
    int depth, max_depth;
    vial_json_error *err;
    vial_buf scratch; /* string unescaping */
} parser;

static vial_value *fail(parser *ps, const char *at, const char *msg) {
    if (ps->err && !ps->err->message[0]) {
        size_t off = (size_t)(at - ps->start);
        ps->err->offset = off;
        int line = 1, col = 1;
        for (const char *q = ps->start; q < at; q++) {
            if (*q == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        ps->err->line = line;
        ps->err->column = col;
        snprintf(ps->err->message, sizeof ps->err->message, "%s at offset %zu (line %d, column %d)", msg, off,
                 line, col);
    }
    return NULL;
}

static void skip_ws(parser *ps) {
    while (ps->p < ps->end) {
        char c = *ps->p;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
            ps->p++;
        else
            break;
    }
}

static vial_value *parse_value(parser *ps);

static int hex4(const char *p, unsigned *out) {
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* Parses a string starting at the opening quote; returns arena copy. */
static int parse_string(parser *ps, const char **out, size_t *out_len) {
    const char *p = ps->p + 1;
    /* Fast path: no escapes. */
    const char *q = p;
    while (q < ps->end && *q != '"' && *q != '\\' && (unsigned char)*q >= 0x20) q++;
    if (q < ps->end && *q == '"') {
        size_t n = (size_t)(q - p);
        if (!vial_utf8_valid(p, n)) {
            fail(ps, p + vial_utf8_invalid_offset(p, n), "invalid UTF-8 in string");
            return -1;
        }
        char *s = vial_arena_strndup(ps->arena, p, n);
        if (!s) {
            fail(ps, p, "out of memory");
            return -1;
        }
        *out = s;
        *out_len = n;
        ps->p = q + 1;
        return 0;
    }
    vial_buf *b = &ps->scratch;
    vial_buf_reset(b);
    if (vial_buf_append(b, p, (size_t)(q - p)) != 0) goto oom;
    p = q;
    while (p < ps->end) {
        unsigned char c = (unsigned char)*p;
        if (c == '"') {
            if (!vial_utf8_valid(b->data, b->len)) {
                fail(ps, ps->p, "invalid UTF-8 in string");
                return -1;
            }
            char *s = vial_arena_strndup(ps->arena, b->data, b->len);
            if (!s) goto oom;
            *out = s;
            *out_len = b->len;
            ps->p = p + 1;
            return 0;
        }
        if (c < 0x20) {
            fail(ps, p, "control character in string");
            return -1;
        }
        if (c != '\\') {
            if (vial_buf_putc(b, c) != 0) goto oom;
            p++;
            continue;
        }
        if (p + 1 >= ps->end) break;
        char e = p[1];
        char ch;
        switch (e) {
        case '"': ch = '"'; break;
        case '\\': ch = '\\'; break;
        case '/': ch = '/'; break;
        case 'b': ch = '\b'; break;
        case 'f': ch = '\f'; break;
        case 'n': ch = '\n'; break;
        case 'r': ch = '\r'; break;
        case 't': ch = '\t'; break;
        case 'u': {
            unsigned cp;
            if (p + 6 > ps->end || hex4(p + 2, &cp) != 0) {
                fail(ps, p, "invalid \\u escape");
                return -1;
            }
            p += 6;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned lo;
                if (p + 6 <= ps->end && p[0] == '\\' && p[1] == 'u' && hex4(p + 2, &lo) == 0 && lo >= 0xDC00 &&
                    lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    p += 6;
                } else {
                    cp = 0xFFFD; /* lone high surrogate */
                }
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                cp = 0xFFFD; /* lone low surrogate */
            }
            char enc[4];
            size_t n = vial_utf8_encode(cp, enc);
            if (vial_buf_append(b, enc, n) != 0) goto oom;
            continue;
        }
        default: fail(ps, p, "invalid escape in string"); return -1;
        }
        if (vial_buf_putc(b, ch) != 0) goto oom;
        p += 2;
    }
    fail(ps, ps->end, "unterminated string");
    return -1;
oom:
    fail(ps, p, "string too long");
    return -1;
}

static vial_value *parse_number(parser *ps) {
    const char *start = ps->p, *p = ps->p;
    bool is_int = true;
    if (p < ps->end && *p == '-') p++;
    if (p >= ps->end) return fail(ps, p, "invalid number");
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (p < ps->end && *p >= '0' && *p <= '9') p++;
    } else {
        return fail(ps, p, "invalid number");
    }
    if (p < ps->end && *p == '.') {
        is_int = false;
        p++;
        if (p >= ps->end || *p < '0' || *p > '9') return fail(ps, p, "invalid number: digit expected after '.'");
        while (p < ps->end && *p >= '0' && *p <= '9') p++;
    }
    if (p < ps->end && (*p == 'e' || *p == 'E')) {
        is_int = false;
        p++;
        if (p < ps->end && (*p == '+' || *p == '-')) p++;
        if (p >= ps->end || *p < '0' || *p > '9') return fail(ps, p, "invalid number: digit expected in exponent");
        while (p < ps->end && *p >= '0' && *p <= '9') p++;
    }
    size_t n = (size_t)(p - start);
    char tmp[64];
    char *text = tmp;
    if (n >= sizeof tmp) {
        text = vial_arena_strndup(ps->arena, start, n);
        if (!text) return fail(ps, start, "out of memory");
    } else {
        memcpy(tmp, start, n);
        tmp[n] = '\0';
    }
    ps->p = p;
    if (is_int) {
        errno = 0;
        long long v = strtoll(text, NULL, 10);
        if (errno == 0) return vial_new_int(ps->arena, (int64_t)v);
    }
    double d = strtod(text, NULL);
    return vial_new_double(ps->arena, d);
}

static bool match_word(parser *ps, const char *word, size_t n) {
    if ((size_t)(ps->end - ps->p) >= n && memcmp(ps->p, word, n) == 0) {
        ps->p += n;
        return true;
    }
    return false;
}

static vial_value *parse_array(parser *ps) {
    const char *open = ps->p;
    if (++ps->depth > ps->max_depth) return fail(ps, open, "nesting too deep");
    ps->p++;
    vial_value *arr = vial_new_array(ps->arena);
    if (!arr) return fail(ps, open, "out of memory");
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
        ps->depth--;
        return arr;
    }
    for (;;) {
        skip_ws(ps);
        vial_value *item = parse_value(ps);
        if (!item) return NULL;
        if (vial_array_push(arr, item) != 0) return fail(ps, ps->p, "out of memory");
        skip_ws(ps);
        if (ps->p >= ps->end) return fail(ps, ps->p, "unterminated array");
        if (*ps->p == ',') {
            ps->p++;
            continue;
        }
        if (*ps->p == ']') {
            ps->p++;
            ps->depth--;
            return arr;
        }
        return fail(ps, ps->p, "expected ',' or ']'");
    }
}

static vial_value *parse_object(parser *ps) {
    const char *open = ps->p;
    if (++ps->depth > ps->max_depth) return fail(ps, open, "nesting too deep");
    ps->p++;
    vial_value *obj = vial_new_object(ps->arena);
    if (!obj) return fail(ps, open, "out of memory");
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
        ps->depth--;
        return obj;
    }
    for (;;) {
        skip_ws(ps);
        if (ps->p >= ps->end || *ps->p != '"') return fail(ps, ps->p, "expected a string key");
        const char *key;
        size_t key_len;
        if (parse_string(ps, &key, &key_len) != 0) return NULL;
        skip_ws(ps);
        if (ps->p >= ps->end || *ps->p != ':') return fail(ps, ps->p, "expected ':'");
        ps->p++;
        skip_ws(ps);
        vial_value *v = parse_value(ps);
        if (!v) return NULL;
        /* Duplicate keys: the last one wins, as in Python's json. */
        if (vial_object_set_ref(obj, key, key_len, v) != 0) return fail(ps, ps->p, "out of memory");
        skip_ws(ps);
        if (ps->p >= ps->end) return fail(ps, ps->p, "unterminated object");
        if (*ps->p == ',') {
            ps->p++;
            continue;
        }
        if (*ps->p == '}') {
            ps->p++;
            ps->depth--;
            return obj;
        }
        return fail(ps, ps->p, "expected ',' or '}'");
    }
}

static vial_value *parse_value(parser *ps) {
    if (ps->p >= ps->end) return fail(ps, ps->p, "unexpected end of input");
    switch (*ps->p) {
    case '{': return parse_object(ps);
    case '[': return parse_array(ps);
    case '"': {
        const char *s;
        size_t n;
        if (parse_string(ps, &s, &n) != 0) return NULL;
        return vial_new_str_ref(ps->arena, s, n);
    }
    case 't':
        if (match_word(ps, "true", 4)) return vial_new_bool(ps->arena, true);
        break;
    case 'f':
        if (match_word(ps, "false", 5)) return vial_new_bool(ps->arena, false);
        break;
    case 'n':
        if (match_word(ps, "null", 4)) return vial_value_null();
        break;
    default:
        if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9')) return parse_number(ps);
        break;
    }
    return fail(ps, ps->p, "unexpected character");
}

vial_value *vial_json_parse(vial_arena *a, const char *text, size_t len, int max_depth, vial_json_error *err) {
    parser ps = {.start = text, .p = text, .end = text + len, .arena = a, .max_depth = max_depth > 0 ? max_depth : 512,
                 .err = err};
    if (err) memset(err, 0, sizeof *err);
    vial_buf_init(&ps.scratch, NULL, len + 1);
    skip_ws(&ps);
    vial_value *v = parse_value(&ps);
    if (v) {
        skip_ws(&ps);
        if (ps.p != ps.end) v = fail(&ps, ps.p, "extra data after the JSON value");
    }
    vial_buf_free(&ps.scratch);
    return v;
}

/* ---- writer ---- */

/* A byte JSON writes unchanged whatever the flags say about non-ASCII: printable
 * ASCII other than the quote and the backslash (and <>&' when HTML-safe). */
static inline bool plain_ascii(char ch, bool html_safe) {
    unsigned char c = (unsigned char)ch;
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') return false;
    return !html_safe || (c != '<' && c != '>' && c != '&' && c != '\'');
}

static int write_string(vial_buf *b, const char *s, size_t n, int flags) {
    static const char hex[] = "0123456789abcdef";
    if (vial_buf_putc(b, '"') != 0) return -1;
    const bool html_safe = (flags & VIAL_JSON_HTML_SAFE) != 0;
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        /* Most text is printable ASCII that is written as it is: take it a run at a time. */
        while (i < n && plain_ascii(s[i], html_safe)) {
            run++;
            i++;
        }
        if (i == n) break;
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char ubuf[16];
        size_t skip = 1;
        if (c == '"')
            esc = "\\\"";
        else if (c == '\\')
            esc = "\\\\";
        else if (c == '\n')
            esc = "\\n";
        else if (c == '\r')
            esc = "\\r";
        else if (c == '\t')
            esc = "\\t";
        else if (c == '\b')
            esc = "\\b";
        else if (c == '\f')
            esc = "\\f";
        else if (c < 0x20 || (c == 0x7f && (flags & VIAL_JSON_ASCII))) {
            ubuf[0] = '\\', ubuf[1] = 'u', ubuf[2] = '0', ubuf[3] = '0';
            ubuf[4] = hex[c >> 4], ubuf[5] = hex[c & 15], ubuf[6] = 0;
            esc = ubuf;
        } else if ((flags & VIAL_JSON_HTML_SAFE) && (c == '<' || c == '>' || c == '&' || c == '\'')) {
            snprintf(ubuf, sizeof ubuf, "\\u%04x", c);
            esc = ubuf;
        } else if (c >= 0x80) {
            uint32_t cp;
            size_t len = vial_utf8_decode(s + i, n - i, &cp);
            if (len == 0) { /* invalid byte: write U+FFFD so output stays valid */
                cp = 0xFFFD;
                len = 1;
                if (flags & VIAL_JSON_ASCII) {
                    esc = "\\ufffd";
                } else {
                    esc = "\xef\xbf\xbd";
                }
            } else if (flags & VIAL_JSON_ASCII) {
                if (cp >= 0x10000) {
                    uint32_t v = cp - 0x10000;
                    snprintf(ubuf, sizeof ubuf, "\\u%04x\\u%04x", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
                } else {
                    snprintf(ubuf, sizeof ubuf, "\\u%04x", cp);
                }
                esc = ubuf;
            }
            skip = len;
            if (!esc) {
                run += len;
                i += len - 1;
                continue;
            }
        } else {
            run++;
            continue;
        }
        if (run && vial_buf_append(b, s + i - run, run) != 0) return -1;
        run = 0;
        if (vial_buf_puts(b, esc) != 0) return -1;
        i += skip - 1;
    }
    if (run && vial_buf_append(b, s + n - run, run) != 0) return -1;
    return vial_buf_putc(b, '"');
}

static int write_indent(vial_buf *b, int indent, int level) {
    if (vial_buf_putc(b, '\n') != 0) return -1;
    for (int i = 0; i < indent * level; i++)
        if (vial_buf_putc(b, ' ') != 0) return -1;
    return 0;
}

static int member_cmp(const void *x, const void *y) {
    const vial_member *a = *(const vial_member *const *)x, *b = *(const vial_member *const *)y;
    size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
    int c = memcmp(a->key, b->key, n);
    if (c) return c;
    return a->key_len < b->key_len ? -1 : a->key_len > b->key_len;
}

static int write_value(vial_buf *b, const vial_value *v, int flags, int indent, int level) {
    if (level > 10000) return -1;
    const char *item_sep = (flags & VIAL_JSON_SPACED) && !indent ? ", " : ",";
    const char *key_sep = (flags & VIAL_JSON_SPACED) || indent ? ": " : ":";
    switch (v ? v->type : VIAL_NULL) {
    case VIAL_NULL: return vial_buf_append(b, "null", 4);
    case VIAL_BOOL: return v->as.b ? vial_buf_append(b, "true", 4) : vial_buf_append(b, "false", 5);
    case VIAL_INT: return vial_buf_put_i64(b, v->as.i);
    case VIAL_DOUBLE: {
        if (!isfinite(v->as.d)) return vial_buf_append(b, "null", 4);
        char tmp[VIAL_DOUBLE_BUFSIZE];
        size_t n = vial_format_double(tmp, v->as.d);
        return vial_buf_append(b, tmp, n);
    }
    case VIAL_STRING: return write_string(b, v->as.s.ptr, v->as.s.len, flags);
    case VIAL_ARRAY: {
        if (vial_buf_putc(b, '[') != 0) return -1;
        for (size_t i = 0; i < v->as.arr.len; i++) {
            if (i && vial_buf_puts(b, item_sep) != 0) return -1;
            if (indent && write_indent(b, indent, level + 1) != 0) return -1;
            if (write_value(b, v->as.arr.items[i], flags, indent, level + 1) != 0) return -1;
        }
        if (indent && v->as.arr.len && write_indent(b, indent, level) != 0) return -1;
        return vial_buf_putc(b, ']');
    }
    case VIAL_OBJECT: {
        size_t n = v->as.obj.len;
        const vial_member **order = NULL;
        const vial_member *small[16];
        if (flags & VIAL_JSON_SORT_KEYS && n > 1) {
            order = n <= 16 ? small : malloc(n * sizeof *order);
            if (!order) return -1;
            for (size_t i = 0; i < n; i++) order[i] = &v->as.obj.items[i];
            if (n <= 16) {
                /* Insertion sort: a row's handful of keys costs less than qsort's call overhead. */
                for (size_t i = 1; i < n; i++) {
                    const vial_member *m = order[i];
                    size_t j = i;
                    for (; j > 0 && member_cmp(&order[j - 1], &m) > 0; j--) order[j] = order[j - 1];
                    order[j] = m;
                }
            } else {
                qsort(order, n, sizeof *order, member_cmp);
            }
        }
        int rc = vial_buf_putc(b, '{');
        for (size_t i = 0; i < n && rc == 0; i++) {
            const vial_member *m = order ? order[i] : &v->as.obj.items[i];
            if (i) rc = vial_buf_puts(b, item_sep);
            if (rc == 0 && indent) rc = write_indent(b, indent, level + 1);
            if (rc == 0) rc = write_string(b, m->key, m->key_len, flags);
            if (rc == 0) rc = vial_buf_puts(b, key_sep);
            if (rc == 0) rc = write_value(b, m->value, flags, indent, level + 1);
        }
        if (order && order != small) free(order);
        if (rc == 0 && indent && n) rc = write_indent(b, indent, level);
        return rc == 0 ? vial_buf_putc(b, '}') : -1;
    }
    }
    return -1;
}

int vial_json_write(vial_buf *b, const vial_value *v, int flags) {
    int indent = (flags >> 8) & 0xff;
    size_t mark = b->len;
    if (write_value(b, v, flags, indent, 0) != 0) {
        b->len = mark;
        if (b->data) b->data[mark] = '\0';
        return -1;
    }
    return 0;
}

char *vial_json_encode(vial_arena *a, const vial_value *v, int flags, size_t *len_out) {
    vial_buf b;
    vial_buf_init(&b, a, 0);
    if (vial_json_write(&b, v, flags) != 0) return NULL;
    if (len_out) *len_out = b.len;
    return (char *)vial_buf_cstr(&b);
}
