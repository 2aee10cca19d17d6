/* session_app - the app the session integration suites drive over real HTTP.
 *
 *   session_app run --host 127.0.0.1 --port N --workers 1
 *
 * Config comes from VIAL_* environment variables (SECRET_KEY, SESSION_TYPE,
 * SESSION_REDIS_URL, SESSION_REDIS_TIMEOUT...). Routes:
 *
 *   /set?k=..&v=..      session[k] = v         /setint?k=..&v=..  an integer
 *   /dump               the session as Flask's tagged JSON (sorted keys)
 *   /pop?k=..  /clear  /permanent  /relogin?user=.. (clear, then set)
 *   /flash?m=..&c=..    flash(m, c)            /flashes  [[category, message]...]
 *   /hash?pw=..         a pbkdf2 hash (Werkzeug 2.2 reads it)
 *   /check (POST hash, pw)                     "1" or "0"
 *   /set_types          a tuple, bytes, Markup, datetime, UUID and nested values
 *   /csrf               a CSRF token           /submit (POST, CSRF-checked)
 *   /whoami             current_user's id or "anonymous"
 *   /slow               logs "slow: reading the session", then reads it
 *   /ping               no session at all
 *   /login (GET form, POST username/password, CSRF-checked)   /user (login required)
 *   /logout (POST, CSRF-checked)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vial.h"

static const char *password_hash; /* "123456", made at start */

static void set_view(vial_req *rq, vial_res *rs) {
    vial_session_set_str(rq, vial_arg(rq, "k"), vial_arg(rq, "v"));
    vial_text(rs, "set");
}

static void setint_view(vial_req *rq, vial_res *rs) {
    const char *v = vial_arg(rq, "v");
    vial_session_set_int(rq, vial_arg(rq, "k"), v ? atoll(v) : 0);
    vial_text(rs, "set");
}

static void dump_view(vial_req *rq, vial_res *rs) {
    size_t len;
    vial_json_error err;
    char *json = vial_tagged_json_dumps(vial_req_arena(rq), vial_session(rq), &len, &err);
    vial_body(rs, json ? json : err.message, json ? len : strlen(err.message), "application/json");
}

static void pop_view(vial_req *rq, vial_res *rs) {
    vial_value *v = vial_session_pop(rq, vial_arg(rq, "k"));
    vial_text(rs, v && vial_str_of(v) ? vial_str_of(v) : "None");
}

static void clear_view(vial_req *rq, vial_res *rs) {
    vial_session_clear(rq);
    vial_text(rs, "cleared");
}

static void relogin_view(vial_req *rq, vial_res *rs) {
    vial_session_clear(rq);
    vial_session_set_str(rq, "user", vial_arg(rq, "user"));
    vial_text(rs, "relogged");
}

static void permanent_view(vial_req *rq, vial_res *rs) {
    vial_session_permanent(rq, true);
    vial_text(rs, "permanent");
}

static void flash_view(vial_req *rq, vial_res *rs) {
    vial_flash(rq, vial_arg(rq, "m"), vial_arg(rq, "c"));
    vial_text(rs, "flashed");
}

static void flashes_view(vial_req *rq, vial_res *rs) {
    vial_jsonify(rs, vial_get_flashed_messages(rq, .with_categories = true));
}

static void hash_view(vial_req *rq, vial_res *rs) {
    const char *pw = vial_arg(rq, "pw");
    char *h = vial_generate_password_hash(vial_req_arena(rq), pw ? pw : "", "pbkdf2:sha256:260000");
    vial_text(rs, h ? h : "error");
}

static void check_view(vial_req *rq, vial_res *rs) {
    vial_text(rs, vial_check_password(vial_form(rq, "hash"), vial_form(rq, "pw")) ? "1" : "0");
}

static void slow_view(vial_req *rq, vial_res *rs) {
    vial_log(VIAL_LOG_INFO, "slow: reading the session");
    const char *v = vial_session_get_str(rq, "k");
    vial_printf(rs, "slow k=%s", v ? v : "None");
}

static void ping_view(vial_req *rq, vial_res *rs) {
    (void)rq;
    vial_text(rs, "pong");
}

static void set_types_view(vial_req *rq, vial_res *rs) {
    vial_arena *a = vial_req_arena(rq);
    vial_value *tuple = vial_new_tuple(a);
    vial_array_push(tuple, vial_int(rq, 1));
    vial_array_push(tuple, vial_string(rq, "two"));
    vial_session_set(rq, "tuple", tuple);
    vial_session_set(rq, "bytes", vial_new_bytes(a, "\x00\xffraw", 5));
    vial_session_set(rq, "markup", vial_new_safe(a, "<b>safe</b>", 11));
    vial_session_set(rq, "when", vial_new_datetime(a, 1700000000));
    vial_session_set(rq, "uuid", vial_new_uuid(a, "12345678-1234-5678-1234-567812345678"));
    vial_session_set(rq, "nested", vial_pack(rq, "{s:[i, f, b, n], s:s}", "list", 1, 2.5, true, "text", "\u4e2d\u6587"));
    vial_text(rs, "set");
}

