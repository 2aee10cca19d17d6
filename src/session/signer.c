/* signer.c - itsdangerous' Signer and TimestampSigner.
 *
 * A signed token is value + sep + base64url(HMAC(derived_key, value)), with
 * TimestampSigner putting sep + base64url(timestamp) before the signature
 * (big-endian, leading zero bytes dropped, so time 0 is an empty segment).
 * The key is derived from the secret and a salt (django-concat by default,
 * HMAC for Flask's sessions), so one secret signs different kinds of tokens
 * that cannot be swapped for each other.
 *
 * Several keys may verify (SECRET_KEY_FALLBACKS): the first one signs. The
 * signature is decoded strictly - a 20-byte HMAC has exactly one 27-character
 * spelling - while Python's decoder would also take junk characters, a
 * trailing '=' or altered unused bits; rejecting those costs a legitimate
 * client nothing. The comparison itself is constant-time. */
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <string.h>

#include "session/internal.h"

#define DEFAULT_SIGNER_SALT "itsdangerous.Signer"

static const char b64url_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=";

const char *vial_sign_strerror(vial_sign_status status) {
    switch (status) {
    case VIAL_SIGN_OK: return "ok";
    case VIAL_SIGN_NO_KEY: return VIAL_SESSION_NO_SECRET_KEY_MESSAGE;
    case VIAL_SIGN_BAD_SIGNATURE: return "signature does not match";
    case VIAL_SIGN_BAD_TIMESTAMP: return "malformed timestamp";
    case VIAL_SIGN_EXPIRED: return "signature expired";
    case VIAL_SIGN_BAD_PAYLOAD: return "the signed payload could not be decoded";
    case VIAL_SIGN_TOO_LARGE: return "the signed payload is too large";
    case VIAL_SIGN_UNSERIALIZABLE: return "the value cannot be serialized";
    case VIAL_SIGN_BAD_CONFIG: return "invalid signer settings (digest, key derivation or separator)";
    case VIAL_SIGN_NO_MEMORY: return "out of memory";
    }
    return "unknown signing status";
}

typedef struct {
    const EVP_MD *md;
    vial_str salt;
    char sep;
} signer_setup;

static vial_sign_status setup(const vial_signer *s, signer_setup *out) {
    out->sep = s->sep ? s->sep : '.';
    if (memchr(b64url_alphabet, out->sep, sizeof b64url_alphabet - 1)) return VIAL_SIGN_BAD_CONFIG;
    if (s->key_derivation < VIAL_KEY_DERIVATION_DJANGO_CONCAT || s->key_derivation > VIAL_KEY_DERIVATION_NONE)
        return VIAL_SIGN_BAD_CONFIG;
    out->salt = s->salt.ptr ? s->salt : VIAL_STR(DEFAULT_SIGNER_SALT);
    const char *digest = s->digest ? s->digest : "sha1";
    out->md = vial_digest_get(digest, strlen(digest));
    if (!out->md) return VIAL_SIGN_BAD_CONFIG;
    if (s->nkeys == 0 || !s->keys || s->keys[0].len == 0) {
        vial_digest_release(out->md);
        return VIAL_SIGN_NO_KEY;
    }
    return VIAL_SIGN_OK;
}

/* The HMAC key for one secret: derive_key() of itsdangerous. */
typedef struct {
    unsigned char buf[EVP_MAX_MD_SIZE];
    const unsigned char *key;
    size_t len;
} derived_key;

static bool derive(const vial_signer *s, const signer_setup *st, vial_str secret, derived_key *out) {
    unsigned len = 0;
    static const unsigned char empty[1] = {0};
    const unsigned char *secret_bytes = secret.len ? (const unsigned char *)secret.ptr : empty;
    const unsigned char *salt_bytes = st->salt.len ? (const unsigned char *)st->salt.ptr : empty;
    switch (s->key_derivation) {
    case VIAL_KEY_DERIVATION_NONE:
        out->key = secret_bytes;
        out->len = secret.len;
        return true;
    case VIAL_KEY_DERIVATION_HMAC:
        if (!vial_hmac(st->md, secret_bytes, secret.len, salt_bytes, st->salt.len, out->buf, &len)) return false;
        break;
    default: {
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        bool ok = ctx && EVP_DigestInit_ex(ctx, st->md, NULL) && EVP_DigestUpdate(ctx, salt_bytes, st->salt.len) &&
                  (s->key_derivation == VIAL_KEY_DERIVATION_CONCAT || EVP_DigestUpdate(ctx, "signer", 6)) &&
                  EVP_DigestUpdate(ctx, secret_bytes, secret.len) && EVP_DigestFinal_ex(ctx, out->buf, &len);
        EVP_MD_CTX_free(ctx);
        if (!ok) return false;
    }
    }
    out->key = out->buf;
    out->len = len;
    return true;
}

