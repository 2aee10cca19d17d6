/* Lesson "config" - flask加载项目配置的二种方式: app.config, set two ways.
 *
 *   app.config["DEBUG"] = False             vial_config_set_bool(app, "DEBUG", false);
 *   app.config.update({"DEBUG": True})      vial_config_update(app, vial_pack_in(arena, "{s:b}", "DEBUG", true));
 *
 * Both run here, in the course's order, so DEBUG ends up true, as in the
 * course. `./tutorial config config` prints the effective configuration
 * (Flask's well-known keys with Flask's defaults, secrets masked). */
#include "lessons.h"

static void config_index(vial_req *rq, vial_res *rs) {
    (void)rq;
    vial_html(rs, "<h1>hello flask</h1>");
}

vial_app *lesson_config(void) {
    vial_app *app = vial_app_new("config");

    /* 第一种：app.config["配置项"] = 配置项值 */
    vial_config_set_bool(app, "DEBUG", false);
    /* (or from text, converted to the key's type: vial_config_set(app, "DEBUG", "false")) */

    /* 第二种：app.config.update(config), from a table of keys */
    vial_value *config = vial_pack_in(vial_app_arena(app), "{s:b}", "DEBUG", true);
    vial_config_update(app, config);

    vial_add_url_rule(app, "/", "index", VIAL_GET, config_index);
    return app;
}
