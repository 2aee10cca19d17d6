/* Flask's tagged JSON over vial_value: each tag both ways, the vectors'
 * payload JSON, constructors, what cannot be written, Python's JSON dialect. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "session_typed.h"

static const char *dumps(vial_arena *a, const vial_value *v) {
    vial_json_error err;
    const char *s = vial_tagged_json_dumps(a, v, NULL, &err);
    cr_assert_not_null(s, "dumps failed: %s", err.message);
    return s;
}

static vial_value *loads(vial_arena *a, const char *text) {
    vial_json_error err;
    vial_value *v = vial_tagged_json_loads(a, text, strlen(text), &err);
    cr_assert_not_null(v, "loads(%s) failed: %s", text, err.message);
    return v;
}

Test(tagged_json, vector_payloads_both_ways) {
    vial_arena *a = vial_arena_new(1 << 16);
    vial_value *doc = typed_load_json(a, "vectors/flask_session_cookies.json");
    cr_assert_not_null(doc);
    vial_value *cases = vial_object_get(doc, "cases");
    int n = 0;
    for (size_t i = 0; i < vial_len(cases); i++) {
        vial_value *c = vial_array_get(cases, i);
        const char *json = vial_get_str(c, "payload_json");
        if (!json) continue;
        const char *id = vial_get_str(c, "id");
        cr_expect_str_eq(dumps(a, typed_to_value(a, vial_object_get(c, "session"))), json, "%s", id);
        vial_value *back = loads(a, json);
        vial_value *want = typed_to_value(a, vial_object_get(vial_object_get(c, "flask_loads_back_as"), "session"));
        cr_expect(typed_equal(back, want), "%s: %s", id, typed_show(a, back));
        /* What we read, we write back to the same bytes. */
        cr_expect_str_eq(dumps(a, back), json, "%s", id);
        n++;
    }
    cr_expect_eq(n, 46);
    vial_arena_free(a);
}

Test(tagged_json, each_tag) {
    vial_arena *a = vial_arena_new(1 << 14);
    vial_value *t = vial_new_tuple(a);
    vial_array_push(t, vial_new_int(a, 1));
    vial_array_push(t, vial_new_str(a, "two"));
    cr_expect_str_eq(dumps(a, t), "{\" t\":[1,\"two\"]}");
    cr_expect_str_eq(dumps(a, vial_new_bytes(a, "\xfb\xff\xfe", 3)), "{\" b\":\"+//+\"}");
    cr_expect_str_eq(dumps(a, vial_new_bytes(a, "", 0)), "{\" b\":\"\"}");
    cr_expect_str_eq(dumps(a, vial_new_safe(a, "<b>", 3)), "{\" m\":\"<b>\"}");
    cr_expect_str_eq(dumps(a, vial_new_uuid(a, "12345678-1234-5678-1234-567812345678")),
                     "{\" u\":\"12345678123456781234567812345678\"}");
    cr_expect_str_eq(dumps(a, vial_new_datetime(a, 1704164645)), "{\" d\":\"Tue, 02 Jan 2024 03:04:05 GMT\"}");
    vial_value *frac = vial_new_double(a, 1704164645.999);
    frac->tag = VIAL_TAG_DATETIME;
    cr_expect_str_eq(dumps(a, frac), "{\" d\":\"Tue, 02 Jan 2024 03:04:05 GMT\"}", "microseconds are dropped");
    vial_value *day = vial_new_int(a, 1709208000); /* 2024-02-29 12:00 UTC */
    day->tag = VIAL_TAG_DATE;
    cr_expect_str_eq(dumps(a, day), "\"Thu, 29 Feb 2024 00:00:00 GMT\"");
    vial_value *big = vial_new_str(a, "-18446744073709551616");
    big->tag = VIAL_TAG_BIGINT;
    cr_expect_str_eq(dumps(a, big), "-18446744073709551616");
    vial_value *escaped = vial_pack_in(a, "{s:i}", " t", 1);
    cr_expect_str_eq(dumps(a, escaped), "{\" di\":{\" t__\":1}}");
    cr_expect_str_eq(dumps(a, vial_new_double(a, NAN)), "NaN");
    cr_expect_str_eq(dumps(a, vial_pack_in(a, "[f,f]", INFINITY, -INFINITY)), "[Infinity,-Infinity]");
    cr_expect_str_eq(dumps(a, vial_pack_in(a, "{s:s,s:s}", "\xf0\x9f\x98\x80", "\xe5\xbc\xa0", "\xef\xbf\xbf", "")),
                     "{\"\\uffff\":\"\",\"\\ud83d\\ude00\":\"\\u5f20\"}", "code point order, ASCII escapes");

    /* and back, with the Python type restored */
    vial_value *v = loads(a, "{\"a\":{\" t\":[1]},\"b\":{\" b\":\"AAE=\"},\"c\":{\" m\":\"<i>\"},"
                             "\"d\":{\" u\":\"12345678123456781234567812345678\"},"
                             "\"e\":{\" d\":\"Tue, 02 Jan 2024 03:04:05 GMT\"},\"f\":{\" di\":{\" t__\":2}},"
                             "\"g\":123456789012345678901234567890}");
    cr_expect_eq(vial_object_get(v, "a")->tag, VIAL_TAG_TUPLE);
    cr_expect_eq(vial_object_get(v, "b")->tag, VIAL_TAG_BYTES);
    cr_expect_eq(vial_len(vial_object_get(v, "b")), 2);
    cr_expect(vial_object_get(v, "c")->flags & VIAL_FLAG_SAFE);
    cr_expect_str_eq(vial_get_str(v, "d"), "12345678-1234-5678-1234-567812345678");
    cr_expect_eq(vial_object_get(v, "d")->tag, VIAL_TAG_UUID);
    cr_expect_eq(vial_object_get(v, "e")->tag, VIAL_TAG_DATETIME);
    cr_expect_eq(vial_object_get(v, "e")->as.i, 1704164645);
    cr_expect_eq(vial_get_int(vial_object_get(v, "f"), " t", 0), 2);
    cr_expect_eq(vial_object_get(v, "g")->tag, VIAL_TAG_BIGINT);
    vial_arena_free(a);
}

