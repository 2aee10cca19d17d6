/* ct.c - constant-time comparison of secrets.
 *
 * Comparing a signature, a password hash or a CSRF token with memcmp leaks,
 * through timing, how many leading bytes matched, which lets an attacker
 * guess a valid signature byte by byte. Everything here that compares a
 * secret goes through vial_compare_digest, whose time depends only on the
 * lengths (as Python's hmac.compare_digest). */
#include <openssl/crypto.h>

#include "vial.h"

bool vial_compare_digest(const void *a, size_t a_len, const void *b, size_t b_len) {
    if (a_len != b_len) {
        /* Still read b once so the time follows b's length, not the contents. */
        volatile unsigned char sink = 0;
        const unsigned char *p = b;
        for (size_t i = 0; i < b_len; i++) sink |= p[i];
        (void)sink;
        return false;
    }
    if (a_len == 0) return true;
    return CRYPTO_memcmp(a, b, a_len) == 0;
}
