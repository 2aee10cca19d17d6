/* task.c - one request on its coroutine: the handler, the body reader, the
 * response.
 *
 * A task is what a request needs while it runs: its exchange (request,
 * body reader, response), an arena, room for its header fields. Tasks are
 * pooled per worker, so a request allocates nothing in the steady state.
 * The handler runs on a coroutine so it may wait (for body bytes, a
 * database, a sleep) without holding up the worker; a request that never
 * waits costs two context switches.
 *
 * The body is read lazily, only when the handler asks: Content-Length
 * bodies straight from the socket into the caller's memory (after the bytes
 * that came with the head), chunked bodies decoded in place in the read
 * buffer right after the head. "Expect: 100-continue" is answered on the
 * first read, so a handler that rejects a request without reading its body
 * never invites the client to send it (and the connection is then closed,
 * since the client may send it anyway). A body left unread is drained
 * after the response when it is small, or the connection is closed.
 *
 * Responses of small bodies are copied behind their head into the
 * connection's output buffer, where pipelined responses collect and leave
 * together (conn.c). A large body goes out at once with writev, head and
 * body in one call; a file with sendfile; a stream chunk by chunk. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "server/worker.h"
#include "vial.h"

#define BODY_COPY_MAX (16 * 1024) /* bodies up to this join the batch; larger ones are written at once */
#define DRAIN_MAX (256 * 1024)    /* an unread body up to this is read and dropped to keep the connection */
#define CHUNK_ROOM 4096           /* read-buffer room after a chunked request's head */
#define MAX_IDLE_TASKS 256
#define TASK_ARENA_BLOCK 8192

struct vial_task {
    vial_job job; /* first: the coroutine's data */
    vial_task *next_free;
    vial_conn *conn;
    vial_exchange ex;
    vial_arena *arena;
    vial_http_header *headers;
    uint32_t head_end; /* read-buffer offset just past the head */
    uint32_t body_pos; /* next body byte in the read buffer (chunked: next undecoded byte) */
    uint32_t dec_pos, dec_end; /* chunked: decoded bytes not yet handed out */
    int64_t body_left;         /* Content-Length: bytes still to come */
    uint64_t body_seen;        /* body bytes received so far */
    vial_chunked_decoder chunk;
    bool chunked;
    bool body_done;   /* the whole body (and its framing) has been consumed */
    bool body_failed; /* reading failed: the connection cannot carry another request */
    bool continue_sent;
};

static void task_done(vial_job *job);

static vial_task *task_get(vial_worker *w) {
    vial_task *t = w->free_tasks;
    if (t) {
        w->free_tasks = t->next_free;
        w->free_task_count--;
        return t;
    }
    t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->arena = vial_arena_new(TASK_ARENA_BLOCK);
    t->headers = malloc(w->max_headers * sizeof *t->headers);
    if (!t->arena || !t->headers) {
        if (t->arena) vial_arena_free(t->arena);
        free(t->headers);
        free(t);
        return NULL;
    }
    t->job.done = task_done;
    return t;
}

static void task_free(vial_task *t) {
    vial_arena_free(t->arena);
    free(t->headers);
    free(t);
}

static void task_put(vial_worker *w, vial_task *t) {
    if (w->free_task_count >= MAX_IDLE_TASKS) {
        task_free(t);
        return;
    }
    t->next_free = w->free_tasks;
    w->free_tasks = t;
    w->free_task_count++;
}

void vial_task_free_pool(vial_worker *w) {
    while (w->free_tasks) {
        vial_task *t = w->free_tasks;
        w->free_tasks = t->next_free;
        task_free(t);
    }
    w->free_task_count = 0;
}

bool vial_task_wait_socket(vial_conn *c, uint32_t events, int timeout_ms) {
    c->waiter = vial_coro_current();
    c->wait_events = events;
    c->wait_timed_out = false;
    vial_conn_set_timer(c, TIMER_WAIT, timeout_ms);
    vial_coro_yield();
    return !c->wait_timed_out && !c->broken;
}

/* ---- writing from the coroutine ------------------------------------------ */

/* Writes every byte of iov (parking while the socket is full); on failure
 * the connection is marked broken. iov is consumed. */
