/* test_client.c - app.test_client(): requests through the whole dispatch,
 * in-process, no sockets.
 *
 * Each request gets a vial_exchange built in memory (the same struct the
 * server builds from a connection) and runs through app_dispatch, hooks,
 * sessions and error handlers included; the response (bytes, a file, or a
 * stream drained to the end) is copied into the client's arena so it stays
 * readable until the client is freed. A cookie jar carries Set-Cookie from
 * one request to the next, the way Flask's client does. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "app/app.h"
#include "http/parser.h"

typedef struct jar_cookie {
    char *name, *value;
} jar_cookie;

struct vial_client {
    vial_app *app;
    vial_arena *arena; /* responses and the jar */
    jar_cookie cookies[64];
    size_t cookie_count;
};

typedef struct memory_body {
    const char *data;
    size_t len, pos;
} memory_body;

static ssize_t memory_read(void *ctx, char *dst, size_t n) {
    memory_body *m = ctx;
    size_t left = m->len - m->pos;
    if (n > left) n = left;
    memcpy(dst, m->data + m->pos, n);
    m->pos += n;
    return (ssize_t)n;
}

vial_client *vial_test_client(vial_app *app) {
    vial_client *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->app = app;
    c->arena = vial_arena_new(64 * 1024);
    if (!c->arena) {
        free(c);
        return NULL;
    }
    return c;
}

void vial_client_free(vial_client *c) {
    if (!c) return;
    vial_arena_free(c->arena);
    free(c);
}

const char *vial_client_cookie(vial_client *c, const char *name) {
    for (size_t i = 0; i < c->cookie_count; i++)
        if (strcmp(c->cookies[i].name, name) == 0) return c->cookies[i].value;
    return NULL;
}

static void jar_delete(vial_client *c, const char *name) {
    for (size_t i = 0; i < c->cookie_count; i++)
        if (strcmp(c->cookies[i].name, name) == 0) {
            c->cookies[i] = c->cookies[--c->cookie_count];
            return;
        }
}

void vial_client_set_cookie(vial_client *c, const char *name, const char *value) {
    for (size_t i = 0; i < c->cookie_count; i++)
        if (strcmp(c->cookies[i].name, name) == 0) {
            c->cookies[i].value = vial_arena_strdup(c->arena, value);
            return;
        }
    if (c->cookie_count < sizeof c->cookies / sizeof c->cookies[0])
        c->cookies[c->cookie_count++] =
            (jar_cookie){vial_arena_strdup(c->arena, name), vial_arena_strdup(c->arena, value)};
}

/* Reads "name=value; Attr; Max-Age=0; Expires=..." into the jar. */
static void jar_store(vial_client *c, const char *line) {
    const char *semi = strchr(line, ';');
    size_t pair_len = semi ? (size_t)(semi - line) : strlen(line);
    const char *eq = memchr(line, '=', pair_len);
    if (!eq) return;
    char *name = vial_arena_strndup(c->arena, line, (size_t)(eq - line));
    char *value = vial_arena_strndup(c->arena, eq + 1, pair_len - (size_t)(eq - line) - 1);
    bool expired = false;
    for (const char *p = semi; p && *p;) {
        p++;
        while (*p == ' ') p++;
        if (strncasecmp(p, "Max-Age=", 8) == 0 && atol(p + 8) <= 0) expired = true;
        if (strncasecmp(p, "Expires=", 8) == 0) {
            const char *end = strchr(p, ';');
            size_t n = end ? (size_t)(end - p - 8) : strlen(p + 8);
            time_t t = vial_http_date_parse(p + 8, n);
            if (t != (time_t)-1 && t < time(NULL)) expired = true;
        }
        p = strchr(p, ';');
    }
    if (expired)
        jar_delete(c, name);
    else
        vial_client_set_cookie(c, name, value);
}

static void add_header(vial_arena *a, vial_http_header *hs, size_t *n, const char *name, const char *value) {
    hs[(*n)++] = (vial_http_header){{vial_arena_strdup(a, name), strlen(name)}, {vial_arena_strdup(a, value), strlen(value)}};
}

