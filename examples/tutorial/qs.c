/* Lesson "qs" - 获取查询字符串: request.args.
 *
 *   request.query_string                    vial_query_string(rq)      (raw bytes, pointer + length)
 *   request.args                            vial_args(rq)              (a vial_multidict, in order)
 *   request.args.get("user")                vial_arg(rq, "user")       (NULL when absent, as None)
 *   request.args.getlist("fav")             vial_arg_list(rq, "fav")   (.items[0 .. len))
 *   request.args["user"]                    vial_arg(rq, "user"), and vial_abort(rq, 400) when NULL
 *                                           (Flask answers 400 for a missing key)
 *
 * Try /qs?user=xiaoming&age=16 and /qs?user=xiaoming&fav=shopping&fav=coding&fav=rap.
 * The query string is parsed as Werkzeug does: '+' is a space, %XX escapes
 * are UTF-8, invalid ones are kept, "a" alone is a = "". */
#include <stdio.h>

#include "lessons.h"
#include "pyprint.h"

static void qs_view(vial_req *rq, vial_res *rs) {
    /* 获取原始的查询字符串参数，格式：bytes */
    printf("%s\n", py_bytes(rq, vial_query_string(rq)));
    /* 获取查询字符串参数，格式：ImmutableMultiDict */
    printf("%s\n", py_multidict(rq, vial_args(rq)));
    /* 获取单个参数值 */
    printf("%s\n", py_none(vial_arg(rq, "user")));
    printf("%s\n", py_none(vial_arg(rq, "age")));
    /* 获取多个参数值 */
    vial_strs favs = vial_arg_list(rq, "fav");
    printf("%s\n", py_list(rq, favs)); /* ['shopping', 'coding', 'rap'] */
    vial_html(rs, "hello, flask");
}

vial_app *lesson_qs(void) {
    vial_app *app = vial_app_new("qs");
    vial_add_url_rule(app, "/qs", "qs", VIAL_GET, qs_view);
    return app;
}
