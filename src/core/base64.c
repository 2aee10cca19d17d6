/* base64.c - RFC 4648 base64, standard and URL-safe alphabets.
 *
 * itsdangerous (Flask's session cookies) uses the URL-safe alphabet with the
 * padding stripped; HTTP Basic auth and data URLs use the standard one. The
 * decoder is strict by default: characters outside the alphabet and non-zero
 * leftover bits are errors, so a tampered token is rejected rather than
 * "repaired" into something that happens to verify. */
#include "vial.h"

#include <string.h>

static const char std_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t vial_base64_encoded_len(size_t n, int flags) {
    if (flags & VIAL_B64_NOPAD) return (n / 3) * 4 + ((n % 3) ? (n % 3) + 1 : 0);
    return ((n + 2) / 3) * 4;
}

size_t vial_base64_encode(char *out, const void *data, size_t n, int flags) {
    const unsigned char *in = data;
    const char *alpha = (flags & VIAL_B64_URL) ? url_alphabet : std_alphabet;
    char *o = out;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        *o++ = alpha[v >> 18];
        *o++ = alpha[(v >> 12) & 63];
        *o++ = alpha[(v >> 6) & 63];
        *o++ = alpha[v & 63];
    }
    size_t rest = n - i;
    if (rest) {
        uint32_t v = (uint32_t)in[i] << 16 | (rest == 2 ? (uint32_t)in[i + 1] << 8 : 0);
        *o++ = alpha[v >> 18];
        *o++ = alpha[(v >> 12) & 63];
        if (rest == 2) *o++ = alpha[(v >> 6) & 63];
        if (!(flags & VIAL_B64_NOPAD)) {
            if (rest == 1) *o++ = '=';
            *o++ = '=';
        }
    }
    *o = '\0';
    return (size_t)(o - out);
}

static int sextet(unsigned char c, int flags) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (flags & VIAL_B64_URL) {
        if (c == '-') return 62;
        if (c == '_') return 63;
    } else {
        if (c == '+') return 62;
        if (c == '/') return 63;
    }
    return -1;
}

long vial_base64_decode(void *out, const char *s, size_t n, int flags) {
    unsigned char *o = out;
    /* Padding is optional on input; strip it but require it to be sane. */
    size_t pad = 0;
    while (n > 0 && s[n - 1] == '=' && pad < 2) n--, pad++;
    if (pad && (n + pad) % 4 != 0) return -1;
    if (n % 4 == 1) return -1;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = sextet((unsigned char)s[i], flags);
        if (v < 0) return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            *o++ = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) return -1; /* non-zero leftover bits: not canonical */
    return (long)(o - (unsigned char *)out);
}
