/* test_http_parser.c - the request head parser: what it fills, what it
 * rejects (with which status), its limits to the byte, and incremental
 * feeding. Request smuggling shapes are our own cases, written from the
 * attack classes the HTTP Garden found in other servers (CL/TE conflicts,
 * lenient number parsing, bare CR/LF, NUL, obs-fold, whitespace around
 * names, odd Transfer-Encoding lists). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/parser.h"

#define CAP 128

typedef struct parsed {
    char *buf; /* exactly-sized copy: ASan catches a read past the end */
    size_t len;
    ssize_t rc;
    vial_http_request req;
    vial_http_header headers[CAP];
} parsed;

/* Parses s[0..n) in one call with the given limits. */
static parsed *parse_lim(const char *s, size_t n, vial_http_limits lim) {
    parsed *p = calloc(1, sizeof *p);
    p->buf = malloc(n ? n : 1);
    memcpy(p->buf, s, n);
    p->len = n;
    p->rc = vial_http_parse_request(p->buf, n, 0, &lim, &p->req, p->headers, CAP);
    return p;
}

static void done(parsed *p) {
    free(p->buf);
    free(p);
}

/* Feeds s one byte at a time, each call on a fresh exact-size copy of the
 * prefix; returns the first non-zero result (0 if none) and its prefix
 * length in *at. */
static ssize_t parse_bytewise(const char *s, size_t n, vial_http_limits lim, size_t *at) {
    vial_http_request req;
    vial_http_header headers[CAP];
    size_t prev = 0;
    for (size_t i = 1; i <= n; i++) {
        char *copy = malloc(i);
        memcpy(copy, s, i);
        ssize_t rc = vial_http_parse_request(copy, i, prev, &lim, &req, headers, CAP);
        free(copy);
        if (rc != 0) {
            if (at) *at = i;
            return rc;
        }
        prev = i;
    }
    if (at) *at = n;
    return 0;
}

static bool str_is(vial_str s, const char *want) { return s.len == strlen(want) && memcmp(s.ptr, want, s.len) == 0; }

static bool inside(const parsed *p, vial_str s) {
    return s.len == 0 || (s.ptr >= p->buf && s.ptr + s.len <= p->buf + p->len);
}

/* A complete request: one call gives rc > 0, and so does byte-wise feeding
 * (at the last byte, with the same length). */
static parsed *ok_lim(const char *s, size_t n, vial_http_limits lim) {
    parsed *p = parse_lim(s, n, lim);
    cr_assert(p->rc > 0, "rejected (%zd): %.*s", p->rc, (int)n, s);
    size_t at;
    ssize_t rc = parse_bytewise(s, n, lim, &at);
    cr_assert(rc == p->rc, "byte-wise: %zd at %zu, whole: %zd: %.*s", rc, at, p->rc, (int)n, s);
    cr_assert(inside(p, p->req.method) && inside(p, p->req.target) && inside(p, p->req.query));
    for (size_t i = 0; i < p->req.header_count; i++)
        cr_assert(inside(p, p->headers[i].name) && inside(p, p->headers[i].value));
    return p;
}

static parsed *ok_n(const char *s, size_t n) { return ok_lim(s, n, VIAL_HTTP_LIMITS_DEFAULT); }
#define OK(lit) ok_n(lit, sizeof(lit) - 1)

/* A rejected request: one call gives -status; byte-wise feeding is
 * rejected too (any status: some errors are seen before the head ends). */
static void bad_n(const char *s, size_t n, int status) {
    parsed *p = parse_lim(s, n, VIAL_HTTP_LIMITS_DEFAULT);
    cr_expect(p->rc == -status, "want %d, got %zd: %.*s", status, p->rc, (int)n, s);
    done(p);
    ssize_t rc = parse_bytewise(s, n, VIAL_HTTP_LIMITS_DEFAULT, NULL);
    cr_expect(rc < 0, "byte-wise accepted or waits (%zd): %.*s", rc, (int)n, s);
}
#define BAD(lit, status) bad_n(lit, sizeof(lit) - 1, status)

/* ------------------------------------------------------------------ */

