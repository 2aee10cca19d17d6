/* lessons.c - the table of lessons, in the course's order. */
#include <string.h>

#include "lessons.h"

const lesson tutorial_lessons[] = {
    {"hello", "创建flask项目", "the first app: / answers HTML", lesson_hello},
    {"config", "flask加载项目配置的二种方式", "app.config set two ways", lesson_config},
    {"methods", "路由的基本定义", "a rule with methods=[\"get\", \"post\"]", lesson_methods},
    {"params", "接收任意路由参数", "/goods/<cid>/<gid>: untyped URL parameters", lesson_params},
    {"converters", "接收限定类型参数", "/goods/<float:cid>/<uuid:gid>: typed parameters", lesson_converters},
    {"regex", "自定义路由参数转换器", "a user converter re('...'): /sms/<mobile>, /goods/<id>", lesson_regex},
    {"qs", "获取查询字符串", "/qs: request.args, getlist", lesson_qs},
    {"body", "获取请求体", "/form1, /data, /file: form, files, JSON, raw data, save", lesson_body},
    {"header", "获取请求头等相关数据", "/header: headers and every request attribute", lesson_header},
    {"html", "响应html文本", "/: Response(html, 201)", lesson_html},
    {"html-tuple", "响应html文本", "/: return html, 400", lesson_html_tuple},
    {"html-make", "响应html文本", "/: make_response(html, 201)", lesson_html_make},
    {"jsonapi", "返回JSON数据", "/jsonapi: jsonify", lesson_jsonapi},
    {"jsonapi-dumps", "返回JSON数据", "/jsonapi: json.dumps, 200, Content-Type", lesson_jsonapi_dumps},
    {"jsonapi-response", "返回JSON数据", "/jsonapi: Response(json.dumps, 200, Content-Type)", lesson_jsonapi_response},
    {"img", "响应指定媒体类型的文件", "/img: avatar.png as image/png", lesson_img},
    {"jump", "重定向到站点地址", "/jump: Response(\"\", 302, Location)", lesson_jump},
    {"jump-redirect", "重定向到站点地址", "/jump: redirect(url, 302)", lesson_jump_redirect},
    {"redirect", "重定向到自己写的视图函数", "/user -> url_for(\"login\")", lesson_redirect},
    {"redirect-params", "重定向到带有路径参数的视图函数", "/info -> url_for(\"sms\", mobile=...)", lesson_redirect_params},
    {"status", "自定义状态码和响应头", "/: \"hello, flask\", 201, {\"Company\": ...}", lesson_status},
    {"status-666", "自定义状态码和响应头", "/: status 666", lesson_status_666},
    {"cookie", "Cookie", "/set_cookie, /get_cookie, /del_cookie, cookie /login and /user", lesson_cookie},
    {"session", "Session", "/set_session, /get_session, /del_session, session /login and /user", lesson_session},
};

const size_t tutorial_lesson_count = sizeof tutorial_lessons / sizeof tutorial_lessons[0];

const lesson *tutorial_find_lesson(const char *name) {
    for (size_t i = 0; name && i < tutorial_lesson_count; i++)
        if (strcmp(tutorial_lessons[i].name, name) == 0) return &tutorial_lessons[i];
    return NULL;
}
