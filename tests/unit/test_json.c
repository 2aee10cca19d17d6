/* JSON: the JSONTestSuite corpus, escaping, numbers, depth, Python float repr. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <inttypes.h>
#include <string.h>

#include "testutil.h"
#include "vial.h"

Test(json, jsontestsuite_corpus) {
    const char *dir = test_data_path("conformance/jsontestsuite");
    char dirpath[4096];
    snprintf(dirpath, sizeof dirpath, "%s", dir);
    DIR *d = opendir(dirpath);
    cr_assert_not_null(d, "cannot open %s", dirpath);
    struct dirent *e;
    int y = 0, n = 0, i = 0;
    while ((e = readdir(d)) != NULL) {
        const char *name = e->d_name;
        size_t nl = strlen(name);
        if (nl < 6 || strcmp(name + nl - 5, ".json") != 0) continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dirpath, name);
        size_t len;
        char *text = test_read_file(path, &len);
        cr_assert_not_null(text, "read %s", path);
        vial_arena *a = vial_arena_new(4096);
        vial_json_error err;
        vial_value *v = vial_json_parse(a, text, len, 256, &err);
        if (name[0] == 'y') {
            cr_expect_not_null(v, "%s should parse: %s", name, err.message);
            if (v) {
                /* What we emit must parse back to an equal value. */
                size_t out_len;
                char *out = vial_json_encode(a, v, 0, &out_len);
                cr_assert_not_null(out);
                cr_expect(vial_utf8_valid(out, out_len), "%s: output is not UTF-8", name);
                vial_value *back = vial_json_parse(a, out, out_len, 256, &err);
                cr_expect_not_null(back, "%s: re-parse of %s failed: %s", name, out, err.message);
                cr_expect(vial_value_equal(v, back), "%s: round trip changed the value: %s", name, out);
            }
            y++;
        } else if (name[0] == 'n') {
            cr_expect_null(v, "%s should be rejected", name);
            if (!v) {
                cr_expect(strstr(err.message, "offset") != NULL, "%s: error must name the offset: %s", name,
                          err.message);
                cr_expect(err.offset <= len, "%s: offset %zu past the end %zu", name, err.offset, len);
            }
            n++;
        } else if (name[0] == 'i') {
            if (v) { /* accepted: our output must still be valid UTF-8 */
                size_t out_len;
                char *out = vial_json_encode(a, v, 0, &out_len);
                cr_expect(out && vial_utf8_valid(out, out_len), "%s: output is not UTF-8", name);
            }
            i++;
        }
        vial_arena_free(a);
        free(text);
    }
    closedir(d);
    cr_assert_eq(y, 95);
    cr_assert_eq(n, 188);
    cr_assert_eq(i, 35);
}

Test(json, error_names_offset_line_and_column) {
    vial_arena *a = vial_arena_new(1024);
    vial_json_error err;
    const char *text = "{\n  \"a\": [1, 2,,]\n}";
    cr_assert_null(vial_json_parse(a, text, strlen(text), 0, &err));
    cr_assert_eq(err.offset, 15);
    cr_assert_eq(err.line, 2);
    cr_assert_eq(err.column, 14);
    cr_assert(strstr(err.message, "offset 15"), "%s", err.message);
    vial_arena_free(a);
}

Test(json, depth_is_bounded) {
    vial_arena *a = vial_arena_new(1024);
    char deep[2000];
    memset(deep, '[', 1000);
    memset(deep + 1000, ']', 1000);
    vial_json_error err;
    cr_assert_null(vial_json_parse(a, deep, sizeof deep, 512, &err));
    cr_assert(strstr(err.message, "nesting too deep"), "%s", err.message);
    cr_assert_not_null(vial_json_parse(a, deep + 500, 1000, 512, &err));
    vial_arena_free(a);
}

