/* Flask session cookies: every case of tests/data/vectors/flask_session_cookies.json
 * both ways, key rotation, tampering, limits, the missing-key error. */
#include <criterion/criterion.h>
#include <openssl/hmac.h>
#include <string.h>

#include "session_typed.h"

#define VECTORS "vectors/flask_session_cookies.json"

/* Cookies Python's lenient base64 decoder accepts but we reject on purpose
 * (the issue allows it). A signature has exactly one spelling; accepting
 * others would make signatures malleable for no client's benefit. */
static const struct {
    const char *id, *reason;
} rejected_on_purpose[] = {
    {"signature_last_char_low_bits",
     "the 27th character carries 2 unused bits; Python ignores them, we require them to be zero (canonical base64)"},
    {"signature_with_4_junk_chars", "Python skips characters outside the base64 alphabet; we refuse them"},
    {"signature_with_padding", "a 20-byte HMAC is 27 characters unpadded; we refuse a trailing '='"},
};

static const char *rejection_reason(const char *id) {
    for (size_t i = 0; i < sizeof rejected_on_purpose / sizeof rejected_on_purpose[0]; i++)
        if (strcmp(rejected_on_purpose[i].id, id) == 0) return rejected_on_purpose[i].reason;
    return NULL;
}

static vial_value *load_cases(vial_arena *a) {
    vial_value *doc = typed_load_json(a, VECTORS);
    cr_assert_not_null(doc, "cannot read %s", VECTORS);
    vial_value *cases = vial_object_get(doc, "cases");
    cr_assert(cases && cases->type == VIAL_ARRAY && vial_len(cases) > 70);
    return cases;
}

static int64_t lifetime(vial_arena *a) {
    vial_value *doc = typed_load_json(a, VECTORS);
    return vial_get_int(vial_object_get(doc, "source"), "permanent_session_lifetime_seconds", -1);
}

Test(session_cookie, encode_cases_produce_flasks_exact_cookie) {
    vial_arena *a = vial_arena_new(1 << 16);
    vial_value *cases = load_cases(a);
    int64_t max_age = lifetime(a);
    cr_assert_eq(max_age, VIAL_SESSION_LIFETIME_DEFAULT);
    int n = 0;
    for (size_t i = 0; i < vial_len(cases); i++) {
        vial_value *c = vial_array_get(cases, i);
        if (strcmp(vial_get_str(c, "kind"), "encode") != 0) continue;
        const char *id = vial_get_str(c, "id");
        vial_str key = typed_case_key(a, c);
        vial_value *session = typed_to_value(a, vial_object_get(c, "session"));
        int64_t ts = vial_get_int(c, "timestamp", -1);

        /* The tagged JSON, then the whole cookie, byte for byte. */
        vial_json_error err;
        size_t json_len;
        char *json = vial_tagged_json_dumps(a, session, &json_len, &err);
        cr_assert_not_null(json, "%s: dumps failed: %s", id, err.message);
        cr_expect_str_eq(json, vial_get_str(c, "payload_json"), "%s: payload JSON differs", id);
        vial_str cookie;
        vial_sign_status rc = vial_session_cookie_encode(a, &key, 1, session, ts, &cookie);
        cr_assert_eq(rc, VIAL_SIGN_OK, "%s: %s", id, vial_sign_strerror(rc));
        cr_expect_eq(cookie.len, strlen(cookie.ptr));
        cr_expect_str_eq(cookie.ptr, vial_get_str(c, "cookie_value"), "%s: cookie differs", id);

        /* And Flask's cookie reads back as what Flask's next request sees. */
        const char *flask_cookie = vial_get_str(c, "cookie_value");
        vial_value *back_typed = vial_object_get(vial_object_get(c, "flask_loads_back_as"), "session");
        vial_value *expected = typed_to_value(a, back_typed);
        vial_value *got = vial_session_cookie_decode(a, &key, 1, flask_cookie, strlen(flask_cookie), ts, max_age, &rc);
        cr_expect_eq(rc, VIAL_SIGN_OK, "%s: decode: %s", id, vial_sign_strerror(rc));
        cr_expect(typed_equal(got, expected), "%s: decoded %s, Flask saw %s", id, typed_show(a, got),
                  typed_show(a, expected));
        n++;
    }
    cr_expect_eq(n, 46, "expected the 46 encode cases, saw %d", n);
    vial_arena_free(a);
}

