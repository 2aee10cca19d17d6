/* worker.c - a worker process: accept connections, run the loop, stop well.
 *
 * A worker owns one listening socket (its slot's, SO_REUSEPORT: the kernel
 * spreads connections over the workers' sockets), one epoll loop and its
 * connections. It is single-threaded and shares nothing with the other
 * workers, so nothing on the request path takes a lock. Signals arrive
 * through a signalfd on the loop, so a handler is never interrupted:
 * SIGTERM starts a graceful stop (accept what is already queued, stop
 * listening, let running requests finish and answer them with
 * "Connection: close", close idle connections, exit when none is left or
 * the graceful timeout passes), SIGUSR1 reopens the log. SIGINT and SIGHUP
 * are the master's business (a terminal's Ctrl-C reaches the whole process
 * group; the master turns it into SIGTERM for the workers). */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/worker.h"
#include "vial.h"

#define ACCEPT_BATCH 64
#define ACCEPT_RETRY_MS 100
#define RBUF_SIZE 8192
#define OBUF_SIZE 8192
#define POOLED_BUFFERS 256
#define POOLED_CONNS 1024
#define IDLE_COROUTINES 64

void *vial_buf_pool_get(vial_buf_pool *p) {
    void *b = p->free;
    if (b) {
        memcpy(&p->free, b, sizeof(void *));
        p->count--;
        return b;
    }
    return malloc(p->size);
}

void vial_buf_pool_put(vial_buf_pool *p, void *buf) {
    if (p->count >= p->max) {
        free(buf);
        return;
    }
    memcpy(buf, &p->free, sizeof(void *));
    p->free = buf;
    p->count++;
}

static void buf_pool_drain(vial_buf_pool *p) {
    while (p->free) {
        void *b = p->free;
        memcpy(&p->free, b, sizeof(void *));
        free(b);
    }
    p->count = 0;
}

static void listen_on(vial_worker *w, bool on) {
    if (w->listen_fd < 0) return;
    if (on) {
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &w->listen_io};
        epoll_ctl(w->loop.epfd, EPOLL_CTL_ADD, w->listen_fd, &ev);
    } else {
        epoll_ctl(w->loop.epfd, EPOLL_CTL_DEL, w->listen_fd, NULL);
    }
}

/* Accepting stops for a moment: out of descriptors, or at the connection limit. */
static void pause_accepting(vial_worker *w, const char *why) {
    if (vial_timer_armed(&w->accept_retry)) return;
    static uint64_t last_warning;
    if (w->loop.now - last_warning > 5000 || last_warning == 0) {
        vial_log(VIAL_LOG_WARNING, "worker %d: not accepting for now: %s (%zu connections open)", w->index, why,
                 w->conn_count);
        last_warning = w->loop.now;
    }
    listen_on(w, false);
    vial_timer_set(&w->loop.wheel, &w->accept_retry, w->loop.now + ACCEPT_RETRY_MS);
}

static void accept_batch(vial_worker *w, int max) {
    for (int i = 0; i < max; i++) {
        if (w->conn_count >= w->max_connections) {
            pause_accepting(w, "connection limit reached");
            return;
        }
        vial_sockaddr addr;
        socklen_t len = sizeof addr;
        int fd = accept4(w->listen_fd, &addr.sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            switch (errno) {
            case EAGAIN:
#if EWOULDBLOCK != EAGAIN
            case EWOULDBLOCK:
#endif
                return;
            case EINTR:
            case ECONNABORTED:
            case EPROTO:
            case EPERM:
                continue;
            case EMFILE:
            case ENFILE:
            case ENOBUFS:
            case ENOMEM:
                pause_accepting(w, strerror(errno));
                return;
            default:
                vial_log(VIAL_LOG_ERROR, "worker %d: accept: %s", w->index, strerror(errno));
                pause_accepting(w, strerror(errno));
                return;
            }
        }
        if (addr.sa.sa_family == AF_INET || addr.sa.sa_family == AF_INET6) {
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        }
        vial_conn_open(w, fd, &addr);
    }
}

static void on_listen(vial_io *io, uint32_t events) {
    (void)events;
    vial_worker *w = (vial_worker *)((char *)io - offsetof(vial_worker, listen_io));
    if (!w->stopping) accept_batch(w, ACCEPT_BATCH);
}

static void on_accept_retry(vial_timer *t) {
    vial_worker *w = (vial_worker *)((char *)t - offsetof(vial_worker, accept_retry));
    if (w->stopping || w->listen_fd < 0) return;
    listen_on(w, true);
    accept_batch(w, ACCEPT_BATCH);
}

