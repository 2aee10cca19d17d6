/* dispatch.c - one request through the app, in Flask's order.
 *
 *   extensions' open (session) → before_request (app, then blueprint) →
 *   routing result (404 / 405 / redirect raised here, as Flask does in
 *   dispatch_request) → the view → after_request (blueprint, then app, each
 *   newest first) → extensions' save (session cookie) → teardown (always).
 *
 * vial_abort() longjmps back here from anywhere below (a view, a hook, a
 * helper deep in a library call) with the status; the matching error handler
 * (blueprint's, then app's) or the default Werkzeug page answers. An abort
 * inside an error handler or an after_request hook ends in the default page
 * for that status, so a broken handler cannot loop. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/route_glue.h"
#include "http/parser.h"

int app_add_extension(vial_app *app, const app_extension *ext) {
    if (app->extension_count >= sizeof app->ext / sizeof app->ext[0]) return -1;
    app->ext[app->extension_count++] = *ext;
    return 0;
}

VIAL_NORETURN void vial_abort_at(vial_req *rq, int code, const char *file, int line, const char *func, const char *fmt,
                                 ...) {
    if (code < 100 || code > 999) code = 500;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        rq->abort_description = vial_arena_vsprintf(rq->arena, fmt, ap);
        va_end(ap);
    }
    rq->abort_code = code;
    rq->abort_file = file;
    rq->abort_line = line;
    rq->abort_func = func;
    if (!rq->abort_jmp) {
        /* No dispatch frame: a programming error (abort outside a request). */
        vial_log(VIAL_LOG_ERROR, "vial_abort(%d) called outside a request (%s:%d)", code, file ? file : "?", line);
        abort();
    }
    longjmp(*rq->abort_jmp, 1);
}

/* The function forms, for code that takes their address. */
VIAL_NORETURN void(vial_abort)(vial_req *rq, int code) { vial_abort_at(rq, code, NULL, 0, NULL, NULL); }

VIAL_NORETURN void(vial_abort_msg)(vial_req *rq, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    rq->abort_description = vial_arena_vsprintf(rq->arena, fmt, ap);
    va_end(ap);
    vial_abort_at(rq, code, NULL, 0, NULL, NULL);
}

const char *vial_error_description(vial_req *rq) {
    if (rq->abort_description) return rq->abort_description;
    const char *d = app_error_description(rq->abort_code ? rq->abort_code : 500);
    return d ? d : "";
}

static vial_error_handler find_error_handler(vial_req *rq, int code) {
    if (rq->route && rq->route->bp) {
        hook_set *h = &rq->route->bp->hooks;
        for (size_t i = 0; i < h->error_count; i++)
            if (h->errors[i].code == code) return h->errors[i].fn;
    }
    hook_set *h = &rq->app->hooks;
    for (size_t i = 0; i < h->error_count; i++)
        if (h->errors[i].code == code) return h->errors[i].fn;
    return NULL;
}

static void default_page(vial_req *rq, vial_res *rs, int code) {
    res_clear(rs);
    rs->http->status = code;
    const char *description = rq->abort_description;
    if (code == 500 && description) {
        /* Details of a failure are for the log, not for the client (unless debugging). */
        vial_log(VIAL_LOG_ERROR, "%s %s: 500: %s", vial_method(rq), vial_path(rq), description);
        if (!app_settings_get(rq->app)->debug) description = NULL;
    }
    if (code >= 500 && app_settings_get(rq->app)->debug) {
        app_debug_error_page(rq, rs, code);
        return;
    }
    app_default_error_page(rs, code, description);
    if (code == 405 && rq->allow_bits) vial_set_header(rs, "Allow", app_allow_header(rq));
}

/* Answers an error: the user's handler, else the default page. */
static void handle_error(vial_req *rq, vial_res *rs, int code) {
    vial_error_handler volatile fn = find_error_handler(rq, code);
    if (!fn) {
        default_page(rq, rs, code);
        return;
    }
    jmp_buf jb;
    jmp_buf *volatile outer = rq->abort_jmp;
    rq->abort_jmp = &jb;
    if (setjmp(jb) == 0) {
        res_clear(rs);
        rs->http->status = code;
        if (code == 405 && rq->allow_bits) vial_set_header(rs, "Allow", app_allow_header(rq));
        fn(rq, rs, code);
    } else {
        vial_log(VIAL_LOG_ERROR, "the error handler for %d aborted with %d", code, rq->abort_code);
        default_page(rq, rs, rq->abort_code);
    }
    rq->abort_jmp = outer;
}

static void call_view(vial_req *rq, vial_res *rs) {
    const app_route *route = rq->route;
    unsigned method = rq->ex->req.method_bit;
    if (route->method_view) {
        const vial_method_table *t = route->method_view;
        vial_handler fn = NULL;
        switch (method) {
        case VIAL_GET: fn = t->get; break;
        case VIAL_HEAD: fn = t->head ? t->head : t->get; break;
        case VIAL_POST: fn = t->post; break;
        case VIAL_PUT: fn = t->put; break;
        case VIAL_PATCH: fn = t->patch; break;
        case VIAL_DELETE: fn = t->delete_; break;
        case VIAL_OPTIONS: fn = t->options; break;
        default: break;
        }
        if (!fn) vial_abort(rq, 405);
        fn(rq, rs);
        return;
    }
    route->fn(rq, rs);
}

