/* Werkzeug password hashes: every case of tests/data/vectors/werkzeug_password_hashes.json,
 * RFC known answers, our hashes checked by Werkzeug and Werkzeug's by us,
 * salts, limits. */
#include <criterion/criterion.h>
#include <string.h>

#include "session_typed.h"

#define VECTORS "vectors/werkzeug_password_hashes.json"

/* Werkzeug 2.2 (the vectors' version) has no scrypt; we follow Werkzeug >= 2.3,
 * where scrypt exists and is the default since 3.0. */
static const struct {
    const char *id, *reason;
} newer_than_vectors[] = {
    {"scrypt", "Werkzeug 2.2 raises (no scrypt); we generate scrypt:32768:8:1 as Werkzeug >= 3.0"},
    {"scrypt_params", "Werkzeug 2.2 raises (no scrypt); we generate it as Werkzeug >= 2.3"},
    {"check_scrypt_hash_from_werkzeug3", "Werkzeug 2.2 raises on scrypt hashes; we check them as Werkzeug 3 (mismatch)"},
};

static const char *newer_reason(const char *id) {
    for (size_t i = 0; i < sizeof newer_than_vectors / sizeof newer_than_vectors[0]; i++)
        if (strcmp(newer_than_vectors[i].id, id) == 0) return newer_than_vectors[i].reason;
    return NULL;
}

Test(password, vector_cases) {
    vial_arena *a = vial_arena_new(1 << 16);
    vial_value *doc = typed_load_json(a, VECTORS);
    cr_assert_not_null(doc, "cannot read %s", VECTORS);
    vial_value *source = vial_object_get(doc, "source");
    /* The vectors' defaults are Werkzeug 2.2's, given to us explicitly. */
    const char *default_method = vial_get_str(source, "default_method");
    int64_t default_iterations = vial_get_int(source, "default_pbkdf2_iterations", 0);
    cr_assert_str_eq(default_method, "pbkdf2:sha256");
    cr_assert_eq(default_iterations, VIAL_PBKDF2_LEGACY_ITERATIONS);
    vial_value *cases = vial_object_get(doc, "cases");
    int generated = 0, checked = 0, newer = 0;
    for (size_t i = 0; i < vial_len(cases); i++) {
        vial_value *c = vial_array_get(cases, i);
        const char *id = vial_get_str(c, "id");
        const char *password = vial_get_str(c, "password");
        vial_password_error err;
        const char *reason = newer_reason(id);
        if (strcmp(vial_get_str(c, "kind"), "generate") == 0) {
            generated++;
            const char *method = vial_get_str(c, "method_arg");
            vial_password_options opts = {.method = method ? method : default_method,
                                          .salt_length = (int)vial_get_int(c, "salt_length", 16),
                                          .salt = vial_get_str(c, "salt"),
                                          .pbkdf2_iterations = (unsigned)default_iterations};
            char *hash = vial_generate_password_hash_ex(a, password, strlen(password), &opts, &err);
            if (reason) {
                cr_expect_not_null(hash, "%s (%s): %s", id, reason, err.message);
                if (hash) cr_expect_eq(vial_check_password_hash_ex(hash, strlen(hash), password, strlen(password), &err), 1);
                newer++;
            } else if (vial_get_bool(c, "ok", false)) {
                cr_expect_not_null(hash, "%s: %s", id, err.message);
                if (hash) cr_expect_str_eq(hash, vial_get_str(c, "hash"), "%s", id);
                const char *want = vial_get_str(c, "hash");
                cr_expect_eq(vial_check_password_hash_ex(want, strlen(want), password, strlen(password), &err), 1,
                             "%s: %s", id, err.message);
            } else {
                cr_expect_null(hash, "%s: Werkzeug raises %s, we produced %s", id, vial_get_str(c, "message"), hash);
                cr_expect(err.message[0], "%s: no error message", id);
            }
        } else {
            checked++;
            const char *hash = vial_get_str(c, "hash");
            int rc = vial_check_password_hash_ex(hash, strlen(hash), password, strlen(password), &err);
            if (reason) {
                cr_expect_eq(rc, 0, "%s (%s): %d %s", id, reason, rc, err.message);
                newer++;
            } else if (vial_get_bool(c, "ok", false)) {
                cr_expect_eq(rc, vial_get_bool(c, "result", false) ? 1 : 0, "%s: %d %s", id, rc, err.message);
            } else {
                cr_expect_eq(rc, -1, "%s: Werkzeug raises '%s', we returned %d", id, vial_get_str(c, "message"), rc);
                cr_expect(err.message[0], "%s: no error message", id);
            }
        }
    }
    cr_expect_eq(generated, 39);
    cr_expect_eq(checked, 29);
    cr_expect_eq(newer, 3);
    vial_arena_free(a);
}

