/* Lesson "methods" - 路由的基本定义: a rule and its HTTP methods.
 *
 *   @app.route(rule="/", methods=["get", "post"])
 *                                vial_add_url_rule(app, "/", "index", vial_methods("get, post"), view);
 *                                (or the bits: VIAL_GET | VIAL_POST)
 *
 * Method names are case-insensitive, as in Flask. HEAD comes with GET and
 * OPTIONS is answered automatically (Allow: GET, HEAD, OPTIONS, POST); any
 * other method gets 405 with that Allow header. */
#include "lessons.h"

static void methods_index(vial_req *rq, vial_res *rs) {
    (void)rq;
    vial_html(rs, "<h1>hello flask1</h1>");
}

vial_app *lesson_methods(void) {
    vial_app *app = vial_app_new("methods");
    /* 开启debug模式 */
    vial_config_set_bool(app, "DEBUG", true);
    /* 参数1：rule设置当前视图的路由地址；参数2：methods，允许一个或多个方法，不区分大小写 */
    vial_add_url_rule(app, "/", "index", vial_methods("get, post"), methods_index);
    return app;
}
