/* engine_server - the engine alone, for the integration tests and bench/run.
 *
 * A handler written directly on vial_exchange (the app layer is not used):
 *   /plaintext      "Hello, World!" text/plain (TechEmpower)
 *   /json           {"message":"Hello, World!"} through the JSON writer
 *   /echo           the request body back (read in pieces through the body reader)
 *   /noread         answers without reading the body
 *   /slow?ms=N      vial_sleep_ms(N) on the coroutine, then "slept N"
 *   /timerfd?ms=N   vial_wait_fd on a timerfd (the wait API other layers use)
 *   /stream         a few chunks, streamed (chunked on HTTP/1.1)
 *   /big?n=N        N bytes of a pattern (large bodies go out with writev)
 *   /file           this program's own binary, with sendfile
 *   /info           what the parser saw, as JSON
 *   /pid            the worker's pid
 *   /crash          abort()
 *   /custom         status 666 with a custom reason
 *   /badheader      a response header with a newline (the server must answer 500)
 * Options: --host H --port P (0: any; see the "Running on" line) --workers N
 * --debug --max-body B --header-timeout MS --body-timeout MS
 * --keepalive-timeout MS --write-timeout MS --graceful-timeout MS
 * --max-connections N --quiet --single (no master process). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "server/server.h"
#include "vial.h"

static bool path_is(const vial_http_request *rq, const char *p) {
    size_t n = strlen(p);
    return rq->path.len == n && memcmp(rq->path.ptr, p, n) == 0;
}

/* The integer value of name=... in the query, or fallback. */
static long query_long(const vial_http_request *rq, const char *name, long fallback) {
    size_t nl = strlen(name);
    const char *q = rq->query.ptr, *end = q + rq->query.len;
    while (q && q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        const char *stop = amp ? amp : end;
        if ((size_t)(stop - q) > nl && memcmp(q, name, nl) == 0 && q[nl] == '=') {
            char digits[24];
            size_t dl = (size_t)(stop - q) - nl - 1;
            if (dl >= sizeof digits) return fallback;
            memcpy(digits, q + nl + 1, dl);
            digits[dl] = '\0';
            char *e;
            long v = strtol(digits, &e, 10);
            return *e ? fallback : v;
        }
        q = amp ? amp + 1 : NULL;
    }
    return fallback;
}

static void add_header(vial_exchange *ex, const char *name, const char *value) {
    vial_http_response *res = &ex->res;
    if (res->header_count == res->header_cap) {
        size_t cap = res->header_cap ? res->header_cap * 2 : 4;
        vial_http_header *h = vial_arena_grow(ex->arena, res->headers, res->header_cap * sizeof *h, cap * sizeof *h);
        if (!h) return;
        res->headers = h;
        res->header_cap = cap;
    }
    res->headers[res->header_count++] = (vial_http_header){{name, strlen(name)}, {value, strlen(value)}};
}

static void send_text(vial_exchange *ex, int status, const char *type, const char *body, size_t len) {
    ex->res.status = status;
    add_header(ex, "Content-Type", type);
    ex->res.body_kind = VIAL_BODY_BYTES;
    ex->res.body = (vial_str){body, len};
}

static void send_str(vial_exchange *ex, int status, const char *body) {
    send_text(ex, status, "text/plain", body, strlen(body));
}

typedef struct stream_state {
    int next;
    int delay_ms;
} stream_state;

static int stream_chunks(void *ctx, vial_str *chunk) {
    static const char *parts[] = {"first chunk\n", "second chunk\n", "third and last chunk\n"};
    stream_state *st = ctx;
    if (st->next >= 3) return 0;
    if (st->next > 0 && st->delay_ms > 0) vial_sleep_ms(st->delay_ms);
    *chunk = (vial_str){parts[st->next], strlen(parts[st->next])};
    st->next++;
    return 1;
}

static void close_fd(void *arg) { close((int)(intptr_t)arg); }

