/* Lesson "regex" - 自定义路由参数转换器: a converter of your own.
 *
 *   class RegexConverter(BaseConverter):    static int regex_setup(vial_converter_setup *s) {
 *       def __init__(self, map, *args):         s->regex = first argument; }
 *           super().__init__(map, *args)    static const vial_converter RegexConverter = {.setup = regex_setup};
 *           self.regex = args[0]
 *   app.url_map.converters["re"] = RegexConverter
 *                                           vial_add_converter(app, "re", &RegexConverter);
 *   @app.route("/sms/<re('1[3-9]\d{9}'):mobile>")
 *                                           vial_add_url_rule(app, "/sms/<re('1[3-9]\\d{9}'):mobile>", ...);
 *
 * A converter is a struct of callbacks: setup reads the arguments written
 * in the rule (here the regex) and says what the placeholder matches;
 * to_value / to_url (not needed here) turn the matched text into a value
 * and back for url_for. vial also has this `re` converter built in; this
 * lesson registers its own under the same name, exactly as the course does,
 * and the app's converter replaces the built-in one. The regexes are PCRE2,
 * written as for Python's re. */
#include <stdio.h>

#include "lessons.h"

/* self.regex = args[0]: the first argument of re(...) is what the placeholder matches. */
static int regex_setup(vial_converter_setup *s) {
    const char *regex = vial_str_of(vial_array_get(s->args, 0));
    if (!regex) {
        snprintf(s->error, sizeof s->error, "re() needs the regex as its first argument: re('\\d+')");
        return -1;
    }
    s->regex = regex;
    return 0;
}

static const vial_converter RegexConverter = {.setup = regex_setup};

static void regex_sms(vial_req *rq, vial_res *rs) {
    vial_printf(rs, "发送短信给手机号：%s的用户", vial_param(rq, "mobile"));
}

static void regex_goods(vial_req *rq, vial_res *rs) { vial_printf(rs, "显示商品id=%s的信息", vial_param(rq, "id")); }

vial_app *lesson_regex(void) {
    vial_app *app = vial_app_new("regex");
    vial_config_set_bool(app, "DEBUG", true);
    /* 添加转换器到默认的转换器字典中，并指定转换器使用时名字为: re */
    vial_add_converter(app, "re", &RegexConverter);
    /* 使用转换器去实现自定义匹配规则，当前此处定义的规则是：手机号码 */
    vial_add_url_rule(app, "/sms/<re('1[3-9]\\d{9}'):mobile>", "sms", VIAL_GET, regex_sms);
    vial_add_url_rule(app, "/goods/<re('\\d+'):id>", "goods", VIAL_GET, regex_goods);
    return app;
}
