/* html.c - HTML character references and tag stripping.
 *
 * The `striptags` filter (Markup.striptags) removes comments and tags, folds
 * whitespace runs to single spaces and then decodes character references the
 * way Python's html.unescape does, which is the HTML5 tokenizer's rule:
 * numeric references with the spec's replacements (windows-1252 for
 * 0x80-0x9F, U+FFFD for surrogates and out-of-range numbers, nothing for
 * noncharacters and most controls), named references from the WHATWG list
 * with and without the semicolon, and the longest known prefix of an unknown
 * name. The named list is generated (scripts/gen_html_entities.py). */
#include "template/tpl.h"

#include <string.h>

#include "template/entities.inc"

/* HTML5 "numeric character reference end state" replacements for 0x80-0x9F (0 = keep) */
static const uint16_t c1_replacements[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178,
};

static bool dropped_codepoint(uint32_t cp) {
    if ((cp >= 0x1 && cp <= 0x8) || cp == 0xb || (cp >= 0xe && cp <= 0x1f) || (cp >= 0x7f && cp <= 0x9f)) return true;
    if (cp >= 0xfdd0 && cp <= 0xfdef) return true;
    return (cp & 0xfffe) == 0xfffe;
}

static const char *find_entity(const char *name, size_t n) {
    size_t lo = 0, hi = sizeof html5_entities / sizeof html5_entities[0];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const char *k = html5_entities[mid].name;
        size_t kl = strlen(k);
        size_t m = kl < n ? kl : n;
        int c = memcmp(k, name, m);
        if (c == 0) c = kl < n ? -1 : kl > n;
        if (c == 0) return html5_entities[mid].value;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static bool is_hex(char c) { return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'); }

int vial_tpl_html_unescape(vial_buf *b, const char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        const char *amp = memchr(s + i, '&', n - i);
        size_t lit = amp ? (size_t)(amp - s) - i : n - i;
        if (lit && tb_append(b, s + i, lit) != 0) return -1;
        i += lit;
        if (i >= n) break;
        size_t p = i + 1;
        if (p < n && s[p] == '#') {
            bool hex = p + 1 < n && (s[p + 1] == 'x' || s[p + 1] == 'X');
            size_t d = p + 1 + (hex ? 1 : 0), e = d;
            while (e < n && (hex ? is_hex(s[e]) : (s[e] >= '0' && s[e] <= '9'))) e++;
            if (e == d) {
                if (tb_putc(b, '&') != 0) return -1;
                i++;
                continue;
            }
            uint64_t num = 0;
            bool huge = false;
            for (size_t k = d; k < e; k++) {
                int v = s[k] <= '9' ? s[k] - '0' : (s[k] | 0x20) - 'a' + 10;
                num = num * (hex ? 16 : 10) + (uint64_t)v;
                if (num > 0x10FFFF) huge = true, num = 0x110000;
            }
            if (e < n && s[e] == ';') e++;
            uint32_t cp;
            if (huge || num > 0x10FFFF || (num >= 0xD800 && num <= 0xDFFF) || num == 0) {
                cp = 0xFFFD;
            } else if (num == 0x0d) {
                cp = '\r';
            } else if (num >= 0x80 && num <= 0x9f && c1_replacements[num - 0x80]) {
                cp = c1_replacements[num - 0x80];
            } else if (num >= 0x80 && num <= 0x9f) {
                cp = (uint32_t)num; /* kept as the control character */
            } else if (dropped_codepoint((uint32_t)num)) {
                i = e;
                continue;
            } else {
                cp = (uint32_t)num;
            }
            char tmp[4];
            if (tb_append(b, tmp, vial_utf8_encode(cp, tmp)) != 0) return -1;
            i = e;
            continue;
        }
        /* [^\t\n\f <&#;]{1,32};? */
        size_t e = p;
        size_t chars = 0;
        while (e < n && chars < 32) {
            char c = s[e];
            if (c == '\t' || c == '\n' || c == '\f' || c == ' ' || c == '<' || c == '&' || c == '#' || c == ';') break;
            uint32_t cp;
            e += vial_tv_next_cp(s + e, n - e, &cp);
            chars++;
        }
        if (e == p) {
            if (tb_putc(b, '&') != 0) return -1;
            i++;
            continue;
        }
        if (e < n && s[e] == ';') e++;
        const char *v = find_entity(s + p, e - p);
        if (v) {
            if (tb_puts(b, v) != 0) return -1;
            i = e;
            continue;
        }
        /* the longest known prefix (at least two characters) */
        bool done = false;
        for (size_t x = e - p - 1; x > 1; x--) {
            v = find_entity(s + p, x);
            if (v) {
                if (tb_puts(b, v) != 0 || tb_append(b, s + p + x, e - p - x) != 0) return -1;
                done = true;
                break;
            }
        }
        if (!done && (tb_putc(b, '&') != 0 || tb_append(b, s + p, e - p) != 0)) return -1;
        i = e;
    }
    return 0;
}

/* Markup.striptags: drop <!--...--> then <...>, fold whitespace, unescape. */
int vial_tpl_striptags(tpl_render *r, vial_buf *out, const char *s, size_t n) {
    vial_buf a, bb;
    vial_tv_buf(r, &a);
    vial_tv_buf(r, &bb);
    size_t i = 0;
    while (i < n) {
        const char *c = n - i >= 4 ? memmem(s + i, n - i, "<!--", 4) : NULL;
        if (!c) {
            if (tb_append(&a, s + i, n - i) != 0) return -1;
            break;
        }
        const char *end = memmem(c + 4, (size_t)(s + n - c - 4), "-->", 3);
        if (!end) {
            if (tb_append(&a, s + i, n - i) != 0) return -1;
            break;
        }
        if (tb_append(&a, s + i, (size_t)(c - (s + i))) != 0) return -1;
        i = (size_t)(end + 3 - s);
    }
    const char *t = a.data ? a.data : "";
    size_t tn = a.len;
    i = 0;
    while (i < tn) {
        const char *lt = memchr(t + i, '<', tn - i);
        const char *gt = lt ? memchr(lt + 1, '>', (size_t)(t + tn - lt - 1)) : NULL;
        if (!lt || !gt) {
            if (tb_append(&bb, t + i, tn - i) != 0) return -1;
            break;
        }
        if (tb_append(&bb, t + i, (size_t)(lt - (t + i))) != 0) return -1;
        i = (size_t)(gt + 1 - t);
    }
    /* " ".join(value.split()) */
    vial_buf folded;
    vial_tv_buf(r, &folded);
    const char *u = bb.data ? bb.data : "";
    size_t un = bb.len;
    i = 0;
    bool first = true;
    while (i < un) {
        uint32_t cp;
        size_t k = vial_tv_next_cp(u + i, un - i, &cp);
        if (vial_tv_isspace_cp(cp)) {
            i += k;
            continue;
        }
        size_t ws = i;
        while (i < un) {
            k = vial_tv_next_cp(u + i, un - i, &cp);
            if (vial_tv_isspace_cp(cp)) break;
            i += k;
        }
        if (!first && tb_putc(&folded, ' ') != 0) return -1;
        if (tb_append(&folded, u + ws, i - ws) != 0) return -1;
        first = false;
    }
    return vial_tpl_html_unescape(out, folded.data ? folded.data : "", folded.len);
}
