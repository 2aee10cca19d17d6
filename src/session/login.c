/* login.c - Flask-Login's core: login_user, logout_user, current_user,
 * login_required, the remember-me cookie.
 *
 * The session keys and the remember cookie are Flask-Login 0.6's, so a
 * Flask app with the same SECRET_KEY sees the same user logged in:
 *
 *   _user_id  the user's id (text)          _fresh     logged in by a form (not a cookie)
 *   _id       sha512 of "<remote addr>|<user agent>", written exactly as
 *             Flask-Login writes it (Python's repr of the bytes, b'...')
 *   _remember "set" / "clear": what the response does with the cookie
 *   remember_token cookie: "<id>|<hex HMAC-SHA512(SECRET_KEY, id)>"
 *
 * The user is loaded once per request, on first use of current_user, from
 * the session's _user_id or else the remember cookie, through the app's
 * loader. Session protection ("basic" by default) marks the session not
 * fresh when the identifier changes; "strong" logs the user out. */
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "session/internal.h"
#include "session/session_req.h"

#define DEFAULT_LOGIN_MESSAGE "Please log in to access this page."

static session_app *manager(vial_req *rq) {
    session_app *sa = session_app_state(rq->app);
    if (!sa || !sa->login_manager || (!sa->login.user_loader && !sa->login.user_loader_ptr))
        vial_abort_msg(rq, 500,
                       "Missing user_loader. Call vial_login_manager(app, .user_loader = ...) before using login.");
    return sa;
}

/* Python's repr(bytes): b'...' (or b"..." when the text holds ' but no "). */
static void bytes_repr(vial_buf *b, const char *s) {
    if (!s) {
        vial_buf_puts(b, "None");
        return;
    }
    char quote = strchr(s, '\'') && !strchr(s, '"') ? '"' : '\'';
    vial_buf_putc(b, 'b');
    vial_buf_putc(b, quote);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\\' || *p == (unsigned char)quote) vial_buf_putc(b, '\\'), vial_buf_putc(b, *p);
        else if (*p == '\t') vial_buf_puts(b, "\\t");
        else if (*p == '\n') vial_buf_puts(b, "\\n");
        else if (*p == '\r') vial_buf_puts(b, "\\r");
        else if (*p < 0x20 || *p >= 0x7f) vial_buf_printf(b, "\\x%02x", *p);
        else vial_buf_putc(b, *p);
    }
    vial_buf_putc(b, quote);
}

/* Flask-Login's _create_identifier(). */
static char *session_identifier(vial_req *rq) {
    const char *forwarded = vial_header(rq, "X-Forwarded-For");
    const char *addr = forwarded ? forwarded : vial_remote_addr(rq);
    char *first = NULL;
    if (addr) {
        size_t n = strcspn(addr, ",");
        while (n && (addr[n - 1] == ' ' || addr[n - 1] == '\t')) n--;
        while (n && (*addr == ' ' || *addr == '\t')) addr++, n--;
        first = vial_arena_strndup(rq->arena, addr, n);
    }
    vial_buf base;
    vial_buf_init(&base, rq->arena, 64 * 1024);
    bytes_repr(&base, first);
    vial_buf_putc(&base, '|');
    bytes_repr(&base, vial_header(rq, "User-Agent"));
    unsigned char digest[SHA512_DIGEST_LENGTH];
    SHA512((const unsigned char *)base.data, base.len, digest);
    char *hex = vial_arena_alloc(rq->arena, 2 * sizeof digest + 1);
    if (!hex) vial_abort(rq, 500);
    for (size_t i = 0; i < sizeof digest; i++) sprintf(hex + 2 * i, "%02x", digest[i]);
    return hex;
}

/* SECRET_KEY as Flask-Login uses it: key.encode("latin1") (UTF-8 bytes when it has other characters). */
static vial_str cookie_key(vial_req *rq) {
    const char *secret = session_cfg_str(rq->app, "SECRET_KEY", NULL);
    if (!secret) vial_abort_msg(rq, 500, "%s", VIAL_SESSION_NO_SECRET_KEY_MESSAGE);
    size_t n = strlen(secret);
    char *latin1 = vial_arena_alloc(rq->arena, n + 1);
    if (!latin1) vial_abort(rq, 500);
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t len = vial_utf8_decode(secret + i, n - i, &cp);
        if (len == 0 || cp > 0xff) return (vial_str){secret, n};
        latin1[o++] = (char)cp;
        i += len;
    }
    return (vial_str){latin1, o};
}

