/* pyjson.c - JSON the way Python's json module reads and writes it.
 *
 * Session cookies and itsdangerous tokens carry JSON made by Python's json
 * module, which differs from RFC 8259 in ways a byte-compatible reader and
 * writer must follow: it writes and reads NaN, Infinity and -Infinity, its
 * integers have no size limit (a session may hold 12345678901234567890123),
 * and itsdangerous and Flask choose different escaping and key order.
 * core/json.c is the strict RFC parser for request bodies; this one is the
 * Python dialect for data Python wrote. Integers beyond int64 are kept as
 * their digits (VIAL_TAG_BIGINT) and written back unchanged. A lone UTF-16
 * surrogate escape, which a Python str can hold but UTF-8 cannot, becomes
 * U+FFFD as in core/json.c. String escaping is core/json.c's writer, which
 * already matches Python's for both ensure_ascii settings. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session/internal.h"

/* CPython refuses to convert longer digit strings to int (ValueError). */
#define PY_INT_MAX_DIGITS 4300

typedef struct {
    const char *start, *p, *end;
    vial_arena *arena;
    int depth;
    vial_json_error *err;
    vial_buf scratch;
} parser;

static vial_value *fail(parser *ps, const char *at, const char *msg) {
    if (ps->err && !ps->err->message[0]) {
        size_t off = (size_t)(at - ps->start);
        int line = 1, col = 1;
        for (const char *q = ps->start; q < at; q++) {
            if (*q == '\n') line++, col = 1;
            else col++;
        }
        ps->err->offset = off;
        ps->err->line = line;
        ps->err->column = col;
        snprintf(ps->err->message, sizeof ps->err->message, "%s at offset %zu (line %d, column %d)", msg, off, line,
                 col);
    }
    return NULL;
}

static void skip_ws(parser *ps) {
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')) ps->p++;
}

static bool starts(parser *ps, const char *lit, size_t n) {
    return (size_t)(ps->end - ps->p) >= n && memcmp(ps->p, lit, n) == 0;
}

static int hex4(const char *p, unsigned *out) {
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return -1;
    }
    *out = v;
    return 0;
}

/* A string at ps->p (the opening quote) into arena memory. */
static int parse_string(parser *ps, const char **out, size_t *out_len) {
    const char *p = ps->p + 1;
    vial_buf *b = &ps->scratch;
    vial_buf_reset(b);
    while (p < ps->end) {
        const char *run = p;
        while (p < ps->end && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20) p++;
        if (p > run && vial_buf_append(b, run, (size_t)(p - run)) != 0) goto too_long;
        if (p >= ps->end) break;
        unsigned char c = (unsigned char)*p;
        if (c == '"') {
            char *s = vial_arena_strndup(ps->arena, b->data ? b->data : "", b->len);
            if (!s) goto too_long;
            *out = s;
            *out_len = b->len;
            ps->p = p + 1;
            return 0;
        }
        if (c < 0x20) {
            fail(ps, p, "invalid control character in string");
            return -1;
        }
        if (p + 1 >= ps->end) break;
        char ch;
        switch (p[1]) {
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
            if (ps->end - p < 6 || hex4(p + 2, &cp) != 0) {
                fail(ps, p, "invalid \\uXXXX escape");
                return -1;
            }
            p += 6;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                unsigned lo;
                if (ps->end - p >= 6 && p[0] == '\\' && p[1] == 'u' && hex4(p + 2, &lo) == 0 && lo >= 0xDC00 &&
                    lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    p += 6;
                } else {
                    cp = 0xFFFD;
                }
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                cp = 0xFFFD;
            }
            char enc[4];
            if (vial_buf_append(b, enc, vial_utf8_encode(cp, enc)) != 0) goto too_long;
            continue;
        }
        default: fail(ps, p, "invalid \\escape"); return -1;
        }
        if (vial_buf_putc(b, ch) != 0) goto too_long;
        p += 2;
    }
    fail(ps, ps->p, "unterminated string");
    return -1;
too_long:
    fail(ps, p, "out of memory");
    return -1;
}

