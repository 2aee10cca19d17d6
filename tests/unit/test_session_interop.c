/* Interop with the real Flask (/usr/bin/python3 tests/unit/flask_oracle.py):
 * random sessions made by Flask are read by vial and re-encoded to the same
 * bytes; random sessions made by vial are read by Flask; odd tagged payloads,
 * dates and base64 inputs are decoded by both and compared. */
#include <criterion/criterion.h>
#include <string.h>

#include "session/internal.h"
#include "session_typed.h"

#define SECRET "interop-secret-\xe5\xaf\x86"
#define NOW 1700000000
#define LIFETIME 2678400

static uint64_t rng_state;
static uint64_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}
static uint64_t seed_from_env(uint64_t fallback) {
    const char *s = getenv("VIAL_TEST_SEED");
    return s ? strtoull(s, NULL, 10) : fallback;
}

Test(session_interop, flask_cookies_read_by_vial_and_rewritten_identically) {
    vial_arena *a = vial_arena_new(1 << 20);
    uint64_t seed = seed_from_env(20240501);
    int count = 300;
    char *req = vial_arena_sprintf(a, "{\"seed\":%llu,\"count\":%d,\"secret\":\"%s\",\"timestamp\":%d,\"max_age\":%d}",
                                   (unsigned long long)seed, count, "interop-secret-\\u5bc6", NOW, LIFETIME);
    vial_value *cases = run_oracle(a, "sessions_from_flask", req);
    cr_assert(cases && vial_len(cases) == (size_t)count, "the Flask oracle did not answer (seed %llu)",
              (unsigned long long)seed);
    vial_str key = VIAL_STR(SECRET);
    for (size_t i = 0; i < vial_len(cases); i++) {
        vial_value *c = vial_array_get(cases, i);
        const char *flask_cookie = vial_get_str(c, "cookie");
        vial_value *expected = typed_to_value(a, vial_object_get(c, "loads_back"));
        vial_sign_status rc;
        vial_value *got = vial_session_cookie_decode(a, &key, 1, flask_cookie, strlen(flask_cookie), NOW, LIFETIME, &rc);
        cr_expect_eq(rc, VIAL_SIGN_OK, "seed %llu case %zu: %s", (unsigned long long)seed, i, vial_sign_strerror(rc));
        cr_expect(typed_equal(got, expected), "seed %llu case %zu: we read %s\nFlask reads %s", (unsigned long long)seed,
                  i, typed_show(a, got), typed_show(a, expected));
        /* Writing the session Flask had gives Flask's exact cookie. */
        vial_value *session = typed_to_value(a, vial_object_get(c, "session"));
        vial_str ours;
        rc = vial_session_cookie_encode(a, &key, 1, session, NOW, &ours);
        cr_expect_eq(rc, VIAL_SIGN_OK, "case %zu: %s", i, vial_sign_strerror(rc));
        if (rc == VIAL_SIGN_OK)
            cr_expect_str_eq(ours.ptr, flask_cookie, "seed %llu case %zu: cookie for %s differs",
                             (unsigned long long)seed, i, typed_show(a, session));
    }
    vial_arena_free(a);
}

/* ---- random values on the C side ---- */

static vial_value *rand_text(vial_arena *a) {
    static const uint32_t ranges[][2] = {{0x20, 0x7E},     {0x01, 0x1F},     {0x7F, 0xFF},       {0x400, 0x4FF},
                                         {0x4E00, 0x9FFF}, {0x2000, 0x206F}, {0xFFF0, 0xFFFD},   {0x1F300, 0x1FAFF},
                                         {0x10000, 0x10FFFF}};
    char buf[64];
    size_t n = 0, count = rnd() % 10;
    for (size_t i = 0; i < count; i++) {
        const uint32_t *r = ranges[rnd() % (sizeof ranges / sizeof ranges[0])];
        uint32_t cp = r[0] + (uint32_t)(rnd() % (r[1] - r[0] + 1));
        if (cp >= 0xD800 && cp <= 0xDFFF) cp = 'x';
        n += vial_utf8_encode(cp, buf + n);
    }
    if (rnd() % 8 == 0) buf[n++] = "\"\\/\0"[rnd() % 4];
    return vial_new_strn(a, buf, n);
}

