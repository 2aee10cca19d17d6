/* Lesson "header" - 获取请求头等相关数据: headers and the rest of the request.
 *
 *   request.headers                         vial_headers(rq)            (an object, names as sent)
 *   request.headers.get("User-Agent")       vial_header(rq, "User-Agent")   (any case; NULL when absent)
 *   request.user_agent                      vial_user_agent(rq)
 *   request.host                            vial_host(rq)               127.0.0.1:5000
 *   request.content_type                    vial_content_type(rq)       (NULL when absent)
 *   request.path                            vial_path(rq)               /header
 *   request.url                             vial_url(rq)                http://127.0.0.1:5000/header
 *   request.root_url                        vial_root_url(rq)           http://127.0.0.1:5000/
 *   request.method                          vial_method(rq)             POST
 *   request.remote_addr                     vial_remote_addr(rq)        127.0.0.1
 *   request.server                          vial_server_addr(rq)        "127.0.0.1:5000"
 *   request.environ                         (none: vial has no WSGI environment)
 *
 * request.server is the address the request arrived on; Werkzeug's dev
 * server shows the address it was told to bind ('0.0.0.0', 5000), vial the
 * one the connection came in on. */
#include <stdio.h>

#include "lessons.h"
#include "pyprint.h"

static void header_view(vial_req *rq, vial_res *rs) {
    /* 获取请求头所有信息 */
    printf("%s %s\n", py_headers(rq), type_name(vial_headers(rq)));
    /* 基于get使用请求头原始属性名获取 */
    printf("%s\n", py_none(vial_header(rq, "User-Agent")));
    printf("%s\n", vial_user_agent(rq));
    /* 获取本次客户端请求的服务端地址 */
    printf("%s\n", vial_host(rq));
    /* 获取本次客户端请求提交的数据格式 */
    printf("%s\n", py_none(vial_content_type(rq)));
    /* uri路径, 完整url地址, 服务端域名 */
    printf("%s\n", vial_path(rq));
    printf("%s\n", vial_url(rq));
    printf("%s\n", vial_root_url(rq));
    /* Http请求方法 */
    printf("%s\n", vial_method(rq));
    /* 客户端的IP地址 */
    printf("%s\n", vial_remote_addr(rq));
    /* 服务端信息 */
    printf("%s\n", py_address(rq, vial_server_addr(rq)));
    /* 获取自定义请求头 */
    printf("%s\n", py_none(vial_header(rq, "company"))); /* flask.edu */
    vial_html(rs, "hello, flask");
}

vial_app *lesson_header(void) {
    vial_app *app = vial_app_new("header");
    vial_add_url_rule(app, "/header", "header", vial_methods("get, post, put, patch, delete"), header_view);
    return app;
}
