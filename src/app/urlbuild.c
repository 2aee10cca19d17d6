/* urlbuild.c - url_for: Werkzeug's MapAdapter.build with Flask's extras.
 *
 * An endpoint's rules are tried in build order (more arguments first, then
 * more defaults). Without an explicit method the current request's method is
 * tried first, then any method. A rule is suitable when every argument it
 * needs is given (or defaulted) and given values equal its defaults; the
 * first suitable rule that builds wins. Its literal text is already quoted;
 * converter values go through to_url, whose errors (int('abc'), a value not
 * in any()) escape as ValueErrors just as in Werkzeug. Values the rule does
 * not use become the query string in insertion order. When nothing fits,
 * the message is Werkzeug's BuildError text, including its "Did you mean"
 * suggestion scored with difflib's ratio. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/router.h"

bool router_rule_suitable(const route_rule *rule, const vial_value *values, unsigned method, bool method_given) {
    if (method_given && !rule->any_method && !(method & rule->match_methods)) return false;
    const vial_value *defaults = rule->info.defaults;
    for (size_t i = 0; i < rule->narguments; i++) {
        const char *key = rule->arguments[i];
        if (!vial_object_get(defaults, key) && !vial_object_get(values, key)) return false;
    }
    for (size_t i = 0; defaults && i < defaults->as.obj.len; i++) {
        const vial_value *given = vial_object_get(values, defaults->as.obj.items[i].key);
        if (given && !vial_value_equal(defaults->as.obj.items[i].value, given)) return false;
    }
    return true;
}

int router_build_rule(vial_buf *out, const route_rule *rule, const vial_value *values, bool append_unknown,
                      char *msg, size_t msglen) {
    for (size_t i = 0; i < rule->npieces; i++) {
        const build_piece *p = &rule->pieces[i];
        if (p->conv < 0) {
            if (vial_buf_append(out, p->text, p->len) != 0) return -2;
            continue;
        }
        const conv_inst *in = &rule->convs[p->conv];
        const vial_value *v = vial_object_get(values, in->var);
        if (!v) {
            snprintf(msg, msglen, "no value for '%s'", in->var);
            return -1;
        }
        int rc = router_conv_to_url(out, in, v, msg, msglen);
        if (rc) return rc;
    }
    if (!append_unknown || !values) return 0;
    vial_buf query;
    vial_buf_init(&query, out->arena, out->max);
    int rc = router_encode_query(&query, values, rule->arguments, rule->narguments);
    if (rc == 0 && query.len && (vial_buf_putc(out, '?') != 0 || vial_buf_append(out, query.data, query.len) != 0))
        rc = -1;
    if (!out->arena) vial_buf_free(&query);
    return rc ? -2 : 0;
}

/* ---- BuildError ---- */

static int cmp_cstr(const void *x, const void *y) { return strcmp(*(const char *const *)x, *(const char *const *)y); }

/* Appends Python's repr of a sorted list of strings: ['a', 'b']. */
static void append_sorted_list(vial_buf *b, const char **items, size_t n) {
    qsort(items, n, sizeof *items, cmp_cstr);
    vial_buf_putc(b, '[');
    for (size_t i = 0; i < n; i++) {
        if (i) vial_buf_puts(b, ", ");
        router_py_repr_str(b, items[i], strlen(items[i]));
    }
    vial_buf_putc(b, ']');
}

static bool values_subset(const vial_value *values, const route_rule *rule) {
    for (size_t i = 0; values && i < values->as.obj.len; i++) {
        bool found = false;
        for (size_t k = 0; k < rule->narguments && !found; k++)
            found = strcmp(rule->arguments[k], values->as.obj.items[i].key) == 0;
        if (!found) return false;
    }
    return true;
}

