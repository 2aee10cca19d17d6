/* Lessons "jump", "jump-redirect" - 重定向到站点地址: redirect to another site.
 *
 *   jump           Response("", 302, {"Location": "https://www.163.com"})      (底层原理, how it works)
 *                                           vial_status(rs, 302);
 *                                           vial_set_header(rs, "Location", "https://www.163.com");
 *   jump-redirect  redirect("https://www.qq.com", 302)
 *                                           vial_redirect(rs, "https://www.qq.com", 302);
 *
 * 301: permanent, 302: temporary (login required, failed checks); 303, 307
 * and 308 work the same way. vial_redirect also writes Werkzeug's small HTML
 * body with the link, for clients that do not follow redirects. */
#include <stdio.h>

#include "lessons.h"
#include "pyprint.h"

/* 底层原理: a redirect is a 3xx status and a Location header */
static void jump_raw(vial_req *rq, vial_res *rs) {
    (void)rq;
    vial_status(rs, 302);
    vial_set_header(rs, "Location", "https://www.163.com");
}

/* 跳转页面到站外 */
static void jump_redirect(vial_req *rq, vial_res *rs) {
    vial_redirect(rs, "https://www.qq.com", 302);
    printf("%s\n", py_response(rq, rs));
}

vial_app *lesson_jump(void) {
    vial_app *app = vial_app_new("jump");
    vial_add_url_rule(app, "/jump", "jump", VIAL_GET, jump_raw);
    return app;
}

vial_app *lesson_jump_redirect(void) {
    vial_app *app = vial_app_new("jump-redirect");
    vial_add_url_rule(app, "/jump", "jump", VIAL_GET, jump_redirect);
    return app;
}
