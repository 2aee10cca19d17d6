/* fuzz_http_parser.c - libFuzzer target for the request parser and the
 * chunked decoder.
 *
 * Input: two control bytes (split seed, limit choice), then the bytes a
 * client sends. The head is parsed whole and again fed in pieces with
 * prev_len (each call on an exactly-sized copy, so ASan flags any read past
 * len); both must agree (see the comment at the comparison). A parsed head must satisfy the contract's
 * invariants. A chunked body is decoded whole and in random pieces; both
 * must give the same bytes, the same end and the same rest. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/parser.h"

#define CAP 32

static void check(int cond) {
    if (!cond) abort();
}

static uint32_t rng(uint32_t *s) {
    *s = *s * 1103515245u + 12345u;
    return *s >> 16;
}

static int in_buf(const char *buf, size_t n, vial_str s) {
    return s.len == 0 || (s.ptr >= buf && s.ptr + s.len <= buf + n);
}

static int ows(char c) { return c == ' ' || c == '\t'; }

static void check_head(const char *buf, size_t n, ssize_t rc, const vial_http_request *r) {
    check((size_t)rc <= n && rc >= 16); /* "A / HTTP/1.0\r\n\r\n" is the shortest */
    check(memcmp(buf + rc - 4, "\r\n\r\n", 4) == 0);
    check(r->method.len > 0 && in_buf(buf, (size_t)rc, r->method));
    check(r->target.len > 0 && in_buf(buf, (size_t)rc, r->target));
    check(r->path.len > 0);
    check(in_buf(buf, (size_t)rc, r->path) || (r->path.len == 1 && r->path.ptr[0] == '/'));
    check(in_buf(buf, (size_t)rc, r->query));
    check(r->query.len == 0 || (r->query.ptr > r->target.ptr && r->query.ptr + r->query.len == r->target.ptr + r->target.len));
    check(r->host.ptr != NULL && in_buf(buf, (size_t)rc, r->host));
    check(r->version_minor == 0 || r->version_minor == 1);
    check(r->header_count <= CAP);
    check(r->content_length >= -1);
    check(!(r->chunked && r->content_length >= 0));
    check(!(r->chunked && r->version_minor == 0));
    check(!(r->expect_continue && r->version_minor == 0));
    check(!(r->version_minor == 0 && r->keep_alive && r->header_count == 0));
    for (size_t i = 0; i < r->header_count; i++) {
        const vial_http_header *h = &r->headers[i];
        check(in_buf(buf, (size_t)rc, h->name) && in_buf(buf, (size_t)rc, h->value));
        check(vial_http_header_name_ok(h->name.ptr, h->name.len));
        check(vial_http_header_value_ok(h->value.ptr, h->value.len));
        check(h->value.len == 0 || (!ows(h->value.ptr[0]) && !ows(h->value.ptr[h->value.len - 1])));
    }
    for (size_t i = 0; i < r->method.len; i++) check(r->method.ptr[i] > 0x20 && r->method.ptr[i] < 0x7f);
    for (size_t i = 0; i < r->target.len; i++)
        check(r->target.ptr[i] > 0x20 && r->target.ptr[i] < 0x7f && r->target.ptr[i] != '#');
}

/* Parses data fed in pieces; returns the final result and fills *req. */
static ssize_t parse_pieces(const char *data, size_t n, const vial_http_limits *lim, uint32_t seed,
                            vial_http_request *req, vial_http_header *hdrs, char **kept) {
    size_t prev = 0, have = 0;
    ssize_t rc = 0;
    *kept = NULL;
    while (have < n) {
        size_t step = 1 + rng(&seed) % 97;
        have = have + step > n ? n : have + step;
        char *copy = malloc(have);
        memcpy(copy, data, have);
        rc = vial_http_parse_request(copy, have, prev, lim, req, hdrs, CAP);
        if (rc != 0) {
            *kept = copy;
            return rc;
        }
        free(copy);
        prev = have;
    }
    return 0;
}

typedef struct decoded {
    ssize_t rc;
    char *body;
    size_t body_len;
    char *rest;
    size_t rest_len;
} decoded;

static void decode(const char *data, size_t n, uint32_t seed, int whole, decoded *out) {
    vial_chunked_decoder d;
    memset(&d, 0, sizeof d);
    out->body = malloc(n + 1);
    out->rest = malloc(n + 1);
    out->body_len = out->rest_len = 0;
    out->rc = -2;
    size_t pos = 0;
    while (pos < n) {
        size_t step = whole ? n : 1 + rng(&seed) % 300;
        if (step > n - pos) step = n - pos;
        char *piece = malloc(step);
        memcpy(piece, data + pos, step);
        size_t len = step;
        ssize_t rc = vial_chunked_decode(&d, piece, &len);
        check(rc >= -2);
        if (rc == -1) {
            free(piece);
            out->rc = -1;
            return;
        }
        check(len <= step);
        memcpy(out->body + out->body_len, piece, len);
        out->body_len += len;
        if (rc >= 0) {
            check((size_t)rc <= step - len);
            memcpy(out->rest, piece + len, (size_t)rc);
            out->rest_len = (size_t)rc;
            memcpy(out->rest + out->rest_len, data + pos + step, n - pos - step);
            out->rest_len += n - pos - step;
            free(piece);
            out->rc = 0;
            return;
        }
        free(piece);
        pos += step;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    uint32_t seed = data[0];
    vial_http_limits lim = (data[1] & 1) ? (vial_http_limits){64, 256, 6} : VIAL_HTTP_LIMITS_DEFAULT;
    const char *input = (const char *)data + 2;
    size_t n = size - 2;

    char *buf = malloc(n ? n : 1);
    memcpy(buf, input, n);
    vial_http_request req;
    vial_http_header hdrs[CAP];
    ssize_t rc = vial_http_parse_request(buf, n, 0, &lim, &req, hdrs, CAP);
    check(rc == 0 || rc == -400 || rc == -414 || rc == -417 || rc == -431 || rc == -501 || rc == -505 || rc > 0);

    vial_http_request req2;
    vial_http_header hdrs2[CAP];
    char *kept;
    ssize_t rc2 = parse_pieces(input, n, &lim, seed, &req2, hdrs2, &kept);
    /* Fed in pieces, a head is accepted exactly when it is accepted whole;
     * an error seen in pieces is seen whole; but whole, the parser may
     * reject complete lines of a head that is still incomplete, which in
     * pieces it judges only once the head is complete. */
    check((rc > 0) == (rc2 > 0));
    check(rc2 >= 0 || rc < 0);
    check(rc != 0 || rc2 == 0);
    if (rc > 0) {
        check(rc2 == rc);
        check_head(buf, n, rc, &req);
        check(req2.header_count == req.header_count && req2.content_length == req.content_length &&
              req2.chunked == req.chunked && req2.keep_alive == req.keep_alive && req2.method_bit == req.method_bit &&
              req2.target.len == req.target.len);
        if (req.chunked) {
            decoded whole, split;
            decode(buf + rc, n - (size_t)rc, 0, 1, &whole);
            decode(buf + rc, n - (size_t)rc, seed * 7 + 1, 0, &split);
            check(whole.rc == split.rc);
            if (whole.rc != -1) {
                check(whole.body_len == split.body_len && memcmp(whole.body, split.body, whole.body_len) == 0);
                check(whole.rest_len == split.rest_len && memcmp(whole.rest, split.rest, whole.rest_len) == 0);
            }
            free(whole.body);
            free(whole.rest);
            free(split.body);
            free(split.rest);
        }
    }
    free(kept);
    free(buf);
    return 0;
}
