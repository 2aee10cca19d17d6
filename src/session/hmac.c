/* hmac.c - HMAC without OpenSSL 3's per-call lookups.
 *
 * OpenSSL 3's one-shot HMAC() fetches the MAC and the digest from the
 * provider tables (taking their locks) and builds a context on every call:
 * that was half of the time of a request that reads a session cookie. The
 * keys here are few and long-lived (SECRET_KEY, the keys derived from it and
 * a salt), so each thread keeps a small cache of keyed contexts and only
 * re-initializes one per message, which copies the precomputed key state.
 * The cache is looked up by key bytes; keys are the app's own secrets, never
 * attacker input, and the signature comparison stays constant-time. */
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <string.h>

#include "session/internal.h"

#define CACHE_SLOTS 8
#define MAX_CACHED_KEY 256

typedef struct {
    const EVP_MD *md;
    unsigned char key[MAX_CACHED_KEY];
    size_t key_len;
    EVP_MAC_CTX *ctx;
} keyed_ctx;

static __thread EVP_MAC *hmac_alg;
static __thread keyed_ctx cache[CACHE_SLOTS];
static __thread unsigned next_victim;

static EVP_MAC_CTX *keyed(const EVP_MD *md, const unsigned char *key, size_t key_len) {
    for (size_t i = 0; i < CACHE_SLOTS; i++)
        if (cache[i].ctx && cache[i].md == md && cache[i].key_len == key_len && memcmp(cache[i].key, key, key_len) == 0)
            return cache[i].ctx;
    if (!hmac_alg && !(hmac_alg = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL))) return NULL;
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(hmac_alg);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)EVP_MD_get0_name(md), 0),
        OSSL_PARAM_construct_end(),
    };
    if (!ctx || !EVP_MAC_init(ctx, key, key_len, params)) {
        EVP_MAC_CTX_free(ctx);
        return NULL;
    }
    keyed_ctx *slot = &cache[next_victim++ % CACHE_SLOTS];
    EVP_MAC_CTX_free(slot->ctx);
    slot->md = md;
    memcpy(slot->key, key, key_len);
    slot->key_len = key_len;
    slot->ctx = ctx;
    return ctx;
}

bool vial_hmac(const EVP_MD *md, const void *key, size_t key_len, const void *data, size_t len, unsigned char *out,
               unsigned *out_len) {
    static const unsigned char empty[1] = {0};
    /* Fetched digests (sha3_256...) are not cached: their pointer may be freed and reused. */
    bool cacheable = key_len > 0 && key_len <= MAX_CACHED_KEY &&
                     (md == EVP_sha1() || md == EVP_sha256() || md == EVP_sha512() || md == EVP_md5());
    if (!cacheable) {
        bool ok = key_len <= INT32_MAX && HMAC(md, key_len ? key : empty, (int)key_len, len ? data : empty, len, out,
                                               out_len) != NULL;
        if (!ok) ERR_clear_error();
        return ok;
    }
    EVP_MAC_CTX *ctx = keyed(md, key, key_len);
    size_t n = 0;
    /* a NULL key re-initializes with the key already set */
    if (!ctx || !EVP_MAC_init(ctx, NULL, 0, NULL) || !EVP_MAC_update(ctx, len ? data : empty, len) ||
        !EVP_MAC_final(ctx, out, &n, EVP_MAX_MD_SIZE)) {
        ERR_clear_error();
        return false;
    }
    *out_len = (unsigned)n;
    return true;
}
