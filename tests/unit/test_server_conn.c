/* Connections driven in-process over socketpairs: the read buffer (partial
 * heads, pipelined batches across buffer refills, growth up to the head
 * limit, room for chunked bodies), buffers handed back when idle, body
 * reading (Content-Length, chunked with trailers, 100-continue), limits and
 * errors. The worker is the real one, minus the process around it. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/worker.h"
#include "vial.h"

static vial_worker worker;
static int handler_calls;

static void add_header(vial_exchange *ex, const char *name, const char *value) {
    vial_http_response *res = &ex->res;
    vial_http_header *h = vial_arena_alloc(ex->arena, (res->header_count + 1) * sizeof *h);
    if (res->header_count) memcpy(h, res->headers, res->header_count * sizeof *h);
    h[res->header_count++] = (vial_http_header){{name, strlen(name)}, {value, strlen(value)}};
    res->headers = h;
}

/* /echo: the body back; /noread: ignores it; anything else: the target. */
static void handler(void *ctx, vial_exchange *ex) {
    (void)ctx;
    handler_calls++;
    vial_http_request *rq = &ex->req;
    add_header(ex, "Content-Type", "text/plain");
    ex->res.body_kind = VIAL_BODY_BYTES;
    if (rq->path.len == 5 && !memcmp(rq->path.ptr, "/echo", 5)) {
        size_t cap = 1 << 20, len = 0;
        char *buf = vial_arena_alloc(ex->arena, cap);
        for (;;) {
            ssize_t n = ex->body.read(ex->body.ctx, buf + len, cap - len < 777 ? cap - len : 777);
            if (n < 0) {
                ex->res.status = ex->body.error_status ? ex->body.error_status : 400;
                ex->res.body = VIAL_STR("body failed");
                return;
            }
            if (n == 0) break;
            len += (size_t)n;
        }
        ex->res.body = (vial_str){buf, len};
        return;
    }
    if (rq->path.len == 7 && !memcmp(rq->path.ptr, "/noread", 7)) {
        ex->res.body = VIAL_STR("ignored");
        return;
    }
    ex->res.body = (vial_str){rq->target.ptr, rq->target.len};
}

static int client_fd;
static vial_conn *conn;

static void open_pair(vial_server_config *cfg) {
    handler_calls = 0;
    cr_assert_eq(vial_worker_init(&worker, cfg, 0, -1), 0);
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
    client_fd = sv[0];
    int flags = fcntl(client_fd, F_GETFL);
    fcntl(client_fd, F_SETFL, flags & ~O_NONBLOCK);
    vial_sockaddr remote;
    memset(&remote, 0, sizeof remote);
    remote.sa.sa_family = AF_UNIX;
    vial_conn_open(&worker, sv[1], &remote);
    cr_assert_eq(worker.conn_count, 1);
    conn = worker.conns;
}

static void setup(void) {
    vial_server_config cfg;
    vial_server_config_init(&cfg);
    cfg.handler = handler;
    cfg.max_body = 100000;
    open_pair(&cfg);
}

static void teardown(void) {
    close(client_fd);
    vial_worker_cleanup(&worker);
}

static void turns(int n) {
    for (int i = 0; i < n; i++) vial_loop_turn(&worker.loop, 10);
}

static void send_all(const char *data, size_t len) {
    while (len) {
        ssize_t n = write(client_fd, data, len);
        cr_assert_gt(n, 0);
        data += n;
        len -= (size_t)n;
    }
}

static void send_str(const char *s) { send_all(s, strlen(s)); }

/* Everything the server has sent so far (after letting the loop run). */
static char *collect(size_t *len_out, int max_turns) {
    static char buf[1 << 20];
    size_t len = 0;
    for (int i = 0; i < max_turns; i++) {
        turns(1);
        for (;;) {
            ssize_t n = recv(client_fd, buf + len, sizeof buf - 1 - len, MSG_DONTWAIT);
            if (n <= 0) break;
            len += (size_t)n;
        }
    }
    buf[len] = '\0';
    *len_out = len;
    return buf;
}

static int count(const char *hay, const char *needle) {
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle)) n++;
    return n;
}

static bool server_closed(void) {
    char c;
    turns(2);
    ssize_t n = recv(client_fd, &c, 1, MSG_DONTWAIT);
    return n == 0;
}