static bool mac(const signer_setup *st, const derived_key *k, const char *value, size_t len, unsigned char *out,
                unsigned *out_len) {
    return vial_hmac(st->md, k->key, k->len, value, len, out, out_len);
}

/* value + sep + base64url(signature) in the arena. */
static vial_sign_status sign_bytes(vial_arena *a, const vial_signer *s, const signer_setup *st, const char *value,
                                   size_t len, vial_str *token) {
    derived_key k;
    unsigned char sig[EVP_MAX_MD_SIZE];
    unsigned sig_len;
    if (s->keys[0].len > (size_t)INT32_MAX || !derive(s, st, s->keys[0], &k) || !mac(st, &k, value, len, sig, &sig_len)) {
        ERR_clear_error();
        return VIAL_SIGN_BAD_CONFIG;
    }
    size_t b64_len = vial_base64_encoded_len(sig_len, VIAL_B64_NOPAD);
    char *out = vial_arena_alloc(a, len + 1 + b64_len + 1);
    if (!out) return VIAL_SIGN_NO_MEMORY;
    if (len) memcpy(out, value, len);
    out[len] = st->sep;
    vial_base64_encode(out + len + 1, sig, sig_len, VIAL_B64_URL | VIAL_B64_NOPAD);
    token->ptr = out;
    token->len = len + 1 + b64_len;
    return VIAL_SIGN_OK;
}

vial_sign_status vial_signer_sign(vial_arena *a, const vial_signer *s, const void *value, size_t len, vial_str *token) {
    signer_setup st;
    vial_sign_status rc = setup(s, &st);
    if (rc != VIAL_SIGN_OK) return rc;
    rc = sign_bytes(a, s, &st, value, len, token);
    vial_digest_release(st.md);
    return rc;
}

/* int_to_bytes(): big-endian with the leading zero bytes dropped. */
static size_t timestamp_bytes(uint64_t t, unsigned char out[8]) {
    size_t n = 0;
    for (int shift = 56; shift >= 0; shift -= 8) {
        unsigned char byte = (unsigned char)(t >> shift);
        if (n || byte) out[n++] = byte;
    }
    return n;
}

vial_sign_status vial_signer_sign_timed(vial_arena *a, const vial_signer *s, const void *value, size_t len,
                                        int64_t now, vial_str *token) {
    if (now < 0) return VIAL_SIGN_BAD_CONFIG; /* struct.pack(">Q") refuses it too */
    signer_setup st;
    vial_sign_status rc = setup(s, &st);
    if (rc != VIAL_SIGN_OK) return rc;
    unsigned char ts[8];
    size_t ts_len = timestamp_bytes((uint64_t)now, ts);
    size_t b64_len = vial_base64_encoded_len(ts_len, VIAL_B64_NOPAD);
    char *timed = vial_arena_alloc(a, len + 1 + b64_len + 1);
    if (!timed) {
        vial_digest_release(st.md);
        return VIAL_SIGN_NO_MEMORY;
    }
    if (len) memcpy(timed, value, len);
    timed[len] = st.sep;
    vial_base64_encode(timed + len + 1, ts, ts_len, VIAL_B64_URL | VIAL_B64_NOPAD);
    rc = sign_bytes(a, s, &st, timed, len + 1 + b64_len, token);
    vial_digest_release(st.md);
    return rc;
}

static const char *last_sep(const char *s, size_t n, char sep) {
    for (size_t i = n; i > 0; i--)
        if (s[i - 1] == sep) return s + i - 1;
    return NULL;
}