Test(password, known_answers_from_the_rfcs) {
    /* RFC 7914 section 12 (scrypt) and RFC 6070 (PBKDF2-HMAC-SHA1), written in Werkzeug's format. */
    static const struct {
        const char *hash, *password;
    } known[] = {
        {"scrypt:16:1:1$$77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442fcd0069ded0948f8326a753a0fc81f"
         "17e8d3e0fb2e0d3628cf35e20c38d18906",
         ""},
        {"scrypt:1024:8:16$NaCl$fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff1092"
         "79d9830dac727afb94a83ee6d8360cbdfa2cc0640",
         "password"},
        {"pbkdf2:sha1:1$salt$0c60c80f961f0e71f3a9b524af6012062fe037a6", "password"},
        {"pbkdf2:sha1:4096$salt$4b007901b765489abead49d926f721d065a429c1", "password"},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        vial_password_error err;
        cr_expect_eq(vial_check_password_hash_ex(known[i].hash, strlen(known[i].hash), known[i].password,
                                                 strlen(known[i].password), &err),
                     1, "%s: %s", known[i].hash, err.message);
        cr_expect(vial_check_password_hash(known[i].hash, known[i].password));
        cr_expect(!vial_check_password_hash(known[i].hash, "wrong"));
    }
}

Test(password, werkzeug_checks_our_hashes) {
    vial_arena *a = vial_arena_new(1 << 16);
    static const char *const methods[] = {NULL,         "scrypt:16384:8:1", "scrypt:1024:1:2", "pbkdf2:sha256",
                                          "pbkdf2:sha256:1000", "pbkdf2:sha512:2000", "pbkdf2:sha1:1000", "sha256",
                                          "md5",        "plain"};
    static const char *const passwords[] = {"password", "\xe5\xaf\x86\xe7\xa0\x81 p\xc3\xa4ss", "with$dollar", ""};
    size_t n = 0;
    const char *hashes[64], *pws[64];
    bool expected[64];
    for (size_t m = 0; m < sizeof methods / sizeof methods[0]; m++) {
        for (size_t p = 0; p < 2; p++) {
            const char *pw = passwords[(m + p) % 4];
            if (methods[m] && strcmp(methods[m], "plain") == 0 && pw[0] & 0x80) pw = "plain-ascii"; /* see docs */
            char *h = vial_generate_password_hash(a, pw, methods[m]);
            cr_assert_not_null(h, "method %s", methods[m] ? methods[m] : "(default)");
            if (!methods[m]) cr_expect(strncmp(h, "scrypt:32768:8:1$", 17) == 0, "default method: %s", h);
            hashes[n] = h, pws[n] = pw, expected[n++] = true;
            hashes[n] = h, pws[n] = "not-the-password", expected[n++] = false;
        }
    }
    vial_buf req;
    vial_buf_init(&req, NULL, 0);
    vial_buf_puts(&req, "{\"checks\":[");
    for (size_t i = 0; i < n; i++) {
        vial_buf_puts(&req, i ? ",{\"hash\":" : "{\"hash\":");
        vial_json_write(&req, vial_new_str(a, hashes[i]), 0);
        vial_buf_puts(&req, ",\"password\":");
        vial_json_write(&req, vial_new_str(a, pws[i]), 0);
        vial_buf_putc(&req, '}');
    }
    vial_buf_puts(&req, "]}");
    vial_value *answers = run_oracle(a, "check_passwords", vial_buf_cstr(&req));
    vial_buf_free(&req);
    cr_assert(answers && vial_len(answers) == n, "the Werkzeug oracle did not answer");
    for (size_t i = 0; i < n; i++) {
        vial_value *ans = vial_array_get(answers, i);
        cr_expect(vial_get_bool(ans, "ok", false), "%s: Werkzeug raised %s", hashes[i], vial_get_str(ans, "exception"));
        cr_expect_eq(vial_get_bool(ans, "result", !expected[i]), expected[i], "%s with '%s' (checked by %s)", hashes[i],
                     pws[i], vial_get_str(ans, "by"));
    }
    vial_arena_free(a);
}

