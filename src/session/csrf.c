/* csrf.c - Flask-WTF's CSRFProtect.
 *
 * The session holds a random secret ("csrf_token": sha1 hex of 64 random
 * bytes); forms carry it signed and timestamped (URLSafeTimedSerializer,
 * salt "wtf-csrf-token", WTF_CSRF_SECRET_KEY or SECRET_KEY), so a token
 * expires after WTF_CSRF_TIME_LIMIT seconds and a page cannot be forged by
 * another site, which can neither read the session nor sign a token. Tokens
 * and session values are Flask-WTF's byte for byte: a form rendered by a
 * Flask app posts fine to a vial app sharing the session, and back.
 *
 * Every state-changing request (WTF_CSRF_METHODS) is checked before the
 * view unless its endpoint or blueprint is exempt; the reasons a check fails
 * are Flask-WTF's sentences, sent as the 400's description and logged. */
#include <openssl/sha.h>
#include <string.h>
#include <strings.h>

#include "session/session_req.h"

#define CSRF_SALT "wtf-csrf-token"

static const char *field_name(vial_app *app) { return session_cfg_str(app, "WTF_CSRF_FIELD_NAME", "csrf_token"); }

static const char *csrf_secret(vial_req *rq) {
    const char *key = session_cfg_str(rq->app, "WTF_CSRF_SECRET_KEY", NULL);
    if (!key) key = session_cfg_str(rq->app, "SECRET_KEY", NULL);
    if (!key) vial_abort_msg(rq, 500, "A secret key is required to use CSRF.");
    return key;
}

static char *new_session_secret(vial_req *rq) {
    unsigned char raw[64], digest[SHA_DIGEST_LENGTH];
    if (vial_random_bytes(raw, sizeof raw) != 0) vial_abort_msg(rq, 500, "no random bytes for a CSRF token");
    SHA1(raw, sizeof raw, digest);
    char *hex = vial_arena_alloc(rq->arena, 2 * SHA_DIGEST_LENGTH + 1);
    if (!hex) vial_abort(rq, 500);
    for (size_t i = 0; i < SHA_DIGEST_LENGTH; i++) {
        hex[2 * i] = "0123456789abcdef"[digest[i] >> 4];
        hex[2 * i + 1] = "0123456789abcdef"[digest[i] & 15];
    }
    hex[2 * SHA_DIGEST_LENGTH] = '\0';
    return hex;
}

const char *vial_csrf_token(vial_req *rq) {
    session_req *s = session_req_state(rq);
    if (s->csrf_token) return s->csrf_token;
    const char *secret = csrf_secret(rq);
    const char *name = field_name(rq->app);
    vial_value *stored = vial_session_get(rq, name);
    if (!stored || stored->type != VIAL_STRING) {
        /* absent, or something s.dumps() could not sign: a fresh secret */
        stored = vial_new_str(rq->arena, new_session_secret(rq));
        vial_session_set(rq, name, stored);
    }
    char *token = vial_sign(rq->arena, secret, CSRF_SALT, stored);
    if (!token) vial_abort_msg(rq, 500, "the CSRF token could not be signed");
    s->csrf_token = token;
    return token;
}

const char *vial_csrf_validate(vial_req *rq, const char *token) {
    const char *secret = csrf_secret(rq);
    const char *name = field_name(rq->app);
    if (!token || !*token) return "The CSRF token is missing.";
    if (!vial_session_contains(rq, name)) return "The CSRF session token is missing.";
    const vial_value *limit = vial_config_get(rq->app, "WTF_CSRF_TIME_LIMIT");
    int64_t max_age = limit && limit->type == VIAL_NULL ? -1 : session_cfg_int(rq->app, "WTF_CSRF_TIME_LIMIT", 3600);
    vial_sign_status why;
    vial_value *signed_value = vial_unsign(rq->arena, secret, CSRF_SALT, token, max_age, &why);
    if (!signed_value) return why == VIAL_SIGN_EXPIRED ? "The CSRF token has expired." : "The CSRF token is invalid.";
    const vial_value *expected = vial_session_get(rq, name);
    /* hmac.compare_digest(session[field_name], token): both must be text */
    if (signed_value->type != VIAL_STRING || !expected || expected->type != VIAL_STRING ||
        !vial_compare_digest(expected->as.s.ptr, expected->as.s.len, signed_value->as.s.ptr, signed_value->as.s.len))
        return "The CSRF tokens do not match.";
    return NULL;
}

