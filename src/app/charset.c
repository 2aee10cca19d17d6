/* charset.c - bytes.decode(charset, errors) for the few charsets a form
 * part or an RFC 2231 parameter realistically names.
 *
 * Werkzeug decodes each multipart field with the charset of its own
 * Content-Type (else UTF-8) and errors='replace', and an RFC 2231 value
 * (filename*=UTF-8''...) strictly with the charset it names. Python finds
 * the codec by normalizing the name (lowercase, runs of punctuation to one
 * '_') and looking it up in its alias table; the aliases below are Python's
 * own (encodings/aliases.py) for the codecs implemented here. */
#include <string.h>

#include "app/forms.h"

static const struct {
    const char *name;
    vial_charset cs;
} charset_names[] = {
    /* module names */
    {"utf_8", VIAL_CHARSET_UTF8},
    {"ascii", VIAL_CHARSET_ASCII},
    {"latin_1", VIAL_CHARSET_LATIN1},
    {"iso8859_1", VIAL_CHARSET_LATIN1},
    {"cp1252", VIAL_CHARSET_CP1252},
    /* aliases */
    {"u8", VIAL_CHARSET_UTF8},
    {"utf", VIAL_CHARSET_UTF8},
    {"utf8", VIAL_CHARSET_UTF8},
    {"utf8_ucs2", VIAL_CHARSET_UTF8},
    {"utf8_ucs4", VIAL_CHARSET_UTF8},
    {"cp65001", VIAL_CHARSET_UTF8},
    {"646", VIAL_CHARSET_ASCII},
    {"ansi_x3.4_1968", VIAL_CHARSET_ASCII},
    {"ansi_x3_4_1968", VIAL_CHARSET_ASCII},
    {"ansi_x3.4_1986", VIAL_CHARSET_ASCII},
    {"cp367", VIAL_CHARSET_ASCII},
    {"csascii", VIAL_CHARSET_ASCII},
    {"ibm367", VIAL_CHARSET_ASCII},
    {"iso646_us", VIAL_CHARSET_ASCII},
    {"iso_646.irv_1991", VIAL_CHARSET_ASCII},
    {"iso_ir_6", VIAL_CHARSET_ASCII},
    {"us", VIAL_CHARSET_ASCII},
    {"us_ascii", VIAL_CHARSET_ASCII},
    {"8859", VIAL_CHARSET_LATIN1},
    {"cp819", VIAL_CHARSET_LATIN1},
    {"csisolatin1", VIAL_CHARSET_LATIN1},
    {"ibm819", VIAL_CHARSET_LATIN1},
    {"iso8859", VIAL_CHARSET_LATIN1},
    {"iso_8859_1", VIAL_CHARSET_LATIN1},
    {"iso_8859_1_1987", VIAL_CHARSET_LATIN1},
    {"iso_ir_100", VIAL_CHARSET_LATIN1},
    {"l1", VIAL_CHARSET_LATIN1},
    {"latin", VIAL_CHARSET_LATIN1},
    {"latin1", VIAL_CHARSET_LATIN1},
    {"1252", VIAL_CHARSET_CP1252},
    {"windows_1252", VIAL_CHARSET_CP1252},
};

/* cp1252 bytes 0x80..0x9f; 0 where the byte is undefined. */
static const uint16_t cp1252_high[32] = {
    0x20ac, 0,      0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017d, 0,      0,      0x2018, 0x2019, 0x201c, 0x201d, 0x2022,
    0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0,      0x017e, 0x0178,
};

static bool is_alnum(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

vial_charset vial_charset_lookup(const char *name, size_t n) {
    /* Python: codecs.lookup lowercases, then normalize_encoding collapses
     * every run of characters other than alphanumerics and '.' into one
     * '_' (none at either end). */
    char norm[64];
    size_t len = 0;
    bool punct = false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c >= 'A' && c <= 'Z') c = (unsigned char)(c + 32);
        if (is_alnum(c) || c == '.') {
            if (punct && len) {
                if (len + 1 >= sizeof norm) return VIAL_CHARSET_UNKNOWN;
                norm[len++] = '_';
            }
            if (len + 1 >= sizeof norm) return VIAL_CHARSET_UNKNOWN;
            norm[len++] = (char)c;
            punct = false;
        } else if (c < 0x80) {
            punct = true;
        }
    }
    norm[len] = '\0';
    if (!len) return VIAL_CHARSET_UNKNOWN;
    char underscored[64];
    memcpy(underscored, norm, len + 1);
    for (size_t i = 0; i < len; i++)
        if (underscored[i] == '.') underscored[i] = '_';
    size_t count = sizeof charset_names / sizeof charset_names[0];
    /* An alias is tried as written, then with dots as underscores; a bare
     * module name may not contain a dot. */
    for (size_t i = 5; i < count; i++)
        if (strcmp(charset_names[i].name, norm) == 0) return charset_names[i].cs;
    for (size_t i = 5; i < count; i++)
        if (strcmp(charset_names[i].name, underscored) == 0) return charset_names[i].cs;
    if (memchr(norm, '.', len)) return VIAL_CHARSET_UNKNOWN;
    for (size_t i = 0; i < 5; i++)
        if (strcmp(charset_names[i].name, norm) == 0) return charset_names[i].cs;
    return VIAL_CHARSET_UNKNOWN;
}

static int put_cp(vial_buf *out, uint32_t cp) {
    char enc[4];
    return vial_buf_append(out, enc, vial_utf8_encode(cp, enc));
}

int vial_charset_decode(vial_buf *out, vial_charset cs, const char *s, size_t n, bool strict) {
    switch (cs) {
    case VIAL_CHARSET_UTF8:
        if (strict && !vial_utf8_valid(s, n)) return -2;
        return vial_utf8_replace_invalid(out, s, n);
    case VIAL_CHARSET_ASCII:
    case VIAL_CHARSET_LATIN1:
    case VIAL_CHARSET_CP1252:
        if (vial_buf_reserve(out, n) != 0) return -1;
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)s[i];
            uint32_t cp = c;
            if (c >= 0x80 && cs == VIAL_CHARSET_ASCII) cp = 0;
            if (c >= 0x80 && c < 0xa0 && cs == VIAL_CHARSET_CP1252) cp = cp1252_high[c - 0x80];
            if (c >= 0x80 && !cp) {
                if (strict) return -2;
                cp = 0xfffd;
            }
            if (cp < 0x80 ? vial_buf_putc(out, (int)cp) != 0 : put_cp(out, cp) != 0) return -1;
        }
        return 0;
    default: return -1;
    }
}

int vial_decode_charset(vial_buf *out, const char *charset, const char *s, size_t n) {
    vial_charset cs = vial_charset_lookup(charset, strlen(charset));
    if (cs == VIAL_CHARSET_UNKNOWN) return -1;
    return vial_charset_decode(out, cs, s, n, false);
}