static vial_value *rand_value(vial_arena *a, int depth) {
    unsigned k = depth >= 4 ? (unsigned)(rnd() % 11) : (unsigned)(rnd() % 15);
    switch (k) {
    case 0: return vial_value_null();
    case 1: return vial_new_bool(a, rnd() & 1);
    case 2: return vial_new_int(a, (int64_t)(rnd() % 2001) - 1000);
    case 3: return vial_new_int(a, (int64_t)rnd());
    case 4: {
        static const double specials[] = {0.1, -2.5, 1e-7, 1e16, 5e-324, -0.0, 1.0 / 0.0, -1.0 / 0.0, 0.0 / 0.0};
        if (rnd() % 2) return vial_new_double(a, specials[rnd() % 9]);
        double d;
        uint64_t bits = rnd();
        memcpy(&d, &bits, sizeof d);
        return vial_new_double(a, d);
    }
    case 5: {
        unsigned char b[16];
        size_t n = rnd() % 16;
        for (size_t i = 0; i < n; i++) b[i] = (unsigned char)rnd();
        return vial_new_bytes(a, b, n);
    }
    case 6: {
        vial_value *t = rand_text(a);
        t->flags |= VIAL_FLAG_SAFE;
        return t;
    }
    case 7: {
        char hex[33];
        for (int i = 0; i < 32; i++) hex[i] = "0123456789abcdef"[rnd() % 16];
        hex[32] = '\0';
        return vial_new_uuid(a, hex);
    }
    case 8: return vial_new_datetime(a, (int64_t)(rnd() % 6311433600ULL) - 2208988800LL); /* 1900..2100 */
    case 9: {
        vial_value *big = vial_new_str(a, rnd() % 2 ? "123456789012345678901234567890" : "-98765432109876543210");
        big->tag = VIAL_TAG_BIGINT;
        return big;
    }
    case 10: return rand_text(a);
    case 11:
    case 12: {
        vial_value *arr = k == 11 ? vial_new_array(a) : vial_new_tuple(a);
        size_t n = rnd() % 4;
        for (size_t i = 0; i < n; i++) vial_array_push(arr, rand_value(a, depth + 1));
        return arr;
    }
    case 13: { /* a dict that looks like a tag */
        static const char *const tags[] = {" t", " di", " b", " m", " u", " d"};
        vial_value *o = vial_new_object(a);
        vial_object_set(o, tags[rnd() % 6], rand_value(a, depth + 1));
        return o;
    }
    default: {
        vial_value *o = vial_new_object(a);
        size_t n = rnd() % 4;
        for (size_t i = 0; i < n; i++) {
            vial_value *key = rand_text(a);
            vial_object_setn(o, key->as.s.ptr, key->as.s.len, rand_value(a, depth + 1));
        }
        return o;
    }
    }
}

