/* urlquote.c - the text conversions URL building needs, byte-exact with
 * Werkzeug 2.2 and Python 3.
 *
 * Werkzeug percent-encodes UTF-8 bytes outside a fixed "always safe" set
 * (A-Z a-z 0-9 - . _ ~ $ ! ' ( ) * + , ;) plus per-use extras ("/:" for
 * converter values, "/:|+" for literal rule text); query strings use the
 * same set minus '+', with spaces as '+'. Values are turned into text by
 * Python's str(): True, None, 1.5, 1e-07, and lists as their repr. Method
 * names and their bits live here too, for Allow headers and messages. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "app/router.h"

static bool always_safe(unsigned char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return c && strchr("-._~$!'()*+,;", c) != NULL;
}

static const char HEX[] = "0123456789ABCDEF";

/* Appends s quoted; plus_spaces: the query form (space -> '+', '+' encoded). */
static int quote_impl(vial_buf *out, const char *s, size_t n, const char *extra_safe, bool plus_spaces) {
    if (vial_buf_reserve(out, n) != 0) return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool safe;
        if (plus_spaces)
            safe = c != '+' && always_safe(c);
        else
            safe = always_safe(c) || (c && extra_safe && strchr(extra_safe, c));
        if (safe) {
            if (vial_buf_putc(out, c) != 0) return -1;
        } else if (plus_spaces && c == ' ') {
            if (vial_buf_putc(out, '+') != 0) return -1;
        } else {
            char esc[3] = {'%', HEX[c >> 4], HEX[c & 15]};
            if (vial_buf_append(out, esc, 3) != 0) return -1;
        }
    }
    return 0;
}

int router_quote(vial_buf *out, const char *s, size_t n, const char *extra_safe) {
    return quote_impl(out, s, n, extra_safe, false);
}

int vial_url_quote(vial_buf *out, const char *s, size_t n, const char *safe) {
    return quote_impl(out, s, n, safe, false);
}

/* Code points Python's repr() escapes although they are not ASCII controls. */
static bool py_unprintable(uint32_t cp) {
    return (cp >= 0x7f && cp <= 0xa0) || cp == 0xad || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200f) ||
           (cp >= 0x2028 && cp <= 0x202f) || (cp >= 0x205f && cp <= 0x206f) || cp == 0x3000 || cp == 0xfeff ||
           (cp >= 0xfff9 && cp <= 0xfffb) || (cp >= 0xe000 && cp <= 0xf8ff) || cp >= 0xf0000;
}

int router_py_repr_str(vial_buf *out, const char *s, size_t n) {
    bool has_single = memchr(s, '\'', n) != NULL, has_double = memchr(s, '"', n) != NULL;
    char q = has_single && !has_double ? '"' : '\'';
    if (vial_buf_putc(out, q) != 0) return -1;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = vial_utf8_decode(s + i, n - i, &cp);
        int rc = 0;
        if (!k) { /* not UTF-8: show the byte */
            rc = vial_buf_printf(out, "\\x%02x", (unsigned char)s[i]);
            i++;
        } else {
            if (cp == '\\' || cp == (uint32_t)q)
                rc = vial_buf_putc(out, '\\') || vial_buf_putc(out, (int)cp);
            else if (cp == '\t')
                rc = vial_buf_puts(out, "\\t");
            else if (cp == '\n')
                rc = vial_buf_puts(out, "\\n");
            else if (cp == '\r')
                rc = vial_buf_puts(out, "\\r");
            else if (cp < 0x20 || py_unprintable(cp))
                rc = vial_buf_printf(out, cp < 0x100 ? "\\x%02x" : cp < 0x10000 ? "\\u%04x" : "\\U%08x", cp);
            else
                rc = vial_buf_append(out, s + i, k);
            i += k;
        }
        if (rc) return -1;
    }
    return vial_buf_putc(out, q);
}

static int py_repr(vial_buf *out, const vial_value *v);

