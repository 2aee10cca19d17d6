/* app.c - the application object: creation, route and hook registration,
 * blueprints.
 *
 * Registration happens in main() before the server starts; a mistake there
 * (a duplicate endpoint, a bad rule) is a programming error that Flask raises
 * at import time, so we log it, remember it (vial_app_error) and make
 * vial_main refuse to start rather than serve a half-built app. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "app/app.h"
#include "app/route_glue.h"

vial_app *vial_app_create(const char *name, const vial_route_decl *const *decls_start,
                          const vial_route_decl *const *decls_end) {
    vial_arena *arena = vial_arena_new(64 * 1024);
    if (!arena) return NULL;
    vial_app *app = vial_arena_calloc(arena, sizeof *app);
    if (!app) {
        vial_arena_free(arena);
        return NULL;
    }
    app->arena = arena;
    app->name = vial_arena_strdup(arena, name ? name : "app");
    app->config = vial_new_object(arena);
    char cwd[4096];
    app->root_path = vial_arena_strdup(arena, getcwd(cwd, sizeof cwd) ? cwd : ".");
    app->static_folder = vial_arena_strdup(arena, "static");
    app->static_url_path = vial_arena_strdup(arena, "/static");
    app->template_folder = vial_arena_strdup(arena, "templates");
    app->router = vial_router_new();
    if (!app->router) {
        vial_arena_free(arena);
        return NULL;
    }
    app_config_defaults(app);
    app_set_static_route(app, NULL, app->static_url_path, true);
    if (decls_start && decls_end) {
        for (const vial_route_decl *const *d = decls_start; d < decls_end; d++)
            if (*d) vial_add_url_rule(app, (*d)->rule, (*d)->endpoint, (*d)->methods, (*d)->fn);
    }
    return app;
}

void vial_app_free(vial_app *app) {
    if (!app) return;
    vial_router_free(app->router);
    vial_arena_free(app->arena);
}

const char *vial_app_name(const vial_app *app) { return app->name; }
vial_arena *vial_app_arena(vial_app *app) { return app->arena; }
const char *vial_app_error(const vial_app *app) { return app->last_error; }
const char *vial_app_root(const vial_app *app) { return app->root_path; }

int vial_app_set_root(vial_app *app, const char *path) {
    if (!path) return -1;
    app->root_path = vial_arena_strdup(app->arena, path);
    return app->root_path ? 0 : -1;
}

int vial_app_static(vial_app *app, const char *folder, const char *url_path) {
    app->static_folder = folder ? vial_arena_strdup(app->arena, folder) : NULL;
    if (url_path) {
        size_t n = strlen(url_path);
        while (n > 0 && url_path[n - 1] == '/') n--;
        app->static_url_path = vial_arena_strndup(app->arena, url_path, n);
    }
    return app_set_static_route(app, NULL, app->static_url_path, app->static_folder != NULL);
}

static int registration_error(vial_app *app, const char *fmt, const char *a, const char *b) {
    app->setup_failed = true;
    app->last_error = vial_arena_sprintf(app->arena, fmt, a, b);
    vial_log(VIAL_LOG_ERROR, "%s", app->last_error);
    return -1;
}

int app_add_route(vial_app *app, vial_bp *bp, const char *rule, const char *endpoint, unsigned methods,
                  vial_handler fn, const vial_method_table *view) {
    if (!rule || !endpoint || !*endpoint) return registration_error(app, "route %s%s: rule and endpoint are required", rule ? rule : "(null)", "");
    if (!fn && !view) return registration_error(app, "route %s (%s): no view function", rule, endpoint);
    if (rule[0] != '/') return registration_error(app, "urls must start with a leading slash: %s (%s)", rule, endpoint);
    if (strchr(endpoint, '.') && !bp)
        return registration_error(app, "'endpoint' may not contain a dot '.' character: %s%s", endpoint, "");
    for (size_t i = 0; i < app->route_count; i++) {
        app_route *r = &app->routes[i];
        if (strcmp(r->endpoint, endpoint) == 0 && (r->fn != fn || r->method_view != view))
            return registration_error(app,
                                      "View function mapping is overwriting an existing endpoint function: %s%s",
                                      endpoint, "");
    }
    /* Flask's methods=["get", "post"] are case-insensitive names; ours are bits already. */
    if (app->route_count == app->route_cap) {
        size_t cap = app->route_cap ? app->route_cap * 2 : 16;
        app_route *routes = vial_arena_grow(app->arena, app->routes, app->route_cap * sizeof *routes, cap * sizeof *routes);
        if (!routes) return -1;
        app->routes = routes;
        app->route_cap = cap;
    }
    if (methods == 0) methods = VIAL_GET;
    app_route *r = &app->routes[app->route_count++];
    memset(r, 0, sizeof *r);
    r->rule = vial_arena_strdup(app->arena, rule);
    r->endpoint = vial_arena_strdup(app->arena, endpoint);
    r->methods = methods;
    r->fn = fn;
    r->method_view = view;
    r->bp = bp;
    vial_route_error err;
    if (app_router_add(app, app->route_count - 1, &err) != 0) {
        app->route_count--;
        return registration_error(app, "%s%s", err.message, "");
    }
    return 0;
}

