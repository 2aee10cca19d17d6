/* session/session_req.h - the session layer inside a request (not public).
 *
 * The crypto core (signer, tagged JSON, cookie format, passwords) knows
 * nothing about requests. The files declared here put it on the app: the
 * per-request session (opened on first use, saved when the response is
 * finished), its two stores (the signed cookie, Redis), flash messages, CSRF
 * protection and the login helpers. They share one app extension, so the
 * order of their request-end work is fixed here and not by the order in
 * which an app happened to enable them: the remember-me cookie is decided
 * before the session is saved. */
#ifndef VIAL_SESSION_SESSION_REQ_H
#define VIAL_SESSION_SESSION_REQ_H

#include "app/app.h"
#include "vial.h"

/* app->extensions[] slot owned by the session layer (app.h lists "session" first). */
#define SESSION_EXTENSION_SLOT 0

#define SESSION_MAX_EXEMPT 64
#define SESSION_MAX_BP_VIEWS 32

/* What the app enabled (CSRFProtect, LoginManager), kept for the app's life. */
typedef struct session_app {
    bool registered; /* the extension is on the app */
    /* CSRFProtect(app) */
    bool csrf_protect;
    const char *csrf_exempt_views[SESSION_MAX_EXEMPT];
    size_t csrf_exempt_view_count;
    const char *csrf_exempt_bps[SESSION_MAX_EXEMPT];
    size_t csrf_exempt_bp_count;
    /* LoginManager(app) */
    bool login_manager;
    vial_login_options login;
    const char *protected_views[SESSION_MAX_EXEMPT]; /* login required; "bp.*": a whole blueprint */
    size_t protected_view_count;
    struct {
        const char *bp, *view;
    } bp_login_views[SESSION_MAX_BP_VIEWS];
    size_t bp_login_view_count;
} session_app;

/* One request's session and the things derived from it. */
typedef struct session_req {
    vial_value *data;  /* the session dict; NULL until opened */
    bool opened;
    bool null_session; /* no SECRET_KEY: reads empty, writing is an error (Flask's NullSession) */
    bool accessed;     /* read or written: the response varies by Cookie */
    bool modified;     /* written: the cookie (or Redis entry) must be saved */
    bool use_redis;
    bool store_failed; /* the store could not be read: nothing is saved */
    char *sid;         /* Redis sessions: the session id */
    bool sid_from_cookie;
    bool clear_requested; /* Redis: session.clear() - the old entry goes, a new id is issued */
    /* flash: request_ctx.flashes */
    vial_value *flashes;
    bool flashes_popped;
    /* login: the user loaded for this request */
    bool user_loaded;
    const char *user_id;
    vial_value *user;
    void *user_ptr;
    /* CSRF: g.csrf_token */
    const char *csrf_token;
    bool csrf_valid;
} session_req;

/* The app's session-layer state, created (and the extension registered) on first use. */
session_app *session_app_state(vial_app *app);
/* The request's session-layer state (never NULL; aborts 500 when out of memory). */
session_req *session_req_state(vial_req *rq);
/* Opens the session if it is not open yet (reads the cookie, or Redis). */
session_req *session_open(vial_req *rq);
/* Marks the session written; aborts with Flask's message when it is a null session. */
void session_touch_write(vial_req *rq, session_req *s);
/* Writes the session out (cookie or Redis) as Flask's save_session; from the extension's after hook. */
void session_save(vial_req *rq, vial_res *rs, session_req *s);

/* ---- extension work of the other files, called in a fixed order ---- */

/* CSRFProtect's before_request: true when it answered (it aborts 400 instead). */
bool csrf_before_request(vial_req *rq, vial_res *rs, session_app *app);
/* LoginManager: endpoints marked login-required; true when it answered (redirect / 401). */
bool login_before_request(vial_req *rq, vial_res *rs, session_app *app);
/* Flask-Login's _update_remember_cookie (after_request). */
void login_after_request(vial_req *rq, vial_res *rs, session_app *app);

/* ---- config, read tolerantly (values set from text or JSON keep working) ---- */

/* The key as an integer (ints, integral doubles, decimal text), else fallback. */
int64_t session_cfg_int(vial_app *app, const char *key, int64_t fallback);
/* The key as seconds (ints, doubles, decimal text), else fallback. */
double session_cfg_seconds(vial_app *app, const char *key, double fallback);
/* The key as a truth value (bools, ints, "true"/"false"/"1"/"0"...), else fallback. */
bool session_cfg_bool(vial_app *app, const char *key, bool fallback);
/* The key as a non-empty string, else fallback. */
const char *session_cfg_str(vial_app *app, const char *key, const char *fallback);
/* SECRET_KEY then SECRET_KEY_FALLBACKS as a key list (arena); 0 keys when SECRET_KEY is unset or empty. */
size_t session_secret_keys(vial_req *rq, vial_str **keys_out);
/* The current time in seconds since the epoch. */
int64_t session_now(void);

/* ---- Redis (redis_conn.c, session_redis.c) ---- */

/* A Redis reply reduced to what the session store needs. */
typedef struct redis_result {
    int kind;      /* REDIS_RESULT_* */
    vial_str str;  /* BULK/STATUS/ERROR text (arena memory) */
    long long integer;
} redis_result;
enum { REDIS_RESULT_NIL, REDIS_RESULT_STRING, REDIS_RESULT_STATUS, REDIS_RESULT_INTEGER, REDIS_RESULT_ERROR, REDIS_RESULT_OTHER };

/* Runs one command (argv/argvlen as hiredis' redisCommandArgv) against url,
 * every wait parked on the worker's loop with timeout_ms for each step.
 * Returns 0 with *out filled (arena memory), or -1 with err naming the
 * failure (the connection is dropped and the next call reconnects). */
int session_redis_command(vial_arena *a, const char *url, int timeout_ms, int argc, const char **argv,
                          const size_t *argvlen, redis_result *out, char *err, size_t errlen);
/* Closes this process's idle Redis connections (worker exit, tests). */
void session_redis_close_all(void);

/* The Redis store: load at open, save/delete at the end of the request.
 * Each aborts the request with 503 (and logs why) when Redis fails. */
void session_redis_open(vial_req *rq, session_req *s, const vial_str *keys, size_t nkeys);
void session_redis_save(vial_req *rq, vial_res *rs, session_req *s);

/* ---- cookie attributes shared by the stores ---- */

/* SESSION_COOKIE_* as cookie options (no expiry set). */
vial_cookie_opts session_cookie_opts(vial_app *app);
/* response.vary.add("Cookie"). */
void session_vary_cookie(vial_res *rs);

#endif
