/* route_glue.c - the app's URL map: app routes into the router, requests
 * out of it, url_for, user converters, the static folders.
 *
 * Every rule goes into the router the moment it is registered, so a bad rule
 * or a duplicate fails at registration as in Flask. The router hands back,
 * per match, the index of the rule; route_map turns it into our app_route
 * (view function, blueprint). The router is rebuilt from the route list only
 * when a registered rule changes (the static folder moved or was disabled). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/route_glue.h"

static int map_route(vial_app *app, size_t route_index) {
    size_t router_index = vial_router_count(app->router) - 1;
    if (router_index >= app->route_map_cap) {
        size_t cap = app->route_map_cap ? app->route_map_cap * 2 : 32;
        while (cap <= router_index) cap *= 2;
        size_t *map = vial_arena_grow(app->arena, app->route_map, app->route_map_cap * sizeof *map, cap * sizeof *map);
        if (!map) return -1;
        app->route_map = map;
        app->route_map_cap = cap;
    }
    app->route_map[router_index] = route_index;
    return 0;
}

int app_router_add(vial_app *app, size_t route_index, vial_route_error *err) {
    const app_route *r = &app->routes[route_index];
    vial_rule_spec spec = {
        .rule = r->rule,
        .endpoint = r->endpoint,
        .methods = r->methods,
        /* The view is the endpoint's identity: one function may serve several rules. */
        .handler = r->fn ? (void *)r->fn : (void *)r->method_view,
    };
    if (vial_router_add(app->router, &spec, err) != 0) return -1;
    return map_route(app, route_index);
}

void app_compile_routes(vial_app *app) {
    app->router_dirty = false;
    vial_router *fresh = vial_router_new();
    if (!fresh) return;
    for (size_t i = 0; i < app->converter_count; i++) {
        vial_route_error err;
        if (vial_router_converter(fresh, app->converters[i].name, &app->converters[i].conv, &err) != 0)
            vial_log(VIAL_LOG_ERROR, "converter %s: %s", app->converters[i].name, err.message);
    }
    vial_router *old = app->router;
    app->router = fresh;
    for (size_t i = 0; i < app->route_count; i++) {
        if (app->routes[i].disabled) continue;
        vial_route_error err;
        if (app_router_add(app, i, &err) != 0) vial_log(VIAL_LOG_ERROR, "%s", err.message);
    }
    vial_router_free(old);
}

void route_lookup(vial_app *app, vial_req *rq, route_result *out) {
    memset(out, 0, sizeof *out);
    const vial_http_request *hr = &rq->ex->req;
    vial_route_request q = {
        .method = hr->method_bit,
        .path = hr->path.len ? hr->path : VIAL_STR("/"),
        .query = hr->query,
        /* Werkzeug's redirects (strict slashes) carry an absolute Location. */
        .host = hr->host,
        .scheme = app_settings_get(app)->proxy_x_proto > 0 ? (vial_str){vial_scheme(rq), strlen(vial_scheme(rq))}
                  : rq->ex->secure                         ? VIAL_STR("https")
                                                           : VIAL_STR("http"),
    };
    vial_route_match m;
    if (vial_router_match(app->router, rq->arena, &q, &m) != 0) vial_abort(rq, 500);
    switch (m.status) {
    case VIAL_ROUTE_FOUND: {
        /* A %00 in the path would reach a view as a C string cut short (hello.txt%00.png is
         * hello.txt): such URLs match nothing. */
        for (size_t i = 0; m.args && i < m.args->as.obj.len; i++) {
            const vial_value *v = m.args->as.obj.items[i].value;
            if (v->type == VIAL_STRING && memchr(v->as.s.ptr, '\0', v->as.s.len)) {
                out->status = ROUTE_NOT_FOUND;
                return;
            }
        }
        out->status = ROUTE_FOUND;
        out->route = &app->routes[app->route_map[m.rule->index]];
        out->view_args = m.args ? m.args : vial_new_object(rq->arena);
        out->allowed = m.rule->methods;
        out->auto_options = m.rule->auto_options;
        break;
    }
    case VIAL_ROUTE_METHOD_NOT_ALLOWED:
        out->status = ROUTE_METHOD_NOT_ALLOWED;
        out->allowed = m.allowed;
        break;
    case VIAL_ROUTE_REDIRECT:
        out->status = ROUTE_REDIRECT;
        out->location = m.location;
        out->redirect_code = m.redirect_code;
        break;
    case VIAL_ROUTE_NOT_FOUND:
    default: out->status = ROUTE_NOT_FOUND; break;
    }
}

const struct vial_router *vial_app_url_map(vial_app *app) {
    if (app->router_dirty) app_compile_routes(app);
    return app->router;
}

/* ---- url_for ---- */

