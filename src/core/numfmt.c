/* numfmt.c - numbers to text the way Python writes them.
 *
 * Flask's jsonify and Jinja2's output both print floats with Python's repr():
 * the shortest digit string that reads back to the same double, in fixed
 * notation when the decimal exponent is in [-4, 16) and scientific otherwise,
 * with ".0" on integral values ("1.0", "1e+16", "1.5e-07"). Matching it byte
 * for byte is what lets a vial app replace a Flask app without clients or
 * templates noticing. The shortest digits are found by asking printf for 1..17
 * significant digits (binary search: if p digits round-trip, so do p+1). */
#include "vial.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Shortest "d.ddde±x" form that round-trips; returns digits without the dot
 * in digits[], their count, and the decimal exponent. */
static int shortest_digits(double d, char *digits, int *exp10) {
    char tmp[40];
    int lo = 1, hi = 17;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        snprintf(tmp, sizeof tmp, "%.*e", mid - 1, d);
        if (strtod(tmp, NULL) == d)
            hi = mid;
        else
            lo = mid + 1;
    }
    snprintf(tmp, sizeof tmp, "%.*e", lo - 1, d);
    /* tmp is like "-1.2345e+05" */
    const char *p = tmp;
    if (*p == '-') p++;
    int n = 0;
    for (; *p && *p != 'e'; p++)
        if (*p != '.') digits[n++] = *p;
    /* trailing zeros are not significant */
    while (n > 1 && digits[n - 1] == '0') n--;
    digits[n] = '\0';
    *exp10 = atoi(p + 1);
    return n;
}

size_t vial_format_double(char out[VIAL_DOUBLE_BUFSIZE], double d) {
    if (isnan(d)) return (size_t)snprintf(out, VIAL_DOUBLE_BUFSIZE, "nan");
    if (isinf(d)) return (size_t)snprintf(out, VIAL_DOUBLE_BUFSIZE, d < 0 ? "-inf" : "inf");
    char *o = out;
    if (signbit(d)) *o++ = '-';
    if (d == 0) {
        memcpy(o, "0.0", 4);
        return (size_t)(o - out) + 3;
    }
    char digits[24];
    int exp10;
    int n = shortest_digits(fabs(d), digits, &exp10);
    if (exp10 >= -5 + 1 && exp10 < 16) {
        if (exp10 < 0) {
            *o++ = '0';
            *o++ = '.';
            for (int i = 0; i < -exp10 - 1; i++) *o++ = '0';
            memcpy(o, digits, (size_t)n);
            o += n;
        } else {
            int int_digits = exp10 + 1;
            for (int i = 0; i < int_digits; i++) *o++ = i < n ? digits[i] : '0';
            *o++ = '.';
            if (n > int_digits) {
                memcpy(o, digits + int_digits, (size_t)(n - int_digits));
                o += n - int_digits;
            } else {
                *o++ = '0';
            }
        }
    } else {
        *o++ = digits[0];
        if (n > 1) {
            *o++ = '.';
            memcpy(o, digits + 1, (size_t)(n - 1));
            o += n - 1;
        }
        o += snprintf(o, 8, "e%c%02d", exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
    }
    *o = '\0';
    return (size_t)(o - out);
}

size_t vial_format_i64(char out[VIAL_INT_BUFSIZE], int64_t v) {
    char tmp[24];
    char *end = tmp + sizeof tmp, *p = end;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) *--p = '-';
    size_t n = (size_t)(end - p);
    memcpy(out, p, n);
    out[n] = '\0';
    return n;
}