Test(conn, pipelined_batch_across_buffer_refills_in_order, .init = setup, .fini = teardown) {
    /* 300 requests of ~45 bytes: several times the 8 KiB read buffer. */
    static char reqs[300 * 64];
    size_t len = 0;
    for (int i = 0; i < 300; i++) len += (size_t)sprintf(reqs + len, "GET /r%d HTTP/1.1\r\nHost: t\r\n\r\n", i);
    send_all(reqs, len);
    size_t got;
    char *out = collect(&got, 40);
    cr_assert_eq(count(out, "HTTP/1.1 200 OK"), 300);
    const char *p = out;
    for (int i = 0; i < 300; i++) {
        char want[32];
        sprintf(want, "\r\n\r\n/r%d", i);
        const char *at = strstr(p, want);
        cr_assert_not_null(at, "response %d missing or out of order", i);
        p = at + 1;
    }
    cr_assert_eq(handler_calls, 300);
}

Test(conn, head_arriving_byte_by_byte, .init = setup, .fini = teardown) {
    const char *req = "GET /slowly HTTP/1.1\r\nHost: t\r\nX-A: 1\r\n\r\n";
    for (const char *p = req; *p; p++) {
        send_all(p, 1);
        turns(1);
        if (p[1]) cr_assert_eq(handler_calls, 0, "dispatched before the head was complete");
    }
    size_t got;
    char *out = collect(&got, 3);
    cr_assert_eq(handler_calls, 1);
    cr_assert(strstr(out, "\r\n\r\n/slowly"));
}

Test(conn, idle_connections_give_their_buffers_back, .init = setup, .fini = teardown) {
    send_str("GET /a HTTP/1.1\r\nHost: t\r\n\r\n");
    size_t got;
    collect(&got, 3);
    cr_assert_gt(got, 0);
    cr_assert_null(conn->rbuf);
    cr_assert_null(conn->out.data);
    cr_assert_null(conn->task);
    cr_assert_eq(conn->timer_kind, TIMER_IDLE);
    cr_assert_geq(worker.rbufs.count, 1, "the read buffer went back to the pool");
    /* A partial head keeps its buffer (and the header timer). */
    send_str("GET /b HTTP/1.1\r\nHo");
    turns(2);
    cr_assert_not_null(conn->rbuf);
    cr_assert_eq(conn->timer_kind, TIMER_HEADER);
    send_str("st: t\r\n\r\n");
    char *out = collect(&got, 3);
    cr_assert(strstr(out, "/b"));
    cr_assert_null(conn->rbuf);
}

Test(conn, large_head_grows_the_buffer_up_to_the_limit, .init = setup, .fini = teardown) {
    static char req[20000];
    memset(req, 0, sizeof req);
    char *value = malloc(12001);
    memset(value, 'v', 12000);
    value[12000] = '\0';
    snprintf(req, sizeof req, "GET /big-head HTTP/1.1\r\nHost: t\r\nX-Big: %s\r\n\r\n", value);
    send_str(req);
    size_t got;
    char *out = collect(&got, 5);
    cr_assert(strstr(out, "HTTP/1.1 200 OK"), "%.100s", out);
    /* Over the 16 KiB head limit: 431 and close. */
    char *huge = malloc(17001);
    memset(huge, 'w', 17000);
    huge[17000] = '\0';
    snprintf(req, sizeof req, "GET /too-big HTTP/1.1\r\nHost: t\r\nX-Huge: %s\r\n\r\n", huge);
    send_str(req);
    out = collect(&got, 5);
    cr_assert(strstr(out, "HTTP/1.1 431 "), "%.100s", out);
    cr_assert(strstr(out, "Connection: close"));
    cr_assert(server_closed());
    free(value);
    free(huge);
}

Test(conn, content_length_body_split_between_head_and_later_reads, .init = setup, .fini = teardown) {
    send_str("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 26\r\n\r\nabcdefghij");
    turns(2);
    cr_assert_eq(conn->state, CONN_TASK, "the handler waits for the rest of the body");
    send_str("klmnopqrstuvwxyz");
    send_str("GET /after HTTP/1.1\r\nHost: t\r\n\r\n");
    size_t got;
    char *out = collect(&got, 5);
    cr_assert(strstr(out, "\r\n\r\nabcdefghijklmnopqrstuvwxyz"), "%s", out);
    cr_assert(strstr(out, "\r\n\r\n/after"));
}

Test(conn, chunked_body_with_trailers_then_a_pipelined_request, .init = setup, .fini = teardown) {
    send_str("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
             "5\r\nhello\r\n1;ext=1\r\n \r\n6\r\nworld!\r\n0\r\nX-Trailer: yes\r\n\r\n"
             "GET /next HTTP/1.1\r\nHost: t\r\n\r\n");
    size_t got;
    char *out = collect(&got, 5);
    cr_assert(strstr(out, "Content-Length: 12\r\n"), "%s", out);
    cr_assert(strstr(out, "\r\n\r\nhello world!"), "%s", out);
    cr_assert(strstr(out, "\r\n\r\n/next"));
}

