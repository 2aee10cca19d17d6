/* Lesson "converters" - 接收限定类型参数: typed URL parameters.
 *
 *   @app.route("/goods/<float:cid>/<uuid:gid>")
 *   def goods(gid, cid): ...                double cid = vial_param_double(rq, "cid");
 *                                           const char *gid = vial_param(rq, "gid");
 *
 * Werkzeug's converters, with the same rules: string (default), int, float,
 * path, uuid, any. <float:cid> matches "1.5" but not "1" (404) and hands
 * the view a double; <uuid:gid> matches 8-4-4-4-12 hex digits and hands it
 * the canonical lower-case text, as str(uuid.UUID(...)) would be. */
#include <stdio.h>

#include "lessons.h"
#include "pyprint.h"

static void converters_index(vial_req *rq, vial_res *rs) {
    (void)rq;
    vial_html(rs, "<h1>hello flask1</h1>");
}

/* 通过路由转换器来对路由参数显示格式转换和限制类型 */
static void converters_goods(vial_req *rq, vial_res *rs) {
    double cid = vial_param_double(rq, "cid");
    const char *gid = vial_param(rq, "gid");
    /* f"{cid}" is Python's str(float): 1.5, 10.0, 0.1 */
    char cid_text[VIAL_DOUBLE_BUFSIZE];
    vial_format_double(cid_text, cid);
    printf("%s %s\n", gid, type_name(vial_param_value(rq, "gid")));
    printf("%s %s\n", cid_text, type_name(vial_param_value(rq, "cid")));
    vial_printf(rs, "显示cid=%s,gid=%s的商品信息", cid_text, gid);
}

vial_app *lesson_converters(void) {
    vial_app *app = vial_app_new("converters");
    vial_config_set_bool(app, "DEBUG", true);
    vial_add_url_rule(app, "/", "index", VIAL_GET | VIAL_POST, converters_index);
    vial_add_url_rule(app, "/goods/<float:cid>/<uuid:gid>", "goods", VIAL_GET, converters_goods);
    return app;
}
