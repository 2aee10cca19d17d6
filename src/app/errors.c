/* errors.c - the default error pages, byte for byte Werkzeug's.
 *
 * A Flask app that never registers an error handler answers 404, 405, 500...
 * with Werkzeug's small HTML page; clients and tests that look at those
 * bodies see the same bytes from vial. The description is HTML-escaped the
 * way MarkupSafe does it, with newlines turned into <br>. */
#include <string.h>

#include "app/app.h"
#include "http/parser.h"

static const struct {
    int code;
    const char *description;
} descriptions[] = {
    {400, "The browser (or proxy) sent a request that this server could not understand."},
    {401, "The server could not verify that you are authorized to access the URL requested. You either supplied the wrong credentials (e.g. a bad password), or your browser doesn't understand how to supply the credentials required."},
    {403, "You don't have the permission to access the requested resource. It is either read-protected or not readable by the server."},
    {404, "The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again."},
    {405, "The method is not allowed for the requested URL."},
    {406, "The resource identified by the request is only capable of generating response entities which have content characteristics not acceptable according to the accept headers sent in the request."},
    {408, "The server closed the network connection because the browser didn't finish the request within the specified time."},
    {409, "A conflict happened while processing the request. The resource might have been modified while the request was being processed."},
    {410, "The requested URL is no longer available on this server and there is no forwarding address. If you followed a link from a foreign page, please contact the author of this page."},
    {411, "A request with this method requires a valid <code>Content-Length</code> header."},
    {412, "The precondition on the request for the URL failed positive evaluation."},
    {413, "The data value transmitted exceeds the capacity limit."},
    {414, "The length of the requested URL exceeds the capacity limit for this server. The request cannot be processed."},
    {415, "The server does not support the media type transmitted in the request."},
    {416, "The server cannot provide the requested range."},
    {417, "The server could not meet the requirements of the Expect header"},
    {418, "This server is a teapot, not a coffee machine"},
    {422, "The request was well-formed but was unable to be followed due to semantic errors."},
    {423, "The resource that is being accessed is locked."},
    {424, "The method could not be performed on the resource because the requested action depended on another action and that action failed."},
    {428, "This request is required to be conditional; try using \"If-Match\" or \"If-Unmodified-Since\"."},
    {429, "This user has exceeded an allotted request count. Try again later."},
    {431, "One or more header fields exceeds the maximum size."},
    {451, "Unavailable for legal reasons."},
    {500, "The server encountered an internal error and was unable to complete your request. Either the server is overloaded or there is an error in the application."},
    {501, "The server does not support the action requested by the browser."},
    {502, "The proxy server received an invalid response from an upstream server."},
    {503, "The server is temporarily unable to service your request due to maintenance downtime or capacity problems. Please try again later."},
    {504, "The connection to an upstream server timed out."},
    {505, "The server does not support the HTTP protocol version used in the request."},
};

const char *app_error_description(int code) {
    for (size_t i = 0; i < sizeof descriptions / sizeof descriptions[0]; i++)
        if (descriptions[i].code == code) return descriptions[i].description;
    return NULL;
}

/* MarkupSafe's escape, plus "\n" → "<br>" as Werkzeug's get_description. */
static void append_escaped(vial_buf *b, const char *s, bool newlines_to_br) {
    for (; *s; s++) {
        switch (*s) {
        case '&': vial_buf_puts(b, "&amp;"); break;
        case '<': vial_buf_puts(b, "&lt;"); break;
        case '>': vial_buf_puts(b, "&gt;"); break;
        case '"': vial_buf_puts(b, "&#34;"); break;
        case '\'': vial_buf_puts(b, "&#39;"); break;
        case '\n':
            if (newlines_to_br) {
                vial_buf_puts(b, "<br>");
                break;
            }
            /* fallthrough */
        default: vial_buf_putc(b, *s);
        }
    }
}

