/* multipart_rss - memory stays flat while a large file part streams in.
 *
 *   build/release/bench/multipart_rss [MiB] [read_size]
 *
 * Feeds a multipart body with one file part of MiB mebibytes (default 100)
 * through vial_parse_multipart's pull callback, generating the bytes on the
 * fly (the body itself never exists in memory), and prints the peak RSS
 * before and after the parse. The file part goes to a temp file; the parse
 * itself must not hold more than its working buffer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "vial.h"

typedef struct gen {
    const char *head, *tail;
    size_t head_len, tail_len;
    size_t file_size, pos, total, read_size;
    uint32_t seed;
} gen;

static ssize_t gen_read(void *ctx, char *dst, size_t n) {
    gen *g = ctx;
    if (n > g->read_size) n = g->read_size;
    size_t out = 0;
    while (out < n && g->pos < g->total) {
        size_t at = g->pos;
        if (at < g->head_len) {
            dst[out++] = g->head[at];
        } else if (at < g->head_len + g->file_size) {
            g->seed = g->seed * 1103515245u + 12345u;
            dst[out++] = (char)(g->seed >> 16);
        } else {
            dst[out++] = g->tail[at - g->head_len - g->file_size];
        }
        g->pos++;
    }
    return (ssize_t)out;
}

static long peak_rss_kib(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

int main(int argc, char **argv) {
    size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 100;
    size_t read_size = argc > 2 ? strtoul(argv[2], NULL, 10) : 65536;
    gen g = {0};
    g.head = "--XyZ\r\nContent-Disposition: form-data; name=\"up\"; filename=\"big.bin\"\r\n"
             "Content-Type: application/octet-stream\r\n\r\n";
    g.tail = "\r\n--XyZ--\r\n";
    g.head_len = strlen(g.head);
    g.tail_len = strlen(g.tail);
    g.file_size = mib << 20;
    g.total = g.head_len + g.file_size + g.tail_len;
    g.read_size = read_size ? read_size : 1;
    g.seed = 1;

    vial_arena *a = vial_arena_new(4096);
    vial_multidict form;
    vial_multidict_init(&form, a, false);
    vial_files files = {0};
    vial_form_error err;
    long before = peak_rss_kib();
    int rc = vial_parse_multipart(a, "XyZ", 3, gen_read, &g, NULL, &form, &files, &err);
    long after = peak_rss_kib();
    if (rc != 0) {
        fprintf(stderr, "parse failed: %d %s\n", err.status, err.message);
        return 1;
    }
    if (files.len != 1 || files.items[0]->size != g.file_size || !files.items[0]->path) {
        fprintf(stderr, "unexpected result\n");
        return 1;
    }
    printf("file part: %zu MiB streamed to %s in reads of %zu bytes\n", mib, files.items[0]->path, g.read_size);
    printf("peak RSS before parse: %ld KiB, after: %ld KiB, growth: %ld KiB\n", before, after, after - before);
    vial_arena_free(a);
    return 0;
}