Test(parser, simple_get) {
    const char s[] = "GET /a%20b/c?x=1&y=%2F HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n"
                     "Accept:   */*  \r\nEmpty:\r\n\r\nNEXT";
    parsed *p = OK(s);
    cr_expect_eq(p->rc, (ssize_t)(sizeof s - 1 - 4));
    vial_http_request *r = &p->req;
    cr_expect(str_is(r->method, "GET"));
    cr_expect_eq(r->method_bit, VIAL_GET);
    cr_expect(str_is(r->target, "/a%20b/c?x=1&y=%2F"));
    cr_expect(str_is(r->path, "/a%20b/c"));
    cr_expect(str_is(r->query, "x=1&y=%2F"));
    cr_expect_eq(r->version_minor, 1);
    cr_expect(str_is(r->host, "example.com"));
    cr_expect_eq(r->content_length, -1);
    cr_expect(!r->chunked && r->keep_alive && !r->expect_continue);
    cr_assert_eq(r->header_count, 4);
    cr_expect_eq(r->headers, p->headers);
    cr_expect(str_is(r->headers[0].name, "Host") && str_is(r->headers[0].value, "example.com"));
    cr_expect(str_is(r->headers[1].name, "User-Agent") && str_is(r->headers[1].value, "t"));
    cr_expect(str_is(r->headers[2].name, "Accept") && str_is(r->headers[2].value, "*/*"));
    cr_expect(str_is(r->headers[3].name, "Empty") && r->headers[3].value.len == 0);
    done(p);
}

Test(parser, values_keep_inner_whitespace_and_obs_text) {
    parsed *p = OK("GET / HTTP/1.1\r\nHost: h\r\nX: \t a \t b\t \r\nY: D\xc3\xbcsseldorf \xff\r\n\r\n");
    cr_expect(str_is(p->req.headers[1].value, "a \t b"));
    cr_expect(str_is(p->req.headers[2].value, "D\xc3\xbcsseldorf \xff"));
    done(p);
}

