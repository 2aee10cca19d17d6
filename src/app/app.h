/* app.h - the application object and the per-request objects (internal).
 *
 * A vial_app is Flask's app: config, the URL map, hooks, error handlers,
 * blueprints, CLI commands. It is built once in main() before the server
 * forks, then only read by the workers, so it needs no locking. A vial_req
 * and vial_res live in the request arena and wrap the exchange the server
 * handed over; everything on them that needs parsing (args, form, cookies,
 * JSON) is parsed on first use and kept. */
#ifndef VIAL_APP_APP_H
#define VIAL_APP_APP_H

#include <setjmp.h>

#include "http/exchange.h"
#include "vial.h"

#define VIAL_MAX_HOOKS 32

typedef struct app_route {
    char *rule;
    char *endpoint;
    unsigned methods;
    vial_handler fn;
    const vial_method_table *method_view; /* non-NULL for method views */
    vial_bp *bp;                          /* NULL for app-level routes */
    bool csrf_exempt;
    bool disabled; /* a static rule switched off */
} app_route;

typedef struct error_handler {
    int code;
    vial_error_handler fn;
} error_handler;

typedef struct hook_set {
    vial_before_hook before[VIAL_MAX_HOOKS];
    size_t before_count;
    vial_after_hook after[VIAL_MAX_HOOKS];
    size_t after_count;
    vial_teardown_hook teardown[VIAL_MAX_HOOKS];
    size_t teardown_count;
    error_handler errors[64];
    size_t error_count;
} hook_set;

struct vial_bp {
    vial_app *app;
    char *name;
    char *url_prefix;
    char *static_folder;   /* NULL: none */
    char *static_url_path; /* default: url_prefix + "/static" */
    char *template_folder;
    hook_set hooks;
};

typedef struct cli_option {
    char *long_name; /* without the leading dashes */
    char short_name;
    char *help;
    char *default_value;
    bool is_flag;
    const char *value; /* after parsing */
    bool seen;
} cli_option;

struct vial_cmd {
    char *name;
    char *help;
    vial_command_fn fn;
    cli_option options[16];
    size_t option_count;
    int argc;
    char **argv;
    vial_app *app;
};

/* Hooks of the framework's own layers (sessions, CSRF, database), run around
 * the user's: before → ahead of before_request, after → after after_request,
 * teardown → after the user's teardowns. */
typedef struct app_extension {
    bool (*before)(vial_req *rq, vial_res *rs, void *data);
    void (*after)(vial_req *rq, vial_res *rs, void *data);
    void (*teardown)(vial_req *rq, int status, void *data);
    void *data;
} app_extension;

/* Started in every worker after fork (database pools), stopped when it exits. */
typedef struct app_worker_hook {
    int (*start)(vial_app *app, int worker_index, void *data);
    void (*stop)(vial_app *app, int worker_index, void *data);
    void *data;
} app_worker_hook;

/* Config values read on every request, converted once per config change
 * (a hash lookup and a type check per read would cost more than routing). */
typedef struct app_settings {
    uint64_t version; /* the config_version these were computed from */
    bool debug;
    int proxy_x_for, proxy_x_proto, proxy_x_host;
    bool json_sort_keys, json_as_ascii, json_pretty;
    const char *json_mimetype;
    int json_max_depth;
    bool gzip_enabled;
    int64_t gzip_min_size;
    int gzip_level;
    int64_t max_content_length; /* -1: none */
} app_settings;

struct vial_app {
    char *name;
    vial_arena *arena; /* app lifetime */
    vial_value *config;
    app_route *routes;
    size_t route_count, route_cap;
    vial_router *router;  /* the URL map */
    size_t *route_map;    /* router rule index -> routes index */
    size_t route_map_cap;
    struct {
        char *name;
        vial_converter conv;
    } converters[16];
    size_t converter_count;
    size_t *route_order; /* routes in match order, for `routes --sort match` */
    int (*db_command)(vial_app *app, const char *prog, int argc, char **argv); /* set by the db layer */
    bool router_dirty;
    hook_set hooks;
    vial_bp *bps[64];
    size_t bp_count;
    vial_cmd *cmds[64];
    size_t cmd_count;
    char *root_path;       /* folder of templates/, static/, instance/ */
    char *static_folder;   /* "static" relative to root_path; NULL disables */
    char *static_url_path; /* "/static" */
    char *template_folder; /* "templates" */
    void *extensions[16];  /* session, templates, db: owned by their layers */
    app_extension ext[8];
    size_t extension_count;
    app_worker_hook worker_hooks[8];
    size_t worker_hook_count;
    const char *last_error;
    bool run_single_process;
    bool setup_failed; /* a route, hook or blueprint could not be registered */
    uint64_t config_version;
    app_settings settings;
};

typedef struct g_entry {
    const char *key;
    void *ptr;
} g_entry;

struct vial_req {
    vial_exchange *ex;
    vial_app *app;
    vial_arena *arena;
    vial_res *res;
    const app_route *route;
    vial_value *view_args; /* object: converted URL parameters */
    jmp_buf *abort_jmp;
    int abort_code;
    const char *abort_file, *abort_func; /* where vial_abort was called (debug page) */
    int abort_line;
    unsigned allow_bits; /* the rule's methods, for 405 and OPTIONS' Allow */
    const char *abort_description;
    const char *abort_detail; /* preformatted detail for the debug page (a template excerpt) */
    vial_value *g;
    g_entry g_ptrs[16];
    size_t g_ptr_count;
    /* lazily parsed parts */
    bool args_parsed, form_parsed, cookies_parsed, data_read, json_loaded;
    void *args, *form, *files, *cookies; /* vial_multidict * (forms layer) */
    vial_str data;
    vial_value *json;
    const char *path;
    char *url, *base_url, *full_path, *root_url, *remote_addr;
    void *session;    /* session layer's per-request state */
    void *template_ctx;
    void *db;         /* db layer's per-request state */
};

struct vial_res {
    vial_req *rq;
    vial_http_response *http;
    vial_buf body;
    bool content_type_set;
};

/* app.c */
int app_add_route(vial_app *app, vial_bp *bp, const char *rule, const char *endpoint, unsigned methods,
                  vial_handler fn, const vial_method_table *view);

/* dispatch.c */
void vial_app_handle_exchange(void *app, vial_exchange *ex);
void app_dispatch(vial_app *app, vial_exchange *ex, vial_req *rq, vial_res *rs);
int app_add_extension(vial_app *app, const app_extension *ext);
void app_compile_routes(vial_app *app);

/* errors.c */
void app_default_error_page(vial_res *rs, int code, const char *description);
void app_debug_error_page(vial_req *rq, vial_res *rs, int code);
const char *app_error_description(int code);

/* response.c */
void res_init(vial_res *rs, vial_req *rq, vial_http_response *http);
void res_finalize(vial_res *rs);
void res_clear(vial_res *rs);
void res_set_content_type_static(vial_res *rs, const char *mimetype);

/* request.c */
char *app_url_unquote(vial_arena *a, const char *src, size_t n);

/* gzip.c */
void app_maybe_gzip(vial_req *rq, vial_res *rs);

/* The Allow header value for the request's matched methods. */
const char *app_allow_header(vial_req *rq);

/* config.c */
void app_config_defaults(vial_app *app);
/* The hot config values, recomputed when the config changed. */
const app_settings *app_settings_get(vial_app *app);

/* run.c */
int app_add_worker_hook(vial_app *app, const app_worker_hook *hook);

#endif
