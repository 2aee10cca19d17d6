/* parser.h - the HTTP/1.1 request parser and response writer (contract).
 *
 * The parser is zero-copy: it fills a vial_http_request whose strings point
 * into the caller's buffer. It is strict per RFC 9112 and answers bad input
 * with the status the server must send before closing the connection. The
 * server calls it each time bytes arrive; prev_len tells it how much of the
 * buffer it saw last time, so a slowly arriving head is scanned in O(n) total
 * rather than re-parsed from scratch on every byte. */
#ifndef VIAL_HTTP_PARSER_H
#define VIAL_HTTP_PARSER_H

#include <time.h>

#include "http/exchange.h"

typedef struct vial_http_limits {
    size_t max_request_line; /* bytes, default 8192: longer → 414 */
    size_t max_header_bytes; /* whole head, default 16384: larger → 431 */
    size_t max_headers;      /* header fields, default 100: more → 431 */
} vial_http_limits;

#define VIAL_HTTP_LIMITS_DEFAULT ((vial_http_limits){8192, 16384, 100})

/* Parses a request head from buf[0..len).
 *   > 0  complete: the head's length in bytes (through the empty line, and
 *        counting any empty lines before the request line); *req is filled,
 *        its headers stored in headers[0..headers_cap).
 *   0    incomplete: call again when more bytes arrive, with prev_len = len
 *        (the same buffer, grown; prev_len 0 or > len starts over).
 *   < 0  invalid: -status to answer before closing (400, 414, 417, 431, 501,
 *        505); *req is then partly filled and must not be used.
 * A request with both Content-Length and Transfer-Encoding, duplicate or
 * invalid Content-Length, a Transfer-Encoding other than chunked (last), bare
 * CR or LF, obs-fold, control characters, whitespace before a colon, or no
 * Host on HTTP/1.1 is 400; a coding before chunked is 501; an Expect other
 * than 100-continue is 417; HTTP/1.x other than 1.0/1.1 and HTTP/2+ are 505.
 * Limits: a request line over max_request_line bytes (CRLF excluded) is 414,
 * a head over max_header_bytes (empty lines before the request line
 * excluded) or with more than min(max_headers, headers_cap) fields is 431,
 * answered as soon as the bytes received prove it.
 * Strings point into buf, except path "/" for an absolute-form target without
 * a path and host "" when there is no Host (both static). Header values are
 * OWS-trimmed; path and query keep their percent-encoding. The full list of
 * decisions is at the top of parser.c. */
ssize_t vial_http_parse_request(const char *buf, size_t len, size_t prev_len, const vial_http_limits *lim,
                                vial_http_request *req, vial_http_header *headers, size_t headers_cap);

/* Incremental, in-place decoder for chunked request bodies (with trailers). */
typedef struct vial_chunked_decoder {
    int state;
    uint64_t remaining;   /* bytes left in the current chunk */
    size_t line_bytes;    /* bytes of the current size / trailer line seen, bounded */
    size_t trailer_bytes; /* total trailer bytes, bounded */
} vial_chunked_decoder;

/* Decodes buf[0..*len) in place: the decoded body bytes are moved to the
 * front and *len becomes their count; call again with the next bytes (a
 * partial size line is remembered in the decoder state; start with the
 * decoder zeroed). Returns
 *   >= 0  the body (and its trailers) ended; the value is the number of input
 *         bytes that followed it (the start of a pipelined request), left
 *         right behind the decoded data at buf[*len .. *len + value),
 *   -2    more input needed (all of buf was consumed),
 *   -1    malformed (bad chunk size, missing CRLF, a size line with its
 *         extensions over 4 KiB, trailers over 16 KiB): answer 400 and close.
 *         The decoder stays failed.
 * Trailer fields are checked like header fields and dropped. */
ssize_t vial_chunked_decode(vial_chunked_decoder *d, char *buf, size_t *len);

/* The standard reason phrase for a status code, or NULL when none. */
const char *vial_http_reason(int status);

/* True when a response with this status carries no body (1xx, 204, 304). */
bool vial_http_status_has_body(int status);

/* Writes the IMF-fixdate for t ("Sun, 06 Nov 1994 08:49:37 GMT", 29 bytes + NUL). */
void vial_http_date(char out[30], time_t t);

/* The current time's IMF-fixdate, formatted at most once per second. */
const char *vial_http_date_now(void);

/* Parses an HTTP date (IMF-fixdate, RFC 850 or asctime); -1 when invalid. */
time_t vial_http_date_parse(const char *s, size_t n);

/* Appends the status line and headers of res (the app's headers, then Date,
 * Server, Content-Length or Transfer-Encoding: chunked, Connection as needed)
 * and the empty line to out. body_length is the body's size, or -1 when the
 * body is streamed (chunked on HTTP/1.1; on 1.0 the connection will close).
 * The status line is always HTTP/1.1 (RFC 9112 2.3). For 1xx, 204 and 304 no
 * length is sent; for HEAD pass the length the GET body would have. The
 * app's Content-Length, Transfer-Encoding and Connection fields are dropped
 * (kept on 1xx); an app's Date or Server replaces ours; server_name NULL or
 * "" sends no Server. Returns -1 (out unchanged) when out's maximum is
 * reached, the status is not 100-999, or a header or custom reason would not
 * pass vial_http_header_name_ok / value_ok. */
int vial_http_write_head(vial_buf *out, const vial_http_response *res, int version_minor, bool keep_alive,
                         int64_t body_length, const char *server_name);

/* Whether the connection stays open after this response: keep_alive (from
 * the request) and not res->close, and not a body of unknown length on
 * HTTP/1.0 (only the close can end it). vial_http_write_head sends
 * Connection: close exactly when this is false. */
bool vial_http_response_keep_alive(const vial_http_response *res, int version_minor, bool keep_alive,
                                   int64_t body_length);

/* True when a header name or value may be sent as is: no CR, LF or NUL
 * (and, for names, only token characters). */
bool vial_http_header_name_ok(const char *s, size_t n);
bool vial_http_header_value_ok(const char *s, size_t n);

/* The MIME type for a file name from the built-in table (extended by
 * /etc/mime.types when present), e.g. "text/html; charset=utf-8"; falls back
 * to "application/octet-stream". */
const char *vial_mime_type(const char *filename);

/* The same from the built-in table alone, as on a system without
 * /etc/mime.types (tests use it). */
const char *vial_mime_type_builtin(const char *filename);

#endif
