/* request.args / form / files / cookies and response cookies through the test client. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vial.h"

static void qs(vial_req *rq, vial_res *rs) {
    vial_strs favs = vial_arg_list(rq, "fav");
    vial_printf(rs, "user=%s favs=", vial_arg(rq, "user") ? vial_arg(rq, "user") : "-");
    for (size_t i = 0; i < favs.len; i++) vial_printf(rs, "%s%s", i ? "," : "", favs.items[i]);
}

static void form1(vial_req *rq, vial_res *rs) {
    vial_strs favs = vial_form_list(rq, "fav");
    vial_printf(rs, "username=%s favs=%zu", vial_form(rq, "username") ? vial_form(rq, "username") : "-", favs.len);
    vial_files avatars = vial_file_list(rq, "avatar");
    for (size_t i = 0; i < avatars.len; i++)
        vial_printf(rs, " file=%s(%s,%zu)", avatars.items[i]->filename, avatars.items[i]->mimetype, avatars.items[i]->size);
}

static char saved_path[256];
static void upload(vial_req *rq, vial_res *rs) {
    vial_file *avatar = vial_file_get(rq, "avatar");
    if (!avatar) vial_abort(rq, 400);
    char path[512];
    snprintf(path, sizeof path, "%s/%s", saved_path, vial_secure_filename(rq, avatar->filename));
    if (vial_file_save(avatar, path) != 0) vial_abort(rq, 500);
    vial_printf(rs, "saved %s", vial_secure_filename(rq, avatar->filename));
}

static void set_cookie(vial_req *rq, vial_res *rs) {
    (void)rq;
    vial_set_cookie(rs, "user_id", "100");
    vial_set_cookie(rs, "username", "xiaoming", .max_age = 3600);
    vial_set_cookie(rs, "city", "\xe4\xb8\xad\xe6\x96\x87", .httponly = true, .samesite = "lax");
    vial_text(rs, "set_cookie");
}

static void get_cookie(vial_req *rq, vial_res *rs) {
    const char *id = vial_cookie(rq, "user_id"), *name = vial_cookie(rq, "username"), *city = vial_cookie(rq, "city");
    vial_printf(rs, "user_id=%s username=%s city=%s", id ? id : "None", name ? name : "None", city ? city : "None");
}

static void del_cookie(vial_req *rq, vial_res *rs) {
    (void)rq;
    vial_set_cookie(rs, "user_id", "", .max_age = 0);
    vial_delete_cookie(rs, "username");
    vial_text(rs, "del_cookie");
}

static vial_app *make_app(void) {
    vial_app *app = vial_app_new("forms");
    vial_route(app, "/qs", VIAL_GET, qs);
    vial_route(app, "/form1", VIAL_POST, form1);
    vial_route(app, "/file", VIAL_POST | VIAL_PUT | VIAL_PATCH, upload);
    vial_route(app, "/set_cookie", VIAL_GET, set_cookie);
    vial_route(app, "/get_cookie", VIAL_GET, get_cookie);
    vial_route(app, "/del_cookie", VIAL_GET, del_cookie);
    return app;
}

Test(forms, args_keep_order_and_repeats) {
    vial_app *app = make_app();
    vial_client *c = vial_test_client(app);
    vial_response *r = vial_client_get(c, "/qs?user=xiaoming&fav=shopping&fav=coding&fav=rap");
    cr_assert_str_eq(r->body, "user=xiaoming favs=shopping,coding,rap");
    r = vial_client_get(c, "/qs?user=%E4%B8%AD+%zz&fav=");
    cr_assert_str_eq(r->body, "user=\xe4\xb8\xad %zz favs=");
    vial_client_free(c);
    vial_app_free(app);
}

Test(forms, urlencoded_and_multipart_fields_and_files) {
    vial_app *app = make_app();
    vial_client *c = vial_test_client(app);
    vial_response *r = vial_client_post(c, "/form1", .form = "username=root&password=123456&fav=swimming&fav=watch+TV");
    cr_assert_str_eq(r->body, "username=root favs=2");
    vial_client_file files[] = {{"avatar", "a.png", "image/png", "\x89PNG", 4}, {"avatar", "s.png", "image/png", "PNG2", 4}, {0}};
    r = vial_client_post(c, "/form1", .form = "username=root", .files = files);
    cr_assert_str_eq(r->body, "username=root favs=0 file=a.png(image/png,4) file=s.png(image/png,4)");
    r = vial_client_post(c, "/form1", .data = "--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n",
                         .content_type = "multipart/form-data; boundary=x");
    cr_assert_eq(r->status, 400, "a broken multipart body is an error, not an empty form");
    vial_client_free(c);
    vial_app_free(app);
}

Test(forms, body_over_max_content_length_is_413) {
    vial_app *app = make_app();
    vial_config_set_int(app, "MAX_CONTENT_LENGTH", 16);
    vial_client *c = vial_test_client(app);
    vial_response *r = vial_client_post(c, "/form1", .form = "username=root&password=123456789");
    cr_assert_eq(r->status, 413);
    vial_client_free(c);
    vial_app_free(app);
}

Test(forms, upload_and_save_with_secure_filename) {
    snprintf(saved_path, sizeof saved_path, "/tmp/vial-upload-XXXXXX");
    cr_assert_not_null(mkdtemp(saved_path));
    vial_app *app = make_app();
    vial_config_set_int(app, "FORM_FILE_THRESHOLD", 8); /* goes through a temp file */
    vial_client *c = vial_test_client(app);
    const char payload[] = "0123456789abcdefghij";
    vial_client_file files[] = {{"avatar", "../../etc/my avatar.png", "image/png", payload, 20}, {0}};
    vial_response *r = vial_client_post(c, "/file", .files = files);
    cr_assert_str_eq(r->body, "saved etc_my_avatar.png");
    char path[512];
    snprintf(path, sizeof path, "%s/etc_my_avatar.png", saved_path);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    char got[64] = {0};
    cr_assert_eq(fread(got, 1, sizeof got, f), 20);
    fclose(f);
    cr_assert_str_eq(got, payload);
    unlink(path);
    rmdir(saved_path);
    vial_client_free(c);
    vial_app_free(app);
}