static int send_iov(vial_conn *c, struct iovec *iov, int count) {
    vial_worker *w = c->worker;
    while (count > 0 && iov[0].iov_len == 0) iov++, count--;
    while (count > 0) {
        if (c->broken) return -1;
        if (!c->writable) {
            if (!vial_task_wait_socket(c, EPOLLOUT, w->cfg.write_timeout_ms)) {
                c->broken = true;
                return -1;
            }
            continue;
        }
        ssize_t n = writev(c->fd, iov, count > IOV_MAX ? IOV_MAX : count);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                c->writable = false;
                continue;
            }
            c->broken = true;
            return -1;
        }
        size_t done = (size_t)n;
        while (count > 0 && done >= iov[0].iov_len) {
            done -= iov[0].iov_len;
            iov++, count--;
        }
        if (count > 0) {
            iov[0].iov_base = (char *)iov[0].iov_base + done;
            iov[0].iov_len -= done;
            c->writable = false; /* a short write: the socket buffer is full */
        }
    }
    return 0;
}

/* Writes the queued output followed by extra (may be NULL/0). */
static int send_out_and(vial_conn *c, struct iovec *extra, int extra_count) {
    struct iovec iov[8];
    int n = 0;
    if (c->out.len > c->opos) iov[n++] = (struct iovec){c->out.data + c->opos, c->out.len - c->opos};
    for (int i = 0; i < extra_count && n < 8; i++) iov[n++] = extra[i];
    int rc = send_iov(c, iov, n);
    if (rc == 0) c->out.len = c->opos = 0;
    return rc;
}

static void send_file_body(vial_conn *c, int fd, off_t offset, off_t length) {
    vial_worker *w = c->worker;
    if (send_out_and(c, NULL, 0) != 0) return;
    while (length > 0) {
        if (c->broken) return;
        if (!c->writable && !vial_task_wait_socket(c, EPOLLOUT, w->cfg.write_timeout_ms)) {
            c->broken = true;
            return;
        }
        size_t want = length > (1 << 30) ? (size_t)1 << 30 : (size_t)length;
        ssize_t n = sendfile(c->fd, fd, &offset, want);
        if (n > 0) {
            length -= n;
            if ((size_t)n < want) c->writable = false;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            c->writable = false;
            continue;
        }
        /* The file ended early or failed: the promised length cannot be kept. */
        vial_log(VIAL_LOG_ERROR, "sendfile: %s", n == 0 ? "file shorter than its response length" : strerror(errno));
        c->broken = true;
        return;
    }
}

static void send_stream_body(vial_conn *c, vial_http_response *res, bool chunked) {
    for (;;) {
        vial_str chunk = {NULL, 0};
        int r = res->stream(res->stream_ctx, &chunk);
        if (c->broken) return;
        if (r < 0) {
            /* Aborted: close without the last chunk, so the client sees an incomplete body. */
            send_out_and(c, NULL, 0);
            c->broken = true;
            return;
        }
        if (r == 0) {
            struct iovec end = {(void *)"0\r\n\r\n", 5};
            send_out_and(c, &end, chunked ? 1 : 0);
            return;
        }
        if (chunk.len == 0) continue;
        char size_line[24];
        int size_len = snprintf(size_line, sizeof size_line, "%zx\r\n", chunk.len);
        struct iovec iov[3] = {{size_line, (size_t)size_len}, {(void *)chunk.ptr, chunk.len}, {(void *)"\r\n", 2}};
        if (chunked ? send_out_and(c, iov, 3) : send_out_and(c, iov + 1, 1)) return;
    }
}

/* ---- the body reader ------------------------------------------------------ */

static ssize_t body_fail(vial_task *t, int status) {
    t->body_failed = true;
    t->ex.body.error_status = status;
    return -1;
}

static int send_continue(vial_task *t) {
    vial_conn *c = t->conn;
    t->continue_sent = true;
    if (vial_conn_out_ready(c) != 0 || vial_buf_append(&c->out, "HTTP/1.1 100 Continue\r\n\r\n", 25) != 0) return -1;
    return send_out_and(c, NULL, 0);
}

