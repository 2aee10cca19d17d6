/* itsdangerous compatibility of the signer and serializer: tokens compared
 * byte for byte with the real itsdangerous (flask_oracle.py) for every key
 * derivation, several digests, salts, separators and key lists, both ways;
 * then expiry, tampering and the convenience API. */
#include <criterion/criterion.h>
#include <string.h>
#include <time.h>

#include "session_typed.h"

typedef struct {
    const char *kind;      /* signer | timestamp_signer | timed_serializer */
    const char *keys[3];   /* newest first (ours); sent to Python oldest first */
    const char *salt;      /* NULL: the default */
    char sep;              /* 0: '.' */
    int derivation;        /* VIAL_KEY_DERIVATION_* */
    const char *digest;    /* NULL: sha1 */
    const char *value;     /* raw text for signers; typed JSON for serializers */
    int64_t now;
} config;

static const char *derivation_name(int d) {
    static const char *const names[] = {"django-concat", "concat", "hmac", "none"};
    return names[d];
}

static const config configs[] = {
    {"signer", {"secret"}, NULL, 0, 0, NULL, "hello", 1700000000},
    {"signer", {"secret"}, "my-salt", 0, VIAL_KEY_DERIVATION_CONCAT, NULL, "hello", 1700000000},
    {"signer", {"secret"}, "my-salt", 0, VIAL_KEY_DERIVATION_HMAC, "sha256", "", 1700000000},
    {"signer", {"secret"}, "", 0, VIAL_KEY_DERIVATION_NONE, "sha512", "a.b.c", 1700000000},
    {"signer", {"new", "old"}, NULL, '|', 0, NULL, "user@example.com", 1700000000},
    {"signer", {"\xe5\xaf\x86\xe9\x92\xa5"}, "\xe7\x9b\x90", 0, 0, "sha224", "\xe4\xb8\xad\xe6\x96\x87", 1700000000},
    {"timestamp_signer", {"secret"}, NULL, 0, 0, NULL, "hello", 1700000000},
    {"timestamp_signer", {"secret"}, "s", ':', VIAL_KEY_DERIVATION_HMAC, "sha256", "x", 0},
    {"timestamp_signer", {"k2", "k1"}, NULL, 0, VIAL_KEY_DERIVATION_CONCAT, NULL, "v", 4294967296LL},
    {"timed_serializer", {"secret"}, NULL, 0, 0, NULL, "{\"user_id\":42}", 1700000000},
    {"timed_serializer", {"secret"}, "password-reset", 0, 0, NULL,
     "{\"email\":\"\xe5\xbc\xa0\xe4\xb8\x89@example.com\",\"b\":[1,2.5,null,true],\"a\":\"\\u00e9\"}", 1700000000},
    {"timed_serializer", {"secret"}, "activate", 0, 0, "sha256", "[1,{\"$tuple\":[2,3]},\"x\"]", 1700000000},
    {"timed_serializer", {"secret"}, "s", 0, VIAL_KEY_DERIVATION_HMAC, "sha512",
     "{\"long\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
     1700000000},
    {"timed_serializer", {"new", "old", "older"}, NULL, 0, 0, NULL, "{\"n\":{\"$float\":\"nan\"},\"i\":{\"$float\":\"-inf\"}}",
     1700000000},
    {"timed_serializer", {"secret"}, NULL, 0, 0, NULL, "{\"big\":{\"$bigint\":\"123456789012345678901234567890\"}}",
     1700000000},
    {"timed_serializer", {"secret"}, NULL, 0, 0, NULL, "\"just a string\"", 1700000000},
};
#define NCONFIGS (sizeof configs / sizeof configs[0])

static size_t nkeys(const config *c) {
    size_t n = 0;
    while (n < 3 && c->keys[n]) n++;
    return n;
}

