/* clock.c - the wall clock that signs and checks timestamps.
 *
 * Tokens and session cookies carry the second they were signed, and a
 * timestamp later than "now" is refused (itsdangerous: "Signature age < 0").
 * Python reads CLOCK_REALTIME; glibc's time() reads the coarse clock, which
 * can be a tick behind it, so during the first milliseconds of each second
 * a cookie just signed by a Flask app (or another vial process) would look
 * like it came from the future and be dropped. Every timestamp here comes
 * from the precise clock instead. */
#include <time.h>

#include "session/internal.h"

int64_t vial_unix_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec;
}
