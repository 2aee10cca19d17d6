/* Lesson "cookie" - Cookie: set, read, delete, and a login kept in cookies.
 *
 *   response.set_cookie("user_id", "100")   vial_set_cookie(rs, "user_id", "100");
 *   response.set_cookie("username", "xiaoming", max_age=3600)
 *                                           vial_set_cookie(rs, "username", "xiaoming", .max_age = 3600);
 *   request.cookies.get("user_id")          vial_cookie(rq, "user_id")      (NULL when absent)
 *   response.set_cookie("user_id", "", max_age=0)
 *                                           vial_set_cookie(rs, "user_id", "", .max_age = 0);
 *                                           (or vial_delete_cookie(rs, "user_id"), Flask's delete_cookie)
 *   request.method == "GET"                 vial_is_get(rq)
 *   redirect("/login")                      vial_redirect(rs, "/login", 302);
 *
 * The options of set_cookie are designated initializers: .max_age, .expires,
 * .path, .domain, .secure, .httponly, .samesite, .partitioned; the
 * Set-Cookie lines are byte for byte Werkzeug's. There is no response object
 * to make: make_response(text) is vial_html(rs, text) on the response the
 * view was handed, and cookies go on that same response. */
#include <stdio.h>
#include <string.h>

#include "lessons.h"
#include "pyprint.h"

/* cookie的设置: cookies travel to the browser with the response */
static void cookie_set(vial_req *rq, vial_res *rs) {
    (void)rq;
    vial_html(rs, "set_cookie");
    /* 如果没有设置max_age，则当前cookie变量会在浏览器关闭（会话结束以后被浏览器删除） */
    vial_set_cookie(rs, "user_id", "100");
    /* 如果设置max_age，则按秒作为时间单位，设置cookie的有效时间 */
    vial_set_cookie(rs, "username", "xiaoming", .max_age = 3600);
    vial_set_cookie(rs, "number", "10000", .max_age = 30);
}

/* cookie的读取 */
static void cookie_get(vial_req *rq, vial_res *rs) {
    printf("user_id= %s\n", py_none(vial_cookie(rq, "user_id")));
    printf("username= %s\n", py_none(vial_cookie(rq, "username")));
    printf("number= %s\n", py_none(vial_cookie(rq, "number")));
    vial_html(rs, "get_cookie");
}

/* cookie的删除: the server cannot delete a cookie, it tells the browser it expired */
static void cookie_del(vial_req *rq, vial_res *rs) {
    (void)rq;
    vial_html(rs, "del_cookie");
    vial_set_cookie(rs, "user_id", "", .max_age = 0);
    vial_set_cookie(rs, "username", "", .max_age = 0);
}

static const char login_form[] =
    "\n"
    "    <!DOCTYPE html>\n"
    "    <html lang=\"en\">\n"
    "    <head>\n"
    "      <meta charset=\"UTF-8\">\n"
    "      <title>Title</title>\n"
    "    </head>\n"
    "    <body>\n"
    "      <form action=\"\" method=\"post\">\n"
    "        账号：<input type=\"text\" name=\"username\"><br><br>\n"
    "        密码：<input type=\"password\" name=\"password\"><br><br>\n"
    "        <input type=\"submit\" value=\"登录\">\n"
    "      </form>\n"
    "    </body>\n"
    "    </html>\n"
    "    ";

/* 基于cookie实现登录 */
static void cookie_login(vial_req *rq, vial_res *rs) {
    if (vial_is_get(rq)) {
        vial_html(rs, login_form);
        return;
    }
    /* 接收客户端POST提交表单数据; 暂时不使用数据库，我们模拟用户身份判断代码 */
    const char *username = vial_form(rq, "username");
    const char *password = vial_form(rq, "password");
    if (username && password && strcmp(username, "root") == 0 && strcmp(password, "123456") == 0) {
        /* 认证通过: 基于cookie保存登录状态 */
        vial_html(rs, "登录成功！");
        vial_set_cookie(rs, "username", username, .max_age = 7200);
        vial_set_cookie(rs, "user_id", username, .max_age = 7200);
        return;
    }
    /* 认证失败: 返回GET请求的login登录页面 */
    vial_redirect(rs, "/login", 302);
}

/* 在部分需要认证身份的页面中，基于cookie判断用户登录状态 */
static void cookie_user(vial_req *rq, vial_res *rs) {
    const char *username = vial_cookie(rq, "username");
    if (!username || !*username) {
        vial_redirect(rs, "/login", 302);
        return;
    }
    vial_html(rs, "个人中心的信息展示");
}

vial_app *lesson_cookie(void) {
    vial_app *app = vial_app_new("cookie");
    vial_add_url_rule(app, "/set_cookie", "set_cookie", VIAL_GET, cookie_set);
    vial_add_url_rule(app, "/get_cookie", "get_cookie", VIAL_GET, cookie_get);
    vial_add_url_rule(app, "/del_cookie", "del_cookie", VIAL_GET, cookie_del);
    vial_add_url_rule(app, "/login", "login", vial_methods("get, post"), cookie_login);
    vial_add_url_rule(app, "/user", "user", VIAL_GET, cookie_user);
    return app;
}