Test(session_interop, vial_cookies_read_by_flask) {
    vial_arena *a = vial_arena_new(1 << 20);
    rng_state = seed_from_env(987654321) | 1;
    uint64_t seed = rng_state;
    int count = 300;
    vial_str key = VIAL_STR(SECRET);
    vial_value **sessions = vial_arena_alloc(a, (size_t)count * sizeof *sessions);
    vial_buf req;
    vial_buf_init(&req, NULL, 0);
    vial_buf_puts(&req, "{\"secret\":\"interop-secret-\\u5bc6\",\"now\":1700000000,\"max_age\":2678400,\"cookies\":[");
    for (int i = 0; i < count; i++) {
        vial_value *s = vial_new_object(a);
        size_t n = 1 + rnd() % 5;
        for (size_t j = 0; j < n; j++) {
            vial_value *k = rand_text(a);
            vial_object_setn(s, k->as.s.ptr, k->as.s.len, rand_value(a, 0));
        }
        sessions[i] = s;
        vial_str cookie;
        vial_sign_status rc = vial_session_cookie_encode(a, &key, 1, s, NOW, &cookie);
        cr_assert_eq(rc, VIAL_SIGN_OK, "session %d: %s: %s", i, vial_sign_strerror(rc), typed_show(a, s));
        vial_buf_printf(&req, "%s\"%s\"", i ? "," : "", cookie.ptr);
        /* and we read our own cookie back */
        vial_value *back = vial_session_cookie_decode(a, &key, 1, cookie.ptr, cookie.len, NOW, LIFETIME, &rc);
        cr_expect(rc == VIAL_SIGN_OK && typed_equal(back, s), "session %d round trip: %s", i, typed_show(a, s));
    }
    vial_buf_puts(&req, "]}");
    vial_value *answers = run_oracle(a, "loads_cookies", vial_buf_cstr(&req));
    vial_buf_free(&req);
    cr_assert(answers && vial_len(answers) == (size_t)count, "the Flask oracle did not answer");
    for (int i = 0; i < count; i++) {
        vial_value *ans = vial_array_get(answers, (size_t)i);
        cr_expect(vial_get_bool(ans, "ok", false), "seed %llu session %d: Flask raised %s for %s",
                  (unsigned long long)seed, i, vial_get_str(ans, "exception"), typed_show(a, sessions[i]));
        vial_value *flask_sees = typed_to_value(a, vial_object_get(ans, "session"));
        cr_expect(typed_equal(flask_sees, sessions[i]), "seed %llu session %d: Flask reads %s\nwe wrote %s",
                  (unsigned long long)seed, i, typed_show(a, flask_sees), typed_show(a, sessions[i]));
    }
    vial_arena_free(a);
}

/* Payloads Flask never writes, signed by a key holder: Python's answer decides.
 * Where Python builds a value from them and we refuse, the reason is listed. */
static const char *const odd_payloads[] = {
    "{\" t\":\"ab\"}", "{\" t\":{\"a\":1,\"b\":2}}", "{\" t\":{\" b\":\"AAE=\"}}", "{\" t\":5}", "{\" t\":null}",
    "{\" t\":{\" u\":\"12345678123456781234567812345678\"}}", "{\" t\":{\" m\":\"x\\u00e9\"}}",
    "{\" m\":5}", "{\" m\":1.5}", "{\" m\":null}", "{\" m\":true}", "{\" m\":-0.0}", "{\" m\":1e300}", "{\" m\":NaN}",
    "{\" m\":-Infinity}", "{\" m\":123456789012345678901234}", "{\" m\":{\" u\":\"12345678123456781234567812345678\"}}",
    "{\" m\":\"<b>\"}", "{\" m\":{\" m\":\"<i>\"}}",
    "{\" d\":5}", "{\" d\":0}", "{\" d\":null}", "{\" d\":[]}", "{\" d\":[1]}", "{\" d\":{\" b\":\"YWJj\"}}",
    "{\" d\":{\" b\":\"\"}}", "{\" d\":\"garbage\"}", "{\" d\":\"\"}", "{\" d\":NaN}", "{\" d\":{\" t\":[]}}",
    "{\" d\":\"Tue, 02 Jan 2024 03:04:05 +0800\"}", "{\" d\":\"02 Jan 24 03:04 EST\"}",
    "{\" d\":\"Mon, 01 Jan 0001 00:00:00 GMT\"}", "{\" d\":{\" m\":\"Tue, 02 Jan 2024 03:04:05 GMT\"}}",
    "{\" di\":{}}", "{\" di\":{\"a__\":1,\"b__\":2}}", "{\" di\":{\"x\":1}}", "{\" di\":{\"\\u00e9\\u00e9\\u00e9\":1}}",
    "{\" di\":5}", "{\" di\":[0]}", "{\" di\":\"ab\"}", "{\" di\":{\" t\":[0,5]}}", "{\" di\":{\" t__\":{\" t\":[1]}}}",
    "{\" b\":\"YW Jj\"}", "{\" b\":\"YWJ\"}", "{\" b\":\"YQ==YQ==\"}", "{\" b\":\"Y=Q=\"}", "{\" b\":\"\\u00e9\"}",
    "{\" b\":{\" b\":\"WVdKag==\"}}", "{\" b\":\"!\"}", "{\" b\":\"-_8=\"}", "{\" b\":5}", "{\" b\":{\" m\":\"YWJj\"}}",
    "{\" u\":\"{12345678-1234-5678-1234-567812345678}\"}", "{\" u\":\"urn:uuid:12345678123456781234567812345678\"}",
    "{\" u\":\"1234567812345678123456781234567\"}", "{\" u\":\"12345678-1234-5678-1234-56781234567g\"}",
    "{\" u\":{\" u\":\"12345678123456781234567812345678\"}}", "{\" u\":{\" m\":\"12345678123456781234567812345678\"}}",
    "{\" u\":\"1234-5678123456781234567812345678\"}", "{\" u\":5}",
    "{\" t\":[1], \" t\":[2]}", "{\"a\":1,\"a\":2}", "\xef\xbb\xbf{}", "[1,]", "NaN", "-Infinity", "-NaN", "{\"a\":1}  ",
    "\"\\ud83d\\ude00\"", "1.", "01", "-", "1e5", "1E+2", "-0", "-0.0", "1e400", "-1e400", "[1e-400]", "{\"a\" : [ 1 , 2 ] }",
    "\"\\u00\"", "\"a\nb\"", "\"\\x\"", "{'a':1}", "tru", "[", "", " ", "{\"k\":\"\\u0000\"}",
    "123456789012345678901234567890123456789", "-9223372036854775808", "9223372036854775808",
};

