/* Arena, buffer, value and pack behaviour. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "vial.h"

static int cleanup_count;
static void count_cleanup(void *arg) { cleanup_count += *(int *)arg; }

Test(arena, alloc_aligned_and_distinct) {
    vial_arena *a = vial_arena_new(1024);
    char *prev = NULL;
    for (int i = 1; i < 2000; i++) {
        char *p = vial_arena_alloc(a, (size_t)(i % 37) + 1);
        cr_assert_not_null(p);
        cr_assert_eq((uintptr_t)p % 16, 0);
        memset(p, 0xab, (size_t)(i % 37) + 1);
        cr_assert_neq(p, prev);
        prev = p;
    }
    void *big = vial_arena_alloc(a, 1 << 20);
    cr_assert_not_null(big);
    memset(big, 1, 1 << 20);
    vial_arena_free(a);
}

Test(arena, reset_runs_cleanups_newest_first_and_reuses) {
    vial_arena *a = vial_arena_new(4096);
    static int one = 1, ten = 10;
    cleanup_count = 0;
    vial_arena_defer(a, count_cleanup, &one);
    vial_arena_defer(a, count_cleanup, &ten);
    for (int i = 0; i < 100; i++) vial_arena_alloc(a, 1000);
    cr_assert(vial_arena_used(a) >= 100000);
    vial_arena_reset(a);
    cr_assert_eq(cleanup_count, 11);
    cr_assert_eq(vial_arena_used(a), 0);
    void *p = vial_arena_alloc(a, 100);
    cr_assert_not_null(p);
    vial_arena_free(a);
    cr_assert_eq(cleanup_count, 11);
}

Test(arena, limit_fails_cleanly) {
    vial_arena *a = vial_arena_new(1024);
    vial_arena_set_limit(a, 10000);
    int ok = 0;
    while (vial_arena_alloc(a, 1000)) ok++;
    cr_assert(ok >= 9 && ok <= 10, "ok=%d", ok);
    vial_arena_free(a);
}

Test(arena, grow_in_place_and_copy) {
    vial_arena *a = vial_arena_new(1024);
    char *p = vial_arena_alloc(a, 16);
    memcpy(p, "0123456789abcdef", 16);
    char *q = vial_arena_grow(a, p, 16, 64);
    cr_assert_eq(p, q, "latest allocation grows in place");
    vial_arena_alloc(a, 8);
    char *r = vial_arena_grow(a, q, 64, 128);
    cr_assert_neq(r, q);
    cr_assert(memcmp(r, "0123456789abcdef", 16) == 0);
    char *s = vial_arena_sprintf(a, "%s-%d", "x", 42);
    cr_assert_str_eq(s, "x-42");
    vial_arena_free(a);
}

Test(buf, max_is_enforced_and_buffer_kept) {
    vial_buf b;
    vial_buf_init(&b, NULL, 10);
    cr_assert_eq(vial_buf_puts(&b, "hello"), 0);
    cr_assert_eq(vial_buf_puts(&b, "world"), 0);
    cr_assert_eq(vial_buf_putc(&b, '!'), -1);
    cr_assert_eq(vial_buf_puts(&b, "x"), -1);
    cr_assert_eq(b.len, 10);
    cr_assert_str_eq(vial_buf_cstr(&b), "helloworld");
    vial_buf_free(&b);
}

Test(buf, arena_backed_printf_and_ints) {
    vial_arena *a = vial_arena_new(1024);
    vial_buf b;
    vial_buf_init(&b, a, 0);
    for (int i = 0; i < 1000; i++) vial_buf_printf(&b, "%d,", i);
    cr_assert(b.len > 3000);
    vial_buf_reset(&b);
    vial_buf_put_i64(&b, INT64_MIN);
    cr_assert_str_eq(vial_buf_cstr(&b), "-9223372036854775808");
    vial_buf_reset(&b);
    vial_buf_put_i64(&b, 0);
    cr_assert_str_eq(b.data, "0");
    vial_arena_free(a);
}

Test(value, objects_keep_order_and_replace_in_place) {
    vial_arena *a = vial_arena_new(1024);
    vial_value *o = vial_new_object(a);
    vial_object_set(o, "b", vial_new_int(a, 1));
    vial_object_set(o, "a", vial_new_int(a, 2));
    vial_object_set(o, "b", vial_new_str(a, "x"));
    cr_assert_eq(vial_len(o), 2);
    cr_assert_str_eq(o->as.obj.items[0].key, "b");
    cr_assert_str_eq(vial_get_str(o, "b"), "x");
    cr_assert_eq(vial_get_int(o, "a", 0), 2);
    cr_assert_eq(vial_get_int(o, "zz", -7), -7);
    cr_assert_eq(vial_object_del(o, "b"), 0);
    cr_assert_null(vial_object_get(o, "b"));
    vial_arena_free(a);
}

Test(value, large_objects_use_the_index) {
    vial_arena *a = vial_arena_new(1024);
    vial_value *o = vial_new_object(a);
    char key[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, "k%d", i);
        cr_assert_eq(vial_object_set(o, key, vial_new_int(a, i)), 0);
    }
    for (int i = 0; i < 5000; i += 7) {
        snprintf(key, sizeof key, "k%d", i);
        cr_assert_eq(vial_get_int(o, key, -1), i);
    }
    snprintf(key, sizeof key, "k%d", 10);
    vial_object_del(o, key);
    cr_assert_null(vial_object_get(o, key));
    cr_assert_eq(vial_get_int(o, "k11", -1), 11);
    cr_assert_eq(vial_get_int(o, "k4999", -1), 4999);
    cr_assert_eq(vial_len(o), 4999);
    vial_arena_free(a);
}

Test(value, truthiness_and_equality_follow_python) {
    vial_arena *a = vial_arena_new(1024);
    cr_assert(!vial_truthy(vial_value_null()));
    cr_assert(!vial_truthy(vial_new_int(a, 0)));
    cr_assert(!vial_truthy(vial_new_str(a, "")));
    cr_assert(!vial_truthy(vial_new_array(a)));
    cr_assert(vial_truthy(vial_new_str(a, "0")));
    cr_assert(vial_value_equal(vial_new_int(a, 1), vial_new_double(a, 1.0)));
    cr_assert(vial_value_equal(vial_new_int(a, 1), vial_new_bool(a, true)));
    cr_assert(!vial_value_equal(vial_new_int(a, 1), vial_new_str(a, "1")));
    vial_arena_free(a);
}

Test(value, pack_builds_nested_values) {
    vial_arena *a = vial_arena_new(1024);
    vial_value *inner = vial_new_str(a, "o");
    vial_value *v = vial_pack_in(a, "{s:s, s:i, s:I, s:f, s:b, s:n, s:[i,i], s:o, s:s#}", "name", "xiaoming", "age",
                                 16, "big", (int64_t)1 << 40, "pi", 3.5, "ok", 1, "none", "xs", 1, 2, "inner", inner,
                                 "cut", "abcdef", 3);
    cr_assert_not_null(v);
    char *json = vial_json_encode(a, v, 0, NULL);
    cr_assert_str_eq(json, "{\"name\":\"xiaoming\",\"age\":16,\"big\":1099511627776,\"pi\":3.5,\"ok\":true,"
                           "\"none\":null,\"xs\":[1,2],\"inner\":\"o\",\"cut\":\"abc\"}");
    cr_assert_null(vial_pack_in(a, "{i}", 1));
    cr_assert_null(vial_pack_in(a, "[i", 1));
    vial_arena_free(a);
}

Test(value, deep_copy_is_independent) {
    vial_arena *a = vial_arena_new(1024), *b = vial_arena_new(1024);
    vial_value *v = vial_pack_in(a, "{s:[s,{s:i}]}", "k", "x", "y", 5);
    vial_value *c = vial_value_copy(b, v);
    vial_arena_free(a);
    char *json = vial_json_encode(b, c, 0, NULL);
    cr_assert_str_eq(json, "{\"k\":[\"x\",{\"y\":5}]}");
    vial_arena_free(b);
}

Test(base64, roundtrip_and_strictness) {
    char out[64];
    unsigned char back[64];
    const char *cases[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *std[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (int i = 0; i < 7; i++) {
        vial_base64_encode(out, cases[i], strlen(cases[i]), 0);
        cr_assert_str_eq(out, std[i]);
        long n = vial_base64_decode(back, out, strlen(out), 0);
        cr_assert_eq(n, (long)strlen(cases[i]));
        cr_assert(memcmp(back, cases[i], (size_t)n) == 0);
        size_t m = vial_base64_encode(out, cases[i], strlen(cases[i]), VIAL_B64_URL | VIAL_B64_NOPAD);
        cr_assert_eq(m, vial_base64_encoded_len(strlen(cases[i]), VIAL_B64_NOPAD));
        cr_assert_eq(vial_base64_decode(back, out, m, VIAL_B64_URL), (long)strlen(cases[i]));
    }
    cr_assert_eq(vial_base64_decode(back, "Zh==", 4, 0), -1, "non-zero padding bits");
    cr_assert_eq(vial_base64_decode(back, "Zm9v!", 5, 0), -1);
    cr_assert_eq(vial_base64_decode(back, "-_-_", 4, 0), -1, "URL alphabet in standard mode");
    cr_assert_eq(vial_base64_decode(back, "Z", 1, 0), -1);
}

Test(utf8, validation_and_replacement) {
    cr_assert(vial_utf8_valid("h\xc3\xa9llo \xe4\xb8\xad", 10));
    cr_assert(!vial_utf8_valid("\xc0\xaf", 2), "overlong");
    cr_assert(!vial_utf8_valid("\xed\xa0\x80", 3), "surrogate");
    cr_assert(!vial_utf8_valid("\xf4\x90\x80\x80", 4), "past U+10FFFF");
    vial_buf b;
    vial_buf_init(&b, NULL, 0);
    vial_utf8_replace_invalid(&b, "\xc3(", 2);
    cr_assert_str_eq(vial_buf_cstr(&b), "\xef\xbf\xbd(");
    vial_buf_reset(&b);
    vial_utf8_replace_invalid(&b, "\xe4\xb8", 2);
    cr_assert_str_eq(vial_buf_cstr(&b), "\xef\xbf\xbd", "truncated sequence is one U+FFFD");
    vial_buf_reset(&b);
    vial_utf8_replace_invalid(&b, "\xed\xa0\x80", 3);
    cr_assert_str_eq(vial_buf_cstr(&b), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", "encoded surrogate is three");
    vial_buf_free(&b);
}