static void config_json(vial_buf *b, vial_arena *a, const config *c, const char *token) {
    vial_buf_printf(b, "{\"kind\":\"%s\",\"now\":%lld,\"keys_oldest_first\":[", c->kind, (long long)c->now);
    size_t n = nkeys(c);
    for (size_t i = 0; i < n; i++) {
        if (i) vial_buf_putc(b, ',');
        vial_json_write(b, vial_new_str(a, c->keys[n - 1 - i]), 0);
    }
    vial_buf_puts(b, "]");
    if (c->salt) {
        vial_buf_puts(b, ",\"salt\":");
        vial_json_write(b, vial_new_str(a, c->salt), 0);
    }
    if (c->sep) vial_buf_printf(b, ",\"sep\":\"%c\"", c->sep);
    vial_buf_printf(b, ",\"key_derivation\":\"%s\"", derivation_name(c->derivation));
    if (c->digest) vial_buf_printf(b, ",\"digest\":\"%s\"", c->digest);
    if (strcmp(c->kind, "timed_serializer") == 0) {
        vial_buf_printf(b, ",\"value\":%s", c->value);
    } else {
        vial_buf_puts(b, ",\"value_hex\":\"");
        for (const char *p = c->value; *p; p++) vial_buf_printf(b, "%02x", (unsigned char)*p);
        vial_buf_putc(b, '"');
    }
    if (token) {
        vial_buf_puts(b, ",\"token\":");
        vial_json_write(b, vial_new_str(a, token), 0);
    }
    vial_buf_putc(b, '}');
}

static vial_signer signer_of(const config *c, vial_str *keys) {
    size_t n = nkeys(c);
    for (size_t i = 0; i < n; i++) keys[i] = (vial_str){c->keys[i], strlen(c->keys[i])};
    vial_signer s = {.keys = keys, .nkeys = n, .sep = c->sep, .key_derivation = c->derivation, .digest = c->digest};
    if (c->salt) s.salt = (vial_str){c->salt, strlen(c->salt)};
    return s;
}

/* Our token for a configuration. */
static const char *our_token(vial_arena *a, const config *c) {
    vial_str keys[3], token;
    vial_signer s = signer_of(c, keys);
    vial_sign_status rc;
    if (strcmp(c->kind, "signer") == 0) {
        rc = vial_signer_sign(a, &s, c->value, strlen(c->value), &token);
    } else if (strcmp(c->kind, "timestamp_signer") == 0) {
        rc = vial_signer_sign_timed(a, &s, c->value, strlen(c->value), c->now, &token);
    } else {
        vial_json_error err;
        vial_value *typed = vial_json_parse(a, c->value, strlen(c->value), 0, &err);
        cr_assert_not_null(typed, "bad test value %s", c->value);
        rc = vial_serializer_dumps(a, &s, typed_to_value(a, typed), c->now, &token);
    }
    cr_assert_eq(rc, VIAL_SIGN_OK, "%s %s: %s", c->kind, c->value, vial_sign_strerror(rc));
    return token.ptr;
}

Test(signer, tokens_match_itsdangerous_byte_for_byte) {
    vial_arena *a = vial_arena_new(1 << 16);
    vial_buf req;
    vial_buf_init(&req, NULL, 0);
    vial_buf_puts(&req, "{\"configs\":[");
    for (size_t i = 0; i < NCONFIGS; i++) {
        if (i) vial_buf_putc(&req, ',');
        config_json(&req, a, &configs[i], NULL);
    }
    vial_buf_puts(&req, "]}");
    vial_value *answers = run_oracle(a, "its_tokens", vial_buf_cstr(&req));
    vial_buf_free(&req);
    cr_assert(answers && vial_len(answers) == NCONFIGS, "the itsdangerous oracle did not answer");
    for (size_t i = 0; i < NCONFIGS; i++) {
        vial_value *ans = vial_array_get(answers, i);
        cr_assert(vial_get_bool(ans, "ok", false), "config %zu: itsdangerous raised %s", i,
                  vial_get_str(ans, "exception"));
        cr_expect_str_eq(our_token(a, &configs[i]), vial_get_str(ans, "token"), "config %zu (%s, %s)", i,
                         configs[i].kind, configs[i].value);
    }
    vial_arena_free(a);
}