/* Parks until the socket has bytes; false on timeout (or a broken socket). */
static bool await_input(vial_task *t) {
    vial_conn *c = t->conn;
    if (c->readable) return true;
    return vial_task_wait_socket(c, EPOLLIN, c->worker->cfg.body_timeout_ms);
}

static ssize_t read_length_body(vial_task *t, char *dst, size_t n) {
    vial_conn *c = t->conn;
    size_t want = (uint64_t)t->body_left < n ? (size_t)t->body_left : n;
    size_t buffered = c->rlen - t->body_pos;
    if (buffered > 0) {
        size_t k = buffered < want ? buffered : want;
        memcpy(dst, c->rbuf + t->body_pos, k);
        t->body_pos += (uint32_t)k;
        t->body_left -= (int64_t)k;
        if (t->body_left == 0) t->body_done = true;
        return (ssize_t)k;
    }
    for (;;) {
        if (c->broken) return body_fail(t, 0);
        if (!await_input(t)) return body_fail(t, c->broken ? 0 : 408);
        ssize_t r = read(c->fd, dst, want);
        if (r > 0) {
            if ((size_t)r < want && !c->peer_closed) c->readable = false;
            t->body_left -= r;
            t->body_seen += (uint64_t)r;
            if (t->body_left == 0) t->body_done = true;
            return r;
        }
        if (r == 0) return body_fail(t, 0); /* the client went away mid-body */
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            c->readable = false;
            continue;
        }
        c->broken = true;
        return body_fail(t, 0);
    }
}

static ssize_t read_chunked_body(vial_task *t, char *dst, size_t n) {
    vial_conn *c = t->conn;
    vial_worker *w = c->worker;
    for (;;) {
        if (t->dec_pos < t->dec_end) {
            size_t k = t->dec_end - t->dec_pos;
            if (k > n) k = n;
            memcpy(dst, c->rbuf + t->dec_pos, k);
            t->dec_pos += (uint32_t)k;
            return (ssize_t)k;
        }
        if (t->body_done) return 0;
        /* Undecoded bytes move down to right after the head, so the room
         * there is reused for the whole body. */
        if (t->body_pos > t->head_end) {
            memmove(c->rbuf + t->head_end, c->rbuf + t->body_pos, c->rlen - t->body_pos);
            c->rlen -= t->body_pos - t->head_end;
            t->body_pos = t->head_end;
        }
        if (t->body_pos == c->rlen) {
            if (c->broken) return body_fail(t, 0);
            if (!await_input(t)) return body_fail(t, c->broken ? 0 : 408);
            ssize_t r = read(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen);
            if (r > 0) {
                if ((size_t)r < c->rcap - c->rlen && !c->peer_closed) c->readable = false;
                c->rlen += (uint32_t)r;
            } else if (r == 0) {
                return body_fail(t, 0);
            } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
                c->readable = false;
                continue;
            } else if (errno != EINTR) {
                c->broken = true;
                return body_fail(t, 0);
            }
            continue;
        }
        size_t len = c->rlen - t->body_pos;
        ssize_t rc = vial_chunked_decode(&t->chunk, c->rbuf + t->body_pos, &len);
        if (rc == -1) return body_fail(t, 400);
        t->dec_pos = t->body_pos;
        t->dec_end = t->body_pos + (uint32_t)len;
        t->body_seen += len;
        t->body_pos = t->dec_end;
        if (rc >= 0) {
            /* The body ended; what follows it is the next request. */
            c->rlen = t->dec_end + (uint32_t)rc;
            t->body_done = true;
        } else {
            c->rlen = t->dec_end;
        }
        if (w->cfg.max_body >= 0 && t->body_seen > (uint64_t)w->cfg.max_body) {
            t->dec_pos = t->dec_end;
            return body_fail(t, 413);
        }
    }
}

static ssize_t body_read(void *ctx, char *dst, size_t n) {
    vial_task *t = ctx;
    vial_conn *c = t->conn;
    if (t->body_failed) return -1;
    if (n == 0) return 0;
    if (t->body_done && t->dec_pos == t->dec_end) return 0;
    if (t->ex.req.expect_continue && !t->continue_sent) {
        /* The client waits for this before sending the body, unless some of it came already. */
        bool body_arrived = c->rlen > t->body_pos;
        if (!body_arrived && send_continue(t) != 0) return body_fail(t, 0);
        t->continue_sent = true;
    }
    return t->chunked ? read_chunked_body(t, dst, n) : read_length_body(t, dst, n);
}