/* Where Python builds a value that Flask itself never writes and we refuse
 * the payload (BAD_PAYLOAD, an empty session) instead of imitating it. */
static const struct {
    const char *payload, *reason;
} we_refuse[] = {
    {"{\" u\":\"+2345678123456781234567812345678\"}", "UUID() parses with int(x, 16), which takes a sign"},
    {"{\" u\":\"0x345678123456781234567812345678\"}", "UUID() parses with int(x, 16), which takes 0x"},
    {"{\" m\":[1,\"a\"]}", "Markup(list) is the list's Python repr"},
    {"{\" m\":{\" b\":\"YQ==\"}}", "Markup(bytes) is the bytes' Python repr"},
    {"{\" m\":{\" d\":\"Tue, 02 Jan 2024 03:04:05 GMT\"}}", "Markup(datetime) is str(datetime)"},
};

/* Where both read the payload but the values differ, and why. */
static const struct {
    const char *payload, *ours_typed, *reason;
} we_differ[] = {
    {"\"\\ud800x\"", "\"\\ufffdx\"", "a lone surrogate cannot be held in UTF-8: it becomes U+FFFD (as core/json.c)"},
};

static const char *refusal_reason(const char *payload) {
    for (size_t i = 0; i < sizeof we_refuse / sizeof we_refuse[0]; i++)
        if (we_refuse[i].reason && strcmp(we_refuse[i].payload, payload) == 0) return we_refuse[i].reason;
    return NULL;
}

static const char *const *all_payloads(vial_arena *a, size_t *n) {
    size_t base = sizeof odd_payloads / sizeof odd_payloads[0];
    size_t extra = sizeof we_refuse / sizeof we_refuse[0] + sizeof we_differ / sizeof we_differ[0];
    const char **all = vial_arena_alloc(a, (base + extra) * sizeof *all);
    size_t k = 0;
    for (size_t i = 0; i < base; i++) all[k++] = odd_payloads[i];
    for (size_t i = 0; i < sizeof we_refuse / sizeof we_refuse[0]; i++)
        if (we_refuse[i].reason) all[k++] = we_refuse[i].payload;
    for (size_t i = 0; i < sizeof we_differ / sizeof we_differ[0]; i++) all[k++] = we_differ[i].payload;
    *n = k;
    return all;
}

