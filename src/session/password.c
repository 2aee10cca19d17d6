/* password.c - password hashes in Werkzeug's format.
 *
 * Werkzeug stores "method$salt$hash": the method with its parameters, a salt
 * of letters and digits used as text, and the hex digest. Users moving from
 * Flask bring tables written by Werkzeug 2.x (pbkdf2:sha256:260000) and 3.x
 * (scrypt:32768:8:1, the default since 3.0), so both read here, plus the
 * legacy forms Werkzeug 2.2 still checks (plain, one salted HMAC, one
 * unsalted digest). New hashes use current Werkzeug's default, scrypt, unless
 * the caller names another method; a hash we write verifies in the Werkzeug
 * versions that know its method (2.2 does not know scrypt: choose
 * "pbkdf2:sha256:<n>" when a Flask 2.2 app shares the table).
 *
 * Salts are drawn from the OS's CSPRNG (RAND_bytes) over Werkzeug's 62
 * characters without modulo bias, digests compare in constant time, and
 * parameters that would make a check run for minutes or allocate gigabytes
 * (a hostile row in a user table) are refused. */
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#include "session/internal.h"

static const char salt_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
#define MAX_SALT_LENGTH 1024
#define SCRYPT_DKLEN 64

static int fail(vial_password_error *err, const char *fmt, const char *arg, size_t arg_len) {
    if (err) {
        if (arg) snprintf(err->message, sizeof err->message, fmt, (int)(arg_len > 60 ? 60 : arg_len), arg);
        else snprintf(err->message, sizeof err->message, "%s", fmt);
    }
    return -1;
}

static char *hex_of(vial_arena *a, const unsigned char *bytes, size_t n) {
    char *out = vial_arena_alloc(a, n * 2 + 1);
    if (!out) return NULL;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = "0123456789abcdef"[bytes[i] >> 4];
        out[2 * i + 1] = "0123456789abcdef"[bytes[i] & 15];
    }
    out[n * 2] = '\0';
    return out;
}

/* The result of hashing: the hex digest (or the password for "plain") and the
 * method as it is written back ("pbkdf2:sha256" becomes "pbkdf2:sha256:<n>"). */
typedef struct {
    const char *hash;
    size_t hash_len;
    const char *method;
} computed;

static bool is_prefix(const char *s, size_t n, const char *lit) {
    size_t k = strlen(lit);
    return n >= k && memcmp(s, lit, k) == 0;
}

static int scrypt_hash(vial_arena *a, const char *args, size_t args_len, bool has_args, vial_str salt,
                       vial_str password, computed *out, vial_password_error *err) {
    int64_t n = 32768, r = 8, p = 1;
    if (has_args) {
        /* Exactly three int() fields: "scrypt:N:r:p". */
        int64_t *fields[3] = {&n, &r, &p};
        size_t start = 0, field = 0;
        for (size_t i = 0; i <= args_len; i++) {
            if (i < args_len && args[i] != ':') continue;
            if (field >= 3 || !vial_pyint_parse(args + start, i - start, fields[field], NULL))
                return fail(err, "'scrypt' takes 3 arguments.", NULL, 0);
            field++;
            start = i + 1;
        }
        if (field != 3) return fail(err, "'scrypt' takes 3 arguments.", NULL, 0);
    }
    if (n < 2 || (n & (n - 1)) != 0) return fail(err, "n must be a power of 2.", NULL, 0);
    if (r < 1 || p < 1) return fail(err, "scrypt parameters r and p must be positive", NULL, 0);
    /* Werkzeug passes maxmem = 132 * n * r * p, which Python requires to fit a C int. */
    if ((uint64_t)n > INT32_MAX / 132 || (uint64_t)r > INT32_MAX / 132 || (uint64_t)p > INT32_MAX / 132 ||
        (uint64_t)n * (uint64_t)r > INT32_MAX / 132 || (uint64_t)n * (uint64_t)r * (uint64_t)p > INT32_MAX / 132)
        return fail(err, "maxmem must be positive and smaller than 2147483647", NULL, 0);
    uint64_t need = 128 * (uint64_t)r * ((uint64_t)n + 2) + 128 * (uint64_t)r * (uint64_t)p;
    if (need > VIAL_SCRYPT_MAX_MEMORY)
        return fail(err, "scrypt parameters need more memory than VIAL_SCRYPT_MAX_MEMORY", NULL, 0);
    unsigned char dk[SCRYPT_DKLEN];
    if (EVP_PBE_scrypt(password.len ? password.ptr : "", password.len,
                       (const unsigned char *)(salt.len ? salt.ptr : ""), salt.len, (uint64_t)n, (uint64_t)r,
                       (uint64_t)p, VIAL_SCRYPT_MAX_MEMORY + 65536, dk, sizeof dk) != 1)
        return fail(err, "scrypt failed (invalid parameters)", NULL, 0);
    out->hash = hex_of(a, dk, sizeof dk);
    out->method = vial_arena_sprintf(a, "scrypt:%lld:%lld:%lld", (long long)n, (long long)r, (long long)p);
    if (!out->hash || !out->method) return fail(err, "out of memory", NULL, 0);
    out->hash_len = SCRYPT_DKLEN * 2;
    return 0;
}

