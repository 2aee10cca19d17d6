/* forms_testutil.h - helpers for the form/cookie suites: hex decoding and a
 * body reader that hands out bytes in chosen chunk sizes (whole, fixed, or
 * pseudo-random), so every parser is checked against every way a body can
 * arrive. */
#ifndef VIAL_FORMS_TESTUTIL_H
#define VIAL_FORMS_TESTUTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "vial.h"

/* Decodes hex into a malloc'd buffer (NUL-terminated); *len gets the size. */
static inline char *hex_decode(const char *hex, size_t hex_len, size_t *len) {
    char *out = malloc(hex_len / 2 + 1);
    for (size_t i = 0; i + 1 < hex_len; i += 2) {
        unsigned v;
        sscanf(hex + i, "%2x", &v);
        out[i / 2] = (char)v;
    }
    out[hex_len / 2] = '\0';
    *len = hex_len / 2;
    return out;
}

typedef struct memreader {
    const char *data;
    size_t len, pos;
    size_t chunk;  /* 0: as much as asked; else at most this many per read */
    uint32_t seed; /* nonzero: random chunk sizes 1..chunk */
    size_t reads;
} memreader;

static inline ssize_t mem_read(void *ctx, char *dst, size_t n) {
    memreader *r = ctx;
    r->reads++;
    size_t left = r->len - r->pos;
    size_t want = n < left ? n : left;
    if (r->chunk && want > r->chunk) want = r->chunk;
    if (r->seed && want > 1) {
        r->seed = r->seed * 1103515245u + 12345u;
        want = 1 + (r->seed >> 8) % want;
    }
    memcpy(dst, r->data + r->pos, want);
    r->pos += want;
    return (ssize_t)want;
}

static inline memreader memreader_of(const char *data, size_t len, size_t chunk, uint32_t seed) {
    memreader r = {data, len, 0, chunk, seed, 0};
    return r;
}

#endif