Test(session_interop, odd_tagged_payloads_match_python) {
    vial_arena *a = vial_arena_new(1 << 18);
    size_t n;
    const char *const *payloads = all_payloads(a, &n);
    vial_buf req;
    vial_buf_init(&req, NULL, 0);
    vial_buf_puts(&req, "{\"payloads\":[");
    for (size_t i = 0; i < n; i++) {
        if (i) vial_buf_putc(&req, ',');
        vial_json_write(&req, vial_new_str(a, payloads[i]), 0);
    }
    vial_buf_puts(&req, "]}");
    vial_value *answers = run_oracle(a, "tagged_loads", vial_buf_cstr(&req));
    vial_buf_free(&req);
    cr_assert(answers && vial_len(answers) == n, "the Flask oracle did not answer");
    for (size_t i = 0; i < n; i++) {
        vial_value *ans = vial_array_get(answers, i);
        vial_json_error err;
        vial_value *ours = vial_tagged_json_loads(a, payloads[i], strlen(payloads[i]), &err);
        if (!vial_get_bool(ans, "ok", false)) {
            cr_expect_null(ours, "%s: Python raises %s, we read %s", payloads[i], vial_get_str(ans, "exception"),
                           typed_show(a, ours));
            continue;
        }
        bool differs = false;
        for (size_t k = 0; k < sizeof we_differ / sizeof we_differ[0]; k++) {
            if (strcmp(we_differ[k].payload, payloads[i]) != 0) continue;
            vial_json_error e2;
            vial_value *mine = typed_to_value(a, vial_json_parse(a, we_differ[k].ours_typed,
                                                                 strlen(we_differ[k].ours_typed), 0, &e2));
            cr_expect(ours && typed_equal(ours, mine), "%s: listed as differing (%s) but we read %s", payloads[i],
                      we_differ[k].reason, typed_show(a, ours));
            cr_expect(strstr(vial_get_str(ans, "ascii"), "\\ud800") != NULL, "%s: Python no longer keeps the surrogate: %s",
                      payloads[i], vial_get_str(ans, "ascii"));
            differs = true;
        }
        if (differs) continue;
        const char *reason = refusal_reason(payloads[i]);
        if (reason) {
            cr_expect_null(ours, "%s: listed as refused (%s)", payloads[i], reason);
            continue;
        }
        vial_value *expected = typed_to_value(a, vial_object_get(ans, "value"));
        cr_expect(ours && typed_equal(ours, expected), "%s: we read %s (%s), Python %s", payloads[i],
                  typed_show(a, ours), ours ? "" : err.message, typed_show(a, expected));
    }
    vial_arena_free(a);
}