Test(parser, query_forms) {
    parsed *p = OK("GET /p? HTTP/1.1\r\nHost: h\r\n\r\n");
    cr_expect(str_is(p->req.path, "/p") && p->req.query.len == 0);
    done(p);
    p = OK("GET /p?a?b=/c HTTP/1.1\r\nHost: h\r\n\r\n");
    cr_expect(str_is(p->req.path, "/p") && str_is(p->req.query, "a?b=/c"));
    done(p);
    p = OK("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    cr_expect(str_is(p->req.path, "/") && p->req.query.len == 0);
    done(p);
    /* visible ASCII a browser may leave raw */
    p = OK("GET /a|b{c}^[d]\"e'`~ HTTP/1.1\r\nHost: h\r\n\r\n");
    cr_expect(str_is(p->req.path, "/a|b{c}^[d]\"e'`~"));
    done(p);
}

Test(parser, method_bits) {
    static const struct {
        const char *m;
        unsigned bit;
    } cases[] = {{"GET", VIAL_GET},       {"HEAD", VIAL_HEAD},   {"POST", VIAL_POST},       {"PUT", VIAL_PUT},
                 {"DELETE", VIAL_DELETE}, {"PATCH", VIAL_PATCH}, {"OPTIONS", VIAL_OPTIONS}, {"TRACE", VIAL_TRACE},
                 {"PURGE", 0},            {"get", 0},            {"REPORT", 0},             {"M-SEARCH", 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char s[128];
        int n = snprintf(s, sizeof s, "%s /x HTTP/1.1\r\nHost: h\r\n\r\n", cases[i].m);
        parsed *p = ok_n(s, (size_t)n);
        cr_expect(str_is(p->req.method, cases[i].m));
        cr_expect_eq(p->req.method_bit, cases[i].bit, "%s", cases[i].m);
        done(p);
    }
    parsed *p = OK("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
    cr_expect_eq(p->req.method_bit, VIAL_CONNECT);
    cr_expect(str_is(p->req.path, "example.com:443"));
    done(p);
}

Test(parser, keep_alive_rules) {
    static const struct {
        const char *req;
        bool keep_alive;
    } cases[] = {
        {"GET / HTTP/1.1\r\nHost: h\r\n\r\n", true},
        {"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", false},
        {"GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, CLOSE\r\n\r\n", false},
        {"GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, close\r\n\r\n", false},
        {"GET / HTTP/1.1\r\nHost: h\r\nConnection: closed\r\n\r\n", true},
        {"GET / HTTP/1.1\r\nHost: h\r\nConnection: ,, keep-alive ,\r\n\r\n", true},
        {"GET / HTTP/1.1\r\nHost: h\r\nConnection: foo\r\nConnection: close\r\n\r\n", false},
        {"GET / HTTP/1.0\r\n\r\n", false},
        {"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true},
        {"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true},
        {"GET / HTTP/1.0\r\nConnection: x, KEEP-ALIVE\t\r\n\r\n", true},
        {"GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n", false},
        {"GET / HTTP/1.0\r\nConnection: keep-alives\r\n\r\n", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        parsed *p = ok_n(cases[i].req, strlen(cases[i].req));
        cr_expect_eq(p->req.keep_alive, cases[i].keep_alive, "%s", cases[i].req);
        done(p);
    }
}

Test(parser, http10_without_host) {
    parsed *p = OK("GET /x HTTP/1.0\r\nAccept: */*\r\n\r\n");
    cr_expect_eq(p->req.version_minor, 0);
    cr_expect(p->req.host.len == 0 && p->req.host.ptr != NULL);
    done(p);
}

Test(parser, content_length_values) {
    parsed *p = OK("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
    cr_expect_eq(p->req.content_length, 0);
    done(p);
    p = OK("POST / HTTP/1.1\r\nHost: h\r\ncontent-LENGTH:  003 \r\n\r\n");
    cr_expect_eq(p->req.content_length, 3);
    done(p);
    p = OK("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9223372036854775807\r\n\r\n");
    cr_expect_eq(p->req.content_length, INT64_MAX);
    done(p);
}

Test(parser, chunked_and_expect) {
    parsed *p = OK("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
    cr_expect(p->req.chunked && p->req.content_length == -1);
    done(p);
    p = OK("POST / HTTP/1.1\r\nHost: h\r\ntransfer-encoding:\tChunked \r\n\r\n");
    cr_expect(p->req.chunked);
    done(p);
    p = OK("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    cr_expect(p->req.expect_continue);
    done(p);
    p = OK("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 5\r\n\r\n");
    cr_expect(p->req.expect_continue);
    done(p);
    /* RFC 9110 10.1.1: a 1.0 request's 100-continue is ignored. */
    p = OK("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    cr_expect(!p->req.expect_continue);
    done(p);
    BAD("POST / HTTP/1.1\r\nHost: h\r\nExpect: 200-ok\r\n\r\n", 417);
    BAD("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue, foo\r\n\r\n", 417);
}

Test(parser, leading_empty_lines) {
    parsed *p = OK("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n");
    cr_expect_eq(p->rc, 4 + 27);
    cr_expect(p->req.method.ptr == p->buf + 4);
    done(p);
    /* up to max_request_line bytes of them */
    vial_http_limits lim = {16, 1024, 10};
    char s[64] = "";
    for (int i = 0; i < 8; i++) strcat(s, "\r\n");
    strcat(s, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    p = ok_lim(s, strlen(s), lim);
    done(p);
    memmove(s + 2, s, strlen(s) + 1);
    memcpy(s, "\r\n", 2);
    p = parse_lim(s, strlen(s), lim);
    cr_expect_eq(p->rc, -400);
    done(p);
    /* a lone LF is not an empty line */
    BAD("\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    BAD("\r\n\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}

Test(parser, absolute_form) {
    parsed *p = OK("GET http://example.com:8080/a/b?q=1 HTTP/1.1\r\nHost: other\r\n\r\n");
    cr_expect(str_is(p->req.target, "http://example.com:8080/a/b?q=1"));
    cr_expect(str_is(p->req.path, "/a/b") && str_is(p->req.query, "q=1"));
    cr_expect(str_is(p->req.host, "example.com:8080"), "the target's authority wins over Host");
    done(p);
    p = OK("GET HTTPS://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n");
    cr_expect(str_is(p->req.path, "/") && p->req.query.len == 0);
    done(p);
    p = OK("GET http://[::1]:80?x=y HTTP/1.1\r\nHost: h\r\n\r\n");
    cr_expect(str_is(p->req.path, "/") && str_is(p->req.query, "x=y") && str_is(p->req.host, "[::1]:80"));
    done(p);
    BAD("GET http://user:pw@example.com/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    BAD("GET http:/example.com/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    BAD("GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    BAD("GET http://:80/x HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    BAD("GET 1http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    BAD("GET http://h%zz/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}

Test(parser, asterisk_and_authority_forms) {
    parsed *p = OK("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
    cr_expect(str_is(p->req.path, "*") && p->req.query.len == 0);
    done(p);
    BAD("GET * HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    BAD("OPTIONS ** HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    BAD("GET example.com:443 HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    BAD("CONNECT /x HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    BAD("CONNECT example.com HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    BAD("CONNECT example.com: HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    BAD("CONNECT :443 HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    BAD("CONNECT * HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    BAD("GET ~x HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    BAD("GET a/b HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}

Test(parser, pipelined_heads_are_separate) {
    /* Content-Length: 0 ends the first request: the next one is not its body. */
    const char s[] = "PUT /one HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"
                     "PUT /two HTTP/1.1\r\nContent-Length: 4\r\nHost: h\r\n\r\nbody"
                     "GET /three HTTP/1.1\r\nHost: h\r\n\r\n";
    parsed *p = OK(s);
    cr_expect_eq(p->rc, 49);
    cr_expect_eq(p->req.content_length, 0);
    size_t off = (size_t)p->rc;
    done(p);
    p = ok_n(s + off, sizeof s - 1 - off);
    cr_expect_eq(p->req.content_length, 4);
    off += (size_t)p->rc + 4;
    done(p);
    p = ok_n(s + off, sizeof s - 1 - off);
    cr_expect_eq((size_t)p->rc, sizeof s - 1 - off);
    done(p);
}

/* ------------------------------------------------------------------ */
/* Rejections */

Test(parser, framing_conflicts) {
    BAD("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
    BAD("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 400);
    BAD("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 400);
}

Test(parser, content_length_strict) {
    static const char *values[] = {"", "+1", "-1", "-12", "1 2", "4 2", "13 37", "1, 1", "1,1", "0x10", "2_0",
                                   "+2_0", "7Q", "\"1\"", "1.0", "9223372036854775808",
                                   "1000000000000000000000", "\xd9\xa1" /* Arabic-Indic one */};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        char s[256];
        int n = snprintf(s, sizeof s, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: %s\r\n\r\n", values[i]);
        bad_n(s, (size_t)n, 400);
    }
    /* duplicates, even equal ones; and an empty one before a real one */
    BAD("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", 400);
    BAD("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc", 400);
    BAD("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: \r\nContent-Length: 9\r\n\r\n", 400);
    BAD("POST / HTTP/1.1\r\nHost: h\r\ncontent-length: 2\r\nCONTENT-LENGTH: 2\r\n\r\nab", 400);
}

Test(parser, transfer_encoding_strict) {
    static const struct {
        const char *te;
        int status;
    } cases[] = {
        {"gzip", 400},          {"chunked, gzip", 400},      {"chunked, chunked", 400}, {",chunked", 400},
        {"chunked,", 400},      {", chunked", 400},          {"", 400},                  {"chunkedchunked", 400},
        {"chunked;a=b", 400},   {("\xa0" "chunked"), 400},    {("\xff" "chunked\xff"), 400}, {"identity", 400},
        {"chunk", 400},         {"chunked ,", 400},          {"gzip, chunked", 501},     {"identity, chunked", 501},
        {"deflate,chunked", 501}, {"x;q=1, CHUNKED", 501},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char s[256];
        int n = snprintf(s, sizeof s, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: %s\r\n\r\n", cases[i].te);
        bad_n(s, (size_t)n, cases[i].status);
    }
    /* over several lines: chunked must still be last and once */
    BAD("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
    BAD("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n", 400);
    BAD("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", 501);
    BAD("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
    /* RFC 9112 6.1: Transfer-Encoding in a 1.0 request is faulty framing */
    BAD("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
}

Test(parser, bare_cr_and_lf) {
    BAD("GET / HTTP/1.1\nHost: h\r\n\r\n", 400);
    BAD("GET / HTTP/1.1\r\nHost: h\n\r\n", 400);
    BAD("GET / HTTP/1.1\r\nHost: h\r\n\n", 400);
    BAD("PUT /lf HTTP/1.0\nX: y\n\n", 400);
    BAD("GET /p\nHTTP/1.0\r\n\r\n", 400);
    BAD("GET / HTTP/1.1\rHost: h\r\n\r\n", 400);
    BAD("GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n", 400);
    BAD("GET / HTTP/1.1\r\nHost: h\r\nX: ab\rcd\r\n\r\n", 400);
    BAD("GET /x HTTP/1.1\r\nHost: h\r\n\rQPUT /y HTTP/1.0\r\n\r\n", 400);
    BAD("GET /x HTTP/1.1\r\nHost: h\r\nEmpty:\n\nPUT /y HTTP/1.0\r\n\r\n", 400);
    BAD("GET / HTTP/1.1\r\nHost: h\r\nX-A\nB: c\r\n\r\n", 400);
    BAD("GET /p HTTP/1\r.0\r\nHost: h\r\n\r\n", 400);
    BAD("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\r\n\r\n", 400);
}

Test(parser, bare_cr_and_lf_rejected_before_the_head_ends) {
    /* The scan rejects them on sight: a client using LF or CR alone is
     * answered at once, not when a limit or a timeout strikes. */
    const char *cases[] = {"GET / HTTP/1.1\nHost: h\n", "GET / HTTP/1.1\r\nHost: h\rX"};
    for (size_t i = 0; i < 2; i++) {
        parsed *p = parse_lim(cases[i], strlen(cases[i]), VIAL_HTTP_LIMITS_DEFAULT);
        cr_expect_eq(p->rc, -400, "%s", cases[i]);
        done(p);
    }
}

Test(parser, obs_fold_and_leading_whitespace) {
    BAD("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", 400);
    BAD("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n", 400);
    BAD("GET / HTTP/1.1\r\n Host: h\r\n\r\n", 400);
    BAD("POST / HTTP/1.1\r\n\tContent-Length: 2\r\nHost: h\r\n\r\nab", 400);
    BAD("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\n chunked\r\n\r\n", 400);
    BAD("POST / HTTP/1.1\r\nHost: h\r\nContent-\r\nLength: 3\r\n\r\nabc", 400);
}

Test(parser, field_names) {
    BAD("GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400);
    BAD("GET / HTTP/1.1\r\nHost\t: h\r\n\r\n", 400);
    BAD("POST / HTTP/1.1\r\nHost: h\r\nContent-Length : 7\r\n\r\n", 400);
    BAD("GET / HTTP/1.1\r\nHost: h\r\n: x\r\n\r\n", 400);
    BAD("GET / HTTP/1.1\r\nHost: h\r\n:\r\nAfter: the empty name\r\n\r\n", 400);
    BAD("GET / HTTP/1.1\r\nHost: h\r\nFo@: x\r\n\r\n", 400);
    BAD("GET / HTTP/1.1\r\nHost: h\r\nFoo\x01test: x\r\n\r\n", 400);
    BAD("GET / HTTP/1.1\r\nHost: h\r\n\xe9" "tag: 1\r\n\r\n", 400);
    BAD("POST / HTTP/1.1\r\nHost: h\r\nContent-Length\xa0: 4\r\n\r\nabcd", 400);
    BAD("POST / HTTP/1.1\r\nHost: h\r\nContent-Length 4\r\n\r\nabcd", 400);
    BAD("GET / HTTP/1.1\r\nHost: h\r\nNo colon here\r\n\r\n", 400);
    BAD("GET / HTTP/1.1\r\nHost: h\r\nX\x00Y: z\r\n\r\n", 400);
    static const char *delimiters[] = {"a(b", "a)b", "a,b", "a/b", "a;b", "a<b", "a=b", "a>b", "a?b",
                                       "a@b", "a[b", "a\\b", "a]b", "a{b", "a}b", "a\"b", "a b"};
    for (size_t i = 0; i < sizeof delimiters / sizeof delimiters[0]; i++) {
        char s[128];
        int n = snprintf(s, sizeof s, "GET / HTTP/1.1\r\nHost: h\r\n%s: 1\r\n\r\n", delimiters[i]);
        bad_n(s, (size_t)n, 400);
    }
}

Test(parser, field_values_controls) {
    BAD("GET / HTTP/1.1\r\nHost: h\r\nX: a\x00\rb\r\n\r\n", 400);
    BAD("GET / HTTP/1.1\r\nHost: h\r\nX: before\x00" "after\r\n\r\n", 400);
    BAD("GET / HTTP/1.1\r\nHost: h\r\nX: trailing-nul\x00\r\n\r\n", 400);
    BAD("GET / HTTP/1.1\r\nHost: a\r\nX: a\x01" "b\r\n\r\n", 400);
    BAD("GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f" "b\r\n\r\n", 400);
    BAD("GET / HTTP/1.1\r\nHost: a\r\nX: hello\x0cworld\r\n\r\n", 400);
    BAD("GET / HTTP/1.1\r\nHost: a\r\nX: \x1b[31m\r\n\r\n", 400);
    /* long values take the vector path: a control deep inside is still found */
    char s[512] = "GET / HTTP/1.1\r\nHost: a\r\nX: ";
    size_t n = strlen(s);
    for (int pos = 0; pos < 80; pos++) {
        size_t m = n;
        for (int i = 0; i < 80; i++) s[m++] = i == pos ? '\x00' : 'v';
        memcpy(s + m, "\r\n\r\n", 4);
        bad_n(s, m + 4, 400);
        s[n + (size_t)pos] = '\t'; /* HTAB is allowed anywhere in a value */
        parsed *p = ok_n(s, m + 4);
        done(p);
    }
}

Test(parser, request_line_shapes) {
    BAD("GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    BAD("GET /  HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    BAD("GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    BAD(" GET / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    BAD("GET / HTTP/1.1 \r\nHost: h\r\n\r\n", 400);
    BAD("GET /foo bar/ HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    BAD("P<S>T / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    BAD("GET\x00 / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    BAD("\x01 / HTTP/1..1\r\n\r\n", 400);
    BAD("GET /a\x00" "b HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    BAD("GET /a\x7f" "b HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    BAD("GET /a\x01" "b HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    BAD("GET /\xce\xb4 HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    BAD("GET /forums/1?page=1#posts HTTP/1.1\r\nHost: h\r\n\r\n", 400);
    BAD("GET /\r\n\r\n", 400);
    BAD("GET\r\n\r\n", 400);
    BAD("Invalid\r\n\r\n", 400);
}

Test(parser, versions) {
    BAD("GET / HTTP/1.2\r\nHost: h\r\n\r\n", 505);
    BAD("GET / HTTP/1.9\r\nHost: h\r\n\r\n", 505);
    BAD("GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505);
    BAD("GET / HTTP/3.0\r\nHost: h\r\n\r\n", 505);
    BAD("GET / HTTP/0.9\r\nHost: h\r\n\r\n", 505);
    BAD("GET / HTTP/5.6\r\nHost: h\r\n\r\n", 505);
    BAD("GET / HTTP/1.10\r\nHost: h\r\n\r\n", 400);
    BAD("GET / HTTP/1.12\r\n\r\n", 400);
    BAD("GET / HTTP/11.1\r\nHost: h\r\n\r\n", 400);
    BAD("GET / HTTP/1\r\nHost: h\r\n\r\n", 400);
    BAD("GET / HTTP/1.\r\nHost: h\r\n\r\n", 400);
    BAD("GET / http/1.1\r\nHost: h\r\n\r\n", 400);
    BAD("GET / HTTP/65536.1\r\n\r\n", 400);
    BAD("GET / RTSP/1.0\r\n\r\n", 400);
    BAD("GET / HTTP 1.1\r\nHost: h\r\n\r\n", 400);
}

Test(parser, host_rules) {
    BAD("GET / HTTP/1.1\r\n\r\n", 400);
    BAD("GET / HTTP/1.1\r\nHostname: h\r\n\r\n", 400);
    BAD("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400);
    BAD("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", 400);
    BAD("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400);
    static const char *bad_hosts[] = {"a b", "a/b", "user@a", ("\xff" "a\xff"), "[::1", "[]", "a:b:c", "a:80x",
                                      "a%zz", "a%4",  "a?b",    "a#b",          "\"a\""};
    for (size_t i = 0; i < sizeof bad_hosts / sizeof bad_hosts[0]; i++) {
        char s[256];
        int n = snprintf(s, sizeof s, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", bad_hosts[i]);
        bad_n(s, (size_t)n, 400);
    }
    static const char *good_hosts[] = {"",          "a",        "example.com:8080", "0.0.0.0=5000", "[::1]:80",
                                       "[v1.x]",    "a%20b",    "h:",               "xn--bcher-kva.example",
                                       "under_score.local"};
    for (size_t i = 0; i < sizeof good_hosts / sizeof good_hosts[0]; i++) {
        char s[256];
        int n = snprintf(s, sizeof s, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", good_hosts[i]);
        parsed *p = ok_n(s, (size_t)n);
        cr_expect(str_is(p->req.host, good_hosts[i]), "%s", good_hosts[i]);
        done(p);
    }
}

/* ------------------------------------------------------------------ */
/* Limits: exact boundaries, in one piece and as soon as the bytes prove them */

/* "GET /aaa... HTTP/1.1" of exactly line_len bytes. */
static size_t request_line(char *s, size_t line_len) {
    size_t n = 0;
    memcpy(s, "GET /", 5);
    n = 5;
    while (n < line_len - 9) s[n++] = 'a';
    memcpy(s + n, " HTTP/1.1", 9);
    return n + 9;
}

Test(parser, request_line_limit) {
    vial_http_limits lim = VIAL_HTTP_LIMITS_DEFAULT;
    lim.max_header_bytes = 65536;
    char *s = malloc(20000);
    for (size_t line = 8190; line <= 8194; line++) {
        size_t n = request_line(s, line);
        memcpy(s + n, "\r\nHost: h\r\n\r\n", 13);
        parsed *p = parse_lim(s, n + 13, lim);
        if (line <= 8192)
            cr_expect(p->rc == (ssize_t)(n + 13), "line %zu: %zd", line, p->rc);
        else
            cr_expect(p->rc == -414, "line %zu: %zd", line, p->rc);
        done(p);
        /* before its CRLF: 8192 bytes may still end well, 8193 cannot */
        p = parse_lim(s, line <= 8193 ? line : 8193, lim);
        cr_expect(p->rc == (line <= 8192 ? 0 : -414), "partial line %zu: %zd", line, p->rc);
        done(p);
    }
    /* the default head limit (16 KiB) does not hide a long line */
    size_t n = request_line(s, 9000);
    parsed *p = parse_lim(s, n, VIAL_HTTP_LIMITS_DEFAULT);
    cr_expect_eq(p->rc, -414);
    done(p);
    /* incremental: rejected at the byte that proves it */
    size_t at;
    ssize_t rc = parse_bytewise(s, n, VIAL_HTTP_LIMITS_DEFAULT, &at);
    cr_expect(rc == -414 && at == 8193, "rc %zd at %zu", rc, at);
    free(s);
}

/* A head of exactly total bytes: request line, Host, X: padding, CRLFCRLF. */
static size_t head_of(char *s, size_t total) {
    size_t n = (size_t)sprintf(s, "GET / HTTP/1.1\r\nHost: h\r\nX: ");
    while (n < total - 4) s[n++] = 'x';
    memcpy(s + n, "\r\n\r\n", 4);
    return n + 4;
}

Test(parser, header_bytes_limit) {
    char *s = malloc(20000);
    for (size_t total = 16382; total <= 16386; total++) {
        size_t n = head_of(s, total);
        cr_assert_eq(n, total);
        parsed *p = parse_lim(s, n, VIAL_HTTP_LIMITS_DEFAULT);
        cr_expect(p->rc == (total <= 16384 ? (ssize_t)total : -431), "head %zu: %zd", total, p->rc);
        done(p);
    }
    /* Incomplete: 16383 bytes may still end at 16384, 16384 bytes without the end cannot. */
    size_t n = head_of(s, 20000);
    parsed *p = parse_lim(s, 16383, VIAL_HTTP_LIMITS_DEFAULT);
    cr_expect_eq(p->rc, 0);
    done(p);
    p = parse_lim(s, 16384, VIAL_HTTP_LIMITS_DEFAULT);
    cr_expect_eq(p->rc, -431);
    done(p);
    size_t at;
    ssize_t rc = parse_bytewise(s, n, VIAL_HTTP_LIMITS_DEFAULT, &at);
    cr_expect(rc == -431 && at == 16384, "rc %zd at %zu", rc, at);
    /* leading empty lines do not count against the head */
    char *t = malloc(20000);
    memcpy(t, "\r\n", 2);
    head_of(t + 2, 16384);
    p = parse_lim(t, 16386, VIAL_HTTP_LIMITS_DEFAULT);
    cr_expect_eq(p->rc, 16386);
    done(p);
    free(t);
    free(s);
}

/* A head with fields header lines (Host first). */
static size_t head_with_fields(char *s, size_t fields, bool end) {
    size_t n = (size_t)sprintf(s, "GET / HTTP/1.1\r\nHost: h\r\n");
    for (size_t i = 1; i < fields; i++) n += (size_t)sprintf(s + n, "X-%zu: v\r\n", i);
    if (end) n += (size_t)sprintf(s + n, "\r\n");
    return n;
}

Test(parser, field_count_limit) {
    char *s = malloc(100000);
    size_t n = head_with_fields(s, 100, true);
    parsed *p = parse_lim(s, n, VIAL_HTTP_LIMITS_DEFAULT);
    cr_expect_eq(p->rc, (ssize_t)n);
    cr_expect_eq(p->req.header_count, 100);
    done(p);
    n = head_with_fields(s, 101, true);
    p = parse_lim(s, n, VIAL_HTTP_LIMITS_DEFAULT);
    cr_expect_eq(p->rc, -431);
    done(p);
    /* incomplete: 100 complete fields, then "\r" may still be the end ... */
    n = head_with_fields(s, 100, false);
    s[n] = '\r';
    p = parse_lim(s, n + 1, VIAL_HTTP_LIMITS_DEFAULT);
    cr_expect_eq(p->rc, 0);
    done(p);
    /* ... but the first byte of a 101st field proves the limit broken */
    s[n] = 'Y';
    p = parse_lim(s, n + 1, VIAL_HTTP_LIMITS_DEFAULT);
    cr_expect_eq(p->rc, -431);
    done(p);
    n = head_with_fields(s, 150, true);
    size_t at;
    ssize_t rc = parse_bytewise(s, n, VIAL_HTTP_LIMITS_DEFAULT, &at);
    size_t first101 = head_with_fields(s, 100, false) + 1;
    cr_expect(rc == -431 && at == first101, "rc %zd at %zu (want %zu)", rc, at, first101);
    /* A smaller headers array than max_headers is a limit too. */
    vial_http_request req;
    vial_http_header few[3];
    n = head_with_fields(s, 3, true);
    vial_http_limits lim = VIAL_HTTP_LIMITS_DEFAULT;
    cr_expect_eq(vial_http_parse_request(s, n, 0, &lim, &req, few, 3), (ssize_t)n);
    n = head_with_fields(s, 4, true);
    cr_expect_eq(vial_http_parse_request(s, n, 0, &lim, &req, few, 3), -431);
    free(s);
}

Test(parser, too_many_leading_empty_lines) {
    char *s = malloc(9000);
    for (int i = 0; i < 4200; i++) memcpy(s + 2 * i, "\r\n", 2);
    parsed *p = parse_lim(s, 8400, VIAL_HTTP_LIMITS_DEFAULT);
    cr_expect_eq(p->rc, -400);
    done(p);
    p = parse_lim(s, 8192, VIAL_HTTP_LIMITS_DEFAULT);
    cr_expect_eq(p->rc, 0);
    done(p);
    free(s);
}

/* ------------------------------------------------------------------ */
/* Incremental feeding */

Test(parser, prev_len_finds_terminator_split_anywhere) {
    const char s[] = "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc";
    size_t head = sizeof s - 1 - 3;
    vial_http_limits lim = VIAL_HTTP_LIMITS_DEFAULT;
    for (size_t a = 1; a < head; a++) {
        for (size_t b = a + 1; b <= sizeof s - 1; b++) {
            vial_http_request req;
            vial_http_header h[8];
            ssize_t r1 = vial_http_parse_request(s, a, 0, &lim, &req, h, 8);
            cr_assert_eq(r1, 0);
            ssize_t r2 = vial_http_parse_request(s, b, a, &lim, &req, h, 8);
            if (b < head) {
                cr_assert_eq(r2, 0, "a %zu b %zu", a, b);
                r2 = vial_http_parse_request(s, sizeof s - 1, b, &lim, &req, h, 8);
            }
            cr_assert_eq(r2, (ssize_t)head, "a %zu b %zu", a, b);
            cr_assert_eq(req.content_length, 3);
        }
    }
}

Test(parser, prev_len_larger_than_len_starts_over) {
    const char s[] = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
    vial_http_limits lim = VIAL_HTTP_LIMITS_DEFAULT;
    vial_http_request req;
    vial_http_header h[8];
    cr_expect_eq(vial_http_parse_request(s, sizeof s - 1, 1000, &lim, &req, h, 8), (ssize_t)(sizeof s - 1));
}

/* ------------------------------------------------------------------ */
/* Every byte value at every kind of position (vector and scalar paths),
 * against the RFC's character sets written out here. */

static bool rfc_tchar(int c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

Test(parser, every_byte_in_names_values_targets) {
    char s[256];
    for (int c = 0; c < 256; c++) {
        for (int pos = 0; pos < 40; pos += 3) {
            /* a field name */
            if (c != ':') {
                int n = sprintf(s, "GET / HTTP/1.1\r\nHost: h\r\n");
                for (int i = 0; i < 40; i++) s[n++] = i == pos ? (char)c : 'n';
                n += sprintf(s + n, ": v\r\n\r\n");
                parsed *p = parse_lim(s, (size_t)n, VIAL_HTTP_LIMITS_DEFAULT);
                cr_expect((p->rc > 0) == rfc_tchar(c), "name byte 0x%02x at %d: %zd", c, pos, p->rc);
                done(p);
            }
            /* a field value: field-vchar, SP, HTAB, obs-text */
            int n = sprintf(s, "GET / HTTP/1.1\r\nHost: h\r\nX: ");
            for (int i = 0; i < 40; i++) s[n++] = i == pos ? (char)c : 'v';
            n += sprintf(s + n, "\r\n\r\n");
            parsed *p = parse_lim(s, (size_t)n, VIAL_HTTP_LIMITS_DEFAULT);
            bool ok = c == '\t' || (c >= 0x20 && c != 0x7f);
            cr_expect((p->rc > 0) == ok, "value byte 0x%02x at %d: %zd", c, pos, p->rc);
            done(p);
            /* a request-target: visible ASCII but '#' */
            n = sprintf(s, "GET /");
            for (int i = 0; i < 40; i++) s[n++] = i == pos ? (char)c : 't';
            n += sprintf(s + n, " HTTP/1.1\r\nHost: h\r\n\r\n");
            p = parse_lim(s, (size_t)n, VIAL_HTTP_LIMITS_DEFAULT);
            ok = c > 0x20 && c < 0x7f && c != '#';
            cr_expect((p->rc > 0) == ok, "target byte 0x%02x at %d: %zd", c, pos, p->rc);
            done(p);
        }
    }
}
