/* session_config.c - the config the session layer reads, and cookie settings.
 *
 * Keys such as SESSION_REDIS_TIMEOUT or WTF_CSRF_SSL_STRICT are not in the
 * app's table of typed keys, so they may arrive as text (vial_config_set,
 * environment variables) or as JSON values: each is read here by what it
 * means, "false" being false and "2.5" being 2.5 seconds. The secret keys
 * and the SESSION_COOKIE_* attributes are assembled here once for the
 * cookie store, the Redis store, CSRF and the remember-me cookie. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "session/session_req.h"

int64_t session_now(void) { return (int64_t)time(NULL); }

int64_t session_cfg_int(vial_app *app, const char *key, int64_t fallback) {
    const vial_value *v = vial_config_get(app, key);
    if (!v) return fallback;
    switch (v->type) {
    case VIAL_INT: return v->as.i;
    case VIAL_BOOL: return v->as.b;
    case VIAL_DOUBLE: return isfinite(v->as.d) && v->as.d == floor(v->as.d) ? (int64_t)v->as.d : fallback;
    case VIAL_STRING: {
        char *end;
        errno = 0;
        long long n = strtoll(v->as.s.ptr, &end, 10);
        return errno == 0 && end != v->as.s.ptr && *end == '\0' ? n : fallback;
    }
    default: return fallback;
    }
}

double session_cfg_seconds(vial_app *app, const char *key, double fallback) {
    const vial_value *v = vial_config_get(app, key);
    if (!v) return fallback;
    double d = fallback;
    if (v->type == VIAL_INT) d = (double)v->as.i;
    else if (v->type == VIAL_DOUBLE) d = v->as.d;
    else if (v->type == VIAL_STRING) {
        char *end;
        errno = 0;
        d = strtod(v->as.s.ptr, &end);
        if (errno || end == v->as.s.ptr || *end) d = fallback;
    }
    return isfinite(d) && d >= 0 ? d : fallback;
}

bool session_cfg_bool(vial_app *app, const char *key, bool fallback) {
    const vial_value *v = vial_config_get(app, key);
    if (!v || v->type == VIAL_NULL) return fallback;
    if (v->type == VIAL_STRING) {
        static const char *const truthy[] = {"1", "true", "yes", "on", "t", "y"};
        static const char *const falsy[] = {"0", "false", "no", "off", "f", "n", ""};
        for (size_t i = 0; i < sizeof truthy / sizeof truthy[0]; i++)
            if (strcasecmp(v->as.s.ptr, truthy[i]) == 0) return true;
        for (size_t i = 0; i < sizeof falsy / sizeof falsy[0]; i++)
            if (strcasecmp(v->as.s.ptr, falsy[i]) == 0) return false;
        return fallback;
    }
    return vial_truthy(v);
}

const char *session_cfg_str(vial_app *app, const char *key, const char *fallback) {
    const char *s = vial_config_str(app, key);
    return s && *s ? s : fallback;
}

size_t session_secret_keys(vial_req *rq, vial_str **keys_out) {
    vial_app *app = vial_req_app(rq);
    const char *secret = vial_config_str(app, "SECRET_KEY");
    *keys_out = NULL;
    if (!secret || !*secret) return 0;
    const vial_value *fallbacks = vial_config_get(app, "SECRET_KEY_FALLBACKS");
    size_t extra = 0;
    if (fallbacks && fallbacks->type == VIAL_ARRAY) extra = fallbacks->as.arr.len;
    else if (fallbacks && fallbacks->type == VIAL_STRING) extra = 1; /* one key set from text */
    vial_str *keys = vial_arena_alloc(vial_req_arena(rq), (1 + extra) * sizeof *keys);
    if (!keys) vial_abort(rq, 500);
    size_t n = 0;
    keys[n++] = (vial_str){secret, strlen(secret)};
    if (fallbacks && fallbacks->type == VIAL_STRING) {
        keys[n++] = (vial_str){fallbacks->as.s.ptr, fallbacks->as.s.len};
    } else {
        for (size_t i = 0; i < extra; i++) {
            const vial_value *k = fallbacks->as.arr.items[i];
            /* an empty fallback never verifies anything (the signer refuses it too) */
            if (k->type == VIAL_STRING && k->as.s.len) keys[n++] = (vial_str){k->as.s.ptr, k->as.s.len};
        }
    }
    *keys_out = keys;
    return n;
}

vial_cookie_opts session_cookie_opts(vial_app *app) {
    vial_cookie_opts o = {.max_age = VIAL_UNSET_TIME, .expires = VIAL_UNSET_TIME};
    /* Flask 2.3+: SESSION_COOKIE_DOMAIN as given (Flask 2.2 guessed one from SERVER_NAME). */
    const vial_value *domain = vial_config_get(app, "SESSION_COOKIE_DOMAIN");
    if (domain && domain->type == VIAL_STRING && domain->as.s.len) o.domain = domain->as.s.ptr;
    o.path = session_cfg_str(app, "SESSION_COOKIE_PATH", session_cfg_str(app, "APPLICATION_ROOT", "/"));
    o.httponly = session_cfg_bool(app, "SESSION_COOKIE_HTTPONLY", true);
    o.secure = session_cfg_bool(app, "SESSION_COOKIE_SECURE", false);
    o.samesite = session_cfg_str(app, "SESSION_COOKIE_SAMESITE", NULL);
    o.partitioned = session_cfg_bool(app, "SESSION_COOKIE_PARTITIONED", false);
    return o;
}

void session_vary_cookie(vial_res *rs) {
    const char *vary = vial_get_header(rs, "Vary");
    if (!vary || !*vary) {
        vial_set_header(rs, "Vary", "Cookie");
        return;
    }
    /* HeaderSet semantics: add "Cookie" once, case-insensitively; "*" already covers it. */
    const char *p = vary;
    while (*p) {
        while (*p == ' ' || *p == ',') p++;
        const char *start = p;
        while (*p && *p != ',') p++;
        const char *end = p;
        while (end > start && end[-1] == ' ') end--;
        size_t n = (size_t)(end - start);
        if ((n == 6 && strncasecmp(start, "Cookie", 6) == 0) || (n == 1 && *start == '*')) return;
    }
    vial_set_header(rs, "Vary", vial_arena_sprintf(vial_req_arena(rs->rq), "%s, Cookie", vary));
}