Test(session_interop, dates_parse_as_werkzeug_parses_them) {
    vial_arena *a = vial_arena_new(1 << 18);
    static const char *const fixed[] = {
        "Tue, 02 Jan 2024 03:04:05 GMT", "Tue, 02 Jan 2024 03:04:05 +0800", "Tue, 02 Jan 2024 03:04:05 -0000",
        "02 Jan 2024 03:04:05 GMT", "Tuesday, 02-Jan-24 03:04:05 GMT", "Tue Jan  2 03:04:05 2024",
        "2 Jan 2024 03:04 EST", "Jan 02 2024 03:04:05", "02 jan 24 03.04.05 pdt", "02 January 1999 23:59:59 +2359",
        "02 Jan 2024 03:04:05 +2400", "02 Jan 2024 03:04:05 +99999999999999999999999", "29 Feb 2023 00:00:00 GMT",
        "29 Feb 2024 00:00:00 GMT", "31 Dec 9999 23:59:59 GMT", "01 Jan 10000 00:00:00 GMT", "01 Jan 0000 00:00:00 GMT",
        "01 Jan 68 00:00:00", "01 Jan 69 00:00:00", "01 Jan -5 00:00:00", "01 Jan 2024 24:00:00", "01 Jan 2024 23:60:00",
        "01 Jan 2024 23:59:60", "01 Jan 2024 1_0:0_5:00", "01 Jan +2024 +10:-5:00", "01 Jan 2024 10:05",
        "01 Jan 2024 10:05:00:00", "01 Jan 2024 10", "", "   ", "Tue,", "Tue, 02 Jan", "2024 Jan 02 03:04:05",
        "Jan 2024 02 03:04:05", "02 Jan 2024, 03:04:05 GMT", "02, Jan 2024 03:04:05", "02 Jan 2024 03:04:05,",
        "02 Jan 2024 03:04:05 utc", "02 Jan 2024 03:04:05 Z", "02 Jan 2024 03:04:05 XYZ", "02\tJan\n2024 03:04:05",
        "02\xc2\xa0Jan 2024 03:04:05", "02\xe3\x80\x80Jan 2024 03:04:05", "02 Jan 2024 03:04:05+0130",
        "02 Jan 2024 03:04:05-0130", "02 Jan 2024 +03:04:05", "0x10 Jan 2024 03:04:05", "02 Jan 99999999999 03:04:05",
        "02 Jan 2024 03:04:99999999999999999999", "Mon,02 Jan 2024 03:04:05 GMT", "x,02 Jan 2024 03:04:05 GMT",
        "-- Jan 2024 03:04:05", "02-Jan-2024 03:04:05 GMT", "02--2024 03:04:05 GMT", "-Jan-2024 03:04:05 GMT",
        "02 Jan 2024 03:04:05 GMT extra words here", "02 Jan 2024 :04:05",
    };
    size_t n_fixed = sizeof fixed / sizeof fixed[0];
    /* Plus mutations of a valid date: each character replaced, dropped or doubled. */
    const char *base = "Tue, 02 Jan 2024 03:04:05 +0800";
    size_t blen = strlen(base);
    size_t total = n_fixed + blen * 3;
    const char **dates = vial_arena_alloc(a, total * sizeof *dates);
    for (size_t i = 0; i < n_fixed; i++) dates[i] = fixed[i];
    static const char subst[] = " ,:-+0a9Z";
    rng_state = 77;
    for (size_t i = 0; i < blen; i++) {
        char *r = vial_arena_strdup(a, base), *d = vial_arena_strdup(a, base);
        char *dbl = vial_arena_sprintf(a, "%.*s%c%s", (int)i, base, base[i], base + i);
        r[i] = subst[rnd() % (sizeof subst - 1)];
        memmove(d + i, d + i + 1, blen - i);
        dates[n_fixed + 3 * i] = r;
        dates[n_fixed + 3 * i + 1] = d;
        dates[n_fixed + 3 * i + 2] = dbl;
    }
    vial_buf req;
    vial_buf_init(&req, NULL, 0);
    vial_buf_puts(&req, "{\"dates\":[");
    for (size_t i = 0; i < total; i++) {
        if (i) vial_buf_putc(&req, ',');
        vial_json_write(&req, vial_new_str(a, dates[i]), 0);
    }
    vial_buf_puts(&req, "]}");
    vial_value *answers = run_oracle(a, "parse_dates", vial_buf_cstr(&req));
    vial_buf_free(&req);
    cr_assert(answers && vial_len(answers) == total, "the oracle did not answer");
    for (size_t i = 0; i < total; i++) {
        vial_value *ans = vial_array_get(answers, i);
        int64_t t = 0;
        int rc = vial_pydate_parse(dates[i], strlen(dates[i]), &t);
        if (!vial_get_bool(ans, "ok", false)) {
            cr_expect_eq(rc, PYDATE_ERROR, "'%s': Python raises %s, we give %d", dates[i],
                         vial_get_str(ans, "exception"), rc);
            continue;
        }
        vial_value *v = vial_object_get(ans, "value");
        if (v->type == VIAL_NULL) {
            cr_expect_eq(rc, PYDATE_NONE, "'%s': Python gives None, we give %d (%lld)", dates[i], rc, (long long)t);
        } else {
            cr_expect_eq(rc, PYDATE_OK, "'%s': Python gives %lld, we give %d", dates[i], (long long)v->as.i, rc);
            cr_expect_eq(t, v->as.i, "'%s': Python %lld, we %lld", dates[i], (long long)v->as.i, (long long)t);
        }
    }
    vial_arena_free(a);
}

