/* session_redis.c - server-side sessions in Redis (Flask-Session's RedisSessionInterface).
 *
 * The cookie carries only a random session id (secrets.token_urlsafe(32)),
 * signed as Flask-Session signs it with SESSION_USE_SIGNER: itsdangerous
 * Signer(SECRET_KEY, salt "flask-session", HMAC key derivation), so an id
 * cannot be guessed or forged. The data lives in Redis under
 * SESSION_KEY_PREFIX + id ("session:" by default) as Flask's tagged JSON,
 * with PERMANENT_SESSION_LIFETIME as its TTL. New sessions are permanent
 * when SESSION_PERMANENT is true (Flask-Session's default).
 *
 * Writes follow the cookie store's rules (only when modified, or refreshed
 * each request for permanent sessions; a refresh that changed nothing is an
 * EXPIRE, not a rewrite). A session that holds nothing but its _permanent
 * mark is not stored at all, so visitors who only read the session leave no
 * Redis entries. session.clear() deletes the entry and the next write gets a
 * new id (no session fixation across a login).
 *
 * Redis down, refusing or slower than SESSION_REDIS_TIMEOUT: the request
 * answers 503 and the log says why; the worker goes on serving. */
#include <stdio.h>
#include <string.h>

#include "session/session_req.h"

#define SID_BYTES 32
#define SID_MAX 128
#define SID_SALT "flask-session"
#define UNAVAILABLE "The session store is unavailable. Please try again later."

static vial_signer sid_signer(const vial_str *keys, size_t nkeys) {
    return (vial_signer){.keys = keys,
                         .nkeys = nkeys,
                         .salt = VIAL_STR(SID_SALT),
                         .key_derivation = VIAL_KEY_DERIVATION_HMAC,
                         .digest = "sha1"};
}

static char *new_sid(vial_req *rq) {
    unsigned char raw[SID_BYTES];
    if (vial_random_bytes(raw, sizeof raw) != 0) vial_abort_msg(rq, 500, "no random bytes for a session id");
    char *sid = vial_arena_alloc(rq->arena, vial_base64_encoded_len(sizeof raw, VIAL_B64_URL | VIAL_B64_NOPAD) + 1);
    if (!sid) vial_abort(rq, 500);
    vial_base64_encode(sid, raw, sizeof raw, VIAL_B64_URL | VIAL_B64_NOPAD);
    return sid;
}