static const char *multipart_body(vial_arena *a, const vial_client_opts *o, size_t *len, const char **ctype) {
    const char *boundary = "----vialTestBoundary7MA4YWxkTrZu0gW";
    vial_buf b;
    vial_buf_init(&b, a, 0);
    /* Form fields first, from the urlencoded text (already-encoded values are sent as is). */
    if (o->form && *o->form) {
        const char *p = o->form;
        while (*p) {
            const char *amp = strchr(p, '&');
            size_t n = amp ? (size_t)(amp - p) : strlen(p);
            const char *eq = memchr(p, '=', n);
            size_t kn = eq ? (size_t)(eq - p) : n;
            char *key = app_url_unquote(a, p, kn);
            char *val = eq ? app_url_unquote(a, eq + 1, n - kn - 1) : "";
            vial_buf_printf(&b, "--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n", boundary, key, val);
            p += n;
            if (*p == '&') p++;
        }
    }
    for (const vial_client_file *f = o->files; f && f->field; f++) {
        vial_buf_printf(&b, "--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\nContent-Type: %s\r\n\r\n",
                        boundary, f->field, f->filename ? f->filename : "", f->content_type ? f->content_type : "application/octet-stream");
        vial_buf_append(&b, f->data, f->len);
        vial_buf_puts(&b, "\r\n");
    }
    vial_buf_printf(&b, "--%s--\r\n", boundary);
    *len = b.len;
    *ctype = vial_arena_sprintf(a, "multipart/form-data; boundary=%s", boundary);
    return vial_buf_cstr(&b);
}

static unsigned method_bit_of(const char *m) {
    unsigned bit = vial_methods(m);
    return (bit & (bit - 1)) == 0 ? bit : 0;
}

static vial_response *run_once(vial_client *c, const char *method, const char *path, const vial_client_opts *o) {
    vial_arena *ra = vial_arena_new(16 * 1024);
    vial_exchange ex;
    memset(&ex, 0, sizeof ex);
    ex.arena = ra;

    /* body */
    const char *body = NULL, *ctype = NULL;
    size_t body_len = 0;
    if (o->files) {
        body = multipart_body(ra, o, &body_len, &ctype);
    } else if (o->form) {
        body = o->form;
        body_len = strlen(body);
        ctype = "application/x-www-form-urlencoded";
    } else if (o->json) {
        body = o->json;
        body_len = strlen(body);
        ctype = "application/json";
    } else if (o->data) {
        body = o->data;
        body_len = o->data_len ? o->data_len : strlen(o->data);
    }
    if (o->content_type) ctype = o->content_type;

    /* request line pieces */
    vial_http_request *r = &ex.req;
    r->method = (vial_str){vial_arena_strdup(ra, method), strlen(method)};
    r->method_bit = method_bit_of(method);
    const char *q = strchr(path, '?');
    const char *extra_query = o->query;
    char *target;
    if (q && extra_query && *extra_query)
        target = vial_arena_sprintf(ra, "%s&%s", path, extra_query);
    else if (!q && extra_query && *extra_query)
        target = vial_arena_sprintf(ra, "%s?%s", path, extra_query);
    else
        target = vial_arena_strdup(ra, path);
    r->target = (vial_str){target, strlen(target)};
    q = strchr(target, '?');
    r->path = (vial_str){target, q ? (size_t)(q - target) : strlen(target)};
    r->query = q ? (vial_str){q + 1, strlen(q + 1)} : (vial_str){"", 0};
    r->version_minor = 1;
    r->keep_alive = true;
    r->content_length = body ? (int64_t)body_len : -1;

    /* headers */
    size_t max_headers = 16 + 64;
    vial_http_header *hs = vial_arena_calloc(ra, max_headers * sizeof *hs);
    size_t hn = 0;
    add_header(ra, hs, &hn, "Host", "localhost");
    add_header(ra, hs, &hn, "User-Agent", "vial-test-client/" VIAL_VERSION);
    if (ctype) add_header(ra, hs, &hn, "Content-Type", ctype);
    if (body) add_header(ra, hs, &hn, "Content-Length", vial_arena_sprintf(ra, "%zu", body_len));
    if (c->cookie_count) {
        vial_buf cb;
        vial_buf_init(&cb, ra, 0);
        for (size_t i = 0; i < c->cookie_count; i++) {
            if (i) vial_buf_puts(&cb, "; ");
            vial_buf_printf(&cb, "%s=%s", c->cookies[i].name, c->cookies[i].value);
        }
        add_header(ra, hs, &hn, "Cookie", vial_buf_cstr(&cb));
    }
    if (o->headers) {
        const char *p = o->headers;
        while (*p && hn < max_headers) {
            const char *nl = strchr(p, '\n');
            size_t n = nl ? (size_t)(nl - p) : strlen(p);
            const char *colon = memchr(p, ':', n);
            if (colon) {
                const char *v = colon + 1;
                while (*v == ' ') v++;
                size_t vn = n - (size_t)(v - p);
                while (vn && (v[vn - 1] == '\r' || v[vn - 1] == ' ')) vn--;
                char *name = vial_arena_strndup(ra, p, (size_t)(colon - p));
                char *value = vial_arena_strndup(ra, v, vn);
                /* A header the caller gives replaces the client's default of that name. */
                size_t k = 0;
                while (k < hn && strcasecmp(hs[k].name.ptr, name) != 0) k++;
                if (k < hn)
                    hs[k].value = (vial_str){value, vn};
                else
                    hs[hn++] = (vial_http_header){{name, strlen(name)}, {value, vn}};
            }
            p += n;
            if (*p == '\n') p++;
        }
    }
    r->headers = hs;
    r->header_count = hn;
    r->host = hs[0].value;

    memory_body mb = {body ? body : "", body_len, 0};
    ex.body.read = memory_read;
    ex.body.ctx = &mb;

    struct sockaddr_in remote = {.sin_family = AF_INET, .sin_port = htons(40000)};
    struct sockaddr_in local = {.sin_family = AF_INET, .sin_port = htons(80)};
    inet_pton(AF_INET, o->remote_addr ? o->remote_addr : "127.0.0.1", &remote.sin_addr);
    inet_pton(AF_INET, "127.0.0.1", &local.sin_addr);
    ex.remote = (const struct sockaddr *)&remote;
    ex.local = (const struct sockaddr *)&local;

    vial_app_handle_exchange(c->app, &ex);

    /* copy the response out */
    vial_http_response *h = &ex.res;
    vial_response *resp = vial_arena_calloc(c->arena, sizeof *resp);
    resp->status = h->status;
    const char *reason = h->reason ? h->reason : vial_http_reason(h->status);
    resp->reason = vial_arena_strdup(c->arena, reason ? reason : "Unknown");
    resp->request_path = vial_arena_strdup(c->arena, path);
    vial_buf out;
    vial_buf_init(&out, c->arena, 0);
    if (!h->head) {
        if (h->body_kind == VIAL_BODY_BYTES) {
            vial_buf_append(&out, h->body.ptr, h->body.len);
        } else if (h->body_kind == VIAL_BODY_FILE) {
            char chunk[65536];
            off_t pos = h->file_offset, end = h->file_offset + h->file_length;
            while (pos < end) {
                size_t want = (size_t)(end - pos) < sizeof chunk ? (size_t)(end - pos) : sizeof chunk;
                ssize_t n = pread(h->file_fd, chunk, want, pos);
                if (n <= 0) break;
                vial_buf_append(&out, chunk, (size_t)n);
                pos += n;
            }
        } else if (h->body_kind == VIAL_BODY_STREAM && h->stream) {
            vial_str chunk;
            int rc;
            while ((rc = h->stream(h->stream_ctx, &chunk)) == 1) vial_buf_append(&out, chunk.ptr, chunk.len);
        }
    }
    resp->body = vial_buf_cstr(&out);
    resp->body_len = out.len;
    /* headers the app set, plus those the server would add that tests look at */
    resp->headers = vial_arena_calloc(c->arena, (h->header_count + 2) * sizeof *resp->headers);
    for (size_t i = 0; i < h->header_count; i++) {
        resp->headers[i].name = vial_arena_strndup(c->arena, h->headers[i].name.ptr, h->headers[i].name.len);
        resp->headers[i].value = vial_arena_strndup(c->arena, h->headers[i].value.ptr, h->headers[i].value.len);
        if (strcasecmp(resp->headers[i].name, "Set-Cookie") == 0) jar_store(c, resp->headers[i].value);
    }
    resp->header_count = h->header_count;
    if (vial_http_status_has_body(h->status) && h->body_kind != VIAL_BODY_STREAM) {
        off_t len = h->body_kind == VIAL_BODY_FILE ? h->file_length : (off_t)h->body.len;
        resp->headers[resp->header_count].name = "Content-Length";
        resp->headers[resp->header_count++].value = vial_arena_sprintf(c->arena, "%lld", (long long)len);
    }
    vial_arena_free(ra);
    return resp;
}

