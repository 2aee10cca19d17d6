/* router_match.c - matching a request: Werkzeug's MapAdapter.match.
 *
 * The path is percent-decoded first (Werkzeug routes on the decoded
 * PATH_INFO: %2F is a real '/', invalid UTF-8 becomes U+FFFD), leading
 * slashes are reduced to one, and the tree is searched. What Werkzeug does
 * around the search is reproduced in order: the strict-slash redirect, the
 * merge_slashes retry (which redirects to the merged path), the converters'
 * to_python (a validation failure fails the whole match, never falls back
 * to another rule), the defaults, the redirect to a rule with defaults that
 * builds the same URL (redirect_defaults) and redirect_to rules. Redirects
 * are 308 with an absolute Location built as Werkzeug builds it, put through
 * the same IRI-to-URI step as Werkzeug's response headers.
 *
 * Memory: a static path that needs no decoding costs no allocation at all;
 * decoded paths, values and Locations come from the caller's arena. */
#include <stdio.h>
#include <string.h>

#include "app/router.h"

#define STACK_VALUES 32

/* ---- the path ---- */

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* True when s has no '%' and no byte >= 0x80: the common path, used as it is. */
static bool plain_ascii(const char *s, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        /* a byte >= 0x80, or a byte equal to '%' (0x25) */
        uint64_t pct = w ^ 0x2525252525252525ull;
        if ((w | ((pct - 0x0101010101010101ull) & ~pct)) & 0x8080808080808080ull) return false;
    }
    for (; i < n; i++)
        if ((unsigned char)s[i] >= 0x80 || s[i] == '%') return false;
    return true;
}

/* Percent-decodes (when asked) and makes valid UTF-8 (errors='replace'). */
static int decode_path(vial_arena *a, vial_str in, bool decoded, vial_str *out) {
    if (plain_ascii(in.ptr, in.len)) {
        *out = in;
        return 0;
    }
    bool has_pct = !decoded && memchr(in.ptr, '%', in.len) != NULL;
    if (!has_pct && vial_utf8_valid(in.ptr, in.len)) {
        *out = in;
        return 0;
    }
    char *buf = vial_arena_alloc(a, in.len + 1);
    if (!buf) return -1;
    size_t n = 0;
    for (size_t i = 0; i < in.len; i++) {
        int hi, lo;
        if (has_pct && in.ptr[i] == '%' && i + 2 < in.len && (hi = hexval(in.ptr[i + 1])) >= 0 &&
            (lo = hexval(in.ptr[i + 2])) >= 0) {
            buf[n++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            buf[n++] = in.ptr[i];
        }
    }
    buf[n] = '\0';
    if (vial_utf8_valid(buf, n)) {
        *out = (vial_str){buf, n};
        return 0;
    }
    vial_buf fixed;
    vial_buf_init(&fixed, a, 0);
    if (vial_utf8_replace_invalid(&fixed, buf, n) != 0) return -1;
    *out = (vial_str){fixed.data ? fixed.data : "", fixed.len};
    return 0;
}

/* Werkzeug's f"/{path_info.lstrip('/')}" (or "" for an empty path). */
static int path_part(vial_arena *a, vial_str in, vial_str *out) {
    if (in.len == 0) {
        *out = in;
        return 0;
    }
    size_t k = 0;
    while (k < in.len && in.ptr[k] == '/') k++;
    if (k > 0) {
        *out = (vial_str){in.ptr + k - 1, in.len - k + 1};
        return 0;
    }
    char *buf = vial_arena_alloc(a, in.len + 2);
    if (!buf) return -1;
    buf[0] = '/';
    memcpy(buf + 1, in.ptr, in.len);
    buf[in.len + 1] = '\0';
    *out = (vial_str){buf, in.len + 1};
    return 0;
}

static bool has_double_slash(vial_str p) {
    for (size_t i = 0; i + 1 < p.len; i++)
        if (p.ptr[i] == '/' && p.ptr[i + 1] == '/') return true;
    return false;
}

/* re.sub("/{2,}?", "/", path): each "//" pair becomes one '/'. */
static int merge_slashes(vial_arena *a, vial_str in, vial_str *out) {
    char *buf = vial_arena_alloc(a, in.len + 1);
    if (!buf) return -1;
    size_t n = 0;
    for (size_t i = 0; i < in.len; i++) {
        buf[n++] = in.ptr[i];
        if (in.ptr[i] == '/' && i + 1 < in.len && in.ptr[i + 1] == '/') i++;
    }
    buf[n] = '\0';
    *out = (vial_str){buf, n};
    return 0;
}

/* ---- Locations ---- */

static bool uri_safe(unsigned char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return c && strchr("-._~$!'()*+,;:/?#[]@&=%", c) != NULL;
}

/* Werkzeug's iri_to_uri(location, safe_conversion=True) for what follows the host. */
static int append_uri(vial_buf *b, const char *s, size_t n, bool convert) {
    if (!convert) return vial_buf_append(b, s, n);
    vial_buf text;
    vial_buf_init(&text, b->arena, 0);
    if (!vial_utf8_valid(s, n)) {
        if (vial_utf8_replace_invalid(&text, s, n) != 0) return -1;
        s = text.data ? text.data : "";
        n = text.len;
    }
    static const char HEX[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (uri_safe(c)) {
            if (vial_buf_putc(b, c) != 0) return -1;
        } else {
            char esc[3] = {'%', HEX[c >> 4], HEX[c & 15]};
            if (vial_buf_append(b, esc, 3) != 0) return -1;
        }
    }
    return 0;
}

static bool needs_conversion(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80 || c == ' ' || (c >= '\t' && c <= '\r')) return true;
    }
    return false;
}

