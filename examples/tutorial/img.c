/* Lesson "img" - 响应指定媒体类型的文件: bytes with a MIME type.
 *
 *   with open("avatar.png", "rb") as f:     read the file (below)
 *       data = f.read()
 *   return data, 200, {"Content-Type": "image/png"}
 *                                           vial_body(rs, data, len, "image/png");
 *
 * This is the course's way, byte for byte. For files, vial_send_file is the
 * better tool (Flask's send_file): it streams the file with sendfile(2),
 * takes the type from the name and answers ETag / If-None-Match (304) and
 * Range requests:
 *
 *   vial_send_file(rs, "avatar.png");
 *
 * avatar.png is read from the app's root folder: the working directory, so
 * run this lesson from examples/tutorial. */
#include <stdio.h>

#include "lessons.h"

/* Reads a whole file into the request's arena; NULL when it cannot. */
static char *read_file(vial_req *rq, const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    vial_buf data;
    vial_buf_init(&data, vial_req_arena(rq), 64u << 20);
    char chunk[8192];
    size_t n;
    int rc = 0;
    while (rc == 0 && (n = fread(chunk, 1, sizeof chunk, f)) > 0) rc = vial_buf_append(&data, chunk, n);
    bool failed = rc != 0 || ferror(f);
    fclose(f);
    if (failed) return NULL;
    *len = data.len;
    return data.data ? data.data : "";
}

/* 响应图片格式给客户端 */
static void img_view(vial_req *rq, vial_res *rs) {
    const char *path = vial_sprintf(rq, "%s/avatar.png", vial_app_root(vial_req_app(rq)));
    size_t len;
    const char *data = read_file(rq, path, &len);
    if (!data) vial_abort_msg(rq, 500, "cannot read %s", path); /* open() raising: a 500 in Flask too */
    vial_body(rs, data, len, "image/png");                     /* MIME类型 */
}

vial_app *lesson_img(void) {
    vial_app *app = vial_app_new("img");
    vial_add_url_rule(app, "/img", "img", VIAL_GET, img_view);
    return app;
}