/* itsdangerous' exception for a decode case, as our status. */
static vial_sign_status expected_status(vial_value *c) {
    /* Flask does not call itsdangerous for an empty cookie: a new session, no error. */
    if (strcmp(vial_get_str(c, "cookie_value"), "") == 0) return VIAL_SIGN_OK;
    vial_value *its = vial_object_get(c, "itsdangerous_loads");
    vial_value *flask = vial_object_get(c, "flask");
    if (vial_get_int(flask, "status", 0) == 500) return VIAL_SIGN_BAD_PAYLOAD; /* we answer an empty session */
    if (vial_get_bool(its, "ok", false)) return VIAL_SIGN_OK;
    const char *exc = vial_get_str(its, "exception");
    const char *msg = vial_get_str(its, "message");
    if (strcmp(exc, "SignatureExpired") == 0) return VIAL_SIGN_EXPIRED;
    if (strcmp(exc, "BadPayload") == 0) return VIAL_SIGN_BAD_PAYLOAD;
    if (strcmp(exc, "BadTimeSignature") == 0 && strcmp(msg, "Malformed timestamp") == 0) return VIAL_SIGN_BAD_TIMESTAMP;
    return VIAL_SIGN_BAD_SIGNATURE; /* BadSignature, BadTimeSignature "does not match" */
}

Test(session_cookie, decode_cases_read_what_flask_reads) {
    vial_arena *a = vial_arena_new(1 << 16);
    vial_value *cases = load_cases(a);
    int n = 0, rejected = 0;
    for (size_t i = 0; i < vial_len(cases); i++) {
        vial_value *c = vial_array_get(cases, i);
        if (strcmp(vial_get_str(c, "kind"), "decode") != 0) continue;
        const char *id = vial_get_str(c, "id");
        vial_str key = typed_case_key(a, c);
        const char *cookie = vial_get_str(c, "cookie_value");
        vial_sign_status rc;
        vial_value *got = vial_session_cookie_decode(a, &key, 1, cookie, strlen(cookie), vial_get_int(c, "now", 0),
                                                     vial_get_int(c, "max_age", -1), &rc);
        cr_assert_not_null(got);
        cr_expect_eq(got->type, VIAL_OBJECT, "%s: not an object", id);
        vial_value *flask = vial_object_get(c, "flask");
        const char *reason = rejection_reason(id);
        if (reason) {
            /* Flask accepts these; we must reject, and the test says why. */
            cr_expect(vial_get_bool(vial_object_get(c, "itsdangerous_loads"), "ok", false),
                      "%s: listed as rejected on purpose but Python rejects it too", id);
            cr_expect_eq(rc, VIAL_SIGN_BAD_SIGNATURE, "%s (%s): status %s", id, reason, vial_sign_strerror(rc));
            cr_expect_eq(vial_len(got), 0, "%s (%s): contents leaked", id, reason);
            rejected++;
            n++;
            continue;
        }
        vial_sign_status want = expected_status(c);
        cr_expect_eq(rc, want, "%s: status '%s', expected '%s'", id, vial_sign_strerror(rc), vial_sign_strerror(want));
        vial_value *expected = vial_get_int(flask, "status", 0) == 200
                                   ? typed_to_value(a, vial_object_get(flask, "session"))
                                   : vial_new_object(a); /* Flask's 500: we give an empty session */
        cr_expect(typed_equal(got, expected), "%s: decoded %s, expected %s", id, typed_show(a, got),
                  typed_show(a, expected));
        n++;
    }
    cr_expect_eq(n, 29, "expected the 29 decode cases, saw %d", n);
    cr_expect_eq(rejected, 3);
    vial_arena_free(a);
}