void app_default_error_page(vial_res *rs, int code, const char *description) {
    const char *name = rs->http->reason ? rs->http->reason : vial_http_reason(code);
    if (!name) name = "Unknown Error";
    if (!description) description = app_error_description(code);
    vial_buf *b = &rs->body;
    vial_buf_reset(b);
    vial_buf_printf(b, "<!doctype html>\n<html lang=en>\n<title>%d ", code);
    append_escaped(b, name, false);
    vial_buf_puts(b, "</title>\n<h1>");
    append_escaped(b, name, false);
    vial_buf_puts(b, "</h1>\n");
    if (description) {
        vial_buf_puts(b, "<p>");
        append_escaped(b, description, true);
        vial_buf_puts(b, "</p>\n");
    }
    rs->http->body_kind = VIAL_BODY_BYTES;
    vial_content_type_set(rs, "text/html; charset=utf-8");
}

/* Debug mode's page for a server error: what failed, where vial_abort was
 * called, and the request, so the developer does not have to go to the log.
 * Never shown without DEBUG: it exposes internals. */
void app_debug_error_page(vial_req *rq, vial_res *rs, int code) {
    vial_buf *b = &rs->body;
    const char *name = rs->http->reason ? rs->http->reason : vial_http_reason(code);
    if (!name) name = "Unknown Error";
    vial_buf_reset(b);
    vial_buf_printf(b, "<!doctype html>\n<html lang=en>\n<title>%d ", code);
    append_escaped(b, name, false);
    vial_buf_puts(b, " // vial debug</title>\n<style>body{font-family:sans-serif;margin:2em}"
                     "pre,code{background:#f4f4f4;padding:2px 4px}th{text-align:left;padding-right:1em}</style>\n<h1>");
    append_escaped(b, name, false);
    vial_buf_puts(b, "</h1>\n<p>");
    const char *what = rq->abort_description ? rq->abort_description : app_error_description(code);
    append_escaped(b, what ? what : "", true);
    vial_buf_puts(b, "</p>\n");
    if (rq->abort_detail) {
        vial_buf_puts(b, "<pre>");
        append_escaped(b, rq->abort_detail, false);
        vial_buf_puts(b, "</pre>\n");
    }
    if (rq->abort_file) {
        vial_buf_printf(b, "<h2>Where</h2>\n<p><code>vial_abort(%d)</code> in <code>", code);
        append_escaped(b, rq->abort_func ? rq->abort_func : "?", false);
        vial_buf_puts(b, "()</code> at <code>");
        append_escaped(b, rq->abort_file, false);
        vial_buf_printf(b, ":%d</code></p>\n", rq->abort_line);
    }
    vial_buf_puts(b, "<h2>Request</h2>\n<table>\n<tr><th>method<td>");
    append_escaped(b, vial_method(rq), false);
    vial_buf_puts(b, "\n<tr><th>url<td>");
    append_escaped(b, vial_url(rq), false);
    vial_buf_puts(b, "\n<tr><th>endpoint<td>");
    append_escaped(b, vial_endpoint(rq) ? vial_endpoint(rq) : "(none)", false);
    if (rq->view_args) {
        char *args = vial_json_encode(rq->arena, rq->view_args, VIAL_JSON_SPACED, NULL);
        vial_buf_puts(b, "\n<tr><th>view args<td>");
        append_escaped(b, args ? args : "", false);
    }
    vial_buf_puts(b, "\n<tr><th>remote addr<td>");
    append_escaped(b, vial_remote_addr(rq), false);
    vial_buf_puts(b, "\n</table>\n<h2>Headers</h2>\n<pre>");
    const vial_http_request *r = &rq->ex->req;
    for (size_t i = 0; i < r->header_count; i++) {
        char *line = vial_arena_sprintf(rq->arena, "%.*s: %.*s\n", (int)r->headers[i].name.len, r->headers[i].name.ptr,
                                        (int)r->headers[i].value.len, r->headers[i].value.ptr);
        append_escaped(b, line ? line : "", false);
    }
    vial_buf_puts(b, "</pre>\n");
    rs->http->body_kind = VIAL_BODY_BYTES;
    vial_content_type_set(rs, "text/html; charset=utf-8");
}
