/* writer.c - the response head: status line, headers, framing (RFC 9112 4, 6).
 *
 * Called once per response, so it is built for the common case: one exact
 * size computation, one reserve, then memcpy of the fixed parts straight into the
 * buffer (no printf). The framing headers are the writer's alone: the app's
 * own Content-Length, Transfer-Encoding and Connection fields are dropped
 * (except on 1xx, where the app speaks for itself, e.g. 101 Upgrade), so a
 * handler cannot make the response disagree with the bytes the server
 * sends. An app's Date or Server replaces ours. Names, values and a custom
 * reason are checked again here, so nothing reaches the wire that could
 * split a response. */
#include <string.h>
#include <strings.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "http/chars.h"
#include "http/parser.h"

bool vial_http_header_name_ok(const char *s, size_t n) {
    if (n == 0) return false;
    for (size_t i = 0; i < n; i++)
        if (!(VIAL_HTTP_CLS(s[i]) & VIAL_C_TOKEN)) return false;
    return true;
}

bool vial_http_header_value_ok(const char *s, size_t n) {
    size_t i = 0;
#ifdef __SSE2__
    const __m128i space = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7f), tab = _mm_set1_epi8('\t');
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        __m128i ctl = _mm_andnot_si128(_mm_cmplt_epi8(v, _mm_setzero_si128()), _mm_cmplt_epi8(v, space));
        ctl = _mm_andnot_si128(_mm_cmpeq_epi8(v, tab), ctl);
        if (_mm_movemask_epi8(_mm_or_si128(ctl, _mm_cmpeq_epi8(v, del)))) return false;
    }
#endif
    for (; i < n; i++)
        if (!(VIAL_HTTP_CLS(s[i]) & VIAL_C_VALUE)) return false;
    return true;
}

bool vial_http_response_keep_alive(const vial_http_response *res, int version_minor, bool keep_alive,
                                   int64_t body_length) {
    if (!keep_alive || res->close) return false;
    /* An HTTP/1.0 client learns where a body of unknown length ends only
     * from the connection closing. */
    if (version_minor == 0 && body_length < 0 && !res->head && vial_http_status_has_body(res->status)) return false;
    return true;
}

/* The framing and per-server fields, as the writer adds them. */
enum { F_OTHER, F_FRAMING, F_DATE, F_SERVER };

static int field_kind(const vial_str *name) {
    const char *s = name->ptr;
    switch (name->len) {
    case 4: return strncasecmp(s, "date", 4) == 0 ? F_DATE : F_OTHER;
    case 6: return strncasecmp(s, "server", 6) == 0 ? F_SERVER : F_OTHER;
    case 10: return strncasecmp(s, "connection", 10) == 0 ? F_FRAMING : F_OTHER;
    case 14: return strncasecmp(s, "content-length", 14) == 0 ? F_FRAMING : F_OTHER;
    case 17: return strncasecmp(s, "transfer-encoding", 17) == 0 ? F_FRAMING : F_OTHER;
    default: return F_OTHER;
    }
}

static char *put(char *w, const char *s, size_t n) {
    memcpy(w, s, n);
    return w + n;
}

#define PUT_LIT(w, lit) put((w), (lit), sizeof(lit) - 1)

int vial_http_write_head(vial_buf *out, const vial_http_response *res, int version_minor, bool keep_alive,
                         int64_t body_length, const char *server_name) {
    int status = res->status;
    if (status < 100 || status > 999) return -1;
    const char *reason = res->reason;
    size_t reason_len;
    if (reason) {
        reason_len = strlen(reason);
        if (!vial_http_header_value_ok(reason, reason_len)) return -1;
    } else {
        reason = vial_http_reason(status);
        if (!reason) reason = "Unknown";
        reason_len = strlen(reason);
    }
    bool informational = status < 200;
    bool has_body = vial_http_status_has_body(status);
    bool alive = vial_http_response_keep_alive(res, version_minor, keep_alive, body_length);
    size_t server_len = server_name ? strlen(server_name) : 0;

    /* Size everything first: one reserve, then plain stores. */
    bool app_date = false, app_server = false;
    size_t need = sizeof "HTTP/1.1 000 \r\n" - 1 + reason_len;
    for (size_t i = 0; i < res->header_count; i++) {
        const vial_http_header *h = &res->headers[i];
        if (!vial_http_header_name_ok(h->name.ptr, h->name.len) || !vial_http_header_value_ok(h->value.ptr, h->value.len))
            return -1;
        if (!informational) {
            int kind = field_kind(&h->name);
            if (kind == F_FRAMING) continue;
            app_date |= kind == F_DATE;
            app_server |= kind == F_SERVER;
        }
        need += h->name.len + 2 + h->value.len + 2;
    }
    char length_digits[20];
    size_t length_len = 0;
    if (!informational) {
        if (!app_date) need += sizeof "Date: \r\n" - 1 + 29;
        if (server_len && !app_server) need += sizeof "Server: \r\n" - 1 + server_len;
        if (has_body && body_length >= 0) {
            uint64_t v = (uint64_t)body_length;
            do {
                length_digits[sizeof length_digits - 1 - length_len++] = (char)('0' + v % 10);
                v /= 10;
            } while (v);
            need += sizeof "Content-Length: \r\n" - 1 + length_len;
        } else if (has_body && version_minor >= 1) {
            need += sizeof "Transfer-Encoding: chunked\r\n" - 1;
        }
        if (!alive)
            need += sizeof "Connection: close\r\n" - 1;
        else if (version_minor == 0)
            need += sizeof "Connection: keep-alive\r\n" - 1;
    }
    need += 2;
    if (vial_buf_reserve(out, need) != 0) return -1;

    char *w = out->data + out->len;
    w = PUT_LIT(w, "HTTP/1.1 ");
    *w++ = (char)('0' + status / 100);
    *w++ = (char)('0' + status / 10 % 10);
    *w++ = (char)('0' + status % 10);
    *w++ = ' ';
    w = put(w, reason, reason_len);
    w = PUT_LIT(w, "\r\n");
    for (size_t i = 0; i < res->header_count; i++) {
        const vial_http_header *h = &res->headers[i];
        if (!informational && field_kind(&h->name) == F_FRAMING) continue;
        w = put(w, h->name.ptr, h->name.len);
        w = PUT_LIT(w, ": ");
        w = put(w, h->value.ptr, h->value.len);
        w = PUT_LIT(w, "\r\n");
    }
    if (!informational) {
        if (!app_date) {
            w = PUT_LIT(w, "Date: ");
            w = put(w, vial_http_date_now(), 29);
            w = PUT_LIT(w, "\r\n");
        }
        if (server_len && !app_server) {
            w = PUT_LIT(w, "Server: ");
            w = put(w, server_name, server_len);
            w = PUT_LIT(w, "\r\n");
        }
        if (has_body) {
            if (body_length >= 0) {
                w = PUT_LIT(w, "Content-Length: ");
                w = put(w, length_digits + sizeof length_digits - length_len, length_len);
                w = PUT_LIT(w, "\r\n");
            } else if (version_minor >= 1) {
                w = PUT_LIT(w, "Transfer-Encoding: chunked\r\n");
            }
        }
        if (!alive)
            w = PUT_LIT(w, "Connection: close\r\n");
        else if (version_minor == 0)
            w = PUT_LIT(w, "Connection: keep-alive\r\n");
    }
    w = PUT_LIT(w, "\r\n");
    /* need was exact: the head ends where the reserve said it would */
    out->len = (size_t)(w - out->data);
    out->data[out->len] = '\0';
    return 0;
}