Test(session_cookie, behaviour_cases) {
    vial_arena *a = vial_arena_new(1 << 16);
    vial_value *cases = load_cases(a);
    int n = 0;
    for (size_t i = 0; i < vial_len(cases); i++) {
        vial_value *c = vial_array_get(cases, i);
        if (strcmp(vial_get_str(c, "kind"), "flask_behaviour") != 0) continue;
        const char *id = vial_get_str(c, "id");
        vial_str key = typed_case_key(a, c);
        vial_sign_status rc;
        n++;
        if (strcmp(id, "empty_session_no_cookie") == 0) {
            /* Whether to send a cookie is the request layer's decision; here:
             * an empty session still encodes to a valid cookie reading back {}. */
            vial_str cookie;
            cr_assert_eq(vial_session_cookie_encode(a, &key, 1, typed_to_value(a, vial_object_get(c, "session")),
                                                    1700000000, &cookie),
                         VIAL_SIGN_OK);
            vial_value *back = vial_session_cookie_decode(a, &key, 1, cookie.ptr, cookie.len, 1700000000, 60, &rc);
            cr_expect_eq(rc, VIAL_SIGN_OK);
            cr_expect_eq(vial_len(back), 0);
        } else if (strcmp(id, "session_cleared_deletes_cookie") == 0) {
            /* The incoming cookie is a valid session (the deletion cookie is the request layer's). */
            const char *in = vial_get_str(c, "incoming_cookie");
            vial_value *s = vial_session_cookie_decode(a, &key, 1, in, strlen(in), 1700000000, 2678400, &rc);
            cr_expect_eq(rc, VIAL_SIGN_OK);
            cr_expect_eq(vial_get_int(s, "user_id", 0), 42);
        } else if (strcmp(id, "unsupported_set") == 0) {
            /* Python cannot serialize a set; our equivalents are values a
             * tag cannot carry. No cookie comes out, an error does. */
            cr_expect_eq(vial_get_int(c, "status", 0), 500);
            vial_value *bad_uuid = vial_new_str(a, "not-a-uuid");
            bad_uuid->tag = VIAL_TAG_UUID;
            vial_value *bad_year = vial_new_datetime(a, 253402300800LL); /* year 10000 */
            vial_value *values[] = {bad_uuid, bad_year};
            for (size_t k = 0; k < 2; k++) {
                vial_value *s = vial_new_object(a);
                vial_object_set(s, "x", values[k]);
                vial_str cookie = {NULL, 0};
                cr_expect_eq(vial_session_cookie_encode(a, &key, 1, s, 1700000000, &cookie),
                             VIAL_SIGN_UNSERIALIZABLE);
                cr_expect_null(cookie.ptr);
            }
        } else {
            cr_expect_fail("behaviour case %s has no test: add one", id);
        }
    }
    cr_expect_eq(n, 3);
    vial_arena_free(a);
}

Test(session_cookie, missing_secret_key_is_flasks_error) {
    vial_arena *a = vial_arena_new(4096);
    vial_value *s = vial_pack_in(a, "{s:i}", "a", 1);
    vial_str cookie = {NULL, 0};
    vial_str empty = {"", 0};
    cr_expect_eq(vial_session_cookie_encode(a, NULL, 0, s, 1700000000, &cookie), VIAL_SIGN_NO_KEY);
    cr_expect_eq(vial_session_cookie_encode(a, &empty, 1, s, 1700000000, &cookie), VIAL_SIGN_NO_KEY);
    cr_expect_null(cookie.ptr);
    cr_expect_str_eq(vial_sign_strerror(VIAL_SIGN_NO_KEY),
                     "The session is unavailable because no secret key was set. Set the secret_key on the "
                     "application to something unique and secret.");
    vial_sign_status rc;
    const char *flask_cookie = "eyJ1c2VyX2lkIjo0Mn0.ZVPxAA.hjhtQRGPO7UK57j5dSOtrXVGqbs";
    vial_value *v = vial_session_cookie_decode(a, &empty, 1, flask_cookie, strlen(flask_cookie), 1700000000, 60, &rc);
    cr_expect_eq(rc, VIAL_SIGN_NO_KEY);
    cr_expect_eq(vial_len(v), 0);
    vial_arena_free(a);
}

