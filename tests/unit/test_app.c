/* The app object, dispatch, hooks, errors, responses and config, through the test client. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vial.h"

VIAL_ROUTE(declared, "/declared", VIAL_GET) { vial_text(rs, "declared beside its view"); }

static void hello(vial_req *rq, vial_res *rs) {
    (void)rq;
    vial_html(rs, "<h1>hello vial</h1>");
}

static void custom(vial_req *rq, vial_res *rs) {
    (void)rq;
    vial_status(rs, 201);
    vial_set_header(rs, "Company", "flask.edu");
    vial_text(rs, "hello");
}

static void devil(vial_req *rq, vial_res *rs) {
    (void)rq;
    vial_status_reason(rs, 666, "Devil");
    vial_printf(rs, "%d", 666);
}

static void json(vial_req *rq, vial_res *rs) {
    vial_jsonify(rs, vial_pack(rq, "{s:s, s:[i, f, s]}", "name", "xiaoming", "list", 1, 2.5, "\xe4\xb8\xad"));
}

static void echo_json(vial_req *rq, vial_res *rs) {
    vial_value *body = vial_get_json(rq);
    vial_printf(rs, "user=%s", vial_get_str(body, "username"));
}

static void forbidden(vial_req *rq, vial_res *rs) {
    (void)rs;
    vial_abort(rq, 403);
}

static void teapot(vial_req *rq, vial_res *rs) {
    (void)rs;
    vial_abort_msg(rq, 400, "bad <thing>\nsecond line");
}

static void bad_header(vial_req *rq, vial_res *rs) {
    (void)rq;
    int rc = vial_set_header(rs, "X-Evil", "a\r\nSet-Cookie: pwned=1");
    vial_printf(rs, "rc=%d", rc);
}

static void jump(vial_req *rq, vial_res *rs) {
    (void)rq;
    vial_redirect(rs, "https://www.example.com/", 302);
}

static void g_reader(vial_req *rq, vial_res *rs) {
    vial_value *who = vial_g_get(rq, "user");
    vial_printf(rs, "g.user=%s", who ? vial_str_of(who) : "none");
}

static void info(vial_req *rq, vial_res *rs) {
    vial_printf(rs, "%s|%s|%s|%s|%s|%s|%s", vial_method(rq), vial_path(rq), vial_full_path(rq), vial_url(rq),
                vial_host(rq), vial_remote_addr(rq), vial_user_agent(rq));
}

static int order_log_len;
static char order_log[256];
static void log_step(const char *s) {
    order_log_len += snprintf(order_log + order_log_len, sizeof order_log - (size_t)order_log_len, "%s,", s);
}
static bool before_a(vial_req *rq, vial_res *rs) {
    (void)rs;
    log_step("before_a");
    vial_g_set(rq, "user", vial_string(rq, "root"));
    return false;
}
static bool before_b(vial_req *rq, vial_res *rs) {
    log_step("before_b");
    if (strcmp(vial_path(rq), "/guarded") == 0) {
        vial_redirect(rs, "/login", 302);
        return true;
    }
    return false;
}
static void after_a(vial_req *rq, vial_res *rs) {
    (void)rq;
    log_step("after_a");
    vial_set_header(rs, "X-After", "a");
}
static void after_b(vial_req *rq, vial_res *rs) {
    (void)rq, (void)rs;
    log_step("after_b");
}
static void teardown_a(vial_req *rq, int status) {
    (void)rq;
    log_step(status == 404 ? "teardown_404" : "teardown");
}
static void not_found(vial_req *rq, vial_res *rs, int code) {
    vial_printf(rs, "custom %d for %s", code, vial_path(rq));
}

static vial_app *make_app(void) {
    vial_app *app = vial_app_new("test");
    vial_route(app, "/", VIAL_GET | VIAL_POST, hello);
    vial_route(app, "/custom", VIAL_GET, custom);
    vial_route(app, "/devil", VIAL_GET, devil);
    vial_route(app, "/json", VIAL_GET, json);
    vial_route(app, "/data", VIAL_POST, echo_json);
    vial_route(app, "/forbidden", VIAL_GET, forbidden);
    vial_route(app, "/teapot", VIAL_GET, teapot);
    vial_route(app, "/bad_header", VIAL_GET, bad_header);
    vial_route(app, "/jump", VIAL_GET, jump);
    vial_route(app, "/g", VIAL_GET, g_reader);
    vial_route(app, "/info", VIAL_GET, info);
    vial_add_url_rule(app, "/guarded", "guarded", VIAL_GET, hello);
    return app;
}

Test(app, routes_declared_with_the_macro_register_themselves) {
    vial_app *app = vial_app_new("decl");
    vial_client *c = vial_test_client(app);
    vial_response *r = vial_client_get(c, "/declared");
    cr_assert_eq(r->status, 200);
    cr_assert_str_eq(r->body, "declared beside its view");
    cr_assert_str_eq(vial_response_header(r, "Content-Type"), "text/plain; charset=utf-8");
    vial_client_free(c);
    vial_app_free(app);
}

Test(app, html_text_status_and_custom_headers) {
    vial_app *app = make_app();
    vial_client *c = vial_test_client(app);
    vial_response *r = vial_client_get(c, "/");
    cr_assert_eq(r->status, 200);
    cr_assert_str_eq(r->body, "<h1>hello vial</h1>");
    cr_assert_str_eq(vial_response_header(r, "Content-Type"), "text/html; charset=utf-8");
    r = vial_client_post(c, "/");
    cr_assert_eq(r->status, 200);
    r = vial_client_get(c, "/custom");
    cr_assert_eq(r->status, 201);
    cr_assert_str_eq(vial_response_header(r, "Company"), "flask.edu");
    cr_assert_str_eq(r->body, "hello");
    r = vial_client_get(c, "/devil");
    cr_assert_eq(r->status, 666);
    cr_assert_str_eq(r->reason, "Devil");
    cr_assert_str_eq(r->body, "666");
    vial_client_free(c);
    vial_app_free(app);
}

Test(app, jsonify_matches_flask) {
    vial_app *app = make_app();
    vial_client *c = vial_test_client(app);
    vial_response *r = vial_client_get(c, "/json");
    cr_assert_str_eq(vial_response_header(r, "Content-Type"), "application/json");
    /* Flask 2.2: sorted keys, ASCII escapes, compact, trailing newline */
    cr_assert_str_eq(r->body, "{\"list\":[1,2.5,\"\\u4e2d\"],\"name\":\"xiaoming\"}\n");
    vial_config_set(app, "DEBUG", "true");
    r = vial_client_get(c, "/json");
    cr_assert_str_eq(r->body, "{\n  \"list\": [\n    1,\n    2.5,\n    \"\\u4e2d\"\n  ],\n  \"name\": \"xiaoming\"\n}\n");
    vial_client_free(c);
    vial_app_free(app);
}