Test(signer, itsdangerous_reads_our_tokens_and_we_read_its) {
    vial_arena *a = vial_arena_new(1 << 16);
    const char **tokens = vial_arena_alloc(a, NCONFIGS * sizeof *tokens);
    vial_buf req;
    vial_buf_init(&req, NULL, 0);
    vial_buf_puts(&req, "{\"configs\":[");
    for (size_t i = 0; i < NCONFIGS; i++) {
        tokens[i] = our_token(a, &configs[i]);
        if (i) vial_buf_putc(&req, ',');
        config_json(&req, a, &configs[i], tokens[i]);
    }
    vial_buf_puts(&req, "]}");
    vial_value *answers = run_oracle(a, "its_loads", vial_buf_cstr(&req));
    vial_buf_free(&req);
    cr_assert(answers && vial_len(answers) == NCONFIGS, "the itsdangerous oracle did not answer");
    for (size_t i = 0; i < NCONFIGS; i++) {
        const config *c = &configs[i];
        vial_value *ans = vial_array_get(answers, i);
        cr_assert(vial_get_bool(ans, "ok", false), "config %zu: itsdangerous refused our token %s: %s", i, tokens[i],
                  vial_get_str(ans, "exception"));
        vial_str keys[3], value;
        vial_signer s = signer_of(c, keys);
        if (strcmp(c->kind, "timed_serializer") != 0) {
            char hex[256] = "";
            for (size_t j = 0; c->value[j]; j++) sprintf(hex + 2 * j, "%02x", (unsigned char)c->value[j]);
            cr_expect_str_eq(vial_get_str(ans, "value_hex"), hex, "config %zu", i);
            int64_t at = -1;
            vial_sign_status rc = strcmp(c->kind, "signer") == 0
                                      ? vial_signer_unsign(&s, tokens[i], strlen(tokens[i]), &value)
                                      : vial_signer_unsign_timed(&s, tokens[i], strlen(tokens[i]), 10, c->now + 10,
                                                                 &value, &at);
            cr_expect_eq(rc, VIAL_SIGN_OK, "config %zu: %s", i, vial_sign_strerror(rc));
            cr_expect(value.len == strlen(c->value) && memcmp(value.ptr, c->value, value.len) == 0, "config %zu", i);
            if (strcmp(c->kind, "timestamp_signer") == 0) cr_expect_eq(at, c->now);
        } else {
            vial_json_error err;
            vial_value *want = typed_to_value(a, vial_json_parse(a, c->value, strlen(c->value), 0, &err));
            /* itsdangerous' JSON has no tuples: a tuple comes back as a list. */
            vial_value *python = typed_to_value(a, vial_object_get(ans, "value"));
            vial_value *ours = NULL;
            vial_sign_status rc =
                vial_serializer_loads(a, &s, tokens[i], strlen(tokens[i]), 60, c->now, &ours, NULL);
            cr_expect_eq(rc, VIAL_SIGN_OK, "config %zu: %s", i, vial_sign_strerror(rc));
            cr_expect(typed_equal(ours, python), "config %zu: we read %s, itsdangerous %s", i, typed_show(a, ours),
                      typed_show(a, python));
            if (!strstr(c->value, "$tuple"))
                cr_expect(typed_equal(ours, want), "config %zu: %s", i, typed_show(a, ours));
        }
    }
    vial_arena_free(a);
}

Test(signer, timestamps_expiry_and_clock_skew) {
    vial_arena *a = vial_arena_new(1 << 14);
    vial_str key = VIAL_STR("secret");
    vial_signer s = {.keys = &key, .nkeys = 1};
    vial_str token, value;
    cr_assert_eq(vial_signer_sign_timed(a, &s, "v", 1, 1000, &token), VIAL_SIGN_OK);
    int64_t at;
    cr_expect_eq(vial_signer_unsign_timed(&s, token.ptr, token.len, 100, 1100, &value, &at), VIAL_SIGN_OK);
    cr_expect_eq(at, 1000);
    cr_expect_eq(vial_signer_unsign_timed(&s, token.ptr, token.len, 100, 1101, &value, &at), VIAL_SIGN_EXPIRED);
    cr_expect_eq(vial_signer_unsign_timed(&s, token.ptr, token.len, 100, 999, &value, &at), VIAL_SIGN_EXPIRED);
    cr_expect_eq(vial_signer_unsign_timed(&s, token.ptr, token.len, -1, 999999999, &value, &at), VIAL_SIGN_OK);
    cr_expect_eq(vial_signer_unsign_timed(&s, token.ptr, token.len, 0, 1000, &value, &at), VIAL_SIGN_OK);
    /* A plain signature over a value without a timestamp: "timestamp missing". */
    cr_assert_eq(vial_signer_sign(a, &s, "no-ts", 5, &token), VIAL_SIGN_OK);
    cr_expect_eq(vial_signer_unsign_timed(&s, token.ptr, token.len, -1, 0, &value, &at), VIAL_SIGN_BAD_TIMESTAMP);
    /* A signed timestamp of 9 bytes, or past year 9999. */
    cr_assert_eq(vial_signer_sign(a, &s, "v.AQEBAQEBAQEB", 14, &token), VIAL_SIGN_OK);
    cr_expect_eq(vial_signer_unsign_timed(&s, token.ptr, token.len, -1, 0, &value, &at), VIAL_SIGN_BAD_TIMESTAMP);
    cr_assert_eq(vial_signer_sign(a, &s, "v.Ow6IcAA", 9, &token), VIAL_SIGN_OK); /* 253402300800 */
    cr_expect_eq(vial_signer_unsign_timed(&s, token.ptr, token.len, -1, 0, &value, &at), VIAL_SIGN_BAD_TIMESTAMP);
    cr_expect_eq(vial_signer_sign_timed(a, &s, "v", 1, -1, &token), VIAL_SIGN_BAD_CONFIG);
    vial_arena_free(a);
}

