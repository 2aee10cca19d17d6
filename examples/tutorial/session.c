/* Lesson "session" - Session: set, read and delete session values, and a login kept in the session.
 *
 *   app.config["SECRET_KEY"] = "..."        vial_config_set(app, "SECRET_KEY", "...");
 *   session["username"] = "xiaoming"        vial_session_set_str(rq, "username", "xiaoming");
 *   session["user_id"] = 31                 vial_session_set_int(rq, "user_id", 31);
 *   session["data"] = [1, 2, 3, 5, "AAAA"]  vial_session_set(rq, "data", vial_pack(rq, "[i,i,i,i,s]", ...));
 *   session.get("username")                 vial_session_get(rq, "username")      (NULL when absent)
 *   session.pop("username")                 vial_session_pop(rq, "username")
 *   if not session.get("username"):         if (!vial_truthy(vial_session_get(rq, "username")))
 *
 * The session is Flask's: a cookie named "session" holding the values,
 * signed with SECRET_KEY (so the browser can read it but not change it).
 * The cookie is byte for byte the one Flask writes, so a Flask app with the
 * same SECRET_KEY reads it. Without SECRET_KEY, setting a value is a 500
 * whose log line says so, as Flask's RuntimeError. The cookie is written only
 * by requests that change the session, and deleted when the last value goes.
 * (Sessions in Redis, flash messages, CSRF and login helpers: docs/sessions.md.) */
#include <stdio.h>
#include <string.h>

#include "lessons.h"
#include "pyprint.h"

/* 设置session */
static void session_set(vial_req *rq, vial_res *rs) {
    vial_session_set_str(rq, "username", "xiaoming");
    vial_session_set_int(rq, "user_id", 31);
    vial_session_set(rq, "data", vial_pack(rq, "[i, i, i, i, s]", 1, 2, 3, 5, "AAAA"));
    vial_html(rs, "set_session");
}

/* f"{x}" in Python: a str as it is, anything else as its repr. */
static const char *py_format(vial_req *rq, const vial_value *v) {
    return v && v->type == VIAL_STRING ? vial_str_of(v) : py_value(rq, v);
}

/* 读取session */
static void session_get(vial_req *rq, vial_res *rs) {
    printf("username=%s\n", py_format(rq, vial_session_get(rq, "username")));
    printf("user_id=%s\n", py_format(rq, vial_session_get(rq, "user_id")));
    printf("data=%s\n", py_format(rq, vial_session_get(rq, "data")));
    vial_html(rs, "get_session");
}

/* 删除session */
static void session_del(vial_req *rq, vial_res *rs) {
    vial_session_pop(rq, "username");
    vial_session_pop(rq, "data");
    vial_html(rs, "del_session");
}

static const char session_login_form[] =
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

/* 基于session实现登录认证 */
static void session_login(vial_req *rq, vial_res *rs) {
    if (vial_is_get(rq)) {
        vial_html(rs, session_login_form);
        return;
    }
    /* 接收客户端POST提交表单数据; 暂时不使用数据库，我们模拟用户身份判断代码 */
    const char *username = vial_form(rq, "username");
    const char *password = vial_form(rq, "password");
    if (username && password && strcmp(username, "root") == 0 && strcmp(password, "123456") == 0) {
        /* 认证通过: 基于session保存登录状态 */
        vial_session_set_str(rq, "username", "root");
        vial_session_set_str(rq, "user_id", "root");
        vial_html(rs, "登录成功！");
        return;
    }
    /* 认证失败: 返回GET请求的login登录页面 */
    vial_redirect(rs, "/login", 302);
}

/* 在部分需要认证身份的页面中，基于session判断用户登录状态 */
static void session_user(vial_req *rq, vial_res *rs) {
    if (!vial_truthy(vial_session_get(rq, "username"))) {
        vial_redirect(rs, "/login", 302);
        return;
    }
    vial_html(rs, "个人中心的信息展示");
}

vial_app *lesson_session(void) {
    vial_app *app = vial_app_new("session");
    /* 因为flask中的session是基于cookie加密实现的，所以使用之前必须设置SECRET_KEY选项 */
    vial_config_set(app, "SECRET_KEY", "dskafmdfmem2w4m234mfmvdfmasdkqaso3423");
    vial_add_url_rule(app, "/set_session", "set_session", VIAL_GET, session_set);
    vial_add_url_rule(app, "/get_session", "get_session", VIAL_GET, session_get);
    vial_add_url_rule(app, "/del_session", "del_session", VIAL_GET, session_del);
    vial_add_url_rule(app, "/login", "login", vial_methods("get, post"), session_login);
    vial_add_url_rule(app, "/user", "user", VIAL_GET, session_user);
    return app;
}
