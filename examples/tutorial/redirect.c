/* Lessons "redirect", "redirect-params" - 重定向到自己写的视图函数 / 带有路径参数的视图函数.
 *
 *   url = url_for("login")                  const char *url = vial_url_for(rq, "login", NULL);
 *   print(app.url_map)                      (the rules: vial_app_url_map, or ./tutorial redirect routes)
 *   return redirect(url)                    vial_redirect(rs, url, 302);
 *   url_for("sms", mobile="13012345677")    vial_url_for(rq, "sms", "mobile", "13012345677", NULL)
 *
 * url_for takes the endpoint (the view's name) and key/value pairs ending
 * with NULL; values the rule does not use become the query string
 * (url_for("login", "next", "/user", NULL) is /login?next=%2Fuser). The
 * value goes through the rule's converter: "13012345677" for <int:mobile> is
 * checked as an int. A missing value or unknown endpoint is an error (500,
 * with Werkzeug's BuildError message in the log), never a wrong URL. */
#include <stdio.h>

#include "lessons.h"
#include "pyprint.h"

/* /user (the course's view is called index) */
static void redirect_user(vial_req *rq, vial_res *rs) {
    if (vial_arg(rq, "token")) {
        vial_html(rs, "个人中心");
        return;
    }
    /* 跳转页面到登录视图中: vial_redirect(rs, "/login", 302) goes to any path */
    /* 跳转页面到其他视图中 */
    const char *url = vial_url_for(rq, "login", NULL); /* url_for("视图名称") */
    printf("%s\n", py_url_map(rq)); /* 路由列表 */
    printf("%s\n", url);
    vial_redirect(rs, url, 302);
}

static void redirect_login(vial_req *rq, vial_res *rs) {
    (void)rq;
    vial_html(rs, "登录视图");
}

/* 发送短信 */
static void redirect_sms(vial_req *rq, vial_res *rs) {
    vial_printf(rs, "发送短信给%lld", (long long)vial_param_int(rq, "mobile"));
}

static void redirect_info(vial_req *rq, vial_res *rs) {
    /* 跳转页面到一个具有路由参数的视图中 */
    const char *url = vial_url_for(rq, "sms", "mobile", "13012345677", NULL);
    printf("%s\n", url); /* /mobile/13012345677 */
    vial_redirect(rs, url, 302);
}

vial_app *lesson_redirect(void) {
    vial_app *app = vial_app_new("redirect");
    vial_add_url_rule(app, "/user", "index", VIAL_GET, redirect_user);
    vial_add_url_rule(app, "/login", "login", VIAL_GET, redirect_login);
    return app;
}

vial_app *lesson_redirect_params(void) {
    vial_app *app = vial_app_new("redirect-params");
    vial_add_url_rule(app, "/mobile/<int:mobile>", "sms", VIAL_GET, redirect_sms);
    vial_add_url_rule(app, "/info", "info", VIAL_GET, redirect_info);
    return app;
}
