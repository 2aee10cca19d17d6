/* test_router_vectors.c - every case of tests/data/vectors/werkzeug_routing.json.
 *
 * The file was produced by the real Flask 2.2.2 / Werkzeug 2.2.2. Its Flask
 * app's rules (and the bare-Map rules) are registered on vial routers from
 * the file's own rule list, then each case is replayed: matches (endpoint,
 * converted values and their types), 404, 405 with the allowed methods,
 * 308 redirects with their Location, Flask's automatic OPTIONS (Allow), and
 * URL building with Werkzeug's exact URLs and error messages.
 *
 * One case differs on purpose, checked as such below: req_063 asks for
 * /int/12345678901234567890, which Python turns into an unbounded int. vial
 * hands int64 to handlers, so a number that does not fit is treated like a
 * failed int(max=...) validation: 404. */
#include <criterion/criterion.h>
#include <string.h>

#include "testutil.h"
#include "vial.h"

static vial_arena *arena;
static vial_value *doc;
static vial_router *flask_router, *plain_router;

/* A distinct "view function" per endpoint: the address of a slot here. */
static char handlers[256];
static const char *handler_names[256];
static size_t nhandlers;

static void *handler_for(const char *endpoint) {
    for (size_t i = 0; i < nhandlers; i++)
        if (strcmp(handler_names[i], endpoint) == 0) return &handlers[i];
    cr_assert(nhandlers < 256);
    handler_names[nhandlers] = endpoint;
    return &handlers[nhandlers++];
}

static unsigned methods_of(const vial_value *list) {
    unsigned bits = 0;
    for (size_t i = 0; i < vial_len(list); i++) {
        const char *name = vial_str_of(vial_array_get(list, i));
        unsigned bit = vial_method_from_name(name, strlen(name));
        cr_assert(bit, "unknown method %s in the vectors", name);
        bits |= bit;
    }
    return bits;
}

static void load(void) {
    arena = vial_arena_new(1 << 20);
    size_t len;
    char *text = test_read_file(test_data_path("vectors/werkzeug_routing.json"), &len);
    cr_assert(text, "cannot read werkzeug_routing.json");
    vial_json_error jerr;
    doc = vial_json_parse(arena, text, len, 0, &jerr);
    free(text);
    cr_assert(doc, "bad JSON: %s", jerr.message);

    flask_router = vial_router_new();
    vial_value *rules = vial_object_get(doc, "rules");
    cr_assert_gt(vial_len(rules), 50);
    for (size_t i = 0; i < vial_len(rules); i++) {
        vial_value *r = vial_array_get(rules, i);
        const char *endpoint = vial_get_str(r, "endpoint");
        unsigned effective = methods_of(vial_object_get(r, "methods_effective"));
        bool auto_options = vial_get_bool(r, "provide_automatic_options", false);
        vial_value *defaults = vial_object_get(r, "defaults");
        vial_rule_spec spec = {
            .rule = vial_get_str(r, "rule"),
            .endpoint = endpoint,
            .methods = auto_options ? effective & ~VIAL_OPTIONS : effective,
            .handler = handler_for(endpoint),
            .defaults = defaults && defaults->type == VIAL_OBJECT ? defaults : NULL,
            .redirect_to = vial_get_str(r, "redirect_to"),
            .strict_slashes = vial_get_bool(r, "strict_slashes", true) ? VIAL_SLASHES_STRICT : VIAL_SLASHES_LOOSE,
            .no_auto_options = !auto_options,
        };
        vial_route_error err;
        cr_assert_eq(vial_router_add(flask_router, &spec, &err), 0, "rule %s: %s", spec.rule, err.message);
        const vial_rule_info *info = vial_router_rule(flask_router, i);
        cr_assert_eq(info->methods, effective, "rule %s: methods %x, Werkzeug has %x", spec.rule, info->methods,
                     effective);
        cr_assert_eq(info->auto_options, auto_options && !(spec.methods & VIAL_OPTIONS));
    }

    plain_router = vial_router_new();
    vial_value *plain = vial_object_get(doc, "plain_rules");
    for (size_t i = 0; i < vial_len(plain); i++) {
        vial_value *r = vial_array_get(plain, i);
        vial_value *m = vial_object_get(r, "methods_effective");
        vial_rule_spec spec = {
            .rule = vial_get_str(r, "rule"),
            .endpoint = vial_get_str(r, "endpoint"),
            .methods = m && m->type == VIAL_ARRAY ? methods_of(m) : VIAL_ANY_METHOD,
            .no_auto_options = true, /* a bare Werkzeug Map has no automatic OPTIONS */
        };
        vial_route_error err;
        cr_assert_eq(vial_router_add(plain_router, &spec, &err), 0, "rule %s: %s", spec.rule, err.message);
    }
}