/* ---- the request ------------------------------------------------------------ */

/* A response the handler's could not be written as (an invalid header, a
 * status out of range): 500 instead, and close. */
static void respond_internal_error(vial_task *t, size_t mark) {
    vial_conn *c = t->conn;
    c->out.len = mark;
    vial_log(VIAL_LOG_ERROR, "%.*s %.*s: the response could not be serialized (invalid status, reason or header); sent 500",
             (int)t->ex.req.method.len, t->ex.req.method.ptr, (int)t->ex.req.path.len, t->ex.req.path.ptr);
    uint32_t rpos = c->rpos, rlen = c->rlen;
    vial_conn_queue_error(c, 500);
    c->rpos = rpos; /* task_done decides what happens to the input */
    c->rlen = rlen;
}

static void respond(vial_task *t) {
    vial_conn *c = t->conn;
    vial_worker *w = c->worker;
    vial_exchange *ex = &t->ex;
    vial_http_response *res = &ex->res;
    if (c->broken) return;
    int minor = ex->req.version_minor;
    int64_t body_length = 0;
    switch (res->body_kind) {
    case VIAL_BODY_BYTES: body_length = (int64_t)res->body.len; break;
    case VIAL_BODY_FILE: body_length = res->file_length; break;
    case VIAL_BODY_STREAM: body_length = -1; break;
    default: body_length = 0; break;
    }
    bool keep = ex->req.keep_alive && !w->stopping;
    if (!t->body_done) {
        /* The client may still be sending a body the handler did not read. */
        if (t->body_failed) keep = false;
        else if (ex->req.expect_continue && !t->continue_sent) keep = false;
        else if (!t->chunked && t->body_left > DRAIN_MAX) keep = false;
    }
    if (vial_conn_out_ready(c) != 0) {
        c->broken = true;
        return;
    }
    size_t mark = c->out.len;
    if (body_length < -1 || vial_http_write_head(&c->out, res, minor, keep, body_length, w->cfg.server_name) != 0) {
        respond_internal_error(t, mark);
        return;
    }
    c->served++;
    if (!vial_http_response_keep_alive(res, minor, keep, body_length)) {
        c->want_close = true;
        c->linger = !t->body_done;
    }
    if (res->head || !vial_http_status_has_body(res->status)) return;
    switch (res->body_kind) {
    case VIAL_BODY_BYTES:
        if (res->body.len <= BODY_COPY_MAX && vial_buf_append(&c->out, res->body.ptr, res->body.len) == 0) break;
        send_out_and(c, &(struct iovec){(void *)res->body.ptr, res->body.len}, 1);
        break;
    case VIAL_BODY_FILE:
        send_file_body(c, res->file_fd, res->file_offset, res->file_length);
        break;
    case VIAL_BODY_STREAM:
        if (res->stream)
            send_stream_body(c, res, minor >= 1);
        else
            c->broken = true;
        break;
    default: break;
    }
}

/* Reads and drops a body the handler left, when small enough to keep the connection. */
static void discard_body(vial_task *t) {
    vial_conn *c = t->conn;
    if (t->body_done || t->body_failed || c->want_close || c->broken) return;
    /* The client gets its answer first, it may be waiting on it. */
    if (c->out.len > c->opos && send_out_and(c, NULL, 0) != 0) return;
    char scratch[4096];
    size_t drained = 0;
    while (drained <= DRAIN_MAX) {
        ssize_t r = body_read(t, scratch, sizeof scratch);
        if (r == 0) return;
        if (r < 0) break;
        drained += (size_t)r;
    }
    c->want_close = true;
    c->linger = !t->body_failed;
}