static void echo(vial_exchange *ex) {
    size_t cap = 4096, len = 0;
    char *buf = vial_arena_alloc(ex->arena, cap);
    for (;;) {
        if (len == cap) {
            char *bigger = vial_arena_grow(ex->arena, buf, cap, cap * 2);
            if (!bigger) {
                send_str(ex, 500, "out of memory\n");
                return;
            }
            buf = bigger;
            cap *= 2;
        }
        /* Odd-sized reads exercise the reader's bookkeeping. */
        size_t want = cap - len < 1000 ? cap - len : 1000;
        ssize_t n = ex->body.read(ex->body.ctx, buf + len, want);
        if (n < 0) {
            int status = ex->body.error_status ? ex->body.error_status : 400;
            ex->res.close = true;
            send_str(ex, status, status == 413 ? "body too large\n" : status == 408 ? "body too slow\n" : "bad body\n");
            return;
        }
        if (n == 0) break;
        len += (size_t)n;
    }
    send_text(ex, 200, "application/octet-stream", buf, len);
}

static void info(vial_exchange *ex) {
    vial_http_request *rq = &ex->req;
    vial_value *o = vial_new_object(ex->arena);
    vial_object_set(o, "method", vial_new_strn(ex->arena, rq->method.ptr, rq->method.len));
    vial_object_set(o, "target", vial_new_strn(ex->arena, rq->target.ptr, rq->target.len));
    vial_object_set(o, "path", vial_new_strn(ex->arena, rq->path.ptr, rq->path.len));
    vial_object_set(o, "query", vial_new_strn(ex->arena, rq->query.ptr, rq->query.len));
    vial_object_set(o, "version_minor", vial_new_int(ex->arena, rq->version_minor));
    vial_object_set(o, "host", vial_new_strn(ex->arena, rq->host.ptr, rq->host.len));
    vial_object_set(o, "content_length", vial_new_int(ex->arena, rq->content_length));
    vial_object_set(o, "chunked", vial_new_bool(ex->arena, rq->chunked));
    vial_object_set(o, "keep_alive", vial_new_bool(ex->arena, rq->keep_alive));
    vial_object_set(o, "header_count", vial_new_int(ex->arena, (int64_t)rq->header_count));
    size_t len;
    char *json = vial_json_encode(ex->arena, o, 0, &len);
    send_text(ex, 200, "application/json", json, len);
}

