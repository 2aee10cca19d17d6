/* wait.c - vial_wait_fd / vial_sleep_ms outside the event loop.
 *
 * Placeholder until the worker's coroutine scheduler lands: outside a
 * coroutine these block in poll(2) / nanosleep, which is also their final
 * behaviour for code running outside a worker (CLI commands, tests). */
#include <errno.h>
#include <poll.h>
#include <time.h>

#include "vial.h"

int vial_wait_fd(int fd, int events, int timeout_ms) {
    struct pollfd p = {.fd = fd, .events = (short)((events & VIAL_WAIT_READ ? POLLIN : 0) |
                                                   (events & VIAL_WAIT_WRITE ? POLLOUT : 0))};
    int rc;
    do rc = poll(&p, 1, timeout_ms);
    while (rc < 0 && errno == EINTR);
    if (rc <= 0) return rc;
    int ready = 0;
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) ready |= VIAL_WAIT_READ;
    if (p.revents & (POLLOUT | POLLERR)) ready |= VIAL_WAIT_WRITE;
    return ready ? ready : -1;
}

void vial_sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

bool vial_in_coroutine(void) { return false; }