Test(json, integers_exact_and_big_numbers_become_doubles) {
    vial_arena *a = vial_arena_new(1024);
    vial_json_error err;
    vial_value *v = vial_json_parse(a, "[9223372036854775807,-9223372036854775808,9223372036854775808,1.5,-0,1E2]",
                                    73, 0, &err);
    cr_assert_not_null(v, "%s", err.message);
    cr_assert_eq(v->as.arr.items[0]->type, VIAL_INT);
    cr_assert_eq(v->as.arr.items[0]->as.i, INT64_MAX);
    cr_assert_eq(v->as.arr.items[1]->as.i, INT64_MIN);
    cr_assert_eq(v->as.arr.items[2]->type, VIAL_DOUBLE);
    cr_assert_str_eq(vial_json_encode(a, v, 0, NULL),
                     "[9223372036854775807,-9223372036854775808,9.223372036854776e+18,1.5,0,100.0]");
    vial_arena_free(a);
}

Test(json, escaping_matches_python) {
    vial_arena *a = vial_arena_new(1024);
    vial_value *s = vial_new_strn(a, "a\"b\\c\n\x01\x7f/\xe4\xb8\xad\xf0\x9f\x98\x80<&'>", 20);
    cr_assert_str_eq(vial_json_encode(a, s, 0, NULL), "\"a\\\"b\\\\c\\n\\u0001\x7f/\xe4\xb8\xad\xf0\x9f\x98\x80<&'>\"");
    cr_assert_str_eq(vial_json_encode(a, s, VIAL_JSON_ASCII, NULL),
                     "\"a\\\"b\\\\c\\n\\u0001\\u007f/\\u4e2d\\ud83d\\ude00<&'>\"");
    cr_assert_str_eq(vial_json_encode(a, s, VIAL_JSON_HTML_SAFE, NULL),
                     "\"a\\\"b\\\\c\\n\\u0001\x7f/\xe4\xb8\xad\xf0\x9f\x98\x80\\u003c\\u0026\\u0027\\u003e\"");
    vial_value *bad = vial_new_strn(a, "x\xff", 2);
    cr_assert_str_eq(vial_json_encode(a, bad, 0, NULL), "\"x\xef\xbf\xbd\"", "invalid UTF-8 is replaced");
    vial_arena_free(a);
}

Test(json, lone_surrogates_become_replacement) {
    vial_arena *a = vial_arena_new(1024);
    vial_json_error err;
    vial_value *v = vial_json_parse(a, "\"\\ud800x\\ude00\\ud83d\\ude00\"", 27, 0, &err);
    cr_assert_not_null(v, "%s", err.message);
    cr_assert_str_eq(v->as.s.ptr, "\xef\xbf\xbdx\xef\xbf\xbd\xf0\x9f\x98\x80");
    vial_arena_free(a);
}

Test(json, layout_flags) {
    vial_arena *a = vial_arena_new(1024);
    vial_value *v = vial_pack_in(a, "{s:i, s:[i, {}], s:{}}", "b", 1, "a", 2, "c");
    cr_assert_str_eq(vial_json_encode(a, v, VIAL_JSON_SPACED | VIAL_JSON_SORT_KEYS, NULL),
                     "{\"a\": [2, {}], \"b\": 1, \"c\": {}}");
    cr_assert_str_eq(vial_json_encode(a, v, VIAL_JSON_INDENT(2), NULL),
                     "{\n  \"b\": 1,\n  \"a\": [\n    2,\n    {}\n  ],\n  \"c\": {}\n}");
    vial_arena_free(a);
}

Test(json, doubles_print_as_python_repr) {
    size_t len;
    char *text = test_read_file(test_data_path("float_repr.txt"), &len);
    cr_assert_not_null(text);
    int checked = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#') continue;
        uint64_t bits;
        char expect[64];
        cr_assert_eq(sscanf(line, "%" SCNx64 " %63s", &bits, expect), 2);
        double d;
        memcpy(&d, &bits, sizeof d);
        char got[VIAL_DOUBLE_BUFSIZE];
        vial_format_double(got, d);
        cr_expect_str_eq(got, expect, "bits %016" PRIx64, bits);
        cr_expect_eq(strtod(got, NULL), d);
        checked++;
    }
    cr_assert(checked > 400);
    free(text);
}
