/* test_http_llhttp.c - our parser and chunked decoder against llhttp's own
 * request fixtures (the .md files of tests/data/conformance/llhttp/request,
 * format in tests/data/conformance/llhttp/SOURCE.md).
 *
 * Every strict case ("type": "request", no pause hook) is turned into bytes
 * by the fixture rules and run through the parser (+ decoder for bodies) the
 * way the server does: head, then body by Content-Length or chunked, then
 * the next pipelined request while the connection stays open.
 *  - A case whose log ends in an error must be rejected by us at the same
 *    message. When the input stops before the end of the head (llhttp
 *    streams, we judge a head once it is complete), the head is completed
 *    with CRLFs and must then be rejected.
 *  - Any other case must parse to the same method, target, version, headers
 *    (values without trailing whitespace, which llhttp leaves in its spans),
 *    Content-Length, chunked flag, keep-alive and body, message by message.
 *  - HTTP/1.1 requests without Host: RFC 9112 3.2 makes them 400, and many
 *    fixtures omit Host. Such a case is run twice: as is it must be
 *    rejected with 400, and with "Host: x" inserted after the request line
 *    it must parse exactly as llhttp logged (plus that field).
 *  - The exceptions below: what llhttp accepts and RFC 9112 or our
 *    documented strictness (src/http/parser.c) rejects.
 * Every accepted case is also fed in 2 and 3 pieces at every offset, each
 * parser call on an exactly-sized copy so ASan sees any read past the end;
 * the outcome must be identical. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/parser.h"
#include "testutil.h"

/* ------------------------------------------------------------------ */
/* Exceptions: llhttp accepts and we reject with this status, or (status 0)
 * llhttp rejects and we accept. Keep it short. */

static const struct {
    const char *title;
    int status;
    const char *reason;
} exceptions[] = {
    {"No HTTP version", 400, "HTTP/0.9 (no version) is not served"},
    {"M-SEARCH request", 400, "asterisk-form is for OPTIONS only (RFC 9112 3.2.4); M-SEARCH * is SSDP, not HTTP"},
    {"PRI request HTTP2", 400, "the HTTP/2 preface is not an HTTP/1.1 request (llhttp pauses on it)"},
    {"SOURCE request with ICE", 400, "ICE/1.0 is not HTTP"},
    {"OPTIONS request with RTSP", 400, "RTSP/1.0 is not HTTP"},
    {"ANNOUNCE request with RTSP", 400, "RTSP/1.0 is not HTTP"},
    {"POST with `chunked` as last transfer-encoding", 400,
     "its target has a fragment; without one, 'deflate, chunked' is 501 (we decode no other coding, RFC 9112 6.1)"},
    {"POST with `chunked` as last transfer-encoding (multiple headers)", 400, "same, over two field lines"},
    {"Fragment in URI", 400, "a request-target has no fragment (RFC 9112 3.2)"},
    {"`host:port` and basic auth", 400, "userinfo in a target is an error (RFC 9110 4.2.4)"},
    {"HTTP protocol and ANNOUNCE method", 0,
     "a method is any token (RFC 9110 9.1); the app answers 405/501 to one it does not know"},
};

/* The exception's status (0: we accept), or -1 when the case is none. */
static int exception_status(const char *title) {
    for (size_t i = 0; i < sizeof exceptions / sizeof exceptions[0]; i++)
        if (strcmp(exceptions[i].title, title) == 0) return exceptions[i].status;
    return -1;
}

/* ------------------------------------------------------------------ */
/* Parsed fixture */

#define MAX_MSGS 8
#define MAX_FIELDS 40
#define MAX_TEXT 2048

typedef struct text {
    char s[MAX_TEXT];
    size_t n;
} text;

static void text_add(text *t, const char *s, size_t n) {
    cr_assert(t->n + n <= MAX_TEXT, "fixture text too long");
    if (n) memcpy(t->s + t->n, s, n);
    t->n += n;
}

