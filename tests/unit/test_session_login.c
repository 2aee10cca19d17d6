/* Login helpers through the test client: login_user / logout_user /
 * current_user, the login-required guards and their redirect with ?next=,
 * the remember-me cookie, session protection, safe next targets, and the
 * password wrappers. */
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "session_testutil.h"

#define KEY "login-secret"

typedef struct user {
    const char *id, *name;
} user;

static user users[] = {{"1", "root"}, {"2", "xiaoming"}};

static vial_value *load_user(vial_req *rq, const char *id) {
    if (strcmp(id, "1") == 0) return vial_pack(rq, "{s:s, s:s}", "id", "1", "name", "root");
    if (strcmp(id, "2") == 0) return vial_pack(rq, "{s:s, s:s}", "id", "2", "name", "xiaoming");
    if (strcmp(id, "3") == 0) return vial_pack(rq, "{s:s, s:s, s:b}", "id", "3", "name", "gone", "is_active", false);
    return NULL;
}

static void *load_user_ptr(vial_req *rq, const char *id) {
    (void)rq;
    for (size_t i = 0; i < 2; i++)
        if (strcmp(users[i].id, id) == 0) return &users[i];
    return NULL;
}

static void login(vial_req *rq, vial_res *rs) {
    if (vial_is_get(rq)) {
        vial_value *flashes = vial_get_flashed_messages(rq, .with_categories = true);
        vial_printf(rs, "login page, %zu flashed", vial_len(flashes));
        if (vial_len(flashes)) {
            vial_value *first = vial_array_get(flashes, 0);
            vial_printf(rs, ": %s/%s", vial_str_of(vial_array_get(first, 0)), vial_str_of(vial_array_get(first, 1)));
        }
        return;
    }
    const char *id = vial_form(rq, "id");
    bool remember = vial_form(rq, "remember") != NULL;
    if (!vial_login_user(rq, id, .remember = remember, .force = vial_form(rq, "force") != NULL)) {
        vial_status(rs, 403);
        vial_text(rs, "refused");
        return;
    }
    const char *next = vial_safe_next(rq);
    vial_redirect(rs, next ? next : "/", 302);
}

static void logout(vial_req *rq, vial_res *rs) {
    vial_logout_user(rq);
    vial_redirect(rs, "/login", 302);
}

static void profile(vial_req *rq, vial_res *rs) {
    vial_value *u = vial_current_user(rq);
    vial_printf(rs, "hello %s (fresh=%d)", vial_get_str(u, "name"), vial_login_fresh(rq));
}

static void inline_guard(vial_req *rq, vial_res *rs) {
    if (vial_login_required(rq, rs)) return;
    vial_printf(rs, "inline %s", vial_current_user_id(rq));
}

static void whoami(vial_req *rq, vial_res *rs) {
    vial_printf(rs, "%s", vial_is_authenticated(rq) ? vial_current_user_id(rq) : "anonymous");
}

static void admin_page(vial_req *rq, vial_res *rs) { vial_printf(rs, "admin %s", vial_current_user_id(rq)); }

static void check_next(vial_req *rq, vial_res *rs) {
    const char *n = vial_safe_next(rq);
    vial_text(rs, n ? n : "(refused)");
}

static void hash_view(vial_req *rq, vial_res *rs) {
    char *h = vial_generate_password(rq, vial_arg(rq, "pw"));
    vial_printf(rs, "%d %d %s", vial_check_password(h, vial_arg(rq, "pw")), vial_check_password(h, "wrong"), h);
}

static vial_app *make_app(bool ptr_loader) {
    vial_app *app = vial_app_new("login");
    vial_config_set(app, "SECRET_KEY", KEY);
    vial_add_url_rule(app, "/login", "login", VIAL_GET | VIAL_POST, login);
    vial_route(app, "/logout", VIAL_GET, logout);
    vial_route(app, "/profile", VIAL_GET, profile);
    vial_route(app, "/inline", VIAL_GET, inline_guard);
    vial_route(app, "/whoami", VIAL_GET, whoami);
    vial_route(app, "/check_next", VIAL_GET, check_next);
    vial_route(app, "/hash", VIAL_GET, hash_view);
    vial_bp *admin = vial_blueprint(app, "admin", "/admin");
    vial_bp_add_url_rule(admin, "/", "index", VIAL_GET, admin_page);
    vial_bp *staff = vial_blueprint(app, "staff", "/staff");
    vial_bp_add_url_rule(staff, "/", "index", VIAL_GET, admin_page);
    vial_bp_before_request(staff, vial_login_required);
    vial_login_view_for_blueprint(staff, "/staff-login");
    if (ptr_loader)
        vial_login_manager(app, .user_loader_ptr = load_user_ptr, .login_view = "login");
    else
        vial_login_manager(app, .user_loader = load_user, .login_view = "login");
    vial_login_required_view(app, "profile");
    vial_login_required_view(app, "admin.*");
    return app;
}

