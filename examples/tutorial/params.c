/* Lesson "params" - 接收任意路由参数: URL parameters without a converter.
 *
 *   @app.route("/goods/<cid>/<gid>")        vial_add_url_rule(app, "/goods/<cid>/<gid>", "goods", VIAL_GET, view);
 *   def goods(gid, cid):                    const char *cid = vial_param(rq, "cid");
 *       print(gid, type(gid))               printf("%s %s\n", gid, type_name(vial_param_value(rq, "gid")));
 *
 * Without a converter a parameter is a string (Flask's str, a VIAL_STRING
 * here): any text without a slash, percent-decoded UTF-8. */
#include <stdio.h>

#include "lessons.h"
#include "pyprint.h"

static void params_index(vial_req *rq, vial_res *rs) {
    (void)rq;
    vial_html(rs, "<h1>hello flask1</h1>");
}

/* 接收参数时，如果没有在设置路由中设置参数的类型，则默认参数类型为字符串类型 */
static void params_goods(vial_req *rq, vial_res *rs) {
    const char *cid = vial_param(rq, "cid");
    const char *gid = vial_param(rq, "gid");
    printf("%s %s\n", gid, type_name(vial_param_value(rq, "gid")));
    printf("%s %s\n", cid, type_name(vial_param_value(rq, "cid")));
    vial_printf(rs, "显示cid=%s,gid=%s的商品信息", cid, gid);
}

vial_app *lesson_params(void) {
    vial_app *app = vial_app_new("params");
    vial_config_set_bool(app, "DEBUG", true);
    vial_add_url_rule(app, "/", "index", VIAL_GET | VIAL_POST, params_index);
    vial_add_url_rule(app, "/goods/<cid>/<gid>", "goods", VIAL_GET, params_goods);
    return app;
}
