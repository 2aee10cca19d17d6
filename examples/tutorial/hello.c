/* Lesson "hello" - 创建flask项目: the course's first app (manage.py).
 *
 *   from flask import Flask                 #include <vial.h>
 *   app = Flask(__name__)                   vial_app *app = vial_app_new("hello");
 *   @app.route("/")                         vial_add_url_rule(app, "/", "index", VIAL_GET, hello_index);
 *   def index():                            static void hello_index(vial_req *rq, vial_res *rs) {
 *       return "<h1>hello flask</h1>"           vial_html(rs, "<h1>hello flask</h1>"); }
 *   app.run(host="0.0.0.0", port=5000,      ./tutorial hello run --host 0.0.0.0 --port 5000 --debug
 *           debug=True)
 *
 * A view writes its answer into the response instead of returning it; a
 * returned str is HTML in Flask, so vial_html is its counterpart. */
#include "lessons.h"

/* 视图的返回值将被flask包装成响应对象的HTML文档内容，返回给客户端。 */
static void hello_index(vial_req *rq, vial_res *rs) {
    (void)rq;
    vial_html(rs, "<h1>hello flask</h1>");
}

vial_app *lesson_hello(void) {
    vial_app *app = vial_app_new("hello");
    /* @app.route("/") binds the URL to the view; "index" is the endpoint, the
     * Python function's name (a C function cannot be called index: POSIX has one). */
    vial_add_url_rule(app, "/", "index", VIAL_GET, hello_index);
    return app;
}