static void unload(void) {
    vial_router_free(flask_router);
    vial_router_free(plain_router);
    vial_arena_free(arena);
}

TestSuite(router_vectors, .init = load, .fini = unload);

static const char *allowed_text(unsigned bits, char *buf, size_t size) {
    vial_methods_format(buf, size, bits);
    return buf;
}

static const char *joined(const vial_value *list, char *buf, size_t size) {
    buf[0] = '\0';
    size_t len = 0;
    for (size_t i = 0; i < vial_len(list); i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "", vial_str_of(vial_array_get(list, i)));
    return buf;
}

/* Compares vial's converted values with Werkzeug's (values and Python types). */
static void check_args(const char *id, const vial_value *got, const vial_value *want, const vial_value *types) {
    size_t n = vial_len(want);
    cr_expect_eq(vial_len(got), n, "%s: %zu values, Werkzeug has %zu", id, vial_len(got), n);
    for (size_t i = 0; i < n && i < vial_len(got); i++) {
        const vial_member *w = &want->as.obj.items[i];
        const vial_member *g = &got->as.obj.items[i];
        cr_expect_str_eq(g->key, w->key, "%s: value %zu is '%s', Werkzeug has '%s'", id, i, g->key, w->key);
        const char *type = vial_get_str(types, w->key);
        if (strcmp(type, "int") == 0) {
            cr_expect_eq(g->value->type, VIAL_INT, "%s: %s is not an int", id, w->key);
            cr_expect_eq(g->value->as.i, w->value->as.i, "%s: %s = %lld, Werkzeug has %lld", id, w->key,
                         (long long)g->value->as.i, (long long)w->value->as.i);
        } else if (strcmp(type, "float") == 0) {
            cr_expect_eq(g->value->type, VIAL_DOUBLE, "%s: %s is not a float", id, w->key);
            double want_d = w->value->type == VIAL_INT ? (double)w->value->as.i : w->value->as.d;
            cr_expect_eq(g->value->as.d, want_d, "%s: %s = %.17g, Werkzeug has %.17g", id, w->key, g->value->as.d,
                         want_d);
        } else {
            /* str, and uuid as its canonical str() */
            cr_expect(strcmp(type, "str") == 0 || strcmp(type, "uuid") == 0, "%s: unexpected type %s", id, type);
            cr_expect_eq(g->value->type, VIAL_STRING, "%s: %s is not a string", id, w->key);
            cr_expect_str_eq(vial_str_of(g->value), vial_str_of(w->value), "%s: %s = '%s', Werkzeug has '%s'", id,
                             w->key, vial_str_of(g->value), vial_str_of(w->value));
        }
    }
}

static vial_route_match run_match(const vial_router *r, const char *method, const char *target, const char *path_info,
                                  const char *id) {
    /* the request line as a client sends it: no fragment, path and query split at '?' */
    const char *hash = strchr(target, '#');
    size_t tlen = hash ? (size_t)(hash - target) : strlen(target);
    const char *q = memchr(target, '?', tlen);
    size_t plen = q ? (size_t)(q - target) : tlen;
    vial_route_request rq = {
        .method = vial_method_from_name(method, strlen(method)),
        .path = {target, plen},
        .query = {q ? q + 1 : "", q ? tlen - plen - 1 : 0},
        .scheme = VIAL_STR("http"),
        .host = VIAL_STR("localhost"),
    };
    vial_route_match m;
    cr_assert_eq(vial_router_match(r, arena, &rq, &m), 0, "%s: match failed", id);
    /* the same request with PATH_INFO already decoded (as a WSGI server gives it) */
    vial_route_request decoded = rq;
    decoded.path = (vial_str){path_info, strlen(path_info)};
    decoded.path_decoded = true;
    vial_route_match m2;
    cr_assert_eq(vial_router_match(r, arena, &decoded, &m2), 0);
    cr_expect_eq(m2.status, m.status, "%s: decoded path gives another result", id);
    cr_expect_eq(m2.rule, m.rule, "%s: decoded path gives another rule", id);
    return m;
}

static const char *status_name(vial_route_status s) {
    switch (s) {
    case VIAL_ROUTE_FOUND: return "match";
    case VIAL_ROUTE_NOT_FOUND: return "not_found";
    case VIAL_ROUTE_METHOD_NOT_ALLOWED: return "method_not_allowed";
    case VIAL_ROUTE_REDIRECT: return "redirect";
    }
    return "?";
}

static size_t checked_match, checked_plain, checked_build, checked_flask_build;