Test(password, we_check_werkzeugs_hashes) {
    vial_arena *a = vial_arena_new(1 << 16);
    static const char *const methods[] = {NULL, "pbkdf2:sha512:1000", "pbkdf2:sha1", "pbkdf2:sha256:1",
                                          "sha256", "sha1", "md5", "plain"};
    const char *pw = "correct horse \xe7\x94\xb5\xe6\xb1\xa0";
    size_t n = sizeof methods / sizeof methods[0];
    vial_buf req;
    vial_buf_init(&req, NULL, 0);
    vial_buf_puts(&req, "{\"passwords\":[");
    for (size_t i = 0; i < n; i++) {
        const char *this_pw = methods[i] && strcmp(methods[i], "plain") == 0 ? "ascii only" : pw;
        vial_buf_printf(&req, "%s{\"password\":", i ? "," : "");
        vial_json_write(&req, vial_new_str(a, this_pw), 0);
        if (methods[i]) vial_buf_printf(&req, ",\"method\":\"%s\"", methods[i]);
        vial_buf_putc(&req, '}');
    }
    vial_buf_puts(&req, "]}");
    vial_value *hashes = run_oracle(a, "gen_passwords", vial_buf_cstr(&req));
    vial_buf_free(&req);
    cr_assert(hashes && vial_len(hashes) == n, "the Werkzeug oracle did not answer");
    for (size_t i = 0; i < n; i++) {
        const char *h = vial_str_of(vial_array_get(hashes, i));
        const char *this_pw = methods[i] && strcmp(methods[i], "plain") == 0 ? "ascii only" : pw;
        if (!methods[i]) cr_expect(strncmp(h, "pbkdf2:sha256:260000$", 21) == 0, "Werkzeug 2.2's default: %s", h);
        cr_expect(vial_check_password_hash(h, this_pw), "Werkzeug's %s does not verify", h);
        cr_expect(!vial_check_password_hash(h, "wrong"), "%s verifies a wrong password", h);
    }
    vial_arena_free(a);
}

Test(password, salts_come_from_werkzeugs_alphabet) {
    vial_arena *a = vial_arena_new(1 << 16);
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    int seen[256] = {0};
    char salts[200][17];
    vial_password_error err;
    for (int i = 0; i < 200; i++) {
        vial_password_options o = {.method = "pbkdf2:sha256:1"};
        char *h = vial_generate_password_hash_ex(a, "pw", 2, &o, &err);
        cr_assert_not_null(h, "%s", err.message);
        const char *salt = strchr(h, '$') + 1;
        const char *end = strchr(salt, '$');
        cr_assert_eq(end - salt, VIAL_PASSWORD_SALT_LENGTH);
        memcpy(salts[i], salt, 16);
        salts[i][16] = '\0';
        for (const char *p = salt; p < end; p++) {
            cr_assert(strchr(alphabet, *p) && *p, "salt character '%c'", *p);
            seen[(unsigned char)*p]++;
        }
        for (int j = 0; j < i; j++) cr_assert_str_neq(salts[i], salts[j], "two salts repeat");
    }
    for (const char *p = alphabet; *p; p++) cr_expect(seen[(unsigned char)*p] > 0, "'%c' never drawn in 3200", *p);
    vial_password_options o32 = {.method = "pbkdf2:sha256:1", .salt_length = 32};
    char *h = vial_generate_password_hash_ex(a, "pw", 2, &o32, &err);
    cr_expect_eq(strchr(strchr(h, '$') + 1, '$') - strchr(h, '$') - 1, 32);
    vial_password_options bad[] = {{.method = "pbkdf2:sha256:1", .salt_length = -1},
                                   {.method = "pbkdf2:sha256:1", .salt_length = 1025},
                                   {.method = "pbkdf2:sha256:1", .salt = "has$dollar"}};
    for (size_t i = 0; i < 3; i++) {
        cr_expect_null(vial_generate_password_hash_ex(a, "pw", 2, &bad[i], &err));
        cr_expect(err.message[0]);
    }
    vial_arena_free(a);
}

