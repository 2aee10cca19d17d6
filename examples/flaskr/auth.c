/* auth.c - flaskr/auth.py: register, log in, log out, and the current user.
 *
 * The session is Flask's signed cookie holding only user_id; before every
 * request the user's row is loaded into g.user (null when anonymous), and
 * login_required sends anonymous visitors to the login page. Passwords are
 * stored as Werkzeug hashes (method$salt$hash). */
#include "flaskr.h"

bool flaskr_login_required(vial_req *rq, vial_res *rs) {
    vial_value *user = vial_g_get(rq, "user");
    if (user && user->type != VIAL_NULL) return false;
    vial_redirect(rs, vial_url_for(rq, "auth.login", NULL), 302);
    return true;
}

const char *flaskr_form_field(vial_req *rq, const char *name) {
    const char *value = vial_form(rq, name);
    if (!value) vial_abort(rq, 400); /* Flask: BadRequestKeyError */
    return value;
}

/* bp.before_app_request: g.user from session["user_id"]. */
static bool load_logged_in_user(vial_req *rq, vial_res *rs) {
    (void)rs;
    vial_value *user_id = vial_session_get(rq, "user_id");
    vial_value *user = NULL;
    if (user_id && user_id->type != VIAL_NULL) user = vial_query_one(rq, "SELECT * FROM user WHERE id = ?", user_id);
    vial_g_set(rq, "user", user ? user : vial_value_null());
    return false;
}

/* Register a new user: the username must not be taken; the password is stored hashed. */
static void auth_register(vial_req *rq, vial_res *rs) {
    if (vial_is_post(rq)) {
        const char *username = flaskr_form_field(rq, "username");
        const char *password = flaskr_form_field(rq, "password");
        const char *error = NULL;
        if (!*username)
            error = "Username is required.";
        else if (!*password)
            error = "Password is required.";
        if (!error) {
            char *hash = vial_generate_password_hash(vial_req_arena(rq), password, NULL);
            if (!hash) vial_abort(rq, 500);
            /* try: INSERT ... except IntegrityError: the username was already taken */
            vial_db_catch(rq, VIAL_DB_CONSTRAINT);
            if (vial_exec(rq, "INSERT INTO user (username, password) VALUES (?, ?)", username, hash) >= 0) {
                /* Success, go to the login page. */
                vial_redirect(rs, vial_url_for(rq, "auth.login", NULL), 302);
                return;
            }
            error = vial_sprintf(rq, "User %s is already registered.", username);
        }
        vial_flash(rq, error, NULL);
    }
    vial_render(rs, "auth/register.html", NULL);
}

/* Log in a registered user by adding the user id to the session. */
static void auth_login(vial_req *rq, vial_res *rs) {
    if (vial_is_post(rq)) {
        const char *username = flaskr_form_field(rq, "username");
        const char *password = flaskr_form_field(rq, "password");
        const char *error = NULL;
        vial_value *user = vial_query_one(rq, "SELECT * FROM user WHERE username = ?", username);
        if (!user)
            error = "Incorrect username.";
        else if (!vial_check_password_hash(vial_get_str(user, "password"), password))
            error = "Incorrect password.";
        if (!error) {
            /* store the user id in a new session and return to the index */
            vial_session_clear(rq);
            vial_session_set(rq, "user_id", vial_object_get(user, "id"));
            vial_redirect(rs, vial_url_for(rq, "blog.index", NULL), 302);
            return;
        }
        vial_flash(rq, error, NULL);
    }
    vial_render(rs, "auth/login.html", NULL);
}

/* Clear the current session, including the stored user id. */
static void auth_logout(vial_req *rq, vial_res *rs) {
    vial_session_clear(rq);
    vial_redirect(rs, vial_url_for(rq, "blog.index", NULL), 302);
}

void flaskr_auth_init_app(vial_app *app) {
    vial_bp *bp = vial_blueprint(app, "auth", "/auth");
    vial_before_request(app, load_logged_in_user);
    vial_bp_add_url_rule(bp, "/register", "register", VIAL_GET | VIAL_POST, auth_register);
    vial_bp_add_url_rule(bp, "/login", "login", VIAL_GET | VIAL_POST, auth_login);
    vial_bp_add_url_rule(bp, "/logout", "logout", VIAL_GET, auth_logout);
}