static void on_stop_timeout(vial_timer *t) {
    vial_worker *w = (vial_worker *)((char *)t - offsetof(vial_worker, stop_timer));
    vial_log(VIAL_LOG_WARNING, "worker %d: graceful timeout: %zu connection(s) still open, exiting", w->index,
             w->conn_count);
    _exit(0);
}

static void begin_stop(vial_worker *w) {
    if (w->stopping) return;
    w->stopping = true;
    if (w->listen_fd >= 0) {
        /* Clients already in the accept queue are served; then no more. */
        accept_batch(w, 4096);
        listen_on(w, false);
        close(w->listen_fd);
        w->listen_fd = -1;
    }
    vial_timer_cancel(&w->loop.wheel, &w->accept_retry);
    vial_timer_set(&w->loop.wheel, &w->stop_timer, w->loop.now + (uint64_t)w->cfg.graceful_timeout_ms);
    w->close_idle_pending = true;
    if (w->conn_count == 0) w->done = true;
}

static void on_signal(vial_io *io, uint32_t events) {
    (void)events;
    vial_worker *w = (vial_worker *)((char *)io - offsetof(vial_worker, signal_io));
    struct signalfd_siginfo si;
    while (read(w->signal_fd, &si, sizeof si) == (ssize_t)sizeof si) {
        switch (si.ssi_signo) {
        case SIGTERM:
        case SIGINT: begin_stop(w); break;
        case SIGUSR1: vial_log_reopen(); break;
        default: break;
        }
    }
}

/* Runs after each turn: frees what closed during it, closes idle connections when stopping. */
static void after_turn(vial_loop *l, void *arg) {
    (void)l;
    vial_worker *w = arg;
    if (w->deferred) vial_conn_run_deferred(w);
    if (w->close_idle_pending) {
        w->close_idle_pending = false;
        vial_conn *c = w->conns;
        while (c) {
            vial_conn *next = c->next;
            /* Idle after a response: close. A connection that has not sent
             * its first request yet gets the header timeout to do so. */
            if (c->state == CONN_READ && !c->driving && c->rpos == c->rlen && c->out.len == c->opos && c->served > 0)
                vial_conn_close(c);
            c = next;
        }
        if (w->conn_count == 0) w->done = true;
    }
    while (w->dead) {
        vial_conn *c = w->dead;
        w->dead = c->next_dead;
        if (w->free_conn_count < POOLED_CONNS) {
            c->next = w->free_conns;
            w->free_conns = c;
            w->free_conn_count++;
        } else {
            free(c);
        }
    }
}

static void worker_cleanup(vial_worker *w) {
    for (vial_conn *c = w->conns, *next; c; c = next) {
        next = c->next;
        vial_conn_close(c); /* one with a request still parked stays (only at a forced exit) */
    }
    after_turn(&w->loop, w);
    while (w->free_conns) {
        vial_conn *c = w->free_conns;
        w->free_conns = c->next;
        free(c);
    }
    vial_task_free_pool(w);
    buf_pool_drain(&w->rbufs);
    buf_pool_drain(&w->obufs);
    free(w->scratch_headers);
    if (w->signal_fd >= 0) close(w->signal_fd);
    if (w->listen_fd >= 0) close(w->listen_fd);
    vial_loop_close(&w->loop);
}

static void fill_defaults(vial_server_config *cfg) {
    vial_http_limits d = VIAL_HTTP_LIMITS_DEFAULT;
    if (!cfg->limits.max_request_line) cfg->limits.max_request_line = d.max_request_line;
    if (!cfg->limits.max_header_bytes) cfg->limits.max_header_bytes = d.max_header_bytes;
    if (!cfg->limits.max_headers) cfg->limits.max_headers = d.max_headers;
    if (cfg->max_body == 0) cfg->max_body = 16 * 1024 * 1024;
    if (cfg->header_timeout_ms <= 0) cfg->header_timeout_ms = 10000;
    if (cfg->body_timeout_ms <= 0) cfg->body_timeout_ms = 30000;
    if (cfg->keepalive_timeout_ms <= 0) cfg->keepalive_timeout_ms = 60000;
    if (cfg->write_timeout_ms <= 0) cfg->write_timeout_ms = 30000;
    if (cfg->graceful_timeout_ms <= 0) cfg->graceful_timeout_ms = 30000;
    if (!cfg->server_name) cfg->server_name = "vial";
}

void vial_server_config_init(vial_server_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->host = "127.0.0.1";
    cfg->port = 5000;
    fill_defaults(cfg);
}