char *vial_url_for_value(vial_req *rq, const char *endpoint, const vial_value *values) {
    vial_app *app = rq->app;
    vial_url_opts opts = {
        .default_method = rq->ex->req.method_bit,
        .url_scheme = vial_scheme(rq),
        .host = vial_host(rq),
        .script_root = "",
    };
    vial_value *rest = vial_new_object(rq->arena);
    if (values && values->type == VIAL_OBJECT) {
        for (size_t i = 0; i < values->as.obj.len; i++) {
            const vial_member *m = &values->as.obj.items[i];
            const char *s = vial_str_of(m->value);
            if (strcmp(m->key, "_external") == 0) {
                opts.external = vial_truthy(m->value) && !(s && (strcmp(s, "0") == 0 || strcmp(s, "false") == 0))
                                    ? VIAL_EXTERNAL_YES
                                    : VIAL_EXTERNAL_NO;
            } else if (strcmp(m->key, "_scheme") == 0) {
                opts.scheme = s;
            } else if (strcmp(m->key, "_anchor") == 0) {
                opts.anchor = s;
            } else if (strcmp(m->key, "_method") == 0) {
                opts.method = s ? vial_method_from_name(s, strlen(s)) : 0;
            } else {
                vial_object_set_ref(rest, m->key, m->key_len, m->value);
            }
        }
    }
    const char *server_name = vial_config_str(app, "SERVER_NAME");
    if (server_name && *server_name) opts.host = server_name;
    /* A blueprint-relative endpoint (".index") resolves in the current blueprint, as in Flask. */
    if (endpoint[0] == '.') {
        const char *bp = vial_blueprint_name(rq);
        endpoint = bp ? vial_arena_sprintf(rq->arena, "%s%s", bp, endpoint) : endpoint + 1;
    }
    if (app->router_dirty) app_compile_routes(app);
    vial_url_error err;
    char *url = vial_router_build(app->router, rq->arena, endpoint, rest, &opts, &err);
    if (!url) vial_abort_msg(rq, 500, "url_for: %s", err.message);
    return url;
}

char *vial_url_for(vial_req *rq, const char *endpoint, ...) {
    va_list ap;
    va_start(ap, endpoint);
    vial_value *values = vial_new_object(rq->arena);
    for (;;) {
        const char *key = va_arg(ap, const char *);
        if (!key) break;
        const char *value = va_arg(ap, const char *);
        vial_object_set(values, key, value ? vial_new_str(rq->arena, value) : vial_value_null());
    }
    va_end(ap);
    return vial_url_for_value(rq, endpoint, values);
}

/* ---- user converters ---- */

int vial_add_converter(vial_app *app, const char *name, const vial_converter *conv) {
    if (!name || !conv || app->converter_count >= sizeof app->converters / sizeof app->converters[0]) return -1;
    vial_route_error err;
    if (vial_router_converter(app->router, name, conv, &err) != 0) {
        app->last_error = vial_arena_sprintf(app->arena, "converter %s: %s", name, err.message);
        vial_log(VIAL_LOG_ERROR, "%s", app->last_error);
        return -1;
    }
    app->converters[app->converter_count].name = vial_arena_strdup(app->arena, name);
    app->converters[app->converter_count++].conv = *conv;
    return 0;
}

/* ---- static folders ---- */

static void static_view(vial_req *rq, vial_res *rs) {
    const app_route *route = rq->route;
    const char *folder = route->bp ? route->bp->static_folder : rq->app->static_folder;
    if (!folder) vial_abort(rq, 404);
    vial_send_from_directory(rs, folder, vial_param(rq, "filename"));
}

/* Adds or updates the static rule of the app (bp NULL) or a blueprint. */
int app_set_static_route(vial_app *app, vial_bp *bp, const char *url_path, bool enabled) {
    const char *endpoint = bp ? vial_arena_sprintf(app->arena, "%s.static", bp->name) : "static";
    while (url_path && *url_path && url_path[strlen(url_path) - 1] == '/')
        url_path = vial_arena_strndup(app->arena, url_path, strlen(url_path) - 1);
    const char *rule = vial_arena_sprintf(app->arena, "%s/<path:filename>", url_path ? url_path : "");
    for (size_t i = 0; i < app->route_count; i++) {
        app_route *r = &app->routes[i];
        if (r->fn == static_view && r->bp == bp) {
            r->rule = (char *)rule;
            r->disabled = !enabled;
            app_compile_routes(app);
            return 0;
        }
    }
    if (!enabled) return 0;
    return app_add_route(app, bp, rule, endpoint, VIAL_GET, static_view, NULL);
}

const char *app_allow_header(vial_req *rq) {
    char allow[160];
    vial_methods_format(allow, sizeof allow, rq->allow_bits);
    return vial_arena_strdup(rq->arena, allow);
}
