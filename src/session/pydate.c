/* pydate.c - the datetime tag's dates, as Werkzeug writes and reads them.
 *
 * Flask stores a datetime in a session as an HTTP date
 * ("Tue, 02 Jan 2024 03:04:05 GMT", Werkzeug's http_date) and reads it back
 * with werkzeug.http.parse_date, i.e. Python's email.utils date parser.
 * That parser is lenient in particular ways (two-digit years, named zones,
 * day and month swapped, a missing seconds field) and returns None for what
 * it cannot read, which Flask stores as None. The reader below follows the
 * same steps so a value reads back as the same instant or as null where
 * Python gives None; it differs only on non-ASCII digits or case mappings
 * that Python's Unicode tables would accept. The arithmetic is proleptic
 * Gregorian over Python's years 1..9999, independent of the C library's
 * time_t range and time zone. */
#include <string.h>

#include "session/internal.h"

static const char day_names[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char month_names[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

/* First and last second of Python's datetime range (years 1..9999). */
#define PY_MIN_SECONDS (-62135596800LL)
#define PY_MAX_SECONDS (253402300799LL)

int64_t vial_pydate_floor_day(int64_t t) { return floor_div(t, 86400) * 86400; }

static void put2(char *o, int v) {
    o[0] = (char)('0' + v / 10);
    o[1] = (char)('0' + v % 10);
}

bool vial_pydate_format(char out[30], int64_t t) {
    if (t < PY_MIN_SECONDS || t > PY_MAX_SECONDS) return false;
    int64_t days = floor_div(t, 86400);
    int64_t secs = t - days * 86400;
    int64_t year;
    int month, day;
    civil_from_days(days, &year, &month, &day);
    int wday = (int)(((days % 7) + 7 + 4) % 7); /* 1970-01-01 was a Thursday */
    memcpy(out, day_names[wday], 3);
    out[3] = ',';
    out[4] = ' ';
    put2(out + 5, day);
    out[7] = ' ';
    memcpy(out + 8, month_names[month - 1], 3);
    out[11] = ' ';
    put2(out + 12, (int)(year / 100));
    put2(out + 14, (int)(year % 100));
    out[16] = ' ';
    put2(out + 17, (int)(secs / 3600));
    out[19] = ':';
    put2(out + 20, (int)(secs / 60 % 60));
    out[22] = ':';
    put2(out + 23, (int)(secs % 60));
    memcpy(out + 25, " GMT", 5);
    return true;
}

/* ---- parsing: email.utils._parsedate_tz, step by step ---- */

typedef struct {
    const char *p;
    size_t n;
} tok;

#define MAX_TOKENS 8

/* Length of a whitespace character at s (str.split()'s notion), else 0. */
static size_t space_len(const char *s, size_t n) {
    unsigned char c = (unsigned char)s[0];
    if (c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f)) return 1;
    if (c < 0x80) return 0;
    uint32_t cp;
    size_t len = vial_utf8_decode(s, n, &cp);
    if (!len) return 0;
    if (cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
        cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000)
        return len;
    return 0;
}

static bool tok_eq_lower(tok t, const char *lit) {
    size_t n = strlen(lit);
    if (t.n != n) return false;
    for (size_t i = 0; i < n; i++) {
        char c = t.p[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c != lit[i]) return false;
    }
    return true;
}

static bool tok_eq_upper(tok t, const char *lit) {
    size_t n = strlen(lit);
    if (t.n != n) return false;
    for (size_t i = 0; i < n; i++) {
        char c = t.p[i];
        if (c >= 'a' && c <= 'z') c = (char)(c - 'a' + 'A');
        if (c != lit[i]) return false;
    }
    return true;
}

static const char *const month_lower[24] = {
    "jan",     "feb",      "mar",   "apr",   "may",  "jun",  "jul",    "aug",       "sep",     "oct",      "nov",      "dec",
    "january", "february", "march", "april", "may",  "june", "july",   "august",    "september", "october", "november", "december"};
static const char *const day_lower[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

static int month_of(tok t) {
    for (int i = 0; i < 24; i++)
        if (tok_eq_lower(t, month_lower[i])) return i % 12 + 1;
    return 0;
}

static const struct {
    const char *name;
    int offset; /* hhmm, as the table in email._parseaddr */
} zones[] = {{"UT", 0},     {"UTC", 0},    {"GMT", 0},    {"Z", 0},      {"AST", -400}, {"ADT", -300},
             {"EST", -500}, {"EDT", -400}, {"CST", -600}, {"CDT", -500}, {"MST", -700}, {"MDT", -600},
             {"PST", -800}, {"PDT", -700}};

/* int() of a token: non-zero when Python raises ValueError; a value past
 * int64 (fine for Python's ints) sets *huge instead. */
static int to_int(tok t, int64_t *out, bool *huge) {
    bool overflow;
    if (vial_pyint_parse(t.p, t.n, out, &overflow)) return 0;
    if (!overflow) return 1;
    *huge = true;
    *out = 0;
    return 0;
}

static bool fits_c_int(int64_t v) { return v >= INT32_MIN && v <= INT32_MAX; }

static int days_in_month(int64_t y, int m) {
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
    return days[m - 1];
}

int vial_pydate_parse(const char *s, size_t n, int64_t *out) {
    if (n == 0) return PYDATE_NONE;
    tok data[MAX_TOKENS + 2];
    size_t count = 0;
    for (size_t i = 0; i < n;) {
        size_t sp = space_len(s + i, n - i);
        if (sp) {
            i += sp;
            continue;
        }
        size_t start = i;
        while (i < n && !space_len(s + i, n - i)) i++;
        /* Only the first five fields are ever used; more are dropped below. */
        if (count < MAX_TOKENS) data[count++] = (tok){s + start, i - start};
        else count = MAX_TOKENS + 1;
    }
    if (count > MAX_TOKENS) count = MAX_TOKENS;
    if (count == 0) return PYDATE_NONE;

    /* A leading day name (or anything ending in ',') is skipped; otherwise
     * text up to the last ',' of the first field is dropped. */
    bool is_day = data[0].p[data[0].n - 1] == ',';
    for (int i = 0; i < 7 && !is_day; i++) is_day = tok_eq_lower(data[0], day_lower[i]);
    if (is_day) {
        memmove(data, data + 1, (count - 1) * sizeof data[0]);
        count--;
    } else {
        for (size_t j = data[0].n; j > 0; j--) {
            if (data[0].p[j - 1] == ',') {
                data[0].p += j;
                data[0].n -= j;
                break;
            }
        }
    }
    if (count == 3) { /* RFC 850: DD-Mon-YY */
        const char *d1 = memchr(data[0].p, '-', data[0].n);
        const char *d2 = d1 ? memchr(d1 + 1, '-', (size_t)(data[0].p + data[0].n - d1 - 1)) : NULL;
        if (d2 && !memchr(d2 + 1, '-', (size_t)(data[0].p + data[0].n - d2 - 1))) {
            tok whole = data[0];
            data[4] = data[2];
            data[3] = data[1];
            data[0] = (tok){whole.p, (size_t)(d1 - whole.p)};
            data[1] = (tok){d1 + 1, (size_t)(d2 - d1 - 1)};
            data[2] = (tok){d2 + 1, (size_t)(whole.p + whole.n - d2 - 1)};
            count = 5;
        }
    }
    if (count == 4) { /* time and zone glued together: 03:04:05+0800 */
        tok t = data[3];
        const char *sign = memchr(t.p, '+', t.n);
        if (!sign) sign = memchr(t.p, '-', t.n);
        if (sign && sign > t.p) {
            data[3] = (tok){t.p, (size_t)(sign - t.p)};
            data[4] = (tok){sign, (size_t)(t.p + t.n - sign)};
        } else {
            data[4] = (tok){"", 0};
        }
        count = 5;
    }
    if (count < 5) return PYDATE_NONE;
    tok dd = data[0], mm = data[1], yy = data[2], tm = data[3], tz = data[4];
    if (!dd.n || !mm.n || !yy.n) return PYDATE_NONE;
    int month = month_of(mm);
    if (!month) {
        month = month_of(dd);
        if (!month) return PYDATE_NONE;
        dd = mm;
    }
    if (dd.p[dd.n - 1] == ',') dd.n--;
    const char *colon = memchr(yy.p, ':', yy.n);
    if (colon && colon > yy.p) {
        tok swap = yy;
        yy = tm;
        tm = swap;
    }
    if (yy.p[yy.n - 1] == ',') {
        yy.n--;
        if (!yy.n) return PYDATE_NONE;
    }
    if (!(yy.p[0] >= '0' && yy.p[0] <= '9')) {
        tok swap = yy;
        yy = tz;
        tz = swap;
    }
    if (tm.n && tm.p[tm.n - 1] == ',') tm.n--;
    tok parts[3];
    size_t nparts = 0;
    bool too_many = false;
    for (size_t i = 0, start = 0; i <= tm.n; i++) {
        if (i == tm.n || tm.p[i] == ':') {
            if (nparts < 3) parts[nparts] = (tok){tm.p + start, i - start};
            else too_many = true;
            nparts++;
            start = i + 1;
        }
    }
    if (nparts == 1 && memchr(tm.p, '.', tm.n)) { /* 03.04.05 */
        nparts = 0;
        too_many = false;
        for (size_t i = 0, start = 0; i <= tm.n; i++) {
            if (i == tm.n || tm.p[i] == '.') {
                if (nparts < 3) parts[nparts] = (tok){tm.p + start, i - start};
                else too_many = true;
                nparts++;
                start = i + 1;
            }
        }
        if (too_many || nparts < 2) return PYDATE_NONE;
    } else if (too_many || nparts < 2) {
        return PYDATE_NONE;
    }
    /* int() of each field: ValueError gives None; a number too big for
     * datetime()'s C ints only fails later, after the zone (OverflowError). */
    int64_t year, day, hour, minute, second = 0;
    bool huge = false;
    if (to_int(yy, &year, &huge) || to_int(dd, &day, &huge) || to_int(parts[0], &hour, &huge) ||
        to_int(parts[1], &minute, &huge) || (nparts == 3 && to_int(parts[2], &second, &huge)))
        return PYDATE_NONE;
    if (year < 100) year += year > 68 ? 1900 : 2000;

    /* Zone: a name from the table, else int(); "-0000" means "unknown" (naive). */
    int64_t offset = 0;
    bool have_offset = false;
    for (size_t i = 0; i < sizeof zones / sizeof zones[0] && !have_offset; i++) {
        if (tok_eq_upper(tz, zones[i].name)) {
            offset = zones[i].offset;
            have_offset = true;
        }
    }
    if (!have_offset) {
        bool overflow;
        if (vial_pyint_parse(tz.p, tz.n, &offset, &overflow)) {
            have_offset = !(offset == 0 && tz.n && tz.p[0] == '-');
        } else if (overflow) {
            return PYDATE_ERROR; /* timedelta(seconds=huge): OverflowError */
        }
    }
    int64_t offset_seconds = 0;
    if (have_offset && offset != 0) {
        int64_t sign = offset < 0 ? -1 : 1;
        uint64_t mag = offset < 0 ? (uint64_t)0 - (uint64_t)offset : (uint64_t)offset;
        /* timedelta caps at 999999999 days: beyond, Python raises OverflowError. */
        if (mag / 100 > (uint64_t)86400000000000LL / 3600) return PYDATE_ERROR;
        int64_t secs = (int64_t)(mag / 100) * 3600 + (int64_t)(mag % 100) * 60;
        if (secs > 999999999LL * 86400 + 86399) return PYDATE_ERROR;
        offset_seconds = sign * secs;
        if (secs >= 86400) return PYDATE_NONE; /* timezone() needs |offset| < 24 h */
    }
    /* datetime(y, m, d, H, M, S): C ints, then range checks (ValueError -> None). */
    if (huge || !fits_c_int(year) || !fits_c_int(day) || !fits_c_int(hour) || !fits_c_int(minute) || !fits_c_int(second))
        return PYDATE_ERROR;
    if (year < 1 || year > 9999 || day < 1 || day > days_in_month(year, month) || hour < 0 || hour > 23 ||
        minute < 0 || minute > 59 || second < 0 || second > 59)
        return PYDATE_NONE;
    *out = days_from_civil(year, month, (int)day) * 86400 + hour * 3600 + minute * 60 + second - offset_seconds;
    return PYDATE_OK;
}
