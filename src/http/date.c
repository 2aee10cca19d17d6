/* date.c - HTTP dates (RFC 9110 section 5.6.7).
 *
 * Responses carry a Date header; formatting it for every response would cost
 * more than parsing the request, so vial_http_date_now() formats the current
 * second once and hands the same string out until the second changes (each
 * worker is one thread, so a static cache needs no lock). Parsing accepts the
 * three forms a recipient must: IMF-fixdate, RFC 850 and asctime, each
 * exactly (day names, "GMT", real calendar dates). */
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "http/parser.h"

static const char day_names[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char month_names[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void vial_http_date(char out[30], time_t t) {
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        t = 0; /* beyond what struct tm holds: never the case for a clock */
        gmtime_r(&t, &tm);
    }
    /* Written by hand: strftime depends on the locale. */
    int year = tm.tm_year + 1900;
    if (year < 0) year = 0;
    if (year > 9999) year = 9999;
    char *o = out;
    memcpy(o, day_names[tm.tm_wday], 3);
    o[3] = ',';
    o[4] = ' ';
    o[5] = (char)('0' + tm.tm_mday / 10);
    o[6] = (char)('0' + tm.tm_mday % 10);
    o[7] = ' ';
    memcpy(o + 8, month_names[tm.tm_mon], 3);
    o[11] = ' ';
    o[12] = (char)('0' + year / 1000);
    o[13] = (char)('0' + year / 100 % 10);
    o[14] = (char)('0' + year / 10 % 10);
    o[15] = (char)('0' + year % 10);
    o[16] = ' ';
    o[17] = (char)('0' + tm.tm_hour / 10);
    o[18] = (char)('0' + tm.tm_hour % 10);
    o[19] = ':';
    o[20] = (char)('0' + tm.tm_min / 10);
    o[21] = (char)('0' + tm.tm_min % 10);
    o[22] = ':';
    o[23] = (char)('0' + tm.tm_sec / 10);
    o[24] = (char)('0' + tm.tm_sec % 10);
    memcpy(o + 25, " GMT", 5);
}

const char *vial_http_date_now(void) {
    static time_t cached_second = -1;
    static char cached[30];
    time_t now = time(NULL);
    if (now != cached_second) {
        vial_http_date(cached, now);
        cached_second = now;
    }
    return cached;
}

static int month_index(const char *s) {
    for (int i = 0; i < 12; i++)
        if (memcmp(s, month_names[i], 3) == 0) return i;
    return -1;
}

static bool is_day_name(const char *s) {
    for (int i = 0; i < 7; i++)
        if (memcmp(s, day_names[i], 3) == 0) return true;
    return false;
}

/* RFC 850 spells the day out: "Sunday", "Monday", ... */
static bool is_long_day_name(const char *s, size_t n) {
    static const char *const names[7] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};
    for (int i = 0; i < 7; i++)
        if (strlen(names[i]) == n && memcmp(s, names[i], n) == 0) return true;
    return false;
}

static int parse_digits(const char *s, int n) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* hh:mm:ss; 60 seconds is a leap second (RFC 5322 3.3). */
static int parse_clock(const char *s, struct tm *tm) {
    if (s[2] != ':' || s[5] != ':') return -1;
    tm->tm_hour = parse_digits(s, 2);
    tm->tm_min = parse_digits(s + 3, 2);
    tm->tm_sec = parse_digits(s + 6, 2);
    if (tm->tm_hour < 0 || tm->tm_hour > 23 || tm->tm_min < 0 || tm->tm_min > 59 || tm->tm_sec < 0 ||
        tm->tm_sec > 60)
        return -1;
    return 0;
}

/* RFC 9110 5.6.7: a two-digit year that would be more than 50 years in the
 * future is the most recent past year with those digits. */
static int full_year(int yy) {
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    int this_year = tm.tm_year + 1900;
    int year = this_year - this_year % 100 + yy;
    if (year > this_year + 50) year -= 100;
    return year;
}

time_t vial_http_date_parse(const char *s, size_t n) {
    char buf[64];
    if (n >= sizeof buf || n < 24) return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (memchr(buf, '\0', n)) return -1;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *comma = strchr(buf, ',');
    int year;
    if (comma && comma - buf == 3 && n == 29) {
        /* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
        const char *p = buf + 5;
        int mon = month_index(p + 3);
        if (!is_day_name(buf) || buf[4] != ' ' || p[2] != ' ' || p[6] != ' ' || p[11] != ' ' || p[20] != ' ' ||
            mon < 0 || memcmp(p + 21, "GMT", 3) != 0)
            return -1;
        tm.tm_mday = parse_digits(p, 2);
        tm.tm_mon = mon;
        year = parse_digits(p + 7, 4);
        if (parse_clock(p + 12, &tm) != 0) return -1;
    } else if (comma) {
        /* RFC 850: Sunday, 06-Nov-94 08:49:37 GMT */
        const char *p = comma + 2;
        if ((size_t)(p - buf) + 22 != n || !is_long_day_name(buf, (size_t)(comma - buf)) || comma[1] != ' ' ||
            p[2] != '-' || p[6] != '-' || p[9] != ' ' || p[18] != ' ' || memcmp(p + 19, "GMT", 3) != 0)
            return -1;
        int mon = month_index(p + 3);
        int yy = parse_digits(p + 7, 2);
        if (mon < 0 || yy < 0) return -1;
        year = full_year(yy);
        tm.tm_mday = parse_digits(p, 2);
        tm.tm_mon = mon;
        if (parse_clock(p + 10, &tm) != 0) return -1;
    } else if (n == 24) {
        /* asctime: Sun Nov  6 08:49:37 1994 */
        int mon = month_index(buf + 4);
        if (!is_day_name(buf) || mon < 0 || buf[3] != ' ' || buf[7] != ' ' || buf[10] != ' ' || buf[19] != ' ')
            return -1;
        tm.tm_mday = buf[8] == ' ' ? parse_digits(buf + 9, 1) : parse_digits(buf + 8, 2);
        tm.tm_mon = mon;
        year = parse_digits(buf + 20, 4);
        if (parse_clock(buf + 11, &tm) != 0) return -1;
    } else {
        return -1;
    }
    static const int month_days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    int days = month_days[tm.tm_mon] + (tm.tm_mon == 1 && leap);
    if (year < 1900 || tm.tm_mday < 1 || tm.tm_mday > days) return -1; /* no 31 Feb */
    tm.tm_year = year - 1900;
    return timegm(&tm); /* a leap second (:60) counts as the next second */
}
