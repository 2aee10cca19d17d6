/* chars.h - character classes of HTTP/1.1 (RFC 9110, 9112, 3986), one table
 * lookup per byte, shared by the parser, the chunked decoder and the writer. */
#ifndef VIAL_HTTP_CHARS_H
#define VIAL_HTTP_CHARS_H

enum {
    VIAL_C_TOKEN = 1,  /* tchar (RFC 9110 5.6.2): methods, field names, codings */
    VIAL_C_VALUE = 2,  /* field-vchar, SP, HTAB, obs-text: field values */
    VIAL_C_TARGET = 4, /* visible ASCII except '#': request-target */
    VIAL_C_HOST = 8,   /* unreserved, sub-delims, '%': reg-name (RFC 3986 3.2.2) */
    VIAL_C_HEX = 16,   /* HEXDIG, either case */
    VIAL_C_REGNAME = 32, /* VIAL_C_HOST without '%' */
};

extern const unsigned char vial_http_char_class[256];

#define VIAL_HTTP_CLS(c) vial_http_char_class[(unsigned char)(c)]

#endif