/* BuildError.closest_rule: max score over the map's rules, first one on ties. */
static const route_rule *closest_rule(const vial_router *r, const char *endpoint, const vial_value *values,
                                      unsigned method, bool method_given) {
    const route_rule *best = NULL;
    double best_score = 0;
    for (size_t e = 0; e < r->nendpoints; e++) {
        const route_endpoint *ep = r->endpoints[e];
        volatile double ratio_part = 0.98 * router_seq_ratio(ep->name, endpoint);
        for (size_t i = 0; i < ep->nrules; i++) {
            const route_rule *rule = ep->rules[i];
            /* sum([0.98 * ratio, 0.01 * subset, 0.01 * method_ok]) in that order, without fused multiply-adds */
            volatile double subset = 0.01 * (values_subset(values, rule) ? 1.0 : 0.0);
            volatile double meth =
                0.01 * (method_given && !rule->any_method && (method & rule->match_methods) ? 1.0 : 0.0);
            volatile double score = ratio_part + subset;
            score = score + meth;
            if (!best || score > best_score) {
                best = rule;
                best_score = score;
            }
        }
    }
    return best;
}

static void build_error(const vial_router *r, const char *endpoint, const vial_value *values, unsigned method,
                        bool method_given, vial_url_error *err) {
    vial_buf b;
    vial_buf_init(&b, NULL, 8192);
    size_t nvalues = vial_len(values);
    const char **keys = calloc(nvalues + 1, sizeof *keys);
    vial_buf_puts(&b, "Could not build url for endpoint ");
    router_py_repr_str(&b, endpoint, strlen(endpoint));
    if (method_given) {
        const char *name = vial_method_name(method);
        vial_buf_puts(&b, " (");
        router_py_repr_str(&b, name ? name : "", name ? strlen(name) : 0);
        vial_buf_putc(&b, ')');
    }
    if (nvalues && keys) {
        for (size_t i = 0; i < nvalues; i++) keys[i] = values->as.obj.items[i].key;
        vial_buf_puts(&b, " with values ");
        append_sorted_list(&b, keys, nvalues);
    }
    vial_buf_putc(&b, '.');
    const route_rule *s = closest_rule(r, endpoint, values, method, method_given);
    if (s && strcmp(s->info.endpoint, endpoint) == 0) {
        if (method_given && !s->any_method && !(method & s->match_methods)) {
            const char *names[16];
            size_t n = 0;
            for (unsigned bit = 1; bit && n < 16; bit <<= 1)
                if ((s->match_methods & bit) && vial_method_name(bit)) names[n++] = vial_method_name(bit);
            vial_buf_puts(&b, " Did you mean to use methods ");
            append_sorted_list(&b, names, n);
            vial_buf_putc(&b, '?');
        }
        const char **missing = calloc(s->narguments + 1, sizeof *missing);
        size_t nmissing = 0;
        for (size_t i = 0; missing && i < s->narguments; i++)
            if (!vial_object_get(values, s->arguments[i])) missing[nmissing++] = s->arguments[i];
        if (nmissing) {
            vial_buf_puts(&b, " Did you forget to specify values ");
            append_sorted_list(&b, missing, nmissing);
            vial_buf_putc(&b, '?');
        }
        free(missing);
    } else if (s) {
        vial_buf_puts(&b, " Did you mean ");
        router_py_repr_str(&b, s->info.endpoint, strlen(s->info.endpoint));
        vial_buf_puts(&b, " instead?");
    }
    err->kind = VIAL_URL_BUILD_ERROR;
    snprintf(err->message, sizeof err->message, "%s", b.data ? b.data : "Could not build url");
    free(keys);
    vial_buf_free(&b);
}

/* ---- the public entry ---- */

static void value_error(vial_url_error *err, const char *msg) {
    err->kind = VIAL_URL_VALUE_ERROR;
    snprintf(err->message, sizeof err->message, "%s", msg);
}

