/* conn.c - a client connection on the worker's loop: read, parse, flush.
 *
 * Each socket is registered once, edge-triggered, for input and output, and
 * never modified again: no request costs an epoll_ctl, and a connection
 * whose request is parked (sleeping, waiting on a database) is not reported
 * again and again for bytes it deliberately leaves unread, as it would be
 * level-triggered. The price of edge triggering is remembering readiness
 * ourselves: `readable` stays set until a read comes back short (the kernel
 * had no more; new bytes raise a new edge) - unless the peer has shut down
 * its side (EPOLLRDHUP), whose end of stream only a further read reports -
 * and `writable` until a write would block.
 *
 * The state machine below runs on the loop's own stack. It parses every
 * complete request already in the read buffer and hands each to a coroutine
 * (task.c), in order; the responses pile up in one output buffer, which is
 * written with a single call once no complete request is left. So sixteen
 * pipelined requests arriving in one segment leave in one segment. While no
 * request is running the connection owns no stack, and once idle it gives
 * its buffers back to the worker's pools: an idle keep-alive connection is
 * this struct and a timer.
 *
 * One timer per connection, re-aimed as the connection moves: idle
 * keep-alive, header (from a request's first byte; 408 when it fires), write
 * (a client not taking its response), linger (reading what a client still
 * sends after an error before closing, so the error reaches it instead of a
 * reset), and the request's own waits for body bytes or output space. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/worker.h"
#include "vial.h"

#define OUT_FLUSH_AT (64 * 1024)     /* queued output that pauses the batch */
#define OUT_MAX (4 * 1024 * 1024)    /* an output buffer never grows past this */
#define LINGER_MS 2000
#define LINGER_READS 64              /* 4 KiB each, per event */
#define READS_PER_DRIVE 16           /* then the others get their turn */

static void conn_on_event(vial_io *io, uint32_t events);
static void conn_on_timer(vial_timer *t);

/* Timers are lazy: a request typically moves the deadline twice (none while
 * it runs, idle after it), so the wheel entry stays where it is unless the
 * new deadline is earlier; when it fires early it is re-aimed at the real
 * deadline, and when no timeout applies any more it is ignored. One wheel
 * operation per keep-alive period instead of two per request. */
void vial_conn_set_timer(vial_conn *c, int kind, int ms) {
    vial_loop *l = &c->worker->loop;
    c->timer_kind = (uint8_t)kind;
    c->deadline = l->now + (uint64_t)(ms > 0 ? ms : 0);
    if (!vial_timer_armed(&c->timer) || c->timer.expires > c->deadline) vial_timer_set(&l->wheel, &c->timer, c->deadline);
}

static void conn_cancel_timer(vial_conn *c) { c->timer_kind = TIMER_NONE; }

void vial_conn_open(vial_worker *w, int fd, const vial_sockaddr *remote) {
    vial_conn *c = w->free_conns;
    if (c) {
        w->free_conns = c->next;
        w->free_conn_count--;
    } else {
        c = malloc(sizeof *c);
        if (!c) {
            close(fd);
            return;
        }
    }
    memset(c, 0, sizeof *c);
    c->io.on_event = conn_on_event;
    c->worker = w;
    c->fd = fd;
    c->state = CONN_READ;
    c->writable = true;
    c->remote = *remote;
    c->local = w->local;
    if (w->local_wildcard) {
        socklen_t len = sizeof c->local;
        if (getsockname(fd, &c->local.sa, &len) != 0) c->local = w->local;
    }
    vial_buf_init(&c->out, NULL, OUT_MAX);
    vial_timer_init(&c->timer, conn_on_timer);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = &c->io};
    if (epoll_ctl(w->loop.epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        vial_log(VIAL_LOG_WARNING, "epoll_ctl(ADD) failed for a new connection: %s", strerror(errno));
        close(fd);
        c->next = w->free_conns;
        w->free_conns = c;
        w->free_conn_count++;
        return;
    }
    c->next = w->conns;
    if (w->conns) w->conns->prev = c;
    w->conns = c;
    w->conn_count++;
    /* A new connection must send its first request within the header timeout. */
    vial_conn_set_timer(c, TIMER_IDLE, w->cfg.header_timeout_ms);
}

