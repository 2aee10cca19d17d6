/* Lessons "html", "html-tuple", "html-make" - 响应html文本: HTML with a status.
 *
 * The course shows three ways to answer "/" with HTML and a status code;
 * each is a lesson here (they share the path "/"):
 *
 *   html        Response("<h1>hello, flask</h1>", 201)
 *   html-tuple  return "<h1>hello, flask</h1>", 400
 *   html-make   response = make_response("<h1>hello, flask</h1>", 201)
 *
 * In vial all three are the same two calls: the view fills the response it
 * was handed (there is no response object to make or return).
 *
 *   vial_status(rs, 201);
 *   vial_html(rs, "<h1>hello, flask</h1>");     (Content-Type: text/html; charset=utf-8) */
#include <stdio.h>

#include "lessons.h"
#include "pyprint.h"

/* 通过Response返回Response对象 */
static void html_response(vial_req *rq, vial_res *rs) {
    (void)rq;
    vial_status(rs, 201);
    vial_html(rs, "<h1>hello, flask</h1>");
}

/* 响应HTML文本，并设置响应状态码: return body, status */
static void html_tuple(vial_req *rq, vial_res *rs) {
    (void)rq;
    vial_html(rs, "<h1>hello, flask</h1>");
    vial_status(rs, 400);
}

/* 通过make_response返回Response对象, then print(response) */
static void html_make(vial_req *rq, vial_res *rs) {
    vial_status(rs, 201);
    vial_html(rs, "<h1>hello, flask</h1>");
    printf("%s\n", py_response(rq, rs)); /* <Response 21 bytes [201]> */
}

vial_app *lesson_html(void) {
    vial_app *app = vial_app_new("html");
    vial_add_url_rule(app, "/", "index", VIAL_GET, html_response);
    return app;
}

vial_app *lesson_html_tuple(void) {
    vial_app *app = vial_app_new("html-tuple");
    vial_add_url_rule(app, "/", "index", VIAL_GET, html_tuple);
    return app;
}

vial_app *lesson_html_make(void) {
    vial_app *app = vial_app_new("html-make");
    vial_add_url_rule(app, "/", "index", VIAL_GET, html_make);
    return app;
}
