/* Lessons "status", "status-666" - 自定义状态码和响应头: any status, extra headers.
 *
 *   return "hello, flask", 201, {"Company": "flask.edu"}
 *                                           vial_status(rs, 201);
 *                                           vial_set_header(rs, "Company", "flask.edu");
 *                                           vial_html(rs, "hello, flask");
 *
 * Any code from 100 to 999 goes out as given, also one HTTP does not define,
 * like the course's 666 ("status-666": the course's line with 666). Its reason
 * phrase is "Unknown" (Werkzeug says "UNKNOWN"); name one with
 * vial_status_reason(rs, 666, "Devil"). A header name or value holding CR or
 * LF is refused (vial_set_header returns -1), so request data copied into a
 * header can never split the response. */
#include "lessons.h"

/* 自定义响应头 */
static void status_index(vial_req *rq, vial_res *rs) {
    (void)rq;
    vial_status(rs, 201);
    vial_set_header(rs, "Company", "flask.edu");
    vial_html(rs, "hello, flask");
}

/* 自定义状态码: 666 */
static void status_666(vial_req *rq, vial_res *rs) {
    (void)rq;
    vial_status(rs, 666);
    vial_set_header(rs, "Company", "flask.edu");
    vial_html(rs, "hello, flask");
}

vial_app *lesson_status(void) {
    vial_app *app = vial_app_new("status");
    vial_add_url_rule(app, "/", "index", VIAL_GET, status_index);
    return app;
}

vial_app *lesson_status_666(void) {
    vial_app *app = vial_app_new("status-666");
    vial_add_url_rule(app, "/", "index", VIAL_GET, status_666);
    return app;
}