/* Tries the endpoint's rules; 0 built, 1 none suitable, -1 value error, -2 out of memory. */
static int partial_build(const route_endpoint *ep, const vial_value *values, unsigned method, bool method_given,
                         vial_buf *out, char *msg, size_t msglen) {
    for (size_t i = 0; ep && i < ep->nrules; i++) {
        const route_rule *rule = ep->rules[i];
        if (!router_rule_suitable(rule, values, method, method_given)) continue;
        vial_buf_reset(out);
        int rc = router_build_rule(out, rule, values, true, msg, msglen);
        if (rc == 0 || rc == -2) return rc;
        return -1; /* a ValueError escapes Werkzeug's build */
    }
    return 1;
}

char *vial_router_build(const vial_router *r, vial_arena *a, const char *endpoint, const vial_value *values,
                        const vial_url_opts *opts, vial_url_error *err) {
    static const vial_url_opts no_opts;
    vial_url_error scratch;
    if (!err) err = &scratch;
    memset(err, 0, sizeof *err);
    if (!opts) opts = &no_opts;
    if (!endpoint) endpoint = "";
    bool external = opts->external == VIAL_EXTERNAL_YES || (opts->external == VIAL_EXTERNAL_AUTO && opts->scheme);
    if (opts->scheme && opts->external == VIAL_EXTERNAL_NO) {
        value_error(err, "When specifying '_scheme', '_external' must be True.");
        return NULL;
    }
    /* values without None */
    vial_value *given = vial_new_object(a);
    if (!given) goto oom;
    for (size_t i = 0; values && values->type == VIAL_OBJECT && i < values->as.obj.len; i++) {
        const vial_member *m = &values->as.obj.items[i];
        if (m->value && m->value->type != VIAL_NULL && vial_object_set_ref(given, m->key, m->key_len, m->value) != 0)
            goto oom;
    }
    const route_endpoint *ep = router_endpoint_find(r, endpoint, strlen(endpoint));
    vial_buf path;
    vial_buf_init(&path, a, 0);
    char msg[sizeof err->message];
    int rc = 1;
    if (!opts->method) {
        unsigned def = opts->default_method ? opts->default_method : VIAL_GET;
        rc = partial_build(ep, given, def, true, &path, msg, sizeof msg);
        if (rc == 1) rc = partial_build(ep, given, 0, false, &path, msg, sizeof msg);
    } else {
        rc = partial_build(ep, given, opts->method, true, &path, msg, sizeof msg);
    }
    if (rc == -2) goto oom;
    if (rc == -1) {
        value_error(err, msg);
        return NULL;
    }
    if (rc == 1) {
        build_error(r, endpoint, given, opts->method, opts->method != 0, err);
        return NULL;
    }
    const char *p = path.data ? path.data : "";
    while (*p == '/') p++;
    vial_buf url;
    vial_buf_init(&url, a, 0);
    const char *root = opts->script_root ? opts->script_root : "";
    size_t rootlen = strlen(root);
    if (external) {
        const char *scheme = opts->scheme ? opts->scheme : opts->url_scheme ? opts->url_scheme : "http";
        bool secure = strcmp(scheme, "https") == 0 || strcmp(scheme, "wss") == 0;
        if (*scheme && vial_buf_puts(&url, secure ? "https:" : "http:") != 0) goto oom;
        /* Werkzeug: script_name always ends in '/', and script_name[:-1] is used */
        size_t keep = rootlen && root[rootlen - 1] == '/' ? rootlen - 1 : rootlen;
        if (vial_buf_puts(&url, "//") != 0 || vial_buf_puts(&url, opts->host ? opts->host : "") != 0 ||
            vial_buf_append(&url, root, keep) != 0)
            goto oom;
    } else {
        while (rootlen && root[rootlen - 1] == '/') rootlen--;
        if (vial_buf_append(&url, root, rootlen) != 0) goto oom;
    }
    if (vial_buf_putc(&url, '/') != 0 || vial_buf_puts(&url, p) != 0) goto oom;
    if (opts->anchor && (vial_buf_putc(&url, '#') != 0 || router_quote(&url, opts->anchor, strlen(opts->anchor), "/:")))
        goto oom;
    return url.data;
oom:
    value_error(err, "out of memory");
    return NULL;
}