static void handle(void *ctx, vial_exchange *ex) {
    (void)ctx;
    vial_http_request *rq = &ex->req;
    if (path_is(rq, "/plaintext")) {
        send_str(ex, 200, "Hello, World!");
    } else if (path_is(rq, "/json")) {
        vial_value *msg = vial_new_object(ex->arena);
        vial_object_set(msg, "message", vial_new_str(ex->arena, "Hello, World!"));
        size_t len;
        char *json = vial_json_encode(ex->arena, msg, 0, &len);
        send_text(ex, 200, "application/json", json, len);
    } else if (path_is(rq, "/echo")) {
        echo(ex);
    } else if (path_is(rq, "/noread")) {
        send_str(ex, 200, "did not read the body\n");
    } else if (path_is(rq, "/slow")) {
        long ms = query_long(rq, "ms", 1000);
        vial_sleep_ms((int)ms);
        send_str(ex, 200, vial_arena_sprintf(ex->arena, "slept %ld\n", ms));
    } else if (path_is(rq, "/timerfd")) {
        long ms = query_long(rq, "ms", 100);
        int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        struct itimerspec its = {{0, 0}, {ms / 1000, (ms % 1000) * 1000000L}};
        timerfd_settime(fd, 0, &its, NULL);
        int in_coro = vial_in_coroutine();
        int ready = vial_wait_fd(fd, VIAL_WAIT_READ, 10000);
        close(fd);
        send_str(ex, 200, vial_arena_sprintf(ex->arena, "ready=%d coroutine=%d\n", ready, in_coro));
    } else if (path_is(rq, "/stream")) {
        stream_state *st = vial_arena_calloc(ex->arena, sizeof *st);
        st->delay_ms = (int)query_long(rq, "ms", 0);
        add_header(ex, "Content-Type", "text/plain");
        ex->res.body_kind = VIAL_BODY_STREAM;
        ex->res.stream = stream_chunks;
        ex->res.stream_ctx = st;
    } else if (path_is(rq, "/big")) {
        long n = query_long(rq, "n", 1 << 20);
        if (n < 0 || n > (64L << 20)) n = 0;
        char *body = vial_arena_alloc(ex->arena, (size_t)n + 1);
        for (long i = 0; i < n; i++) body[i] = (char)('a' + i % 26);
        send_text(ex, 200, "application/octet-stream", body, (size_t)n);
    } else if (path_is(rq, "/file")) {
        int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) != 0) {
            if (fd >= 0) close(fd);
            send_str(ex, 500, "cannot open myself\n");
            return;
        }
        vial_arena_defer(ex->arena, close_fd, (void *)(intptr_t)fd);
        add_header(ex, "Content-Type", "application/octet-stream");
        ex->res.body_kind = VIAL_BODY_FILE;
        ex->res.file_fd = fd;
        ex->res.file_offset = 0;
        ex->res.file_length = st.st_size;
    } else if (path_is(rq, "/info")) {
        info(ex);
    } else if (path_is(rq, "/pid")) {
        send_str(ex, 200, vial_arena_sprintf(ex->arena, "%d", (int)getpid()));
    } else if (path_is(rq, "/crash")) {
        abort();
    } else if (path_is(rq, "/custom")) {
        ex->res.reason = "Of The Beast";
        send_str(ex, 666, "custom status\n");
    } else if (path_is(rq, "/badheader")) {
        add_header(ex, "X-Bad", "line\r\nInjected: yes");
        send_str(ex, 200, "should not be sent\n");
    } else {
        send_str(ex, 404, "not found\n");
    }
}

static long arg_long(const char *v, const char *name) {
    char *e;
    long n = v ? strtol(v, &e, 10) : 0;
    if (!v || *e) {
        fprintf(stderr, "engine_server: %s needs a number\n", name);
        exit(2);
    }
    return n;
}

int main(int argc, char **argv) {
    vial_server_config cfg;
    vial_server_config_init(&cfg);
    cfg.handler = handle;
    cfg.workers = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--host") && v) cfg.host = argv[++i];
        else if (!strcmp(a, "--port")) cfg.port = (int)arg_long(v, a), i++;
        else if (!strcmp(a, "--workers")) cfg.workers = (int)arg_long(v, a), i++;
        else if (!strcmp(a, "--debug")) cfg.debug = true;
        else if (!strcmp(a, "--quiet")) cfg.quiet = true;
        else if (!strcmp(a, "--single")) cfg.single_process = true;
        else if (!strcmp(a, "--max-body")) cfg.max_body = arg_long(v, a), i++;
        else if (!strcmp(a, "--header-timeout")) cfg.header_timeout_ms = (int)arg_long(v, a), i++;
        else if (!strcmp(a, "--body-timeout")) cfg.body_timeout_ms = (int)arg_long(v, a), i++;
        else if (!strcmp(a, "--keepalive-timeout")) cfg.keepalive_timeout_ms = (int)arg_long(v, a), i++;
        else if (!strcmp(a, "--write-timeout")) cfg.write_timeout_ms = (int)arg_long(v, a), i++;
        else if (!strcmp(a, "--graceful-timeout")) cfg.graceful_timeout_ms = (int)arg_long(v, a), i++;
        else if (!strcmp(a, "--max-connections")) cfg.max_connections = (int)arg_long(v, a), i++;
        else {
            fprintf(stderr, "engine_server: unknown option %s\n", a);
            return 2;
        }
    }
    return vial_server_run(&cfg) == 0 ? 0 : 1;
}
