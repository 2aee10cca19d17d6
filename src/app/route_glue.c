/* route_glue.c - matching requests to the app's rules.
 *
 * Interim exact-path matching (issue 2's "a handler per exact path") until
 * the Werkzeug-compatible router is wired in. */
#include <string.h>

#include "app/route_glue.h"

void app_compile_routes(vial_app *app) { app->router_dirty = false; }

static const char *allow_list(vial_arena *a, unsigned methods) {
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {{VIAL_GET, "GET"},       {VIAL_HEAD, "HEAD"},       {VIAL_POST, "POST"},
                 {VIAL_PUT, "PUT"},       {VIAL_PATCH, "PATCH"},     {VIAL_DELETE, "DELETE"},
                 {VIAL_OPTIONS, "OPTIONS"}, {VIAL_TRACE, "TRACE"}, {VIAL_CONNECT, "CONNECT"}};
    vial_buf b;
    vial_buf_init(&b, a, 256);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (methods & names[i].bit) {
            if (b.len) vial_buf_puts(&b, ", ");
            vial_buf_puts(&b, names[i].name);
        }
    return vial_buf_cstr(&b);
}

void route_lookup(vial_app *app, vial_req *rq, route_result *out) {
    memset(out, 0, sizeof *out);
    const char *path = vial_path(rq);
    unsigned method = rq->ex->req.method_bit;
    unsigned allowed = 0;
    for (size_t i = 0; i < app->route_count; i++) {
        const app_route *r = &app->routes[i];
        if (strcmp(r->rule, path) != 0) continue;
        unsigned m = r->methods;
        if (m & VIAL_GET) m |= VIAL_HEAD;
        m |= VIAL_OPTIONS;
        allowed |= m;
        if (m & method) {
            out->status = ROUTE_FOUND;
            out->route = r;
            out->view_args = vial_new_object(rq->arena);
            out->allow_header = allow_list(rq->arena, m);
            return;
        }
    }
    if (allowed) {
        out->status = ROUTE_METHOD_NOT_ALLOWED;
        out->allow_header = allow_list(rq->arena, allowed);
        return;
    }
    out->status = ROUTE_NOT_FOUND;
}
