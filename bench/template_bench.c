/* template_bench - ns per render of two templates, for comparison with
 * Jinja2 (bench/template_bench.py renders the same files with the same data):
 *   fortunes  TechEmpower's fortunes page: 13 rows, escaped messages
 *   page      a 1,000-row table with loop.cycle, filters, if/else and a
 *             base template (extends, blocks, super())
 *
 *   template_bench [--iterations-scale F] [--only fortunes|page] [--dump DIR] [--callgrind N]
 *
 * The templates are read from $VIAL_SOURCE_DIR/bench/templates (default: ./bench/templates).
 * Each render starts from a reset arena and a fresh output buffer, the way a
 * request renders a page; the context is built once. --dump writes the
 * outputs (bench/template_bench.py checks they equal Jinja2's). --callgrind N
 * renders each template N times without timing, for instruction counts. */
#include "vial.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


static const char *fortune_messages[] = {
    "fortune: No such file or directory",
    "A computer scientist is someone who fixes things that aren't broken.",
    "After enough decimal places, nobody gives a damn.",
    "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1",
    "A computer program does what you tell it to do, not what you want it to do.",
    "Emacs is a nice operating system, but I prefer UNIX. \xe2\x80\x94 Tom Christaensen",
    "Any program that runs right is obsolete.",
    "A list is only as strong as its weakest link. \xe2\x80\x94 Donald Knuth",
    "Feature: A bug with seniority.",
    "Computers make very fast, very accurate mistakes.",
    "<script>alert(\"This should not be displayed in a browser alert box.\");</script>",
    ("\xe3\x83\x95\xe3\x83\xac\xe3\x83\xbc\xe3\x83\xa0\xe3\x83\xaf\xe3\x83\xbc\xe3\x82\xaf\xe3\x81\xae\xe3\x83\x99\xe3\x83"
     "\xb3\xe3\x83\x81\xe3\x83\x9e\xe3\x83\xbc\xe3\x82\xaf"),
};

static int cmp_fortune(const void *x, const void *y) {
    const vial_value *a = *(vial_value *const *)x, *b = *(vial_value *const *)y;
    return strcmp(vial_get_str(a, "message"), vial_get_str(b, "message"));
}

static vial_value *fortunes_context(vial_arena *a) {
    vial_value *list = vial_new_array(a);
    for (int i = 0; i < 12; i++)
        vial_array_push(list, vial_pack_in(a, "{s:i, s:s}", "id", i + 1, "message", fortune_messages[i]));
    vial_array_push(list, vial_pack_in(a, "{s:i, s:s}", "id", 0, "message", "Additional fortune added at request time."));
    qsort(list->as.arr.items, list->as.arr.len, sizeof(vial_value *), cmp_fortune);
    return vial_pack_in(a, "{s:o}", "fortunes", list);
}

static vial_value *page_context(vial_arena *a) {
    vial_value *rows = vial_new_array(a);
    char name[64], email[64], t1[8], t2[8];
    for (int i = 0; i < 1000; i++) {
        snprintf(name, sizeof name, "User %d <%d>", i, i % 10);
        snprintf(email, sizeof email, "USER%d@Example.COM", i);
        snprintf(t1, sizeof t1, "t%d", i % 5);
        snprintf(t2, sizeof t2, "t%d", i % 7);
        vial_array_push(rows, vial_pack_in(a, "{s:s, s:s, s:f, s:b, s:[s, s]}", "name", name, "email", email, "balance",
                                           i * 1.37 + 0.005, "active", i % 3 == 0, "tags", t1, t2));
    }
    vial_value *nav = vial_pack_in(a, "[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}]", "url", "/", "label", "home", "url",
                                   "/accounts", "label", "accounts", "url", "/about", "label", "about us");
    return vial_pack_in(a, "{s:s, s:i, s:s, s:o, s:s, s:o}", "site_name", "Vial & Co", "year", 2024, "current",
                        "/accounts", "nav", nav, "heading", "All accounts", "rows", rows);
}

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int render_once(vial_tpl_env *env, const char *name, const vial_value *ctx, vial_arena *a, size_t *len) {
    vial_arena_reset(a);
    vial_buf out;
    vial_buf_init(&out, a, 0);
    vial_tpl_error err;
    if (vial_tpl_render(env, name, ctx, NULL, a, &out, &err) != 0) {
        fprintf(stderr, "%s:%d:%d: %s\n", err.file, err.line, err.column, err.message);
        return -1;
    }
    if (len) *len = out.len;
    return 0;
}

