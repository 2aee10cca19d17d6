/* unicode.c - Python's character classes and case mappings.
 *
 * `{{ name|upper }}` must print what Python's str.upper prints: full case
 * mappings ('ß'.upper() is 'SS', 'ﬁ' is 'FI'), title case for capitalize
 * and title ('ǆ' becomes 'ǅ'), the final-sigma rule of str.lower ('ΟΔΟΣ'
 * lowers to 'οδος' with a final 'ς'), and character classes (isalpha,
 * \w, printable for repr) as Python 3.11 defines them. The tables come from
 * that Python (scripts/gen_template_unicode.py -> unicode.inc); ASCII takes
 * shortcuts. */
#include "template/tpl.h"
#include "core/unicode_ranges.h"

typedef struct tpl_case_map {
    uint32_t cp;
    uint8_t n;
    uint32_t to[3];
} tpl_case_map;

#include "template/unicode.inc"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

#define RANGE_TEST(fn, table)                                                                                          \
    bool fn(uint32_t cp) {                                                                                             \
        if (cp >= 0xDC80 && cp <= 0xDCFF) return false; /* an invalid byte kept apart */                              \
        return cp_in_ranges(table, COUNT(table), cp);                                                                 \
    }

bool vial_tv_isalpha_cp(uint32_t cp) {
    if (cp < 0x80) return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
    if (cp >= 0xDC80 && cp <= 0xDCFF) return false;
    return cp_in_ranges(alpha_ranges, COUNT(alpha_ranges), cp);
}

bool vial_tv_isalnum_cp(uint32_t cp) {
    if (cp < 0x80) return (cp >= '0' && cp <= '9') || ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z');
    if (cp >= 0xDC80 && cp <= 0xDCFF) return false;
    return cp_in_ranges(alnum_ranges, COUNT(alnum_ranges), cp);
}

bool vial_tv_isdigit_cp(uint32_t cp) {
    if (cp < 0x80) return cp >= '0' && cp <= '9';
    return cp_in_ranges(decimal_ranges, COUNT(decimal_ranges), cp);
}

RANGE_TEST(vial_tv_isdigit_py_cp, digit_ranges)
RANGE_TEST(vial_tv_isnumeric_cp, numeric_ranges)
RANGE_TEST(vial_tv_islower_cp, lower_ranges)
RANGE_TEST(vial_tv_isupper_cp, upper_ranges)
RANGE_TEST(vial_tv_istitle_cp, title_ranges)
RANGE_TEST(vial_tv_iscased_cp, cased_ranges)
RANGE_TEST(vial_tv_iscase_ignorable_cp, case_ignorable_ranges)
RANGE_TEST(vial_tv_isprintable_cp, printable_ranges)
RANGE_TEST(vial_tv_isname_cp, name_ranges)
RANGE_TEST(vial_tv_isid_start_cp, id_start_ranges)
RANGE_TEST(vial_tv_isid_continue_cp, id_continue_ranges)