static bool text_eq(const text *t, const char *s, size_t n) { return t->n == n && memcmp(t->s, s, n) == 0; }

typedef struct exp_msg {
    size_t begin_off;
    text method, url, version;
    text names[MAX_FIELDS], values[MAX_FIELDS];
    int nfields;
    bool in_value; /* the last span was a value: the next name starts a field */
    long version_end; /* off of "version complete", -1 if none */
    bool headers_complete, message_complete, skip_body, paused;
    int vmaj, vmin;
    unsigned flags;
    long long content_length;
    text body;
} exp_msg;

typedef struct exp_case {
    char file[64], title[256];
    char *input;
    size_t len;
    exp_msg msgs[MAX_MSGS];
    int nmsgs;
    int error_code; /* 0 none */
    int error_msg;  /* index of the message the error belongs to */
} exp_case;

/* An escaped character: the upstream harness builds a JavaScript string and
 * sends it as UTF-8, so \xff arrives as the two bytes of U+00FF (the logs'
 * offsets confirm it: "255 ASCII in header value" has an 8-byte value). */
static size_t put_char(char *out, int v) {
    if (v < 0x80) {
        out[0] = (char)v;
        return 1;
    }
    out[0] = (char)(0xc0 | (v >> 6));
    out[1] = (char)(0x80 | (v & 0x3f));
    return 2;
}

/* The fixture rules: drop one trailing newline, join backslash-newline,
 * newlines become CRLF, then \r \n \t \f \xHH \NNN escapes. */
static char *unescape_block(const char *block, size_t n, size_t *out_len) {
    if (n && block[n - 1] == '\n') n--;
    char *joined = malloc(n * 2 + 1), *out = malloc(n * 2 + 1);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (block[i] == '\\' && i + 1 < n && block[i + 1] == '\n') {
            i++;
            continue;
        }
        if (block[i] == '\n') {
            joined[j++] = '\r';
            joined[j++] = '\n';
            continue;
        }
        joined[j++] = block[i];
    }
    size_t o = 0;
    for (size_t i = 0; i < j; i++) {
        char c = joined[i];
        if (c == '\\' && i + 1 < j) {
            char e = joined[i + 1];
            if (e == 'r' || e == 'n' || e == 't' || e == 'f') {
                out[o++] = e == 'r' ? '\r' : e == 'n' ? '\n' : e == 't' ? '\t' : '\f';
                i++;
                continue;
            }
            if (e == 'x' && i + 3 < j) {
                char hex[3] = {joined[i + 2], joined[i + 3], 0};
                o += put_char(out + o, (int)strtol(hex, NULL, 16));
                i += 3;
                continue;
            }
            if (e >= '0' && e <= '7') {
                int v = 0, k = 0;
                while (k < 3 && i + 1 + k < j && joined[i + 1 + k] >= '0' && joined[i + 1 + k] <= '7')
                    v = v * 8 + (joined[i + 1 + k++] - '0');
                o += put_char(out + o, v);
                i += (size_t)k;
                continue;
            }
        }
        out[o++] = c;
    }
    free(joined);
    *out_len = o;
    return out;
}