/* scheme://host (lower-cased, as Werkzeug's server name), or "" without a host. */
static int append_origin(vial_buf *b, const vial_route_request *rq) {
    if (!rq->host.len) return 0;
    if (rq->scheme.len ? vial_buf_append(b, rq->scheme.ptr, rq->scheme.len) : vial_buf_puts(b, "http")) return -1;
    if (vial_buf_puts(b, "://") != 0) return -1;
    for (size_t i = 0; i < rq->host.len; i++) {
        char c = rq->host.ptr[i];
        if (vial_buf_putc(b, c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c) != 0) return -1;
    }
    return 0;
}

/* Werkzeug's make_redirect_url: origin + "/" + join(script_root, path) + "?" + query. */
static const char *redirect_url(vial_arena *a, const vial_route_request *rq, const char *path, size_t plen) {
    vial_buf tail;
    vial_buf_init(&tail, a, 0);
    const char *sr = rq->script_root.ptr;
    size_t srlen = rq->script_root.len;
    while (srlen && sr[0] == '/') sr++, srlen--;
    while (srlen && sr[srlen - 1] == '/') srlen--;
    while (plen && path[0] == '/') path++, plen--;
    if (vial_buf_putc(&tail, '/') != 0) return NULL;
    if (srlen && (vial_buf_append(&tail, sr, srlen) != 0 || vial_buf_putc(&tail, '/') != 0)) return NULL;
    if (vial_buf_append(&tail, path, plen) != 0) return NULL;
    if (rq->query.len && (vial_buf_putc(&tail, '?') != 0 || vial_buf_append(&tail, rq->query.ptr, rq->query.len)))
        return NULL;
    vial_buf b;
    vial_buf_init(&b, a, 0);
    if (append_origin(&b, rq) != 0) return NULL;
    bool convert = needs_conversion(tail.data, tail.len) || needs_conversion(b.data ? b.data : "", b.len);
    if (append_uri(&b, tail.data, tail.len, convert) != 0) return NULL;
    return b.data;
}

/* A redirect to the (decoded) path, quoted as Werkzeug quotes it. */
static const char *redirect_to_path(vial_arena *a, const vial_route_request *rq, vial_str path, bool add_slash) {
    vial_buf q;
    vial_buf_init(&q, a, 0);
    if (router_quote(&q, path.ptr, path.len, "/:|+") != 0 || (add_slash && vial_buf_putc(&q, '/') != 0)) return NULL;
    return redirect_url(a, rq, q.data ? q.data : "", q.len);
}

/* Werkzeug's url_join(scheme://host + script_root + "/", target) for redirect_to. */
static const char *join_redirect_to(vial_arena *a, const vial_route_request *rq, const char *target, size_t tlen) {
    vial_buf b;
    vial_buf_init(&b, a, 0);
    const char *colon = memchr(target, ':', tlen);
    const char *slash = memchr(target, '/', tlen);
    if (colon && (!slash || colon < slash) && colon > target) {
        /* has its own scheme */
        if (vial_buf_append(&b, target, tlen) != 0) return NULL;
    } else if (tlen >= 2 && target[0] == '/' && target[1] == '/') {
        if ((rq->scheme.len ? vial_buf_append(&b, rq->scheme.ptr, rq->scheme.len) : vial_buf_puts(&b, "http")) ||
            vial_buf_putc(&b, ':') != 0 || vial_buf_append(&b, target, tlen) != 0)
            return NULL;
    } else {
        if (append_origin(&b, rq) != 0) return NULL;
        if (tlen && target[0] == '/') {
            if (vial_buf_append(&b, target, tlen) != 0) return NULL;
        } else {
            const char *sr = rq->script_root.ptr;
            size_t srlen = rq->script_root.len;
            if (vial_buf_append(&b, sr, srlen) != 0) return NULL;
            if ((!srlen || sr[srlen - 1] != '/') && vial_buf_putc(&b, '/') != 0) return NULL;
            if (vial_buf_append(&b, target, tlen) != 0) return NULL;
        }
    }
    const char *s = b.data ? b.data : "";
    if (!needs_conversion(s, b.len)) return s;
    /* the part after the origin goes through iri_to_uri */
    size_t start = 0;
    const char *sep = strstr(s, "://");
    if (sep) {
        const char *p = strchr(sep + 3, '/');
        start = p ? (size_t)(p - s) : b.len;
    }
    vial_buf out;
    vial_buf_init(&out, a, 0);
    if (vial_buf_append(&out, s, start) != 0 || append_uri(&out, s + start, b.len - start, true) != 0) return NULL;
    return out.data;
}