static void check_match_case(const vial_value *c, bool plain) {
    const char *id = vial_get_str(c, "id");
    const char *method = vial_get_str(c, "method");
    vial_value *wz = vial_object_get(c, "werkzeug");
    vial_value *http = vial_object_get(c, "flask_http");
    const char *result = vial_get_str(wz, "result");
    vial_route_match m =
        run_match(plain ? plain_router : flask_router, method, vial_get_str(c, "target"), vial_get_str(c, "path_info"), id);
    char buf[256], buf2[256];

    if (strcmp(id, "req_063") == 0) {
        /* Deliberate difference (see the top of this file): 2**64-ish does not fit int64 -> 404. */
        cr_expect_str_eq(result, "match");
        cr_expect_eq(m.status, VIAL_ROUTE_NOT_FOUND, "%s: a number past int64 must not match", id);
        return;
    }
    cr_expect_str_eq(status_name(m.status), result, "%s (%s %s): %s, Werkzeug says %s", id, method,
                     vial_get_str(c, "target"), status_name(m.status), result);
    if (strcmp(result, "match") == 0 && m.status == VIAL_ROUTE_FOUND) {
        cr_expect_str_eq(m.endpoint, vial_get_str(wz, "endpoint"), "%s: endpoint %s, Werkzeug has %s", id, m.endpoint,
                         vial_get_str(wz, "endpoint"));
        cr_expect_str_eq(m.rule->rule, vial_get_str(wz, "rule"), "%s: rule", id);
        if (!plain) cr_expect_eq(m.handler, handler_for(m.endpoint), "%s: handler", id);
        vial_value empty = {.type = VIAL_OBJECT};
        check_args(id, m.args ? m.args : &empty, vial_object_get(wz, "args"), vial_object_get(wz, "arg_types"));
    } else if (strcmp(result, "redirect") == 0 && m.status == VIAL_ROUTE_REDIRECT) {
        /* the Location header as sent (Flask's response: IRI converted to URI) */
        const char *want = http ? vial_get_str(http, "location") : vial_get_str(wz, "location");
        cr_expect_eq(m.redirect_code, 308, "%s", id);
        cr_expect_str_eq(m.location, want, "%s: Location %s, Werkzeug sends %s", id, m.location, want);
        if (http) cr_expect_eq(vial_get_int(http, "status", 0), 308, "%s", id);
    } else if (strcmp(result, "method_not_allowed") == 0 && m.status == VIAL_ROUTE_METHOD_NOT_ALLOWED) {
        cr_expect_str_eq(allowed_text(m.allowed, buf, sizeof buf), joined(vial_object_get(wz, "allowed"), buf2, sizeof buf2),
                         "%s: Allow %s, Werkzeug allows %s", id, buf, buf2);
    }

    if (!http) return;
    /* what Flask does on top of the match */
    int status = (int)vial_get_int(http, "status", 0);
    vial_value *allow = vial_object_get(http, "allow_sorted");
    if (m.status == VIAL_ROUTE_FOUND && m.rule->auto_options && m.rule &&
        vial_method_from_name(method, strlen(method)) == VIAL_OPTIONS) {
        /* automatic OPTIONS: 200 with the methods of every rule matching the path */
        cr_expect_eq(status, 200, "%s", id);
        cr_assert(allow, "%s: Flask sent no Allow", id);
        unsigned bits = vial_router_allowed_methods(flask_router, arena, (vial_str){vial_get_str(c, "path_info"),
                                                                                     strlen(vial_get_str(c, "path_info"))},
                                                    true);
        cr_expect_str_eq(allowed_text(bits, buf, sizeof buf), joined(allow, buf2, sizeof buf2),
                         "%s: OPTIONS Allow %s, Flask sends %s", id, buf, buf2);
    } else if (m.status == VIAL_ROUTE_FOUND) {
        vial_value *view = vial_object_get(http, "view_called");
        if (view) cr_expect_str_eq(vial_get_str(view, "endpoint"), m.endpoint, "%s: view", id);
        else cr_expect_str_eq(m.endpoint, "static", "%s: only the static view answers 404 itself", id);
    } else if (m.status == VIAL_ROUTE_METHOD_NOT_ALLOWED) {
        cr_expect_eq(status, 405, "%s", id);
        cr_expect_str_eq(allowed_text(m.allowed, buf, sizeof buf), joined(allow, buf2, sizeof buf2), "%s: Allow", id);
    } else if (m.status == VIAL_ROUTE_NOT_FOUND) {
        cr_expect_eq(status, 404, "%s", id);
    }
}