Test(app, json_bodies_415_and_400) {
    vial_app *app = make_app();
    vial_client *c = vial_test_client(app);
    vial_response *r = vial_client_post(c, "/data", .json = "{\"username\": \"xiaoming\"}");
    cr_assert_eq(r->status, 200);
    cr_assert_str_eq(r->body, "user=xiaoming");
    r = vial_client_post(c, "/data", .data = "{\"username\": 1}", .content_type = "text/plain");
    cr_assert_eq(r->status, 415);
    r = vial_client_post(c, "/data", .json = "{\"username\": }");
    cr_assert_eq(r->status, 400);
    r = vial_client_post(c, "/data", .data = "{}", .content_type = "application/vnd.api+json");
    cr_assert_eq(r->status, 200);
    vial_client_free(c);
    vial_app_free(app);
}

Test(app, default_error_pages_are_werkzeugs) {
    vial_app *app = make_app();
    vial_client *c = vial_test_client(app);
    vial_response *r = vial_client_get(c, "/nope");
    cr_assert_eq(r->status, 404);
    cr_assert_str_eq(r->body, "<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n"
                              "<p>The requested URL was not found on the server. If you entered the URL manually "
                              "please check your spelling and try again.</p>\n");
    r = vial_client_post(c, "/custom");
    cr_assert_eq(r->status, 405);
    cr_assert_not_null(vial_response_header(r, "Allow"));
    cr_assert(strstr(vial_response_header(r, "Allow"), "GET"));
    r = vial_client_get(c, "/forbidden");
    cr_assert_eq(r->status, 403);
    r = vial_client_get(c, "/teapot");
    cr_assert_eq(r->status, 400);
    cr_assert(strstr(r->body, "<p>bad &lt;thing&gt;<br>second line</p>"), "%s", r->body);
    vial_client_free(c);
    vial_app_free(app);
}

