/* forms.h - internals shared by the form, cookie and header parsers of
 * src/app (multidict.c, urlencoded.c, options_header.c, multipart.c,
 * cookie_parse.c, set_cookie.c, idna.c, uri.c, charset.c,
 * secure_filename.c, file.c). The public side is the "forms and cookies"
 * section of vial.h. */
#ifndef VIAL_APP_FORMS_H
#define VIAL_APP_FORMS_H

#include <stdarg.h>

#include "vial.h"

/* Fills err (when not NULL) and returns -1. */
int vial_form_fail(vial_form_error *err, int status, const char *fmt, ...) VIAL_PRINTF(3, 4);

/* Drops the pairs from len on (undoing a failed parse), keeping the index valid. */
void vial_multidict_truncate(vial_multidict *md, size_t len);

/* b's bytes as a NUL-terminated string (allocating when b is still empty); NULL when out of memory. */
char *vial_buf_finish(vial_buf *b);

/* lim with its zero fields replaced by the documented defaults. */
vial_form_limits vial_form_limits_resolve(const vial_form_limits *lim);

/* Python's str.isspace() (and the \s of a str regex). */
bool vial_py_isspace(uint32_t cp);

/* Decodes one code point of UTF-8 (or one latin-1 byte when latin1) at
 * s[*i], advancing *i; an invalid UTF-8 byte yields U+FFFD and advances 1. */
uint32_t vial_next_cp(const char *s, size_t n, size_t *i, bool latin1);

/* The codec Python's codecs.lookup(name) finds, among those we implement. */
typedef enum vial_charset {
    VIAL_CHARSET_UNKNOWN,
    VIAL_CHARSET_UTF8,
    VIAL_CHARSET_ASCII,
    VIAL_CHARSET_LATIN1,
    VIAL_CHARSET_CP1252,
} vial_charset;
vial_charset vial_charset_lookup(const char *name, size_t n);
/* bytes.decode(charset, errors): strict returns -2 on the first undecodable byte. */
int vial_charset_decode(vial_buf *out, vial_charset cs, const char *s, size_t n, bool strict);

/* Appends s percent-decoded as Werkzeug's _unquote_to_bytes does (an
 * invalid escape is kept literally); '+' becomes a space when plus. */
int vial_percent_decode(vial_buf *out, const char *s, size_t n, bool plus);

/* Python's idna codec as Werkzeug's _encode_idna applies it to a host:
 * ASCII hosts unchanged, other labels nameprep-mapped and punycoded.
 * NULL with err (400) when a label is empty, too long or prohibited. */
char *vial_idna_encode_host(vial_arena *a, const char *host, size_t n, size_t *len_out, vial_form_error *err);
/* RFC 3492 punycode of code points cps[0..count): appends ASCII to out. */
int vial_punycode_encode(vial_buf *out, const uint32_t *cps, size_t count);

/* Werkzeug's _cookie_quote: raw when every byte is legal, else quoted with
 * \ooo / \" / \\ escapes. */
int vial_cookie_quote(vial_buf *out, const char *s, size_t n);

#endif