static void task_main(void *arg) {
    vial_task *t = arg;
    vial_conn *c = t->conn;
    vial_worker *w = c->worker;
    vial_exchange *ex = &t->ex;
    ex->arena = t->arena;
    ex->body.read = body_read;
    ex->body.ctx = t;
    ex->body.error_status = 0;
    memset(&ex->res, 0, sizeof ex->res);
    ex->res.status = 200;
    ex->res.file_fd = -1;
    ex->res.head = ex->req.method_bit == VIAL_HEAD;
    ex->remote = &c->remote.sa;
    ex->local = &c->local.sa;
    ex->secure = false;
    ex->server_data = t;
    w->cfg.handler(w->cfg.handler_ctx, ex);
    respond(t);
    discard_body(t);
    vial_arena_reset(t->arena);
}

static void task_done(vial_job *job) {
    vial_task *t = (vial_task *)job;
    vial_conn *c = t->conn;
    vial_worker *w = c->worker;
    c->task = NULL;
    if (c->state == CONN_TASK) c->state = CONN_READ;
    if (t->body_done && !t->body_failed)
        c->rpos = t->body_pos; /* the next request starts right after this one's body */
    else
        c->rpos = c->rlen;
    c->rscan = 0;
    if (c->rpos == c->rlen) c->rpos = c->rlen = 0;
    task_put(w, t);
    if (!c->driving) vial_conn_drive(c);
}

/* Moves the unparsed input to the front of a buffer with `room` bytes free
 * after the head; the head must then be parsed again where it now is. */
static int make_room_after_head(vial_conn *c, size_t head_len, size_t room) {
    size_t have = c->rlen - c->rpos;
    size_t need = have + room;
    if (need < c->rcap) need = c->rcap;
    if (c->rcap - c->rpos >= head_len + room) return 0;
    char *fresh = malloc(need);
    if (!fresh) return -1;
    memcpy(fresh, c->rbuf + c->rpos, have);
    vial_worker *w = c->worker;
    if (c->rcap == w->rbufs.size)
        vial_buf_pool_put(&w->rbufs, c->rbuf);
    else
        free(c->rbuf);
    c->rbuf = fresh;
    c->rcap = (uint32_t)need;
    c->rpos = 0;
    c->rlen = (uint32_t)have;
    return 0;
}

void vial_task_dispatch(vial_conn *c, size_t head_len) {
    vial_worker *w = c->worker;
    vial_http_request *req = &w->scratch;
    if (w->cfg.max_body >= 0 && req->content_length > w->cfg.max_body) {
        vial_conn_queue_error(c, 413); /* before a byte of the body is read (or invited) */
        return;
    }
    if (req->chunked && c->rcap - (c->rpos + head_len) < CHUNK_ROOM) {
        if (make_room_after_head(c, head_len, CHUNK_ROOM) != 0) {
            vial_conn_queue_error(c, 503);
            return;
        }
        ssize_t again = vial_http_parse_request(c->rbuf + c->rpos, c->rlen - c->rpos, 0, &w->cfg.limits, req,
                                                w->scratch_headers, w->max_headers);
        if (again != (ssize_t)head_len) {
            vial_conn_queue_error(c, 500);
            return;
        }
    }
    vial_task *t = task_get(w);
    if (!t) {
        vial_conn_queue_error(c, 503);
        return;
    }
    t->conn = c;
    t->ex.req = *req;
    memcpy(t->headers, req->headers, req->header_count * sizeof *t->headers);
    t->ex.req.headers = t->headers;
    t->head_end = c->rpos + (uint32_t)head_len;
    t->body_pos = t->head_end;
    t->dec_pos = t->dec_end = 0;
    t->body_seen = 0;
    t->chunked = req->chunked;
    t->body_failed = false;
    t->continue_sent = false;
    memset(&t->chunk, 0, sizeof t->chunk);
    if (t->chunked) {
        t->body_left = 0;
        t->body_done = false;
    } else {
        t->body_left = req->content_length > 0 ? req->content_length : 0;
        t->body_done = t->body_left == 0;
    }
    vial_coro *co = vial_coro_start(&w->loop.coros, task_main, t);
    if (!co) {
        task_put(w, t);
        vial_conn_queue_error(c, 503);
        return;
    }
    vial_coro_set_data(co, &t->job);
    c->task = t;
    c->state = CONN_TASK;
    c->timer_kind = TIMER_NONE; /* lazily: the wheel entry stays (conn.c) */
    vial_loop_resume(&w->loop, co);
}