Test(app, automatic_options_and_head) {
    vial_app *app = make_app();
    vial_client *c = vial_test_client(app);
    vial_response *r = vial_client_open(c, "OPTIONS", "/custom", NULL);
    cr_assert_eq(r->status, 200);
    cr_assert_eq(r->body_len, 0);
    const char *allow = vial_response_header(r, "Allow");
    cr_assert(allow && strstr(allow, "GET") && strstr(allow, "HEAD") && strstr(allow, "OPTIONS"));
    r = vial_client_head(c, "/custom");
    cr_assert_eq(r->status, 201);
    cr_assert_eq(r->body_len, 0);
    cr_assert_str_eq(vial_response_header(r, "Content-Length"), "5");
    vial_client_free(c);
    vial_app_free(app);
}

Test(app, response_splitting_is_refused) {
    vial_app *app = make_app();
    vial_client *c = vial_test_client(app);
    vial_response *r = vial_client_get(c, "/bad_header");
    cr_assert_str_eq(r->body, "rc=-1");
    cr_assert_null(vial_response_header(r, "X-Evil"));
    cr_assert_null(vial_response_header(r, "Set-Cookie"));
    vial_client_free(c);
    vial_app_free(app);
}

Test(app, redirect_body_and_location) {
    vial_app *app = make_app();
    vial_client *c = vial_test_client(app);
    vial_response *r = vial_client_get(c, "/jump");
    cr_assert_eq(r->status, 302);
    cr_assert_str_eq(vial_response_header(r, "Location"), "https://www.example.com/");
    cr_assert_str_eq(r->body, "<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n<h1>Redirecting...</h1>\n"
                              "<p>You should be redirected automatically to the target URL: "
                              "<a href=\"https://www.example.com/\">https://www.example.com/</a>. If not, click the link.\n");
    vial_client_free(c);
    vial_app_free(app);
}

Test(app, hooks_run_in_flasks_order) {
    vial_app *app = make_app();
    vial_before_request(app, before_a);
    vial_before_request(app, before_b);
    vial_after_request(app, after_a);
    vial_after_request(app, after_b);
    vial_teardown_request(app, teardown_a);
    vial_client *c = vial_test_client(app);
    order_log_len = 0;
    vial_response *r = vial_client_get(c, "/g");
    cr_assert_str_eq(r->body, "g.user=root");
    cr_assert_str_eq(vial_response_header(r, "X-After"), "a");
    cr_assert_str_eq(order_log, "before_a,before_b,after_b,after_a,teardown,");
    order_log_len = 0;
    r = vial_client_get(c, "/guarded");
    cr_assert_eq(r->status, 302, "before_request answered early");
    cr_assert_str_eq(vial_response_header(r, "Location"), "/login");
    order_log_len = 0;
    r = vial_client_get(c, "/missing");
    cr_assert_eq(r->status, 404);
    cr_assert_str_eq(order_log, "before_a,before_b,after_b,after_a,teardown_404,");
    vial_client_free(c);
    vial_app_free(app);
}

Test(app, error_handler_replaces_default_page) {
    vial_app *app = make_app();
    vial_errorhandler(app, 404, not_found);
    vial_client *c = vial_test_client(app);
    vial_response *r = vial_client_get(c, "/where");
    cr_assert_eq(r->status, 404);
    cr_assert_str_eq(r->body, "custom 404 for /where");
    vial_client_free(c);
    vial_app_free(app);
}

Test(app, request_attributes) {
    vial_app *app = make_app();
    vial_client *c = vial_test_client(app);
    vial_response *r = vial_client_get(c, "/info?x=1&y=%E4");
    cr_assert_str_eq(r->body, "GET|/info|/info?x=1&y=%E4|http://localhost/info?x=1&y=%E4|localhost|127.0.0.1|"
                              "vial-test-client/" VIAL_VERSION);
    r = vial_client_get(c, "/info", .headers = "Host: example.com:8080\nUser-Agent: curl/8");
    cr_assert_str_eq(r->body, "GET|/info|/info?|http://example.com:8080/info|example.com:8080|127.0.0.1|curl/8");
    vial_client_free(c);
    vial_app_free(app);
}