/* Strict base64url of exactly the digest's size: the one spelling we sign with. */
static bool decode_signature(const char *s, size_t n, size_t digest_len, unsigned char *out) {
    if (n != vial_base64_encoded_len(digest_len, VIAL_B64_NOPAD)) return false;
    return vial_base64_decode(out, s, n, VIAL_B64_URL | VIAL_B64_NOPAD) == (long)digest_len;
}

static vial_sign_status unsign(const vial_signer *s, const signer_setup *st, const char *token, size_t len,
                               vial_str *value) {
    const char *sep = last_sep(token, len, st->sep);
    if (!sep) return VIAL_SIGN_BAD_SIGNATURE;
    size_t value_len = (size_t)(sep - token);
    size_t digest_len = (size_t)EVP_MD_get_size(st->md);
    unsigned char given[EVP_MAX_MD_SIZE], expected[EVP_MAX_MD_SIZE];
    if (!decode_signature(sep + 1, len - value_len - 1, digest_len, given)) return VIAL_SIGN_BAD_SIGNATURE;
    bool match = false;
    for (size_t i = 0; i < s->nkeys && !match; i++) {
        /* An empty fallback key would let anyone sign: never accepted. */
        if (s->keys[i].len == 0 || s->keys[i].len > (size_t)INT32_MAX) continue;
        derived_key k;
        unsigned n;
        if (!derive(s, st, s->keys[i], &k) || !mac(st, &k, token, value_len, expected, &n)) {
            ERR_clear_error();
            return VIAL_SIGN_BAD_CONFIG;
        }
        match = vial_compare_digest(expected, n, given, digest_len);
    }
    if (!match) return VIAL_SIGN_BAD_SIGNATURE;
    value->ptr = token;
    value->len = value_len;
    return VIAL_SIGN_OK;
}

vial_sign_status vial_signer_unsign(const vial_signer *s, const char *token, size_t len, vial_str *value) {
    signer_setup st;
    vial_sign_status rc = setup(s, &st);
    if (rc != VIAL_SIGN_OK) return rc;
    rc = unsign(s, &st, token ? token : "", token ? len : 0, value);
    vial_digest_release(st.md);
    return rc;
}

/* Last second Python's datetime can hold: later timestamps make itsdangerous raise. */
#define PY_MAX_TIMESTAMP 253402300799ULL

vial_sign_status vial_signer_unsign_timed(const vial_signer *s, const char *token, size_t len, int64_t max_age,
                                          int64_t now, vial_str *value, int64_t *signed_at) {
    signer_setup st;
    vial_sign_status rc = setup(s, &st);
    if (rc != VIAL_SIGN_OK) return rc;
    vial_str signed_value;
    rc = unsign(s, &st, token ? token : "", token ? len : 0, &signed_value);
    char sep = st.sep;
    vial_digest_release(st.md);
    if (rc != VIAL_SIGN_OK) return rc;
    const char *ts_sep = last_sep(signed_value.ptr, signed_value.len, sep);
    if (!ts_sep) return VIAL_SIGN_BAD_TIMESTAMP; /* "timestamp missing" */
    const char *ts_text = ts_sep + 1;
    size_t ts_text_len = signed_value.len - (size_t)(ts_text - signed_value.ptr);
    unsigned char ts[PYB64_DECODED_MAX(64)];
    if (ts_text_len > 64) return VIAL_SIGN_BAD_TIMESTAMP;
    long n = vial_pyb64_decode(ts, ts_text, ts_text_len, PYB64_URLSAFE | PYB64_PAD);
    if (n < 0 || n > 8) return VIAL_SIGN_BAD_TIMESTAMP;
    uint64_t t = 0;
    for (long i = 0; i < n; i++) t = t << 8 | ts[i];
    if (t > PY_MAX_TIMESTAMP) return VIAL_SIGN_BAD_TIMESTAMP;
    if (max_age >= 0) {
        /* Too old, or from the future (clock skew): itsdangerous rejects both. */
        if ((int64_t)t > now || now - (int64_t)t > max_age) return VIAL_SIGN_EXPIRED;
    }
    value->ptr = signed_value.ptr;
    value->len = (size_t)(ts_sep - signed_value.ptr);
    if (signed_at) *signed_at = (int64_t)t;
    return VIAL_SIGN_OK;
}
