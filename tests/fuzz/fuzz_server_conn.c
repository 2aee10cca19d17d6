/* Fuzzes a worker's connection handling: arbitrary bytes, delivered in
 * arbitrary slices over a socketpair, through the real read buffer, parser,
 * request tasks on coroutines, body reader (Content-Length, chunked, 100-
 * continue, drain), response batching and closing. The first input byte sets
 * the slice size. Every connection must end closed (no hang), with ASan and
 * LSan watching for the rest. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/worker.h"
#include "vial.h"

static vial_worker worker;
static bool ready;

static void handler(void *ctx, vial_exchange *ex) {
    (void)ctx;
    vial_http_request *rq = &ex->req;
    ex->res.body_kind = VIAL_BODY_BYTES;
    ex->res.body = VIAL_STR("ok");
    if (rq->path.len >= 2 && rq->path.ptr[1] == 'e') { /* /e...: echo the body */
        char *buf = vial_arena_alloc(ex->arena, 65536);
        size_t len = 0;
        for (;;) {
            ssize_t n = ex->body.read(ex->body.ctx, buf + len, 65536 - len < 100 ? 65536 - len : 100);
            if (n <= 0) {
                if (n < 0) ex->res.status = ex->body.error_status ? ex->body.error_status : 400;
                break;
            }
            len += (size_t)n;
            if (len == 65536) break;
        }
        ex->res.body = (vial_str){buf, len};
    } else if (rq->path.len >= 2 && rq->path.ptr[1] == 's') { /* /s: park once */
        vial_sleep_ms(0);
    } else if (rq->path.len >= 2 && rq->path.ptr[1] == 'c') { /* /c: a custom status, closing */
        ex->res.status = 599;
        ex->res.reason = "Custom";
        ex->res.close = true;
    } else if (rq->path.len >= 2 && rq->path.ptr[1] == 'x') { /* /x: a header the writer must refuse */
        vial_http_header *h = vial_arena_alloc(ex->arena, sizeof *h);
        *h = (vial_http_header){VIAL_STR("X-Bad"), VIAL_STR("a\r\nb")};
        ex->res.headers = h;
        ex->res.header_count = 1;
    }
}

static void drain(int fd) {
    char sink[65536];
    while (recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0) {
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!ready) {
        vial_server_config cfg;
        vial_server_config_init(&cfg);
        cfg.handler = handler;
        cfg.max_body = 20000;
        cfg.limits = (vial_http_limits){1024, 2048, 20};
        if (vial_worker_init(&worker, &cfg, 0, -1) != 0) abort();
        ready = true;
    }
    if (size == 0) return 0;
    size_t slice = (size_t)(data[0] % 64) + 1;
    data++, size--;
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) abort();
    vial_sockaddr remote;
    memset(&remote, 0, sizeof remote);
    remote.sa.sa_family = AF_UNIX;
    vial_conn_open(&worker, sv[1], &remote);
    for (size_t off = 0; off < size; off += slice) {
        size_t n = size - off < slice ? size - off : slice;
        if (send(sv[0], data + off, n, MSG_NOSIGNAL) < 0) break; /* the server closed */
        vial_loop_turn(&worker.loop, 0);
        drain(sv[0]);
    }
    shutdown(sv[0], SHUT_WR);
    for (int i = 0; i < 200 && worker.conn_count > 0; i++) {
        vial_loop_turn(&worker.loop, 0);
        drain(sv[0]);
    }
    close(sv[0]);
    for (int i = 0; i < 50 && worker.conn_count > 0; i++) vial_loop_turn(&worker.loop, 0);
    if (worker.conn_count != 0) abort(); /* a connection hung */
    vial_loop_turn(&worker.loop, 0);      /* frees the closed ones */
    return 0;
}
