/* test_template_format.c - "%.Nf" formatting and the output fast paths.
 *
 * tests/data/float_fixed.txt holds doubles (as bits) with a precision and
 * CPython's '%.*f' of them (ties, near-ties, carries, the fast path's
 * limits, random values; see float_fixed.gen.py there). Every line is
 * checked against vial_tpl_fixed_digits and rendered through the four ways a
 * template formats it: "%.Nf"|format(x) written straight to the output
 * (render.c's fast path), the same with escaped literals around it, the %
 * operator, and format as an ordinary filter (pyformat.c). The output limit
 * must hold on the fast paths as on the ordinary ones. */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template/tpl.h"
#include "testutil.h"
#include "vial.h"

typedef struct fixed_case {
    double x;
    int prec;
    const char *want;
    int line;
} fixed_case;

/* Parses the data file in place; returns the number of cases (cases freed by the caller). */
static size_t load_cases(char *text, fixed_case **out) {
    size_t cap = 1024, n = 0;
    fixed_case *cases = malloc(cap * sizeof *cases);
    cr_assert_not_null(cases);
    int line = 0;
    for (char *s = text; *s;) {
        char *eol = strchr(s, '\n');
        if (eol) *eol = 0;
        line++;
        if (*s && *s != '#') {
            char *end;
            uint64_t bits = strtoull(s, &end, 16);
            cr_assert(end == s + 16 && *end == ' ', "float_fixed.txt:%d: bad bits", line);
            int prec = (int)strtol(end + 1, &end, 10);
            cr_assert(*end == ' ' && prec >= 0 && prec <= 99, "float_fixed.txt:%d: bad precision", line);
            if (n == cap) {
                cap *= 2;
                cases = realloc(cases, cap * sizeof *cases);
                cr_assert_not_null(cases);
            }
            memcpy(&cases[n].x, &bits, sizeof bits);
            cases[n].prec = prec;
            cases[n].want = end + 1;
            cases[n].line = line;
            n++;
        }
        if (!eol) break;
        s = eol + 1;
    }
    *out = cases;
    return n;
}

static char *read_data(void) {
    size_t len;
    char *text = test_read_file(test_data_path("float_fixed.txt"), &len);
    cr_assert_not_null(text, "cannot read %s", test_data_path("float_fixed.txt"));
    return text;
}

Test(template_format, fixed_digits_match_python) {
    char *text = read_data();
    fixed_case *cases;
    size_t n = load_cases(text, &cases);
    cr_assert_gt(n, 4000, "float_fixed.txt has only %zu cases", n);
    size_t checked = 0;
    for (size_t i = 0; i < n; i++) {
        if (signbit(cases[i].x)) continue; /* the function takes |x|; the sign is the caller's */
        char buf[512];
        int len = vial_tpl_fixed_digits(buf, sizeof buf, cases[i].x, cases[i].prec);
        cr_assert_geq(len, 0, "float_fixed.txt:%d: failed", cases[i].line);
        cr_expect_eq((size_t)len, strlen(buf), "float_fixed.txt:%d: length", cases[i].line);
        cr_expect_str_eq(buf, cases[i].want, "float_fixed.txt:%d: %.17g at %d", cases[i].line, cases[i].x, cases[i].prec);
        checked++;
    }
    cr_expect_gt(checked, 3000);
    free(cases);
    free(text);
}

static char *render_with_x(vial_tpl_env *env, vial_arena *a, const char *src, double x, vial_tpl_error *err) {
    vial_value *ctx = vial_pack_in(a, "{s:f}", "x", x);
    cr_assert_not_null(ctx);
    vial_buf out;
    vial_buf_init(&out, a, 0);
    if (vial_tpl_render_string(env, src, strlen(src), ctx, NULL, a, &out, err) != 0) return NULL;
    return (char *)vial_buf_cstr(&out);
}

Test(template_format, percent_f_in_templates_matches_python) {
    char *text = read_data();
    fixed_case *cases;
    size_t n = load_cases(text, &cases);
    vial_tpl_options opt = {.autoescape = VIAL_TPL_AUTOESCAPE_ON};
    vial_tpl_env *env = vial_tpl_env_new(&opt);
    vial_arena *a = vial_arena_new(1 << 16);
    for (size_t i = 0; i < n; i++) {
        vial_arena_reset(a);
        int p = cases[i].prec;
        char src[512], want[2048];
        snprintf(src, sizeof src,
                 "{{ \"%%.%df\"|format(x) }}|{{ \"<%%.%df&\"|format(x) }}|{{ \"%%.%df\" %% x }}|"
                 "{{ [\"%%.%df\"|format(x)]|first }}",
                 p, p, p, p);
        const char *w = cases[i].want;
        snprintf(want, sizeof want, "%s|&lt;%s&amp;|%s|%s", w, w, w, w);
        vial_tpl_error err;
        const char *got = render_with_x(env, a, src, cases[i].x, &err);
        cr_assert_not_null(got, "float_fixed.txt:%d: %s", cases[i].line, err.message);
        cr_expect_str_eq(got, want, "float_fixed.txt:%d: %.17g at %d", cases[i].line, cases[i].x, p);
    }
    vial_arena_free(a);
    vial_tpl_env_free(env);
    free(cases);
    free(text);
}