/* ---- matching ---- */

typedef enum outcome { OUT_OK, OUT_NOMATCH, OUT_OOM } outcome;

/* The converted values of the found rule, plus its defaults (Werkzeug's rv). */
static outcome convert_values(vial_arena *a, const route_rule *rule, const tree_search *s, vial_value **args_out) {
    *args_out = NULL;
    if (!rule->nconv && !rule->info.defaults) return OUT_OK;
    vial_value *args = vial_new_object(a);
    if (!args) return OUT_OOM;
    /* zip(converters, values): extra groups of a custom regex shift later values, as in Werkzeug */
    for (size_t i = 0; i < rule->nconv && i < s->nvalues; i++) {
        bool oom;
        vial_value *v = router_conv_to_value(a, &rule->convs[i], s->values[i].ptr, s->values[i].len, &oom);
        if (!v) return oom ? OUT_OOM : OUT_NOMATCH;
        /* the names live in the router, which outlives any request */
        if (vial_object_set_ref(args, rule->convs[i].var, strlen(rule->convs[i].var), v) != 0) return OUT_OOM;
    }
    const vial_value *d = rule->info.defaults;
    for (size_t i = 0; d && i < d->as.obj.len; i++) {
        const vial_member *dm = &d->as.obj.items[i];
        vial_value *copy = vial_value_copy(a, dm->value);
        if (!copy || vial_object_set_ref(args, dm->key, dm->key_len, copy) != 0) return OUT_OOM;
    }
    *args_out = args;
    return OUT_OK;
}

static bool same_arguments(const route_rule *x, const route_rule *y) {
    if (x->narguments != y->narguments) return false;
    for (size_t i = 0; i < x->narguments; i++) {
        bool found = false;
        for (size_t k = 0; k < y->narguments && !found; k++) found = strcmp(x->arguments[i], y->arguments[k]) == 0;
        if (!found) return false;
    }
    return true;
}

/* Werkzeug's get_default_redirect: an earlier rule of the endpoint whose defaults build this URL. */
static outcome default_redirect(vial_arena *a, const vial_route_request *rq, const route_rule *rule,
                                vial_value *args, unsigned method, const char **location) {
    *location = NULL;
    const route_endpoint *ep = rule->ep;
    for (size_t i = 0; i < ep->nrules && ep->rules[i] != rule; i++) {
        const route_rule *other = ep->rules[i];
        if (!other->info.defaults || !same_arguments(other, rule)) continue;
        if (!router_rule_suitable(other, args, method, true)) continue;
        vial_value *values = vial_value_copy(a, args);
        if (!values) return OUT_OOM;
        const vial_value *d = other->info.defaults;
        for (size_t k = 0; k < d->as.obj.len; k++)
            if (vial_object_set(values, d->as.obj.items[k].key, d->as.obj.items[k].value) != 0) return OUT_OOM;
        vial_buf path;
        vial_buf_init(&path, a, 0);
        char msg[256];
        int rc = router_build_rule(&path, other, values, true, msg, sizeof msg);
        if (rc == -2) return OUT_OOM;
        if (rc != 0) continue;
        *location = redirect_url(a, rq, path.data ? path.data : "", path.len);
        return *location ? OUT_OK : OUT_OOM;
    }
    return OUT_OK;
}

/* redirect_to="/item/<id>": placeholders filled by the converters' to_url. */
static outcome redirect_to_location(vial_arena *a, const vial_route_request *rq, const route_rule *rule,
                                    const vial_value *args, const char **location) {
    const char *t = rule->info.redirect_to;
    vial_buf b;
    vial_buf_init(&b, a, 0);
    while (*t) {
        const char *open = strchr(t, '<');
        const char *close = open ? strchr(open, '>') : NULL;
        if (!open || !close) {
            if (vial_buf_puts(&b, t) != 0) return OUT_OOM;
            break;
        }
        if (vial_buf_append(&b, t, (size_t)(open - t)) != 0) return OUT_OOM;
        size_t len = (size_t)(close - open - 1);
        const conv_inst *in = NULL;
        for (size_t i = 0; i < rule->nconv && !in; i++)
            if (strlen(rule->convs[i].var) == len && memcmp(rule->convs[i].var, open + 1, len) == 0)
                in = &rule->convs[i];
        const vial_value *v = in ? vial_object_get(args, in->var) : NULL;
        char msg[256];
        if (!in || !v || router_conv_to_url(&b, in, v, msg, sizeof msg) != 0) return OUT_NOMATCH;
        t = close + 1;
    }
    *location = join_redirect_to(a, rq, b.data ? b.data : "", b.len);
    return *location ? OUT_OK : OUT_OOM;
}

