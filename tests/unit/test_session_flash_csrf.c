/* Flash messages and CSRF protection through the test client: Flask's
 * _flashes layout, categories and filters; Flask-WTF's tokens, the checks,
 * every failure reason, exemptions and switches. */
#include "session_testutil.h"

#define KEY "flash-and-csrf-secret"

/* ---- flash ---- */

static void do_flash(vial_req *rq, vial_res *rs) {
    vial_flash(rq, "Hello", NULL);
    vial_flash(rq, "Incorrect username.", "error");
    vial_flash(rq, "<b>careful</b>", "warning");
    vial_text(rs, "flashed");
}

static void show(vial_req *rq, vial_res *rs) {
    bool cats = vial_arg(rq, "cats") != NULL;
    const char *filter = vial_arg(rq, "filter");
    const char *list[3] = {filter, filter ? "warning" : NULL, NULL};
    vial_value *v = vial_get_flashed_messages(rq, .with_categories = cats, .category_filter = filter ? list : NULL);
    /* a second call in the same request sees the same messages */
    vial_value *again = vial_get_flashed_messages(rq);
    vial_set_header(rs, "X-Again", vial_sprintf(rq, "%zu", vial_len(again)));
    vial_jsonify(rs, v);
}

static void show_and_flash(vial_req *rq, vial_res *rs) {
    vial_value *v = vial_get_flashed_messages(rq);
    vial_flash(rq, "next time", "info");
    vial_jsonify(rs, v);
}

/* ---- csrf ---- */

static void form_page(vial_req *rq, vial_res *rs) { vial_text(rs, vial_csrf_token(rq)); }

static void submit(vial_req *rq, vial_res *rs) { vial_printf(rs, "ok %s", vial_method(rq)); }

static void api_hook(vial_req *rq, vial_res *rs) { vial_printf(rs, "api ok %s", vial_method(rq)); }

static void manual(vial_req *rq, vial_res *rs) {
    vial_csrf_check(rq);
    vial_text(rs, "checked by the view");
}

static vial_app *make_app(void) {
    vial_app *app = vial_app_new("flash_csrf");
    vial_config_set(app, "SECRET_KEY", KEY);
    vial_route(app, "/flash", VIAL_GET, do_flash);
    vial_route(app, "/show", VIAL_GET, show);
    vial_route(app, "/show_and_flash", VIAL_GET, show_and_flash);
    vial_route(app, "/form", VIAL_GET, form_page);
    vial_add_url_rule(app, "/submit", "submit", VIAL_GET | VIAL_POST | VIAL_PUT | VIAL_PATCH | VIAL_DELETE, submit);
    vial_add_url_rule(app, "/webhook", "webhook", VIAL_POST, submit);
    vial_add_url_rule(app, "/manual", "manual", VIAL_POST, manual);
    vial_bp *api = vial_blueprint(app, "api", "/api");
    vial_bp_add_url_rule(api, "/hook", "hook", VIAL_POST, api_hook);
    vial_csrf_protect(app);
    vial_csrf_exempt(app, "webhook");
    vial_csrf_exempt_blueprint(api);
    return app;
}

static vial_arena *A;
static void setup(void) { A = vial_arena_new(4096); }
static void teardown(void) { vial_arena_free(A); }
TestSuite(flash, .init = setup, .fini = teardown);
TestSuite(csrf, .init = setup, .fini = teardown);

Test(flash, stored_as_flask_stores_them) {
    vial_app *app = make_app();
    vial_client *c = vial_test_client(app);
    vial_response *r = vial_client_get(c, "/flash");
    vial_sign_status why;
    vial_value *s = decode_with(A, KEY, cookie_value_of(A, set_cookie_line(r, "session")), &why);
    cr_assert_eq(why, VIAL_SIGN_OK);
    cr_assert_str_eq(tagged(A, s), "{\"_flashes\":[{\" t\":[\"message\",\"Hello\"]},{\" t\":[\"error\","
                                   "\"Incorrect username.\"]},{\" t\":[\"warning\",\"<b>careful</b>\"]}]}");
    vial_client_free(c);
    vial_app_free(app);
}

