/* http_parse.c - the cost of parsing one typical browser request head.
 *
 *   http_parse [iterations]          prints ns per parse (wall clock, noisy)
 *   valgrind --tool=callgrind --callgrind-out-file=cg.out bench/http_parse 100000
 *   callgrind_annotate --inclusive=yes cg.out | grep vial_http_parse_request
 *     inclusive Ir / iterations = user-space instructions per parse
 *
 * The request is what Chrome sends for a stylesheet: ~400 bytes, 8 header
 * fields, keep-alive; it is parsed in one call (prev_len 0), as when the
 * whole head arrives in one read. A second loop writes the response head
 * (vial_http_write_head), readable in the same profile. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http/parser.h"

static const char request[] =
    "GET /static/css/site.css?v=3 HTTP/1.1\r\n"
    "Host: www.example.com\r\n"
    "Connection: keep-alive\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
    "Safari/537.36\r\n"
    "Accept: text/css,*/*;q=0.1\r\n"
    "Sec-Fetch-Site: same-origin\r\n"
    "Referer: https://www.example.com/index.html\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Accept-Language: en-US,en;q=0.9\r\n"
    "\r\n";

int main(int argc, char **argv) {
    long iterations = argc > 1 ? atol(argv[1]) : 1000000;
    vial_http_limits lim = VIAL_HTTP_LIMITS_DEFAULT;
    vial_http_request req;
    vial_http_header headers[100];
    size_t len = sizeof request - 1;
    /* a copy the compiler cannot see through */
    char *buf = malloc(len);
    memcpy(buf, request, len);
    volatile size_t sink = 0;

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < iterations; i++) {
        ssize_t rc = vial_http_parse_request(buf, len, 0, &lim, &req, headers, 100);
        if (rc != (ssize_t)len) {
            fprintf(stderr, "parse failed: %zd\n", rc);
            return 1;
        }
        sink += req.header_count;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / (double)iterations;

    /* The response head for it: status line, Content-Type, Date, Server, Content-Length. */
    vial_http_header h[] = {{VIAL_STR("Content-Type"), VIAL_STR("text/css; charset=utf-8")}};
    vial_http_response res = {.status = 200, .headers = h, .header_count = 1, .header_cap = 1};
    vial_buf out;
    vial_buf_init(&out, NULL, 4096);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < iterations; i++) {
        vial_buf_reset(&out);
        if (vial_http_write_head(&out, &res, 1, true, 1234, "vial") != 0) return 1;
        sink += out.len;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double write_ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / (double)iterations;
    size_t head_len = out.len;
    vial_buf_free(&out);

    printf("request: %zu bytes, %zu header fields\n", len, req.header_count);
    printf("parse: %.1f ns per request over %ld iterations (wall clock)\n", ns, iterations);
    printf("write_head: %.1f ns per %zu-byte response head (wall clock)\n", write_ns, head_len);
    return sink == 0;
}
