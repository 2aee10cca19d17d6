/* Templates in the app: render_template with Flask's context globals, filters from C, errors. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"
#include "vial.h"

static void index_view(vial_req *rq, vial_res *rs) {
    vial_g_set(rq, "visits", vial_int(rq, 3));
    vial_value *posts = vial_pack(rq, "[{s:s, s:s}, {s:s, s:s}]", "title", "<b>Hello</b>", "author", "ann", "title",
                                  "Second", "author", "bob");
    vial_render(rs, "index.html", vial_pack(rq, "{s:s, s:o}", "title", "Tom & Jerry", "posts", posts));
}
static void post(vial_req *rq, vial_res *rs) { vial_printf(rs, "post %lld", (long long)vial_param_int(rq, "id")); }
static void login(vial_req *rq, vial_res *rs) {
    vial_session_set_str(rq, "user", "xiaoming");
    vial_flash(rq, "Welcome back!", "success");
    vial_redirect(rs, vial_url_for(rq, "index", NULL), 302);
}
static void broken(vial_req *rq, vial_res *rs) {
    (void)rq;
    vial_render(rs, "broken.html", NULL);
}
static void missing(vial_req *rq, vial_res *rs) {
    (void)rq;
    vial_render(rs, "nope.html", NULL);
}
static void money(vial_req *rq, vial_res *rs) {
    char *text = vial_render_template(rq, "money.txt", vial_pack(rq, "{s:f}", "price", 12.5));
    vial_text(rs, text);
}
static void inline_view(vial_req *rq, vial_res *rs) {
    vial_render_string(rs, "{{ a }} & {{ b|safe }}", vial_pack(rq, "{s:s, s:s}", "a", "<i>", "b", "<i>"));
}
static void panel(vial_req *rq, vial_res *rs) { vial_render(rs, "panel.html", vial_pack(rq, "{s:s}", "name", "<root>")); }

static vial_value *money_filter(vial_tpl_call *call) {
    vial_value *v = vial_tpl_arg(call, 0, NULL);
    double d = v && v->type == VIAL_DOUBLE ? v->as.d : v && v->type == VIAL_INT ? (double)v->as.i : 0;
    return vial_new_str(call->arena, vial_arena_sprintf(call->arena, "$%.2f", d));
}
static vial_value *even_test(vial_tpl_call *call) {
    vial_value *v = vial_tpl_arg(call, 0, NULL);
    return vial_new_bool(call->arena, v && v->type == VIAL_INT && v->as.i % 2 == 0);
}
static vial_value *shout(vial_tpl_call *call) {
    vial_value *v = vial_tpl_arg(call, 0, "text");
    vial_req *rq = call->user;
    return vial_new_str(call->arena, vial_arena_sprintf(call->arena, "%s! (%s)", vial_str_of(v), vial_path(rq)));
}

static vial_app *make_app(void) {
    vial_app *app = vial_app_new("templates");
    vial_app_set_root(app, test_data_path("app_templates"));
    vial_config_set(app, "SECRET_KEY", "dev");
    vial_add_url_rule(app, "/", "index", VIAL_GET, index_view);
    vial_route(app, "/post/<int:id>", VIAL_GET, post);
    vial_route(app, "/login", VIAL_GET, login);
    vial_route(app, "/broken", VIAL_GET, broken);
    vial_route(app, "/missing", VIAL_GET, missing);
    vial_route(app, "/money", VIAL_GET, money);
    vial_route(app, "/inline", VIAL_GET, inline_view);
    vial_bp *bp = vial_blueprint(app, "admin", "/admin");
    vial_bp_templates(bp, "admin_templates");
    vial_bp_route(bp, "/", VIAL_GET, panel);
    cr_assert_eq(vial_template_filter(app, "money", money_filter, NULL), 0);
    cr_assert_eq(vial_template_test(app, "even_number", even_test, NULL), 0);
    cr_assert_eq(vial_template_function(app, "shout", shout, NULL), 0);
    cr_assert_eq(vial_template_global(app, "site_name", vial_new_str(vial_app_arena(app), "vial.dev")), 0);
    return app;
}

Test(app_templates, flask_context_globals_and_inheritance) {
    vial_app *app = make_app();
    vial_client *c = vial_test_client(app);
    vial_response *r = vial_client_get(c, "/login", .follow_redirects = true);
    cr_assert_eq(r->status, 200);
    cr_assert_str_eq(vial_response_header(r, "Content-Type"), "text/html; charset=utf-8");
    const char *b = r->body;
    cr_assert(strstr(b, "<title>Posts - vial</title>"), "%s", b);
    cr_assert(strstr(b, "<p class=\"success\">Welcome back!</p>"), "%s", b);
    cr_assert(strstr(b, "<h1>Tom &amp; Jerry</h1>"), "autoescape in .html: %s", b);
    cr_assert(strstr(b, "<p>GET / endpoint=index page=1</p>"), "%s", b);
    cr_assert(strstr(b, "<a href=\"/post/7\">post</a> <a href=\"/?q=a+b\">search</a>"), "%s", b);
    cr_assert(strstr(b, "<article>&lt;b&gt;Hello&lt;/b&gt; by ANN</article><article>Second by BOB</article>"), "%s", b);
    cr_assert(strstr(b, "user=xiaoming g=3 debug=False secret=session"), "%s", b);
    cr_assert(strstr(b, "name=csrf_token value=\""), "%s", b);
    r = vial_client_get(c, "/?page=4");
    cr_assert(strstr(r->body, "page=4"));
    cr_assert_null(strstr(r->body, "Welcome back!"), "flashes are shown once");
    vial_client_free(c);
    vial_app_free(app);
}

Test(app_templates, c_filters_tests_functions_and_strings) {
    vial_app *app = make_app();
    vial_client *c = vial_test_client(app);
    vial_response *r = vial_client_get(c, "/money");
    cr_assert_str_eq(r->body, "$12.50 True vial.dev hi! (/money)", "the final newline goes, as in Jinja2");
    r = vial_client_get(c, "/inline");
    cr_assert_str_eq(r->body, "&lt;i&gt; & <i>", "strings autoescape as Flask's render_template_string");
    r = vial_client_get(c, "/admin/");
    cr_assert_str_eq(r->body, "<h1>admin &lt;root&gt;</h1>", "blueprint template folder (final newline dropped as in Jinja2)");
    vial_client_free(c);
    vial_app_free(app);
}

Test(app_templates, errors_name_file_line_and_show_an_excerpt_in_debug) {
    vial_app *app = make_app();
    vial_client *c = vial_test_client(app);
    vial_response *r = vial_client_get(c, "/broken");
    cr_assert_eq(r->status, 500);
    cr_assert_null(strstr(r->body, "broken.html"), "no details without debug");
    cr_assert_eq(vial_client_get(c, "/missing")->status, 500);
    vial_config_set(app, "DEBUG", "true");
    r = vial_client_get(c, "/broken");
    cr_assert_eq(r->status, 500);
    cr_assert(strstr(r->body, "broken.html:2:"), "%s", r->body);
    cr_assert(strstr(r->body, "{{ user. }}"), "the excerpt shows the line: %s", r->body);
    r = vial_client_get(c, "/missing");
    cr_assert(strstr(r->body, "nope.html"), "%s", r->body);
    vial_client_free(c);
    vial_app_free(app);
}