static int pbkdf2_hash(vial_arena *a, const char *digest, size_t digest_len, int64_t iterations, vial_str salt,
                       vial_str password, computed *out, vial_password_error *err) {
    if (salt.len == 0) return fail(err, "Salt is required for PBKDF2", NULL, 0);
    const EVP_MD *md = vial_digest_get(digest, digest_len);
    if (!md) return fail(err, "unsupported hash type '%.*s'", digest, digest_len);
    int rc = -1;
    if (iterations < 1) {
        fail(err, "iteration value must be greater than 0.", NULL, 0);
    } else if (iterations > VIAL_PBKDF2_MAX_ITERATIONS) {
        fail(err, "iteration count over VIAL_PBKDF2_MAX_ITERATIONS", NULL, 0);
    } else if (password.len > INT32_MAX || salt.len > INT32_MAX) {
        fail(err, "password too long", NULL, 0);
    } else {
        unsigned char dk[EVP_MAX_MD_SIZE];
        int dk_len = EVP_MD_get_size(md);
        if (PKCS5_PBKDF2_HMAC(password.len ? password.ptr : "", (int)password.len,
                              (const unsigned char *)salt.ptr, (int)salt.len, (int)iterations, md, dk_len, dk) != 1) {
            fail(err, "PBKDF2 failed for digest '%.*s'", digest, digest_len);
        } else {
            out->hash = hex_of(a, dk, (size_t)dk_len);
            out->method = vial_arena_sprintf(a, "pbkdf2:%.*s:%lld", (int)digest_len, digest, (long long)iterations);
            out->hash_len = (size_t)dk_len * 2;
            rc = out->hash && out->method ? 0 : fail(err, "out of memory", NULL, 0);
        }
    }
    vial_digest_release(md);
    return rc;
}

/* Werkzeug 2.2's single HMAC (salted) or single digest (unsalted). */
static int legacy_hash(vial_arena *a, vial_str method, vial_str salt, vial_str password, computed *out,
                       vial_password_error *err) {
    const EVP_MD *md = vial_digest_get(method.ptr, method.len);
    if (!md) return fail(err, "unsupported hash method '%.*s'", method.ptr, method.len);
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned d_len = 0;
    bool ok;
    if (salt.len) {
        ok = salt.len <= INT32_MAX && HMAC(md, salt.ptr, (int)salt.len, (const unsigned char *)(password.len ? password.ptr : ""),
                                            password.len, d, &d_len) != NULL;
    } else {
        ok = EVP_Digest(password.len ? password.ptr : "", password.len, d, &d_len, md, NULL) == 1;
    }
    vial_digest_release(md);
    if (!ok) return fail(err, "hashing with '%.*s' failed", method.ptr, method.len);
    out->hash = hex_of(a, d, d_len);
    out->hash_len = (size_t)d_len * 2;
    out->method = vial_arena_strndup(a, method.ptr, method.len);
    return out->hash && out->method ? 0 : fail(err, "out of memory", NULL, 0);
}

