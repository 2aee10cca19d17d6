/* flaskr.h - the Flask tutorial's blog in vial: what its files share.
 *
 * The tutorial's package has __init__.py (create_app), db.py, auth.py and
 * blog.py; here they are factory.c, db.c, auth.c and blog.c, and main.c is
 * what `flask --app flaskr` does: build the app and hand it to the CLI. */
#ifndef FLASKR_H
#define FLASKR_H

#include <vial.h>

/* create_app(test_config): the app, configured from test_config (an object,
 * e.g. {"TESTING": true, "DATABASE_URL": "sqlite:////tmp/x.db"}) or, when it
 * is NULL, from instance/config.json if there is one. */
vial_app *flaskr_create_app(const vial_value *test_config);

/* db.py: init_db() and the init-db command. */
int flaskr_init_db(vial_app *app);
void flaskr_db_init_app(vial_app *app);

/* auth.py: the auth blueprint, load_logged_in_user and login_required. */
void flaskr_auth_init_app(vial_app *app);
/* @login_required: true when it answered (a redirect to the login page) and the view must return. */
bool flaskr_login_required(vial_req *rq, vial_res *rs);
/* request.form[name]: the field, or 400 Bad Request when the form has no such field. */
const char *flaskr_form_field(vial_req *rq, const char *name);

/* blog.py: the blog blueprint. */
void flaskr_blog_init_app(vial_app *app);

#endif