static void parse_log_line(exp_case *c, const char *line) {
    unsigned long off = 0, len = 0;
    if (sscanf(line, "off=%lu", &off) != 1) return;
    const char *rest = strchr(line, ' ');
    if (!rest) return;
    rest++;
    exp_msg *m = c->nmsgs ? &c->msgs[c->nmsgs - 1] : NULL;
    if (strncmp(rest, "message begin", 13) == 0) {
        cr_assert(c->nmsgs < MAX_MSGS);
        m = &c->msgs[c->nmsgs++];
        memset(m, 0, sizeof *m);
        m->begin_off = off;
        m->version_end = -1;
        return;
    }
    if (strncmp(rest, "error code=", 11) == 0) {
        c->error_code = atoi(rest + 11);
        c->error_msg = c->nmsgs - 1;
        return;
    }
    if (!m) return;
    if (sscanf(rest, "len=%lu", &len) == 1) {
        const char *kind = strstr(rest, "span[");
        cr_assert(kind && off + len <= c->len, "%s: bad span line %s", c->title, line);
        kind += 5;
        const char *src = c->input + off;
        if (strncmp(kind, "method]", 7) == 0) text_add(&m->method, src, len);
        else if (strncmp(kind, "url]", 4) == 0) text_add(&m->url, src, len);
        else if (strncmp(kind, "version]", 8) == 0) text_add(&m->version, src, len);
        else if (m->headers_complete && strncmp(kind, "header_", 7) == 0) {
            /* trailer fields: our decoder checks and drops them */
        } else if (strncmp(kind, "header_field]", 13) == 0) {
            if (m->nfields == 0 || m->in_value) {
                cr_assert(m->nfields < MAX_FIELDS);
                m->nfields++;
                m->in_value = false;
            }
            text_add(&m->names[m->nfields - 1], src, len);
        } else if (strncmp(kind, "header_value]", 13) == 0) {
            cr_assert(m->nfields > 0);
            m->in_value = true;
            text_add(&m->values[m->nfields - 1], src, len);
        } else if (strncmp(kind, "body]", 5) == 0) {
            text_add(&m->body, src, len);
        }
        return;
    }
    if (strncmp(rest, "header_value complete", 21) == 0) m->in_value = true;
    else if (strncmp(rest, "version complete", 16) == 0) m->version_end = (long)off;
    else if (strncmp(rest, "headers complete", 16) == 0) {
        m->headers_complete = true;
        int method = 0;
        cr_assert(sscanf(rest, "headers complete method=%d v=%d/%d flags=%x content_length=%lld", &method, &m->vmaj,
                         &m->vmin, &m->flags, &m->content_length) == 5,
                  "%s: %s", c->title, line);
    } else if (strncmp(rest, "skip body", 9) == 0) m->skip_body = true;
    else if (strncmp(rest, "message complete", 16) == 0) m->message_complete = true;
}

/* ------------------------------------------------------------------ */
/* Running our parser the way the server does */

typedef struct got_msg {
    text method, url, path, query, host;
    int version_minor;
    text names[MAX_FIELDS], values[MAX_FIELDS];
    size_t nfields;
    long long content_length;
    bool chunked, keep_alive, complete;
    text body;
} got_msg;

enum { END_IDLE, END_HEAD_PARTIAL, END_BODY_PARTIAL, END_CLOSED, END_REJECTED, END_STOPPED };

typedef struct outcome {
    got_msg msgs[MAX_MSGS];
    int nmsgs;
    int status; /* the rejection, 0 if none */
    int end;
} outcome;

static void record_head(got_msg *g, const vial_http_request *r) {
    memset(g, 0, sizeof *g);
    text_add(&g->method, r->method.ptr, r->method.len);
    text_add(&g->url, r->target.ptr, r->target.len);
    text_add(&g->path, r->path.ptr, r->path.len);
    text_add(&g->query, r->query.ptr, r->query.len);
    text_add(&g->host, r->host.ptr, r->host.len);
    g->version_minor = r->version_minor;
    cr_assert(r->header_count <= MAX_FIELDS);
    for (size_t i = 0; i < r->header_count; i++) {
        text_add(&g->names[i], r->headers[i].name.ptr, r->headers[i].name.len);
        text_add(&g->values[i], r->headers[i].value.ptr, r->headers[i].value.len);
    }
    g->nfields = r->header_count;
    g->content_length = r->content_length;
    g->chunked = r->chunked;
    g->keep_alive = r->keep_alive;
}