int main(int argc, char **argv) {
    double scale = 1.0;
    const char *only = NULL, *dump = NULL;
    long callgrind = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--iterations-scale") == 0 && i + 1 < argc) scale = atof(argv[++i]);
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) only = argv[++i];
        else if (strcmp(argv[i], "--dump") == 0 && i + 1 < argc) dump = argv[++i];
        else if (strcmp(argv[i], "--callgrind") == 0 && i + 1 < argc) callgrind = atol(argv[++i]);
        else {
            fprintf(stderr, "usage: template_bench [--iterations-scale F] [--only fortunes|page] [--dump DIR] [--callgrind N]\n");
            return 2;
        }
    }
    vial_tpl_options opt = {.autoescape = VIAL_TPL_AUTOESCAPE_BY_NAME};
    vial_tpl_env *env = vial_tpl_env_new(&opt);
    char dir[4096];
    const char *src = getenv("VIAL_SOURCE_DIR");
    snprintf(dir, sizeof dir, "%s/bench/templates", src ? src : ".");
    vial_tpl_add_path(env, dir);
    vial_arena *data = vial_arena_new(1 << 20);
    vial_arena *a = vial_arena_new(1 << 20);
    struct {
        const char *label, *file;
        vial_value *ctx;
        long iterations;
    } cases[] = {
        {"fortunes", "fortunes.html", fortunes_context(data), 200000},
        {"page", "page.html", page_context(data), 2000},
    };
    for (size_t c = 0; c < 2; c++) {
        if (only && strcmp(only, cases[c].label) != 0) continue;
        size_t len = 0;
        if (render_once(env, cases[c].file, cases[c].ctx, a, &len) != 0) return 1;
        if (dump) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s.out", dump, cases[c].label);
            vial_arena_reset(a);
            vial_buf out;
            vial_buf_init(&out, a, 0);
            vial_tpl_error err;
            vial_tpl_render(env, cases[c].file, cases[c].ctx, NULL, a, &out, &err);
            FILE *f = fopen(path, "wb");
            if (!f || fwrite(out.data, 1, out.len, f) != out.len) return 1;
            fclose(f);
            continue;
        }
        if (callgrind) {
            for (long i = 0; i < callgrind; i++)
                if (render_once(env, cases[c].file, cases[c].ctx, a, NULL) != 0) return 1;
            continue;
        }
        long n = (long)(cases[c].iterations * scale);
        if (n < 1) n = 1;
        for (long i = 0; i < n / 10 + 1; i++) render_once(env, cases[c].file, cases[c].ctx, a, NULL); /* warm up */
        double best = 1e30;
        for (int round = 0; round < 5; round++) {
            double t0 = now_ns();
            for (long i = 0; i < n / 5 + 1; i++)
                if (render_once(env, cases[c].file, cases[c].ctx, a, NULL) != 0) return 1;
            double per = (now_ns() - t0) / (double)(n / 5 + 1);
            if (per < best) best = per;
        }
        printf("%-9s vial   %10.0f ns/render  (%zu bytes, best of 5 rounds of %ld)\n", cases[c].label, best, len,
               n / 5 + 1);
    }
    vial_arena_free(a);
    vial_arena_free(data);
    vial_tpl_env_free(env);
    return 0;
}
