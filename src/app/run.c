/* run.c - serving the app: from app.config and the CLI to the engine.
 *
 * The engine (src/server) knows nothing of apps; this file translates the
 * app's config (limits, timeouts, MAX_CONTENT_LENGTH, the Server header) into
 * a vial_server_config whose handler is the app's dispatch, and lets the
 * framework's own layers (database pools) start in every worker after fork. */
#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "server/server.h"

static int worker_init(void *ctx, int worker_index) {
    vial_app *app = ctx;
    for (size_t i = 0; i < app->worker_hook_count; i++)
        if (app->worker_hooks[i].start && app->worker_hooks[i].start(app, worker_index, app->worker_hooks[i].data) != 0)
            return -1;
    return 0;
}

static void worker_exit(void *ctx, int worker_index) {
    vial_app *app = ctx;
    for (size_t i = app->worker_hook_count; i-- > 0;)
        if (app->worker_hooks[i].stop) app->worker_hooks[i].stop(app, worker_index, app->worker_hooks[i].data);
}

int app_add_worker_hook(vial_app *app, const app_worker_hook *hook) {
    if (app->worker_hook_count >= sizeof app->worker_hooks / sizeof app->worker_hooks[0]) return -1;
    app->worker_hooks[app->worker_hook_count++] = *hook;
    return 0;
}

static int seconds_to_ms(vial_app *app, const char *key, int fallback_s) {
    int64_t s = vial_config_int(app, key, fallback_s);
    if (s <= 0 || s > 86400) s = fallback_s;
    return (int)(s * 1000);
}

int vial_run(vial_app *app, const char *host, int port, int workers, bool debug) {
    if (app->router_dirty) app_compile_routes(app);
    if (debug) vial_config_set_bool(app, "DEBUG", true);
    vial_server_config cfg;
    vial_server_config_init(&cfg);
    cfg.host = host;
    cfg.port = port;
    cfg.workers = workers;
    cfg.debug = debug;
    cfg.single_process = app->run_single_process;
    cfg.limits.max_request_line = (size_t)vial_config_int(app, "MAX_REQUEST_LINE", 8192);
    cfg.limits.max_header_bytes = (size_t)vial_config_int(app, "MAX_HEADER_BYTES", 16384);
    cfg.limits.max_headers = (size_t)vial_config_int(app, "MAX_HEADER_FIELDS", 100);
    /* Flask's MAX_CONTENT_LENGTH None means unlimited; the engine then streams bodies to the app. */
    int64_t max_body = vial_config_int(app, "MAX_CONTENT_LENGTH", -1);
    cfg.max_body = max_body >= 0 ? (max_body == 0 ? 1 : max_body) : -1;
    cfg.header_timeout_ms = seconds_to_ms(app, "REQUEST_HEADER_TIMEOUT", 10);
    cfg.body_timeout_ms = seconds_to_ms(app, "REQUEST_BODY_TIMEOUT", 30);
    cfg.keepalive_timeout_ms = seconds_to_ms(app, "KEEPALIVE_TIMEOUT", 75);
    cfg.graceful_timeout_ms = seconds_to_ms(app, "GRACEFUL_TIMEOUT", 30);
    const char *server_header = vial_config_str(app, "SERVER_HEADER");
    cfg.server_name = server_header ? server_header : "vial";
    cfg.handler = vial_app_handle_exchange;
    cfg.handler_ctx = app;
    cfg.worker_init = worker_init;
    cfg.worker_exit = worker_exit;
    if (debug) {
        /* Debug mode restarts when a template changes too, as Flask's reloader does. */
        static const char *watch[2];
        static char templates[4096];
        snprintf(templates, sizeof templates, "%s/%s", app->root_path, app->template_folder ? app->template_folder : "templates");
        watch[0] = templates;
        watch[1] = NULL;
        cfg.watch_files = watch;
    }
    return vial_server_run(&cfg) == 0 ? 0 : 1;
}
