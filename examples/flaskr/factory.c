/* factory.c - flaskr/__init__.py: the application factory.
 *
 * The app's root is this folder (templates/, static/, schema.sql and the
 * instance/ folder live here), as Flask takes a package's folder for its
 * root; a copy of the binary that runs away from the sources falls back to
 * the working directory. */
#include <errno.h>
#include <libgen.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flaskr.h"

static void hello(vial_req *rq, vial_res *rs) {
    (void)rq;
    vial_html(rs, "Hello, World!");
}

/* The folder this file was compiled from, when it still holds the templates. */
static void set_root(vial_app *app) {
    char source[4096], templates[4200];
    snprintf(source, sizeof source, "%s", __FILE__);
    const char *dir = dirname(source);
    snprintf(templates, sizeof templates, "%s/templates", dir);
    struct stat st;
    if (dir[0] == '/' && stat(templates, &st) == 0 && S_ISDIR(st.st_mode)) vial_app_set_root(app, dir);
}

vial_app *flaskr_create_app(const vial_value *test_config) {
    vial_app *app = vial_app_new("flaskr");
    if (!app) return NULL;
    set_root(app);
    /* a default secret that should be overridden by instance config */
    vial_config_set(app, "SECRET_KEY", "dev");
    /* store the database in the instance folder */
    vial_config_set(app, "DATABASE_URL", "sqlite:///instance/flaskr.sqlite");

    char instance[4200];
    snprintf(instance, sizeof instance, "%s/instance", vial_app_root(app));
    if (!test_config) {
        /* load the instance config, if it exists, when not testing */
        char config[4300];
        snprintf(config, sizeof config, "%s/config.json", instance);
        if (access(config, R_OK) == 0) vial_config_from_json(app, config);
    } else {
        /* load the test config if passed in */
        vial_config_update(app, test_config);
    }
    /* ensure the instance folder exists */
    if (mkdir(instance, 0755) != 0 && errno != EEXIST)
        vial_log(VIAL_LOG_WARNING, "cannot create %s: %s", instance, strerror(errno));

    vial_route(app, "/hello", VIAL_GET, hello);

    /* register the database commands */
    flaskr_db_init_app(app);
    /* apply the blueprints to the app */
    flaskr_auth_init_app(app);
    flaskr_blog_init_app(app);
    /* Flask's tutorial adds app.add_url_rule("/", endpoint="index") so that
     * url_for("index") == url_for("blog.index"); vial refuses a second rule
     * for a path that could never match it, so the port says "blog.index". */
    return app;
}