static void csrf_view(vial_req *rq, vial_res *rs) { vial_text(rs, vial_csrf_token(rq)); }

static void submit_view(vial_req *rq, vial_res *rs) {
    (void)rq;
    vial_text(rs, "submitted");
}

static void whoami_view(vial_req *rq, vial_res *rs) {
    vial_text(rs, vial_is_authenticated(rq) ? vial_current_user_id(rq) : "anonymous");
}

static vial_value *load_user(vial_req *rq, const char *id) {
    if (strcmp(id, "root") == 0) return vial_pack(rq, "{s:s, s:s}", "id", "root", "name", "root");
    return NULL;
}

static void login_view(vial_req *rq, vial_res *rs) {
    if (vial_is_get(rq)) {
        vial_value *flashes = vial_get_flashed_messages(rq);
        vial_printf(rs,
                    "<!DOCTYPE html><html><head><meta charset=\"UTF-8\"><title>login</title></head><body>\n"
                    "<p id=\"flashes\">");
        for (size_t i = 0; i < vial_len(flashes); i++) vial_printf(rs, "%s ", vial_str_of(vial_array_get(flashes, i)));
        vial_printf(rs,
                    "</p>\n<form method=\"post\">\n"
                    "<input type=\"hidden\" name=\"csrf_token\" value=\"%s\">\n"
                    "<input type=\"text\" name=\"username\" id=\"username\">\n"
                    "<input type=\"password\" name=\"password\" id=\"password\">\n"
                    "<input type=\"checkbox\" name=\"remember\" id=\"remember\">\n"
                    "<input type=\"submit\" id=\"submit\" value=\"login\">\n"
                    "</form></body></html>\n",
                    vial_csrf_token(rq));
        return;
    }
    const char *username = vial_form(rq, "username");
    const char *password = vial_form(rq, "password");
    if (username && strcmp(username, "root") == 0 && vial_check_password(password_hash, password)) {
        vial_login_user(rq, "root", .remember = vial_form(rq, "remember") != NULL);
        const char *next = vial_safe_next(rq);
        vial_redirect(rs, next ? next : "/user", 302);
        return;
    }
    vial_flash(rq, "Incorrect username or password.", "error");
    vial_redirect(rs, "/login", 302);
}

static void user_view(vial_req *rq, vial_res *rs) {
    vial_printf(rs,
                "<!DOCTYPE html><html><head><meta charset=\"UTF-8\"><title>user</title></head><body>\n"
                "<p id=\"who\">个人中心的信息展示: %s</p>\n"
                "<form method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"csrf_token\" value=\"%s\">"
                "<input type=\"submit\" id=\"logout\" value=\"logout\"></form></body></html>\n",
                vial_get_str(vial_current_user(rq), "name"), vial_csrf_token(rq));
}

static void logout_view(vial_req *rq, vial_res *rs) {
    vial_logout_user(rq);
    vial_redirect(rs, "/login", 302);
}

int main(int argc, char **argv) {
    vial_app *app = vial_app_new("session_app");
    vial_config_from_env(app, "VIAL");
    vial_route(app, "/set", VIAL_GET, set_view);
    vial_route(app, "/setint", VIAL_GET, setint_view);
    vial_route(app, "/dump", VIAL_GET, dump_view);
    vial_route(app, "/pop", VIAL_GET, pop_view);
    vial_route(app, "/clear", VIAL_GET, clear_view);
    vial_route(app, "/permanent", VIAL_GET, permanent_view);
    vial_route(app, "/relogin", VIAL_GET, relogin_view);
    vial_route(app, "/flash", VIAL_GET, flash_view);
    vial_route(app, "/flashes", VIAL_GET, flashes_view);
    vial_route(app, "/hash", VIAL_GET, hash_view);
    vial_add_url_rule(app, "/check", "check", VIAL_POST, check_view);
    vial_route(app, "/slow", VIAL_GET, slow_view);
    vial_route(app, "/set_types", VIAL_GET, set_types_view);
    vial_route(app, "/csrf", VIAL_GET, csrf_view);
    vial_add_url_rule(app, "/submit", "submit", VIAL_POST, submit_view);
    vial_route(app, "/whoami", VIAL_GET, whoami_view);
    vial_route(app, "/ping", VIAL_GET, ping_view);
    vial_add_url_rule(app, "/login", "login", VIAL_GET | VIAL_POST, login_view);
    vial_add_url_rule(app, "/user", "user", VIAL_GET, user_view);
    vial_add_url_rule(app, "/logout", "logout", VIAL_POST, logout_view);
    vial_csrf_protect(app);
    vial_csrf_exempt(app, "check");
    vial_login_manager(app, .user_loader = load_user, .login_view = "login");
    vial_login_required_view(app, "user");
    vial_arena *a = vial_app_arena(app);
    password_hash = vial_generate_password_hash(a, "123456", "pbkdf2:sha256:50000");
    if (!password_hash) return 1;
    return vial_main(app, argc, argv);
}