Test(signer, bad_settings_and_tampering) {
    vial_arena *a = vial_arena_new(1 << 14);
    vial_str key = VIAL_STR("secret"), token, value;
    vial_signer bad_sep = {.keys = &key, .nkeys = 1, .sep = 'a'};
    cr_expect_eq(vial_signer_sign(a, &bad_sep, "v", 1, &token), VIAL_SIGN_BAD_CONFIG);
    vial_signer bad_sep2 = {.keys = &key, .nkeys = 1, .sep = '='};
    cr_expect_eq(vial_signer_sign(a, &bad_sep2, "v", 1, &token), VIAL_SIGN_BAD_CONFIG);
    vial_signer bad_digest = {.keys = &key, .nkeys = 1, .digest = "nosuch"};
    cr_expect_eq(vial_signer_sign(a, &bad_digest, "v", 1, &token), VIAL_SIGN_BAD_CONFIG);
    vial_signer xof = {.keys = &key, .nkeys = 1, .digest = "shake_128"};
    cr_expect_eq(vial_signer_sign(a, &xof, "v", 1, &token), VIAL_SIGN_BAD_CONFIG);
    vial_signer bad_kd = {.keys = &key, .nkeys = 1, .key_derivation = 7};
    cr_expect_eq(vial_signer_sign(a, &bad_kd, "v", 1, &token), VIAL_SIGN_BAD_CONFIG);
    vial_signer no_key = {.keys = NULL, .nkeys = 0};
    cr_expect_eq(vial_signer_sign(a, &no_key, "v", 1, &token), VIAL_SIGN_NO_KEY);

    vial_signer s = {.keys = &key, .nkeys = 1, .digest = "sha256"};
    cr_assert_eq(vial_signer_sign(a, &s, "payload", 7, &token), VIAL_SIGN_OK);
    cr_expect_eq(vial_signer_unsign(&s, token.ptr, token.len, &value), VIAL_SIGN_OK);
    cr_expect_eq(value.len, 7);
    char *copy = vial_arena_strndup(a, token.ptr, token.len);
    for (size_t i = 0; i < token.len; i++) {
        char saved = copy[i];
        copy[i] = saved == 'A' ? 'B' : 'A';
        cr_expect_neq(vial_signer_unsign(&s, copy, token.len, &value), VIAL_SIGN_OK, "changed at %zu", i);
        copy[i] = saved;
    }
    cr_expect_eq(vial_signer_unsign(&s, "no separator", 12, &value), VIAL_SIGN_BAD_SIGNATURE);
    cr_expect_eq(vial_signer_unsign(&s, NULL, 0, &value), VIAL_SIGN_BAD_SIGNATURE);
    /* A different salt never verifies: tokens of one kind cannot pass for another. */
    vial_signer other_salt = {.keys = &key, .nkeys = 1, .digest = "sha256", .salt = VIAL_STR("other")};
    cr_expect_eq(vial_signer_unsign(&other_salt, token.ptr, token.len, &value), VIAL_SIGN_BAD_SIGNATURE);
    vial_arena_free(a);
}