/* _hash_internal(method, salt, password); pbkdf2_default is the iteration
 * count of a method without one. */
static int hash_internal(vial_arena *a, vial_str method, vial_str salt, vial_str password, int64_t pbkdf2_default,
                         bool generating, computed *out, vial_password_error *err) {
    if (method.len == 5 && memcmp(method.ptr, "plain", 5) == 0) {
        out->hash = password.ptr;
        out->hash_len = password.len;
        out->method = "plain";
        return 0;
    }
    if (is_prefix(method.ptr, method.len, "scrypt") && (method.len == 6 || method.ptr[6] == ':'))
        return scrypt_hash(a, method.ptr + 7, method.len > 7 ? method.len - 7 : 0, method.len > 6, salt, password,
                           out, err);
    if (generating && method.len == 6 && memcmp(method.ptr, "pbkdf2", 6) == 0) /* Werkzeug 3: sha256 */
        return pbkdf2_hash(a, "sha256", 6, pbkdf2_default, salt, password, out, err);
    if (is_prefix(method.ptr, method.len, "pbkdf2:")) {
        if (salt.len == 0) return fail(err, "Salt is required for PBKDF2", NULL, 0);
        const char *args = method.ptr + 7;
        size_t args_len = method.len - 7;
        const char *colon = memchr(args, ':', args_len);
        if (!colon) return pbkdf2_hash(a, args, args_len, pbkdf2_default, salt, password, out, err);
        const char *count = colon + 1;
        size_t count_len = (size_t)(args + args_len - count);
        if (memchr(count, ':', count_len)) return fail(err, "Invalid number of arguments for PBKDF2", NULL, 0);
        int64_t iterations = 0; /* int(args[0] or 0) */
        bool overflow = false;
        if (count_len && !vial_pyint_parse(count, count_len, &iterations, &overflow)) {
            if (overflow) return fail(err, "iteration value is too great.", NULL, 0);
            return fail(err, "invalid literal for int() with base 10: '%.*s'", count, count_len);
        }
        return pbkdf2_hash(a, args, (size_t)(colon - args), iterations, salt, password, out, err);
    }
    return legacy_hash(a, method, salt, password, out, err);
}

int vial_check_password_hash_ex(const char *pwhash, size_t pwhash_len, const char *password, size_t password_len,
                                vial_password_error *err) {
    if (err) err->message[0] = '\0';
    if (!pwhash || !password) return fail(err, "no hash or no password", NULL, 0);
    const char *d1 = memchr(pwhash, '$', pwhash_len);
    const char *d2 = d1 ? memchr(d1 + 1, '$', (size_t)(pwhash + pwhash_len - d1 - 1)) : NULL;
    if (!d2) return 0; /* fewer than two '$': False, as Werkzeug */
    vial_str method = {pwhash, (size_t)(d1 - pwhash)};
    vial_str salt = {d1 + 1, (size_t)(d2 - d1 - 1)};
    vial_str stored = {d2 + 1, (size_t)(pwhash + pwhash_len - d2 - 1)};
    vial_arena *a = vial_arena_new(4096);
    if (!a) return fail(err, "out of memory", NULL, 0);
    computed c;
    int rc = hash_internal(a, method, salt, (vial_str){password, password_len}, VIAL_PBKDF2_LEGACY_ITERATIONS, false,
                           &c, err);
    if (rc == 0) rc = vial_compare_digest(c.hash, c.hash_len, stored.ptr, stored.len) ? 1 : 0;
    else ERR_clear_error(); /* a refused scrypt or PBKDF2 call leaves OpenSSL errors queued */
    vial_arena_free(a);
    return rc;
}

