/* values.c - the value conversions both backends must agree on.
 *
 * Timestamps are the one type the two databases spell differently, so model
 * writes normalize them here: any ISO 8601 form a client is likely to send
 * (date only, 'T' or space, seconds optional, fraction, Z or an offset) is
 * turned into "YYYY-MM-DD HH:MM:SS" in UTC, which is what SQLite's
 * CURRENT_TIMESTAMP stores and what PostgreSQL prints for a timestamp(0) in a
 * UTC session. PostgreSQL's bytea arrives as hex text and becomes raw bytes. */
#include <stdio.h>
#include <string.h>

#include "db/db.h"

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

vial_value *vial_db_bytea_value(vial_arena *a, const char *text, size_t len) {
    if (len < 2 || text[0] != '\\' || text[1] != 'x' || (len - 2) % 2 != 0) return vial_db_blob(a, text, len);
    size_t n = (len - 2) / 2;
    char *bytes = vial_arena_alloc(a, n + 1);
    if (!bytes) return NULL;
    for (size_t i = 0; i < n; i++) {
        int h = hexval((unsigned char)text[2 + 2 * i]), l = hexval((unsigned char)text[3 + 2 * i]);
        if (h < 0 || l < 0) return vial_db_blob(a, text, len);
        bytes[i] = (char)(h * 16 + l);
    }
    bytes[n] = '\0';
    vial_value *v = vial_new_str_ref(a, bytes, n);
    if (v) v->flags |= VIAL_FLAG_BLOB;
    return v;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

static int digits(const char *s, size_t n, size_t at, size_t count, int *out) {
    if (at + count > n) return -1;
    int v = 0;
    for (size_t i = 0; i < count; i++) {
        char c = s[at + i];
        if (c < '0' || c > '9') return -1;
        v = v * 10 + (c - '0');
    }
    *out = v;
    return 0;
}

static bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int vial_db_timestamp_normalize(const char *s, size_t n, char out[20]) {
    int y, mo, d, h = 0, mi = 0, sec = 0;
    if (digits(s, n, 0, 4, &y) || n < 10 || s[4] != '-' || digits(s, n, 5, 2, &mo) || s[7] != '-' ||
        digits(s, n, 8, 2, &d))
        return -1;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && leap(y))) return -1;
    size_t i = 10;
    int offset_min = 0;
    if (i < n) {
        if (s[i] != ' ' && s[i] != 'T' && s[i] != 't') return -1;
        i++;
        if (digits(s, n, i, 2, &h) || i + 2 >= n || s[i + 2] != ':' || digits(s, n, i + 3, 2, &mi)) return -1;
        i += 5;
        if (i < n && s[i] == ':') {
            if (digits(s, n, i + 1, 2, &sec)) return -1;
            i += 3;
            if (i < n && (s[i] == '.' || s[i] == ',')) {
                i++;
                size_t start = i;
                while (i < n && s[i] >= '0' && s[i] <= '9') i++;
                if (i == start) return -1; /* the fraction is dropped: timestamps keep whole seconds */
            }
        }
        if (h > 23 || mi > 59 || sec > 59) return -1;
        if (i < n) {
            if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == n) {
                i++;
            } else if (s[i] == '+' || s[i] == '-') {
                int sign = s[i] == '-' ? -1 : 1, oh, om = 0;
                i++;
                if (digits(s, n, i, 2, &oh)) return -1;
                i += 2;
                if (i < n && s[i] == ':') i++;
                if (i < n) {
                    if (digits(s, n, i, 2, &om)) return -1;
                    i += 2;
                }
                if (oh > 23 || om > 59) return -1;
                offset_min = sign * (oh * 60 + om);
            }
        }
        if (i != n) return -1;
    }
    int64_t t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec - offset_min * 60;
    int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
    int64_t rem = t - days * 86400;
    int64_t yy;
    unsigned mm, dd;
    civil_from_days(days, &yy, &mm, &dd);
    if (yy < 1 || yy > 9999) return -1;
    unsigned hh = (unsigned)(rem / 3600) % 24, mn = (unsigned)(rem / 60 % 60), ss = (unsigned)(rem % 60);
    char tmp[48];
    snprintf(tmp, sizeof tmp, "%04u-%02u-%02u %02u:%02u:%02u", (unsigned)yy % 10000, mm % 100, dd % 100, hh, mn, ss);
    memcpy(out, tmp, 20);
    return 0;
}