Test(session_cookie, key_rotation_signs_with_first_reads_all) {
    vial_arena *a = vial_arena_new(1 << 14);
    vial_str old_key = VIAL_STR("old-secret"), new_key = VIAL_STR("new-secret");
    vial_str rotated[] = {new_key, old_key};
    vial_value *s = vial_pack_in(a, "{s:s}", "user", "alice");
    vial_str by_old, by_new, by_rotated;
    cr_assert_eq(vial_session_cookie_encode(a, &old_key, 1, s, 1700000000, &by_old), VIAL_SIGN_OK);
    cr_assert_eq(vial_session_cookie_encode(a, &new_key, 1, s, 1700000000, &by_new), VIAL_SIGN_OK);
    cr_assert_eq(vial_session_cookie_encode(a, rotated, 2, s, 1700000000, &by_rotated), VIAL_SIGN_OK);
    cr_expect_str_eq(by_rotated.ptr, by_new.ptr, "new cookies must be signed with the first key");
    vial_sign_status rc;
    vial_value *v = vial_session_cookie_decode(a, rotated, 2, by_old.ptr, by_old.len, 1700000000, 60, &rc);
    cr_expect_eq(rc, VIAL_SIGN_OK, "old cookies must still read: %s", vial_sign_strerror(rc));
    cr_expect_str_eq(vial_get_str(v, "user"), "alice");
    v = vial_session_cookie_decode(a, &new_key, 1, by_old.ptr, by_old.len, 1700000000, 60, &rc);
    cr_expect_eq(rc, VIAL_SIGN_BAD_SIGNATURE, "once the old key is dropped its cookies are refused");
    cr_expect_eq(vial_len(v), 0);
    /* Expiry is not reset by a fallback key. */
    v = vial_session_cookie_decode(a, rotated, 2, by_old.ptr, by_old.len, 1700000061, 60, &rc);
    cr_expect_eq(rc, VIAL_SIGN_EXPIRED);
    /* An empty fallback key never verifies anything: forge a cookie signed
     * with the empty key (HMAC-SHA1 by hand) and offer it. */
    unsigned char derived[20], sig[20];
    unsigned dlen, slen;
    const char *signed_value = "eyJ1c2VyIjoibWFsbG9yeSJ9.ZVPxAA"; /* {"user":"mallory"} */
    HMAC(EVP_sha1(), "", 0, (const unsigned char *)"cookie-session", 14, derived, &dlen);
    HMAC(EVP_sha1(), derived, (int)dlen, (const unsigned char *)signed_value, strlen(signed_value), sig, &slen);
    char sig_b64[32];
    vial_base64_encode(sig_b64, sig, slen, VIAL_B64_URL | VIAL_B64_NOPAD);
    char *forged = vial_arena_sprintf(a, "%s.%s", signed_value, sig_b64);
    vial_str with_empty[] = {new_key, {"", 0}};
    v = vial_session_cookie_decode(a, with_empty, 2, forged, strlen(forged), 1700000000, 60, &rc);
    cr_expect_eq(rc, VIAL_SIGN_BAD_SIGNATURE, "a cookie signed with an empty key was accepted");
    cr_expect_eq(vial_len(v), 0);
    v = vial_session_cookie_decode(a, with_empty, 2, by_new.ptr, by_new.len, 1700000000, 60, &rc);
    cr_expect_eq(rc, VIAL_SIGN_OK);
    vial_arena_free(a);
}

Test(session_cookie, every_modification_gives_an_empty_session) {
    vial_arena *a = vial_arena_new(1 << 16);
    vial_str key = VIAL_STR("dev");
    const char *cookies[] = {
        "eyJ1c2VyX2lkIjo0Mn0.ZVPxAA.hjhtQRGPO7UK57j5dSOtrXVGqbs",
        ".eJyrVkpJLElUslKqGAWjYBQMe6BUCwD9rdgk.ZVPxAA.AAXa6p5144WPH6eJBLI8CAl0eek",
    };
    static const char replacements[] = "AaZz09-_.=!~ \x80";
    for (size_t k = 0; k < 2; k++) {
        const char *good = cookies[k];
        size_t len = strlen(good);
        vial_sign_status rc;
        vial_value *v = vial_session_cookie_decode(a, &key, 1, good, len, 1700000000, 2678400, &rc);
        cr_assert_eq(rc, VIAL_SIGN_OK);
        cr_assert(vial_len(v) > 0);
        char *bad = malloc(len + 2);
        for (size_t pos = 0; pos < len; pos++) {
            for (const char *r = replacements; *r; r++) {
                if (*r == good[pos]) continue;
                memcpy(bad, good, len + 1);
                bad[pos] = *r;
                vial_arena_reset(a);
                v = vial_session_cookie_decode(a, &key, 1, bad, len, 1700000000, 2678400, &rc);
                cr_assert_neq(rc, VIAL_SIGN_OK, "a cookie changed at %zu to '%c' was accepted: %s", pos, *r, bad);
                cr_assert_eq(vial_len(v), 0);
            }
            /* truncated to pos bytes */
            vial_arena_reset(a);
            v = vial_session_cookie_decode(a, &key, 1, good, pos, 1700000000, 2678400, &rc);
            cr_assert(pos == 0 ? rc == VIAL_SIGN_OK : rc != VIAL_SIGN_OK, "truncated to %zu bytes: %s", pos,
                      vial_sign_strerror(rc));
            cr_assert_eq(vial_len(v), 0);
        }
        /* one byte appended */
        memcpy(bad, good, len);
        bad[len] = 'A';
        bad[len + 1] = '\0';
        v = vial_session_cookie_decode(a, &key, 1, bad, len + 1, 1700000000, 2678400, &rc);
        cr_expect_neq(rc, VIAL_SIGN_OK);
        free(bad);
    }
    vial_arena_free(a);
}

