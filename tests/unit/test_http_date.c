/* test_http_date.c - HTTP dates: IMF-fixdate output (against Python's
 * email.utils.formatdate), the cached "now", and parsing of all three forms
 * (against Python's formatting and libc's strftime) and of invalid ones. */
#include <criterion/criterion.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http/parser.h"

static time_t parse(const char *s) { return vial_http_date_parse(s, strlen(s)); }

Test(date, rfc_examples) {
    char out[30];
    vial_http_date(out, 784111777);
    cr_expect_str_eq(out, "Sun, 06 Nov 1994 08:49:37 GMT");
    vial_http_date(out, 0);
    cr_expect_str_eq(out, "Thu, 01 Jan 1970 00:00:00 GMT");
    cr_expect_eq(parse("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
    cr_expect_eq(parse("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777);
    cr_expect_eq(parse("Sun Nov  6 08:49:37 1994"), 784111777);
    cr_expect_eq(parse("Thu, 01 Jan 1970 00:00:00 GMT"), 0);
}

Test(date, against_python) {
    /* Python formats random times as IMF-fixdate and asctime; we must format
     * the same IMF-fixdate and parse both back to the same second. */
    FILE *py = popen("/usr/bin/python3 -c '"
                     "import random, time, email.utils\n"
                     "random.seed(7)\n"
                     "ts = [0, 1, 951782400, 1078012800, 2147483647, 4102444799, 253402300799]\n"
                     "ts += [random.randrange(0, 4102444800) for _ in range(300)]\n"
                     "for t in ts: print(t, email.utils.formatdate(t, usegmt=True), \"|\", time.asctime(time.gmtime(t)))'",
                     "r");
    cr_assert(py, "python3 oracle");
    char line[256];
    int n = 0;
    while (fgets(line, sizeof line, py)) {
        long long t = atoll(line);
        char *imf = strchr(line, ' ') + 1, *bar = strstr(imf, " | "), *asc = bar + 3;
        *bar = '\0';
        asc[strcspn(asc, "\n")] = '\0';
        char out[30];
        vial_http_date(out, (time_t)t);
        cr_expect_str_eq(out, imf, "t=%lld", t);
        cr_expect_eq(parse(imf), (time_t)t, "%s", imf);
        cr_expect_eq(parse(asc), (time_t)t, "%s", asc);
        n++;
    }
    cr_assert_eq(pclose(py), 0, "python3 oracle failed");
    cr_expect_eq(n, 307);
}

Test(date, rfc850_two_digit_years) {
    /* RFC 9110 5.6.7: more than 50 years ahead means the previous century.
     * Times within 49 years of now, formatted by libc's strftime. */
    setlocale(LC_TIME, "C");
    time_t now = time(NULL);
    srand(11);
    for (int i = 0; i < 400; i++) {
        time_t t = now + (time_t)((rand() % 98) - 49) * 365 * 86400 + rand() % 86400;
        struct tm tm;
        gmtime_r(&t, &tm);
        char s[64];
        strftime(s, sizeof s, "%A, %d-%b-%y %H:%M:%S GMT", &tm);
        cr_expect_eq(parse(s), t, "%s", s);
    }
    /* This century's years up to 50 ahead stay ahead; the one after that falls back. */
    struct tm tm;
    gmtime_r(&now, &tm);
    int year = tm.tm_year + 1900;
    for (int ahead = 48; ahead <= 52; ahead++) {
        int y = year + ahead;
        char s[64];
        snprintf(s, sizeof s, "Monday, 01-Jan-%02d 00:00:00 GMT", y % 100);
        time_t t = parse(s);
        struct tm got;
        gmtime_r(&t, &got);
        int want = ahead <= 50 ? y : y - 100;
        cr_expect_eq(got.tm_year + 1900, want, "%s", s);
    }
}

Test(date, calendar_and_leap) {
    cr_expect_eq(parse("Thu, 29 Feb 2024 12:00:00 GMT"), 1709208000);
    cr_expect_eq(parse("Tue, 29 Feb 2000 00:00:00 GMT"), 951782400);
    cr_expect_eq(parse("Sat, 31 Dec 2016 23:59:60 GMT"), 1483228800, "a leap second is the next second");
    cr_expect_eq(parse("Wed, 29 Feb 2023 00:00:00 GMT"), -1);
    cr_expect_eq(parse("Fri, 29 Feb 1900 00:00:00 GMT"), -1);
    cr_expect_eq(parse("Mon, 31 Feb 2024 00:00:00 GMT"), -1);
    cr_expect_eq(parse("Mon, 31 Apr 2024 00:00:00 GMT"), -1);
    cr_expect_eq(parse("Mon, 00 Apr 2024 00:00:00 GMT"), -1);
}

Test(date, invalid) {
    static const char *bad[] = {
        "",
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 06 Nov 1994 08:49:37 gmt",
        "Sun, 06 Nov 1994 08:49:37 GMTX",
        "Sun, 06 Nov 1994 08:49:37 GMT ",
        " Sun, 06 Nov 1994 08:49:37 GMT",
        "Xyz, 06 Nov 1994 08:49:37 GMT",
        "sun, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 nov 1994 08:49:37 GMT",
        "Sun, 06 Nox 1994 08:49:37 GMT",
        "Sun,06 Nov 1994 08:49:37 GMT ",
        "Sun, 6 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 94 08:49:37 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Nov 1994 08:60:00 GMT",
        "Sun, 06 Nov 1994 08:49:61 GMT",
        "Sun, 06 Nov 1994 08-49-37 GMT",
        "Sun, 0x Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 GMT+0100",
        "Sun, 06 Nov 1894 08:49:37 GMT",
        "Sunday, 06-Nov-94 08:49:37 UTC",
        "Sun, 06-Nov-94 08:49:37 GMT ",
        "Sundae, 06-Nov-94 08:49:37 GMT",
        "Sunday, 06-Nov-1994 08:49:37 GMT",
        "Sunday, 06 Nov 94 08:49:37 GMT",
        "Sunday, 06-Nov-9x 08:49:37 GMT",
        "Sun Nov 6 08:49:37 1994",
        "Sun Nov  6 08:49:37 94",
        "Sun Nov 06 08:49:37 1994 ",
        "Sun Nov  6 08:49:37 1994 GMT",
        "Xyz Nov  6 08:49:37 1994",
        "Sun Nov  x 08:49:37 1994",
        "1994-11-06T08:49:37Z",
        "784111777",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) cr_expect_eq(parse(bad[i]), -1, "%s", bad[i]);
    /* an embedded NUL does not end the string early */
    cr_expect_eq(vial_http_date_parse("Sun, 06 Nov 1994 08:49:37 GMT\0", 30), -1);
    cr_expect_eq(vial_http_date_parse("Sun, 06 Nov 1994 08:49:37 G\0T", 29), -1);
    /* only n bytes are read */
    cr_expect_eq(vial_http_date_parse("Sun, 06 Nov 1994 08:49:37 GMTjunk", 29), 784111777);
    char *big = malloc(200);
    memset(big, 'x', 200);
    cr_expect_eq(vial_http_date_parse(big, 200), -1);
    free(big);
}

Test(date, now_is_cached_and_current) {
    time_t before = time(NULL);
    const char *a = vial_http_date_now();
    const char *b = vial_http_date_now();
    time_t after = time(NULL);
    cr_expect_eq(a, b, "one buffer");
    cr_expect_eq(strlen(a), 29);
    time_t t = parse(a);
    cr_expect(t >= before && t <= after, "%s", a);
}