Test(app, duplicate_endpoint_is_an_error) {
    vial_app *app = vial_app_new("dup");
    cr_assert_eq(vial_route(app, "/a", VIAL_GET, hello), 0);
    cr_assert_eq(vial_add_url_rule(app, "/b", "hello", VIAL_GET, custom), -1);
    cr_assert(strstr(vial_app_error(app), "overwriting an existing endpoint function: hello"));
    vial_app_free(app);
}

Test(app, methods_from_names) {
    cr_assert_eq(vial_methods("get, post"), VIAL_GET | VIAL_POST);
    cr_assert_eq(vial_methods("GET|Delete"), VIAL_GET | VIAL_DELETE);
    cr_assert_eq(vial_methods("fetch"), 0);
}

Test(config, flask_defaults_and_typed_keys) {
    vial_app *app = vial_app_new("cfg");
    cr_assert_eq(vial_config_bool(app, "DEBUG", true), false);
    cr_assert_eq(vial_config_int(app, "PERMANENT_SESSION_LIFETIME", 0), 2678400);
    cr_assert_str_eq(vial_config_str(app, "SESSION_COOKIE_NAME"), "session");
    cr_assert_eq(vial_config_set(app, "DEBUG", "true"), 0);
    cr_assert_eq(vial_config_get(app, "DEBUG")->type, VIAL_BOOL);
    cr_assert_eq(vial_config_set(app, "MAX_CONTENT_LENGTH", "1048576"), 0);
    cr_assert_eq(vial_config_int(app, "MAX_CONTENT_LENGTH", 0), 1048576);
    cr_assert_eq(vial_config_set(app, "MAX_CONTENT_LENGTH", "lots"), -1);
    cr_assert(strstr(vial_app_error(app), "MAX_CONTENT_LENGTH must be an integer"));
    cr_assert_eq(vial_config_set(app, "MY_OWN", "text"), 0);
    cr_assert_str_eq(vial_config_str(app, "MY_OWN"), "text");
    vial_app_free(app);
}

Test(config, from_env_with_prefix_and_nesting) {
    vial_app *app = vial_app_new("env");
    setenv("TESTVIAL_SECRET_KEY", "s3cret", 1);
    setenv("TESTVIAL_DEBUG", "true", 1);
    setenv("TESTVIAL_WORKERS_LIST", "[1, 2]", 1);
    setenv("TESTVIAL_DB__HOST", "127.0.0.1", 1);
    setenv("TESTVIAL_DB__PORT", "5432", 1);
    cr_assert_eq(vial_config_from_env(app, "TESTVIAL"), 0);
    cr_assert_str_eq(vial_config_str(app, "SECRET_KEY"), "s3cret");
    cr_assert_eq(vial_config_bool(app, "DEBUG", false), true);
    cr_assert_eq(vial_len(vial_config_get(app, "WORKERS_LIST")), 2);
    const vial_value *db = vial_config_get(app, "DB");
    cr_assert_str_eq(vial_get_str(db, "HOST"), "127.0.0.1");
    cr_assert_eq(vial_get_int(db, "PORT", 0), 5432);
    vial_app_free(app);
}

Test(config, from_json_file) {
    char path[] = "/tmp/vial-config-XXXXXX";
    int fd = mkstemp(path);
    const char *text = "{\"SECRET_KEY\": \"k\", \"PERMANENT_SESSION_LIFETIME\": 60, \"X\": {\"y\": [1]}}";
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    vial_app *app = vial_app_new("json");
    cr_assert_eq(vial_config_from_json(app, path), 0);
    cr_assert_str_eq(vial_config_str(app, "SECRET_KEY"), "k");
    cr_assert_eq(vial_config_int(app, "PERMANENT_SESSION_LIFETIME", 0), 60);
    unlink(path);
    cr_assert_eq(vial_config_from_json(app, path), -1);
    cr_assert(strstr(vial_app_error(app), "Unable to load configuration file"));
    vial_app_free(app);
}