static bool sid_valid(vial_str sid) {
    if (sid.len == 0 || sid.len > SID_MAX) return false;
    for (size_t i = 0; i < sid.len; i++) {
        char c = sid.ptr[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return false;
    }
    return true;
}

/* The URL without its password, for log lines. */
static const char *url_for_log(vial_req *rq, const char *url) {
    const char *at = strrchr(url, '@');
    const char *scheme_end = strstr(url, "://");
    if (!at || !scheme_end || at < scheme_end) return url;
    return vial_arena_sprintf(rq->arena, "%.*s://***@%s", (int)(scheme_end - url), url, at + 1);
}

static const char *redis_url(vial_app *app) {
    return session_cfg_str(app, "SESSION_REDIS_URL", "redis://127.0.0.1:6379/0");
}

static int timeout_ms(vial_app *app) {
    double s = session_cfg_seconds(app, "SESSION_REDIS_TIMEOUT", 2.0);
    if (s > 3600) s = 3600;
    int ms = (int)(s * 1000);
    return ms > 0 ? ms : 1;
}

static char *store_key(vial_req *rq, const char *sid) {
    const char *prefix = vial_config_str(rq->app, "SESSION_KEY_PREFIX");
    return vial_arena_sprintf(rq->arena, "%s%s", prefix ? prefix : "session:", sid);
}

/* Runs a command; on failure logs it and ends the request with 503. */
static void command(vial_req *rq, session_req *s, int argc, const char **argv, const size_t *argvlen,
                    redis_result *out) {
    char err[256] = "";
    const char *url = redis_url(rq->app);
    memset(out, 0, sizeof *out);
    out->kind = REDIS_RESULT_OTHER;
    int rc = session_redis_command(rq->arena, url, timeout_ms(rq->app), argc, argv, argvlen, out, err, sizeof err);
    if (rc == 0 && out->kind != REDIS_RESULT_ERROR) return;
    vial_log(VIAL_LOG_ERROR, "session: Redis %s: %s for %s %s: %s", url_for_log(rq, url), argv[0], vial_method(rq),
             vial_path(rq), rc == 0 ? out->str.ptr : err);
    s->store_failed = true;
    vial_abort_msg(rq, 503, UNAVAILABLE);
}

static void mark_new(vial_req *rq, session_req *s) {
    /* ServerSideSession(permanent=SESSION_PERMANENT): marked, but not modified */
    if (session_cfg_bool(rq->app, "SESSION_PERMANENT", true)) vial_object_set(s->data, "_permanent", vial_new_bool(rq->arena, true));
}

void session_redis_open(vial_req *rq, session_req *s, const vial_str *keys, size_t nkeys) {
    const char *name = session_cfg_str(rq->app, "SESSION_COOKIE_NAME", "session");
    const char *cookie = vial_cookie(rq, name);
    vial_str sid = {0};
    if (cookie && *cookie) {
        vial_signer signer = sid_signer(keys, nkeys);
        vial_sign_status why = vial_signer_unsign(&signer, cookie, strlen(cookie), &sid);
        if (why != VIAL_SIGN_OK || !sid_valid(sid)) {
            vial_log(VIAL_LOG_DEBUG, "session: cookie %s refused (%s): a new session", name,
                     why != VIAL_SIGN_OK ? vial_sign_strerror(why) : "not a session id");
            sid.len = 0;
        }
    }
    if (sid.len == 0) {
        s->sid = new_sid(rq);
        mark_new(rq, s);
        return;
    }
    s->sid = vial_arena_strndup(rq->arena, sid.ptr, sid.len);
    s->sid_from_cookie = true;
    char *key = store_key(rq, s->sid);
    const char *argv[] = {"GET", key};
    redis_result r;
    command(rq, s, 2, argv, NULL, &r);
    if (r.kind != REDIS_RESULT_STRING) { /* expired or deleted: a new session under the same id */
        mark_new(rq, s);
        return;
    }
    vial_json_error jerr;
    vial_value *data = vial_tagged_json_loads(rq->arena, r.str.ptr, r.str.len, &jerr);
    if (!data || data->type != VIAL_OBJECT) {
        vial_log(VIAL_LOG_WARNING, "session: Redis entry %s is not a session (%s): a new session", key,
                 data ? "not an object" : jerr.message);
        mark_new(rq, s);
        return;
    }
    s->data = data;
}

/* Nothing but the _permanent mark: not worth an entry. */
static bool effectively_empty(const vial_value *data) {
    size_t n = vial_len(data);
    return n == 0 || (n == 1 && vial_object_get(data, "_permanent"));
}

static void delete_entry(vial_req *rq, session_req *s) {
    const char *argv[] = {"DEL", store_key(rq, s->sid)};
    redis_result r;
    command(rq, s, 2, argv, NULL, &r);
}

void session_redis_save(vial_req *rq, vial_res *rs, session_req *s) {
    vial_app *app = rq->app;
    const char *name = session_cfg_str(app, "SESSION_COOKIE_NAME", "session");
    vial_cookie_opts opts = session_cookie_opts(app);
    if (s->accessed) session_vary_cookie(rs);
    if (s->clear_requested && s->sid_from_cookie) {
        delete_entry(rq, s);
        s->sid_from_cookie = false;
        s->sid = new_sid(rq);
    }
    if (s->clear_requested && !vial_object_get(s->data, "_permanent") && !effectively_empty(s->data))
        mark_new(rq, s); /* refilled after clear(): a new session, permanent as new ones are */
    if (effectively_empty(s->data)) {
        if (s->modified) {
            if (s->sid_from_cookie) delete_entry(rq, s);
            if (vial_cookie(rq, name)) vial_delete_cookie_with(rs, name, &opts);
            session_vary_cookie(rs);
        }
        return;
    }
    bool permanent = vial_truthy(vial_object_get(s->data, "_permanent"));
    if (!s->modified && !(permanent && session_cfg_bool(app, "SESSION_REFRESH_EACH_REQUEST", true))) return;
    int64_t lifetime = session_cfg_int(app, "PERMANENT_SESSION_LIFETIME", VIAL_SESSION_LIFETIME_DEFAULT);
    if (lifetime <= 0) lifetime = 1;
    char ttl[24];
    snprintf(ttl, sizeof ttl, "%lld", (long long)lifetime);
    char *key = store_key(rq, s->sid);
    bool stored = false;
    if (!s->modified && s->sid_from_cookie) {
        /* a refresh: only the TTL moves (0 when the entry vanished meanwhile: write it again) */
        const char *argv[] = {"EXPIRE", key, ttl};
        redis_result r;
        command(rq, s, 3, argv, NULL, &r);
        stored = r.kind == REDIS_RESULT_INTEGER && r.integer == 1;
    }
    if (!stored) {
        vial_json_error jerr;
        size_t len;
        char *json = vial_tagged_json_dumps(rq->arena, s->data, &len, &jerr);
        if (!json) vial_abort_msg(rq, 500, "the session could not be saved: %s", jerr.message);
        const char *argv[] = {"SET", key, json, "EX", ttl};
        size_t argvlen[] = {3, strlen(key), len, 2, strlen(ttl)};
        redis_result r;
        command(rq, s, 5, argv, argvlen, &r);
    }
    vial_str *keys;
    size_t nkeys = session_secret_keys(rq, &keys);
    vial_signer signer = sid_signer(keys, nkeys);
    vial_str token;
    vial_sign_status rc = vial_signer_sign(rq->arena, &signer, s->sid, strlen(s->sid), &token);
    if (rc != VIAL_SIGN_OK) vial_abort_msg(rq, 500, "the session id could not be signed: %s", vial_sign_strerror(rc));
    if (permanent) {
        opts.expires = session_now() + lifetime;
        opts.has_expires = true;
    }
    if (vial_set_cookie_with(rs, name, token.ptr, &opts) != 0)
        vial_abort_msg(rq, 500, "the session cookie could not be written (see the log)");
}
