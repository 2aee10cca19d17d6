/* utf8.c - UTF-8 validation, decoding and encoding.
 *
 * Strict per RFC 3629: no overlong forms, no surrogates, nothing past
 * U+10FFFF. The decoder reports how many bytes a valid sequence takes (0 for
 * an invalid one) so callers can implement Python's errors='replace', which
 * turns each maximal invalid subsequence into one U+FFFD. */
#include "vial.h"

size_t vial_utf8_decode(const char *s, size_t n, uint32_t *cp_out) {
    const unsigned char *p = (const unsigned char *)s;
    if (n == 0) return 0;
    unsigned c = p[0];
    if (c < 0x80) {
        *cp_out = c;
        return 1;
    }
    size_t len;
    uint32_t cp, min;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2, cp = c & 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3, cp = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    *cp_out = cp;
    return len;
}

static size_t maximal_invalid(const char *s, size_t n) {
    /* Length of the maximal prefix of an ill-formed sequence (Unicode 3.9,
     * "U+FFFD substitution of maximal subparts"), at least 1. */
    const unsigned char *p = (const unsigned char *)s;
    unsigned c = p[0];
    unsigned lo = 0x80, hi = 0xBF;
    size_t len;
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c == 0xE0) len = 3, lo = 0xA0;
    else if (c >= 0xE1 && c <= 0xEC) len = 3;
    else if (c == 0xED) len = 3, hi = 0x9F;
    else if (c >= 0xEE && c <= 0xEF) len = 3;
    else if (c == 0xF0) len = 4, lo = 0x90;
    else if (c >= 0xF1 && c <= 0xF3) len = 4;
    else if (c == 0xF4) len = 4, hi = 0x8F;
    else return 1;
    size_t i = 1;
    for (; i < len && i < n; i++) {
        unsigned b = p[i];
        if (i == 1 ? (b < lo || b > hi) : (b & 0xC0) != 0x80) break;
    }
    return i;
}

size_t vial_utf8_encode(uint32_t cp, char out[4]) {
    unsigned char *o = (unsigned char *)out;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (unsigned char)(0xF0 | (cp >> 18));
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (unsigned char)(0x80 | (cp & 0x3F));
    return 4;
}

size_t vial_utf8_invalid_offset(const char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        if ((unsigned char)s[i] < 0x80) {
            i++;
            continue;
        }
        uint32_t cp;
        size_t len = vial_utf8_decode(s + i, n - i, &cp);
        if (!len) return i;
        i += len;
    }
    return n;
}

bool vial_utf8_valid(const char *s, size_t n) { return vial_utf8_invalid_offset(s, n) == n; }

int vial_utf8_replace_invalid(vial_buf *out, const char *s, size_t n) {
    size_t i = 0, run = 0;
    while (i < n) {
        if ((unsigned char)s[i] < 0x80) {
            i++, run++;
            continue;
        }
        uint32_t cp;
        size_t len = vial_utf8_decode(s + i, n - i, &cp);
        if (len) {
            i += len, run += len;
            continue;
        }
        if (run && vial_buf_append(out, s + i - run, run) != 0) return -1;
        run = 0;
        if (vial_buf_append(out, "\xef\xbf\xbd", 3) != 0) return -1;
        i += maximal_invalid(s + i, n - i);
    }
    if (run && vial_buf_append(out, s + n - run, run) != 0) return -1;
    return 0;
}
