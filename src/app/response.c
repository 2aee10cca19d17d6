/* response.c - building the response: status, headers, body, JSON,
 * redirects, streams.
 *
 * A handler writes into a vial_res; nothing is sent until it returns, so
 * hooks (after_request) can still change everything. Headers are validated
 * as they are set: a CR, LF or NUL in a name or value is refused (logged, the
 * call returns -1) so no request data can ever split a response. The body is
 * an arena buffer with the app's output limit; JSON and redirect bodies are
 * byte for byte what Flask/Werkzeug send. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "app/app.h"
#include "http/parser.h"

#define RESPONSE_BODY_MAX ((size_t)1 << 31)

void res_init(vial_res *rs, vial_req *rq, vial_http_response *http) {
    rs->rq = rq;
    rs->http = http;
    rs->content_type_set = false;
    memset(http, 0, sizeof *http);
    http->status = 200;
    http->file_fd = -1;
    vial_buf_init(&rs->body, rq->arena, RESPONSE_BODY_MAX);
}

void res_clear(vial_res *rs) {
    vial_http_response *h = rs->http;
    h->header_count = 0;
    h->body_kind = VIAL_BODY_NONE;
    h->reason = NULL;
    h->stream = NULL;
    h->file_fd = -1;
    rs->content_type_set = false;
    vial_buf_reset(&rs->body);
}

void res_finalize(vial_res *rs) {
    vial_http_response *h = rs->http;
    if (h->body_kind == VIAL_BODY_NONE || h->body_kind == VIAL_BODY_BYTES) {
        h->body_kind = VIAL_BODY_BYTES;
        h->body.ptr = rs->body.data ? rs->body.data : "";
        h->body.len = rs->body.len;
    }
    if (!rs->content_type_set && vial_http_status_has_body(h->status))
        res_set_content_type_static(rs, "text/html; charset=utf-8");
}

void vial_status(vial_res *rs, int code) {
    rs->http->status = code;
    rs->http->reason = NULL;
}

void vial_status_reason(vial_res *rs, int code, const char *reason) {
    rs->http->status = code;
    if (reason && vial_http_header_value_ok(reason, strlen(reason)))
        rs->http->reason = vial_arena_strdup(rs->rq->arena, reason);
    else
        rs->http->reason = NULL;
}

int vial_res_status(const vial_res *rs) { return rs->http->status; }

static int header_checked(const char *name, const char *value) {
    if (!name || !value || !vial_http_header_name_ok(name, strlen(name)) ||
        !vial_http_header_value_ok(value, strlen(value))) {
        vial_log(VIAL_LOG_ERROR, "refused response header %s: CR, LF, NUL or an invalid name character",
                 name && vial_http_header_name_ok(name, strlen(name)) ? name : "(invalid name)");
        return -1;
    }
    return 0;
}

static int append_header(vial_res *rs, const char *name, const char *value) {
    vial_http_response *h = rs->http;
    if (h->header_count == h->header_cap) {
        size_t cap = h->header_cap ? h->header_cap * 2 : 8;
        vial_http_header *hs = vial_arena_grow(rs->rq->arena, h->headers, h->header_cap * sizeof *hs, cap * sizeof *hs);
        if (!hs) return -1;
        h->headers = hs;
        h->header_cap = cap;
    }
    size_t nl = strlen(name), vl = strlen(value);
    char *n = vial_arena_strndup(rs->rq->arena, name, nl);
    char *v = vial_arena_strndup(rs->rq->arena, value, vl);
    if (!n || !v) return -1;
    h->headers[h->header_count++] = (vial_http_header){{n, nl}, {v, vl}};
    if (nl == 12 && strcasecmp(name, "Content-Type") == 0) rs->content_type_set = true;
    return 0;
}

int vial_remove_header(vial_res *rs, const char *name) {
    vial_http_response *h = rs->http;
    size_t nl = strlen(name), out = 0;
    int removed = 0;
    for (size_t i = 0; i < h->header_count; i++) {
        if (h->headers[i].name.len == nl && strncasecmp(h->headers[i].name.ptr, name, nl) == 0) {
            removed++;
            continue;
        }
        h->headers[out++] = h->headers[i];
    }
    h->header_count = out;
    if (removed && nl == 12 && strcasecmp(name, "Content-Type") == 0) rs->content_type_set = false;
    return removed;
}

int vial_set_header(vial_res *rs, const char *name, const char *value) {
    if (header_checked(name, value) != 0) return -1;
    vial_remove_header(rs, name);
    return append_header(rs, name, value);
}

int vial_add_header(vial_res *rs, const char *name, const char *value) {
    if (header_checked(name, value) != 0) return -1;
    return append_header(rs, name, value);
}

const char *vial_get_header(const vial_res *rs, const char *name) {
    const vial_http_response *h = rs->http;
    size_t nl = strlen(name);
    for (size_t i = 0; i < h->header_count; i++)
        if (h->headers[i].name.len == nl && strncasecmp(h->headers[i].name.ptr, name, nl) == 0)
            return h->headers[i].value.ptr;
    return NULL;
}

int vial_content_type_set(vial_res *rs, const char *mimetype) { return vial_set_header(rs, "Content-Type", mimetype); }

/* Content-Type from a string that outlives the request (a literal, or the
 * app's config): no validation or copy, which matters on the hot path. */
