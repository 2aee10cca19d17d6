/* chunked.c - the chunked transfer coding of request bodies (RFC 9112 7.1).
 *
 * A byte-at-a-time state machine for the framing and a memmove for the data,
 * working in place: decoded bytes are moved to the front of the caller's
 * buffer, so the server needs no second buffer and the app's body reader sees
 * plain bytes. The decoder keeps no input between calls, only its state, so
 * the bytes may arrive split anywhere (inside a size, an extension, a CRLF).
 *
 * Strict where request smuggling lives: sizes are 1*HEXDIG only (no sign, no
 * 0x, no whitespace before), checked for overflow; BWS is allowed only before
 * ';' as the grammar says; chunk extensions must be well-formed (token names,
 * token or quoted-string values) but are otherwise ignored; every CRLF must
 * be exactly CRLF. The size line (with extensions) is bounded by
 * MAX_SIZE_LINE and the trailer section by MAX_TRAILER_BYTES; trailer fields
 * are checked like header fields and then dropped (we never merge them into
 * the header list, RFC 9110 6.5.1). */
#include <string.h>

#include "http/chars.h"
#include "http/parser.h"

#define MAX_SIZE_LINE 4096
#define MAX_TRAILER_BYTES 16384

enum {
    S_SIZE_START = 0, /* zero-initialized decoders start here */
    S_SIZE,
    S_SIZE_BWS,       /* whitespace after the size or a value: only more of it or ';' may follow */
    S_EXT_NAME_START, /* after ';': BWS, then the name */
    S_EXT_NAME,
    S_EXT_NAME_BWS, /* whitespace after a name: '=' or ';' must follow */
    S_EXT_VALUE_START,
    S_EXT_TOKEN_VALUE,
    S_EXT_QUOTED,
    S_EXT_QUOTED_PAIR,
    S_EXT_QUOTED_END,
    S_SIZE_LF,
    S_DATA,
    S_DATA_CR,
    S_DATA_LF,
    S_TRAILER_START,
    S_TRAILER_NAME,
    S_TRAILER_VALUE,
    S_TRAILER_LF,
    S_END_LF,
    S_DONE,
    S_ERROR,
};

static bool is_ws(char c) { return c == ' ' || c == '\t'; }

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* qdtext and quoted-pair's second byte (RFC 9110 5.6.4). */
static bool qdtext(unsigned char c) { return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c != 0x5c && c != 0x7f); }
static bool pair_char(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7f); }

/* One framing byte; returns the next state (S_ERROR when malformed). */
static int step(vial_chunked_decoder *d, int state, char c) {
    bool token = VIAL_HTTP_CLS(c) & VIAL_C_TOKEN;
    switch (state) {
    case S_SIZE_START:
    case S_SIZE: {
        int h = hex_value(c);
        if (h >= 0) {
            if (d->remaining > ((uint64_t)INT64_MAX >> 4)) return S_ERROR;
            d->remaining = d->remaining << 4 | (uint64_t)h;
            return S_SIZE;
        }
        if (state == S_SIZE_START) return S_ERROR;
        if (c == '\r') return S_SIZE_LF;
        if (c == ';') return S_EXT_NAME_START;
        return is_ws(c) ? S_SIZE_BWS : S_ERROR;
    }
    case S_SIZE_BWS:
        if (c == ';') return S_EXT_NAME_START;
        return is_ws(c) ? S_SIZE_BWS : S_ERROR;
    case S_EXT_NAME_START:
        if (is_ws(c)) return S_EXT_NAME_START;
        return token ? S_EXT_NAME : S_ERROR;
    case S_EXT_NAME:
        if (token) return S_EXT_NAME;
        __attribute__((fallthrough)); /* what may follow a name */
    case S_EXT_NAME_BWS:
        if (c == '=') return S_EXT_VALUE_START;
        if (c == ';') return S_EXT_NAME_START;
        if (is_ws(c)) return S_EXT_NAME_BWS;
        if (c == '\r' && state == S_EXT_NAME) return S_SIZE_LF;
        return S_ERROR;
    case S_EXT_VALUE_START:
        if (is_ws(c)) return S_EXT_VALUE_START;
        if (c == '"') return S_EXT_QUOTED;
        return token ? S_EXT_TOKEN_VALUE : S_ERROR;
    case S_EXT_TOKEN_VALUE:
        if (token) return S_EXT_TOKEN_VALUE;
        __attribute__((fallthrough)); /* what may follow a value */
    case S_EXT_QUOTED_END:
        if (c == ';') return S_EXT_NAME_START;
        if (c == '\r') return S_SIZE_LF;
        return is_ws(c) ? S_SIZE_BWS : S_ERROR;
    case S_EXT_QUOTED:
        if (c == '"') return S_EXT_QUOTED_END;
        if (c == '\\') return S_EXT_QUOTED_PAIR;
        return qdtext((unsigned char)c) ? S_EXT_QUOTED : S_ERROR;
    case S_EXT_QUOTED_PAIR:
        return pair_char((unsigned char)c) ? S_EXT_QUOTED : S_ERROR;
    case S_SIZE_LF:
        if (c != '\n') return S_ERROR;
        d->line_bytes = 0;
        return d->remaining ? S_DATA : S_TRAILER_START;
    case S_DATA_CR:
        return c == '\r' ? S_DATA_LF : S_ERROR;
    case S_DATA_LF:
        return c == '\n' ? S_SIZE_START : S_ERROR;
    case S_TRAILER_START:
        if (c == '\r') return S_END_LF;
        return token ? S_TRAILER_NAME : S_ERROR; /* SP/HTAB here would be obs-fold */
    case S_TRAILER_NAME:
        if (token) return S_TRAILER_NAME;
        return c == ':' ? S_TRAILER_VALUE : S_ERROR;
    case S_TRAILER_VALUE:
        if (c == '\r') return S_TRAILER_LF;
        return (VIAL_HTTP_CLS(c) & VIAL_C_VALUE) ? S_TRAILER_VALUE : S_ERROR;
    case S_TRAILER_LF:
        return c == '\n' ? S_TRAILER_START : S_ERROR;
    case S_END_LF:
        return c == '\n' ? S_DONE : S_ERROR;
    default:
        return S_ERROR;
    }
}

ssize_t vial_chunked_decode(vial_chunked_decoder *d, char *buf, size_t *len) {
    char *out = buf;
    const char *in = buf, *end = buf + *len;
    int state = d->state;
    if (state == S_DONE) { /* the body already ended: everything is what follows it */
        *len = 0;
        return end - in;
    }
    while (in < end && state != S_ERROR) {
        if (state == S_DATA) {
            size_t n = (size_t)(end - in);
            if (n > d->remaining) n = (size_t)d->remaining;
            if (out != in) memmove(out, in, n);
            out += n;
            in += n;
            d->remaining -= n;
            if (d->remaining == 0) state = S_DATA_CR;
            continue;
        }
        if (state >= S_TRAILER_START) {
            if (++d->trailer_bytes > MAX_TRAILER_BYTES) state = S_ERROR;
        } else if (state < S_DATA) {
            if (++d->line_bytes > MAX_SIZE_LINE) state = S_ERROR;
        }
        if (state == S_ERROR) break;
        state = step(d, state, *in++);
        if (state == S_DONE) break;
    }
    d->state = state;
    *len = (size_t)(out - buf);
    if (state == S_ERROR) return -1;
    if (state != S_DONE) return -2;
    size_t rest = (size_t)(end - in);
    if (rest && out != in) memmove(out, in, rest);
    return (ssize_t)rest;
}
