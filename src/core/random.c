/* random.c - bytes from the kernel's CSPRNG.
 *
 * Salts, session ids, CSRF tokens and multipart boundaries must not be
 * guessable; getrandom(2) never blocks once the pool is initialized and
 * needs no file descriptor. */
#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#include "vial.h"

int vial_random_bytes(void *out, size_t n) {
    unsigned char *p = out;
    while (n > 0) {
        ssize_t got = getrandom(p, n, 0);
        if (got < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += got;
        n -= (size_t)got;
    }
    return 0;
}
