/* loop.h - a worker's event loop: epoll, the timer wheel, parked coroutines.
 *
 * One loop per worker process, one thread, no locks. Everything registered
 * with epoll starts with a vial_io whose callback the loop calls with the
 * ready events. Coroutines park on the loop (an fd, a timeout, or both) and
 * are resumed from the loop's own stack when what they wait for happens. */
#ifndef VIAL_SERVER_LOOP_H
#define VIAL_SERVER_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "server/coro.h"
#include "server/timer.h"

typedef struct vial_io vial_io;
typedef void (*vial_io_fn)(vial_io *io, uint32_t events);
struct vial_io {
    vial_io_fn on_event; /* epoll_event.data.ptr points at this */
};

/* What a coroutine is doing for its owner: done() runs on the loop's stack
 * after the coroutine's function returned (set it with vial_coro_set_data). */
typedef struct vial_job vial_job;
struct vial_job {
    void (*done)(vial_job *job);
};

/* A parked coroutine waiting for an fd, a timeout, or a plain wake-up. */
typedef struct vial_waiter {
    vial_io io;
    vial_timer timer;
    vial_coro *co;
    struct vial_waiter *next_ready;
    int fd;
    int result;  /* VIAL_WAIT_* bits that woke it, 0 on timeout, -1 on error; parked: 1 woken */
    void **slot; /* vial_loop_park: where the waker finds it */
} vial_waiter;

typedef struct vial_loop {
    int epfd;
    uint64_t now; /* CLOCK_MONOTONIC in ms, refreshed once per turn */
    vial_wheel wheel;
    vial_coro_pool coros;
    vial_waiter *ready_head, *ready_tail; /* woken, to resume after this turn's events */
    void (*after_turn)(struct vial_loop *l, void *arg); /* deferred work (freeing closed connections) */
    void *after_turn_arg;
    bool busy; /* work is waiting outside epoll (after_turn will do it): do not sleep */
} vial_loop;

/* Creates the epoll instance and pools; -1 with errno on failure. Makes l the thread's loop. */
int vial_loop_init(vial_loop *l, size_t stack_size, size_t idle_coros);
/* Closes epoll and unmaps idle coroutines. */
void vial_loop_close(vial_loop *l);
/* The loop of this thread (NULL outside a worker). */
vial_loop *vial_loop_current(void);
/* Refreshes and returns l->now. */
uint64_t vial_loop_update_now(vial_loop *l);
/* One turn: wait for events (at most max_wait_ms; <0 = as long as timers
 * allow), dispatch them, fire due timers, resume woken coroutines. */
void vial_loop_turn(vial_loop *l, int max_wait_ms);

/* Resumes co; when its function has returned, calls its job's done(). */
void vial_loop_resume(vial_loop *l, vial_coro *co);

/* From a coroutine: park until fd is ready (VIAL_WAIT_* bits) or timeout_ms
 * passes (<0: no timeout). Returns the ready bits, 0 on timeout, -1 on error
 * (errno set; EEXIST when the fd is already watched by this loop). */
int vial_loop_wait_fd(vial_loop *l, int fd, int events, int timeout_ms);
/* From a coroutine: park for ms milliseconds (0: let the others run first). */
void vial_loop_sleep(vial_loop *l, int ms);
/* From a coroutine: park until vial_loop_unpark(slot) or timeout_ms (<0: none);
 * *slot holds the parked waiter meanwhile. 1 woken, 0 timed out. */
int vial_loop_park(vial_loop *l, void **slot, int timeout_ms);
/* Wakes the coroutine parked on slot after this turn's events (nothing when none is). */
void vial_loop_unpark(vial_loop *l, void **slot);

#endif