int vial_worker_init(vial_worker *w, const vial_server_config *cfg, int index, int listen_fd) {
    memset(w, 0, sizeof *w);
    w->cfg = *cfg;
    fill_defaults(&w->cfg);
    w->index = index;
    w->listen_fd = listen_fd;
    w->signal_fd = -1;
    if (vial_loop_init(&w->loop, w->cfg.stack_size, IDLE_COROUTINES) != 0) {
        vial_log(VIAL_LOG_ERROR, "worker %d: epoll: %s", index, strerror(errno));
        return -1;
    }
    w->loop.after_turn = after_turn;
    w->loop.after_turn_arg = w;

    struct rlimit rl;
    size_t fd_limit = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY ? (size_t)rl.rlim_cur : 65536;
    w->max_connections = w->cfg.max_connections > 0 ? (size_t)w->cfg.max_connections
                                                    : (fd_limit > 128 ? fd_limit - 64 : fd_limit / 2);

    w->max_headers = w->cfg.limits.max_headers;
    w->scratch_headers = malloc(w->max_headers * sizeof *w->scratch_headers);
    size_t head_max = w->cfg.limits.max_header_bytes;
    if (w->cfg.limits.max_request_line + 2 > head_max) head_max = w->cfg.limits.max_request_line + 2;
    w->rbuf_max = head_max + 1024;
    w->rbufs = (vial_buf_pool){NULL, 0, POOLED_BUFFERS, RBUF_SIZE < w->rbuf_max ? RBUF_SIZE : w->rbuf_max};
    w->obufs = (vial_buf_pool){NULL, 0, POOLED_BUFFERS, OBUF_SIZE};
    w->listen_io.on_event = on_listen;
    w->signal_io.on_event = on_signal;
    vial_timer_init(&w->accept_retry, on_accept_retry);
    vial_timer_init(&w->stop_timer, on_stop_timeout);
    if (!w->scratch_headers) {
        vial_loop_close(&w->loop);
        return -1;
    }
    socklen_t len = sizeof w->local;
    if (listen_fd >= 0 && getsockname(listen_fd, &w->local.sa, &len) == 0) {
        if (w->local.sa.sa_family == AF_INET)
            w->local_wildcard = w->local.in.sin_addr.s_addr == htonl(INADDR_ANY);
        else if (w->local.sa.sa_family == AF_INET6)
            w->local_wildcard = IN6_IS_ADDR_UNSPECIFIED(&w->local.in6.sin6_addr);
    }
    return 0;
}

void vial_worker_cleanup(vial_worker *w) { worker_cleanup(w); }

int vial_worker_run(const vial_server_config *cfg, int index, int listen_fd, int ready_fd, bool single) {
    static vial_worker worker;
    vial_worker *w = &worker;

    /* Signals: SIGTERM and SIGUSR1 come through the loop; SIGINT and SIGHUP
     * are the master's (a terminal's Ctrl-C reaches the whole group). */
    signal(SIGINT, single ? SIG_DFL : SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGCHLD, SIG_DFL);
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGUSR1);
    if (single) sigaddset(&mask, SIGINT);
    sigprocmask(SIG_SETMASK, &mask, NULL);

    if (vial_worker_init(w, cfg, index, listen_fd) != 0) return 3;
    w->signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (w->signal_fd < 0) {
        vial_log(VIAL_LOG_ERROR, "worker %d: signalfd: %s", index, strerror(errno));
        worker_cleanup(w);
        return 3;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &w->signal_io};
    epoll_ctl(w->loop.epfd, EPOLL_CTL_ADD, w->signal_fd, &ev);

    if (w->cfg.worker_init && w->cfg.worker_init(w->cfg.handler_ctx, index) != 0) {
        vial_log(VIAL_LOG_ERROR, "worker %d: the worker init callback failed", index);
        worker_cleanup(w);
        return 3;
    }
    int flags = fcntl(listen_fd, F_GETFL);
    fcntl(listen_fd, F_SETFL, flags | O_NONBLOCK);
    listen_on(w, true);

    if (ready_fd >= 0) {
        int32_t pid = (int32_t)getpid();
        ssize_t wr = write(ready_fd, &pid, sizeof pid);
        (void)wr;
        close(ready_fd);
    }

    while (!w->done) vial_loop_turn(&w->loop, -1);

    if (w->cfg.worker_exit) w->cfg.worker_exit(w->cfg.handler_ctx, index);
    worker_cleanup(w);
    sigprocmask(SIG_UNBLOCK, &mask, NULL);
    return 0;
}

void vial_worker_main(const vial_server_config *cfg, int index, int listen_fd, int ready_fd) {
    exit(vial_worker_run(cfg, index, listen_fd, ready_fd, false));
}
