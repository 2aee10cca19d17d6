/* wait.c - vial_wait_fd / vial_sleep_ms / vial_park / vial_in_coroutine.
 *
 * The waiting primitives the upper layers (PostgreSQL, Redis, WebSockets)
 * build on. On a request's coroutine they park it on the worker's loop, so the
 * worker serves other requests meanwhile; anywhere else (CLI commands, tests,
 * a worker's init callback) they block the thread in poll(2) / nanosleep. */
#include <errno.h>
#include <poll.h>
#include <time.h>

#include "server/loop.h"
#include "vial.h"

bool vial_in_coroutine(void) { return vial_loop_current() != NULL && vial_coro_current() != NULL; }

int vial_wait_fd(int fd, int events, int timeout_ms) {
    if (fd < 0 || !(events & (VIAL_WAIT_READ | VIAL_WAIT_WRITE))) {
        errno = EINVAL;
        return -1;
    }
    if (vial_in_coroutine()) return vial_loop_wait_fd(vial_loop_current(), fd, events, timeout_ms);
    struct pollfd p = {.fd = fd, .events = (short)((events & VIAL_WAIT_READ ? POLLIN : 0) |
                                                   (events & VIAL_WAIT_WRITE ? POLLOUT : 0))};
    int rc;
    do rc = poll(&p, 1, timeout_ms);
    while (rc < 0 && errno == EINTR);
    if (rc <= 0) return rc;
    int ready = 0;
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) ready |= VIAL_WAIT_READ;
    if (p.revents & (POLLOUT | POLLERR)) ready |= VIAL_WAIT_WRITE;
    if (p.revents & POLLNVAL) {
        errno = EBADF;
        return -1;
    }
    return ready ? ready : -1;
}

void vial_sleep_ms(int ms) {
    if (vial_in_coroutine()) {
        vial_loop_sleep(vial_loop_current(), ms);
        return;
    }
    if (ms <= 0) return;
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

int vial_park(void **slot, int timeout_ms) {
    if (!slot || !vial_in_coroutine()) {
        errno = EINVAL;
        return -1;
    }
    return vial_loop_park(vial_loop_current(), slot, timeout_ms);
}

void vial_unpark(void **slot) {
    if (slot && *slot && vial_loop_current()) vial_loop_unpark(vial_loop_current(), slot);
}
