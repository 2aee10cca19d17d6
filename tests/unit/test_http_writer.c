/* test_http_writer.c - response heads byte for byte, header validation and
 * reason phrases (checked against Python's http.HTTPStatus, the registry as
 * Python 3.11 knows it, with RFC 9110's renamed phrases listed). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http/parser.h"

/* Writes the head, checks its Date (a valid IMF-fixdate of now), puts
 * "<DATE>" in its place and returns the text (static). */
static const char *head(const vial_http_response *res, int minor, bool keep_alive, int64_t body_length,
                        const char *server) {
    static char text[4096];
    vial_buf b;
    vial_buf_init(&b, NULL, 0);
    time_t before = time(NULL);
    cr_assert_eq(vial_http_write_head(&b, res, minor, keep_alive, body_length, server), 0);
    time_t after = time(NULL);
    cr_assert_eq(strlen(b.data), b.len);
    char *date = strstr(b.data, "\r\nDate: ");
    if (date && !(res->header_count && strstr(b.data, "Date: app"))) {
        date += 8;
        time_t t = vial_http_date_parse(date, 29);
        cr_assert(t >= before && t <= after, "Date %.29s", date);
        cr_assert(memcmp(date + 29, "\r\n", 2) == 0);
        memmove(date + 6, date + 29, strlen(date + 29) + 1);
        memcpy(date, "<DATE>", 6);
    }
    snprintf(text, sizeof text, "%s", b.data);
    vial_buf_free(&b);
    return text;
}

static vial_http_response response(int status) {
    vial_http_response r;
    memset(&r, 0, sizeof r);
    r.status = status;
    return r;
}

#define EXPECT_HEAD(got, want) cr_expect_str_eq(got, want)

Test(writer, ok_with_length) {
    vial_http_header h[] = {{VIAL_STR("Content-Type"), VIAL_STR("text/plain; charset=utf-8")},
                            {VIAL_STR("X-Empty"), VIAL_STR("")}};
    vial_http_response r = response(200);
    r.headers = h;
    r.header_count = r.header_cap = 2;
    EXPECT_HEAD(head(&r, 1, true, 13, "vial"), "HTTP/1.1 200 OK\r\n"
                                                "Content-Type: text/plain; charset=utf-8\r\n"
                                                "X-Empty: \r\n"
                                                "Date: <DATE>\r\n"
                                                "Server: vial\r\n"
                                                "Content-Length: 13\r\n"
                                                "\r\n");
    EXPECT_HEAD(head(&r, 1, true, 0, NULL), "HTTP/1.1 200 OK\r\n"
                                            "Content-Type: text/plain; charset=utf-8\r\n"
                                            "X-Empty: \r\n"
                                            "Date: <DATE>\r\n"
                                            "Content-Length: 0\r\n"
                                            "\r\n");
    EXPECT_HEAD(head(&r, 1, true, INT64_MAX, ""), "HTTP/1.1 200 OK\r\n"
                                                  "Content-Type: text/plain; charset=utf-8\r\n"
                                                  "X-Empty: \r\n"
                                                  "Date: <DATE>\r\n"
                                                  "Content-Length: 9223372036854775807\r\n"
                                                  "\r\n");
}

Test(writer, reasons) {
    vial_http_response r = response(404);
    EXPECT_HEAD(head(&r, 1, true, 9, NULL), "HTTP/1.1 404 Not Found\r\nDate: <DATE>\r\nContent-Length: 9\r\n\r\n");
    r = response(666);
    r.reason = "Devilish Request";
    EXPECT_HEAD(head(&r, 1, true, 0, NULL),
                "HTTP/1.1 666 Devilish Request\r\nDate: <DATE>\r\nContent-Length: 0\r\n\r\n");
    r.reason = NULL;
    EXPECT_HEAD(head(&r, 1, true, 0, NULL), "HTTP/1.1 666 Unknown\r\nDate: <DATE>\r\nContent-Length: 0\r\n\r\n");
    r = response(299);
    EXPECT_HEAD(head(&r, 1, true, 0, NULL), "HTTP/1.1 299 Unknown\r\nDate: <DATE>\r\nContent-Length: 0\r\n\r\n");
    r = response(200);
    r.reason = "Fine\tThanks \xc3\xa9";
    EXPECT_HEAD(head(&r, 1, true, 0, NULL),
                "HTTP/1.1 200 Fine\tThanks \xc3\xa9\r\nDate: <DATE>\r\nContent-Length: 0\r\n\r\n");
    r.reason = "";
    EXPECT_HEAD(head(&r, 1, true, 0, NULL), "HTTP/1.1 200 \r\nDate: <DATE>\r\nContent-Length: 0\r\n\r\n");
}