vial_response *vial_client_open(vial_client *c, const char *method, const char *path, const vial_client_opts *opts) {
    vial_client_opts o = opts ? *opts : (vial_client_opts){0};
    vial_response *r = run_once(c, method, path, &o);
    for (int hops = 0; o.follow_redirects && hops < 10; hops++) {
        const char *location = vial_response_header(r, "Location");
        if (!location || r->status < 300 || r->status > 399) break;
        /* Only same-app paths can be followed in-process; an absolute URL is stripped to its path. */
        const char *target = location;
        if (strncmp(target, "http://", 7) == 0 || strncmp(target, "https://", 8) == 0) {
            const char *slash = strchr(strstr(target, "//") + 2, '/');
            target = slash ? slash : "/";
        }
        if (r->status == 307 || r->status == 308) {
            r = run_once(c, method, target, &o);
        } else {
            vial_client_opts get = {.headers = o.headers, .remote_addr = o.remote_addr};
            method = "GET";
            r = run_once(c, "GET", target, &get);
        }
    }
    return r;
}

const char *vial_response_header(const vial_response *r, const char *name) {
    for (size_t i = 0; i < r->header_count; i++)
        if (strcasecmp(r->headers[i].name, name) == 0) return r->headers[i].value;
    return NULL;
}

vial_value *vial_response_json(vial_client *c, const vial_response *r) {
    return vial_json_parse(c->arena, r->body, r->body_len, 0, NULL);
}