static vial_arena *A;
static void setup(void) { A = vial_arena_new(4096); }
static void teardown(void) { vial_arena_free(A); }
TestSuite(login, .init = setup, .fini = teardown);

static vial_value *session_of(vial_client *c) {
    const char *cookie = vial_client_cookie(c, "session");
    if (!cookie) return vial_new_object(A);
    vial_sign_status why;
    return decode_with(A, KEY, cookie, &why);
}

static char *hex(const unsigned char *d, size_t n) {
    char *out = vial_arena_alloc(A, 2 * n + 1);
    for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", d[i]);
    return out;
}

Test(login, login_required_redirects_with_next_and_a_flash) {
    vial_app *app = make_app(false);
    vial_client *c = vial_test_client(app);
    vial_response *r = vial_client_get(c, "/profile?tab=a%20b&x=1");
    cr_assert_eq(r->status, 302);
    cr_assert_str_eq(vial_response_header(r, "Location"), "/login?next=%2Fprofile%3Ftab%3Da%2520b%26x%3D1");
    r = vial_client_get(c, "/login");
    cr_assert_str_eq(r->body, "login page, 1 flashed: message/Please log in to access this page.");
    r = vial_client_get(c, "/admin/");
    cr_assert_eq(r->status, 302, "admin.* covers the blueprint");
    cr_assert_str_eq(vial_response_header(r, "Location"), "/login?next=%2Fadmin%2F");
    r = vial_client_get(c, "/staff/");
    cr_assert_eq(r->status, 302, "a blueprint's before_request guard");
    cr_assert_str_eq(vial_response_header(r, "Location"), "/staff-login?next=%2Fstaff%2F", "its own login view");
    r = vial_client_get(c, "/inline");
    cr_assert_eq(r->status, 302, "the guard inside a view");
    cr_assert_str_eq(vial_response_header(r, "Location"), "/login?next=%2Finline");
    /* OPTIONS is never guarded (Flask-Login's EXEMPT_METHODS) */
    r = vial_client_open(c, "OPTIONS", "/profile", NULL);
    cr_assert_eq(r->status, 200);
    /* LOGIN_DISABLED turns the guards off */
    vial_config_set(app, "LOGIN_DISABLED", "true");
    cr_assert_eq(vial_client_get(c, "/inline")->status, 200);
    vial_client_free(c);
    vial_app_free(app);
}

Test(login, login_then_the_protected_page_then_logout) {
    vial_app *app = make_app(false);
    vial_client *c = vial_test_client(app);
    vial_response *r = vial_client_post(c, "/login?next=/profile", .form = "id=1");
    cr_assert_eq(r->status, 302);
    cr_assert_str_eq(vial_response_header(r, "Location"), "/profile", "the safe next target is followed");
    cr_assert_null(set_cookie_line(r, "remember_token"));
    vial_value *s = session_of(c);
    cr_assert_str_eq(vial_get_str(s, "_user_id"), "1");
    cr_assert_eq(vial_get_bool(s, "_fresh", false), true);
    /* _id is Flask-Login's _create_identifier: sha512 of "b'<addr>'|b'<user agent>'" */
    const char *base = "b'127.0.0.1'|b'vial-test-client/" VIAL_VERSION "'";
    unsigned char d[SHA512_DIGEST_LENGTH];
    SHA512((const unsigned char *)base, strlen(base), d);
    cr_assert_str_eq(vial_get_str(s, "_id"), hex(d, sizeof d));
    r = vial_client_get(c, "/profile");
    cr_assert_eq(r->status, 200);
    cr_assert_str_eq(r->body, "hello root (fresh=1)");
    cr_assert_str_eq(vial_client_get(c, "/admin/")->body, "admin 1");
    cr_assert_str_eq(vial_client_get(c, "/inline")->body, "inline 1");
    cr_assert_str_eq(vial_client_get(c, "/whoami")->body, "1");
    r = vial_client_get(c, "/logout");
    cr_assert_eq(r->status, 302);
    s = session_of(c);
    cr_assert_null(vial_object_get(s, "_user_id"));
    cr_assert_null(vial_object_get(s, "_id"));
    cr_assert_str_eq(vial_client_get(c, "/whoami")->body, "anonymous");
    cr_assert_eq(vial_client_get(c, "/profile")->status, 302);
    vial_client_free(c);
    vial_app_free(app);
}

