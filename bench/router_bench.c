/* router_bench.c - nanoseconds (and instructions) per route lookup with 10
 * and with 1,000 rules.
 *
 * Both maps share the same ten "app" rules (static pages, int/float/uuid/
 * string/path converters, a mixed segment); the big map adds 990 more of the
 * kinds a large API has (/api/v1/res17, /api/v1/res17/<int:id>/edit,
 * /docs/s3/<path:p>, /shop/c9/<slug>/<int:n>, ...). The same requests are
 * looked up against both: hits on static and dynamic rules, and misses. Each
 * lookup is what a request costs the router: vial_router_match on the raw
 * path (percent-decoding included) with a request arena reset afterwards.
 *
 *   router_bench                        both maps, wall-clock ns per lookup (best of 15 runs)
 *   router_bench --rules 1000 --iterations 2000 --quiet [--kind static|dynamic|miss]
 *                                       one map, for callgrind:
 *   valgrind --tool=callgrind --toggle-collect=run_lookups router_bench --rules 10 --iterations 2000 --quiet
 *
 * With --toggle-collect only run_lookups is counted; it performs
 * iterations x lookups matches (printed), so Ir / that = instructions per lookup. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vial.h"

static const char *const BASE_RULES[][2] = {
    {"/", "index"},
    {"/about", "about"},
    {"/api/v1/users", "users"},
    {"/api/v1/users/<int:id>", "user"},
    {"/api/v1/users/<int:id>/posts/<slug>", "user_post"},
    {"/static/<path:filename>", "static"},
    {"/blog/<int:year>/<int:month>/<slug>", "blog_post"},
    {"/user/<username>", "profile"},
    {"/goods/<float:cid>/<uuid:gid>", "goods"},
    {"/report.<any(csv, json):fmt>", "report"},
};

typedef struct lookup {
    const char *path;
    const char *kind; /* static | dynamic | miss */
} lookup;

static const lookup LOOKUPS[] = {
    {"/", "static"},
    {"/about", "static"},
    {"/api/v1/users", "static"},
    {"/api/v1/users/42", "dynamic"},
    {"/api/v1/users/42/posts/hello-world", "dynamic"},
    {"/static/css/app.css", "dynamic"},
    {"/blog/2024/05/my-first-post", "dynamic"},
    {"/user/alice", "dynamic"},
    {"/goods/3.5/c9bf9e57-1685-4c89-bafb-ff5af830be8a", "dynamic"},
    {"/report.csv", "dynamic"},
    {"/nonexistent", "miss"},
    {"/api/v1/nothing/here", "miss"},
    {"/api/v1/users/abc", "miss"},
    {"/user/alice/extra/deep", "miss"},
};
#define NLOOKUPS (sizeof LOOKUPS / sizeof LOOKUPS[0])

static void add(vial_router *r, const char *rule, const char *endpoint) {
    vial_rule_spec spec = {.rule = rule, .endpoint = endpoint};
    vial_route_error err;
    if (vial_router_add(r, &spec, &err) != 0) {
        fprintf(stderr, "router_bench: %s\n", err.message);
        exit(1);
    }
}

static vial_router *make_router(int nrules) {
    vial_router *r = vial_router_new();
    if (!r) exit(1);
    for (size_t i = 0; i < sizeof BASE_RULES / sizeof BASE_RULES[0]; i++) add(r, BASE_RULES[i][0], BASE_RULES[i][1]);
    char rule[128], endpoint[64];
    for (int i = 0; (int)vial_router_count(r) < nrules; i++) {
        int group = i / 5;
        switch (i % 5) {
        case 0: snprintf(rule, sizeof rule, "/api/v1/res%d", group); break;
        case 1: snprintf(rule, sizeof rule, "/api/v1/res%d/<int:id>", group); break;
        case 2: snprintf(rule, sizeof rule, "/api/v1/res%d/<int:id>/edit", group); break;
        case 3: snprintf(rule, sizeof rule, "/docs/s%d/<path:page>", group); break;
        default: snprintf(rule, sizeof rule, "/shop/c%d/<slug>/<int:n>", group); break;
        }
        snprintf(endpoint, sizeof endpoint, "extra%d", i);
        add(r, rule, endpoint);
    }
    return r;
}

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static volatile unsigned sink;

/* The measured work: iterations rounds over the requests. */
__attribute__((noinline)) void run_lookups(const vial_router *r, vial_arena *a, const vial_route_request *rqs,
                                           size_t n, long iterations);