int vial_add_url_rule(vial_app *app, const char *rule, const char *endpoint, unsigned methods, vial_handler fn) {
    return app_add_route(app, NULL, rule, endpoint, methods, fn, NULL);
}

static unsigned methods_of_table(const vial_method_table *t) {
    unsigned m = 0;
    if (t->get) m |= VIAL_GET;
    if (t->post) m |= VIAL_POST;
    if (t->put) m |= VIAL_PUT;
    if (t->patch) m |= VIAL_PATCH;
    if (t->delete_) m |= VIAL_DELETE;
    if (t->head) m |= VIAL_HEAD;
    if (t->options) m |= VIAL_OPTIONS;
    return m;
}

int vial_method_view(vial_app *app, const char *rule, const char *endpoint, const vial_method_table *methods) {
    if (!methods) return -1;
    return app_add_route(app, NULL, rule, endpoint, methods_of_table(methods), NULL, methods);
}

unsigned vial_methods(const char *names) {
    static const struct {
        const char *name;
        unsigned bit;
    } table[] = {{"GET", VIAL_GET},       {"HEAD", VIAL_HEAD},         {"POST", VIAL_POST},
                 {"PUT", VIAL_PUT},       {"DELETE", VIAL_DELETE},     {"PATCH", VIAL_PATCH},
                 {"OPTIONS", VIAL_OPTIONS}, {"TRACE", VIAL_TRACE}, {"CONNECT", VIAL_CONNECT}};
    unsigned bits = 0;
    const char *p = names;
    while (p && *p) {
        while (*p == ' ' || *p == ',' || *p == '|' || *p == '\t') p++;
        const char *start = p;
        while (*p && *p != ' ' && *p != ',' && *p != '|' && *p != '\t') p++;
        size_t n = (size_t)(p - start);
        if (!n) break;
        unsigned bit = 0;
        for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
            if (strlen(table[i].name) == n && strncasecmp(table[i].name, start, n) == 0) bit = table[i].bit;
        if (!bit) return 0;
        bits |= bit;
    }
    return bits;
}

/* ---- hooks ---- */

static void add_before(vial_app *app, hook_set *h, vial_before_hook fn) {
    if (h->before_count < VIAL_MAX_HOOKS)
        h->before[h->before_count++] = fn;
    else
        registration_error(app, "too many before_request hooks%s%s", "", "");
}
static void add_after(vial_app *app, hook_set *h, vial_after_hook fn) {
    if (h->after_count < VIAL_MAX_HOOKS)
        h->after[h->after_count++] = fn;
    else
        registration_error(app, "too many after_request hooks%s%s", "", "");
}
static void add_teardown(vial_app *app, hook_set *h, vial_teardown_hook fn) {
    if (h->teardown_count < VIAL_MAX_HOOKS)
        h->teardown[h->teardown_count++] = fn;
    else
        registration_error(app, "too many teardown_request hooks%s%s", "", "");
}
static void add_error_handler(vial_app *app, hook_set *h, int code, vial_error_handler fn) {
    for (size_t i = 0; i < h->error_count; i++)
        if (h->errors[i].code == code) {
            h->errors[i].fn = fn;
            return;
        }
    if (code < 100 || code > 999) {
        registration_error(app, "errorhandler: %s is not an HTTP status code%s", vial_arena_sprintf(app->arena, "%d", code), "");
        return;
    }
    if (h->error_count < sizeof h->errors / sizeof h->errors[0]) h->errors[h->error_count++] = (error_handler){code, fn};
}

