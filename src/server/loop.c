/* loop.c - the epoll loop of a worker, and parking coroutines on it.
 *
 * A turn waits in epoll_wait for at most the time until the next timer, runs
 * each ready callback, then advances the timer wheel, then resumes the
 * coroutines woken without an event (sleep(0)). The clock is read once per
 * turn (vDSO, no system call), so arming a timer never costs a system call.
 * Coroutines waiting on an arbitrary fd (a database socket) register it with
 * EPOLLONESHOT for the wait and remove it afterwards, so a parked request
 * costs the loop nothing while it waits, and the fd is not left behind.
 * A coroutine can also park until another one wakes it (a request waiting
 * for the answer a shared database connection reads for it): no fd, no
 * system call, just the ready queue. */
#include "server/loop.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "vial.h"

#define EVENTS_PER_TURN 512

static _Thread_local vial_loop *current_loop;

uint64_t vial_loop_update_now(vial_loop *l) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    l->now = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    return l->now;
}

int vial_loop_init(vial_loop *l, size_t stack_size, size_t idle_coros) {
    memset(l, 0, sizeof *l);
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0) return -1;
    vial_loop_update_now(l);
    vial_wheel_init(&l->wheel, l->now);
    vial_coro_pool_init(&l->coros, stack_size, idle_coros);
    current_loop = l;
    return 0;
}

void vial_loop_close(vial_loop *l) {
    vial_coro_pool_destroy(&l->coros);
    if (l->epfd >= 0) close(l->epfd);
    l->epfd = -1;
    if (current_loop == l) current_loop = NULL;
}

vial_loop *vial_loop_current(void) { return current_loop; }

void vial_loop_resume(vial_loop *l, vial_coro *co) {
    (void)l;
    vial_job *job = vial_coro_data(co);
    if (vial_coro_resume(co) && job && job->done) job->done(job);
}

static void run_ready(vial_loop *l) {
    /* Only the waiters queued before this point: a coroutine that yields
     * again with sleep(0) waits for the next turn, so events are not starved. */
    vial_waiter *w = l->ready_head, *last = l->ready_tail;
    l->ready_head = l->ready_tail = NULL;
    while (w) {
        vial_waiter *next = w == last ? NULL : w->next_ready;
        vial_loop_resume(l, w->co);
        w = next;
    }
}

void vial_loop_turn(vial_loop *l, int max_wait_ms) {
    struct epoll_event events[EVENTS_PER_TURN];
    int timeout = -1;
    if (l->ready_head || l->busy) {
        timeout = 0;
    } else {
        int64_t next = vial_wheel_next_ms(&l->wheel, l->now);
        if (next >= 0) timeout = next > INT32_MAX ? INT32_MAX : (int)next;
    }
    if (max_wait_ms >= 0 && (timeout < 0 || timeout > max_wait_ms)) timeout = max_wait_ms;
    int n = epoll_wait(l->epfd, events, EVENTS_PER_TURN, timeout);
    vial_loop_update_now(l);
    for (int i = 0; i < n; i++) {
        vial_io *io = events[i].data.ptr;
        io->on_event(io, events[i].events);
    }
    vial_wheel_advance(&l->wheel, l->now);
    if (l->ready_head) run_ready(l);
    if (l->after_turn) l->after_turn(l, l->after_turn_arg);
}

/* ---- parking ---------------------------------------------------------- */

static void waiter_fd_ready(vial_io *io, uint32_t events) {
    vial_waiter *w = (vial_waiter *)((char *)io - offsetof(vial_waiter, io));
    int ready = 0;
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) ready |= VIAL_WAIT_READ;
    if (events & (EPOLLOUT | EPOLLERR)) ready |= VIAL_WAIT_WRITE;
    w->result = ready ? ready : -1;
    vial_timer_cancel(&current_loop->wheel, &w->timer);
    vial_loop_resume(current_loop, w->co);
}

static void waiter_timeout(vial_timer *t) {
    vial_waiter *w = (vial_waiter *)((char *)t - offsetof(vial_waiter, timer));
    w->result = 0;
    vial_loop_resume(current_loop, w->co);
}

int vial_loop_wait_fd(vial_loop *l, int fd, int events, int timeout_ms) {
    vial_waiter w;
    memset(&w, 0, sizeof w);
    w.io.on_event = waiter_fd_ready;
    w.co = vial_coro_current();
    w.fd = fd;
    vial_timer_init(&w.timer, waiter_timeout);
    struct epoll_event ev = {.events = EPOLLONESHOT, .data.ptr = &w.io};
    if (events & VIAL_WAIT_READ) ev.events |= EPOLLIN | EPOLLRDHUP;
    if (events & VIAL_WAIT_WRITE) ev.events |= EPOLLOUT;
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        /* Regular files and the like cannot be polled: they are always ready. */
        if (errno == EPERM) return events & (VIAL_WAIT_READ | VIAL_WAIT_WRITE);
        return -1;
    }
    /* The turn's clock may be old by the time a handler waits: a timeout
     * measured from it could end early. */
    if (timeout_ms >= 0) vial_timer_set(&l->wheel, &w.timer, vial_loop_update_now(l) + (uint64_t)timeout_ms);
    vial_coro_yield();
    int saved = errno;
    epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
    vial_timer_cancel(&l->wheel, &w.timer);
    errno = saved;
    return w.result;
}

static void ready_push(vial_loop *l, vial_waiter *w) {
    w->next_ready = NULL;
    if (l->ready_tail)
        l->ready_tail->next_ready = w;
    else
        l->ready_head = w;
    l->ready_tail = w;
}

static void parked_timeout(vial_timer *t) {
    vial_waiter *w = (vial_waiter *)((char *)t - offsetof(vial_waiter, timer));
    if (*w->slot == w) *w->slot = NULL;
    w->result = 0;
    vial_loop_resume(current_loop, w->co);
}

int vial_loop_park(vial_loop *l, void **slot, int timeout_ms) {
    vial_waiter w;
    memset(&w, 0, sizeof w);
    w.co = vial_coro_current();
    w.slot = slot;
    vial_timer_init(&w.timer, parked_timeout);
    *slot = &w;
    if (timeout_ms >= 0) vial_timer_set(&l->wheel, &w.timer, vial_loop_update_now(l) + (uint64_t)timeout_ms);
    vial_coro_yield();
    vial_timer_cancel(&l->wheel, &w.timer);
    if (*slot == &w) *slot = NULL;
    return w.result;
}

void vial_loop_unpark(vial_loop *l, void **slot) {
    vial_waiter *w = *slot;
    if (!w) return;
    *slot = NULL;
    vial_timer_cancel(&l->wheel, &w->timer);
    w->result = 1;
    ready_push(l, w);
}

static void sleeper_wake(vial_timer *t) {
    vial_waiter *w = (vial_waiter *)((char *)t - offsetof(vial_waiter, timer));
    vial_loop_resume(current_loop, w->co);
}

void vial_loop_sleep(vial_loop *l, int ms) {
    vial_waiter w;
    memset(&w, 0, sizeof w);
    w.co = vial_coro_current();
    if (ms <= 0) {
        ready_push(l, &w);
        vial_coro_yield();
        return;
    }
    vial_timer_init(&w.timer, sleeper_wake);
    vial_timer_set(&l->wheel, &w.timer, vial_loop_update_now(l) + (uint64_t)ms);
    vial_coro_yield();
}