/* Feeds in[0..len) in pieces ending at cuts[0..ncuts) and then len.
 * stop_after_head: message index after whose head the connection leaves
 * HTTP (llhttp pauses for Upgrade/CONNECT), -1 for none. */
static void run(const char *in, size_t len, const size_t *cuts, int ncuts, const exp_case *c, int stop_after_head,
                outcome *o) {
    memset(o, 0, sizeof *o);
    vial_http_limits lim = VIAL_HTTP_LIMITS_DEFAULT;
    vial_http_header hdrs[MAX_FIELDS];
    enum { HEAD, BODY_CL, BODY_CHUNKED } st = HEAD;
    size_t pos = 0, prev = 0, avail = ncuts ? cuts[0] : len;
    int piece = 0;
    uint64_t left = 0;
    vial_chunked_decoder dec;
    for (;;) {
        bool need_more = false;
        if (st == HEAD) {
            if (pos == avail) {
                need_more = true;
            } else {
                size_t n = avail - pos;
                char *copy = malloc(n);
                memcpy(copy, in + pos, n);
                vial_http_request req;
                memset(&req, 0, sizeof req);
                ssize_t rc = vial_http_parse_request(copy, n, prev, &lim, &req, hdrs, MAX_FIELDS);
                if (rc < 0) {
                    free(copy);
                    o->status = (int)-rc;
                    o->end = END_REJECTED;
                    return;
                }
                if (rc == 0) {
                    prev = n;
                    need_more = true;
                } else {
                    cr_assert(o->nmsgs < MAX_MSGS);
                    got_msg *g = &o->msgs[o->nmsgs++];
                    record_head(g, &req);
                    pos += (size_t)rc;
                    prev = 0;
                    bool skip = o->nmsgs <= c->nmsgs && c->msgs[o->nmsgs - 1].skip_body;
                    if (o->nmsgs - 1 == stop_after_head) {
                        free(copy);
                        o->end = END_STOPPED;
                        return;
                    }
                    if (!skip && req.chunked) {
                        memset(&dec, 0, sizeof dec);
                        st = BODY_CHUNKED;
                    } else if (!skip && req.content_length > 0) {
                        left = (uint64_t)req.content_length;
                        st = BODY_CL;
                    } else {
                        g->complete = true;
                    }
                }
                free(copy);
            }
        } else if (st == BODY_CL) {
            got_msg *g = &o->msgs[o->nmsgs - 1];
            size_t n = avail - pos;
            if (n > left) n = (size_t)left;
            text_add(&g->body, in + pos, n);
            pos += n;
            left -= n;
            if (left == 0) {
                g->complete = true;
                st = HEAD;
            } else {
                need_more = true;
            }
        } else {
            got_msg *g = &o->msgs[o->nmsgs - 1];
            if (pos == avail) {
                need_more = true;
            } else {
                size_t n = avail - pos, dlen = n;
                char *copy = malloc(n);
                memcpy(copy, in + pos, n);
                ssize_t rc = vial_chunked_decode(&dec, copy, &dlen);
                if (rc == -1) {
                    free(copy);
                    o->status = 400;
                    o->end = END_REJECTED;
                    return;
                }
                cr_assert(dlen <= n);
                text_add(&g->body, copy, dlen);
                free(copy);
                if (rc == -2) {
                    pos = avail;
                    need_more = true;
                } else {
                    cr_assert(rc >= 0 && (size_t)rc <= n - dlen);
                    pos = avail - (size_t)rc;
                    g->complete = true;
                    st = HEAD;
                }
            }
        }
        if (st == HEAD && !need_more && o->nmsgs && o->msgs[o->nmsgs - 1].complete &&
            !o->msgs[o->nmsgs - 1].keep_alive) {
            o->end = END_CLOSED; /* the server closes: what follows is never read */
            return;
        }
        if (need_more) {
            if (avail == len) {
                o->end = st != HEAD ? END_BODY_PARTIAL : (pos < len ? END_HEAD_PARTIAL : END_IDLE);
                return;
            }
            avail = ++piece < ncuts ? cuts[piece] : len;
        }
    }
}