static char *cookie_digest(vial_req *rq, const char *payload) {
    vial_str key = cookie_key(rq);
    unsigned char mac[SHA512_DIGEST_LENGTH];
    unsigned mac_len = 0;
    if (!vial_hmac(EVP_sha512(), key.ptr, key.len, payload, strlen(payload), mac, &mac_len))
        vial_abort(rq, 500);
    char *hex = vial_arena_alloc(rq->arena, 2 * mac_len + 1);
    if (!hex) vial_abort(rq, 500);
    for (unsigned i = 0; i < mac_len; i++) sprintf(hex + 2 * i, "%02x", mac[i]);
    return hex;
}

/* decode_cookie: the payload when the digest matches, else NULL. */
static const char *decode_remember_cookie(vial_req *rq, const char *cookie) {
    const char *bar = strrchr(cookie, '|');
    if (!bar) return NULL;
    char *payload = vial_arena_strndup(rq->arena, cookie, (size_t)(bar - cookie));
    const char *expected = cookie_digest(rq, payload);
    return vial_compare_digest(expected, strlen(expected), bar + 1, strlen(bar + 1)) ? payload : NULL;
}

/* The id stored in the session as text (a Flask app may have stored an int). */
static const char *session_user_id(vial_req *rq) {
    vial_value *v = vial_session_get(rq, "_user_id");
    if (!v) return NULL;
    if (v->type == VIAL_STRING) return v->as.s.ptr;
    if (v->type == VIAL_INT && v->tag == 0) return vial_arena_sprintf(rq->arena, "%lld", (long long)v->as.i);
    return NULL;
}

static bool call_loader(vial_req *rq, session_app *sa, const char *id, vial_value **user, void **user_ptr) {
    *user = NULL;
    *user_ptr = NULL;
    if (sa->login.user_loader) *user = sa->login.user_loader(rq, id);
    else *user_ptr = sa->login.user_loader_ptr(rq, id);
    return *user || *user_ptr;
}

static void set_request_user(session_req *s, const char *id, vial_value *user, void *user_ptr) {
    s->user_loaded = true;
    s->user_id = (user || user_ptr) ? id : NULL;
    s->user = user;
    s->user_ptr = user_ptr;
}

static const char *protection_mode(vial_req *rq, session_app *sa) {
    const char *mode = session_cfg_str(rq->app, "SESSION_PROTECTION", NULL);
    if (!mode) mode = sa->login.session_protection ? sa->login.session_protection : "basic";
    return mode;
}

/* _session_protection_failed: true when the session was just emptied ("strong"). */
static bool protection_failed(vial_req *rq, session_app *sa) {
    const char *mode = protection_mode(rq, sa);
    if (strcmp(mode, "basic") != 0 && strcmp(mode, "strong") != 0) return false;
    const vial_value *data = session_open(rq)->data;
    if (vial_len(data) == 0) return false;
    const char *ident = session_identifier(rq);
    const char *stored = vial_session_get_str(rq, "_id");
    if (stored && strcmp(stored, ident) == 0) return false;
    if (strcmp(mode, "basic") == 0 || vial_session_is_permanent(rq)) {
        vial_value *fresh = vial_session_get(rq, "_fresh");
        if (!(fresh && fresh->type == VIAL_BOOL && !fresh->as.b)) vial_session_set(rq, "_fresh", vial_new_bool(rq->arena, false));
        return false;
    }
    static const char *const keys[] = {"_user_id", "_remember", "_remember_seconds", "_id", "_fresh", "next"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) vial_session_pop(rq, keys[i]);
    vial_session_set_str(rq, "_remember", "clear");
    return true;
}

static void load_user(vial_req *rq) {
    session_req *s = session_req_state(rq);
    if (s->user_loaded) return;
    session_app *sa = manager(rq);
    s->user_loaded = true;
    if (protection_failed(rq, sa)) return;
    vial_value *user = NULL;
    void *user_ptr = NULL;
    const char *id = session_user_id(rq);
    if (id) call_loader(rq, sa, id, &user, &user_ptr);
    if (!user && !user_ptr) {
        const char *cookie = vial_cookie(rq, session_cfg_str(rq->app, "REMEMBER_COOKIE_NAME", "remember_token"));
        const char *remember = vial_session_get_str(rq, "_remember");
        if (cookie && !(remember && strcmp(remember, "clear") == 0)) {
            id = decode_remember_cookie(rq, cookie);
            if (id) {
                vial_session_set_str(rq, "_user_id", id);
                vial_session_set(rq, "_fresh", vial_new_bool(rq->arena, false));
                call_loader(rq, sa, id, &user, &user_ptr);
            }
        }
    }
    set_request_user(s, id, user, user_ptr);
}

vial_value *vial_current_user(vial_req *rq) {
    load_user(rq);
    return session_req_state(rq)->user;
}

void *vial_current_user_ptr(vial_req *rq) {
    load_user(rq);
    return session_req_state(rq)->user_ptr;
}

