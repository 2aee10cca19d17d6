/* libFuzzer target: multipart/form-data. Byte 0 picks the boundary, byte 1
 * how the body arrives (read sizes 1..64 or random), byte 2 the temp-file
 * threshold; the rest is the body. The parse must not depend on how the
 * bytes arrive: a streamed parse must give exactly the result of a
 * whole-body parse (same error or same fields, files and bytes); a failed
 * parse keeps nothing; every name and value is UTF-8. */
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "vial.h"

typedef struct reader {
    const char *data;
    size_t len, pos, chunk;
    uint32_t seed;
} reader;

static ssize_t read_some(void *ctx, char *dst, size_t n) {
    reader *r = ctx;
    size_t want = r->len - r->pos;
    if (want > n) want = n;
    if (r->chunk && want > r->chunk) want = r->chunk;
    if (r->seed && want > 1) {
        r->seed = r->seed * 1103515245u + 12345u;
        want = 1 + (r->seed >> 8) % want;
    }
    memcpy(dst, r->data + r->pos, want);
    r->pos += want;
    return (ssize_t)want;
}

typedef struct result {
    int rc, status;
    vial_multidict form;
    vial_files files;
} result;

static void parse(vial_arena *a, const char *boundary, const char *body, size_t n, size_t chunk, uint32_t seed,
                  size_t threshold, result *out) {
    vial_multidict_init(&out->form, a, false);
    memset(&out->files, 0, sizeof out->files);
    reader r = {body, n, 0, chunk, seed};
    vial_form_limits lim = {.file_threshold = threshold};
    vial_form_error err = {0};
    out->rc = vial_parse_multipart(a, boundary, strlen(boundary), read_some, &r, &lim, &out->form, &out->files, &err);
    out->status = err.status;
    if (out->rc != 0 && (out->form.len || out->files.len || !err.status || !err.message[0])) __builtin_trap();
    if (out->rc == 0 && r.pos != n) __builtin_trap(); /* the body is read to its end */
}

static bool same_str(const char *x, const char *y) { return (!x && !y) || (x && y && strcmp(x, y) == 0); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *const boundaries[] = {"XyZ", "b", "----WebKitFormBoundary7MA4YWxkTrZu0gW", "--", "a b"};
    if (size < 3) return 0;
    const char *boundary = boundaries[data[0] % 5];
    size_t chunk = data[1] & 0x80 ? 0 : (size_t)(data[1] & 0x3f) + 1;
    uint32_t seed = data[1] & 0x80 ? data[1] * 2654435761u : 0;
    size_t threshold = data[2] < 128 ? (size_t)data[2] : 0;
    const char *body = (const char *)data + 3;
    size_t n = size - 3;
    vial_arena *a = vial_arena_new(8192);
    result whole, streamed;
    parse(a, boundary, body, n, 0, 0, threshold, &whole);
    parse(a, boundary, body, n, chunk, seed, threshold, &streamed);
    if (whole.rc != streamed.rc || whole.status != streamed.status) __builtin_trap();
    if (whole.form.len != streamed.form.len || whole.files.len != streamed.files.len) __builtin_trap();
    for (size_t i = 0; i < whole.form.len; i++) {
        const vial_pair *p = &whole.form.items[i], *q = &streamed.form.items[i];
        if (p->value.len != q->value.len || memcmp(p->value.ptr, q->value.ptr, p->value.len) != 0) __builtin_trap();
        if (strcmp(p->key.ptr, q->key.ptr) != 0) __builtin_trap();
        if (!vial_utf8_valid(p->key.ptr, p->key.len) || !vial_utf8_valid(p->value.ptr, p->value.len)) __builtin_trap();
    }
    for (size_t i = 0; i < whole.files.len; i++) {
        vial_file *f = whole.files.items[i], *g = streamed.files.items[i];
        if (f->size != g->size || !same_str(f->filename, g->filename) || !same_str(f->field, g->field) ||
            !same_str(f->content_type, g->content_type) || !same_str(f->mimetype, g->mimetype))
            __builtin_trap();
        if (!vial_utf8_valid(f->filename, strlen(f->filename))) __builtin_trap();
        const char *x = vial_file_bytes(f, a), *y = vial_file_bytes(g, a);
        if (!x || !y || memcmp(x, y, f->size) != 0) __builtin_trap();
        if (f->size > (threshold ? threshold : 500 * 1024) && !f->path)
            __builtin_trap(); /* over the threshold: on disk */
    }
    vial_arena_free(a); /* closes and removes the temp files */
    return 0;
}