Test(login, unknown_and_inactive_users) {
    vial_app *app = make_app(false);
    vial_client *c = vial_test_client(app);
    cr_assert_eq(vial_client_post(c, "/login", .form = "id=99")->status, 403, "the loader knows no such user");
    cr_assert_eq(vial_client_post(c, "/login", .form = "id=3")->status, 403, "is_active false");
    cr_assert_eq(vial_client_post(c, "/login", .form = "id=3&force=1")->status, 302, "force=True");
    /* a session naming a user the loader no longer knows is anonymous */
    vial_client *c2 = vial_test_client(app);
    vial_client_set_cookie(c2, "session", encode_with(A, KEY, vial_pack_in(A, "{s:s}", "_user_id", "42"), time(NULL)));
    cr_assert_str_eq(vial_client_get(c2, "/whoami")->body, "anonymous");
    /* an integer id stored by some other app still loads */
    vial_client_set_cookie(c2, "session", encode_with(A, KEY, vial_pack_in(A, "{s:i}", "_user_id", 2), time(NULL)));
    cr_assert_str_eq(vial_client_get(c2, "/whoami")->body, "2");
    vial_client_free(c2);
    vial_client_free(c);
    vial_app_free(app);
}

Test(login, c_struct_users) {
    vial_app *app = make_app(true);
    vial_client *c = vial_test_client(app);
    cr_assert_eq(vial_client_post(c, "/login", .form = "id=2")->status, 302);
    cr_assert_str_eq(vial_client_get(c, "/whoami")->body, "2");
    cr_assert_str_eq(vial_client_get(c, "/admin/")->body, "admin 2");
    cr_assert_eq(vial_client_post(c, "/login", .form = "id=7")->status, 403);
    vial_client_free(c);
    vial_app_free(app);
}

Test(login, remember_me_cookie) {
    vial_app *app = make_app(false);
    vial_client *c = vial_test_client(app);
    time_t before = time(NULL);
    vial_response *r = vial_client_post(c, "/login", .form = "id=2&remember=y");
    const char *line = set_cookie_line(r, "remember_token");
    cr_assert_not_null(line);
    /* "<id>|<hex HMAC-SHA512(SECRET_KEY, id)>", Expires a year ahead, HttpOnly, Path=/ */
    unsigned char mac[SHA512_DIGEST_LENGTH];
    unsigned mac_len;
    HMAC(EVP_sha512(), KEY, (int)strlen(KEY), (const unsigned char *)"2", 1, mac, &mac_len);
    char *want = vial_arena_sprintf(A, "remember_token=2|%s; Expires=", hex(mac, mac_len));
    cr_assert_eq(strncmp(line, want, strlen(want)), 0, "%s", line);
    cr_assert_not_null(strstr(line, "; HttpOnly; Path=/"), "%s", line);
    char year[8];
    struct tm tm;
    time_t t = before + 365 * 24 * 3600;
    strftime(year, sizeof year, "%Y", gmtime_r(&t, &tm));
    cr_assert_not_null(strstr(line, year), "%s", line);
    cr_assert_null(vial_object_get(session_of(c), "_remember"), "popped when the cookie is set");
    /* a new browser session: only the remember cookie is left */
    const char *token = cookie_value_of(A, line);
    vial_client *c2 = vial_test_client(app);
    vial_client_set_cookie(c2, "remember_token", token);
    r = vial_client_get(c2, "/profile");
    cr_assert_eq(r->status, 200);
    cr_assert_str_eq(r->body, "hello xiaoming (fresh=0)", "loaded from the cookie, not fresh");
    vial_value *s = session_of(c2);
    cr_assert_str_eq(vial_get_str(s, "_user_id"), "2");
    /* a forged cookie is nobody */
    vial_client *c3 = vial_test_client(app);
    vial_client_set_cookie(c3, "remember_token", vial_arena_sprintf(A, "1|%s", hex(mac, mac_len)));
    cr_assert_eq(vial_client_get(c3, "/profile")->status, 302);
    vial_client_set_cookie(c3, "remember_token", "1");
    cr_assert_eq(vial_client_get(c3, "/profile")->status, 302);
    /* logout deletes the remember cookie */
    r = vial_client_get(c2, "/logout");
    line = set_cookie_line(r, "remember_token");
    cr_assert_not_null(line);
    cr_assert_str_eq(line, "remember_token=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/");
    cr_assert_null(vial_client_cookie(c2, "remember_token"));
    cr_assert_eq(vial_client_get(c2, "/profile")->status, 302);
    vial_client_free(c3);
    vial_client_free(c2);
    vial_client_free(c);
    vial_app_free(app);
}

