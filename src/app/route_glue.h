/* route_glue.h - what dispatch needs from the URL map. */
#ifndef VIAL_APP_ROUTE_GLUE_H
#define VIAL_APP_ROUTE_GLUE_H

#include "app/app.h"

typedef enum {
    ROUTE_FOUND,
    ROUTE_NOT_FOUND,
    ROUTE_METHOD_NOT_ALLOWED,
    ROUTE_REDIRECT,
} route_status;

typedef struct route_result {
    route_status status;
    const app_route *route;
    vial_value *view_args;    /* object of converted values */
    unsigned allowed;         /* methods of the rule (FOUND) or of every matching rule (405) */
    const char *location;     /* ROUTE_REDIRECT */
    int redirect_code;
    bool auto_options; /* OPTIONS is answered by the app for this rule */
} route_result;

/* Matches the request's path and method against the app's rules. */
void route_lookup(vial_app *app, vial_req *rq, route_result *out);
/* Puts app->routes[route_index] into the router; -1 with err on a bad or duplicate rule. */
int app_router_add(vial_app *app, size_t route_index, vial_route_error *err);
/* Adds or updates the static rule of the app (bp NULL) or of a blueprint. */
int app_set_static_route(vial_app *app, vial_bp *bp, const char *url_path, bool enabled);

#endif
