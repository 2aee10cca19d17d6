/* libFuzzer target: a request's session-layer inputs through a whole app.
 *
 * The input is split at NUL bytes into a session cookie, a remember-me
 * cookie, a ?next= target, a CSRF token and a Redis-free view choice; they go
 * into a request (cookies as the Cookie header, next in the query, the token
 * in a form post) through the test client to an app with CSRFProtect and a
 * login manager. Whatever the bytes, the app must answer (no crash, no
 * sanitizer report), a refused cookie is an anonymous empty session, and a
 * next target the app follows must be one vial_safe_next accepted: relative,
 * or on this host. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "vial.h"

static vial_value *load_user(vial_req *rq, const char *id) {
    return strcmp(id, "1") == 0 ? vial_pack(rq, "{s:s}", "id", "1") : NULL;
}

/* The authority after "//" names exactly this host (no user info, no port). */
static bool this_host(const char *authority) {
    return strcspn(authority, "/?#") == 9 && strncasecmp(authority, "localhost", 9) == 0;
}

/* An independent statement of "on this site", per the URL standard's scheme rule;
 * a scheme-relative "//localhost/..." is this site too. */
static bool on_this_site(const char *t) {
    if (strchr(t, '\\')) return false;
    if (strncmp(t, "//", 2) == 0) return this_host(t + 2);
    for (const unsigned char *p = (const unsigned char *)t; *p; p++)
        if (*p <= 0x20 || *p == 0x7f) return false;
    size_t first = strcspn(t, ":/?#");
    if (t[first] != ':') return true; /* no scheme: relative */
    bool scheme = isalpha((unsigned char)t[0]);
    for (size_t i = 1; scheme && i < first; i++)
        scheme = isalnum((unsigned char)t[i]) || t[i] == '+' || t[i] == '-' || t[i] == '.';
    if (!scheme) return true; /* "1a:b" is a relative path */
    if (!((first == 4 && strncasecmp(t, "http", 4) == 0) || (first == 5 && strncasecmp(t, "https", 5) == 0)))
        return false;
    const char *rest = t + first + 1;
    if (strncmp(rest, "//", 2) != 0) return false;
    return this_host(rest + 2);
}

static void who(vial_req *rq, vial_res *rs) {
    const char *next = vial_safe_next(rq);
    if (next && !on_this_site(next)) __builtin_trap(); /* the app would follow it off-site */
    vial_printf(rs, "%s %zu %d", vial_is_authenticated(rq) ? "user" : "anonymous", vial_len(vial_session(rq)),
                (int)vial_len(vial_get_flashed_messages(rq)));
}

static void post(vial_req *rq, vial_res *rs) {
    vial_session_set_str(rq, "posted", "1");
    vial_text(rs, "posted");
}

static void guarded(vial_req *rq, vial_res *rs) { vial_text(rs, vial_current_user_id(rq)); }

static vial_app *app;

static void make_app(void) {
    app = vial_app_new("fuzz_session_request");
    vial_config_set(app, "SECRET_KEY", "fuzz-secret");
    vial_config_set_value(app, "SECRET_KEY_FALLBACKS", vial_pack_in(vial_app_arena(app), "[s]", "old"));
    vial_add_url_rule(app, "/who", "who", VIAL_GET, who);
    vial_add_url_rule(app, "/post", "post", VIAL_POST, post);
    vial_add_url_rule(app, "/guarded", "guarded", VIAL_GET, guarded);
    vial_add_url_rule(app, "/login", "login", VIAL_GET, who);
    vial_csrf_protect(app);
    vial_login_manager(app, .user_loader = load_user, .login_view = "login");
    vial_login_required_view(app, "guarded");
    vial_log_set_level(VIAL_LOG_ERROR + 1);
}

/* Keeps bytes a header line can carry (no CR, LF, NUL). */
static void header_safe(char *s) {
    for (; *s; s++)
        if (*s == '\r' || *s == '\n') *s = ' ';
}

static void url_escape(vial_buf *b, const char *s) {
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) vial_buf_printf(b, "%%%02X", *p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 1 << 14) return 0;
    if (!app) make_app();
    vial_arena *a = vial_arena_new(1 << 14);
    char *copy = vial_arena_alloc(a, size + 1);
    memcpy(copy, data, size);
    copy[size] = '\0';
    const char *parts[5] = {"", "", "", "", ""};
    size_t np = 0;
    for (char *p = copy; np < 5;) {
        parts[np++] = p;
        size_t len = strlen(p);
        if (p + len >= copy + size) break;
        p += len + 1;
    }
    char *session = vial_arena_strdup(a, parts[0]), *remember = vial_arena_strdup(a, parts[1]);
    header_safe(session);
    header_safe(remember);
    vial_buf headers, target, form;
    vial_buf_init(&headers, a, 0);
    vial_buf_init(&target, a, 0);
    vial_buf_init(&form, a, 0);
    vial_buf_printf(&headers, "Cookie: session=%s; remember_token=%s", session, remember);
    unsigned choice = parts[4][0] % 3;
    vial_buf_puts(&target, choice == 0 ? "/who?next=" : choice == 1 ? "/guarded?next=" : "/post?next=");
    url_escape(&target, parts[2]);
    vial_buf_puts(&form, "csrf_token=");
    url_escape(&form, parts[3]);
    vial_client *c = vial_test_client(app);
    vial_response *r = choice == 2 ? vial_client_post(c, vial_buf_cstr(&target), .form = vial_buf_cstr(&form),
                                                      .headers = vial_buf_cstr(&headers))
                                   : vial_client_get(c, vial_buf_cstr(&target), .headers = vial_buf_cstr(&headers));
    if (!r || r->status == 500) __builtin_trap();
    vial_client_free(c);
    vial_arena_free(a);
    return 0;
}