void vial_before_request(vial_app *app, vial_before_hook fn) { add_before(app, &app->hooks, fn); }
void vial_after_request(vial_app *app, vial_after_hook fn) { add_after(app, &app->hooks, fn); }
void vial_teardown_request(vial_app *app, vial_teardown_hook fn) { add_teardown(app, &app->hooks, fn); }
void vial_errorhandler(vial_app *app, int code, vial_error_handler fn) { add_error_handler(app, &app->hooks, code, fn); }

/* ---- blueprints ---- */

vial_bp *vial_blueprint(vial_app *app, const char *name, const char *url_prefix) {
    if (!name || !*name || strchr(name, '.')) {
        registration_error(app, "blueprint name %s is invalid ('.' is not allowed)%s", name ? name : "(null)", "");
        return NULL;
    }
    for (size_t i = 0; i < app->bp_count; i++)
        if (strcmp(app->bps[i]->name, name) == 0) {
            registration_error(app, "The name '%s' is already registered for a different blueprint%s", name, "");
            return NULL;
        }
    if (app->bp_count >= sizeof app->bps / sizeof app->bps[0]) return NULL;
    vial_bp *bp = vial_arena_calloc(app->arena, sizeof *bp);
    if (!bp) return NULL;
    bp->app = app;
    bp->name = vial_arena_strdup(app->arena, name);
    size_t n = url_prefix ? strlen(url_prefix) : 0;
    while (n > 0 && url_prefix[n - 1] == '/') n--;
    bp->url_prefix = vial_arena_strndup(app->arena, url_prefix ? url_prefix : "", n);
    app->bps[app->bp_count++] = bp;
    return bp;
}

static char *bp_rule(vial_bp *bp, const char *rule) {
    /* Flask's BlueprintSetupState: "/".join((prefix.rstrip("/"), rule.lstrip("/"))), and an
     * empty rule is the prefix itself. */
    if (!rule) return NULL;
    if (!*bp->url_prefix) return vial_arena_strdup(bp->app->arena, rule);
    if (!*rule) return vial_arena_strdup(bp->app->arena, bp->url_prefix);
    while (*rule == '/') rule++;
    return vial_arena_sprintf(bp->app->arena, "%s/%s", bp->url_prefix, rule);
}

int vial_bp_add_url_rule(vial_bp *bp, const char *rule, const char *endpoint, unsigned methods, vial_handler fn) {
    if (!bp || !endpoint) return -1;
    if (strchr(endpoint, '.'))
        return registration_error(bp->app, "'endpoint' may not contain a dot '.' character: %s%s", endpoint, "");
    const char *full = vial_arena_sprintf(bp->app->arena, "%s.%s", bp->name, endpoint);
    const char *r = bp_rule(bp, rule);
    return app_add_route(bp->app, bp, r && *r ? r : "/", full, methods, fn, NULL);
}

int vial_bp_method_view(vial_bp *bp, const char *rule, const char *endpoint, const vial_method_table *methods) {
    if (!bp || !endpoint || !methods) return -1;
    const char *full = vial_arena_sprintf(bp->app->arena, "%s.%s", bp->name, endpoint);
    const char *r = bp_rule(bp, rule);
    return app_add_route(bp->app, bp, r && *r ? r : "/", full, methods_of_table(methods), NULL, methods);
}

void vial_bp_before_request(vial_bp *bp, vial_before_hook fn) { add_before(bp->app, &bp->hooks, fn); }
void vial_bp_after_request(vial_bp *bp, vial_after_hook fn) { add_after(bp->app, &bp->hooks, fn); }
void vial_bp_teardown_request(vial_bp *bp, vial_teardown_hook fn) { add_teardown(bp->app, &bp->hooks, fn); }
void vial_bp_errorhandler(vial_bp *bp, int code, vial_error_handler fn) { add_error_handler(bp->app, &bp->hooks, code, fn); }

int vial_bp_static(vial_bp *bp, const char *folder, const char *url_path) {
    bp->static_folder = folder ? vial_arena_strdup(bp->app->arena, folder) : NULL;
    /* Flask: a blueprint's static_url_path is under its url_prefix. */
    if (url_path)
        bp->static_url_path = vial_arena_sprintf(bp->app->arena, "%s%s", bp->url_prefix, url_path);
    else
        bp->static_url_path = vial_arena_sprintf(bp->app->arena, "%s/static", bp->url_prefix);
    return app_set_static_route(bp->app, bp, bp->static_url_path, bp->static_folder != NULL);
}

int vial_bp_templates(vial_bp *bp, const char *folder) {
    bp->template_folder = folder ? vial_arena_strdup(bp->app->arena, folder) : NULL;
    return 0;
}
