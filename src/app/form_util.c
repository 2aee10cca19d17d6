/* form_util.c - small pieces the form and cookie parsers share: error
 * reporting, default limits, and the two Python character rules they all
 * depend on (what str.isspace() calls whitespace, and how a code point is
 * read from UTF-8 or latin-1 header bytes). */
#include <stdio.h>
#include <string.h>

#include "app/forms.h"

int vial_form_fail(vial_form_error *err, int status, const char *fmt, ...) {
    if (err) {
        err->status = status;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return -1;
}

char *vial_buf_finish(vial_buf *b) {
    if (vial_buf_reserve(b, 0) != 0) return NULL;
    b->data[b->len] = '\0';
    return b->data;
}

vial_form_limits vial_form_limits_resolve(const vial_form_limits *lim) {
    vial_form_limits out = lim ? *lim : (vial_form_limits){0};
    if (!out.max_fields) out.max_fields = 1000;
    if (!out.max_bytes) out.max_bytes = 500000;
    if (!out.max_field_bytes) out.max_field_bytes = 500000;
    if (!out.max_memory) out.max_memory = 16u << 20;
    if (!out.max_header_bytes) out.max_header_bytes = 16384;
    if (!out.file_threshold) out.file_threshold = 500 * 1024;
    return out;
}

bool vial_py_isspace(uint32_t cp) {
    if (cp < 0x80) return (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x20);
    switch (cp) {
    case 0x85:
    case 0xa0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202f:
    case 0x205f:
    case 0x3000: return true;
    default: return cp >= 0x2000 && cp <= 0x200a;
    }
}

uint32_t vial_next_cp(const char *s, size_t n, size_t *i, bool latin1) {
    unsigned char c = (unsigned char)s[*i];
    if (c < 0x80 || latin1) {
        (*i)++;
        return c;
    }
    uint32_t cp;
    size_t len = vial_utf8_decode(s + *i, n - *i, &cp);
    if (!len) {
        (*i)++;
        return 0xfffd;
    }
    *i += len;
    return cp;
}