static const tpl_case_map *find_map(const tpl_case_map *m, size_t n, uint32_t cp) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (m[mid].cp == cp) return &m[mid];
        if (m[mid].cp < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

size_t vial_tv_case_full(uint32_t cp, int which, uint32_t out[3]) {
    if (cp < 0x80) {
        if (which == TV_UPPER) out[0] = cp >= 'a' && cp <= 'z' ? cp - 32 : cp;
        else if (which == TV_TITLE) out[0] = cp >= 'a' && cp <= 'z' ? cp - 32 : cp;
        else out[0] = cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
        return 1;
    }
    const tpl_case_map *m = NULL;
    if (cp < 0xDC80 || cp > 0xDCFF) {
        switch (which) {
        case TV_UPPER: m = find_map(upper_map, COUNT(upper_map), cp); break;
        case TV_LOWER: m = find_map(lower_map, COUNT(lower_map), cp); break;
        case TV_TITLE: m = find_map(title_map, COUNT(title_map), cp); break;
        default: m = find_map(fold_map, COUNT(fold_map), cp); break;
        }
    }
    if (!m) {
        out[0] = cp;
        return 1;
    }
    for (int i = 0; i < m->n; i++) out[i] = m->to[i];
    return m->n;
}

uint32_t vial_tv_upper_cp(uint32_t cp) {
    uint32_t out[3];
    return vial_tv_case_full(cp, TV_UPPER, out) == 1 ? out[0] : cp;
}

uint32_t vial_tv_lower_cp(uint32_t cp) {
    uint32_t out[3];
    return vial_tv_case_full(cp, TV_LOWER, out) == 1 ? out[0] : cp;
}

/* Decodes the code point ending just before byte i (i > 0). */
static uint32_t cp_before(const char *s, size_t *i) {
    size_t j = *i - 1;
    while (j > 0 && ((unsigned char)s[j] & 0xC0) == 0x80 && *i - j < 4) j--;
    uint32_t cp;
    size_t k = vial_tv_next_cp(s + j, *i - j, &cp);
    if (j + k != *i) { /* not a whole sequence: the last byte on its own */
        j = *i - 1;
        vial_tv_next_cp(s + j, 1, &cp);
    }
    *i = j;
    return cp;
}

/* CPython's handle_capital_sigma: Σ at byte offset at (2 bytes long) is final
 * when a cased letter precedes it and none follows (case-ignorables skipped). */
static bool final_sigma(const char *s, size_t n, size_t at) {
    size_t i = at;
    uint32_t c = 0;
    bool found = false;
    while (i > 0) {
        c = cp_before(s, &i);
        if (!vial_tv_iscase_ignorable_cp(c)) {
            found = true;
            break;
        }
    }
    if (!found || !vial_tv_iscased_cp(c)) return false;
    for (size_t j = at + 2; j < n;) {
        j += vial_tv_next_cp(s + j, n - j, &c);
        if (!vial_tv_iscase_ignorable_cp(c)) return !vial_tv_iscased_cp(c);
    }
    return true;
}

static int put_mapped(vial_buf *b, const uint32_t *cps, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (vial_tv_put_cp(b, cps[i]) != 0) return -1;
    return 0;
}

/* str.lower() of one code point at byte offset i (final sigma included). */
static size_t lower_at(const char *s, size_t n, size_t i, uint32_t cp, uint32_t out[3]) {
    if (cp == 0x3A3) {
        out[0] = final_sigma(s, n, i) ? 0x3C2 : 0x3C3;
        return 1;
    }
    return vial_tv_case_full(cp, TV_LOWER, out);
}

int vial_tv_case_into(vial_buf *b, const char *s, size_t n, int mode) {
    bool prev_cased = false;
    for (size_t i = 0; i < n;) {
        uint32_t cp, m[3];
        size_t k = vial_tv_next_cp(s + i, n - i, &cp);
        size_t mn;
        switch (mode) {
        case TV_UPPER: mn = vial_tv_case_full(cp, TV_UPPER, m); break;
        case TV_LOWER: mn = lower_at(s, n, i, cp, m); break;
        case TV_FOLD: mn = vial_tv_case_full(cp, TV_FOLD, m); break;
        case TV_SWAP:
            if (vial_tv_isupper_cp(cp)) mn = lower_at(s, n, i, cp, m);
            else if (vial_tv_islower_cp(cp)) mn = vial_tv_case_full(cp, TV_UPPER, m);
            else m[0] = cp, mn = 1;
            break;
        case TV_CAPITALIZE:
            mn = i == 0 ? vial_tv_case_full(cp, TV_TITLE, m) : lower_at(s, n, i, cp, m);
            break;
        case TV_TITLE_WORDS: /* str.title */
            mn = prev_cased ? lower_at(s, n, i, cp, m) : vial_tv_case_full(cp, TV_TITLE, m);
            prev_cased = vial_tv_iscased_cp(cp);
            break;
        default: /* TV_UPPER_FIRST: Jinja2's title filter, item[0].upper() + item[1:].lower() */
            mn = i == 0 ? vial_tv_case_full(cp, TV_UPPER, m) : lower_at(s, n, i, cp, m);
            break;
        }
        if (put_mapped(b, m, mn) != 0) return -1;
        i += k;
    }
    return 0;
}
