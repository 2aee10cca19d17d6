/* secure_filename.c - Werkzeug 2.2's secure_filename: an uploaded file's
 * name made safe to join to a directory.
 *
 * NFKD-normalize and keep only ASCII (so "é" gives "e" and "ﬁ" gives "fi";
 * the per-character residues come from Python's unicodedata, see
 * nfkd_ascii_table.h and tools/gen_unicode_tables.py), turn path separators
 * into spaces, join the whitespace-separated words with '_', drop every
 * character outside [A-Za-z0-9_.-] and strip '.' and '_' from both ends.
 * The result may be empty ("../../" gives ""). On Windows Werkzeug also
 * treats '\' as a separator and prefixes reserved device names (CON, NUL,
 * COM1, ...) with '_'; the VIAL_SECURE_FILENAME_WINDOWS flag asks for that. */
#include <string.h>
#include <strings.h>

#include "app/forms.h"
#include "app/nfkd_ascii_table.h"

/* The ASCII NFKD residue of a non-ASCII code point (length in *n), or NULL. */
static const char *nfkd_ascii(uint32_t cp, size_t *n) {
    size_t lo = 0, hi = NFKD_ASCII_COUNT;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        uint32_t key = nfkd_ascii_keys[mid] >> 6;
        if (cp < key)
            hi = mid;
        else if (cp > key)
            lo = mid + 1;
        else {
            *n = nfkd_ascii_keys[mid] & 63;
            return (const char *)nfkd_ascii_pool + nfkd_ascii_offsets[mid];
        }
    }
    return NULL;
}

/* Whitespace of str.split() on an ASCII string. */
static bool split_space(char c) { return (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= ' '); }

static bool kept(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == '-';
}

char *vial_secure_filename_in(vial_arena *a, const char *filename, size_t n, int flags) {
    bool windows = flags & VIAL_SECURE_FILENAME_WINDOWS;
    vial_buf ascii;
    vial_buf_init(&ascii, NULL, 0);
    char *result = NULL;
    if (vial_buf_reserve(&ascii, n) != 0) goto done;
    for (size_t i = 0; i < n;) {
        uint32_t cp = vial_next_cp(filename, n, &i, false);
        if (cp < 0x80) {
            char c = (char)cp;
            if (c == '/' || (windows && c == '\\')) c = ' ';
            if (vial_buf_putc(&ascii, c) != 0) goto done;
            continue;
        }
        size_t len;
        const char *residue = nfkd_ascii(cp, &len);
        for (size_t k = 0; residue && k < len; k++) {
            char c = residue[k];
            if (c == '/' || (windows && c == '\\')) c = ' ';
            if (vial_buf_putc(&ascii, c) != 0) goto done;
        }
    }
    /* "_".join(s.split()), then keep [A-Za-z0-9_.-] */
    char *out = vial_arena_alloc(a, ascii.len + 2);
    if (!out) goto done;
    size_t len = 1; /* out[0] is room for the Windows '_' */
    bool pending_sep = false, any = false;
    for (size_t i = 0; i < ascii.len; i++) {
        char c = ascii.data[i];
        if (split_space(c)) {
            pending_sep = any;
            continue;
        }
        if (pending_sep) out[len++] = '_';
        pending_sep = false;
        any = true;
        if (kept(c)) out[len++] = c;
    }
    size_t start = 1;
    while (start < len && (out[start] == '.' || out[start] == '_')) start++;
    while (len > start && (out[len - 1] == '.' || out[len - 1] == '_')) len--;
    out[len] = '\0';
    if (windows && len > start) {
        static const char *const devices[] = {"CON",  "AUX",  "COM1", "COM2", "COM3", "COM4",
                                              "LPT1", "LPT2", "LPT3", "PRN",  "NUL"};
        const char *dot = memchr(out + start, '.', len - start);
        size_t stem = dot ? (size_t)(dot - out) - start : len - start;
        for (size_t d = 0; d < sizeof devices / sizeof devices[0]; d++)
            if (strlen(devices[d]) == stem && strncasecmp(out + start, devices[d], stem) == 0) {
                out[--start] = '_';
                break;
            }
    }
    result = out + start;
done:
    vial_buf_free(&ascii);
    return result;
}

/* unicodedata.normalize("NFKD", text).encode("ascii", "ignore"): the ASCII
 * fallback filename of Content-Disposition (send_file's download_name). */
int vial_ascii_fold(vial_buf *out, const char *text) {
    size_t n = strlen(text);
    for (size_t i = 0; i < n;) {
        uint32_t cp = vial_next_cp(text, n, &i, false);
        if (cp < 0x80) {
            if (vial_buf_putc(out, (int)cp) != 0) return -1;
            continue;
        }
        size_t len;
        const char *residue = nfkd_ascii(cp, &len);
        if (residue && vial_buf_append(out, residue, len) != 0) return -1;
    }
    return 0;
}
