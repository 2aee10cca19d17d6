/* examples/flaskr through the test client: what the Flask tutorial's own test
 * suite checks (tests/conftest.py, test_factory.py, test_db.py, test_auth.py,
 * test_blog.py in the tutorial), plus the behaviour its spec lists beyond
 * them (405s, absent form fields, escaping, the order of the checks).
 *
 * The fixture is the tutorial's conftest: a fresh app per test with
 * {"TESTING": true, "DATABASE_URL": <a temp file>}, init_db(), then the
 * tutorial's data.sql (tests/data/flaskr/data.sql: users test/test and
 * other/other with Werkzeug pbkdf2 hashes, post 1 by test). The app's code is
 * compiled into this test by #include, as tests/unit/test_tutorial.c does. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../examples/flaskr/auth.c"
#include "../../examples/flaskr/blog.c"
#include "../../examples/flaskr/db.c"
#include "../../examples/flaskr/factory.c"
#include "testutil.h"

static vial_app *app;
static vial_client *client;
static char tmpdir[128];
static char db_url[256];
static vial_arena *scratch;

/* ---- the fixture (conftest.py) ---- */

static vial_db_conn *conn(void) {
    vial_db_conn *c = vial_db_acquire(vial_app_db(app));
    cr_assert_eq(vial_db_errcode(c), VIAL_DB_OK, "%s", vial_db_errmsg(c));
    return c;
}