void res_set_content_type_static(vial_res *rs, const char *mimetype) {
    if (rs->content_type_set) vial_remove_header(rs, "Content-Type");
    vial_http_response *h = rs->http;
    if (h->header_count == h->header_cap) {
        size_t cap = h->header_cap ? h->header_cap * 2 : 8;
        vial_http_header *hs = vial_arena_grow(rs->rq->arena, h->headers, h->header_cap * sizeof *hs, cap * sizeof *hs);
        if (!hs) vial_abort(rs->rq, 500);
        h->headers = hs;
        h->header_cap = cap;
    }
    h->headers[h->header_count++] = (vial_http_header){VIAL_STR("Content-Type"), {mimetype, strlen(mimetype)}};
    rs->content_type_set = true;
}

static void body_failed(vial_res *rs) {
    vial_log(VIAL_LOG_ERROR, "response body over its limit or out of memory");
    vial_abort(rs->rq, 500);
}

static void set_body(vial_res *rs, const void *data, size_t n) {
    vial_buf_reset(&rs->body);
    rs->http->body_kind = VIAL_BODY_BYTES;
    if (vial_buf_append(&rs->body, data, n) != 0) body_failed(rs);
}

void vial_text(vial_res *rs, const char *text) {
    set_body(rs, text ? text : "", text ? strlen(text) : 0);
    res_set_content_type_static(rs, "text/plain; charset=utf-8");
}

void vial_html(vial_res *rs, const char *html) {
    set_body(rs, html ? html : "", html ? strlen(html) : 0);
    res_set_content_type_static(rs, "text/html; charset=utf-8");
}

void vial_body(vial_res *rs, const void *data, size_t n, const char *mimetype) {
    set_body(rs, data, n);
    if (mimetype)
        vial_content_type_set(rs, mimetype);
    else
        res_set_content_type_static(rs, "application/octet-stream");
}

void vial_write(vial_res *rs, const void *data, size_t n) {
    rs->http->body_kind = VIAL_BODY_BYTES;
    if (vial_buf_append(&rs->body, data, n) != 0) body_failed(rs);
}

void vial_printf(vial_res *rs, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    rs->http->body_kind = VIAL_BODY_BYTES;
    int rc = vial_buf_vprintf(&rs->body, fmt, ap);
    va_end(ap);
    if (rc != 0) body_failed(rs);
}

vial_str vial_res_body(const vial_res *rs) {
    return (vial_str){rs->body.data ? rs->body.data : "", rs->body.len};
}

void vial_jsonify(vial_res *rs, const vial_value *value) {
    const app_settings *st = app_settings_get(rs->rq->app);
    int flags = 0;
    if (st->json_sort_keys) flags |= VIAL_JSON_SORT_KEYS;
    if (st->json_as_ascii) flags |= VIAL_JSON_ASCII;
    if (st->json_pretty) flags |= VIAL_JSON_INDENT(2);
    vial_buf_reset(&rs->body);
    rs->http->body_kind = VIAL_BODY_BYTES;
    if (vial_json_write(&rs->body, value, flags) != 0 || vial_buf_putc(&rs->body, '\n') != 0) body_failed(rs);
    res_set_content_type_static(rs, st->json_mimetype);
}

/* Werkzeug's iri_to_uri(safe_conversion=True): a location that is already
 * plain ASCII without spaces is kept; otherwise non-ASCII bytes, spaces and
 * controls are percent-encoded so the header is valid. */
static const char *iri_to_uri(vial_arena *a, const char *location) {
    bool plain = true;
    for (const unsigned char *p = (const unsigned char *)location; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f) plain = false;
    if (plain) return location;
    vial_buf b;
    vial_buf_init(&b, a, 0);
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)location; *p; p++) {
        if (*p <= 0x20 || *p >= 0x7f) {
            char enc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            vial_buf_append(&b, enc, 3);
        } else {
            vial_buf_putc(&b, *p);
        }
    }
    return vial_buf_cstr(&b);
}

static void append_html_escaped(vial_buf *b, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '&': vial_buf_puts(b, "&amp;"); break;
        case '<': vial_buf_puts(b, "&lt;"); break;
        case '>': vial_buf_puts(b, "&gt;"); break;
        case '"': vial_buf_puts(b, "&#34;"); break;
        case '\'': vial_buf_puts(b, "&#39;"); break;
        default: vial_buf_putc(b, *s);
        }
    }
}

void vial_redirect(vial_res *rs, const char *location, int code) {
    if (!location) location = "/";
    if (code == 0) code = 302;
    const char *uri = iri_to_uri(rs->rq->arena, location);
    vial_status(rs, code);
    if (vial_set_header(rs, "Location", uri) != 0) {
        vial_abort_msg(rs->rq, 500, "redirect target contains characters that cannot be sent");
    }
    vial_buf *b = &rs->body;
    vial_buf_reset(b);
    rs->http->body_kind = VIAL_BODY_BYTES;
    vial_buf_puts(b, "<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n<h1>Redirecting...</h1>\n"
                     "<p>You should be redirected automatically to the target URL: <a href=\"");
    append_html_escaped(b, uri);
    vial_buf_puts(b, "\">");
    append_html_escaped(b, uri);
    vial_buf_puts(b, "</a>. If not, click the link.\n");
    vial_content_type_set(rs, "text/html; charset=utf-8");
}

void vial_stream(vial_res *rs, int (*next)(void *ctx, vial_str *chunk), void *ctx, const char *mimetype) {
    rs->http->body_kind = VIAL_BODY_STREAM;
    rs->http->stream = next;
    rs->http->stream_ctx = ctx;
    vial_buf_reset(&rs->body);
    vial_content_type_set(rs, mimetype ? mimetype : "text/html; charset=utf-8");
}

void vial_res_close(vial_res *rs) { rs->http->close = true; }
