/* Routing through the app: converters, url_for, redirects, blueprints, method views, static files. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vial.h"

static void goods(vial_req *rq, vial_res *rs) {
    vial_value *cid = vial_param_value(rq, "cid");
    vial_printf(rs, "cid=%s(%s) gid=%s", vial_param(rq, "cid"), cid && cid->type == VIAL_DOUBLE ? "float" : "?",
                vial_param(rq, "gid"));
}
static void sms(vial_req *rq, vial_res *rs) { vial_printf(rs, "sms to %s", vial_param(rq, "mobile")); }
static void item(vial_req *rq, vial_res *rs) { vial_printf(rs, "item %lld", (long long)vial_param_int(rq, "id")); }
static void info(vial_req *rq, vial_res *rs) {
    vial_redirect(rs, vial_url_for(rq, "sms", "mobile", "13012345677", NULL), 302);
}
static void links(vial_req *rq, vial_res *rs) {
    vial_printf(rs, "%s %s %s %s", vial_url_for(rq, "item", "id", "7", "q", "a b", NULL),
                vial_url_for(rq, "static", "filename", "css/site.css", NULL),
                vial_url_for(rq, "item", "id", "7", "_external", "1", NULL), vial_url_for(rq, "folder", NULL));
}
static void broken_link(vial_req *rq, vial_res *rs) { vial_printf(rs, "%s", vial_url_for(rq, "item", NULL)); }
static void folder(vial_req *rq, vial_res *rs) {
    (void)rq;
    vial_text(rs, "folder");
}

static void bp_index(vial_req *rq, vial_res *rs) {
    vial_printf(rs, "%s in %s -> %s", vial_endpoint(rq), vial_blueprint_name(rq), vial_url_for(rq, ".bp_index", NULL));
}
static bool bp_guard(vial_req *rq, vial_res *rs) {
    if (!vial_header(rq, "X-Token")) {
        vial_status(rs, 401);
        vial_text(rs, "token required");
        return true;
    }
    return false;
}

static void item_get(vial_req *rq, vial_res *rs) { vial_printf(rs, "get %lld", (long long)vial_param_int(rq, "id")); }
static void item_put(vial_req *rq, vial_res *rs) { vial_printf(rs, "put %lld", (long long)vial_param_int(rq, "id")); }

static vial_value *even_to_value(vial_arena *a, const char *text, size_t len, void *state) {
    (void)state;
    long v = strtol(text, NULL, 10);
    (void)len;
    return v % 2 == 0 ? vial_new_int(a, v) : NULL;
}
static const vial_converter even_converter = {.regex = "\\d+", .to_value = even_to_value};
static void even(vial_req *rq, vial_res *rs) { vial_printf(rs, "even %lld", (long long)vial_param_int(rq, "n")); }

static vial_app *make_app(void) {
    vial_app *app = vial_app_new("routing");
    cr_assert_eq(vial_add_converter(app, "even", &even_converter), 0);
    vial_route(app, "/goods/<float:cid>/<uuid:gid>", VIAL_GET, goods);
    vial_route(app, "/sms/<re('1[3-9]\\d{9}'):mobile>", VIAL_GET, sms);
    vial_route(app, "/item/<int:id>", VIAL_GET, item);
    vial_route(app, "/info", VIAL_GET, info);
    vial_route(app, "/links", VIAL_GET, links);
    vial_route(app, "/broken", VIAL_GET, broken_link);
    vial_route(app, "/folder/", VIAL_GET, folder);
    vial_route(app, "/even/<even:n>", VIAL_GET, even);
    vial_bp *bp = vial_blueprint(app, "admin", "/admin");
    cr_assert_not_null(bp);
    vial_bp_route(bp, "/", VIAL_GET, bp_index);
    vial_bp_before_request(bp, bp_guard);
    static const vial_method_table item_api = {.get = item_get, .put = item_put};
    cr_assert_eq(vial_method_view(app, "/api/items/<int:id>", "item_api", &item_api), 0);
    return app;
}

Test(routing, typed_converters_and_regex) {
    vial_app *app = make_app();
    vial_client *c = vial_test_client(app);
    vial_response *r = vial_client_get(c, "/goods/1.5/6A4E7C16-8B2D-4E0F-9F7C-3C2B1A0E5D4F");
    cr_assert_eq(r->status, 200);
    cr_assert_str_eq(r->body, "cid=1.5(float) gid=6a4e7c16-8b2d-4e0f-9f7c-3c2b1a0e5d4f");
    cr_assert_eq(vial_client_get(c, "/goods/1/6a4e7c16-8b2d-4e0f-9f7c-3c2b1a0e5d4f")->status, 404, "float needs a dot");
    r = vial_client_get(c, "/sms/13012345671");
    cr_assert_str_eq(r->body, "sms to 13012345671");
    cr_assert_eq(vial_client_get(c, "/sms/12012345671")->status, 404);
    cr_assert_eq(vial_client_get(c, "/sms/130123456712")->status, 404);
    cr_assert_str_eq(vial_client_get(c, "/even/42")->body, "even 42");
    cr_assert_eq(vial_client_get(c, "/even/43")->status, 404, "to_value rejected it");
    vial_client_free(c);
    vial_app_free(app);
}

Test(routing, url_for_builds_paths_queries_and_external_urls) {
    vial_app *app = make_app();
    vial_client *c = vial_test_client(app);
    vial_response *r = vial_client_get(c, "/info");
    cr_assert_eq(r->status, 302);
    cr_assert_str_eq(vial_response_header(r, "Location"), "/sms/13012345677");
    r = vial_client_get(c, "/links");
    cr_assert_str_eq(r->body, "/item/7?q=a+b /static/css/site.css http://localhost/item/7 /folder/");
    r = vial_client_get(c, "/broken");
    cr_assert_eq(r->status, 500, "a missing value is an error, never a wrong URL");
    vial_client_free(c);
    vial_app_free(app);
}

Test(routing, strict_slashes_redirect_like_werkzeug) {
    vial_app *app = make_app();
    vial_client *c = vial_test_client(app);
    vial_response *r = vial_client_get(c, "/folder?x=1");
    cr_assert_eq(r->status, 308);
    const char *loc = vial_response_header(r, "Location");
    cr_assert(loc && strstr(loc, "/folder/?x=1"), "%s", loc ? loc : "(none)");
    r = vial_client_get(c, "/folder", .follow_redirects = true);
    cr_assert_str_eq(r->body, "folder");
    vial_client_free(c);
    vial_app_free(app);
}

Test(routing, blueprints_prefix_endpoints_and_hooks) {
    vial_app *app = make_app();
    vial_client *c = vial_test_client(app);
    vial_response *r = vial_client_get(c, "/admin/");
    cr_assert_eq(r->status, 401, "the blueprint's before_request answered");
    r = vial_client_get(c, "/admin/", .headers = "X-Token: t");
    cr_assert_str_eq(r->body, "admin.bp_index in admin -> /admin/");
    r = vial_client_get(c, "/item/3", .headers = "");
    cr_assert_eq(r->status, 200, "the blueprint hook does not guard app routes");
    vial_client_free(c);
    vial_app_free(app);
}

Test(routing, method_views_and_405) {
    vial_app *app = make_app();
    vial_client *c = vial_test_client(app);
    cr_assert_str_eq(vial_client_get(c, "/api/items/5")->body, "get 5");
    cr_assert_str_eq(vial_client_put(c, "/api/items/5")->body, "put 5");
    vial_response *r = vial_client_delete(c, "/api/items/5");
    cr_assert_eq(r->status, 405);
    cr_assert_str_eq(vial_response_header(r, "Allow"), "GET, HEAD, OPTIONS, PUT");
    vial_client_free(c);
    vial_app_free(app);
}

Test(routing, bad_rules_fail_at_registration) {
    vial_app *app = vial_app_new("bad");
    cr_assert_eq(vial_add_url_rule(app, "/a/<int(min=x):n>", "a", VIAL_GET, goods), -1);
    cr_assert_not_null(vial_app_error(app));
    cr_assert_eq(vial_add_url_rule(app, "/b/<nope:n>", "b", VIAL_GET, goods), -1);
    cr_assert_eq(vial_add_url_rule(app, "no-slash", "c", VIAL_GET, goods), -1);
    vial_app_free(app);
}

static char static_root[64];

static void make_static_tree(void) {
    snprintf(static_root, sizeof static_root, "/tmp/vial-static-XXXXXX");
    cr_assert_not_null(mkdtemp(static_root));
    char path[256];
    snprintf(path, sizeof path, "%s/static", static_root);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/static/hello.txt", static_root);
    FILE *f = fopen(path, "w");
    fputs("hello world\n", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/secret.txt", static_root);
    f = fopen(path, "w");
    fputs("secret\n", f);
    fclose(f);
    char link[256];
    snprintf(link, sizeof link, "%s/static/escape.txt", static_root);
    cr_assert_eq(symlink(path, link), 0);
}

Test(routing, static_folder_ranges_and_traversal) {
    make_static_tree();
    vial_app *app = vial_app_new("static");
    vial_app_set_root(app, static_root);
    vial_client *c = vial_test_client(app);
    vial_response *r = vial_client_get(c, "/static/hello.txt");
    cr_assert_eq(r->status, 200);
    cr_assert_str_eq(r->body, "hello world\n");
    cr_assert_str_eq(vial_response_header(r, "Content-Type"), "text/plain; charset=utf-8");
    cr_assert_str_eq(vial_response_header(r, "Cache-Control"), "no-cache");
    const char *etag = vial_response_header(r, "ETag");
    cr_assert_not_null(etag);
    char hdr[256];
    snprintf(hdr, sizeof hdr, "If-None-Match: %s", etag);
    r = vial_client_get(c, "/static/hello.txt", .headers = hdr);
    cr_assert_eq(r->status, 304);
    cr_assert_eq(r->body_len, 0);
    r = vial_client_get(c, "/static/hello.txt", .headers = "Range: bytes=0-4");
    cr_assert_eq(r->status, 206);
    cr_assert_str_eq(r->body, "hello");
    cr_assert_str_eq(vial_response_header(r, "Content-Range"), "bytes 0-4/12");
    r = vial_client_get(c, "/static/hello.txt", .headers = "Range: bytes=-3");
    cr_assert_str_eq(r->body, "ld\n");
    r = vial_client_get(c, "/static/hello.txt", .headers = "Range: bytes=100-");
    cr_assert_eq(r->status, 416);
    cr_assert_str_eq(vial_response_header(r, "Content-Range"), "bytes */12");
    r = vial_client_get(c, "/static/hello.txt", .headers = "Range: bytes=0-1,6-10");
    cr_assert_eq(r->status, 206);
    cr_assert(strncmp(vial_response_header(r, "Content-Type"), "multipart/byteranges; boundary=", 31) == 0);
    cr_assert(strstr(r->body, "Content-Range: bytes 0-1/12\r\n\r\nhe\r\n"), "%s", r->body);
    cr_assert(strstr(r->body, "Content-Range: bytes 6-10/12\r\n\r\nworld\r\n"), "%s", r->body);
    const char *attacks[] = {"/static/../secret.txt", "/static/%2e%2e/secret.txt", "/static/..%2fsecret.txt",
                             "/static/escape.txt",    "/static/hello.txt%00.png", "/static//etc/passwd",
                             "/static/%2fetc%2fpasswd"};
    for (size_t i = 0; i < sizeof attacks / sizeof attacks[0]; i++) {
        r = vial_client_get(c, attacks[i]);
        cr_assert(r->status == 404 || r->status == 308, "%s answered %d", attacks[i], r->status);
        cr_assert_null(strstr(r->body, "secret"), "%s leaked the file", attacks[i]);
    }
    vial_client_free(c);
    vial_app_free(app);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", static_root);
    cr_assert_eq(system(cmd), 0, "could not remove %s", static_root);
}
