/* digest.c - hashlib's digest names on top of OpenSSL.
 *
 * Werkzeug password hashes and itsdangerous signers name their digest the way
 * Python's hashlib does ("sha256", "sha3_256", "blake2b"). hashlib maps a few
 * of those to OpenSSL's names and hands any other name to OpenSSL as is; we
 * do the same, so exactly the names that work in Python work here. The
 * common ones come from OpenSSL's static tables without a provider lookup. */
#include <openssl/err.h>
#include <string.h>

#include "session/internal.h"

static const struct {
    const char *python, *openssl;
} renamed[] = {
    {"sha3_224", "SHA3-224"},     {"sha3_256", "SHA3-256"},     {"sha3_384", "SHA3-384"},
    {"sha3_512", "SHA3-512"},     {"shake_128", "SHAKE128"},    {"shake_256", "SHAKE256"},
    {"blake2b", "BLAKE2B-512"},   {"blake2s", "BLAKE2S-256"},   {"sha512_224", "SHA512-224"},
    {"sha512_256", "SHA512-256"},
};

static bool is(const char *name, size_t n, const char *lit) { return strlen(lit) == n && memcmp(name, lit, n) == 0; }

const EVP_MD *vial_digest_get(const char *name, size_t n) {
    if (is(name, n, "sha1")) return EVP_sha1();
    if (is(name, n, "sha256")) return EVP_sha256();
    if (is(name, n, "sha512")) return EVP_sha512();
    if (is(name, n, "md5")) return EVP_md5();
    char buf[64];
    if (n == 0 || n >= sizeof buf || memchr(name, '\0', n)) return NULL;
    memcpy(buf, name, n);
    buf[n] = '\0';
    const char *lookup = buf;
    for (size_t i = 0; i < sizeof renamed / sizeof renamed[0]; i++)
        if (strcmp(buf, renamed[i].python) == 0) lookup = renamed[i].openssl;
    EVP_MD *md = EVP_MD_fetch(NULL, lookup, NULL);
    if (!md) {
        /* OpenSSL queues an error for the failed fetch; it is ours to drop. */
        ERR_clear_error();
        return NULL;
    }
    if (EVP_MD_get_flags(md) & EVP_MD_FLAG_XOF) {
        EVP_MD_free(md);
        return NULL;
    }
    return md;
}

void vial_digest_release(const EVP_MD *md) {
    if (md && md != EVP_sha1() && md != EVP_sha256() && md != EVP_sha512() && md != EVP_md5())
        EVP_MD_free((EVP_MD *)md);
}