static bool texts_eq(const text *a, const text *b) { return text_eq(a, b->s, b->n); }

static bool outcomes_equal(const outcome *a, const outcome *b) {
    if (a->nmsgs != b->nmsgs || a->status != b->status || a->end != b->end) return false;
    for (int i = 0; i < a->nmsgs; i++) {
        const got_msg *x = &a->msgs[i], *y = &b->msgs[i];
        if (!texts_eq(&x->method, &y->method) || !texts_eq(&x->url, &y->url) || !texts_eq(&x->path, &y->path) ||
            !texts_eq(&x->query, &y->query) || !texts_eq(&x->host, &y->host) || !texts_eq(&x->body, &y->body) ||
            x->version_minor != y->version_minor || x->nfields != y->nfields ||
            x->content_length != y->content_length || x->chunked != y->chunked || x->keep_alive != y->keep_alive ||
            x->complete != y->complete)
            return false;
        for (size_t f = 0; f < x->nfields; f++)
            if (!texts_eq(&x->names[f], &y->names[f]) || !texts_eq(&x->values[f], &y->values[f])) return false;
    }
    return true;
}

/* ------------------------------------------------------------------ */
/* Comparing with llhttp's log */

static size_t trim_trailing_ows(const text *t) {
    size_t n = t->n;
    while (n && (t->s[n - 1] == ' ' || t->s[n - 1] == '\t')) n--;
    return n;
}

/* Compares message k; host_added: we inserted "Host: x" first. */
static bool compare_msg(const exp_case *c, int k, const got_msg *g, bool host_added) {
    const exp_msg *e = &c->msgs[k];
    bool ok = true;
#define CHECK(cond, ...)                                      \
    do {                                                      \
        if (!(cond)) {                                        \
            cr_log_error("%s / %s: message %d: ", c->file, c->title, k); \
            cr_log_error(__VA_ARGS__);                        \
            ok = false;                                       \
        }                                                     \
    } while (0)
    CHECK(texts_eq(&g->method, &e->method), "method %.*s", (int)g->method.n, g->method.s);
    CHECK(texts_eq(&g->url, &e->url), "url %.*s vs %.*s", (int)g->url.n, g->url.s, (int)e->url.n, e->url.s);
    CHECK(e->vmaj == 1 && g->version_minor == e->vmin, "version");
    size_t first = host_added ? 1 : 0;
    CHECK(g->nfields == (size_t)e->nfields + first, "field count %zu vs %d", g->nfields, e->nfields);
    if (host_added && g->nfields) CHECK(text_eq(&g->names[0], "Host", 4) && text_eq(&g->values[0], "x", 1), "host");
    for (int f = 0; ok && f < e->nfields; f++) {
        CHECK(texts_eq(&g->names[f + first], &e->names[f]), "field name %d", f);
        CHECK(text_eq(&g->values[f + first], e->values[f].s, trim_trailing_ows(&e->values[f])), "field value %d: %.*s",
              f, (int)g->values[f + first].n, g->values[f + first].s);
    }
    long long want_cl = (e->flags & 0x20) ? e->content_length : -1;
    CHECK(g->content_length == want_cl, "content-length %lld vs %lld", g->content_length, want_cl);
    CHECK(g->chunked == ((e->flags & 0x8) != 0), "chunked");
    bool want_ka = e->vmin == 1 ? !(e->flags & 0x2) : ((e->flags & 0x1) && !(e->flags & 0x2));
    CHECK(g->keep_alive == want_ka, "keep-alive %d", g->keep_alive);
    if (!e->paused) {
        CHECK(g->complete == e->message_complete, "complete %d vs %d", g->complete, e->message_complete);
        CHECK(texts_eq(&g->body, &e->body), "body %.*s vs %.*s", (int)g->body.n, g->body.s, (int)e->body.n,
              e->body.s);
    }
#undef CHECK
    return ok;
}