static int py_str_impl(vial_buf *out, const vial_value *v, bool repr) {
    switch (v ? v->type : VIAL_NULL) {
    case VIAL_NULL: return vial_buf_puts(out, "None");
    case VIAL_BOOL: return vial_buf_puts(out, v->as.b ? "True" : "False");
    case VIAL_INT: return vial_buf_put_i64(out, v->as.i);
    case VIAL_DOUBLE: {
        char num[VIAL_DOUBLE_BUFSIZE];
        size_t n = vial_format_double(num, v->as.d);
        return vial_buf_append(out, num, n);
    }
    case VIAL_STRING:
        return repr ? router_py_repr_str(out, v->as.s.ptr, v->as.s.len) : vial_buf_append(out, v->as.s.ptr, v->as.s.len);
    case VIAL_ARRAY:
        if (vial_buf_putc(out, '[') != 0) return -1;
        for (size_t i = 0; i < v->as.arr.len; i++)
            if ((i && vial_buf_puts(out, ", ") != 0) || py_repr(out, v->as.arr.items[i]) != 0) return -1;
        return vial_buf_putc(out, ']');
    case VIAL_OBJECT:
        if (vial_buf_putc(out, '{') != 0) return -1;
        for (size_t i = 0; i < v->as.obj.len; i++) {
            const vial_member *m = &v->as.obj.items[i];
            if ((i && vial_buf_puts(out, ", ") != 0) || router_py_repr_str(out, m->key, m->key_len) != 0 ||
                vial_buf_puts(out, ": ") != 0 || py_repr(out, m->value) != 0)
                return -1;
        }
        return vial_buf_putc(out, '}');
    }
    return -1;
}

static int py_repr(vial_buf *out, const vial_value *v) { return py_str_impl(out, v, true); }

int router_py_str(vial_buf *out, const vial_value *v) { return py_str_impl(out, v, false); }

static int encode_pair(vial_buf *out, bool *first, const char *key, size_t klen, const vial_value *v) {
    if (!v || v->type == VIAL_NULL) return 0;
    if (!*first && vial_buf_putc(out, '&') != 0) return -1;
    *first = false;
    if (quote_impl(out, key, klen, NULL, true) != 0 || vial_buf_putc(out, '=') != 0) return -1;
    if (v->type == VIAL_STRING) return quote_impl(out, v->as.s.ptr, v->as.s.len, NULL, true);
    vial_buf tmp;
    vial_buf_init(&tmp, NULL, 0);
    int rc = router_py_str(&tmp, v);
    if (rc == 0) rc = quote_impl(out, tmp.data ? tmp.data : "", tmp.len, NULL, true);
    vial_buf_free(&tmp);
    return rc;
}

/* Appends the members of values not named in skip (Werkzeug's url_encode). */
int router_encode_query(vial_buf *out, const vial_value *values, const char *const *skip, size_t nskip) {
    if (!values || values->type != VIAL_OBJECT) return 0;
    bool first = true;
    for (size_t i = 0; i < values->as.obj.len; i++) {
        const vial_member *m = &values->as.obj.items[i];
        bool skipped = false;
        for (size_t k = 0; k < nskip && !skipped; k++) skipped = strcmp(skip[k], m->key) == 0;
        if (skipped) continue;
        if (m->value && m->value->type == VIAL_ARRAY) {
            for (size_t j = 0; j < m->value->as.arr.len; j++)
                if (encode_pair(out, &first, m->key, m->key_len, m->value->as.arr.items[j]) != 0) return -1;
        } else if (encode_pair(out, &first, m->key, m->key_len, m->value) != 0) {
            return -1;
        }
    }
    return 0;
}

int vial_url_encode_query(vial_buf *out, const vial_value *values) { return router_encode_query(out, values, NULL, 0); }

/* ---- methods ---- */

static const struct {
    const char *name;
    unsigned bit;
} METHODS[] = {
    /* sorted by name: Allow headers and messages list methods this way */
    {"CONNECT", VIAL_CONNECT}, {"DELETE", VIAL_DELETE}, {"GET", VIAL_GET},     {"HEAD", VIAL_HEAD},
    {"OPTIONS", VIAL_OPTIONS}, {"PATCH", VIAL_PATCH},   {"POST", VIAL_POST},   {"PUT", VIAL_PUT},
    {"TRACE", VIAL_TRACE},
};

unsigned vial_method_from_name(const char *name, size_t len) {
    for (size_t i = 0; i < sizeof METHODS / sizeof METHODS[0]; i++)
        if (strlen(METHODS[i].name) == len && strncasecmp(METHODS[i].name, name, len) == 0) return METHODS[i].bit;
    return 0;
}

const char *vial_method_name(unsigned bit) {
    for (size_t i = 0; i < sizeof METHODS / sizeof METHODS[0]; i++)
        if (METHODS[i].bit == bit) return METHODS[i].name;
    return NULL;
}

size_t vial_methods_format(char *out, size_t size, unsigned bits) {
    size_t len = 0;
    if (size) out[0] = '\0';
    for (size_t i = 0; i < sizeof METHODS / sizeof METHODS[0]; i++) {
        if (!(bits & METHODS[i].bit)) continue;
        int n = snprintf(len < size ? out + len : NULL, len < size ? size - len : 0, "%s%s", len ? ", " : "",
                         METHODS[i].name);
        if (n > 0) len += (size_t)n;
    }
    return len;
}
