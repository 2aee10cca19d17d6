/* request.c - flask.request: what a handler reads about the request.
 *
 * Everything is computed on first use and kept on the vial_req, so a handler
 * that never looks at the URL or the body pays nothing for them. Strings
 * handed out are NUL-terminated copies in the request arena (the parsed
 * request points into the connection's buffer, which is not NUL-terminated).
 * URL pieces follow Werkzeug: path is percent-decoded UTF-8 (errors
 * replaced), url/base_url are IRIs, full_path always carries the '?'. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

#include "app/app.h"

vial_arena *vial_req_arena(vial_req *rq) { return rq->arena; }
vial_app *vial_req_app(vial_req *rq) { return rq->app; }
vial_res *vial_req_res(vial_req *rq) { return rq->res; }

static const char *method_names[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT"};

const char *vial_method(vial_req *rq) {
    unsigned bit = rq->ex->req.method_bit;
    for (unsigned i = 0; i < 9; i++)
        if (bit == (1u << i)) return method_names[i];
    return vial_arena_strndup(rq->arena, rq->ex->req.method.ptr, rq->ex->req.method.len);
}

bool vial_is_get(vial_req *rq) { return rq->ex->req.method_bit & (VIAL_GET | VIAL_HEAD); }
bool vial_is_post(vial_req *rq) { return rq->ex->req.method_bit == VIAL_POST; }

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Percent-decodes src, then replaces invalid UTF-8 as Python's errors='replace'. */
char *app_url_unquote(vial_arena *a, const char *src, size_t n) {
    char *raw = vial_arena_alloc(a, n + 1);
    if (!raw) return NULL;
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (src[i] == '%' && i + 2 < n && (hi = hexval((unsigned char)src[i + 1])) >= 0 &&
            (lo = hexval((unsigned char)src[i + 2])) >= 0) {
            raw[out++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            raw[out++] = src[i];
        }
    }
    raw[out] = '\0';
    if (vial_utf8_valid(raw, out)) return raw;
    vial_buf b;
    vial_buf_init(&b, a, 0);
    if (vial_utf8_replace_invalid(&b, raw, out) != 0) return NULL;
    return (char *)vial_buf_cstr(&b);
}

const char *vial_path(vial_req *rq) {
    if (!rq->path) {
        vial_str p = rq->ex->req.path;
        /* absolute-form targets were already reduced to their path by the parser */
        rq->path = p.len ? app_url_unquote(rq->arena, p.ptr, p.len) : "/";
        if (!rq->path) rq->path = "/";
    }
    return rq->path;
}

vial_str vial_query_string(vial_req *rq) { return rq->ex->req.query; }

const char *vial_full_path(vial_req *rq) {
    if (!rq->full_path) {
        vial_str q = rq->ex->req.query;
        rq->full_path = vial_arena_sprintf(rq->arena, "%s?%.*s", vial_path(rq), (int)q.len, q.ptr);
    }
    return rq->full_path;
}

const char *vial_scheme(vial_req *rq) {
    if (app_settings_get(rq->app)->proxy_x_proto > 0) {
        const char *proto = vial_header(rq, "X-Forwarded-Proto");
        if (proto && (strcasecmp(proto, "https") == 0 || strcasecmp(proto, "http") == 0))
            return strcasecmp(proto, "https") == 0 ? "https" : "http";
    }
    return rq->ex->secure ? "https" : "http";
}

const char *vial_host(vial_req *rq) {
    if (app_settings_get(rq->app)->proxy_x_host > 0) {
        const char *fwd = vial_header(rq, "X-Forwarded-Host");
        if (fwd && *fwd) {
            const char *comma = strchr(fwd, ',');
            return comma ? vial_arena_strndup(rq->arena, fwd, (size_t)(comma - fwd)) : fwd;
        }
    }
    vial_str h = rq->ex->req.host;
    if (h.len) return vial_arena_strndup(rq->arena, h.ptr, h.len);
    /* HTTP/1.0 without Host: the address the request arrived on, as WSGI's SERVER_NAME:PORT. */
    return vial_server_addr(rq);
}

