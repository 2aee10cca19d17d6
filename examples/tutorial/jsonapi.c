/* Lessons "jsonapi", "jsonapi-dumps", "jsonapi-response" - 返回JSON数据.
 *
 *   jsonapi           jsonify(data)         vial_jsonify(rs, data);
 *   jsonapi-dumps     return json.dumps(data), 200, {"Content-Type": "application/json"}
 *   jsonapi-response  Response(json.dumps(data), 200, {"Content-Type": "application/json"})
 *
 *   data = {"name": "xiaoming", "age": 16}
 *                                           vial_value *data = vial_pack(rq, "{s:s, s:i}",
 *                                                                        "name", "xiaoming", "age", 16);
 *
 * vial_jsonify writes what Flask's jsonify writes: keys sorted, compact,
 * non-ASCII escaped, a final newline, application/json; pretty-printed
 * (indent 2) when DEBUG is on, as Flask does. json.dumps keeps the keys'
 * order and Python's ", " / ": " separators: vial_json_encode with
 * VIAL_JSON_SPACED | VIAL_JSON_ASCII. */
#include <stdio.h>

#include "lessons.h"
#include "pyprint.h"

static vial_value *xiaoming(vial_req *rq) { return vial_pack(rq, "{s:s, s:i}", "name", "xiaoming", "age", 16); }

/* 响应json数据[jsonify] */
static void jsonapi_jsonify(vial_req *rq, vial_res *rs) {
    vial_jsonify(rs, xiaoming(rq));
    printf("%s\n", py_response(rq, rs)); /* print(response) */
}

/* 响应json数据[原生写法]: the body, then the header of the tuple */
static void jsonapi_dumps(vial_req *rq, vial_res *rs) {
    const char *text = vial_json_encode(vial_req_arena(rq), xiaoming(rq), VIAL_JSON_SPACED | VIAL_JSON_ASCII, NULL);
    vial_printf(rs, "%s", text);
    vial_set_header(rs, "Content-Type", "application/json");
}

/* 响应json数据[原生写法]: a body with its type in one call */
static void jsonapi_response(vial_req *rq, vial_res *rs) {
    size_t len;
    const char *text = vial_json_encode(vial_req_arena(rq), xiaoming(rq), VIAL_JSON_SPACED | VIAL_JSON_ASCII, &len);
    vial_body(rs, text, len, "application/json");
}

vial_app *lesson_jsonapi(void) {
    vial_app *app = vial_app_new("jsonapi");
    vial_add_url_rule(app, "/jsonapi", "jsonapi", VIAL_GET, jsonapi_jsonify);
    return app;
}

vial_app *lesson_jsonapi_dumps(void) {
    vial_app *app = vial_app_new("jsonapi-dumps");
    vial_add_url_rule(app, "/jsonapi", "jsonapi", VIAL_GET, jsonapi_dumps);
    return app;
}

vial_app *lesson_jsonapi_response(void) {
    vial_app *app = vial_app_new("jsonapi-response");
    vial_add_url_rule(app, "/jsonapi", "jsonapi", VIAL_GET, jsonapi_response);
    return app;
}