Test(writer, streamed_bodies) {
    vial_http_response r = response(200);
    r.body_kind = VIAL_BODY_STREAM;
    EXPECT_HEAD(head(&r, 1, true, -1, "vial"),
                "HTTP/1.1 200 OK\r\nDate: <DATE>\r\nServer: vial\r\nTransfer-Encoding: chunked\r\n\r\n");
    cr_expect(vial_http_response_keep_alive(&r, 1, true, -1));
    /* HTTP/1.0: no chunked coding; the close ends the body */
    EXPECT_HEAD(head(&r, 0, true, -1, "vial"),
                "HTTP/1.1 200 OK\r\nDate: <DATE>\r\nServer: vial\r\nConnection: close\r\n\r\n");
    cr_expect(!vial_http_response_keep_alive(&r, 0, true, -1));
    EXPECT_HEAD(head(&r, 0, false, -1, "vial"),
                "HTTP/1.1 200 OK\r\nDate: <DATE>\r\nServer: vial\r\nConnection: close\r\n\r\n");
}

Test(writer, connection_header) {
    vial_http_response r = response(200);
    EXPECT_HEAD(head(&r, 0, true, 2, NULL),
                "HTTP/1.1 200 OK\r\nDate: <DATE>\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n");
    cr_expect(vial_http_response_keep_alive(&r, 0, true, 2));
    EXPECT_HEAD(head(&r, 0, false, 2, NULL),
                "HTTP/1.1 200 OK\r\nDate: <DATE>\r\nContent-Length: 2\r\nConnection: close\r\n\r\n");
    EXPECT_HEAD(head(&r, 1, false, 2, NULL),
                "HTTP/1.1 200 OK\r\nDate: <DATE>\r\nContent-Length: 2\r\nConnection: close\r\n\r\n");
    cr_expect(!vial_http_response_keep_alive(&r, 1, false, 2));
    r.close = true;
    EXPECT_HEAD(head(&r, 1, true, 2, NULL),
                "HTTP/1.1 200 OK\r\nDate: <DATE>\r\nContent-Length: 2\r\nConnection: close\r\n\r\n");
    cr_expect(!vial_http_response_keep_alive(&r, 1, true, 2));
    EXPECT_HEAD(head(&r, 0, true, 2, NULL),
                "HTTP/1.1 200 OK\r\nDate: <DATE>\r\nContent-Length: 2\r\nConnection: close\r\n\r\n");
}