__attribute__((noinline)) void run_lookups(const vial_router *r, vial_arena *a, const vial_route_request *rqs,
                                           size_t n, long iterations) {
    for (long it = 0; it < iterations; it++) {
        for (size_t i = 0; i < n; i++) {
            vial_route_match m;
            if (vial_router_match(r, a, &rqs[i], &m) != 0) abort();
            sink += (unsigned)m.status;
            vial_arena_reset(a);
        }
    }
}

/* The requests of one kind (NULL: all). */
static size_t requests(const char *kind, vial_route_request *out) {
    size_t n = 0;
    for (size_t i = 0; i < NLOOKUPS; i++) {
        if (kind && strcmp(LOOKUPS[i].kind, kind) != 0) continue;
        out[n++] = (vial_route_request){.method = VIAL_GET,
                                        .path = {LOOKUPS[i].path, strlen(LOOKUPS[i].path)},
                                        .host = VIAL_STR("localhost")};
    }
    return n;
}

/* Best of fifteen runs, in ns per lookup (the machine may be busy). */
static double measure(const vial_router *r, vial_arena *a, const char *kind, long iterations) {
    vial_route_request rqs[NLOOKUPS];
    size_t n = requests(kind, rqs);
    double best = 1e30;
    for (int run = 0; run < 15; run++) {
        double t0 = now_ns();
        run_lookups(r, a, rqs, n, iterations);
        double ns = (now_ns() - t0) / ((double)iterations * (double)n);
        if (ns < best) best = ns;
    }
    return best;
}

/* Checks that every lookup gives the expected kind of answer. */
static void verify(const vial_router *r, vial_arena *a) {
    for (size_t i = 0; i < NLOOKUPS; i++) {
        vial_route_request rq = {.method = VIAL_GET, .path = {LOOKUPS[i].path, strlen(LOOKUPS[i].path)}};
        vial_route_match m;
        if (vial_router_match(r, a, &rq, &m) != 0) abort();
        bool miss = strcmp(LOOKUPS[i].kind, "miss") == 0;
        if ((m.status == VIAL_ROUTE_FOUND) == miss) {
            fprintf(stderr, "router_bench: %s gave status %d\n", LOOKUPS[i].path, m.status);
            exit(1);
        }
        vial_arena_reset(a);
    }
}

int main(int argc, char **argv) {
    int only = 0;
    long iterations = 200000;
    bool quiet = false;
    const char *kind = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--rules") == 0 && i + 1 < argc)
            only = atoi(argv[++i]);
        else if (strcmp(argv[i], "--iterations") == 0 && i + 1 < argc)
            iterations = atol(argv[++i]);
        else if (strcmp(argv[i], "--quiet") == 0)
            quiet = true;
        else if (strcmp(argv[i], "--kind") == 0 && i + 1 < argc)
            kind = argv[++i];
        else {
            fprintf(stderr, "usage: router_bench [--rules N] [--iterations K] [--quiet [--kind static|dynamic|miss]]\n");
            return 2;
        }
    }
    vial_arena *a = vial_arena_new(16 * 1024);
    int sizes[2] = {10, 1000};
    int nsizes = 2;
    if (only) sizes[0] = only, nsizes = 1;
    static const char *kinds[] = {"static", "dynamic", "miss", NULL};
    double results[2][4];
    for (int s = 0; s < nsizes; s++) {
        vial_router *r = make_router(sizes[s]);
        verify(r, a);
        if (quiet) {
            vial_route_request rqs[NLOOKUPS];
            size_t n = requests(kind, rqs);
            run_lookups(r, a, rqs, n, iterations);
            printf("rules=%d lookups=%ld\n", sizes[s], iterations * (long)n);
        } else {
            for (int k = 0; k < 4; k++) results[s][k] = measure(r, a, kinds[k], iterations / 4);
        }
        vial_router_free(r);
    }
    if (!quiet) {
        printf("router lookup, ns per lookup (best of 15 runs of %ld rounds)\n", iterations / 4);
        printf("%-10s", "rules");
        for (int k = 0; k < 4; k++) printf("%12s", kinds[k] ? kinds[k] : "all");
        printf("\n");
        for (int s = 0; s < nsizes; s++) {
            printf("%-10d", sizes[s]);
            for (int k = 0; k < 4; k++) printf("%12.1f", results[s][k]);
            printf("\n");
        }
        if (nsizes == 2) {
            printf("%-10s", "ratio");
            for (int k = 0; k < 4; k++) printf("%12.2f", results[1][k] / results[0][k]);
            printf("\n");
        }
    }
    vial_arena_free(a);
    return 0;
}
