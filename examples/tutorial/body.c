/* Lesson "body" - 获取请求体: forms, uploads, JSON and raw bodies.
 *
 *   request.form                            vial_form_all(rq)
 *   request.form.get("username")            vial_form(rq, "username")
 *   request.form.getlist("fav")             vial_form_list(rq, "fav")
 *   request.files                           vial_files_all(rq)
 *   request.files.get("avatar")             vial_file_get(rq, "avatar")      (a vial_file *, or NULL)
 *   request.files.getlist("avatar")         vial_file_list(rq, "avatar")
 *   request.is_json                         vial_is_json(rq)
 *   request.json                            vial_get_json(rq)                (a vial_value *; 415 when the
 *                                                                            body is not JSON, 400 when broken)
 *   request.data                            vial_data(rq)                    (raw bytes)
 *   json.loads(request.data)                vial_json_parse(arena, data.ptr, data.len, 0, &err)
 *   avatar.save("./avatar.png")             vial_file_save(avatar, path)
 *
 * Forms are parsed as Werkzeug parses them (urlencoded and multipart);
 * uploads above 500 KiB go to a temporary file, removed after the request.
 * One difference: request.data in Flask is empty for a form body (the form
 * parser ate it); vial_data is Flask's request.get_data() and always gives
 * the bytes, so read either the form or the data of a request, not both. */
#include <stdio.h>

#include "lessons.h"
#include "pyprint.h"

static void body_form1(vial_req *rq, vial_res *rs) {
    /* 获取表单数据[不包含上传文件] */
    printf("%s\n", py_multidict(rq, vial_form_all(rq)));
    printf("%s\n", py_none(vial_form(rq, "username")));     /* root */
    printf("%s\n", py_list(rq, vial_form_list(rq, "fav")));  /* ['swimming', 'watch TV'] */
    /* 获取表单数据的上传文件 */
    printf("%s\n", py_files(rq, vial_files_all(rq)));
    printf("%s\n", py_file(rq, vial_file_get(rq, "avatar")));
    printf("%s\n", py_file_list(rq, vial_file_list(rq, "avatar")));
    vial_html(rs, "hello, flask");
}

static void body_data(vial_req *rq, vial_res *rs) {
    /* 判断本次客户端提交的数据格式是否是json */
    printf("%s\n", py_bool(vial_is_json(rq)));
    /* 获取客户端请求体中的json数据 (not JSON: the request ends here with 415) */
    printf("%s\n", py_value(rq, vial_get_json(rq)));
    /* 获取客户端请求体的原始数据 */
    vial_str data = vial_data(rq);
    printf("%s\n", py_bytes(rq, data));
    /* 原始数据转json格式 */
    vial_json_error err;
    vial_value *parsed = vial_json_parse(vial_req_arena(rq), data.ptr, data.len, 0, &err);
    if (!parsed) vial_abort_msg(rq, 500, "json.loads: %s", err.message);
    printf("%s\n", py_value(rq, parsed));
    vial_html(rs, "hello, flask");
}

/* 接收上传文件并保存文件 */
static void body_file(vial_req *rq, vial_res *rs) {
    vial_file *avatar = vial_file_get(rq, "avatar");
    printf("%s\n", py_file(rq, avatar));
    /* The course calls avatar.save() on None when no file came, which fails with
     * a 500; so does this port (a real app would answer 400). */
    if (!avatar) vial_abort_msg(rq, 500, "no file in the form's avatar field");
    /* "./avatar.png": the app's root folder, the working directory unless set */
    const char *path = vial_sprintf(rq, "%s/avatar.png", vial_app_root(vial_req_app(rq)));
    if (vial_file_save(avatar, path) != 0) vial_abort_msg(rq, 500, "cannot save %s", path);
    vial_html(rs, "hello, flask");
}

vial_app *lesson_body(void) {
    vial_app *app = vial_app_new("body");
    vial_add_url_rule(app, "/form1", "form1", vial_methods("post"), body_form1);
    vial_add_url_rule(app, "/data", "data", vial_methods("post"), body_data);
    vial_add_url_rule(app, "/file", "file", vial_methods("post, put, patch"), body_file);
    return app;
}