bool vial_check_password_hash(const char *pwhash, const char *password) {
    vial_password_error err;
    if (!pwhash || !password) return false;
    int rc = vial_check_password_hash_ex(pwhash, strlen(pwhash), password, strlen(password), &err);
    if (rc < 0) vial_log(VIAL_LOG_WARNING, "check_password_hash: malformed password hash: %s", err.message);
    return rc == 1;
}

static bool random_salt(char *out, size_t n) {
    size_t k = 0;
    unsigned char buf[64];
    while (k < n) {
        if (RAND_bytes(buf, sizeof buf) != 1) return false;
        for (size_t i = 0; i < sizeof buf && k < n; i++)
            if (buf[i] < 248) out[k++] = salt_chars[buf[i] % 62]; /* 248 = 4 * 62: no bias */
    }
    out[n] = '\0';
    return true;
}

char *vial_generate_password_hash_ex(vial_arena *a, const char *password, size_t password_len,
                                     const vial_password_options *opts, vial_password_error *err) {
    static const vial_password_options defaults = {0};
    if (!opts) opts = &defaults;
    if (err) err->message[0] = '\0';
    if (!password) {
        fail(err, "no password", NULL, 0);
        return NULL;
    }
    const char *method = opts->method ? opts->method : VIAL_PASSWORD_DEFAULT_METHOD;
    vial_str m = {method, strlen(method)};
    bool plain = strcmp(method, "plain") == 0;
    char *salt = "";
    if (opts->salt && !plain) {
        if (strchr(opts->salt, '$')) {
            fail(err, "a salt must not contain '$'", NULL, 0);
            return NULL;
        }
        salt = (char *)opts->salt;
    } else if (!plain) {
        int len = opts->salt_length ? opts->salt_length : VIAL_PASSWORD_SALT_LENGTH;
        if (len <= 0 || len > MAX_SALT_LENGTH) {
            fail(err, len <= 0 ? "Salt length must be positive" : "salt length over 1024", NULL, 0);
            return NULL;
        }
        salt = vial_arena_alloc(a, (size_t)len + 1);
        if (!salt || !random_salt(salt, (size_t)len)) {
            fail(err, "no random salt (out of memory or RAND_bytes failed)", NULL, 0);
            return NULL;
        }
    }
    int64_t iterations = opts->pbkdf2_iterations ? opts->pbkdf2_iterations : VIAL_PBKDF2_DEFAULT_ITERATIONS;
    computed c;
    if (hash_internal(a, m, (vial_str){salt, strlen(salt)}, (vial_str){password, password_len}, iterations, true, &c,
                      err) != 0) {
        ERR_clear_error();
        return NULL;
    }
    /* method$salt$hash, built by length: a "plain" hash is the password itself. */
    size_t method_len = strlen(c.method), salt_len = strlen(salt);
    char *out = vial_arena_alloc(a, method_len + salt_len + c.hash_len + 3);
    if (!out) {
        fail(err, "out of memory", NULL, 0);
        return NULL;
    }
    memcpy(out, c.method, method_len);
    out[method_len] = '$';
    memcpy(out + method_len + 1, salt, salt_len);
    out[method_len + 1 + salt_len] = '$';
    if (c.hash_len) memcpy(out + method_len + salt_len + 2, c.hash, c.hash_len);
    out[method_len + salt_len + 2 + c.hash_len] = '\0';
    return out;
}

char *vial_generate_password_hash(vial_arena *a, const char *password, const char *method) {
    vial_password_error err;
    vial_password_options opts = {.method = method};
    char *out = vial_generate_password_hash_ex(a, password, password ? strlen(password) : 0, &opts, &err);
    if (!out) vial_log(VIAL_LOG_WARNING, "generate_password_hash: %s", err.message);
    return out;
}
