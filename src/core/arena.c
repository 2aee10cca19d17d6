/* arena.c - the per-request region allocator.
 *
 * Everything a request allocates (parsed headers, values, JSON, rendered
 * templates, DB rows) comes from one arena and is released in one step when
 * the response is done. Memory is handed out by bumping a pointer through
 * blocks obtained from malloc; a request that allocates more simply chains
 * another block. Large allocations get a block of their own so they do not
 * waste the tail of the current one. Cleanups (temp files, connections back to
 * a pool) are registered with vial_arena_defer and run, newest first, on reset
 * or free. The first block is kept across resets so a steady-state request
 * costs no malloc at all. */
#include "vial.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_ALIGN 16
#define ALIGN_UP(n) (((n) + (ARENA_ALIGN - 1)) & ~(size_t)(ARENA_ALIGN - 1))

typedef struct arena_block {
    struct arena_block *next;
    size_t size;       /* usable bytes in data */
    size_t used;
    _Alignas(ARENA_ALIGN) char data[];
} arena_block;

typedef struct arena_cleanup {
    struct arena_cleanup *next;
    void (*fn)(void *);
    void *arg;
} arena_cleanup;

struct vial_arena {
    arena_block *head;        /* current block (newest) */
    arena_block *first;       /* kept on reset */
    arena_cleanup *cleanups;
    size_t block_size;
    size_t total;             /* bytes handed out, for limits and stats */
    size_t limit;             /* 0 = unlimited */
    void *last_ptr;           /* most recent allocation, for in-place growth */
    size_t last_size;
};

static arena_block *block_new(size_t size) {
    arena_block *b = malloc(sizeof(arena_block) + size);
    if (!b) return NULL;
    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

vial_arena *vial_arena_new(size_t first_block) {
    if (first_block < 1024) first_block = 1024;
    vial_arena *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->block_size = ALIGN_UP(first_block);
    a->first = block_new(a->block_size);
    if (!a->first) {
        free(a);
        return NULL;
    }
    a->head = a->first;
    return a;
}

void vial_arena_set_limit(vial_arena *a, size_t limit) { a->limit = limit; }

static void run_cleanups(vial_arena *a) {
    /* A cleanup may itself register a cleanup (rare); loop until none left. */
    while (a->cleanups) {
        arena_cleanup *c = a->cleanups;
        a->cleanups = NULL;
        while (c) {
            arena_cleanup *next = c->next;
            c->fn(c->arg);
            c = next;
        }
    }
}

void vial_arena_reset(vial_arena *a) {
    if (!a) return;
    run_cleanups(a);
    arena_block *b = a->head;
    while (b) {
        arena_block *next = b->next;
        if (b != a->first) free(b);
        b = next;
    }
    a->head = a->first;
    a->first->used = 0;
    a->first->next = NULL;
    a->total = 0;
    a->last_ptr = NULL;
    a->last_size = 0;
}

void vial_arena_free(vial_arena *a) {
    if (!a) return;
    vial_arena_reset(a);
    free(a->first);
    free(a);
}

size_t vial_arena_used(const vial_arena *a) { return a->total; }

void *vial_arena_alloc(vial_arena *a, size_t n) {
    if (n == 0) n = 1;
    if (n > SIZE_MAX / 2) return NULL;
    size_t need = ALIGN_UP(n);
    if (a->limit && a->total + need > a->limit) return NULL;
    arena_block *b = a->head;
    if (b->size - b->used < need) {
        /* Big requests get a dedicated block; otherwise start a fresh
         * block of the usual size, growing with the arena. */
        size_t size = a->block_size;
        if (a->total > size) size = a->total < ((size_t)1 << 24) ? a->total : ((size_t)1 << 24);
        size = ALIGN_UP(size);
        if (need > size / 2) size = need;
        arena_block *nb = block_new(size);
        if (!nb) return NULL;
        if (size == need && b->size - b->used > 256) {
            /* Keep using the current block for small allocations: put the
             * dedicated block behind it. */
            nb->next = b->next;
            b->next = nb;
            nb->used = need;
            a->total += need;
            a->last_ptr = NULL;
            return nb->data;
        }
        nb->next = b;
        a->head = nb;
        b = nb;
    }
    void *p = b->data + b->used;
    b->used += need;
    a->total += need;
    a->last_ptr = p;
    a->last_size = need;
    return p;
}

void *vial_arena_calloc(vial_arena *a, size_t n) {
    void *p = vial_arena_alloc(a, n);
    if (p) memset(p, 0, n);
    return p;
}

void *vial_arena_grow(vial_arena *a, void *ptr, size_t old_size, size_t new_size) {
    if (!ptr) return vial_arena_alloc(a, new_size);
    if (new_size <= old_size) return ptr;
    if (ptr == a->last_ptr) {
        arena_block *b = a->head;
        size_t extra = ALIGN_UP(new_size) - a->last_size;
        if ((char *)ptr + a->last_size == b->data + b->used && b->size - b->used >= extra &&
            (!a->limit || a->total + extra <= a->limit)) {
            b->used += extra;
            a->total += extra;
            a->last_size += extra;
            return ptr;
        }
    }
    void *np = vial_arena_alloc(a, new_size);
    if (!np) return NULL;
    memcpy(np, ptr, old_size);
    return np;
}

char *vial_arena_strndup(vial_arena *a, const char *s, size_t n) {
    char *p = vial_arena_alloc(a, n + 1);
    if (!p) return NULL;
    if (n) memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *vial_arena_strdup(vial_arena *a, const char *s) {
    return vial_arena_strndup(a, s, strlen(s));
}

char *vial_arena_vsprintf(vial_arena *a, const char *fmt, va_list ap) {
    char small[256];
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(small, sizeof small, fmt, copy);
    va_end(copy);
    if (n < 0) return NULL;
    char *p = vial_arena_alloc(a, (size_t)n + 1);
    if (!p) return NULL;
    if ((size_t)n < sizeof small)
        memcpy(p, small, (size_t)n + 1);
    else
        vsnprintf(p, (size_t)n + 1, fmt, ap);
    return p;
}

char *vial_arena_sprintf(vial_arena *a, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char *p = vial_arena_vsprintf(a, fmt, ap);
    va_end(ap);
    return p;
}

int vial_arena_defer(vial_arena *a, void (*fn)(void *), void *arg) {
    arena_cleanup *c = vial_arena_alloc(a, sizeof *c);
    if (!c) return -1;
    c->fn = fn;
    c->arg = arg;
    c->next = a->cleanups;
    a->cleanups = c;
    return 0;
}