/* Pause codes are not rejections: 5 data after Connection: close (the
 * server stops reading), 21 paused, 22 Upgrade/CONNECT, 23 PRI. */
static bool is_rejection(int code) { return code != 0 && code != 5 && code != 21 && code != 22 && code != 23; }

static bool region_has_host(const exp_case *c, int k) {
    size_t from = c->msgs[k].begin_off, to = k + 1 < c->nmsgs ? c->msgs[k + 1].begin_off : c->len;
    for (size_t i = from; i + 6 <= to; i++)
        if (c->input[i] == '\n' && strncasecmp(c->input + i + 1, "host:", 5) == 0) return true;
    return false;
}

static struct {
    int cases, accepted, rejected, exceptions, host_added, completed, splits;
} stats;

static void split_checks(const char *in, size_t len, const exp_case *c, int stop, const outcome *whole, bool three) {
    outcome *o = malloc(sizeof *o);
    for (size_t i = 1; i < len; i++) {
        size_t cuts[2] = {i, 0};
        run(in, len, cuts, 1, c, stop, o);
        stats.splits++;
        cr_expect(outcomes_equal(o, whole), "%s / %s: split at %zu differs (status %d end %d vs %d %d)", c->file,
                  c->title, i, o->status, o->end, whole->status, whole->end);
        if (!three) continue;
        for (size_t j = i + 1; j < len; j++) {
            cuts[1] = j;
            run(in, len, cuts, 2, c, stop, o);
            stats.splits++;
            cr_expect(outcomes_equal(o, whole), "%s / %s: split at %zu,%zu differs", c->file, c->title, i, j);
        }
    }
    free(o);
}