static void release_rbuf(vial_conn *c) {
    if (!c->rbuf) return;
    vial_worker *w = c->worker;
    if (c->rcap == w->rbufs.size)
        vial_buf_pool_put(&w->rbufs, c->rbuf);
    else
        free(c->rbuf);
    c->rbuf = NULL;
    c->rcap = c->rlen = c->rpos = c->rscan = 0;
}

static void release_out(vial_conn *c) {
    if (!c->out.data) return;
    vial_worker *w = c->worker;
    if (c->out.cap == w->obufs.size)
        vial_buf_pool_put(&w->obufs, c->out.data);
    else
        free(c->out.data);
    c->out.data = NULL;
    c->out.cap = c->out.len = 0;
    c->opos = 0;
}

int vial_conn_out_ready(vial_conn *c) {
    if (c->out.data) return 0;
    vial_worker *w = c->worker;
    char *p = vial_buf_pool_get(&w->obufs);
    if (!p) return -1;
    c->out.data = p;
    c->out.cap = w->obufs.size;
    c->out.len = 0;
    c->opos = 0;
    p[0] = '\0';
    return 0;
}

void vial_conn_close(vial_conn *c) {
    if (c->state == CONN_CLOSED) return;
    vial_worker *w = c->worker;
    if (c->task) {
        /* Its request is still on a coroutine: make the socket fail so the
         * request ends, and close when it has. */
        c->broken = true;
        shutdown(c->fd, SHUT_RDWR);
        return;
    }
    vial_timer_cancel(&w->loop.wheel, &c->timer);
    c->timer_kind = TIMER_NONE;
    close(c->fd);
    c->fd = -1;
    release_rbuf(c);
    release_out(c);
    if (c->prev)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    w->conn_count--;
    c->state = CONN_CLOSED;
    c->driving = false;
    /* An event for it may still be in this turn's batch: free it after the turn. */
    c->next_dead = w->dead;
    w->dead = c;
    if (w->stopping && w->conn_count == 0) w->done = true;
}

void vial_conn_queue_error(vial_conn *c, int status) {
    vial_worker *w = c->worker;
    c->want_close = true;
    c->linger = true;
    c->rpos = c->rlen; /* nothing after a bad request is parsed */
    c->rscan = 0;
    if (vial_conn_out_ready(c) != 0) {
        c->broken = true;
        return;
    }
    const char *reason = vial_http_reason(status);
    if (!reason) reason = "Error";
    char body[96];
    int body_len = snprintf(body, sizeof body, "%d %s\n", status, reason);
    vial_http_header type = {VIAL_STR("Content-Type"), VIAL_STR("text/plain; charset=utf-8")};
    vial_http_response res;
    memset(&res, 0, sizeof res);
    res.status = status;
    res.headers = &type;
    res.header_count = 1;
    res.close = true;
    if (vial_http_write_head(&c->out, &res, 1, false, body_len, w->cfg.server_name) != 0 ||
        vial_buf_append(&c->out, body, (size_t)body_len) != 0) {
        c->broken = true;
        return;
    }
    c->served++;
}

/* Writes queued output: 1 all written, 0 would block, -1 the socket failed. */
static int flush_out(vial_conn *c) {
    while (c->writable) {
        size_t left = c->out.len - c->opos;
        ssize_t n = send(c->fd, c->out.data + c->opos, left, MSG_NOSIGNAL);
        if (n == (ssize_t)left) {
            c->out.len = 0;
            c->opos = 0;
            return 1;
        }
        if (n >= 0) {
            c->opos += (size_t)n;
            c->writable = false;
            return 0;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            c->writable = false;
            return 0;
        }
        return -1;
    }
    return 0;
}

/* Reads what the socket has into the read buffer: 1 bytes came, 0 none for
 * now (or the buffer hit its limit and an error was queued), -1 end of
 * stream or failure. */