Test(password, limits_and_malformed_hashes) {
    static const char *const bad[] = {
        "scrypt:1048576:8:1$salt$00",        /* needs 1 GiB: over VIAL_SCRYPT_MAX_MEMORY */
        "scrypt:16385:8:1$salt$00",          /* n not a power of two */
        "scrypt:1:8:1$salt$00",              /* n < 2 */
        "scrypt:16384:8$salt$00",            /* two arguments */
        "scrypt:16384:8:1:1$salt$00",        /* four */
        "scrypt:16384:0:1$salt$00",          /* r = 0 */
        "scrypt:16384:8:x$salt$00",          /* not a number */
        "scrypt:16384:8:100000$salt$00",     /* 132*n*r*p over a C int: Werkzeug 3 refuses too */
        "pbkdf2:sha256:200000000$salt$00",   /* over VIAL_PBKDF2_MAX_ITERATIONS */
        "pbkdf2:sha256:-5$salt$00",          /* not > 0 */
        "pbkdf2:sha256:99999999999999999999999$salt$00",
        "pbkdf2:shake_128:1000$salt$00",     /* an XOF has no fixed size */
        "pbkdf2:$salt$00",                   /* no digest */
        "pbkdf2$salt$00",                    /* Werkzeug 2.2: "pbkdf2" is not a digest name */
        "SHA999$salt$00",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        vial_password_error err;
        cr_expect_eq(vial_check_password_hash_ex(bad[i], strlen(bad[i]), "pw", 2, &err), -1, "%s", bad[i]);
        cr_expect(err.message[0], "%s: no message", bad[i]);
        cr_expect(!vial_check_password_hash(bad[i], "pw"));
    }
    /* Werkzeug 3 forms that read: "scrypt" without parameters means 32768:8:1. */
    vial_arena *a = vial_arena_new(1 << 16);
    char *h = vial_generate_password_hash(a, "pw", "scrypt");
    cr_assert_not_null(h);
    cr_expect(strncmp(h, "scrypt:32768:8:1$", 17) == 0, "%s", h);
    char *short_form = vial_arena_sprintf(a, "scrypt%s", h + strlen("scrypt:32768:8:1"));
    cr_expect(vial_check_password_hash(short_form, "pw"), "%s", short_form);
    /* Generating "pbkdf2" or "pbkdf2:sha256" writes the count (Werkzeug 3.1's default). */
    vial_password_options fast = {.method = "pbkdf2", .pbkdf2_iterations = 1000};
    vial_password_error err;
    h = vial_generate_password_hash_ex(a, "pw", 2, &fast, &err);
    cr_expect(h && strncmp(h, "pbkdf2:sha256:1000$", 19) == 0, "%s", h);
    cr_expect_null(vial_generate_password_hash(a, "pw", "nosuch"));
    cr_expect_null(vial_generate_password_hash(a, NULL, NULL));
    cr_expect(!vial_check_password_hash(NULL, "pw"));
    cr_expect(!vial_check_password_hash("plain$$pw", NULL));
    /* A password with a NUL byte is hashed whole (the _ex forms take lengths). */
    vial_password_options p1 = {.method = "pbkdf2:sha256:1", .salt = "s"};
    char *with_nul = vial_generate_password_hash_ex(a, "a\0b", 3, &p1, &err);
    char *without = vial_generate_password_hash_ex(a, "a", 1, &p1, &err);
    cr_expect_str_neq(with_nul, without);
    cr_expect_eq(vial_check_password_hash_ex(with_nul, strlen(with_nul), "a\0b", 3, &err), 1);
    cr_expect_eq(vial_check_password_hash_ex(with_nul, strlen(with_nul), "a", 1, &err), 0);
    vial_arena_free(a);
}
