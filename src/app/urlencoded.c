/* urlencoded.c - query strings and application/x-www-form-urlencoded
 * bodies, decoded the way Werkzeug 2.2's url_decode does.
 *
 * Pairs are split on '&' only (';' is data), empty pairs are skipped, the
 * first '=' separates key from value (none: empty value), '+' is a space,
 * %XX is decoded only when both digits are hex (otherwise '%' stays
 * literally), and the bytes are then read as UTF-8 with errors='replace'
 * (each maximal invalid subsequence becomes one U+FFFD). Keys get exactly the
 * same treatment as values. */
#include <stdlib.h>
#include <string.h>

#include "app/forms.h"

static int hexval(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int vial_percent_decode(vial_buf *out, const char *s, size_t n, bool plus) {
    if (vial_buf_reserve(out, n) != 0) return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%' && i + 2 < n) {
            int hi = hexval((unsigned char)s[i + 1]), lo = hexval((unsigned char)s[i + 2]);
            if (hi >= 0 && lo >= 0) {
                out->data[out->len++] = (char)(hi * 16 + lo);
                i += 2;
                continue;
            }
        } else if (c == '+' && plus) {
            c = ' ';
        }
        out->data[out->len++] = (char)c;
    }
    out->data[out->len] = '\0';
    return 0;
}

char *vial_url_unquote(vial_arena *a, const char *s, size_t n, bool plus, size_t *len_out) {
    vial_buf b;
    vial_buf_init(&b, a, 0);
    if (vial_percent_decode(&b, s, n, plus) != 0) return NULL;
    if (len_out) *len_out = b.len;
    return vial_buf_finish(&b);
}

/* Decodes one key or value into the arena: percent/plus, then UTF-8 replace. */
static char *decode_part(vial_arena *a, vial_buf *scratch, const char *s, size_t n, size_t *len_out) {
    vial_buf_reset(scratch);
    if (vial_percent_decode(scratch, s, n, true) != 0) return NULL;
    if (vial_utf8_valid(scratch->data, scratch->len)) {
        *len_out = scratch->len;
        return vial_arena_strndup(a, scratch->data, scratch->len);
    }
    vial_buf fixed;
    vial_buf_init(&fixed, a, 0);
    if (vial_utf8_replace_invalid(&fixed, scratch->data, scratch->len) != 0) return NULL;
    *len_out = fixed.len;
    return vial_buf_finish(&fixed);
}

/* Splits s on '&' and adds every non-empty pair; max_fields 0 = no limit. */
static int parse_pairs(vial_arena *a, const char *s, size_t n, size_t max_fields, vial_multidict *out,
                       vial_form_error *err) {
    vial_buf scratch;
    vial_buf_init(&scratch, NULL, 0);
    size_t fields = 0;
    int rc = 0;
    size_t start = 0;
    while (start <= n) {
        const char *amp = memchr(s + start, '&', n - start);
        size_t end = amp ? (size_t)(amp - s) : n;
        if (end > start) {
            if (max_fields && ++fields > max_fields) {
                rc = vial_form_fail(err, 413, "the form has more than %zu fields", max_fields);
                break;
            }
            const char *pair = s + start;
            size_t pair_len = end - start;
            const char *eq = memchr(pair, '=', pair_len);
            size_t key_len = eq ? (size_t)(eq - pair) : pair_len;
            size_t klen = 0, vlen = 0;
            char *key = decode_part(a, &scratch, pair, key_len, &klen);
            char *value =
                key ? (eq ? decode_part(a, &scratch, eq + 1, pair_len - key_len - 1, &vlen) : vial_arena_strdup(a, ""))
                    : NULL;
            if (!value || vial_multidict_add_ref(out, key, klen, value, vlen) != 0) {
                rc = vial_form_fail(err, 500, "out of memory while decoding the form");
                break;
            }
        }
        if (!amp) break;
        start = end + 1;
    }
    vial_buf_free(&scratch);
    return rc;
}

int vial_parse_query(vial_arena *a, const char *qs, size_t n, vial_multidict *out) {
    return parse_pairs(a, qs, n, 0, out, NULL);
}

int vial_parse_urlencoded(vial_arena *a, const char *body, size_t n, const vial_form_limits *lim, vial_multidict *out,
                          vial_form_error *err) {
    vial_form_limits l = vial_form_limits_resolve(lim);
    if (n > l.max_bytes) return vial_form_fail(err, 413, "the form body is larger than %zu bytes", l.max_bytes);
    return parse_pairs(a, body, n, l.max_fields, out, err);
}

int vial_parse_urlencoded_stream(vial_arena *a, vial_read_fn read, void *ctx, const vial_form_limits *lim,
                                 vial_multidict *out, vial_form_error *err) {
    vial_form_limits l = vial_form_limits_resolve(lim);
    vial_buf body;
    vial_buf_init(&body, NULL, l.max_bytes + 1);
    int rc = 0;
    for (;;) {
        size_t want = l.max_bytes + 1 - body.len; /* one byte more than allowed tells "too large" */
        if (want > 16384) want = 16384;
        if (vial_buf_reserve(&body, want) != 0) {
            rc = vial_form_fail(err, 500, "out of memory while reading the form body");
            break;
        }
        ssize_t got = read(ctx, body.data + body.len, want);
        if (got < 0 || (size_t)got > want) {
            rc = vial_form_fail(err, 400, "the request body could not be read");
            break;
        }
        if (got == 0) break;
        body.len += (size_t)got;
        body.data[body.len] = '\0';
        if (body.len > l.max_bytes) {
            rc = vial_form_fail(err, 413, "the form body is larger than %zu bytes", l.max_bytes);
            break;
        }
    }
    if (rc == 0) rc = parse_pairs(a, body.data ? body.data : "", body.len, l.max_fields, out, err);
    vial_buf_free(&body);
    return rc;
}
