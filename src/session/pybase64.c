/* pybase64.c - base64 decoding exactly as lenient as Python's.
 *
 * itsdangerous decodes the payload and timestamp of a token with
 * base64.urlsafe_b64decode, and Flask decodes the bytes tag with
 * base64.b64decode; both use binascii's non-strict decoder, which skips
 * characters outside the alphabet, stops at the first complete padding and
 * ignores leftover bits. Those segments are covered by the signature, so only
 * a key holder can put odd text there, but to read back exactly what Python
 * reads we decode the same way. (The signature itself is decoded strictly by
 * the signer: a signature has one spelling.) */
#include "session/internal.h"

static int sextet(unsigned char c, int flags) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    /* urlsafe_b64decode translates - and _ to + and /, so all four work there. */
    if (c == '+') return 62;
    if (c == '/') return 63;
    if (flags & PYB64_URLSAFE) {
        if (c == '-') return 62;
        if (c == '_') return 63;
    }
    return -1;
}

long vial_pyb64_decode(unsigned char *out, const char *s, size_t n, int flags) {
    unsigned char *o = out;
    int quad_pos = 0, pads = 0;
    unsigned leftchar = 0;
    size_t extra_pads = (flags & PYB64_PAD) ? (4 - n % 4) % 4 : 0;
    for (size_t i = 0; i < n + extra_pads; i++) {
        unsigned char c = i < n ? (unsigned char)s[i] : '=';
        if (c == '=') {
            /* A pad only counts once two characters of the quad are in. */
            if (quad_pos >= 2 && quad_pos + ++pads >= 4) return (long)(o - out);
            continue;
        }
        int v = sextet(c, flags);
        if (v < 0) continue;
        pads = 0;
        switch (quad_pos) {
        case 0:
            quad_pos = 1;
            leftchar = (unsigned)v;
            break;
        case 1:
            quad_pos = 2;
            *o++ = (unsigned char)((leftchar << 2) | ((unsigned)v >> 4));
            leftchar = (unsigned)v & 0x0f;
            break;
        case 2:
            quad_pos = 3;
            *o++ = (unsigned char)((leftchar << 4) | ((unsigned)v >> 2));
            leftchar = (unsigned)v & 0x03;
            break;
        default:
            quad_pos = 0;
            *o++ = (unsigned char)((leftchar << 6) | (unsigned)v);
            leftchar = 0;
            break;
        }
    }
    if (quad_pos != 0) return -1; /* "Incorrect padding" or a lone 6-bit group */
    return (long)(o - out);
}
