/* router_oracle - drives vial's router from JSON lines on stdin and answers
 * JSON lines, so test_router_oracle.py can compare it with the real
 * Werkzeug 2.2.2 on generated maps.
 *
 *   {"op":"reset"}                                   -> {"ok":true}
 *   {"op":"add","rule":..,"endpoint":..,"methods":[..]|null,"strict":b,"defaults":{..}|null}
 *                                                    -> {"ok":true} | {"error":msg}
 *   {"op":"match","method":..,"path":..,"query":..}  (path already decoded, as PATH_INFO)
 *        -> {"result":"match","endpoint":..,"args":{..}} | {"result":"redirect","location":..}
 *         | {"result":"405","allowed":"GET, HEAD"} | {"result":"404"}
 *   {"op":"build","endpoint":..,"values":{..},"method":..|null}
 *        -> {"url":..} | {"error":"BuildError"|"ValueError","message":..} */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vial.h"

static unsigned method_bit(const char *name) { return name ? vial_method_from_name(name, strlen(name)) : 0; }

static void reply(vial_arena *a, vial_value *v) {
    size_t len;
    char *s = vial_json_encode(a, v, 0, &len);
    fwrite(s, 1, len, stdout);
    fputc('\n', stdout);
    fflush(stdout);
}

int main(void) {
    vial_router *r = vial_router_new();
    vial_arena *a = vial_arena_new(1 << 16);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, stdin)) > 0) {
        vial_json_error jerr;
        vial_value *req = vial_json_parse(a, line, (size_t)n, 0, &jerr);
        if (!req) {
            fprintf(stderr, "router_oracle: bad request: %s\n", jerr.message);
            return 1;
        }
        const char *op = vial_get_str(req, "op");
        vial_value *out = vial_new_object(a);
        if (strcmp(op, "reset") == 0) {
            vial_router_free(r);
            r = vial_router_new();
            vial_object_set(out, "ok", vial_new_bool(a, true));
        } else if (strcmp(op, "add") == 0) {
            vial_value *methods = vial_object_get(req, "methods");
            unsigned bits = 0;
            if (!methods || methods->type != VIAL_ARRAY)
                bits = VIAL_ANY_METHOD;
            else
                for (size_t i = 0; i < vial_len(methods); i++) bits |= method_bit(vial_str_of(vial_array_get(methods, i)));
            vial_value *defaults = vial_object_get(req, "defaults");
            vial_rule_spec spec = {
                .rule = vial_get_str(req, "rule"),
                .endpoint = vial_get_str(req, "endpoint"),
                .methods = bits,
                .defaults = defaults && defaults->type == VIAL_OBJECT ? defaults : NULL,
                .strict_slashes = vial_get_bool(req, "strict", true) ? VIAL_SLASHES_STRICT : VIAL_SLASHES_LOOSE,
                .no_auto_options = true, /* a bare Werkzeug Map */
            };
            vial_route_error err;
            if (vial_router_add(r, &spec, &err) == 0)
                vial_object_set(out, "ok", vial_new_bool(a, true));
            else
                vial_object_set(out, "error", vial_new_str(a, err.message));
        } else if (strcmp(op, "match") == 0) {
            const char *path = vial_get_str(req, "path");
            vial_value *pv = vial_object_get(req, "path");
            const char *query = vial_get_str(req, "query");
            vial_route_request rq = {.method = method_bit(vial_get_str(req, "method")),
                                     .path = {path, pv->as.s.len},
                                     .path_decoded = true,
                                     .query = {query ? query : "", query ? strlen(query) : 0},
                                     .scheme = VIAL_STR("http"),
                                     .host = VIAL_STR("localhost")};
            vial_route_match m;
            if (vial_router_match(r, a, &rq, &m) != 0) {
                vial_object_set(out, "result", vial_new_str(a, "oom"));
            } else if (m.status == VIAL_ROUTE_FOUND) {
                vial_object_set(out, "result", vial_new_str(a, "match"));
                vial_object_set(out, "endpoint", vial_new_str(a, m.endpoint));
                vial_object_set(out, "args", m.args ? m.args : vial_new_object(a));
            } else if (m.status == VIAL_ROUTE_REDIRECT) {
                vial_object_set(out, "result", vial_new_str(a, "redirect"));
                vial_object_set(out, "location", vial_new_str(a, m.location));
                vial_object_set(out, "code", vial_new_int(a, m.redirect_code));
            } else if (m.status == VIAL_ROUTE_METHOD_NOT_ALLOWED) {
                char allow[128];
                vial_methods_format(allow, sizeof allow, m.allowed);
                vial_object_set(out, "result", vial_new_str(a, "405"));
                vial_object_set(out, "allowed", vial_new_str(a, allow));
            } else {
                vial_object_set(out, "result", vial_new_str(a, "404"));
            }
        } else if (strcmp(op, "build") == 0) {
            vial_url_opts opts = {.method = method_bit(vial_get_str(req, "method")), .default_method = VIAL_GET};
            vial_url_error err;
            char *url = vial_router_build(r, a, vial_get_str(req, "endpoint"), vial_object_get(req, "values"), &opts,
                                          &err);
            if (url) {
                vial_object_set(out, "url", vial_new_str(a, url));
            } else {
                vial_object_set(out, "error",
                                vial_new_str(a, err.kind == VIAL_URL_BUILD_ERROR ? "BuildError" : "ValueError"));
                vial_object_set(out, "message", vial_new_str(a, err.message));
            }
        } else {
            fprintf(stderr, "router_oracle: unknown op %s\n", op);
            return 1;
        }
        reply(a, out);
        vial_arena_reset(a);
    }
    free(line);
    vial_router_free(r);
    vial_arena_free(a);
    return 0;
}