static vial_value *parse_number(parser *ps) {
    const char *start = ps->p, *p = ps->p;
    if (*p == '-') p++;
    if (p >= ps->end || *p < '0' || *p > '9') return fail(ps, start, "expecting a value");
    if (*p == '0') p++;
    else
        while (p < ps->end && *p >= '0' && *p <= '9') p++;
    const char *int_end = p;
    bool is_float = false;
    if (ps->end - p >= 2 && p[0] == '.' && p[1] >= '0' && p[1] <= '9') {
        is_float = true;
        p += 2;
        while (p < ps->end && *p >= '0' && *p <= '9') p++;
    }
    if (p < ps->end && (*p == 'e' || *p == 'E')) {
        const char *q = p + 1;
        if (q < ps->end && (*q == '+' || *q == '-')) q++;
        if (q < ps->end && *q >= '0' && *q <= '9') {
            is_float = true;
            while (q < ps->end && *q >= '0' && *q <= '9') q++;
            p = q;
        }
    }
    ps->p = p;
    size_t n = (size_t)(p - start);
    if (!is_float) {
        size_t digits = (size_t)(int_end - start) - (*start == '-');
        if (digits > PY_INT_MAX_DIGITS) return fail(ps, start, "integer has more than 4300 digits");
        int64_t v;
        bool overflow;
        if (vial_pyint_parse(start, n, &v, &overflow)) return vial_new_int(ps->arena, v);
        vial_value *big = vial_new_strn(ps->arena, start, n);
        if (!big) return fail(ps, start, "out of memory");
        big->tag = VIAL_TAG_BIGINT;
        return big;
    }
    char tmp[64];
    char *text = n < sizeof tmp ? tmp : vial_arena_strndup(ps->arena, start, n);
    if (!text) return fail(ps, start, "out of memory");
    if (text == tmp) {
        memcpy(tmp, start, n);
        tmp[n] = '\0';
    }
    return vial_new_double(ps->arena, strtod(text, NULL));
}

static vial_value *parse_value(parser *ps);

static vial_value *parse_array(parser *ps) {
    const char *open = ps->p++;
    if (++ps->depth > SESSION_MAX_DEPTH) return fail(ps, open, "nesting too deep");
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
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == ']') {
            ps->p++;
            ps->depth--;
            return arr;
        }
        return fail(ps, ps->p, "expecting ',' delimiter");
    }
}

static vial_value *parse_object(parser *ps) {
    const char *open = ps->p++;
    if (++ps->depth > SESSION_MAX_DEPTH) return fail(ps, open, "nesting too deep");
    vial_value *obj = vial_new_object(ps->arena);
    if (!obj) return fail(ps, open, "out of memory");
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
        ps->depth--;
        return obj;
    }
    for (;;) {
        if (ps->p >= ps->end || *ps->p != '"') return fail(ps, ps->p, "expecting property name enclosed in double quotes");
        const char *key;
        size_t key_len;
        if (parse_string(ps, &key, &key_len) != 0) return NULL;
        skip_ws(ps);
        if (ps->p >= ps->end || *ps->p != ':') return fail(ps, ps->p, "expecting ':' delimiter");
        ps->p++;
        skip_ws(ps);
        vial_value *v = parse_value(ps);
        if (!v) return NULL;
        /* A repeated key keeps its first position and takes the last value (a dict). */
        if (vial_object_set_ref(obj, key, key_len, v) != 0) return fail(ps, ps->p, "out of memory");
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            skip_ws(ps);
            continue;
        }
        if (ps->p < ps->end && *ps->p == '}') {
            ps->p++;
            ps->depth--;
            return obj;
        }
        return fail(ps, ps->p, "expecting ',' delimiter");
    }
}

static vial_value *parse_value(parser *ps) {
    if (ps->p >= ps->end) return fail(ps, ps->p, "expecting a value");
    switch (*ps->p) {
    case '{': return parse_object(ps);
    case '[': return parse_array(ps);
    case '"': {
        const char *s;
        size_t n;
        if (parse_string(ps, &s, &n) != 0) return NULL;
        return vial_new_str_ref(ps->arena, s, n);
    }
    case 'n':
        if (starts(ps, "null", 4)) return ps->p += 4, vial_value_null();
        break;
    case 't':
        if (starts(ps, "true", 4)) return ps->p += 4, vial_new_bool(ps->arena, true);
        break;
    case 'f':
        if (starts(ps, "false", 5)) return ps->p += 5, vial_new_bool(ps->arena, false);
        break;
    case 'N':
        if (starts(ps, "NaN", 3)) return ps->p += 3, vial_new_double(ps->arena, NAN);
        break;
    case 'I':
        if (starts(ps, "Infinity", 8)) return ps->p += 8, vial_new_double(ps->arena, INFINITY);
        break;
    case '-':
        if (starts(ps, "-Infinity", 9)) return ps->p += 9, vial_new_double(ps->arena, -INFINITY);
        return parse_number(ps);
    default:
        if (*ps->p >= '0' && *ps->p <= '9') return parse_number(ps);
        break;
    }
    return fail(ps, ps->p, "expecting a value");
}

vial_value *vial_pyjson_parse(vial_arena *a, const char *text, size_t len, vial_json_error *err) {
    parser ps = {.start = text, .p = text, .end = text + len, .arena = a, .err = err};
    if (err) memset(err, 0, sizeof *err);
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0) return fail(&ps, text, "unexpected UTF-8 BOM");
    if (!vial_utf8_valid(text, len))
        return fail(&ps, text + vial_utf8_invalid_offset(text, len), "payload is not valid UTF-8");
    vial_buf_init(&ps.scratch, NULL, len + 1);
    skip_ws(&ps);
    vial_value *v = parse_value(&ps);
    if (v) {
        skip_ws(&ps);
        if (ps.p != ps.end) v = fail(&ps, ps.p, "extra data");
    }
    vial_buf_free(&ps.scratch);
    return v;
}