Test(flash, shown_once_then_gone) {
    vial_app *app = make_app();
    vial_client *c = vial_test_client(app);
    vial_client_get(c, "/flash");
    vial_response *r = vial_client_get(c, "/show");
    cr_assert_str_eq(r->body, "[\"Hello\",\"Incorrect username.\",\"<b>careful</b>\"]\n");
    cr_assert_str_eq(vial_response_header(r, "X-Again"), "3");
    /* popped: the session is empty now, so its cookie is deleted */
    cr_assert_not_null(strstr(set_cookie_line(r, "session"), "Max-Age=0"));
    r = vial_client_get(c, "/show");
    cr_assert_str_eq(r->body, "[]\n");
    cr_assert_eq(set_cookie_count(r), 0, "nothing to pop, nothing written");
    vial_client_free(c);
    vial_app_free(app);
}

Test(flash, categories_and_filters) {
    vial_app *app = make_app();
    vial_client *c = vial_test_client(app);
    vial_client_get(c, "/flash");
    vial_response *r = vial_client_get(c, "/show?cats=1");
    cr_assert_str_eq(r->body,
                     "[[\"message\",\"Hello\"],[\"error\",\"Incorrect username.\"],[\"warning\",\"<b>careful</b>\"]]\n");
    vial_client_get(c, "/flash");
    r = vial_client_get(c, "/show?filter=error");
    cr_assert_str_eq(r->body, "[\"Incorrect username.\",\"<b>careful</b>\"]\n", "error and warning");
    cr_assert_str_eq(vial_response_header(r, "X-Again"), "3", "the filter does not drop the others from the request");
    vial_client_get(c, "/flash");
    r = vial_client_get(c, "/show?filter=nothing-like-it&cats=1");
    cr_assert_str_eq(r->body, "[[\"warning\",\"<b>careful</b>\"]]\n");
    vial_client_free(c);
    vial_app_free(app);
}

Test(flash, flashing_after_reading_keeps_the_new_one_for_next_time) {
    vial_app *app = make_app();
    vial_client *c = vial_test_client(app);
    vial_client_get(c, "/flash");
    vial_response *r = vial_client_get(c, "/show_and_flash");
    cr_assert_str_eq(r->body, "[\"Hello\",\"Incorrect username.\",\"<b>careful</b>\"]\n");
    r = vial_client_get(c, "/show?cats=1");
    cr_assert_str_eq(r->body, "[[\"info\",\"next time\"]]\n");
    vial_client_free(c);
    vial_app_free(app);
}

Test(flash, without_a_secret_key_flashing_is_a_500_and_reading_is_empty) {
    vial_app *app = make_app();
    vial_config_set(app, "SECRET_KEY", NULL);
    vial_client *c = vial_test_client(app);
    cr_assert_eq(vial_client_get(c, "/flash")->status, 500);
    vial_response *r = vial_client_get(c, "/show");
    cr_assert_eq(r->status, 200);
    cr_assert_str_eq(r->body, "[]\n");
    vial_client_free(c);
    vial_app_free(app);
}

/* ---- CSRF ---- */

static const char *token_of(vial_client *c) {
    vial_response *r = vial_client_get(c, "/form");
    cr_assert_eq(r->status, 200);
    return r->body;
}

