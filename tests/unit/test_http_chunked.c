/* test_http_chunked.c - the in-place chunked body decoder: decoded bytes,
 * what follows the body, every split of the input, and the malformed shapes
 * (sizes a lenient parser would read as a prefix, bare CR/LF, missing CRLF
 * after data, extensions, trailers, bounds). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/parser.h"

typedef struct result {
    ssize_t rc;     /* last return: >= 0 done (bytes after the body), -1 bad, -2 more */
    char body[70000];
    size_t body_len;
    char rest[256];
    size_t rest_len;
} result;

/* Decodes s[0..n) delivered in pieces ending at cuts[], each piece in its
 * own exactly-sized buffer. */
static void decode_pieces(const char *s, size_t n, const size_t *cuts, int ncuts, result *r) {
    vial_chunked_decoder d;
    memset(&d, 0, sizeof d);
    r->rc = 0;
    r->body_len = r->rest_len = 0;
    size_t from = 0;
    for (int i = 0; i <= ncuts; i++) {
        size_t to = i < ncuts ? cuts[i] : n;
        size_t len = to - from;
        char *piece = malloc(len ? len : 1);
        memcpy(piece, s + from, len);
        size_t dlen = len;
        r->rc = vial_chunked_decode(&d, piece, &dlen);
        if (r->rc != -1) {
            cr_assert(dlen <= len);
            cr_assert(r->body_len + dlen <= sizeof r->body);
            memcpy(r->body + r->body_len, piece, dlen);
            r->body_len += dlen;
        }
        if (r->rc >= 0) {
            cr_assert((size_t)r->rc <= len - dlen && (size_t)r->rc <= sizeof r->rest);
            memcpy(r->rest, piece + dlen, (size_t)r->rc);
            r->rest_len = (size_t)r->rc;
            /* whatever came after this piece is also "after the body" */
            cr_assert(to + 0 <= n);
            size_t more = n - to;
            cr_assert(r->rest_len + more <= sizeof r->rest);
            memcpy(r->rest + r->rest_len, s + to, more);
            r->rest_len += more;
            free(piece);
            return;
        }
        free(piece);
        if (r->rc == -1) return;
        from = to;
    }
}

static void decode(const char *s, size_t n, result *r) { decode_pieces(s, n, NULL, 0, r); }

/* Decodes whole, then in 2 and 3 pieces at every offset: same outcome. */
static result *decode_all_ways(const char *s, size_t n) {
    result *whole = malloc(sizeof *whole), *r = malloc(sizeof *r);
    decode(s, n, whole);
    for (size_t i = 0; i <= n; i++) {
        for (size_t j = i; j <= n; j++) {
            size_t cuts[2] = {i, j};
            decode_pieces(s, n, cuts, 2, r);
            cr_assert(r->rc == whole->rc || (whole->rc >= 0 && r->rc >= 0), "cuts %zu,%zu: %zd vs %zd", i, j, r->rc,
                      whole->rc);
            if (whole->rc != -1) {
                cr_assert(r->body_len == whole->body_len && memcmp(r->body, whole->body, r->body_len) == 0,
                          "cuts %zu,%zu: body differs", i, j);
                cr_assert(r->rest_len == whole->rest_len && memcmp(r->rest, whole->rest, r->rest_len) == 0,
                          "cuts %zu,%zu: rest differs", i, j);
            }
        }
    }
    free(r);
    return whole;
}

#define LIT(s) s, sizeof(s) - 1

static void expect_body(const char *s, size_t n, const char *body, const char *rest) {
    result *r = decode_all_ways(s, n);
    cr_expect(r->rc >= 0, "not complete (%zd): %.*s", r->rc, (int)n, s);
    cr_expect(r->body_len == strlen(body) && memcmp(r->body, body, r->body_len) == 0, "body %.*s", (int)r->body_len,
              r->body);
    cr_expect(r->rest_len == strlen(rest) && memcmp(r->rest, rest, r->rest_len) == 0, "rest %.*s", (int)r->rest_len,
              r->rest);
    free(r);
}