Test(signer, serializer_errors) {
    vial_arena *a = vial_arena_new(1 << 14);
    vial_str key = VIAL_STR("secret"), token;
    vial_signer s = {.keys = &key, .nkeys = 1};
    /* Plain JSON (itsdangerous' default serializer) cannot carry bytes, UUIDs or datetimes. */
    vial_value *values[] = {vial_new_bytes(a, "x", 1), vial_new_uuid(a, "12345678123456781234567812345678"),
                            vial_new_datetime(a, 0)};
    for (size_t i = 0; i < 3; i++)
        cr_expect_eq(vial_serializer_dumps(a, &s, values[i], 1700000000, &token), VIAL_SIGN_UNSERIALIZABLE);
    /* A signed payload that is not JSON. */
    vial_signer raw = {.keys = &key, .nkeys = 1, .salt = VIAL_STR("itsdangerous")};
    cr_assert_eq(vial_signer_sign_timed(a, &raw, "bm90IGpzb24", 11, 1700000000, &token), VIAL_SIGN_OK);
    vial_value *out = NULL;
    cr_expect_eq(vial_serializer_loads(a, &s, token.ptr, token.len, -1, 1700000000, &out, NULL),
                 VIAL_SIGN_BAD_PAYLOAD);
    cr_expect_null(out);
    cr_assert_eq(vial_signer_sign_timed(a, &raw, ".bm90IHpsaWI", 12, 1700000000, &token), VIAL_SIGN_OK);
    cr_expect_eq(vial_serializer_loads(a, &s, token.ptr, token.len, -1, 1700000000, &out, NULL),
                 VIAL_SIGN_BAD_PAYLOAD);
    vial_arena_free(a);
}

Test(signer, sign_and_unsign_convenience) {
    vial_arena *a = vial_arena_new(1 << 14);
    vial_value *v = vial_pack_in(a, "{s:i, s:s}", "uid", 42, "email", "a@example.com");
    char *token = vial_sign(a, "secret", "reset", v);
    cr_assert_not_null(token);
    vial_sign_status st;
    vial_value *back = vial_unsign(a, "secret", "reset", token, 3600, &st);
    cr_assert_eq(st, VIAL_SIGN_OK);
    cr_expect(typed_equal(back, v));
    cr_expect_null(vial_unsign(a, "secret", "activate", token, 3600, &st), "another salt must not verify");
    cr_expect_eq(st, VIAL_SIGN_BAD_SIGNATURE);
    cr_expect_null(vial_unsign(a, "wrong", "reset", token, 3600, &st));
    cr_expect_eq(st, VIAL_SIGN_BAD_SIGNATURE);
    cr_expect_null(vial_sign(a, "", "reset", v), "an empty secret signs nothing");
    cr_expect_null(vial_sign(a, NULL, "reset", v));
    cr_expect_null(vial_unsign(a, "secret", "reset", "garbage", 3600, &st));
    cr_expect_null(vial_unsign(a, "secret", "reset", NULL, 3600, NULL));
    /* A token from an hour and a second ago (signed with the real clock minus 3601 s). */
    vial_str key = VIAL_STR("secret"), old;
    vial_signer s = {.keys = &key, .nkeys = 1, .salt = VIAL_STR("reset")};
    cr_assert_eq(vial_serializer_dumps(a, &s, v, (int64_t)time(NULL) - 3601, &old), VIAL_SIGN_OK);
    cr_expect_null(vial_unsign(a, "secret", "reset", old.ptr, 3600, &st));
    cr_expect_eq(st, VIAL_SIGN_EXPIRED);
    cr_expect_not_null(vial_unsign(a, "secret", "reset", old.ptr, -1, &st), "no max_age: no expiry");
    vial_arena_free(a);
}

Test(signer, compare_digest) {
    cr_expect(vial_compare_digest("abc", 3, "abc", 3));
    cr_expect(!vial_compare_digest("abc", 3, "abd", 3));
    cr_expect(!vial_compare_digest("abc", 3, "abcd", 4));
    cr_expect(!vial_compare_digest("abcd", 4, "abc", 3));
    cr_expect(vial_compare_digest("", 0, "", 0));
    cr_expect(vial_compare_digest("a\0b", 3, "a\0b", 3));
    cr_expect(!vial_compare_digest("a\0b", 3, "a\0c", 3));
}