Test(session_cookie, signed_but_not_a_dict_or_too_big) {
    vial_arena *a = vial_arena_new(1 << 16);
    vial_str key = VIAL_STR("dev");
    vial_signer s = {.keys = &key, .nkeys = 1, .salt = VIAL_STR(VIAL_SESSION_SALT),
                     .key_derivation = VIAL_KEY_DERIVATION_HMAC};
    struct {
        const char *payload_json;
        vial_sign_status want;
        size_t want_len;
    } cases[] = {
        {"null", VIAL_SIGN_OK, 0},
        {"[]", VIAL_SIGN_OK, 0},
        {"0", VIAL_SIGN_OK, 0},
        {"\"\"", VIAL_SIGN_OK, 0},
        {"{\" t\":[]}", VIAL_SIGN_OK, 0},              /* an empty tuple is falsy too */
        {"[1,2]", VIAL_SIGN_BAD_PAYLOAD, 0},            /* Flask: TypeError, 500 */
        {"[[\"a\",1]]", VIAL_SIGN_BAD_PAYLOAD, 0},      /* Flask: dict of pairs; we do not rebuild it */
        {"\"text\"", VIAL_SIGN_BAD_PAYLOAD, 0},
        {"{\" d\":\"Thu, 01 Jan 1970 00:00:00 GMT\"}", VIAL_SIGN_BAD_PAYLOAD, 0}, /* a datetime is truthy */
        {"{\"a\":{\" b\":\"YWJ\"}}", VIAL_SIGN_BAD_PAYLOAD, 0},                   /* bad base64 in a tag */
        {"{\"a\":1,\"b\":[1,{\" u\":\"nope\"}]}", VIAL_SIGN_BAD_PAYLOAD, 0},      /* never partial */
        {"{\"a\":1}", VIAL_SIGN_OK, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        /* Sign the raw JSON payload the way itsdangerous would. */
        char b64[256];
        vial_base64_encode(b64, cases[i].payload_json, strlen(cases[i].payload_json), VIAL_B64_URL | VIAL_B64_NOPAD);
        vial_str token;
        cr_assert_eq(vial_signer_sign_timed(a, &s, b64, strlen(b64), 1700000000, &token), VIAL_SIGN_OK);
        vial_sign_status rc;
        vial_value *v = vial_session_cookie_decode(a, &key, 1, token.ptr, token.len, 1700000000, 60, &rc);
        cr_expect_eq(rc, cases[i].want, "%s: %s", cases[i].payload_json, vial_sign_strerror(rc));
        cr_expect_eq(v->type, VIAL_OBJECT);
        cr_expect_eq(vial_len(v), cases[i].want_len, "%s", cases[i].payload_json);
    }
    /* A compressed payload inflating past VIAL_SIGN_MAX_PAYLOAD (a zlib bomb). */
    size_t big = VIAL_SIGN_MAX_PAYLOAD + 10;
    char *text = malloc(big);
    memset(text, 'x', big);
    vial_value *session = vial_new_object(a);
    vial_object_set(session, "a", vial_new_strn(a, text, big));
    vial_str cookie;
    cr_assert_eq(vial_session_cookie_encode(a, &key, 1, session, 1700000000, &cookie), VIAL_SIGN_OK);
    cr_expect_lt(cookie.len, 8000, "a megabyte of 'x' compresses to a few KB");
    vial_sign_status rc;
    vial_value *v = vial_session_cookie_decode(a, &key, 1, cookie.ptr, cookie.len, 1700000000, 60, &rc);
    cr_expect_eq(rc, VIAL_SIGN_TOO_LARGE);
    cr_expect_eq(vial_len(v), 0);
    free(text);
    vial_arena_free(a);
}

Test(session_cookie, nesting_limit) {
    vial_arena *a = vial_arena_new(1 << 16);
    vial_str key = VIAL_STR("dev");
    vial_value *session = vial_new_object(a), *cur = session;
    for (int i = 0; i < 600; i++) {
        vial_value *next = vial_new_object(a);
        vial_object_set(cur, "k", next);
        cur = next;
    }
    vial_str cookie = {NULL, 0};
    cr_expect_eq(vial_session_cookie_encode(a, &key, 1, session, 1700000000, &cookie), VIAL_SIGN_UNSERIALIZABLE);
    vial_arena_free(a);
}