static bool run_before(vial_req *rq, vial_res *rs) {
    vial_app *app = rq->app;
    for (size_t i = 0; i < app->extension_count; i++)
        if (app->ext[i].before && app->ext[i].before(rq, rs, app->ext[i].data)) return true;
    for (size_t i = 0; i < app->hooks.before_count; i++)
        if (app->hooks.before[i](rq, rs)) return true;
    if (rq->route && rq->route->bp) {
        hook_set *h = &rq->route->bp->hooks;
        for (size_t i = 0; i < h->before_count; i++)
            if (h->before[i](rq, rs)) return true;
    }
    return false;
}

static void run_after(vial_req *rq, vial_res *rs) {
    vial_app *app = rq->app;
    if (rq->route && rq->route->bp) {
        hook_set *h = &rq->route->bp->hooks;
        for (size_t i = h->after_count; i-- > 0;) h->after[i](rq, rs);
    }
    for (size_t i = app->hooks.after_count; i-- > 0;) app->hooks.after[i](rq, rs);
}

static void run_extension_after(vial_req *rq, vial_res *rs) {
    vial_app *app = rq->app;
    for (size_t i = app->extension_count; i-- > 0;)
        if (app->ext[i].after) app->ext[i].after(rq, rs, app->ext[i].data);
}

static void run_teardown(vial_req *rq, int status) {
    vial_app *app = rq->app;
    if (rq->route && rq->route->bp) {
        hook_set *h = &rq->route->bp->hooks;
        for (size_t i = h->teardown_count; i-- > 0;) h->teardown[i](rq, status);
    }
    for (size_t i = app->hooks.teardown_count; i-- > 0;) app->hooks.teardown[i](rq, status);
    for (size_t i = app->extension_count; i-- > 0;)
        if (app->ext[i].teardown) app->ext[i].teardown(rq, status, app->ext[i].data);
}

void app_dispatch(vial_app *app, vial_exchange *ex, vial_req *rq, vial_res *rs) {
    memset(rq, 0, sizeof *rq);
    rq->ex = ex;
    rq->app = app;
    rq->arena = ex->arena;
    rq->res = rs;
    res_init(rs, rq, &ex->res);
    if (app->router_dirty) app_compile_routes(app);

    jmp_buf jb;
    rq->abort_jmp = &jb;
    if (setjmp(jb) == 0) {
        route_result match;
        route_lookup(app, rq, &match);
        rq->route = match.route;
        rq->view_args = match.view_args;
        rq->allow_bits = match.allowed;
        if (!run_before(rq, rs)) {
            switch (match.status) {
            case ROUTE_FOUND:
                if (ex->req.method_bit == VIAL_OPTIONS && match.auto_options) {
                    /* Automatic OPTIONS: 200 with Allow listing every rule that matches the path,
                     * as Flask's provide_automatic_options. */
                    rq->allow_bits = vial_router_allowed_methods(app->router, rq->arena, ex->req.path, false);
                    vial_set_header(rs, "Allow", app_allow_header(rq));
                    rs->http->body_kind = VIAL_BODY_BYTES;
                    break;
                }
                call_view(rq, rs);
                break;
            case ROUTE_REDIRECT: vial_redirect(rs, match.location, match.redirect_code); break;
            case ROUTE_METHOD_NOT_ALLOWED: vial_abort(rq, 405);
            case ROUTE_NOT_FOUND:
            default: vial_abort(rq, 404);
            }
        }
    } else {
        handle_error(rq, rs, rq->abort_code);
    }

    /* after_request hooks see every response, error pages included (Flask's finalize_request). */
    if (setjmp(jb) == 0) {
        run_after(rq, rs);
    } else {
        vial_log(VIAL_LOG_ERROR, "an after_request hook aborted with %d", rq->abort_code);
        default_page(rq, rs, rq->abort_code);
    }
    if (setjmp(jb) == 0) {
        run_extension_after(rq, rs);
    } else {
        default_page(rq, rs, rq->abort_code);
    }
    res_finalize(rs);
    app_maybe_gzip(rq, rs);
    if (ex->req.method_bit == VIAL_HEAD) rs->http->head = true;
    rq->abort_jmp = NULL;
    run_teardown(rq, rs->http->status);
}

void vial_app_handle_exchange(void *ctx, vial_exchange *ex) {
    vial_app *app = ctx;
    vial_req *rq = vial_arena_alloc(ex->arena, sizeof *rq);
    vial_res *rs = vial_arena_alloc(ex->arena, sizeof *rs);
    if (!rq || !rs) {
        /* Out of memory before anything could be built: a bare 500. */
        memset(&ex->res, 0, sizeof ex->res);
        ex->res.status = 500;
        ex->res.close = true;
        ex->res.file_fd = -1;
        return;
    }
    app_dispatch(app, ex, rq, rs);
}