Test(session_interop, date_formatting_round_trips) {
    /* Every day from year 1 to 9999 would be slow; walk a stride through the range. */
    char out[30];
    for (int64_t t = -62135596800LL; t <= 253402300799LL; t += 86400LL * 97 + 3607) {
        cr_assert(vial_pydate_format(out, t));
        int64_t back;
        int rc = vial_pydate_parse(out, 29, &back);
        int64_t expected = t;
        /* Two-digit years do not exist in the output, but years 1..99 written
         * "0001".."0099" read back as 2001..2068/1969..1999 in Python too. */
        if (t < -59011459200LL) continue;
        cr_assert_eq(rc, PYDATE_OK, "%s", out);
        cr_assert_eq(back, expected, "%s: %lld != %lld", out, (long long)back, (long long)expected);
    }
    cr_expect(!vial_pydate_format(out, 253402300800LL));
    cr_expect(!vial_pydate_format(out, -62135596801LL));
    cr_expect(vial_pydate_format(out, 0));
    cr_expect_str_eq(out, "Thu, 01 Jan 1970 00:00:00 GMT");
    cr_expect(vial_pydate_format(out, -1));
    cr_expect_str_eq(out, "Wed, 31 Dec 1969 23:59:59 GMT");
    cr_expect(vial_pydate_format(out, -62135596800LL));
    cr_expect_str_eq(out, "Mon, 01 Jan 0001 00:00:00 GMT");
}

Test(session_interop, base64_as_lenient_as_python) {
    vial_arena *a = vial_arena_new(1 << 18);
    static const char alphabet[] = "ABCxyz019+/-_=!. \n\x80\xff";
    rng_state = 4242;
    enum { N = 1500 };
    char *inputs[N];
    size_t lens[N];
    for (int mode = 0; mode < 2; mode++) {
        vial_buf req;
        vial_buf_init(&req, NULL, 0);
        vial_buf_printf(&req, "{\"urlsafe\":%s,\"inputs\":[", mode ? "true" : "false");
        for (int i = 0; i < N; i++) {
            lens[i] = rnd() % 14;
            inputs[i] = vial_arena_alloc(a, lens[i] + 1);
            for (size_t j = 0; j < lens[i]; j++)
                inputs[i][j] = rnd() % 3 ? "ABCxyz019"[rnd() % 9] : alphabet[rnd() % (sizeof alphabet - 1)];
            vial_buf_printf(&req, "%s\"", i ? "," : "");
            for (size_t j = 0; j < lens[i]; j++) vial_buf_printf(&req, "%02x", (unsigned char)inputs[i][j]);
            vial_buf_putc(&req, '"');
        }
        vial_buf_puts(&req, "]}");
        vial_value *answers = run_oracle(a, "b64decode", vial_buf_cstr(&req));
        vial_buf_free(&req);
        cr_assert(answers && vial_len(answers) == N);
        for (int i = 0; i < N; i++) {
            unsigned char out[64];
            long n = vial_pyb64_decode(out, inputs[i], lens[i], mode ? (PYB64_URLSAFE | PYB64_PAD) : 0);
            const char *want = vial_str_of(vial_array_get(answers, (size_t)i));
            if (!want) {
                cr_expect_eq(n, -1, "mode %d input %d: Python refuses, we decoded %ld bytes", mode, i, n);
                continue;
            }
            char hex[130] = "";
            for (long j = 0; j < n; j++) sprintf(hex + 2 * j, "%02x", out[j]);
            cr_expect(n >= 0 && strcmp(hex, want) == 0, "mode %d input %d: Python %s, we %s (%ld)", mode, i, want,
                      hex, n);
        }
    }
    vial_arena_free(a);
}