static int read_more(vial_conn *c) {
    vial_worker *w = c->worker;
    if (!c->rbuf) {
        c->rbuf = vial_buf_pool_get(&w->rbufs);
        if (!c->rbuf) return -1;
        c->rcap = (uint32_t)w->rbufs.size;
        c->rlen = c->rpos = c->rscan = 0;
    }
    if (c->rpos == c->rlen) c->rpos = c->rlen = c->rscan = 0;
    if (c->rlen == c->rcap) {
        if (c->rpos > 0) {
            memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
            c->rlen -= c->rpos;
            c->rpos = 0;
        } else if (c->rcap < w->rbuf_max) {
            size_t cap = (size_t)c->rcap * 2;
            if (cap > w->rbuf_max) cap = w->rbuf_max;
            char *bigger = malloc(cap);
            if (!bigger) return -1;
            memcpy(bigger, c->rbuf, c->rlen);
            uint32_t len = c->rlen, scan = c->rscan;
            release_rbuf(c);
            c->rbuf = bigger;
            c->rcap = (uint32_t)cap;
            c->rlen = len;
            c->rscan = scan;
        } else {
            /* The parser answers 414/431 before a head can fill the
             * largest buffer; this is the backstop. */
            vial_conn_queue_error(c, memchr(c->rbuf, '\n', c->rlen) ? 431 : 414);
            return 0;
        }
    }
    bool fresh = c->rpos == c->rlen;
    size_t room = c->rcap - c->rlen;
    for (;;) {
        ssize_t n = read(c->fd, c->rbuf + c->rlen, room);
        if (n > 0) {
            c->rlen += (uint32_t)n;
            if ((size_t)n < room && !c->peer_closed) c->readable = false;
            if (fresh && c->timer_kind != TIMER_HEADER) vial_conn_set_timer(c, TIMER_HEADER, w->cfg.header_timeout_ms);
            return 1;
        }
        if (n == 0) return -1;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            c->readable = false;
            return 0;
        }
        return -1;
    }
}

/* Nothing to do until the client sends more: aim the timer, give idle buffers back. */
static void wait_for_input(vial_conn *c) {
    vial_worker *w = c->worker;
    if (c->rpos < c->rlen) {
        if (c->timer_kind != TIMER_HEADER) vial_conn_set_timer(c, TIMER_HEADER, w->cfg.header_timeout_ms);
        return;
    }
    release_rbuf(c);
    release_out(c);
    if (c->timer_kind != TIMER_IDLE)
        vial_conn_set_timer(c, TIMER_IDLE, c->served ? w->cfg.keepalive_timeout_ms : w->cfg.header_timeout_ms);
}

/* After the last response before a close: read and drop what the client is
 * still sending, for a while, so closing does not reset the connection
 * under the response (RFC 9112 9.6). */
static void linger_read(vial_conn *c) {
    char scratch[4096];
    for (int i = 0; i < LINGER_READS; i++) {
        if (!c->readable) return;
        ssize_t n = read(c->fd, scratch, sizeof scratch);
        if (n > 0) {
            if ((size_t)n < sizeof scratch && !c->peer_closed) c->readable = false;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            c->readable = false;
            return;
        }
        vial_conn_close(c); /* end of stream or error */
        return;
    }
    vial_conn_close(c); /* still sending: enough */
}

static void conn_finish(vial_conn *c) {
    /* Unread input (pipelined requests after a close, a body not read)
     * would make close() send a reset that can destroy the response on
     * its way: those connections linger. */
    if (!c->linger && c->rpos == c->rlen && !c->readable) {
        vial_conn_close(c);
        return;
    }
    shutdown(c->fd, SHUT_WR);
    c->state = CONN_LINGER;
    release_rbuf(c);
    release_out(c);
    vial_conn_set_timer(c, TIMER_LINGER, LINGER_MS);
    linger_read(c);
}

/* A client that keeps sending (a pipelined stream it reads answers from
 * as fast as they come) would otherwise keep this connection's loop going
 * forever: edge-triggered readiness never sends it back to epoll. After its
 * share of reads it waits at the end of the turn, behind everyone else. */
static void defer(vial_conn *c) {
    vial_worker *w = c->worker;
    if (c->deferred) return;
    c->deferred = true;
    c->next_deferred = w->deferred;
    w->deferred = c;
    w->loop.busy = true;
}

void vial_conn_run_deferred(vial_worker *w) {
    vial_conn *list = w->deferred;
    w->deferred = NULL;
    w->loop.busy = false;
    while (list) {
        vial_conn *c = list;
        list = c->next_deferred;
        c->deferred = false;
        if (c->state == CONN_READ || c->state == CONN_LINGER) vial_conn_drive(c);
    }
}