const char *vial_current_user_id(vial_req *rq) {
    load_user(rq);
    return session_req_state(rq)->user_id;
}

bool vial_is_authenticated(vial_req *rq) { return vial_current_user_id(rq) != NULL; }

bool vial_login_fresh(vial_req *rq) { return vial_truthy(vial_session_get(rq, "_fresh")); }

bool vial_login_user_with(vial_req *rq, const char *user_id, const vial_login_user_opts *opts) {
    static const vial_login_user_opts defaults = {0};
    const vial_login_user_opts *o = opts ? opts : &defaults;
    session_app *sa = manager(rq);
    if (!user_id || !*user_id) return false;
    vial_value *user = o->user;
    void *user_ptr = o->user_ptr;
    if (!user && !user_ptr && !call_loader(rq, sa, user_id, &user, &user_ptr)) return false;
    if (!o->force && user && user->type == VIAL_OBJECT) {
        vial_value *active = vial_object_get(user, "is_active");
        if (active && !vial_truthy(active)) return false;
    }
    vial_session_set_str(rq, "_user_id", user_id);
    vial_session_set(rq, "_fresh", vial_new_bool(rq->arena, !o->not_fresh));
    vial_session_set_str(rq, "_id", session_identifier(rq));
    if (o->remember) {
        vial_session_set_str(rq, "_remember", "set");
        /* Flask-Login stores timedelta.total_seconds() (a float) */
        if (o->duration > 0) vial_session_set(rq, "_remember_seconds", vial_new_double(rq->arena, (double)o->duration));
    }
    set_request_user(session_req_state(rq), vial_arena_strdup(rq->arena, user_id), user, user_ptr);
    return true;
}

void vial_logout_user(vial_req *rq) {
    manager(rq);
    vial_session_pop(rq, "_user_id");
    vial_session_pop(rq, "_fresh");
    vial_session_pop(rq, "_id");
    if (vial_cookie(rq, session_cfg_str(rq->app, "REMEMBER_COOKIE_NAME", "remember_token"))) {
        vial_session_set_str(rq, "_remember", "clear");
        vial_session_pop(rq, "_remember_seconds");
    }
    set_request_user(session_req_state(rq), NULL, NULL, NULL);
}

/* urllib.parse.quote_plus(s, safe=""). */
static void quote_plus(vial_buf *b, const char *s) {
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("_.-~", *p))
            vial_buf_putc(b, *p);
        else if (*p == ' ')
            vial_buf_putc(b, '+');
        else
            vial_buf_printf(b, "%%%02X", *p);
    }
}

/* LoginManager.unauthorized(): flash, then redirect to the login view with ?next=. */
static void unauthorized(vial_req *rq, vial_res *rs, session_app *sa) {
    const char *view = sa->login.login_view;
    const char *bp = vial_blueprint_name(rq);
    for (size_t i = 0; bp && i < sa->bp_login_view_count; i++)
        if (strcmp(sa->bp_login_views[i].bp, bp) == 0) view = sa->bp_login_views[i].view;
    if (!view || !*view) vial_abort(rq, 401);
    const char *message = sa->login.login_message ? sa->login.login_message : DEFAULT_LOGIN_MESSAGE;
    if (*message)
        vial_flash(rq, message, sa->login.login_message_category ? sa->login.login_message_category : "message");
    /* expand_login_view: a URL as it is, else an endpoint */
    const char *base = view[0] == '/' || strncmp(view, "http://", 7) == 0 || strncmp(view, "https://", 8) == 0
                           ? view
                           : vial_url_for(rq, view, NULL);
    /* make_next_param(base, request.url): the path and query when the login page is on this site */
    const vial_http_request *r = &rq->ex->req;
    char *next = r->query.len ? vial_arena_sprintf(rq->arena, "%.*s?%.*s", (int)r->path.len, r->path.ptr,
                                                   (int)r->query.len, r->query.ptr)
                              : vial_arena_strndup(rq->arena, r->path.ptr, r->path.len);
    vial_buf url;
    vial_buf_init(&url, rq->arena, 0);
    vial_buf_puts(&url, base);
    vial_buf_puts(&url, strchr(base, '?') ? "&next=" : "?next=");
    quote_plus(&url, next);
    vial_redirect(rs, vial_buf_cstr(&url), 302);
}

bool vial_login_required(vial_req *rq, vial_res *rs) {
    if (strcmp(vial_method(rq), "OPTIONS") == 0) return false;
    if (session_cfg_bool(rq->app, "LOGIN_DISABLED", false)) return false;
    if (vial_is_authenticated(rq)) return false;
    unauthorized(rq, rs, manager(rq));
    return true;
}

