/* worker.h - a worker process's state: its loop, connections and requests.
 *
 * Shared by the files that make up a worker: worker.c (accept, signals,
 * graceful stop), conn.c (reading and parsing on the loop, flushing output),
 * task.c (a request on its coroutine: handler, body reader, response). */
#ifndef VIAL_SERVER_WORKER_H
#define VIAL_SERVER_WORKER_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "server/loop.h"
#include "server/server.h"

typedef struct vial_conn vial_conn;
typedef struct vial_task vial_task;

/* A socket address as a connection keeps it: only IP families reach a worker. */
typedef union vial_sockaddr {
    struct sockaddr sa;
    struct sockaddr_in in;
    struct sockaddr_in6 in6;
} vial_sockaddr;

/* Free lists of fixed-size buffers: idle connections give their buffers back. */
typedef struct vial_buf_pool {
    void *free;  /* singly linked through the first word of each buffer */
    size_t count, max;
    size_t size;
} vial_buf_pool;

typedef struct vial_worker {
    vial_loop loop;
    vial_server_config cfg; /* defaults filled in */
    int index;
    int listen_fd;
    vial_io listen_io;
    vial_timer accept_retry; /* accepting paused (EMFILE, connection limit) */
    int signal_fd;
    vial_io signal_io;
    vial_sockaddr local;     /* the listening address */
    bool local_wildcard;     /* bound to 0.0.0.0 / ::: ask each connection */

    bool stopping;           /* graceful stop: no accepting, close when idle */
    bool close_idle_pending; /* close idle connections after this turn */
    bool done;               /* leave the loop */
    vial_timer stop_timer;

    vial_conn *conns;        /* open connections, doubly linked */
    size_t conn_count;
    size_t max_connections;
    vial_conn *dead;         /* closed this turn, freed after it (events may still name them) */
    vial_conn *deferred;     /* readable connections that had their share of this turn */
    vial_conn *free_conns;
    size_t free_conn_count;
    vial_task *free_tasks;
    size_t free_task_count;
    vial_buf_pool rbufs, obufs;

    /* The parser writes here; a complete request is copied to its task. */
    vial_http_request scratch;
    vial_http_header *scratch_headers;
    size_t max_headers;
    size_t rbuf_max;         /* a read buffer never grows past this (the head limits) */
} vial_worker;

enum { CONN_READ, CONN_TASK, CONN_LINGER, CONN_CLOSED };
enum { TIMER_NONE, TIMER_IDLE, TIMER_HEADER, TIMER_WRITE, TIMER_LINGER, TIMER_WAIT };

struct vial_conn {
    vial_io io; /* first: epoll data */
    vial_conn *next, *prev;
    vial_worker *worker;
    int fd;
    uint8_t state;
    uint8_t timer_kind;
    bool readable;   /* edge-triggered: bytes may be waiting (no short read since the last edge) */
    bool writable;   /* no EAGAIN since the last EPOLLOUT edge */
    bool want_close; /* close once the queued output is written */
    bool linger;     /* ... and read what the client still sends before closing (RFC 9112 9.6) */
    bool broken;     /* the socket failed: close without writing more */
    bool driving;    /* conn_drive() is on the stack */
    bool wait_timed_out;
    bool peer_closed; /* EPOLLRDHUP seen: a short read no longer means drained, EOF is pending */
    bool deferred;    /* on the worker's deferred list */
    uint32_t served; /* responses queued so far */
    char *rbuf;
    uint32_t rcap, rlen;
    uint32_t rpos;  /* start of the next request */
    uint32_t rscan; /* bytes from rpos the parser saw incomplete */
    vial_buf out;   /* response bytes queued, written from opos */
    size_t opos;
    vial_timer timer;
    uint64_t deadline;    /* when timer_kind's timeout is due; the wheel entry may be earlier */
    vial_task *task;      /* the request on a coroutine, NULL when none */
    vial_coro *waiter;    /* that request's coroutine, parked on this socket */
    uint32_t wait_events; /* EPOLLIN / EPOLLOUT it waits for */
    vial_sockaddr remote;
    vial_sockaddr local;
    vial_conn *next_dead;
    vial_conn *next_deferred;
};

/* worker.c */
/* Sets up a worker (loop, pools, limits) without signals or forking; tests
 * use it to drive connections in-process. listen_fd may be -1. */
int vial_worker_init(vial_worker *w, const vial_server_config *cfg, int index, int listen_fd);
/* Closes every connection and releases everything vial_worker_init made. */
void vial_worker_cleanup(vial_worker *w);
/* Runs a worker in this process until it stops; returns its exit status.
 * single: also stop on SIGINT (there is no master to relay it). */
int vial_worker_run(const vial_server_config *cfg, int index, int listen_fd, int ready_fd, bool single);
/* The worker process's main: never returns. */
void vial_worker_main(const vial_server_config *cfg, int index, int listen_fd, int ready_fd) __attribute__((noreturn));
void *vial_buf_pool_get(vial_buf_pool *p);
void vial_buf_pool_put(vial_buf_pool *p, void *buf);

/* conn.c */
void vial_conn_open(vial_worker *w, int fd, const vial_sockaddr *remote);
/* Runs the connection's state machine (reads, parses, dispatches, flushes). */
void vial_conn_drive(vial_conn *c);
void vial_conn_close(vial_conn *c);
/* Drives the connections deferred during this turn (after its events). */
void vial_conn_run_deferred(vial_worker *w);
/* Arms the connection's single timer for a purpose (TIMER_*). */
void vial_conn_set_timer(vial_conn *c, int kind, int ms);
/* Makes sure the output buffer exists; -1 when out of memory. */
int vial_conn_out_ready(vial_conn *c);

/* task.c */
/* Starts the request whose head (head_len bytes at c->rpos) is in w->scratch. */
void vial_task_dispatch(vial_conn *c, size_t head_len);
/* Queues a response the server makes itself (an error), closing afterwards. */
void vial_conn_queue_error(vial_conn *c, int status);
/* From the request's coroutine: park until the socket is readable/writable or the timeout. */
bool vial_task_wait_socket(vial_conn *c, uint32_t events, int timeout_ms);
void vial_task_free_pool(vial_worker *w);

#endif