/* JSON vector value -> vial value ({"$uuid": ...} becomes its string). */
static vial_value *typed_value(vial_value *v) {
    if (v->type == VIAL_OBJECT && vial_len(v) == 1 && v->as.obj.items[0].key[0] == '$') {
        cr_assert_str_eq(v->as.obj.items[0].key, "$uuid", "unexpected marker %s", v->as.obj.items[0].key);
        return v->as.obj.items[0].value;
    }
    return v;
}

static void check_build_case(const vial_value *c, bool flask_only) {
    const char *id = vial_get_str(c, "id");
    const char *endpoint = vial_get_str(c, "endpoint");
    vial_value *values = vial_object_get(c, "values");
    vial_value *plain_values = vial_new_object(arena);
    vial_url_opts opts = {.default_method = VIAL_GET, .host = "localhost", .url_scheme = "http"};
    for (size_t i = 0; i < vial_len(values); i++) {
        const vial_member *mb = &values->as.obj.items[i];
        if (strcmp(mb->key, "_external") == 0)
            opts.external = vial_truthy(mb->value) ? VIAL_EXTERNAL_YES : VIAL_EXTERNAL_NO;
        else if (strcmp(mb->key, "_scheme") == 0)
            opts.scheme = vial_str_of(mb->value);
        else if (strcmp(mb->key, "_anchor") == 0)
            opts.anchor = vial_str_of(mb->value);
        else if (strcmp(mb->key, "_method") == 0)
            opts.method = vial_method_from_name(vial_str_of(mb->value), mb->value->as.s.len);
        else
            vial_object_set(plain_values, mb->key, typed_value(mb->value));
    }
    const char *rm = vial_get_str(c, "request_method");
    if (rm) opts.default_method = vial_method_from_name(rm, strlen(rm));
    vial_url_error err;
    char *url = vial_router_build(flask_router, arena, endpoint, plain_values, &opts, &err);

    vial_value *flask = vial_object_get(c, "flask_url_for");
    vial_value *wz = vial_object_get(c, "werkzeug_build");
    vial_value *wants[2] = {flask, flask_only ? NULL : wz};
    for (int k = 0; k < 2; k++) {
        vial_value *want = wants[k];
        if (!want) continue;
        if (vial_get_bool(want, "ok", false)) {
            cr_expect(url, "%s: build failed: %s", id, err.message);
            if (url) cr_expect_str_eq(url, vial_get_str(want, "url"), "%s: built %s, Werkzeug builds %s", id, url,
                                      vial_get_str(want, "url"));
        } else {
            const char *exc = vial_get_str(want, "exception");
            cr_expect_null(url, "%s: built %s, Werkzeug raises %s", id, url, exc);
            int kind = strcmp(exc, "BuildError") == 0 ? VIAL_URL_BUILD_ERROR : VIAL_URL_VALUE_ERROR;
            cr_expect_eq(err.kind, kind, "%s: error kind %d for %s", id, err.kind, exc);
            cr_expect_str_eq(err.message, vial_get_str(want, "message"), "%s: message\n  got:  %s\n  want: %s", id,
                             err.message, vial_get_str(want, "message"));
        }
    }
}

Test(router_vectors, every_case) {
    vial_value *cases = vial_object_get(doc, "cases");
    size_t total = vial_len(cases);
    for (size_t i = 0; i < total; i++) {
        vial_value *c = vial_array_get(cases, i);
        const char *kind = vial_get_str(c, "kind");
        if (strcmp(kind, "match") == 0) {
            check_match_case(c, false);
            checked_match++;
        } else if (strcmp(kind, "match_plain_werkzeug") == 0) {
            check_match_case(c, true);
            checked_plain++;
        } else if (strcmp(kind, "build") == 0) {
            check_build_case(c, false);
            checked_build++;
        } else if (strcmp(kind, "build_flask_only") == 0) {
            check_build_case(c, true);
            checked_flask_build++;
        } else {
            cr_expect_fail("case %s has an unknown kind %s", vial_get_str(c, "id"), kind);
        }
    }
    /* nothing skipped: the counts of the file's README */
    cr_expect_eq(total, 261);
    cr_expect_eq(checked_match, 178);
    cr_expect_eq(checked_plain, 13);
    cr_expect_eq(checked_build + checked_flask_build, 70);
}

Test(router_vectors, rules_listed_in_registration_order) {
    vial_value *rules = vial_object_get(doc, "rules");
    cr_assert_eq(vial_router_count(flask_router), vial_len(rules));
    for (size_t i = 0; i < vial_len(rules); i++) {
        const vial_rule_info *info = vial_router_rule(flask_router, i);
        cr_expect_str_eq(info->rule, vial_get_str(vial_array_get(rules, i), "rule"));
        cr_expect_str_eq(info->endpoint, vial_get_str(vial_array_get(rules, i), "endpoint"));
        cr_expect_eq(info->index, i);
    }
}