bool login_before_request(vial_req *rq, vial_res *rs, session_app *sa) {
    if (sa->protected_view_count == 0) return false;
    const char *endpoint = vial_endpoint(rq);
    if (!endpoint) return false;
    const char *bp = vial_blueprint_name(rq);
    for (size_t i = 0; i < sa->protected_view_count; i++) {
        const char *p = sa->protected_views[i];
        size_t n = strlen(p);
        bool match = strcmp(p, endpoint) == 0 ||
                     (bp && n > 2 && strcmp(p + n - 2, ".*") == 0 && strlen(bp) == n - 2 && strncmp(p, bp, n - 2) == 0);
        if (match) return vial_login_required(rq, rs);
    }
    return false;
}

/* Flask-Login's _update_remember_cookie. */
void login_after_request(vial_req *rq, vial_res *rs, session_app *sa) {
    (void)sa;
    vial_app *app = rq->app;
    session_req *s = rq->session;
    bool refresh = session_cfg_bool(app, "REMEMBER_COOKIE_REFRESH_EACH_REQUEST", false);
    /* A session not opened in this request holds no "_remember" (it is popped where it is set). */
    if (!refresh && !(s && s->opened)) return;
    if (session_open(rq)->null_session) return; /* nothing to remember without a key */
    if (!vial_session_contains(rq, "_remember") && refresh) vial_session_set_str(rq, "_remember", "set");
    if (!vial_session_contains(rq, "_remember")) return;
    vial_value *op = vial_session_pop(rq, "_remember");
    const char *operation = vial_str_of(op);
    const char *name = session_cfg_str(app, "REMEMBER_COOKIE_NAME", "remember_token");
    vial_cookie_opts opts = {.max_age = VIAL_UNSET_TIME, .expires = VIAL_UNSET_TIME};
    const vial_value *domain = vial_config_get(app, "REMEMBER_COOKIE_DOMAIN");
    if (domain && domain->type == VIAL_STRING && domain->as.s.len) opts.domain = domain->as.s.ptr;
    opts.path = session_cfg_str(app, "REMEMBER_COOKIE_PATH", "/");
    if (operation && strcmp(operation, "set") == 0) {
        const char *id = session_user_id(rq);
        if (!id) return;
        opts.secure = session_cfg_bool(app, "REMEMBER_COOKIE_SECURE", false);
        opts.httponly = session_cfg_bool(app, "REMEMBER_COOKIE_HTTPONLY", true);
        opts.samesite = session_cfg_str(app, "REMEMBER_COOKIE_SAMESITE", NULL);
        vial_value *seconds = vial_session_get(rq, "_remember_seconds");
        int64_t duration = session_cfg_int(app, "REMEMBER_COOKIE_DURATION", 365 * 24 * 3600);
        if (seconds && seconds->type == VIAL_DOUBLE) duration = (int64_t)seconds->as.d;
        else if (seconds && seconds->type == VIAL_INT) duration = seconds->as.i;
        opts.expires = session_now() + duration;
        const char *value = vial_arena_sprintf(rq->arena, "%s|%s", id, cookie_digest(rq, id));
        vial_set_cookie_with(rs, name, value, &opts);
    } else if (operation && strcmp(operation, "clear") == 0) {
        vial_delete_cookie_with(rs, name, &opts);
    }
}

int vial_login_manager_with(vial_app *app, const vial_login_options *opts) {
    session_app *sa = session_app_state(app);
    if (!sa || !opts) return -1;
    sa->login = *opts;
    vial_login_options *l = &sa->login;
    if (l->login_view) l->login_view = vial_arena_strdup(app->arena, l->login_view);
    if (l->login_message) l->login_message = vial_arena_strdup(app->arena, l->login_message);
    if (l->login_message_category) l->login_message_category = vial_arena_strdup(app->arena, l->login_message_category);
    if (l->session_protection) l->session_protection = vial_arena_strdup(app->arena, l->session_protection);
    sa->login_manager = true;
    return 0;
}

int vial_login_view_for_blueprint(vial_bp *bp, const char *login_view) {
    session_app *sa = bp ? session_app_state(bp->app) : NULL;
    if (!sa || !login_view || sa->bp_login_view_count >= SESSION_MAX_BP_VIEWS) return -1;
    sa->bp_login_views[sa->bp_login_view_count].bp = vial_arena_strdup(bp->app->arena, bp->name);
    sa->bp_login_views[sa->bp_login_view_count++].view = vial_arena_strdup(bp->app->arena, login_view);
    return 0;
}

int vial_login_required_view(vial_app *app, const char *endpoint) {
    session_app *sa = session_app_state(app);
    if (!sa || !endpoint || sa->protected_view_count >= SESSION_MAX_EXEMPT) return -1;
    sa->protected_views[sa->protected_view_count++] = vial_arena_strdup(app->arena, endpoint);
    return 0;
}