Test(login, remember_cookie_settings_and_duration) {
    vial_app *app = make_app(false);
    vial_config_set(app, "REMEMBER_COOKIE_NAME", "rm");
    vial_config_set(app, "REMEMBER_COOKIE_DOMAIN", "example.com");
    vial_config_set(app, "REMEMBER_COOKIE_PATH", "/app");
    vial_config_set(app, "REMEMBER_COOKIE_SECURE", "true");
    vial_config_set(app, "REMEMBER_COOKIE_HTTPONLY", "false");
    vial_config_set(app, "REMEMBER_COOKIE_SAMESITE", "Strict");
    vial_config_set_int(app, "REMEMBER_COOKIE_DURATION", 86400);
    vial_client *c = vial_test_client(app);
    vial_response *r = vial_client_post(c, "/login", .form = "id=1&remember=y");
    const char *line = set_cookie_line(r, "rm");
    cr_assert_not_null(line);
    cr_assert_str_eq(strstr(line, "; Domain="), vial_arena_sprintf(A, "; Domain=example.com; Expires=%s", strstr(line, "Expires=") + 8));
    cr_assert_not_null(strstr(line, "; Secure; Path=/app; SameSite=Strict"), "%s", line);
    cr_assert_null(strstr(line, "HttpOnly"), "%s", line);
    /* REFRESH_EACH_REQUEST re-sends it (and writes the session) on each request that uses the session */
    vial_config_set(app, "REMEMBER_COOKIE_REFRESH_EACH_REQUEST", "true");
    r = vial_client_get(c, "/untouched-404");
    cr_assert_not_null(set_cookie_line(r, "rm"));
    vial_client_free(c);
    vial_app_free(app);
}

Test(login, refreshing_the_remember_cookie_without_a_secret_key_breaks_nothing) {
    vial_app *app = make_app(false);
    vial_config_set(app, "SECRET_KEY", NULL);
    vial_config_set(app, "REMEMBER_COOKIE_REFRESH_EACH_REQUEST", "true");
    vial_client *c = vial_test_client(app);
    vial_response *r = vial_client_get(c, "/check_next?next=/x");
    cr_assert_eq(r->status, 200);
    cr_assert_eq(set_cookie_count(r), 0);
    vial_client_free(c);
    vial_app_free(app);
}

Test(login, session_protection) {
    vial_app *app = make_app(false);
    vial_client *c = vial_test_client(app);
    vial_client_post(c, "/login", .form = "id=1");
    /* basic: another address or browser makes the session not fresh */
    vial_response *r = vial_client_get(c, "/profile", .headers = "User-Agent: something else");
    cr_assert_str_eq(r->body, "hello root (fresh=0)");
    cr_assert_eq(vial_get_bool(session_of(c), "_fresh", true), false);
    /* strong: the session is emptied and the user logged out */
    vial_config_set(app, "SESSION_PROTECTION", "strong");
    vial_client_post(c, "/login", .form = "id=1");
    cr_assert_str_eq(vial_client_get(c, "/whoami")->body, "1");
    r = vial_client_get(c, "/whoami", .headers = "X-Forwarded-For: 10.1.2.3, 127.0.0.1");
    cr_assert_str_eq(r->body, "anonymous");
    cr_assert_null(vial_object_get(session_of(c), "_user_id"));
    /* off */
    vial_config_set(app, "SESSION_PROTECTION", "none");
    vial_client_post(c, "/login", .form = "id=1");
    cr_assert_str_eq(vial_client_get(c, "/whoami", .headers = "User-Agent: x")->body, "1");
    vial_client_free(c);
    vial_app_free(app);
}