static void check_case(exp_case *c) {
    stats.cases++;
    int stop = -1;
    if (c->error_code == 22 || c->error_code == 23) {
        stop = c->error_msg;
        c->msgs[stop].paused = true;
    }

    /* Insert "Host: x" into HTTP/1.1 messages that lack one. */
    bool added[MAX_MSGS] = {0};
    int first_missing = -1;
    size_t ins_at[MAX_MSGS];
    int nins = 0;
    for (int k = 0; k < c->nmsgs; k++) {
        exp_msg *m = &c->msgs[k];
        if (text_eq(&m->version, "1.1", 3) && m->version_end >= 0 && (size_t)m->version_end + 2 <= c->len &&
            memcmp(c->input + m->version_end, "\r\n", 2) == 0 && !region_has_host(c, k)) {
            added[k] = true;
            ins_at[nins++] = (size_t)m->version_end + 2;
            if (first_missing < 0) first_missing = k;
        }
    }
    const char host_line[] = "Host: x\r\n";
    size_t hl = sizeof host_line - 1, len = c->len + (size_t)nins * hl;
    char *in = malloc(len + 8);
    size_t o_ = 0, from = 0;
    for (int i = 0; i < nins; i++) {
        memcpy(in + o_, c->input + from, ins_at[i] - from);
        o_ += ins_at[i] - from;
        memcpy(in + o_, host_line, hl);
        o_ += hl;
        from = ins_at[i];
    }
    memcpy(in + o_, c->input + from, c->len - from);
    if (nins) stats.host_added++;

    outcome *o = malloc(sizeof *o);
    int exc = exception_status(c->title);
    if (exc == 0) {
        /* llhttp rejects, we accept: the head must parse to what llhttp saw. */
        stats.exceptions++;
        run(in, len, NULL, 0, c, stop, o);
        cr_expect(o->status == 0 && o->nmsgs == 1 && texts_eq(&o->msgs[0].method, &c->msgs[0].method) &&
                      texts_eq(&o->msgs[0].url, &c->msgs[0].url),
                  "%s / %s: exception: we accept this", c->file, c->title);
    } else if (is_rejection(c->error_code) && exc < 0) {
        stats.rejected++;
        /* The same bytes with the head completed by CRLFs, for when llhttp
         * rejected bytes of a head that is not complete yet (we judge most
         * of a head once it is complete, and always on later reads). */
        const char *tail = len >= 3 && memcmp(in + len - 3, "\r\n\r", 3) == 0 ? "\n"
                           : len >= 2 && memcmp(in + len - 2, "\r\n", 2) == 0 ? "\r\n"
                           : len >= 1 && in[len - 1] == '\r'                 ? "\n\r\n"
                                                                             : "\r\n\r\n";
        size_t completed_len = len + strlen(tail);
        memcpy(in + len, tail, strlen(tail));
        run(in, len, NULL, 0, c, stop, o);
        if (o->end == END_HEAD_PARTIAL) {
            stats.completed++;
            run(in, completed_len, NULL, 0, c, stop, o);
        }
        cr_expect(o->end == END_REJECTED, "%s / %s: llhttp rejects (code %d), we end in state %d", c->file, c->title,
                  c->error_code, o->end);
        int m = c->error_msg;
        cr_expect(o->nmsgs == m || (o->nmsgs == m + 1 && c->msgs[m].headers_complete),
                  "%s / %s: rejected at message %d, llhttp at %d", c->file, c->title, o->nmsgs, m);
        /* Split feeding must reject as well, at the same message. */
        outcome *s = malloc(sizeof *s);
        for (size_t i = 1; i < len; i++) {
            size_t cut = i;
            run(in, len, &cut, 1, c, stop, s);
            if (s->end == END_HEAD_PARTIAL) run(in, completed_len, &cut, 1, c, stop, s);
            stats.splits++;
            cr_expect(s->end == END_REJECTED && s->nmsgs == o->nmsgs, "%s / %s: split at %zu not rejected", c->file,
                      c->title, i);
        }
        free(s);
    } else if (exc > 0) {
        stats.exceptions++;
        run(in, len, NULL, 0, c, stop, o);
        cr_expect(o->end == END_REJECTED && o->status == exc && o->nmsgs == 0,
                  "%s / %s: exception expects %d, got end %d status %d", c->file, c->title, exc, o->end, o->status);
    } else {
        stats.accepted++;
        if (first_missing >= 0) {
            outcome *orig = malloc(sizeof *orig);
            run(c->input, c->len, NULL, 0, c, stop, orig);
            cr_expect(orig->end == END_REJECTED && orig->status == 400 && orig->nmsgs == first_missing,
                      "%s / %s: HTTP/1.1 without Host must be 400 (got end %d status %d)", c->file, c->title,
                      orig->end, orig->status);
            free(orig);
        }
        run(in, len, NULL, 0, c, stop, o);
        int heads = 0;
        for (int k = 0; k < c->nmsgs; k++) heads += c->msgs[k].headers_complete;
        cr_expect(o->status == 0, "%s / %s: rejected with %d at message %d", c->file, c->title, o->status, o->nmsgs);
        cr_expect(o->nmsgs == heads, "%s / %s: %d heads, llhttp %d", c->file, c->title, o->nmsgs, heads);
        for (int k = 0; k < o->nmsgs && k < c->nmsgs; k++) cr_expect(compare_msg(c, k, &o->msgs[k], added[k]));
        /* What llhttp left unfinished we must leave unfinished too. */
        if (c->nmsgs > heads && o->status == 0)
            cr_expect(o->end == END_HEAD_PARTIAL, "%s / %s: expected a partial head at the end", c->file, c->title);
        split_checks(in, len, c, stop, o, true);
    }
    free(o);
    free(in);
}