Test(csrf, token_is_flask_wtfs) {
    vial_app *app = make_app();
    vial_client *c = vial_test_client(app);
    vial_response *r = vial_client_get(c, "/form");
    const char *token = r->body;
    vial_sign_status why;
    vial_value *s = decode_with(A, KEY, cookie_value_of(A, set_cookie_line(r, "session")), &why);
    const char *secret = vial_get_str(s, "csrf_token");
    cr_assert_not_null(secret);
    cr_assert_eq(strlen(secret), 40, "sha1 hex");
    /* URLSafeTimedSerializer(SECRET_KEY, salt="wtf-csrf-token").loads(token) == session["csrf_token"] */
    vial_value *signed_value = vial_unsign(A, KEY, "wtf-csrf-token", token, 3600, &why);
    cr_assert_not_null(signed_value, "%s", vial_sign_strerror(why));
    cr_assert_str_eq(vial_str_of(signed_value), secret);
    /* the session secret stays; a later page gets a token for the same secret */
    const char *token2 = token_of(c);
    cr_assert_str_eq(vial_str_of(vial_unsign(A, KEY, "wtf-csrf-token", token2, 3600, &why)), secret);
    vial_client_free(c);
    vial_app_free(app);
}

Test(csrf, accepted_from_the_form_field_the_headers_and_a_prefixed_field) {
    vial_app *app = make_app();
    vial_client *c = vial_test_client(app);
    const char *token = vial_arena_strdup(A, token_of(c));
    vial_response *r = vial_client_post(c, "/submit", .form = vial_arena_sprintf(A, "csrf_token=%s&x=1", token));
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(r->body, "ok POST");
    r = vial_client_post(c, "/submit", .form = vial_arena_sprintf(A, "user-csrf_token=%s", token));
    cr_assert_eq(r->status, 200, "%s", r->body);
    r = vial_client_put(c, "/submit", .json = "{}", .headers = vial_arena_sprintf(A, "X-CSRFToken: %s", token));
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(r->body, "ok PUT");
    r = vial_client_delete(c, "/submit", .headers = vial_arena_sprintf(A, "X-CSRF-Token: %s", token));
    cr_assert_eq(r->status, 200, "%s", r->body);
    r = vial_client_open(c, "PATCH", "/submit",
                         &(vial_client_opts){.headers = vial_arena_sprintf(A, "X-CSRFToken: %s", token)});
    cr_assert_eq(r->status, 200, "%s", r->body);
    /* GET is never checked */
    cr_assert_eq(vial_client_get(c, "/submit")->status, 200);
    vial_client_free(c);
    vial_app_free(app);
}

static void expect_400(vial_client *c, const char *method, const char *path, const vial_client_opts *o,
                       const char *reason) {
    vial_response *r = vial_client_open(c, method, path, o);
    cr_assert_eq(r->status, 400, "%s %s: %d %s", method, path, r->status, r->body);
    cr_assert_not_null(strstr(r->body, reason), "%s", r->body);
}

