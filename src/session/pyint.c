/* pyint.c - int(text) the way Python reads a decimal integer.
 *
 * Werkzeug parses the iteration count of "pbkdf2:sha256:1000" and the scrypt
 * parameters with int(), and the email date parser behind Flask's datetime
 * tag parses every field with it. int() accepts more than digits: spaces
 * around the number, a sign, and single underscores between digits
 * ("1_000"). Accepting exactly that keeps our answers equal to Werkzeug's. */
#include "session/internal.h"

static bool is_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f); }

bool vial_pyint_parse(const char *s, size_t n, int64_t *out, bool *overflow) {
    size_t i = 0, end = n;
    if (overflow) *overflow = false;
    while (i < end && is_space((unsigned char)s[i])) i++;
    while (end > i && is_space((unsigned char)s[end - 1])) end--;
    bool negative = false;
    if (i < end && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
    if (i >= end) return false;
    uint64_t limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t v = 0;
    bool digit_before = false, too_big = false;
    for (; i < end; i++) {
        char c = s[i];
        if (c == '_') {
            /* Only between two digits. */
            if (!digit_before || i + 1 >= end || s[i + 1] < '0' || s[i + 1] > '9') return false;
            digit_before = false;
            continue;
        }
        if (c < '0' || c > '9') return false;
        digit_before = true;
        unsigned d = (unsigned)(c - '0');
        if (v > (limit - d) / 10) too_big = true;
        else v = v * 10 + d;
    }
    if (too_big) {
        if (overflow) *overflow = true;
        return false;
    }
    *out = negative ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}