static void format_addr(const struct sockaddr *sa, char *out, size_t n, bool with_port) {
    if (!sa) {
        snprintf(out, n, "%s", "");
        return;
    }
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        char ip[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
        if (with_port)
            snprintf(out, n, "%s:%u", ip, ntohs(in->sin_port));
        else
            snprintf(out, n, "%s", ip);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        char ip[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
        if (with_port)
            snprintf(out, n, "[%s]:%u", ip, ntohs(in6->sin6_port));
        else
            snprintf(out, n, "%s", ip);
    } else {
        snprintf(out, n, "%s", "");
    }
}

const char *vial_remote_addr(vial_req *rq) {
    if (rq->remote_addr) return rq->remote_addr;
    int64_t trusted = app_settings_get(rq->app)->proxy_x_for;
    if (trusted > 0) {
        /* ProxyFix: the trusted'th address from the right of X-Forwarded-For. */
        const char *xff = vial_header(rq, "X-Forwarded-For");
        if (xff) {
            const char *parts[64];
            size_t lens[64], count = 0;
            const char *p = xff;
            while (*p && count < 64) {
                while (*p == ' ' || *p == ',') p++;
                const char *start = p;
                while (*p && *p != ',') p++;
                const char *end = p;
                while (end > start && end[-1] == ' ') end--;
                if (end > start) {
                    parts[count] = start;
                    lens[count++] = (size_t)(end - start);
                }
            }
            if ((size_t)trusted <= count) {
                size_t i = count - (size_t)trusted;
                rq->remote_addr = vial_arena_strndup(rq->arena, parts[i], lens[i]);
                return rq->remote_addr;
            }
        }
    }
    char buf[64];
    format_addr(rq->ex->remote, buf, sizeof buf, false);
    rq->remote_addr = vial_arena_strdup(rq->arena, buf);
    return rq->remote_addr;
}

const char *vial_server_addr(vial_req *rq) {
    char buf[80];
    format_addr(rq->ex->local, buf, sizeof buf, true);
    return vial_arena_strdup(rq->arena, buf);
}

/* Re-quotes a decoded path as Werkzeug's IRI form: ASCII outside the safe set
 * is percent-encoded, valid non-ASCII UTF-8 is kept. */
static void append_iri_path(vial_buf *b, const char *s) {
    static const char safe[] = "/:@!$&'()*+,;=-._~";
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p >= 0x80 ||
            strchr(safe, *p)) {
            vial_buf_putc(b, *p);
        } else {
            char enc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            vial_buf_append(b, enc, 3);
        }
    }
}

const char *vial_root_url(vial_req *rq) {
    if (!rq->root_url) {
        const char *root = vial_config_str(rq->app, "APPLICATION_ROOT");
        if (!root || strcmp(root, "/") == 0) root = "";
        rq->root_url = vial_arena_sprintf(rq->arena, "%s://%s%s/", vial_scheme(rq), vial_host(rq), root);
    }
    return rq->root_url;
}

const char *vial_base_url(vial_req *rq) {
    if (!rq->base_url) {
        vial_buf b;
        vial_buf_init(&b, rq->arena, 0);
        vial_buf_printf(&b, "%s://%s", vial_scheme(rq), vial_host(rq));
        append_iri_path(&b, vial_path(rq));
        rq->base_url = (char *)vial_buf_cstr(&b);
    }
    return rq->base_url;
}

const char *vial_url(vial_req *rq) {
    if (!rq->url) {
        vial_str q = rq->ex->req.query;
        rq->url = q.len ? vial_arena_sprintf(rq->arena, "%s?%.*s", vial_base_url(rq), (int)q.len, q.ptr)
                        : (char *)vial_base_url(rq);
    }
    return rq->url;
}

const char *vial_header(vial_req *rq, const char *name) {
    const vial_http_request *r = &rq->ex->req;
    size_t nl = strlen(name);
    const vial_http_header *first = NULL;
    size_t count = 0, total = 0;
    for (size_t i = 0; i < r->header_count; i++) {
        const vial_http_header *h = &r->headers[i];
        if (h->name.len == nl && strncasecmp(h->name.ptr, name, nl) == 0) {
            if (!first) first = h;
            count++;
            total += h->value.len + 2;
        }
    }
    if (!first) return NULL;
    if (count == 1) return vial_arena_strndup(rq->arena, first->value.ptr, first->value.len);
    char *joined = vial_arena_alloc(rq->arena, total + 1);
    if (!joined) return NULL;
    size_t out = 0;
    for (size_t i = 0; i < r->header_count; i++) {
        const vial_http_header *h = &r->headers[i];
        if (h->name.len == nl && strncasecmp(h->name.ptr, name, nl) == 0) {
            if (out) {
                joined[out++] = ',';
                joined[out++] = ' ';
            }
            memcpy(joined + out, h->value.ptr, h->value.len);
            out += h->value.len;
        }
    }
    joined[out] = '\0';
    return joined;
}

vial_value *vial_headers(vial_req *rq) {
    vial_value *obj = vial_new_object(rq->arena);
    const vial_http_request *r = &rq->ex->req;
    for (size_t i = 0; i < r->header_count; i++) {
        const vial_http_header *h = &r->headers[i];
        char *name = vial_arena_strndup(rq->arena, h->name.ptr, h->name.len);
        if (!name || vial_object_get(obj, name)) continue;
        const char *value = vial_header(rq, name);
        vial_object_set(obj, name, vial_new_str(rq->arena, value));
    }
    return obj;
}

const char *vial_user_agent(vial_req *rq) {
    const char *ua = vial_header(rq, "User-Agent");
    return ua ? ua : "";
}

const char *vial_content_type(vial_req *rq) { return vial_header(rq, "Content-Type"); }

const char *vial_mimetype(vial_req *rq) {
    const char *ct = vial_content_type(rq);
    if (!ct) return "";
    size_t n = strcspn(ct, ";");
    while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t')) n--;
    char *m = vial_arena_strndup(rq->arena, ct, n);
    for (char *p = m; p && *p; p++)
        if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
    return m ? m : "";
}