Test(login, without_login_view_unauthorized_is_401) {
    vial_app *app = vial_app_new("login401");
    vial_config_set(app, "SECRET_KEY", KEY);
    vial_route(app, "/profile", VIAL_GET, profile);
    vial_login_manager(app, .user_loader = load_user, .login_message = "");
    vial_login_required_view(app, "profile");
    vial_client *c = vial_test_client(app);
    vial_response *r = vial_client_get(c, "/profile");
    cr_assert_eq(r->status, 401);
    cr_assert_eq(set_cookie_count(r), 0);
    vial_client_free(c);
    vial_app_free(app);
}

Test(login, current_user_without_a_login_manager_is_a_clear_500) {
    vial_app *app = vial_app_new("nologin");
    vial_config_set(app, "SECRET_KEY", KEY);
    vial_config_set(app, "DEBUG", "true");
    vial_route(app, "/whoami", VIAL_GET, whoami);
    vial_client *c = vial_test_client(app);
    vial_response *r = vial_client_get(c, "/whoami");
    cr_assert_eq(r->status, 500);
    cr_assert_not_null(strstr(r->body, "Missing user_loader"), "%s", r->body);
    vial_client_free(c);
    vial_app_free(app);
}

Test(login, safe_next_targets) {
    vial_app *app = make_app(false);
    vial_client *c = vial_test_client(app);
    static const char *const safe[][2] = {
        {"%2Fprofile", "/profile"},
        {"/profile?tab=1%26x", "/profile?tab=1&x"},
        {"profile", "profile"},
        {"http://localhost/profile", "http://localhost/profile"},
        {"HTTPS://LOCALHOST/x", "HTTPS://LOCALHOST/x"},
        {"%2F%2Flocalhost%2Fx", "//localhost/x"}, /* scheme-relative to this host */
        {"/a//b", "/a//b"},
        {"?page=2", "?page=2"},
        {"#top", "#top"},
    };
    for (size_t i = 0; i < sizeof safe / sizeof safe[0]; i++) {
        vial_response *r = vial_client_get(c, vial_arena_sprintf(A, "/check_next?next=%s", safe[i][0]));
        cr_assert_str_eq(r->body, safe[i][1], "next=%s", safe[i][0]);
    }
    static const char *const unsafe[] = {
        "//evil.com",
        "//evil.com/path",
        "///evil.com",
        "%2F%2Fevil.com",
        "http://evil.com/",
        "https://evil.com",
        "http://localhost@evil.com/",
        "http://localhost:80@evil.com/",
        "http://localhost.evil.com/",
        "//localhost@evil.com/",
        "//localhost.evil.com/",
        "//localhost:8080/",
        "http://evil.com#localhost",
        "https:evil.com",
        "http:/evil.com",
        "/%5Cevil.com",
        "%5C%5Cevil.com",
        "/%5C/evil.com",
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,x",
        "%20//evil.com",
        "%09//evil.com",
        "/%09/evil.com",
        "/%0A/evil.com",
        "%0D%0A//evil.com",
        "ftp://localhost/",
        "",
    };
    for (size_t i = 0; i < sizeof unsafe / sizeof unsafe[0]; i++) {
        vial_response *r = vial_client_get(c, vial_arena_sprintf(A, "/check_next?next=%s", unsafe[i]));
        cr_assert_str_eq(r->body, "(refused)", "next=%s", unsafe[i]);
    }
    cr_assert_str_eq(vial_client_get(c, "/check_next")->body, "(refused)", "absent");
    /* after a login, an unsafe next falls back to the app's own page */
    vial_response *r = vial_client_post(c, "/login?next=//evil.com/", .form = "id=1");
    cr_assert_str_eq(vial_response_header(r, "Location"), "/");
    vial_client_free(c);
    vial_app_free(app);
}

Test(login, password_wrappers) {
    vial_app *app = make_app(false);
    vial_client *c = vial_test_client(app);
    vial_response *r = vial_client_get(c, "/hash?pw=123456");
    cr_assert_eq(r->status, 200);
    cr_assert_eq(strncmp(r->body, "1 0 scrypt:32768:8:1$", 21), 0, "%s", r->body);
    const char *hash = strchr(strchr(r->body, ' ') + 1, ' ') + 1;
    cr_assert(vial_check_password(hash, "123456"));
    cr_assert_not(vial_check_password(hash, "1234567"));
    cr_assert_not(vial_check_password(NULL, "x"));
    cr_assert_not(vial_check_password(hash, NULL));
    cr_assert_not(vial_check_password("not a hash", "x"));
    vial_client_free(c);
    vial_app_free(app);
}