Test(conn, chunked_body_arriving_in_pieces, .init = setup, .fini = teardown) {
    send_str("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
    static char body[40000];
    for (size_t i = 0; i < sizeof body; i++) body[i] = (char)('A' + i % 23);
    /* 40 chunks of 1000 bytes, sent in uneven slices. */
    static char wire[50000];
    size_t wl = 0;
    for (int c = 0; c < 40; c++) {
        wl += (size_t)sprintf(wire + wl, "3e8\r\n");
        memcpy(wire + wl, body + c * 1000, 1000);
        wl += 1000;
        wl += (size_t)sprintf(wire + wl, "\r\n");
    }
    wl += (size_t)sprintf(wire + wl, "0\r\n\r\n");
    for (size_t off = 0; off < wl; off += 997) {
        send_all(wire + off, wl - off < 997 ? wl - off : 997);
        turns(1);
    }
    size_t got;
    char *out = collect(&got, 5);
    cr_assert(strstr(out, "Content-Length: 40000\r\n"), "%.200s", out);
    char *bodyp = strstr(out, "\r\n\r\n");
    cr_assert_not_null(bodyp);
    cr_assert_eq(memcmp(bodyp + 4, body, sizeof body), 0);
}

Test(conn, chunked_request_with_a_head_filling_the_buffer, .init = setup, .fini = teardown) {
    /* The head leaves almost no room in the 8 KiB buffer: the decoder needs some. */
    static char req[9000];
    char *pad = malloc(8001);
    memset(pad, 'p', 8000);
    pad[8000 - 170] = '\0';
    int n = snprintf(req, sizeof req, "POST /echo HTTP/1.1\r\nHost: t\r\nX-Pad: %s\r\nTransfer-Encoding: chunked\r\n\r\n", pad);
    cr_assert_lt(n, 8192);
    send_str(req);
    send_str("4\r\nroom\r\n0\r\n\r\n");
    size_t got;
    char *out = collect(&got, 5);
    cr_assert(strstr(out, "\r\n\r\nroom"), "%.300s", out);
    free(pad);
}

Test(conn, expect_continue_is_sent_on_the_first_read, .init = setup, .fini = teardown) {
    send_str("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
    size_t got;
    char *out = collect(&got, 3);
    cr_assert_str_eq(out, "HTTP/1.1 100 Continue\r\n\r\n");
    send_str("data");
    out = collect(&got, 3);
    cr_assert(strstr(out, "HTTP/1.1 200 OK"));
    cr_assert(strstr(out, "\r\n\r\ndata"));
    cr_assert_not(server_closed());
}

Test(conn, expect_continue_not_sent_when_the_body_is_not_read, .init = setup, .fini = teardown) {
    send_str("POST /noread HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
    size_t got;
    char *out = collect(&got, 3);
    cr_assert_not(strstr(out, "100 Continue"));
    cr_assert(strstr(out, "HTTP/1.1 200 OK"));
    cr_assert(strstr(out, "Connection: close"), "the body may still come: the connection closes");
}

Test(conn, small_unread_body_is_drained_and_the_connection_kept, .init = setup, .fini = teardown) {
    send_str("POST /noread HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\n12345GET /then HTTP/1.1\r\nHost: t\r\n\r\n");
    size_t got;
    char *out = collect(&got, 4);
    cr_assert_eq(count(out, "HTTP/1.1 200 OK"), 2, "%s", out);
    cr_assert(strstr(out, "\r\n\r\n/then"));
    cr_assert_not(strstr(out, "Connection: close"));
}

Test(conn, over_max_body_is_413_without_calling_the_handler, .init = setup, .fini = teardown) {
    send_str("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100001\r\n\r\nxxxx");
    size_t got;
    char *out = collect(&got, 3);
    cr_assert(strstr(out, "HTTP/1.1 413 "), "%s", out);
    cr_assert_eq(handler_calls, 0);
    shutdown(client_fd, SHUT_WR);
    cr_assert(server_closed());
}

Test(conn, chunked_body_over_max_body_fails_with_413, .init = setup, .fini = teardown) {
    send_str("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
    static char chunk[20000];
    int hl = sprintf(chunk, "%x\r\n", 19000);
    memset(chunk + hl, 'z', 19000);
    memcpy(chunk + hl + 19000, "\r\n", 2);
    for (int i = 0; i < 6; i++) {
        send_all(chunk, (size_t)hl + 19002);
        turns(2);
    }
    size_t got;
    char *out = collect(&got, 3);
    cr_assert(strstr(out, "HTTP/1.1 413 "), "%.200s", out);
    cr_assert(strstr(out, "Connection: close"));
}

Test(conn, bad_request_is_400_and_close, .init = setup, .fini = teardown) {
    send_str("GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nGET / HTTP/1.1\r\n\r\n");
    size_t got;
    char *out = collect(&got, 3);
    cr_assert(strncmp(out, "HTTP/1.1 400 Bad Request\r\n", 26) == 0, "%s", out);
    cr_assert(strstr(out, "Connection: close"));
    cr_assert_eq(count(out, "HTTP/1.1"), 1, "nothing after a bad request is answered");
    cr_assert_eq(handler_calls, 0);
    shutdown(client_fd, SHUT_WR);
    cr_assert(server_closed());
}

Test(conn, head_request_gets_no_body, .init = setup, .fini = teardown) {
    send_str("HEAD /x HTTP/1.1\r\nHost: t\r\n\r\nGET /y HTTP/1.1\r\nHost: t\r\n\r\n");
    size_t got;
    char *out = collect(&got, 3);
    cr_assert(strstr(out, "Content-Length: 2\r\n\r\nHTTP/1.1 200 OK"), "%s", out);
    cr_assert(strstr(out, "\r\n\r\n/y"));
}

Test(conn, http10_closes_unless_keep_alive, .init = setup, .fini = teardown) {
    send_str("GET /ka HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    size_t got;
    char *out = collect(&got, 3);
    cr_assert(strstr(out, "Connection: keep-alive\r\n"), "%s", out);
    send_str("GET /plain HTTP/1.0\r\n\r\n");
    out = collect(&got, 3);
    cr_assert(strstr(out, "Connection: close\r\n"), "%s", out);
    cr_assert(server_closed());
}

Test(conn, half_close_after_a_request_gets_the_answer_then_eof, .init = setup, .fini = teardown) {
    /* The bytes and the FIN arrive together: the short read must not hide the end of stream. */
    send_str("GET /last HTTP/1.1\r\nHost: t\r\n\r\n");
    shutdown(client_fd, SHUT_WR);
    size_t got;
    char *out = collect(&got, 3);
    cr_assert(strstr(out, "\r\n\r\n/last"), "%s", out);
    cr_assert(server_closed());
    cr_assert_eq(worker.conn_count, 0);
}

Test(conn, half_close_mid_head_closes_at_once, .init = setup, .fini = teardown) {
    send_str("GET /never-fin");
    shutdown(client_fd, SHUT_WR);
    turns(2);
    cr_assert_eq(worker.conn_count, 0, "the connection waited for its header timeout");
    cr_assert_eq(handler_calls, 0);
}

/* A client with a deep backlog of pipelined requests gets a bounded share
 * of a turn: it waits behind the others with bytes still unread, and is
 * served in full over the next turns. */
#include <sys/ioctl.h>

Test(conn, a_deep_pipeline_yields_to_other_connections, .init = setup, .fini = teardown) {
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
    vial_sockaddr remote;
    memset(&remote, 0, sizeof remote);
    remote.sa.sa_family = AF_UNIX;
    vial_conn_open(&worker, sv[1], &remote);
    vial_conn *stream = worker.conns;
    cr_assert_neq(stream, conn);
    int sndbuf = 1 << 20; /* room for a backlog well past one turn's share (net.core.wmem_max permitting) */
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    setsockopt(stream->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf); /* the answers never block either */
    /* ~1 KiB requests, small answers: the reads, not the writes, set the pace. */
    static char req[1200];
    char pad[1001];
    memset(pad, 'p', 1000);
    pad[1000] = '\0';
    int rl = snprintf(req, sizeof req, "GET /s HTTP/1.1\r\nHost: t\r\nX-Pad: %s\r\n\r\n", pad);
    size_t queued = 0;
    int requests = 0;
    while (send(sv[0], req, (size_t)rl, MSG_DONTWAIT) == rl) {
        queued += (size_t)rl;
        requests++;
    }
    cr_assert_gt(queued, 160000, "precondition: the socket buffer holds only %zu bytes", queued);
    send_str("GET /other HTTP/1.1\r\nHost: t\r\n\r\n");
    vial_loop_turn(&worker.loop, 10);
    char buf[1 << 16];
    cr_assert_gt(recv(client_fd, buf, sizeof buf, MSG_DONTWAIT), 0, "the other connection was not served this turn");
    int unread = 0;
    ioctl(stream->fd, FIONREAD, &unread);
    cr_assert_gt(unread, 0, "the deep pipeline was drained in one go");
    /* And every request is answered, in the following turns. */
    int answered = 0;
    for (int i = 0; i < 2000 && answered < requests; i++) {
        vial_loop_turn(&worker.loop, 10);
        ssize_t n;
        while ((n = recv(sv[0], buf, sizeof buf, MSG_DONTWAIT)) > 0)
            for (ssize_t k = 0; k + 8 < n; k++)
                if (memcmp(buf + k, "HTTP/1.1", 8) == 0) answered++;
    }
    cr_assert_eq(answered, requests);
    close(sv[0]);
    turns(3);
}