Test(forms, cookies_set_read_and_delete_like_werkzeug) {
    vial_app *app = make_app();
    vial_client *c = vial_test_client(app);
    vial_response *r = vial_client_get(c, "/set_cookie");
    size_t n = 0;
    const char *lines[8];
    for (size_t i = 0; i < r->header_count; i++)
        if (strcmp(r->headers[i].name, "Set-Cookie") == 0) lines[n++] = r->headers[i].value;
    cr_assert_eq(n, 3);
    cr_assert_str_eq(lines[0], "user_id=100; Path=/");
    cr_assert(strncmp(lines[1], "username=xiaoming; Expires=", 27) == 0 && strstr(lines[1], " GMT; Max-Age=3600; Path=/"),
              "%s", lines[1]);
    cr_assert_str_eq(lines[2], "city=\"\\344\\270\\255\\346\\226\\207\"; HttpOnly; Path=/; SameSite=Lax");
    r = vial_client_get(c, "/get_cookie");
    cr_assert_str_eq(r->body, "user_id=100 username=xiaoming city=\xe4\xb8\xad\xe6\x96\x87");
    r = vial_client_get(c, "/del_cookie");
    n = 0;
    for (size_t i = 0; i < r->header_count; i++)
        if (strcmp(r->headers[i].name, "Set-Cookie") == 0) lines[n++] = r->headers[i].value;
    cr_assert_eq(n, 2);
    cr_assert(strncmp(lines[0], "user_id=; Expires=", 18) == 0 && strstr(lines[0], "; Max-Age=0; Path=/"), "%s", lines[0]);
    cr_assert_str_eq(lines[1], "username=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/");
    r = vial_client_get(c, "/get_cookie");
    cr_assert_str_eq(r->body, "user_id=None username=None city=\xe4\xb8\xad\xe6\x96\x87");
    vial_client_free(c);
    vial_app_free(app);
}