Test(csrf, every_failure_has_flask_wtfs_reason) {
    vial_app *app = make_app();
    vial_client *c = vial_test_client(app);
    /* no token at all, on a fresh client */
    expect_400(c, "POST", "/submit", &(vial_client_opts){.form = "x=1"}, "The CSRF token is missing.");
    /* a token, but this client's session has no secret */
    vial_client *other = vial_test_client(app);
    const char *other_token = vial_arena_strdup(A, token_of(other));
    expect_400(c, "POST", "/submit", &(vial_client_opts){.form = vial_arena_sprintf(A, "csrf_token=%s", other_token)},
               "The CSRF session token is missing.");
    /* now this client has a secret; another client's token is for another secret */
    token_of(c);
    expect_400(c, "POST", "/submit", &(vial_client_opts){.form = vial_arena_sprintf(A, "csrf_token=%s", other_token)},
               "The CSRF tokens do not match.");
    expect_400(c, "POST", "/submit", &(vial_client_opts){.form = "csrf_token=not-a-token"}, "The CSRF token is invalid.");
    /* signed with another key or salt */
    vial_value *secret = vial_new_str(A, "0123456789abcdef0123456789abcdef01234567");
    expect_400(c, "POST", "/submit",
               &(vial_client_opts){.form = vial_arena_sprintf(A, "csrf_token=%s", vial_sign(A, "other", "wtf-csrf-token", secret))},
               "The CSRF token is invalid.");
    expect_400(c, "POST", "/submit",
               &(vial_client_opts){.form = vial_arena_sprintf(A, "csrf_token=%s", vial_sign(A, KEY, "other-salt", secret))},
               "The CSRF token is invalid.");
    /* expired: signed more than WTF_CSRF_TIME_LIMIT seconds ago */
    vial_response *page = vial_client_get(c, "/form");
    vial_sign_status why;
    vial_value *s = decode_with(A, KEY, vial_client_cookie(c, "session"), &why);
    (void)page;
    vial_str k = VIAL_STR(KEY);
    vial_signer signer = {.keys = &k, .nkeys = 1, .salt = VIAL_STR("wtf-csrf-token")};
    vial_str old;
    cr_assert_eq(vial_serializer_dumps(A, &signer, vial_object_get(s, "csrf_token"), time(NULL) - 3700, &old),
                 VIAL_SIGN_OK);
    expect_400(c, "POST", "/submit", &(vial_client_opts){.form = vial_arena_sprintf(A, "csrf_token=%s", old.ptr)},
               "The CSRF token has expired.");
    /* ...which a longer time limit accepts, and no limit too */
    vial_config_set_int(app, "WTF_CSRF_TIME_LIMIT", 7200);
    cr_assert_eq(vial_client_post(c, "/submit", .form = vial_arena_sprintf(A, "csrf_token=%s", old.ptr))->status, 200);
    vial_config_set(app, "WTF_CSRF_TIME_LIMIT", NULL);
    cr_assert_eq(vial_client_post(c, "/submit", .form = vial_arena_sprintf(A, "csrf_token=%s", old.ptr))->status, 200);
    /* an empty header counts as missing */
    expect_400(c, "DELETE", "/submit", &(vial_client_opts){.headers = "X-CSRFToken: "}, "The CSRF token is missing.");
    vial_client_free(other);
    vial_client_free(c);
    vial_app_free(app);
}

Test(csrf, exemptions_and_switches) {
    vial_app *app = make_app();
    vial_client *c = vial_test_client(app);
    cr_assert_eq(vial_client_post(c, "/webhook", .form = "x=1")->status, 200, "exempt endpoint");
    vial_response *r = vial_client_post(c, "/api/hook", .json = "{}");
    cr_assert_eq(r->status, 200, "exempt blueprint");
    cr_assert_str_eq(r->body, "api ok POST");
    /* 404 and 405 are not CSRF's business */
    cr_assert_eq(vial_client_post(c, "/nowhere", .form = "x=1")->status, 404);
    cr_assert_eq(vial_client_post(c, "/form", .form = "x=1")->status, 405);
    /* only the configured methods */
    vial_config_set_value(app, "WTF_CSRF_METHODS", vial_pack_in(A, "[s]", "DELETE"));
    cr_assert_eq(vial_client_post(c, "/submit", .form = "x=1")->status, 200);
    cr_assert_eq(vial_client_delete(c, "/submit")->status, 400);
    vial_config_set_value(app, "WTF_CSRF_METHODS", vial_pack_in(A, "[s, s, s, s]", "POST", "PUT", "PATCH", "DELETE"));
    /* WTF_CSRF_ENABLED off */
    vial_config_set(app, "WTF_CSRF_ENABLED", "false");
    cr_assert_eq(vial_client_post(c, "/submit", .form = "x=1")->status, 200);
    vial_config_set(app, "WTF_CSRF_ENABLED", "true");
    cr_assert_eq(vial_client_post(c, "/submit", .form = "x=1")->status, 400);
    /* WTF_CSRF_CHECK_DEFAULT off: views check when they want to */
    vial_config_set(app, "WTF_CSRF_CHECK_DEFAULT", "false");
    cr_assert_eq(vial_client_post(c, "/submit", .form = "x=1")->status, 200);
    expect_400(c, "POST", "/manual", &(vial_client_opts){.form = "x=1"}, "The CSRF token is missing.");
    const char *token = vial_arena_strdup(A, token_of(c));
    r = vial_client_post(c, "/manual", .form = vial_arena_sprintf(A, "csrf_token=%s", token));
    cr_assert_eq(r->status, 200);
    cr_assert_str_eq(r->body, "checked by the view");
    /* custom field name and headers */
    vial_config_set(app, "WTF_CSRF_CHECK_DEFAULT", "true");
    vial_config_set(app, "WTF_CSRF_FIELD_NAME", "_csrf");
    vial_config_set_value(app, "WTF_CSRF_HEADERS", vial_pack_in(A, "[s]", "X-XSRF-TOKEN"));
    token = vial_arena_strdup(A, token_of(c));
    cr_assert_eq(vial_client_post(c, "/submit", .form = vial_arena_sprintf(A, "_csrf=%s", token))->status, 200);
    cr_assert_eq(vial_client_post(c, "/submit", .headers = vial_arena_sprintf(A, "X-XSRF-TOKEN: %s", token))->status, 200);
    cr_assert_eq(vial_client_post(c, "/submit", .headers = vial_arena_sprintf(A, "X-CSRFToken: %s", token))->status, 400);
    vial_client_free(c);
    vial_app_free(app);
}