int64_t vial_content_length(vial_req *rq) { return rq->ex->req.content_length; }

bool vial_is_json(vial_req *rq) {
    const char *mt = vial_mimetype(rq);
    size_t n = strlen(mt);
    return strcmp(mt, "application/json") == 0 ||
           (strncmp(mt, "application/", 12) == 0 && n > 17 && strcmp(mt + n - 5, "+json") == 0);
}

vial_str vial_data(vial_req *rq) {
    if (rq->data_read) return rq->data;
    rq->data_read = true;
    rq->data = (vial_str){"", 0};
    vial_body_reader *body = &rq->ex->body;
    if (!body->read) return rq->data;
    int64_t max = app_settings_get(rq->app)->max_content_length;
    int64_t cl = rq->ex->req.content_length;
    if (max >= 0 && cl > max) vial_abort(rq, 413);
    vial_buf b;
    vial_buf_init(&b, rq->arena, max >= 0 ? (size_t)max : 0);
    if (cl > 0 && vial_buf_reserve(&b, (size_t)cl) != 0) vial_abort(rq, 413);
    char chunk[16384];
    for (;;) {
        ssize_t n = body->read(body->ctx, chunk, sizeof chunk);
        if (n == 0) break;
        if (n < 0) vial_abort(rq, body->error_status ? body->error_status : 400);
        if (vial_buf_append(&b, chunk, (size_t)n) != 0) vial_abort(rq, 413);
    }
    rq->data = (vial_str){vial_buf_cstr(&b), b.len};
    return rq->data;
}

static vial_value *load_json(vial_req *rq, bool silent) {
    if (rq->json_loaded) return rq->json;
    if (!vial_is_json(rq)) {
        if (silent) return NULL;
        vial_abort_msg(rq, 415, "Did not attempt to load JSON data because the request Content-Type was not "
                                "'application/json'.");
    }
    vial_str data = vial_data(rq);
    vial_json_error err;
    int depth = app_settings_get(rq->app)->json_max_depth;
    vial_value *v = vial_json_parse(rq->arena, data.ptr, data.len, depth, &err);
    if (!v) {
        if (silent) return NULL;
        vial_abort_msg(rq, 400, "Failed to decode JSON object: %s", err.message);
    }
    rq->json_loaded = true;
    rq->json = v;
    return v;
}

vial_value *vial_get_json(vial_req *rq) { return load_json(rq, false); }
vial_value *vial_get_json_silent(vial_req *rq) { return load_json(rq, true); }

vial_value *vial_param_value(vial_req *rq, const char *name) { return vial_object_get(rq->view_args, name); }

const char *vial_param(vial_req *rq, const char *name) {
    vial_value *v = vial_object_get(rq->view_args, name);
    if (!v) return "";
    switch (v->type) {
    case VIAL_STRING: return v->as.s.ptr;
    case VIAL_INT: return vial_arena_sprintf(rq->arena, "%lld", (long long)v->as.i);
    case VIAL_DOUBLE: {
        char tmp[VIAL_DOUBLE_BUFSIZE];
        vial_format_double(tmp, v->as.d);
        return vial_arena_strdup(rq->arena, tmp);
    }
    default: return vial_json_encode(rq->arena, v, 0, NULL);
    }
}

int64_t vial_param_int(vial_req *rq, const char *name) { return vial_get_int(rq->view_args, name, 0); }
double vial_param_double(vial_req *rq, const char *name) { return vial_get_double(rq->view_args, name, 0.0); }
vial_value *vial_view_args(vial_req *rq) { return rq->view_args; }
const char *vial_endpoint(vial_req *rq) { return rq->route ? rq->route->endpoint : NULL; }
const char *vial_blueprint_name(vial_req *rq) { return rq->route && rq->route->bp ? rq->route->bp->name : NULL; }

int vial_g_set(vial_req *rq, const char *key, vial_value *value) {
    if (!rq->g) rq->g = vial_new_object(rq->arena);
    return vial_object_set(rq->g, key, value);
}

vial_value *vial_g_get(vial_req *rq, const char *key) { return rq->g ? vial_object_get(rq->g, key) : NULL; }

int vial_g_set_ptr(vial_req *rq, const char *key, void *ptr) {
    for (size_t i = 0; i < rq->g_ptr_count; i++)
        if (strcmp(rq->g_ptrs[i].key, key) == 0) {
            rq->g_ptrs[i].ptr = ptr;
            return 0;
        }
    if (rq->g_ptr_count == sizeof rq->g_ptrs / sizeof rq->g_ptrs[0]) return -1;
    rq->g_ptrs[rq->g_ptr_count++] = (g_entry){vial_arena_strdup(rq->arena, key), ptr};
    return 0;
}

void *vial_g_get_ptr(vial_req *rq, const char *key) {
    for (size_t i = 0; i < rq->g_ptr_count; i++)
        if (strcmp(rq->g_ptrs[i].key, key) == 0) return rq->g_ptrs[i].ptr;
    return NULL;
}