/* ---- writer ---- */

static int write_fail(vial_json_error *err, const char *msg) {
    if (err && !err->message[0]) snprintf(err->message, sizeof err->message, "%s", msg);
    return -1;
}

static int write_str(vial_buf *b, const char *s, size_t n, int flags) {
    vial_value tmp = {.type = VIAL_STRING};
    tmp.as.s.ptr = s;
    tmp.as.s.len = n;
    return vial_json_write(b, &tmp, (flags & PYJSON_ASCII) ? VIAL_JSON_ASCII : 0);
}

static bool valid_bigint(const char *s, size_t n) {
    size_t i = (n && s[0] == '-');
    if (i >= n) return false;
    for (; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

static int key_cmp(const void *x, const void *y) {
    const vial_member *a = *(const vial_member *const *)x, *b = *(const vial_member *const *)y;
    size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
    int c = memcmp(a->key, b->key, n);
    if (c) return c;
    return a->key_len < b->key_len ? -1 : a->key_len > b->key_len;
}

static int write_value(vial_buf *b, const vial_value *v, int flags, int depth, vial_json_error *err) {
    if (depth > SESSION_MAX_DEPTH) return write_fail(err, "value nested too deeply");
    if (!v) v = vial_value_null();
    switch (v->type) {
    case VIAL_NULL: return vial_buf_append(b, "null", 4);
    case VIAL_BOOL: return v->as.b ? vial_buf_append(b, "true", 4) : vial_buf_append(b, "false", 5);
    case VIAL_INT:
        if (v->tag == VIAL_TAG_DATETIME || v->tag == VIAL_TAG_DATE)
            return write_fail(err, "a datetime is not JSON serializable");
        return vial_buf_put_i64(b, v->as.i);
    case VIAL_DOUBLE: {
        if (v->tag == VIAL_TAG_DATETIME || v->tag == VIAL_TAG_DATE)
            return write_fail(err, "a datetime is not JSON serializable");
        double d = v->as.d;
        if (isnan(d)) return vial_buf_append(b, "NaN", 3);
        if (isinf(d)) return d > 0 ? vial_buf_append(b, "Infinity", 8) : vial_buf_append(b, "-Infinity", 9);
        char tmp[VIAL_DOUBLE_BUFSIZE];
        return vial_buf_append(b, tmp, vial_format_double(tmp, d));
    }
    case VIAL_STRING:
        if (v->tag == VIAL_TAG_BIGINT) {
            if (!valid_bigint(v->as.s.ptr, v->as.s.len)) return write_fail(err, "a big integer holds a non-digit");
            return vial_buf_append(b, v->as.s.ptr, v->as.s.len);
        }
        if (v->tag == VIAL_TAG_BYTES) return write_fail(err, "bytes are not JSON serializable");
        if (v->tag == VIAL_TAG_UUID) return write_fail(err, "a UUID is not JSON serializable");
        return write_str(b, v->as.s.ptr, v->as.s.len, flags);
    case VIAL_ARRAY:
        if (vial_buf_putc(b, '[') != 0) return -1;
        for (size_t i = 0; i < v->as.arr.len; i++) {
            if (i && vial_buf_putc(b, ',') != 0) return -1;
            if (write_value(b, v->as.arr.items[i], flags, depth + 1, err) != 0) return -1;
        }
        return vial_buf_putc(b, ']');
    case VIAL_OBJECT: {
        size_t n = v->as.obj.len;
        const vial_member *small[16], **order = NULL;
        if ((flags & PYJSON_SORT_KEYS) && n > 1) {
            order = n <= 16 ? small : malloc(n * sizeof *order);
            if (!order) return write_fail(err, "out of memory");
            for (size_t i = 0; i < n; i++) order[i] = &v->as.obj.items[i];
            qsort(order, n, sizeof *order, key_cmp);
        }
        int rc = vial_buf_putc(b, '{');
        for (size_t i = 0; i < n && rc == 0; i++) {
            const vial_member *m = order ? order[i] : &v->as.obj.items[i];
            if (i) rc = vial_buf_putc(b, ',');
            if (rc == 0) rc = write_str(b, m->key, m->key_len, flags);
            if (rc == 0) rc = vial_buf_putc(b, ':');
            if (rc == 0) rc = write_value(b, m->value, flags, depth + 1, err);
        }
        if (order && order != small) free(order);
        return rc == 0 ? vial_buf_putc(b, '}') : -1;
    }
    }
    return write_fail(err, "unknown value type");
}

int vial_pyjson_write(vial_buf *b, const vial_value *v, int flags, vial_json_error *err) {
    if (err) memset(err, 0, sizeof *err);
    size_t mark = b->len;
    if (write_value(b, v, flags, 0, err) != 0) {
        write_fail(err, "output too large");
        b->len = mark;
        if (b->data) b->data[mark] = '\0';
        return -1;
    }
    return 0;
}