Test(csrf, https_also_checks_the_referrer) {
    vial_app *app = make_app();
    vial_config_set_int(app, "PROXY_FIX_X_PROTO", 1);
    vial_client *c = vial_test_client(app);
    const char *token = vial_arena_strdup(A, token_of(c));
    const char *form = vial_arena_sprintf(A, "csrf_token=%s", token);
    expect_400(c, "POST", "/submit", &(vial_client_opts){.form = form, .headers = "X-Forwarded-Proto: https"},
               "The referrer header is missing.");
    expect_400(c, "POST", "/submit",
               &(vial_client_opts){.form = form, .headers = "X-Forwarded-Proto: https\nReferer: https://evil.example/form"},
               "The referrer does not match the host.");
    expect_400(c, "POST", "/submit",
               &(vial_client_opts){.form = form, .headers = "X-Forwarded-Proto: https\nReferer: http://localhost/form"},
               "The referrer does not match the host.");
    vial_response *r = vial_client_post(c, "/submit", .form = form,
                                        .headers = "X-Forwarded-Proto: https\nReferer: https://localhost/form");
    cr_assert_eq(r->status, 200, "%s", r->body);
    vial_config_set(app, "WTF_CSRF_SSL_STRICT", "false");
    cr_assert_eq(vial_client_post(c, "/submit", .form = form, .headers = "X-Forwarded-Proto: https")->status, 200);
    vial_client_free(c);
    vial_app_free(app);
}

Test(csrf, needs_a_secret_key) {
    vial_app *app = make_app();
    vial_config_set(app, "SECRET_KEY", NULL);
    vial_config_set(app, "DEBUG", "true");
    vial_client *c = vial_test_client(app);
    vial_response *r = vial_client_get(c, "/form");
    cr_assert_eq(r->status, 500);
    cr_assert_not_null(strstr(r->body, "A secret key is required to use CSRF."), "%s", r->body);
    /* a separate WTF_CSRF_SECRET_KEY signs tokens, the session still needs SECRET_KEY */
    vial_config_set(app, "WTF_CSRF_SECRET_KEY", "csrf-only");
    cr_assert_eq(vial_client_get(c, "/form")->status, 500);
    vial_config_set(app, "SECRET_KEY", KEY);
    r = vial_client_get(c, "/form");
    cr_assert_eq(r->status, 200);
    vial_sign_status why;
    cr_assert_not_null(vial_unsign(A, "csrf-only", "wtf-csrf-token", r->body, 3600, &why));
    cr_assert_null(vial_unsign(A, KEY, "wtf-csrf-token", r->body, 3600, &why));
    vial_client_free(c);
    vial_app_free(app);
}