Test(tagged_json, constructors_validate) {
    vial_arena *a = vial_arena_new(4096);
    cr_expect_null(vial_new_uuid(a, "not a uuid"));
    cr_expect_null(vial_new_uuid(a, NULL));
    cr_expect_null(vial_new_uuid(a, "12345678-1234-5678-1234-56781234567"));
    cr_expect_null(vial_new_uuid(a, "123456781234-5678-1234-5678123456789"));
    cr_expect_str_eq(vial_str_of(vial_new_uuid(a, "C9BF9E5716854C89BAFBFF5AF830BE8A")),
                     "c9bf9e57-1685-4c89-bafb-ff5af830be8a");
    vial_value *b = vial_new_bytes(a, "a\0b", 3);
    cr_expect_eq(vial_len(b), 3);
    vial_arena_free(a);
}

Test(tagged_json, what_cannot_be_written) {
    vial_arena *a = vial_arena_new(4096);
    vial_json_error err;
    vial_value *bad_uuid = vial_new_str(a, "xyz");
    bad_uuid->tag = VIAL_TAG_UUID;
    vial_value *bad_big = vial_new_str(a, "12a");
    bad_big->tag = VIAL_TAG_BIGINT;
    vial_value *bad_time = vial_new_double(a, NAN);
    bad_time->tag = VIAL_TAG_DATETIME;
    vial_value *values[] = {bad_uuid, bad_big, bad_time, vial_new_datetime(a, -62135596801LL)};
    for (size_t i = 0; i < 4; i++) {
        cr_expect_null(vial_tagged_json_dumps(a, values[i], NULL, &err), "value %zu", i);
        cr_expect(err.message[0], "value %zu: no message", i);
    }
    vial_arena_free(a);
}

Test(tagged_json, python_json_dialect) {
    vial_arena *a = vial_arena_new(1 << 14);
    static const char *const bad[] = {"", " ", "[1,]", "{\"a\":1,}", "01", "1.", "-", "NaNx", "-NaN", "tru",
                                      "\"\\x\"", "\"a\nb\"", "{'a':1}", "\xef\xbb\xbf{}", "\"\xff\"", "[1] [2]"};
    vial_json_error err;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_expect_null(vial_tagged_json_loads(a, bad[i], strlen(bad[i]), &err), "'%s' accepted", bad[i]);
        cr_expect(strstr(err.message, "offset"), "'%s': %s", bad[i], err.message);
    }
    char digits[4400];
    memset(digits, '7', sizeof digits);
    cr_expect_not_null(vial_tagged_json_loads(a, digits, 4300, &err), "4300 digits are fine: %s", err.message);
    cr_expect_null(vial_tagged_json_loads(a, digits, 4301, &err), "CPython refuses 4301 digits");
    /* Nesting past the limit is refused, not a stack overflow. */
    char deep[2000];
    memset(deep, '[', 1000);
    memset(deep + 1000, ']', 1000);
    cr_expect_null(vial_tagged_json_loads(a, deep, sizeof deep, &err));
    cr_expect_not_null(vial_tagged_json_loads(a, deep + 600, 800, &err), "%s", err.message);
    vial_value *v = loads(a, " {\"a\" : [1 , 2.5e3 , -0 , -0.0, 1e400] , \"a\": 3} ");
    cr_expect_eq(vial_len(v), 1);
    cr_expect_eq(vial_get_int(v, "a", 0), 3, "the last of repeated keys wins, as in a dict");
    vial_arena_free(a);
}