static int set_redirect(vial_route_match *out, const char *location) {
    if (!location) return -1;
    out->status = VIAL_ROUTE_REDIRECT;
    out->location = location;
    out->redirect_code = 308;
    return 0;
}

static int no_match(vial_route_match *out, unsigned allowed) {
    out->status = allowed ? VIAL_ROUTE_METHOD_NOT_ALLOWED : VIAL_ROUTE_NOT_FOUND;
    out->allowed = allowed;
    return 0;
}

static int match_impl(const vial_router *r, vial_arena *a, const vial_route_request *rq, vial_route_match *out) {
    memset(out, 0, sizeof *out);
    vial_str raw = rq->path.ptr ? rq->path : (vial_str){"", 0};
    vial_str decoded, path;
    if (decode_path(a, raw, rq->path_decoded, &decoded) != 0 || path_part(a, decoded, &path) != 0) return -1;
    vial_str stack_values[STACK_VALUES];
    tree_search s = {.router = r, .arena = a, .path = path.ptr, .len = path.len, .method = rq->method};
    s.capvalues = r->max_values;
    if (r->max_values <= STACK_VALUES) {
        s.values = stack_values;
    } else if (!(s.values = vial_arena_alloc(a, r->max_values * sizeof *s.values))) {
        return -1;
    }
    /* An all-static path is the first thing the tree search would try: its
     * state's first rule accepting the method is the answer, found with one
     * hash of the whole path. Anything else takes the full search. */
    tree_result res = TREE_NONE;
    const route_state *flat = router_flat_find(r, path.ptr, path.len);
    for (size_t i = 0; flat && i < flat->nrules && res == TREE_NONE; i++)
        if (flat->rules[i]->any_method || (rq->method & flat->rules[i]->match_methods)) {
            s.rule = flat->rules[i];
            res = TREE_FOUND;
        }
    if (res == TREE_NONE) res = router_tree_search(&s);
    if (s.oom) return -1;
    if (res == TREE_SLASH) return set_redirect(out, redirect_to_path(a, rq, path, true));
    if (res == TREE_NONE && r->merge_slashes && has_double_slash(path)) {
        vial_str merged;
        if (merge_slashes(a, path, &merged) != 0) return -1;
        s.path = merged.ptr;
        s.len = merged.len;
        res = router_tree_search(&s);
        if (s.oom) return -1;
        if (res == TREE_SLASH) return set_redirect(out, redirect_to_path(a, rq, merged, true));
        if (res == TREE_FOUND) return set_redirect(out, redirect_to_path(a, rq, merged, false));
    }
    if (res == TREE_NONE) return no_match(out, s.allowed);

    const route_rule *rule = s.rule;
    vial_value *args;
    outcome oc = convert_values(a, rule, &s, &args);
    if (oc == OUT_OOM) return -1;
    if (oc == OUT_NOMATCH) return no_match(out, s.allowed);
    if (r->redirect_defaults && rule->ep->nrules > 1) {
        const char *location;
        if (default_redirect(a, rq, rule, args, rq->method, &location) != OUT_OK) return -1;
        if (location) return set_redirect(out, location);
    }
    if (rule->info.redirect_to) {
        const char *location = NULL;
        oc = redirect_to_location(a, rq, rule, args, &location);
        if (oc == OUT_OOM) return -1;
        if (oc == OUT_NOMATCH) return no_match(out, s.allowed); /* Werkzeug would fail with a 500 here */
        return set_redirect(out, location);
    }
    out->status = VIAL_ROUTE_FOUND;
    out->rule = &rule->info;
    out->endpoint = rule->info.endpoint;
    out->handler = rule->ep->handler;
    out->args = args;
    return 0;
}

int vial_router_match(const vial_router *r, vial_arena *a, const vial_route_request *rq, vial_route_match *out) {
    return match_impl(r, a, rq, out);
}

unsigned vial_router_allowed_methods(const vial_router *r, vial_arena *a, vial_str path, bool path_decoded) {
    /* Werkzeug matches with the method "--", which no rule names */
    vial_route_request rq = {.method = 0, .path = path, .path_decoded = path_decoded};
    vial_route_match m;
    if (match_impl(r, a, &rq, &m) != 0) return 0;
    return m.status == VIAL_ROUTE_METHOD_NOT_ALLOWED ? m.allowed : 0;
}