/* The fast paths write into the output directly: its limit must stop them
 * the same way it stops everything else. */
Test(template_format, fast_paths_respect_the_output_limit) {
    vial_tpl_options opt = {.autoescape = VIAL_TPL_AUTOESCAPE_ON, .max_output = 64};
    vial_tpl_env *env = vial_tpl_env_new(&opt);
    vial_arena *a = vial_arena_new(1 << 16);
    static const char *srcs[] = {
        "{% for i in range(10) %}{{ \"<%.2f>\"|format(x) }}{% endfor %}",
        "{% for i in range(10) %}{{ \"ABC<>DEF\"|lower }}{% endfor %}",
        "{% for i in range(10) %}{{ [\"a<\", 1, \"b\"]|join(\"&\") }}{% endfor %}",
        "{{ ([\"0123456789\"] * 10)|join(\"&\") }}",
    };
    for (size_t i = 0; i < sizeof srcs / sizeof srcs[0]; i++) {
        vial_arena_reset(a);
        vial_tpl_error err;
        const char *got = render_with_x(env, a, srcs[i], 1234.5, &err);
        cr_expect_null(got, "%s: rendered past the limit", srcs[i]);
        cr_expect_eq(err.kind, VIAL_TPL_ERR_LIMIT, "%s: %s", srcs[i], err.message);
    }
    /* just under the limit: every byte arrives */
    vial_arena_reset(a);
    vial_tpl_error err;
    const char *got = render_with_x(env, a, "{% for i in range(3) %}{{ \"<%.2f>\"|format(x) }}{{ \"AB\"|lower }}{% endfor %}", -0.125, &err);
    cr_assert_not_null(got, "%s", err.message);
    cr_expect_str_eq(got, "&lt;-0.12&gt;ab&lt;-0.12&gt;ab&lt;-0.12&gt;ab");
    vial_arena_free(a);
    vial_tpl_env_free(env);
}

/* The escape scan reads strings in overlapping 16-, 8- and 4-byte pieces:
 * every length and every position of every escaped character (and of bytes
 * next to them in value) must be found exactly where a byte loop finds it. */
Test(template_format, escape_scan_finds_the_first_escaped_byte) {
    static const char specials[] = "&<>\"'";
    static const char near[] = "%=?!#;\x80\xff";
    char buf[80];
    for (size_t n = 0; n <= 70; n++) {
        memset(buf, 'a', sizeof buf);
        cr_expect_eq(vial_tv_escape_scan(buf, n), n, "clean string of %zu", n);
        for (size_t k = 0; k < sizeof near - 1; k++) {
            for (size_t i = 0; i < n; i++) buf[i] = near[(i + k) % (sizeof near - 1)];
            cr_expect_eq(vial_tv_escape_scan(buf, n), n, "near-miss bytes, length %zu", n);
        }
        for (size_t at = 0; at < n; at++)
            for (size_t c = 0; c < sizeof specials - 1; c++) {
                memset(buf, 'a', sizeof buf);
                buf[at] = specials[c];
                if (at + 1 < n) buf[n - 1] = specials[(c + 1) % 5]; /* a later one must not win */
                cr_expect_eq(vial_tv_escape_scan(buf, n), at, "'%c' at %zu of %zu", specials[c], at, n);
                buf[at] = 'a';
                if (at + 1 < n) buf[n - 1] = 'a';
                buf[n] = specials[c]; /* just past the end: never seen */
                cr_expect_eq(vial_tv_escape_scan(buf, n), n, "'%c' past the end of %zu", specials[c], n);
            }
    }
}

Test(template_format, escape_into_matches_a_byte_loop) {
    static const char *const ent[256] = {['&'] = "&amp;", ['<'] = "&lt;", ['>'] = "&gt;", ['"'] = "&#34;", ['\''] = "&#39;"};
    unsigned seed = 12345;
    vial_arena *a = vial_arena_new(1 << 16);
    for (int round = 0; round < 3000; round++) {
        char src[400];
        size_t n = (size_t)(round % 300);
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            unsigned r = (seed >> 16) % 100;
            src[i] = r < 3 ? "&<>\"'"[r % 5] : r < 5 ? "&<>\"'"[(seed >> 8) % 5] : (char)('a' + r % 26);
        }
        char want[2048];
        size_t w = 0;
        for (size_t i = 0; i < n; i++) {
            const char *e = ent[(unsigned char)src[i]];
            if (e) {
                memcpy(want + w, e, strlen(e));
                w += strlen(e);
            } else {
                want[w++] = src[i];
            }
        }
        want[w] = 0;
        vial_arena_reset(a);
        vial_buf b;
        vial_buf_init(&b, a, 0);
        if (round % 3 == 1) vial_buf_append(&b, "x", 1); /* start at other offsets and buffer sizes */
        size_t start = b.len;
        cr_assert_eq(vial_tv_escape_into(&b, src, n), 0);
        cr_expect_eq(b.len - start, w, "round %d", round);
        cr_expect(memcmp(b.data + start, want, w) == 0, "round %d", round);
    }
    vial_arena_free(a);
}