void vial_conn_drive(vial_conn *c) {
    vial_worker *w = c->worker;
    if (c->driving || c->state == CONN_CLOSED) return;
    c->driving = true;
    int reads = 0;
    for (;;) {
        if (c->broken) {
            vial_conn_close(c);
            return;
        }
        if (c->state == CONN_LINGER) {
            linger_read(c);
            break;
        }
        if (c->state != CONN_READ) break; /* a request is parked on its coroutine */

        /* 1. Every complete request already here, in order; the responses
         * collect in the output buffer. */
        if (!c->want_close && c->rpos < c->rlen && c->out.len - c->opos < OUT_FLUSH_AT) {
            ssize_t r = vial_http_parse_request(c->rbuf + c->rpos, c->rlen - c->rpos, c->rscan, &w->cfg.limits,
                                                &w->scratch, w->scratch_headers, w->max_headers);
            if (r > 0) {
                vial_task_dispatch(c, (size_t)r);
                continue;
            }
            if (r < 0) {
                vial_conn_queue_error(c, (int)-r);
                continue;
            }
            c->rscan = c->rlen - c->rpos;
        }

        /* 2. Then the whole batch in one write. */
        if (c->opos < c->out.len) {
            int f = flush_out(c);
            if (f < 0) {
                vial_conn_close(c);
                return;
            }
            if (f == 0) {
                if (c->timer_kind != TIMER_WRITE) vial_conn_set_timer(c, TIMER_WRITE, w->cfg.write_timeout_ms);
                break;
            }
            if (c->timer_kind == TIMER_WRITE) conn_cancel_timer(c);
            continue; /* a batch paused at OUT_FLUSH_AT goes on */
        }
        if (c->want_close) {
            conn_finish(c);
            if (c->state == CONN_CLOSED) return;
            break;
        }
        if (w->stopping && c->rpos == c->rlen && c->served > 0) {
            vial_conn_close(c);
            return;
        }

        /* 3. More bytes. */
        if (!c->readable) {
            wait_for_input(c);
            break;
        }
        if (++reads > READS_PER_DRIVE) {
            defer(c);
            break;
        }
        if (read_more(c) < 0) {
            vial_conn_close(c);
            return;
        }
    }
    c->driving = false;
}

static void conn_on_event(vial_io *io, uint32_t events) {
    vial_conn *c = (vial_conn *)io;
    if (c->state == CONN_CLOSED) return;
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) c->readable = true;
    if (events & (EPOLLRDHUP | EPOLLHUP)) c->peer_closed = true;
    if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) c->writable = true;
    if (c->waiter) {
        if (((c->wait_events & EPOLLIN) && c->readable) || ((c->wait_events & EPOLLOUT) && c->writable)) {
            vial_coro *co = c->waiter;
            c->waiter = NULL;
            conn_cancel_timer(c);
            vial_loop_resume(&c->worker->loop, co);
        }
        return;
    }
    if (c->state == CONN_TASK) return; /* its request is busy elsewhere; the flags wait for it */
    vial_conn_drive(c);
}

static void conn_on_timer(vial_timer *t) {
    vial_conn *c = (vial_conn *)((char *)t - offsetof(vial_conn, timer));
    int kind = c->timer_kind;
    if (kind == TIMER_NONE) return; /* the timeout it was armed for no longer applies */
    vial_loop *l = &c->worker->loop;
    if (c->deadline > l->now) {
        vial_timer_set(&l->wheel, &c->timer, c->deadline); /* moved later meanwhile */
        return;
    }
    c->timer_kind = TIMER_NONE;
    if (c->waiter) {
        vial_coro *co = c->waiter;
        c->waiter = NULL;
        c->wait_timed_out = true;
        vial_loop_resume(&c->worker->loop, co);
        return;
    }
    if (kind == TIMER_HEADER && c->state == CONN_READ && !c->want_close) {
        /* A head that did not arrive in time. */
        vial_conn_queue_error(c, 408);
        vial_conn_drive(c);
        return;
    }
    vial_conn_close(c);
}
