/* session.c - flask.session: the per-request session dict.
 *
 * Opened on first use from the store SESSION_TYPE names: the signed cookie
 * (Flask's SecureCookieSessionInterface) or Redis (Flask-Session's
 * RedisSessionInterface). The dict keeps Flask's two flags: accessed (any
 * read or write: the response varies by Cookie) and modified (a write: the
 * session must be saved), set by exactly the operations that set them in
 * Flask, so the same requests produce Set-Cookie lines in both frameworks.
 *
 * With no SECRET_KEY the session is Flask's NullSession: it reads as empty,
 * and any write ends the request with a 500 carrying Flask's message. A
 * cookie that does not verify (tampered, expired, signed with an unknown
 * key, undecodable) is an empty session, never an error. */
#include <string.h>
#include <strings.h>

#include "session/session_req.h"

session_req *session_open(vial_req *rq) {
    session_req *s = session_req_state(rq);
    if (s->opened) return s;
    vial_app *app = rq->app;
    if (!session_app_state(app)) vial_abort(rq, 500);
    s->opened = true;
    s->data = vial_new_object(rq->arena);
    if (!s->data) vial_abort(rq, 500);
    const char *type = session_cfg_str(app, "SESSION_TYPE", "cookie");
    vial_str *keys;
    size_t nkeys = session_secret_keys(rq, &keys);
    if (strcasecmp(type, "redis") == 0) {
        s->use_redis = true;
        if (nkeys == 0) {
            s->null_session = true; /* the session id is signed: no key, no session */
            return s;
        }
        session_redis_open(rq, s, keys, nkeys);
        return s;
    }
    if (strcasecmp(type, "cookie") != 0) {
        s->null_session = true;
        vial_abort_msg(rq, 500, "SESSION_TYPE '%s' is not supported: use \"cookie\" or \"redis\"", type);
    }
    if (nkeys == 0) {
        s->null_session = true;
        return s;
    }
    const char *name = session_cfg_str(app, "SESSION_COOKIE_NAME", "session");
    const char *cookie = vial_cookie(rq, name);
    if (!cookie || !*cookie) return s;
    int64_t lifetime = session_cfg_int(app, "PERMANENT_SESSION_LIFETIME", VIAL_SESSION_LIFETIME_DEFAULT);
    vial_sign_status why;
    vial_value *data =
        vial_session_cookie_decode(rq->arena, keys, nkeys, cookie, strlen(cookie), session_now(), lifetime, &why);
    if (!data) vial_abort(rq, 500);
    if (why != VIAL_SIGN_OK)
        vial_log(VIAL_LOG_DEBUG, "session: cookie %s refused (%s): a new session", name, vial_sign_strerror(why));
    s->data = data;
    return s;
}

void session_touch_write(vial_req *rq, session_req *s) {
    if (s->null_session) vial_abort_msg(rq, 500, "%s", VIAL_SESSION_NO_SECRET_KEY_MESSAGE);
    s->accessed = true;
    s->modified = true;
}

vial_value *vial_session_get(vial_req *rq, const char *key) {
    session_req *s = session_open(rq);
    s->accessed = true;
    return key ? vial_object_get(s->data, key) : NULL;
}

const char *vial_session_get_str(vial_req *rq, const char *key) { return vial_str_of(vial_session_get(rq, key)); }

int64_t vial_session_get_int(vial_req *rq, const char *key, int64_t fallback) {
    vial_value *v = vial_session_get(rq, key);
    if (!v) return fallback;
    if (v->type == VIAL_INT && v->tag == 0) return v->as.i;
    if (v->type == VIAL_BOOL) return v->as.b;
    return fallback;
}

bool vial_session_contains(vial_req *rq, const char *key) {
    session_req *s = session_open(rq);
    return key && vial_object_get(s->data, key) != NULL; /* `in` does not mark the session accessed, as in Flask */
}

void vial_session_set(vial_req *rq, const char *key, vial_value *value) {
    session_req *s = session_open(rq);
    session_touch_write(rq, s);
    if (!key) return;
    if (vial_object_set(s->data, key, value ? value : vial_value_null()) != 0) vial_abort(rq, 500);
}

void vial_session_set_str(vial_req *rq, const char *key, const char *text) {
    vial_session_set(rq, key, vial_new_str(rq->arena, text));
}

void vial_session_set_int(vial_req *rq, const char *key, int64_t value) {
    vial_session_set(rq, key, vial_new_int(rq->arena, value));
}

vial_value *vial_session_pop(vial_req *rq, const char *key) {
    session_req *s = session_open(rq);
    if (s->null_session) session_touch_write(rq, s); /* NullSession.pop fails even for a missing key */
    vial_value *v = key ? vial_object_get(s->data, key) : NULL;
    if (!v) return NULL;
    vial_object_del(s->data, key);
    s->accessed = s->modified = true;
    return v;
}

void vial_session_clear(vial_req *rq) {
    session_req *s = session_open(rq);
    session_touch_write(rq, s);
    s->data = vial_new_object(rq->arena);
    if (!s->data) vial_abort(rq, 500);
    if (s->use_redis) s->clear_requested = true;
}

const vial_value *vial_session(vial_req *rq) {
    session_req *s = session_open(rq);
    s->accessed = true;
    return s->data;
}

void vial_session_permanent(vial_req *rq, bool permanent) {
    vial_session_set(rq, "_permanent", vial_new_bool(rq->arena, permanent));
}

bool vial_session_is_permanent(vial_req *rq) { return vial_truthy(vial_session_get(rq, "_permanent")); }

void vial_session_modified(vial_req *rq) {
    session_req *s = session_open(rq);
    s->modified = true;
}

/* SecureCookieSessionInterface.save_session (Flask 3.1's, which also sends
 * Vary: Cookie with a deleting Set-Cookie and knows Partitioned). */
static void save_cookie(vial_req *rq, vial_res *rs, session_req *s) {
    vial_app *app = rq->app;
    const char *name = session_cfg_str(app, "SESSION_COOKIE_NAME", "session");
    vial_cookie_opts opts = session_cookie_opts(app);
    if (s->accessed) session_vary_cookie(rs);
    if (vial_len(s->data) == 0) {
        if (s->modified) {
            vial_delete_cookie_with(rs, name, &opts);
            session_vary_cookie(rs);
        }
        return;
    }
    bool permanent = vial_truthy(vial_object_get(s->data, "_permanent"));
    if (!s->modified && !(permanent && session_cfg_bool(app, "SESSION_REFRESH_EACH_REQUEST", true))) return;
    vial_str *keys;
    size_t nkeys = session_secret_keys(rq, &keys);
    int64_t now = session_now();
    vial_str cookie;
    vial_sign_status rc = vial_session_cookie_encode(rq->arena, keys, nkeys, s->data, now, &cookie);
    if (rc != VIAL_SIGN_OK)
        vial_abort_msg(rq, 500, "the session could not be saved: %s", vial_sign_strerror(rc));
    if (permanent) {
        opts.expires = now + session_cfg_int(app, "PERMANENT_SESSION_LIFETIME", VIAL_SESSION_LIFETIME_DEFAULT);
        opts.has_expires = true;
    }
    if (vial_set_cookie_with(rs, name, cookie.ptr, &opts) != 0)
        vial_abort_msg(rq, 500, "the session cookie could not be written (see the log)");
}

void session_save(vial_req *rq, vial_res *rs, session_req *s) {
    if (!s->opened || s->null_session || s->store_failed) return;
    if (s->use_redis)
        session_redis_save(rq, rs, s);
    else
        save_cookie(rq, rs, s);
}