static void setup(void) {
    scratch = vial_arena_new(1 << 16);
    snprintf(tmpdir, sizeof tmpdir, "/tmp/vial-flaskr-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
    snprintf(db_url, sizeof db_url, "sqlite:///%s/flaskr.sqlite", tmpdir);
    app = flaskr_create_app(vial_pack_in(scratch, "{s:b, s:s}", "TESTING", 1, "DATABASE_URL", db_url));
    cr_assert_not_null(app);
    cr_assert_null(vial_app_error(app), "%s", vial_app_error(app));
    cr_assert_eq(flaskr_init_db(app), 0);
    size_t len;
    char *data = test_read_file(test_data_path("flaskr/data.sql"), &len);
    cr_assert_not_null(data, "tests/data/flaskr/data.sql");
    vial_db_conn *c = conn();
    cr_assert_eq(vial_db_script(c, data), 0, "%s", vial_db_errmsg(c));
    vial_db_release(c);
    free(data);
    client = vial_test_client(app);
}

static void teardown(void) {
    vial_client_free(client);
    vial_app_free(app);
    vial_arena_free(scratch);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
}

TestSuite(flaskr, .init = setup, .fini = teardown, .timeout = 120);

/* AuthActions */
static vial_response *login_as(const char *username, const char *password) {
    char form[256];
    snprintf(form, sizeof form, "username=%s&password=%s", username, password);
    return vial_client_post(client, "/auth/login", .form = form);
}
static vial_response *login(void) { return login_as("test", "test"); }
static vial_response *logout(void) { return vial_client_get(client, "/auth/logout"); }

static bool body_has(const vial_response *r, const char *needle) { return strstr(r->body, needle) != NULL; }

static vial_value *row(const char *sql) {
    vial_db_conn *c = conn();
    vial_value *v = vial_db_one(c, scratch, sql);
    int code = vial_db_errcode(c);
    vial_db_release(c);
    cr_assert(code == VIAL_DB_OK || code == VIAL_DB_NOT_FOUND, "%s", sql);
    return v;
}

/* The client's session, decoded with the app's SECRET_KEY ("dev"). */
static vial_value *session(void) {
    const char *cookie = vial_client_cookie(client, "session");
    if (!cookie) return vial_new_object(scratch);
    vial_str key = VIAL_STR("dev");
    vial_sign_status why;
    vial_value *s = vial_session_cookie_decode(scratch, &key, 1, cookie, strlen(cookie), (int64_t)time(NULL),
                                               VIAL_SESSION_LIFETIME_DEFAULT, &why);
    cr_assert_eq(why, VIAL_SIGN_OK, "the session cookie is Flask's: %s", vial_sign_strerror(why));
    return s;
}

/* ---- test_factory.py ---- */

Test(flaskr, config_testing_flag) {
    vial_app *plain = flaskr_create_app(NULL);
    cr_assert_not(vial_config_bool(plain, "TESTING", false), "create_app() is not testing");
    vial_app_free(plain);
    cr_assert(vial_config_bool(app, "TESTING", false), "create_app({\"TESTING\": true}) is");
}

Test(flaskr, hello) {
    vial_response *r = vial_client_get(client, "/hello");
    cr_assert_eq(r->status, 200);
    cr_assert_str_eq(r->body, "Hello, World!");
    cr_assert_str_eq(vial_response_header(r, "Content-Type"), "text/html; charset=utf-8");
}

/* ---- test_db.py ---- */

Test(flaskr, one_connection_per_request_given_back_at_teardown) {
    cr_assert_eq(vial_client_get(client, "/")->status, 200);
    vial_db_stats st;
    vial_db_get_stats(vial_app_db(app), &st);
    cr_assert_gt(st.open, 0);
    cr_assert_eq(st.idle, st.open, "the request's connection went back to the pool");
    uint64_t connects = st.connects;
    login();
    vial_client_get(client, "/");
    vial_db_get_stats(vial_app_db(app), &st);
    cr_assert_eq(st.connects, connects, "later requests reuse it");
}

Test(flaskr, init_db_command) {
    /* the fixture's data is there; init-db drops it and says so */
    cr_assert_not_null(row("SELECT * FROM post WHERE id = 1"));
    char out_path[200];
    snprintf(out_path, sizeof out_path, "%s/out.txt", tmpdir);
    fflush(stdout);
    int saved = dup(1);
    FILE *f = fopen(out_path, "w+");
    dup2(fileno(f), 1);
    char *argv[] = {"flaskr", "init-db", NULL};
    int rc = vial_main(app, 2, argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    rewind(f);
    char out[256] = "";
    size_t n = fread(out, 1, sizeof out - 1, f);
    out[n] = '\0';
    fclose(f);
    cr_assert_eq(rc, 0);
    cr_assert(strstr(out, "Initialized"), "%s", out);
    cr_assert_str_eq(out, "Initialized the database.\n");
    cr_assert_null(row("SELECT * FROM post"), "the tables were recreated empty");
    cr_assert_null(row("SELECT * FROM user"));
}

/* ---- test_auth.py ---- */

Test(flaskr, register) {
    cr_assert_eq(vial_client_get(client, "/auth/register")->status, 200);
    vial_response *r = vial_client_post(client, "/auth/register", .form = "username=a&password=a");
    cr_assert_eq(r->status, 302);
    cr_assert_str_eq(vial_response_header(r, "Location"), "/auth/login");
    vial_value *user = row("SELECT * FROM user WHERE username = 'a'");
    cr_assert_not_null(user);
    const char *hash = vial_get_str(user, "password");
    cr_assert(strchr(hash, '$') && strcmp(hash, "a") != 0, "a Werkzeug hash, never the password: %s", hash);
    cr_assert(vial_check_password_hash(hash, "a"));
    cr_assert_null(vial_client_cookie(client, "session"), "registering does not log in");
}

Test(flaskr, register_validate_input) {
    static const struct {
        const char *form, *message;
    } cases[] = {
        {"username=&password=", "Username is required."},
        {"username=a&password=", "Password is required."},
        {"username=test&password=test", "already registered"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vial_response *r = vial_client_post(client, "/auth/register", .form = cases[i].form);
        cr_assert_eq(r->status, 200, "a validation error re-renders the page (%s)", cases[i].form);
        cr_assert(body_has(r, cases[i].message), "%s not in %s", cases[i].message, r->body);
    }
}

Test(flaskr, register_taken_username_message_is_the_tutorials) {
    vial_response *r = vial_client_post(client, "/auth/register", .form = "username=test&password=x");
    cr_assert(body_has(r, "<div class=\"flash\">User test is already registered.</div>"), "%s", r->body);
}

Test(flaskr, login) {
    cr_assert_eq(vial_client_get(client, "/auth/login")->status, 200);
    vial_response *r = login();
    cr_assert_eq(r->status, 302);
    cr_assert_str_eq(vial_response_header(r, "Location"), "/");
    /* the next request has session user_id 1 and loads user "test" */
    r = vial_client_get(client, "/");
    cr_assert_eq(vial_get_int(session(), "user_id", -1), 1);
    cr_assert(body_has(r, "<li><span>test</span>"), "%s", r->body);
    cr_assert(body_has(r, "Log Out"));
}

Test(flaskr, login_validate_input) {
    static const struct {
        const char *username, *password, *message;
    } cases[] = {
        {"a", "test", "Incorrect username."},
        {"test", "a", "Incorrect password."},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vial_response *r = login_as(cases[i].username, cases[i].password);
        cr_assert_eq(r->status, 200);
        cr_assert(body_has(r, cases[i].message), "%s not in %s", cases[i].message, r->body);
        cr_assert_null(vial_object_get(session(), "user_id"));
    }
}

Test(flaskr, logout) {
    login();
    cr_assert_not_null(vial_object_get(session(), "user_id"));
    vial_response *r = logout();
    cr_assert_eq(r->status, 302);
    cr_assert_str_eq(vial_response_header(r, "Location"), "/");
    cr_assert_null(vial_object_get(session(), "user_id"), "user_id is gone from the session");
    r = vial_client_get(client, "/");
    cr_assert(body_has(r, "Log In") && !body_has(r, "Log Out"));
}

Test(flaskr, absent_form_fields_are_400) {
    cr_assert_eq(vial_client_post(client, "/auth/register", .form = "username=a")->status, 400);
    cr_assert_eq(vial_client_post(client, "/auth/login", .form = "password=a")->status, 400);
    login();
    cr_assert_eq(vial_client_post(client, "/create", .form = "title=t")->status, 400);
    cr_assert_eq(row("SELECT COUNT(id) AS n FROM post")->as.obj.items[0].value->as.i, 1);
}

/* ---- test_blog.py ---- */

Test(flaskr, index) {
    vial_response *r = vial_client_get(client, "/");
    cr_assert(body_has(r, "Log In"));
    cr_assert(body_has(r, "Register"));
    login();
    r = vial_client_get(client, "/");
    cr_assert(body_has(r, "test title"));
    cr_assert(body_has(r, "by test on 2018-01-01"));
    cr_assert(body_has(r, "test\nbody"));
    cr_assert(body_has(r, "href=\"/1/update\""));
    cr_assert(body_has(r, "<a class=\"action\" href=\"/create\">New</a>"));
}

Test(flaskr, login_required) {
    static const char *paths[] = {"/create", "/1/update", "/1/delete", "/99/update", "/99/delete"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        vial_response *r = vial_client_post(client, paths[i]);
        cr_assert_eq(r->status, 302, "%s", paths[i]);
        cr_assert_str_eq(vial_response_header(r, "Location"), "/auth/login", "%s", paths[i]);
    }
}

Test(flaskr, author_required) {
    vial_db_conn *c = conn();
    cr_assert_eq(vial_db_exec(c, "UPDATE post SET author_id = 2 WHERE id = 1"), 1);
    vial_db_release(c);
    login();
    /* current user can't modify other user's post, before any form field is read */
    cr_assert_eq(vial_client_post(client, "/1/update")->status, 403);
    cr_assert_eq(vial_client_post(client, "/1/delete")->status, 403);
    cr_assert_eq(vial_client_get(client, "/1/update")->status, 403);
    /* current user doesn't see edit link */
    cr_assert_not(body_has(vial_client_get(client, "/"), "href=\"/1/update\""));
}

Test(flaskr, exists_required) {
    login();
    static const char *paths[] = {"/2/update", "/2/delete"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        vial_response *r = vial_client_post(client, paths[i]);
        cr_assert_eq(r->status, 404, "%s", paths[i]);
        cr_assert(body_has(r, "Post id 2 doesn&#39;t exist."), "%s", r->body);
    }
}

Test(flaskr, create) {
    login();
    cr_assert_eq(vial_client_get(client, "/create")->status, 200);
    vial_response *r = vial_client_post(client, "/create", .form = "title=created&body=");
    cr_assert_eq(r->status, 302);
    cr_assert_str_eq(vial_response_header(r, "Location"), "/");
    vial_value *n = row("SELECT COUNT(id) AS n FROM post");
    cr_assert_eq(vial_get_int(n, "n", -1), 2);
    vial_value *p = row("SELECT * FROM post WHERE title = 'created'");
    cr_assert_eq(vial_get_int(p, "author_id", -1), 1);
    cr_assert_str_eq(vial_get_str(p, "body"), "");
}

Test(flaskr, update) {
    login();
    vial_response *r = vial_client_get(client, "/1/update");
    cr_assert_eq(r->status, 200);
    cr_assert(body_has(r, "<h1>Edit \"test title\"</h1>"), "%s", r->body);
    cr_assert(body_has(r, "value=\"test title\""), "prefilled with the stored title");
    cr_assert(body_has(r, "<form action=\"/1/delete\" method=\"post\">"));
    vial_client_post(client, "/1/update", .form = "title=updated&body=");
    vial_value *p = row("SELECT * FROM post WHERE id = 1");
    cr_assert_str_eq(vial_get_str(p, "title"), "updated");
}

Test(flaskr, create_update_validate) {
    login();
    static const char *paths[] = {"/create", "/1/update"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        vial_response *r = vial_client_post(client, paths[i], .form = "title=&body=kept%20text");
        cr_assert_eq(r->status, 200, "%s", paths[i]);
        cr_assert(body_has(r, "Title is required."), "%s", r->body);
        cr_assert(body_has(r, ">kept text</textarea>"), "the submitted body is shown again: %s", r->body);
    }
}

Test(flaskr, delete) {
    login();
    vial_response *r = vial_client_post(client, "/1/delete");
    cr_assert_eq(r->status, 302);
    cr_assert_str_eq(vial_response_header(r, "Location"), "/");
    cr_assert_null(row("SELECT * FROM post WHERE id = 1"));
}

/* ---- beyond the tutorial's tests: the spec's checklist ---- */

Test(flaskr, wrong_methods_and_ids) {
    cr_assert_eq(vial_client_get(client, "/1/delete")->status, 405);
    cr_assert_eq(vial_client_post(client, "/auth/logout")->status, 405);
    cr_assert_eq(vial_client_put(client, "/create")->status, 405);
    cr_assert_eq(vial_client_get(client, "/abc/update")->status, 404);
    cr_assert_eq(vial_client_get(client, "/nowhere")->status, 404);
}

Test(flaskr, user_data_is_escaped_and_newest_first) {
    login();
    vial_client_post(client, "/create", .form = "title=%3Cb%3EHi%3C%2Fb%3E+%26+%22q%22&body=x%27y");
    vial_response *r = vial_client_get(client, "/");
    cr_assert(body_has(r, "<h1>&lt;b&gt;Hi&lt;/b&gt; &amp; &#34;q&#34;</h1>"), "%s", r->body);
    cr_assert(body_has(r, "<p class=\"body\">x&#39;y</p>"), "%s", r->body);
    cr_assert_lt(strstr(r->body, "Hi&lt;"), strstr(r->body, "test title"), "the new post comes first");
    cr_assert(body_has(r, "<hr>"), "posts are separated");
    const char *last = strstr(r->body, "test title");
    cr_assert_null(strstr(last, "<hr>"), "no rule after the last post");
}

Test(flaskr, layout) {
    vial_response *r = vial_client_get(client, "/auth/register");
    cr_assert(body_has(r, "<title>Register - Flaskr</title>"), "%s", r->body);
    cr_assert(body_has(r, "<link rel=\"stylesheet\" href=\"/static/style.css\">"));
    cr_assert(body_has(r, "<h1><a href=\"/\">Flaskr</a></h1>"));
    cr_assert(body_has(r, "<li><a href=\"/auth/register\">Register</a>"));
    cr_assert(body_has(r, "<li><a href=\"/auth/login\">Log In</a>"));
    cr_assert(body_has(r, "<input name=\"username\" id=\"username\" required>"));
    cr_assert(body_has(r, "<input type=\"password\" name=\"password\" id=\"password\" required>"));
    cr_assert(body_has(r, "<input type=\"submit\" value=\"Register\">"));
    r = vial_client_get(client, "/static/style.css");
    cr_assert_eq(r->status, 200);
    cr_assert(strncmp(vial_response_header(r, "Content-Type"), "text/css", 8) == 0);
}