/* CSRFProtect._get_csrf_token: the form field (also "<prefix>-csrf_token"), then the headers. */
static const char *submitted_token(vial_req *rq) {
    const char *name = field_name(rq->app);
    const vial_multidict *form = vial_form_all(rq);
    const char *base = vial_multidict_get(form, name);
    if (base && *base) return base;
    size_t name_len = strlen(name);
    for (size_t i = 0; i < form->len; i++) {
        const vial_pair *p = &form->items[i];
        if (p->key.len >= name_len && memcmp(p->key.ptr + p->key.len - name_len, name, name_len) == 0 && p->value.len)
            return p->value.ptr;
    }
    const vial_value *headers = vial_config_get(rq->app, "WTF_CSRF_HEADERS");
    if (headers && headers->type == VIAL_ARRAY) {
        for (size_t i = 0; i < headers->as.arr.len; i++) {
            const char *h = vial_str_of(headers->as.arr.items[i]);
            const char *v = h ? vial_header(rq, h) : NULL;
            if (v && *v) return v;
        }
        return NULL;
    }
    const char *v = vial_header(rq, "X-CSRFToken");
    if (v && *v) return v;
    v = vial_header(rq, "X-CSRF-Token");
    return v && *v ? v : NULL;
}

static bool method_checked(vial_req *rq) {
    const char *method = vial_method(rq);
    const vial_value *methods = vial_config_get(rq->app, "WTF_CSRF_METHODS");
    if (methods && methods->type == VIAL_ARRAY) {
        for (size_t i = 0; i < methods->as.arr.len; i++) {
            const char *m = vial_str_of(methods->as.arr.items[i]);
            if (m && strcmp(m, method) == 0) return true;
        }
        return false;
    }
    static const char *const defaults[] = {"POST", "PUT", "PATCH", "DELETE"};
    for (size_t i = 0; i < 4; i++)
        if (strcmp(defaults[i], method) == 0) return true;
    return false;
}

/* Flask-WTF's same_origin(referrer, "https://host/"): scheme, host and port equal. */
static bool same_origin(const char *referrer, const char *host) {
    if (strncasecmp(referrer, "https://", 8) != 0) return false;
    const char *r = referrer + 8;
    size_t n = strcspn(r, "/?#");
    const char *at = memchr(r, '@', n);
    if (at) n -= (size_t)(at + 1 - r), r = at + 1;
    size_t hn = strlen(host);
    /* urlparse's hostname and port: "host:443" and "host" differ, as in Flask-WTF */
    return n == hn && strncasecmp(r, host, n) == 0;
}

static void fail(vial_req *rq, const char *reason) {
    vial_log(VIAL_LOG_INFO, "csrf: %s %s: %s", vial_method(rq), vial_path(rq), reason);
    vial_abort_msg(rq, 400, "%s", reason);
}

void vial_csrf_check(vial_req *rq) {
    if (!method_checked(rq)) return;
    const char *reason = vial_csrf_validate(rq, submitted_token(rq));
    if (reason) fail(rq, reason);
    if (strcmp(vial_scheme(rq), "https") == 0 && session_cfg_bool(rq->app, "WTF_CSRF_SSL_STRICT", true)) {
        const char *referrer = vial_header(rq, "Referer");
        if (!referrer || !*referrer) fail(rq, "The referrer header is missing.");
        if (!same_origin(referrer, vial_host(rq))) fail(rq, "The referrer does not match the host.");
    }
    session_req_state(rq)->csrf_valid = true;
}

bool csrf_before_request(vial_req *rq, vial_res *rs, session_app *sa) {
    (void)rs;
    vial_app *app = rq->app;
    if (!session_cfg_bool(app, "WTF_CSRF_ENABLED", true)) return false;
    if (!session_cfg_bool(app, "WTF_CSRF_CHECK_DEFAULT", true)) return false;
    if (!method_checked(rq)) return false;
    const char *endpoint = vial_endpoint(rq);
    if (!endpoint) return false; /* 404 / 405: nothing to protect */
    const char *bp = vial_blueprint_name(rq);
    for (size_t i = 0; bp && i < sa->csrf_exempt_bp_count; i++)
        if (strcmp(sa->csrf_exempt_bps[i], bp) == 0) return false;
    for (size_t i = 0; i < sa->csrf_exempt_view_count; i++)
        if (strcmp(sa->csrf_exempt_views[i], endpoint) == 0) return false;
    if (rq->route && rq->route->csrf_exempt) return false;
    vial_csrf_check(rq);
    return false;
}

int vial_csrf_protect(vial_app *app) {
    session_app *sa = session_app_state(app);
    if (!sa) return -1;
    sa->csrf_protect = true;
    return 0;
}

int vial_csrf_exempt(vial_app *app, const char *endpoint) {
    session_app *sa = session_app_state(app);
    if (!sa || !endpoint || sa->csrf_exempt_view_count >= SESSION_MAX_EXEMPT) return -1;
    sa->csrf_exempt_views[sa->csrf_exempt_view_count++] = vial_arena_strdup(app->arena, endpoint);
    return 0;
}

int vial_csrf_exempt_blueprint(vial_bp *bp) {
    session_app *sa = bp ? session_app_state(bp->app) : NULL;
    if (!sa || sa->csrf_exempt_bp_count >= SESSION_MAX_EXEMPT) return -1;
    sa->csrf_exempt_bps[sa->csrf_exempt_bp_count++] = vial_arena_strdup(bp->app->arena, bp->name);
    return 0;
}