static void expect_bad(const char *s, size_t n) {
    result *r = decode_all_ways(s, n);
    cr_expect(r->rc == -1, "accepted (%zd): %.*s", r->rc, (int)n, s);
    free(r);
}

static void expect_more(const char *s, size_t n) {
    result *r = decode_all_ways(s, n);
    cr_expect(r->rc == -2, "want more, got %zd: %.*s", r->rc, (int)n, s);
    free(r);
}

Test(chunked, basic) {
    expect_body(LIT("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"), "hello world", "");
    expect_body(LIT("0\r\n\r\n"), "", "");
    expect_body(LIT("a\r\n0123456789\r\nA\r\n0123456789\r\n0\r\n\r\n"), "01234567890123456789", "");
    expect_body(LIT("000\r\n\r\n"), "", "");
    expect_body(LIT("0005\r\nhello\r\n000\r\n\r\n"), "hello", "");
}

Test(chunked, binary_data_is_copied_exactly) {
    const char s[] = "3\r\n\0\r\n\r\n0\r\n\r\n";
    result r;
    decode(s, sizeof s - 1, &r);
    cr_expect_eq(r.rc, 0);
    cr_expect(r.body_len == 3 && memcmp(r.body, "\0\r\n", 3) == 0);
}

Test(chunked, in_place_and_what_follows) {
    char buf[] = "5\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\n";
    size_t len = sizeof buf - 1;
    vial_chunked_decoder d = {0};
    ssize_t rc = vial_chunked_decode(&d, buf, &len);
    cr_assert_eq(rc, 16);
    cr_assert_eq(len, 5);
    cr_expect(memcmp(buf, "helloGET / HTTP/1.1\r\n", 21) == 0, "decoded data then the next request, adjacent");
    /* After the end every byte belongs to what follows. */
    char more[] = "xyz";
    len = 3;
    cr_expect_eq(vial_chunked_decode(&d, more, &len), 3);
    cr_expect_eq(len, 0);
    expect_body(LIT("1\r\nZ\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), "Z", "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
}

Test(chunked, incomplete) {
    expect_more(LIT(""));
    expect_more(LIT("5"));
    expect_more(LIT("5\r"));
    expect_more(LIT("5\r\nhel"));
    expect_more(LIT("5\r\nhello"));
    expect_more(LIT("5\r\nhello\r\n"));
    expect_more(LIT("5\r\nhello\r\n0\r\n"));
    expect_more(LIT("5\r\nhello\r\n0\r\n\r"));
    expect_more(LIT("0\r\nX: y\r\n"));
    expect_more(LIT("5;ilovew3;somuchlove=aretheseparametersfor;another=withvalue\r\nhello\r\n"));
}

Test(chunked, sizes_strict) {
    expect_bad(LIT("\r\n\r\n"));          /* empty size */
    expect_bad(LIT("0_1f\r\n\r\n"));
    expect_bad(LIT("0x5\r\nhello\r\n0\r\n\r\n"));
    expect_bad(LIT("+5\r\nhello\r\n0\r\n\r\n"));
    expect_bad(LIT("-0\r\n\r\n"));
    expect_bad(LIT("-0x1\r\nz\r\n0\r\n\r\n"));
    expect_bad(LIT(" 5\r\nhello\r\n0\r\n\r\n"));
    expect_bad(LIT("   3\r\nabc\r\n0\r\n\r\n"));
    expect_bad(LIT("5 \r\nhello\r\n0\r\n\r\n"));
    expect_bad(LIT("a \r\n0123456789\r\n0\r\n\r\n"));
    expect_bad(LIT("2junk-after-size\r\nab\r\n0\r\n\r\n"));
    expect_bad(LIT("Q\r\nQQ\r\n0\r\n\r\n"));
    expect_bad(LIT("NOT-HEX\r\nPUT /next HTTP/1.0\r\n"));
    expect_bad(LIT("2 erfrferferf\r\naa\r\n0 rrrr\r\n\r\n"));
    expect_bad(LIT("g\r\n"));
}

Test(chunked, size_overflow) {
    /* 7fffffffffffffff is the largest size: accepted (and then waits for data) */
    expect_more(LIT("7fffffffffffffff\r\nabc"));
    expect_more(LIT("00000000000000007fffffffffffffff\r\n"));
    expect_bad(LIT("8000000000000000\r\n"));
    expect_bad(LIT("ffffffffffffffff\r\n"));
    expect_bad(LIT("10000000000000000\r\n"));
    expect_bad(LIT("fffffffffffffffffffffffffff0\r\n"));
}

Test(chunked, crlf_exact) {
    expect_bad(LIT("5\r\r;ABCD\r\n34\r\nE\r\n0\r\n\r\n"));
    expect_bad(LIT("5\nhello\r\n0\r\n\r\n"));
    expect_bad(LIT("5\r\nhelloX0\r\n\r\n"));
    expect_bad(LIT("5\r\nhello\n0\r\n\r\n"));
    expect_bad(LIT("5\r\nhello\rX0\r\n\r\n"));
    expect_bad(LIT("5\r\nABCDE0\r\n"));
    expect_bad(LIT("4\r\nwxyz\n0\r\n\r\n"));
    expect_bad(LIT("3\r\nfoo\r\n\r\n"));         /* missing last-chunk */
    expect_bad(LIT("3 \n  \r\nfoo\r\n\r\n"));
    expect_bad(LIT("2\r1\n"));
    expect_bad(LIT("0\r\n\n"));
    expect_bad(LIT("0\r\n\r\r"));
    expect_bad(LIT("0\n\r\n"));
    /* an extra CRLF before the last chunk is not "an empty chunk" */
    expect_bad(LIT("4\r\nabcd\r\n\r\n0\r\n\r\n"));
}

Test(chunked, extensions) {
    expect_body(LIT("5;a\r\nhello\r\n0\r\n\r\n"), "hello", "");
    expect_body(LIT("5;a=b\r\nhello\r\n0;last\r\n\r\n"), "hello", "");
    expect_body(LIT("5 ;a\r\nhello\r\n0\r\n\r\n"), "hello", "");
    expect_body(LIT("5\t; a = b ;c\r\nhello\r\n0\r\n\r\n"), "hello", "");
    expect_body(LIT("5;a=\"q \\\"x\\\"; \\\\y\\\\\";b\r\nhello\r\n0\r\n\r\n"), "hello", "");
    expect_body(LIT("5;a=\"\"\r\nhello\r\n0\r\n\r\n"), "hello", "");
    expect_body(LIT("5;ilovew3;somuchlove=aretheseparametersfor;another=withvalue\r\nhello\r\n"
                    "6;blahblah;blah\r\n world\r\n0\r\n\r\n"),
                "hello world", "");
    expect_bad(LIT("2;\r\naa\r\n0\r\n\r\n"));
    expect_bad(LIT("2; \r\naa\r\n0\r\n\r\n"));
    expect_bad(LIT("2;=b\r\naa\r\n0\r\n\r\n"));
    expect_bad(LIT("2;a=\r\naa\r\n0\r\n\r\n"));
    expect_bad(LIT("2;a \r\naa\r\n0\r\n\r\n"));
    expect_bad(LIT("2;a=b \r\naa\r\n0\r\n\r\n"));
    expect_bad(LIT("2;a=b c\r\naa\r\n0\r\n\r\n"));
    expect_bad(LIT("2;a=\"b\" c\r\naa\r\n0\r\n\r\n"));
    expect_bad(LIT("2;a=\"unterminated\r\naa\r\n0\r\n\r\n"));
    expect_bad(LIT("5;ilovew3=\"abc\";somuchlove=\"def; ghi\r\nhello\r\n"));
    expect_bad(LIT("2;a\rb\r\naa\r\n0\r\n\r\n"));
    expect_bad(LIT("3;k=v\r\rabc\r\n0\r\n\r\n"));
    expect_bad(LIT("2;a=\"\x01\"\r\naa\r\n0\r\n\r\n"));
    expect_bad(LIT("2;a@b\r\naa\r\n0\r\n\r\n"));
}

Test(chunked, size_line_bound) {
    /* the size line, extensions and CRLF included, is at most 4096 bytes */
    char *s = malloc(5000);
    for (size_t line = 4095; line <= 4097; line++) {
        size_t n = 0;
        memcpy(s, "1;x=", 4);
        n = 4;
        while (n < line - 2) s[n++] = 'a';
        memcpy(s + n, "\r\nZ\r\n0\r\n\r\n", 10);
        n += 10;
        result r;
        decode(s, n, &r);
        cr_expect(line <= 4096 ? r.rc == 0 : r.rc == -1, "line %zu: %zd", line, r.rc);
    }
    free(s);
}

Test(chunked, trailers) {
    expect_body(LIT("5\r\nhello\r\n0\r\nVary: *\r\nContent-Type: text/plain\r\n\r\n"), "hello", "");
    expect_body(LIT("0\r\nT:PUT /z HTTP/1.0\r\n\r\n"), "", "");
    expect_body(LIT("0\r\nX:\r\n\r\nNEXT"), "", "NEXT");
    expect_bad(LIT("0\r\n X: y\r\n\r\n"));
    expect_bad(LIT("0\r\nX: y\r\n z\r\n\r\n"));
    expect_bad(LIT("0\r\nX y\r\n\r\n"));
    expect_bad(LIT("0\r\nX : y\r\n\r\n"));
    expect_bad(LIT("0\r\n: y\r\n\r\n"));
    expect_bad(LIT("0\r\nX: a\rb\r\n\r\n"));
    expect_bad(LIT("0\r\nX: a\nb\r\n\r\n"));
    expect_bad(LIT("0\r\nX: a\x00" "b\r\n\r\n"));
    expect_bad(LIT("0\r\nX: y\n\r\n"));
    expect_bad(LIT("0\r\nX\xa0: y\r\n\r\n"));
}

Test(chunked, trailer_bound) {
    /* trailers, from after "0\r\n" through the final CRLF: at most 16384 bytes */
    char *s = malloc(20000);
    for (size_t total = 16383; total <= 16385; total++) {
        size_t n = 0;
        memcpy(s, "0\r\nX: ", 6);
        n = 6;
        while (n < 3 + total - 4) s[n++] = 'v';
        memcpy(s + n, "\r\n\r\n", 4);
        n += 4;
        cr_assert_eq(n - 3, total);
        result r;
        decode(s, n, &r);
        cr_expect(total <= 16384 ? r.rc == 0 : r.rc == -1, "trailers %zu: %zd", total, r.rc);
    }
    free(s);
}

Test(chunked, errors_are_sticky) {
    vial_chunked_decoder d = {0};
    char a[] = "zz\r\n";
    size_t len = 4;
    cr_expect_eq(vial_chunked_decode(&d, a, &len), -1);
    char b[] = "0\r\n\r\n";
    len = 5;
    cr_expect_eq(vial_chunked_decode(&d, b, &len), -1);
}

Test(chunked, large_body_many_pieces) {
    /* 64 KiB in chunks of varying sizes, fed in 1000-byte reads */
    char *s = malloc(80000), *want = malloc(65536);
    size_t n = 0, w = 0, size = 1;
    while (w < 65536) {
        if (size > 65536 - w) size = 65536 - w;
        n += (size_t)sprintf(s + n, "%zx\r\n", size);
        for (size_t i = 0; i < size; i++, w++) s[n++] = want[w] = (char)('a' + (w * 7) % 26);
        memcpy(s + n, "\r\n", 2);
        n += 2;
        size = size * 3 + 1;
    }
    memcpy(s + n, "0\r\n\r\n", 5);
    n += 5;
    size_t cuts[100];
    int ncuts = 0;
    for (size_t c = 1000; c < n && ncuts < 100; c += 1000) cuts[ncuts++] = c;
    result *r = malloc(sizeof *r);
    decode_pieces(s, n, cuts, ncuts, r);
    cr_expect_eq(r->rc, 0);
    cr_expect(r->body_len == 65536 && memcmp(r->body, want, 65536) == 0);
    free(r);
    free(s);
    free(want);
}
