/* session_state.c - the session layer's place on the app and on each request.
 *
 * Flask always has a session; so does vial, without the app asking for it:
 * the first time anything in this layer is used for an app (a view touching
 * the session, vial_csrf_protect, vial_login_manager) it adds one extension
 * to the app. That extension does the layer's request work in a fixed
 * order, whatever order the features were enabled in:
 *
 *   before: CSRF check (CSRFProtect), then login-required endpoints
 *   after:  the remember-me cookie (Flask-Login), then saving the session
 *
 * Nothing here parses a cookie: a request that never touches the session
 * costs one pointer check at its end. */
#include <string.h>

#include "session/session_req.h"

static bool ext_before(vial_req *rq, vial_res *rs, void *data) {
    session_app *sa = data;
    if (sa->csrf_protect && csrf_before_request(rq, rs, sa)) return true;
    if (sa->login_manager && login_before_request(rq, rs, sa)) return true;
    return false;
}

static void ext_after(vial_req *rq, vial_res *rs, void *data) {
    session_app *sa = data;
    if (sa->login_manager) login_after_request(rq, rs, sa);
    session_req *s = rq->session;
    if (s && s->opened) session_save(rq, rs, s);
}

session_app *session_app_state(vial_app *app) {
    session_app *sa = app->extensions[SESSION_EXTENSION_SLOT];
    if (sa && sa->registered) return sa;
    if (!sa) {
        sa = vial_arena_calloc(app->arena, sizeof *sa);
        if (!sa) {
            vial_log(VIAL_LOG_ERROR, "session: out of memory");
            return NULL;
        }
        app->extensions[SESSION_EXTENSION_SLOT] = sa;
    }
    app_extension ext = {.before = ext_before, .after = ext_after, .data = sa};
    if (app_add_extension(app, &ext) != 0) {
        vial_log(VIAL_LOG_ERROR, "session: the app has no room for another extension; sessions are not saved");
        return sa;
    }
    sa->registered = true;
    return sa;
}

session_req *session_req_state(vial_req *rq) {
    if (!rq->session) {
        session_req *s = vial_arena_calloc(rq->arena, sizeof *s);
        if (!s) vial_abort(rq, 500);
        rq->session = s;
    }
    return rq->session;
}
