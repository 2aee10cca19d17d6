/* hello - the smallest vial app: routes with converters, JSON, a redirect.
 *
 *   ./hello run --port 5000      then open http://127.0.0.1:5000/
 *   ./hello routes
 */
#include <vial.h>

VIAL_ROUTE(home, "/", VIAL_GET | VIAL_POST) {
    vial_html(rs, "<h1>hello vial</h1>"
                  "<p><a href=\"/goods/1.5/6a4e7c16-8b2d-4e0f-9f7c-3c2b1a0e5d4f\">a typed route</a>, "
                  "<a href=\"/sms/13012345678\">a regex route</a>, "
                  "<a href=\"/api/hello?name=vial\">JSON</a>, "
                  "<a href=\"/info\">a redirect</a></p>");
}

VIAL_ROUTE(goods, "/goods/<float:cid>/<uuid:gid>", VIAL_GET) {
    vial_printf(rs, "cid=%g gid=%s", vial_param_double(rq, "cid"), vial_param(rq, "gid"));
}

VIAL_ROUTE(sms, "/sms/<re('1[3-9]\\d{9}'):mobile>", VIAL_GET) {
    vial_printf(rs, "sms to %s", vial_param(rq, "mobile"));
}

VIAL_ROUTE(api_hello, "/api/hello", VIAL_GET) {
    const char *name = vial_arg(rq, "name");
    vial_jsonify(rs, vial_pack(rq, "{s:s, s:s}", "hello", name ? name : "world", "from", "vial"));
}

VIAL_ROUTE(info, "/info", VIAL_GET) {
    vial_redirect(rs, vial_url_for(rq, "sms", "mobile", "13012345677", NULL), 302);
}

int main(int argc, char **argv) {
    vial_app *app = vial_app_new("hello");
    vial_config_set(app, "SECRET_KEY", "change-me");
    return vial_main(app, argc, argv);
}
