/* libFuzzer target: query strings and urlencoded bodies. The first byte
 * picks a read size for the streamed parse; the rest is the body. Checks:
 * every key and value is valid UTF-8, and the in-memory, streamed and query
 * parsers agree pair for pair. */
#include <stdint.h>
#include <string.h>

#include "vial.h"

typedef struct reader {
    const char *data;
    size_t len, pos, chunk;
} reader;

static ssize_t read_some(void *ctx, char *dst, size_t n) {
    reader *r = ctx;
    size_t want = r->len - r->pos;
    if (want > n) want = n;
    if (want > r->chunk) want = r->chunk;
    memcpy(dst, r->data + r->pos, want);
    r->pos += want;
    return (ssize_t)want;
}

static void check_same(const vial_multidict *x, const vial_multidict *y) {
    if (x->len != y->len) __builtin_trap();
    for (size_t i = 0; i < x->len; i++) {
        const vial_pair *p = &x->items[i], *q = &y->items[i];
        if (p->key.len != q->key.len || memcmp(p->key.ptr, q->key.ptr, p->key.len) != 0) __builtin_trap();
        if (p->value.len != q->value.len || memcmp(p->value.ptr, q->value.ptr, p->value.len) != 0) __builtin_trap();
        if (!vial_utf8_valid(p->key.ptr, p->key.len) || !vial_utf8_valid(p->value.ptr, p->value.len)) __builtin_trap();
        if (p->key.ptr[p->key.len] || p->value.ptr[p->value.len]) __builtin_trap(); /* NUL-terminated */
        if (vial_multidict_find(x, p->key.ptr, p->key.len) == NULL) __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    size_t chunk = (size_t)data[0] % 17 + 1;
    const char *body = (const char *)data + 1;
    size_t n = size - 1;
    vial_arena *a = vial_arena_new(4096);
    vial_form_limits lim = {.max_fields = 100000, .max_bytes = 1 << 20};
    vial_form_error err;
    vial_multidict q, mem, stream;
    vial_multidict_init(&q, a, false);
    vial_multidict_init(&mem, a, false);
    vial_multidict_init(&stream, a, false);
    if (vial_parse_query(a, body, n, &q) != 0) __builtin_trap();
    if (vial_parse_urlencoded(a, body, n, &lim, &mem, &err) != 0) __builtin_trap();
    reader r = {body, n, 0, chunk};
    if (vial_parse_urlencoded_stream(a, read_some, &r, &lim, &stream, &err) != 0) __builtin_trap();
    check_same(&q, &mem);
    check_same(&q, &stream);
    vial_multidict_items_multi(&q);
    vial_arena_free(a);
    return 0;
}