static void run_file(const char *dir, const char *name) {
    size_t need = strlen(dir) + strlen(name) + 2;
    char *path = malloc(need);
    snprintf(path, need, "%s/%s", dir, name);
    size_t size;
    char *data = test_read_file(path, &size);
    free(path);
    cr_assert(data, "cannot read %s/%s", dir, name);
    char title[256] = "";
    char *meta = NULL;
    char *line = data;
    exp_case *c = calloc(1, sizeof *c);
    while (line && *line) {
        char *eol = strchr(line, '\n');
        size_t ll = eol ? (size_t)(eol - line) : strlen(line);
        char *next = eol ? eol + 1 : NULL;
        if (line[0] == '#') {
            char *t = line;
            while (*t == '#') t++;
            while (*t == ' ') t++;
            snprintf(title, sizeof title, "%.*s", (int)(ll - (size_t)(t - line)), t);
            meta = NULL;
        } else if (strncmp(line, "<!-- meta=", 10) == 0) {
            meta = line + 10;
        } else if (strncmp(line, "```http", 7) == 0 && meta) {
            /* meta: strict request, no pause hook */
            const char *meta_end = strstr(meta, "-->");
            cr_assert(meta_end, "%s: bad meta", title);
            vial_arena *arena = vial_arena_new(4096);
            vial_json_error jerr;
            vial_value *mv = vial_json_parse(arena, meta, (size_t)(meta_end - meta), 0, &jerr);
            cr_assert(mv, "%s: meta: %s", title, jerr.message);
            const char *type = vial_get_str(mv, "type");
            bool strict = type && strcmp(type, "request") == 0 && !vial_object_get(mv, "pause");
            bool skip_body = vial_get_bool(mv, "skipBody", false);
            vial_arena_free(arena);
            char *block = next, *end = strstr(block, "\n```");
            cr_assert(end, "%s: unterminated block", title);
            char *log = strstr(end + 4, "```log\n");
            cr_assert(log, "%s: no log", title);
            log += 7;
            char *log_end = strstr(log, "```");
            if (strict) {
                memset(c, 0, sizeof *c);
                snprintf(c->file, sizeof c->file, "%s", name);
                snprintf(c->title, sizeof c->title, "%s", title);
                c->input = unescape_block(block, (size_t)(end - block) + 1, &c->len);
                for (char *l = log; l < log_end;) {
                    char *le = strchr(l, '\n');
                    *le = '\0';
                    parse_log_line(c, l);
                    *le = '\n';
                    l = le + 1;
                }
                if (skip_body)
                    for (int k = 0; k < c->nmsgs; k++) c->msgs[k].skip_body = true;
                check_case(c);
                free(c->input);
            }
            meta = NULL;
            next = log_end + 3;
            next = strchr(next, '\n');
            if (next) next++;
        }
        line = next;
    }
    free(c);
    free(data);
}

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

Test(llhttp, request_fixtures, .timeout = 600) {
    const char *dir = test_data_path("conformance/llhttp/request");
    char dirbuf[4096];
    snprintf(dirbuf, sizeof dirbuf, "%s", dir);
    DIR *d = opendir(dirbuf);
    cr_assert(d, "cannot open %s", dirbuf);
    char *names[64];
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < 64)
        if (strstr(de->d_name, ".md")) names[n++] = strdup(de->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_names);
    for (int i = 0; i < n; i++) {
        run_file(dirbuf, names[i]);
        free(names[i]);
    }
    cr_log_info("llhttp: %d strict cases: %d accepted and compared, %d rejected (%d only once the head is complete), "
                "%d exceptions, %d with Host added, %d split runs",
                stats.cases, stats.accepted, stats.rejected, stats.completed, stats.exceptions, stats.host_added,
                stats.splits);
    /* The fixtures are committed: every strict case must have been found. */
    cr_expect_eq(stats.cases, 121, "strict cases found: %d", stats.cases);
    cr_expect_eq(stats.exceptions, (int)(sizeof exceptions / sizeof exceptions[0]), "every exception is used");
}
