/* buf.c - growable byte buffers with a hard maximum.
 *
 * Every buffer knows its ceiling from birth (the way curl's dynbuf does): an
 * append that would pass it fails with -1 and leaves the buffer as it was, so
 * a request line, a header block, a form part or template output can never
 * grow without bound. A buffer draws from an arena when given one (request
 * scope: freed with the request) and from malloc otherwise. The contents are
 * always NUL-terminated so they can be handed to C string functions, but the
 * length is what counts: the bytes may contain NULs. */
#include "vial.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vial_buf_init(vial_buf *b, vial_arena *arena, size_t max) {
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max ? max : SIZE_MAX / 2;
    b->arena = arena;
}

void vial_buf_free(vial_buf *b) {
    if (!b->arena) free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void vial_buf_reset(vial_buf *b) {
    b->len = 0;
    if (b->data) b->data[0] = '\0';
}

int vial_buf_reserve(vial_buf *b, size_t extra) {
    if (extra > b->max || b->len > b->max - extra) return -1;
    size_t need = b->len + extra;
    if (need < b->cap) return 0; /* strictly less: keep room for the NUL */
    size_t cap = b->cap ? b->cap : 64;
    while (cap <= need) cap = cap > SIZE_MAX / 4 ? need + 1 : cap * 2;
    if (cap > b->max + 1) cap = b->max + 1;
    char *p;
    if (b->arena)
        p = vial_arena_grow(b->arena, b->data, b->cap, cap);
    else
        p = realloc(b->data, cap);
    if (!p) return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

int vial_buf_append(vial_buf *b, const void *bytes, size_t n) {
    if (vial_buf_reserve(b, n) != 0) return -1;
    if (n) memcpy(b->data + b->len, bytes, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int vial_buf_puts(vial_buf *b, const char *s) { return vial_buf_append(b, s, strlen(s)); }

int vial_buf_putc(vial_buf *b, int c) {
    if (b->len + 1 < b->cap) {
        b->data[b->len++] = (char)c;
        b->data[b->len] = '\0';
        return 0;
    }
    char ch = (char)c;
    return vial_buf_append(b, &ch, 1);
}

int vial_buf_vprintf(vial_buf *b, const char *fmt, va_list ap) {
    va_list copy;
    va_copy(copy, ap);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, copy);
    va_end(copy);
    if (n < 0) return -1;
    if ((size_t)n < sizeof small) return vial_buf_append(b, small, (size_t)n);
    if (vial_buf_reserve(b, (size_t)n) != 0) return -1;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int vial_buf_printf(vial_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int rc = vial_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

int vial_buf_put_i64(vial_buf *b, int64_t v) {
    char tmp[24];
    char *end = tmp + sizeof tmp, *p = end;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) *--p = '-';
    return vial_buf_append(b, p, (size_t)(end - p));
}

const char *vial_buf_cstr(vial_buf *b) {
    if (!b->data) {
        if (vial_buf_reserve(b, 0) != 0) return "";
        b->data[0] = '\0';
    }
    return b->data;
}
