/* vial_app.c - TechEmpower's /plaintext and /json on the full framework:
 * router, dispatch, hooks, response API. bench/run starts it as
 * `vial_app run --port N --workers 1` beside nginx and bench/limit.c. */
#include <vial.h>

VIAL_ROUTE(plaintext, "/plaintext", VIAL_GET) { vial_text(rs, "Hello, World!"); }

VIAL_ROUTE(json, "/json", VIAL_GET) {
    /* A fresh object serialized per request, as the benchmark's rules require. */
    vial_jsonify(rs, vial_pack(rq, "{s:s}", "message", "Hello, World!"));
}

int main(int argc, char **argv) {
    vial_app *app = vial_app_new("vial_app");
    vial_config_set_bool(app, "GZIP_ENABLED", false); /* the rules forbid compression */
    vial_app_static(app, NULL, NULL);
    return vial_main(app, argc, argv);
}