Test(writer, statuses_without_body) {
    vial_http_response r = response(204);
    EXPECT_HEAD(head(&r, 1, true, 0, NULL), "HTTP/1.1 204 No Content\r\nDate: <DATE>\r\n\r\n");
    EXPECT_HEAD(head(&r, 1, true, -1, NULL), "HTTP/1.1 204 No Content\r\nDate: <DATE>\r\n\r\n");
    cr_expect(vial_http_response_keep_alive(&r, 0, true, -1), "no body: nothing to delimit on 1.0");
    r = response(304);
    vial_http_header etag[] = {{VIAL_STR("ETag"), VIAL_STR("\"x\"")}};
    r.headers = etag;
    r.header_count = 1;
    EXPECT_HEAD(head(&r, 1, true, 100, NULL), "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\nDate: <DATE>\r\n\r\n");
    EXPECT_HEAD(head(&r, 1, false, 100, NULL),
                "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\nDate: <DATE>\r\nConnection: close\r\n\r\n");
    /* 1xx: the status line and the app's own fields only */
    r = response(100);
    EXPECT_HEAD(head(&r, 1, true, -1, "vial"), "HTTP/1.1 100 Continue\r\n\r\n");
    vial_http_header up[] = {{VIAL_STR("Connection"), VIAL_STR("Upgrade")}, {VIAL_STR("Upgrade"), VIAL_STR("websocket")}};
    r = response(101);
    r.headers = up;
    r.header_count = 2;
    EXPECT_HEAD(head(&r, 1, true, -1, "vial"),
                "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
    r = response(103);
    EXPECT_HEAD(head(&r, 1, true, 5, "vial"), "HTTP/1.1 103 Early Hints\r\n\r\n");
}

Test(writer, head_requests) {
    vial_http_response r = response(200);
    r.head = true;
    EXPECT_HEAD(head(&r, 1, true, 1234, NULL), "HTTP/1.1 200 OK\r\nDate: <DATE>\r\nContent-Length: 1234\r\n\r\n");
    /* a streamed GET body is chunked; HEAD says so, sends no body, and 1.0 may keep the connection */
    EXPECT_HEAD(head(&r, 1, true, -1, NULL), "HTTP/1.1 200 OK\r\nDate: <DATE>\r\nTransfer-Encoding: chunked\r\n\r\n");
    EXPECT_HEAD(head(&r, 0, true, -1, NULL), "HTTP/1.1 200 OK\r\nDate: <DATE>\r\nConnection: keep-alive\r\n\r\n");
}

Test(writer, app_fields_and_ours) {
    vial_http_header h[] = {
        {VIAL_STR("content-length"), VIAL_STR("999")}, {VIAL_STR("Transfer-Encoding"), VIAL_STR("gzip")},
        {VIAL_STR("CONNECTION"), VIAL_STR("keep-alive")}, {VIAL_STR("Date"), VIAL_STR("app date")},
        {VIAL_STR("server"), VIAL_STR("app/1.0")},      {VIAL_STR("Set-Cookie"), VIAL_STR("a=1")},
        {VIAL_STR("Set-Cookie"), VIAL_STR("b=2")},
    };
    vial_http_response r = response(200);
    r.headers = h;
    r.header_count = 7;
    EXPECT_HEAD(head(&r, 1, false, 3, "vial"), "HTTP/1.1 200 OK\r\n"
                                               "Date: app date\r\n"
                                               "server: app/1.0\r\n"
                                               "Set-Cookie: a=1\r\n"
                                               "Set-Cookie: b=2\r\n"
                                               "Content-Length: 3\r\n"
                                               "Connection: close\r\n"
                                               "\r\n");
}

Test(writer, rejects_what_could_split_a_response) {
    vial_buf b;
    vial_buf_init(&b, NULL, 0);
    vial_buf_append(&b, "keep", 4);
    vial_http_response r = response(200);
    static const struct {
        const char *name, *value;
        size_t value_len;
    } bad[] = {{"X", "a\r\nSet-Cookie: evil", 19}, {"X", "a\nb", 3}, {"X", "a\rb", 3}, {"X", "a\0b", 3},
               {"X", "\x7f", 1},                   {"X", "\x01", 1},  {"X Y", "v", 1},  {"X:", "v", 1},
               {"", "v", 1},                       {"X\r\n", "v", 1}, {"\xc3\xa9", "v", 1}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        vial_http_header h = {{bad[i].name, strlen(bad[i].name)}, {bad[i].value, bad[i].value_len}};
        r.headers = &h;
        r.header_count = 1;
        cr_expect_eq(vial_http_write_head(&b, &r, 1, true, 0, NULL), -1, "case %zu", i);
        cr_expect(b.len == 4 && memcmp(b.data, "keep", 4) == 0);
    }
    r.header_count = 0;
    r.reason = "OK\r\nX: y";
    cr_expect_eq(vial_http_write_head(&b, &r, 1, true, 0, NULL), -1);
    r.reason = NULL;
    for (int status = -1; status < 100; status += 50) {
        r.status = status;
        cr_expect_eq(vial_http_write_head(&b, &r, 1, true, 0, NULL), -1);
    }
    r.status = 1000;
    cr_expect_eq(vial_http_write_head(&b, &r, 1, true, 0, NULL), -1);
    r.status = 999;
    cr_expect_eq(vial_http_write_head(&b, &r, 1, true, 0, NULL), 0);
    cr_expect(strncmp(b.data, "keepHTTP/1.1 999 Unknown\r\n", 26) == 0, "appends after what was there");
    vial_buf_free(&b);
}

Test(writer, buffer_maximum) {
    vial_http_response r = response(200);
    vial_buf b;
    vial_buf_init(&b, NULL, 40);
    cr_expect_eq(vial_http_write_head(&b, &r, 1, true, 0, "vial"), -1);
    cr_expect_eq(b.len, 0);
    vial_buf_free(&b);
    vial_buf_init(&b, NULL, 4096);
    cr_expect_eq(vial_http_write_head(&b, &r, 1, true, 0, "vial"), 0);
    vial_buf_free(&b);
}

Test(writer, header_checks) {
    cr_expect(vial_http_header_name_ok("X-Y", 3));
    cr_expect(vial_http_header_name_ok("!#$%&'*+-.^_`|~09AZaz", 21));
    cr_expect(!vial_http_header_name_ok("", 0));
    cr_expect(!vial_http_header_name_ok("a b", 3));
    cr_expect(!vial_http_header_name_ok("a:", 2));
    cr_expect(!vial_http_header_name_ok("a\0", 2));
    cr_expect(!vial_http_header_name_ok("\x80", 1));
    cr_expect(!vial_http_header_name_ok("(a)", 3));
    cr_expect(vial_http_header_value_ok("", 0));
    cr_expect(vial_http_header_value_ok("a\tb c", 5));
    cr_expect(vial_http_header_value_ok("\x80\xff", 2));
    /* every control but HTAB, at every position of a long value */
    char v[64];
    for (int c = 0; c < 0x20; c++) {
        for (int pos = 0; pos < 40; pos++) {
            memset(v, 'v', 40);
            v[pos] = (char)c;
            cr_expect_eq(vial_http_header_value_ok(v, 40), c == '\t', "byte %d at %d", c, pos);
        }
    }
    memset(v, 'v', 40);
    v[33] = 0x7f;
    cr_expect(!vial_http_header_value_ok(v, 40));
    cr_expect(vial_http_header_value_ok(v, 33));
}

Test(status, reasons_against_python) {
    /* Python 3.11's http.HTTPStatus; RFC 9110 renamed these (we send the RFC's),
     * and 418 is written as Werkzeug writes it. */
    static const struct {
        int code;
        const char *ours;
    } renamed[] = {{413, "Content Too Large"},
                   {414, "URI Too Long"},
                   {416, "Range Not Satisfiable"},
                   {418, "I'm a teapot"},
                   {422, "Unprocessable Content"}};
    FILE *py = popen("/usr/bin/python3 -c 'import http\nfor s in http.HTTPStatus: print(s.value, s.phrase)'", "r");
    cr_assert(py, "python3 oracle");
    char line[256];
    int seen = 0;
    while (fgets(line, sizeof line, py)) {
        int code = atoi(line);
        char *phrase = strchr(line, ' ') + 1;
        phrase[strcspn(phrase, "\n")] = '\0';
        const char *want = phrase;
        for (size_t i = 0; i < sizeof renamed / sizeof renamed[0]; i++)
            if (renamed[i].code == code) want = renamed[i].ours;
        const char *got = vial_http_reason(code);
        cr_expect(got && strcmp(got, want) == 0, "%d: %s, want %s", code, got ? got : "(null)", want);
        seen++;
    }
    cr_assert_eq(pclose(py), 0, "python3 oracle failed");
    cr_expect_geq(seen, 60);
    /* registered codes Python 3.11 lacks, none for unregistered ones */
    cr_expect_str_eq(vial_http_reason(103), "Early Hints");
    int unregistered[] = {0, 99, 104, 199, 209, 306, 309, 419, 420, 427, 430, 499, 509, 512, 600, 666, 999, -200};
    for (size_t i = 0; i < sizeof unregistered / sizeof unregistered[0]; i++)
        cr_expect_null(vial_http_reason(unregistered[i]), "%d", unregistered[i]);
}

Test(status, has_body) {
    cr_expect(!vial_http_status_has_body(100));
    cr_expect(!vial_http_status_has_body(101));
    cr_expect(!vial_http_status_has_body(199));
    cr_expect(vial_http_status_has_body(200));
    cr_expect(!vial_http_status_has_body(204));
    cr_expect(vial_http_status_has_body(205));
    cr_expect(vial_http_status_has_body(301));
    cr_expect(!vial_http_status_has_body(304));
    cr_expect(vial_http_status_has_body(404));
    cr_expect(vial_http_status_has_body(666));
}
