/* app_render.c - render_template for the app: the environment Flask would
 * configure, and the context every template sees.
 *
 * One environment per app (per worker process after fork, so compiled
 * templates need no locking): the app's templates/ folder first, then each
 * blueprint's template folder, autoescape for .html/.htm/.xml names (Flask's
 * select_autoescape), recompilation on change when TEMPLATES_AUTO_RELOAD (or
 * DEBUG) is on. Flask's context globals are served on demand: url_for and
 * friends are C functions that find the request through the render's user
 * pointer, and request / g / config are built only when a template names
 * them, so a template that uses none of them pays nothing. */
#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "template/app_render.h"

#define TEMPLATE_EXTENSION_SLOT 1 /* app->extensions[]: session, templates, db (app.h) */

typedef struct template_app {
    vial_tpl_env *env;
    uint64_t config_version; /* options follow the config */
    size_t bps_seen;         /* blueprints whose template folder is on the search path */
} template_app;

/* Blueprints registered after the environment was made still get their folder searched. */
static void add_blueprint_paths(vial_app *app, template_app *ta) {
    for (; ta->bps_seen < app->bp_count; ta->bps_seen++) {
        vial_bp *bp = app->bps[ta->bps_seen];
        if (bp->template_folder)
            vial_tpl_add_path(ta->env, vial_arena_sprintf(app->arena, "%s/%s", app->root_path, bp->template_folder));
    }
}

/* ---- Flask's template globals ---- */

static vial_value *fn_url_for(vial_tpl_call *call) {
    vial_req *rq = call->user;
    vial_value *endpoint = vial_tpl_arg(call, 0, "endpoint");
    if (!rq) return vial_tpl_fail(call, "url_for needs a request (render_template outside a request)");
    if (!endpoint || endpoint->type != VIAL_STRING) return vial_tpl_fail(call, "url_for() needs an endpoint name");
    vial_value *values = vial_new_object(call->arena);
    if (call->kwargs && call->kwargs->type == VIAL_OBJECT)
        for (size_t i = 0; i < call->kwargs->as.obj.len; i++) {
            const vial_member *m = &call->kwargs->as.obj.items[i];
            /* Copied: a key from the template may not be NUL-terminated at key_len. */
            if (!(m->key_len == 8 && memcmp(m->key, "endpoint", 8) == 0)) vial_object_setn(values, m->key, m->key_len, m->value);
        }
    char *url = vial_url_for_value(rq, endpoint->as.s.ptr, values);
    return vial_new_str(call->arena, url);
}

/* request: the attributes templates use, built once per request on first use. */
static vial_value *request_object(vial_req *rq, vial_arena *a) {
    if (rq->template_ctx) return rq->template_ctx;
    vial_value *r = vial_new_object(a);
    vial_object_set(r, "method", vial_new_str(a, vial_method(rq)));
    vial_object_set(r, "path", vial_new_str(a, vial_path(rq)));
    vial_object_set(r, "full_path", vial_new_str(a, vial_full_path(rq)));
    vial_object_set(r, "url", vial_new_str(a, vial_url(rq)));
    vial_object_set(r, "base_url", vial_new_str(a, vial_base_url(rq)));
    vial_object_set(r, "url_root", vial_new_str(a, vial_root_url(rq)));
    vial_object_set(r, "root_url", vial_new_str(a, vial_root_url(rq)));
    vial_object_set(r, "host", vial_new_str(a, vial_host(rq)));
    vial_object_set(r, "scheme", vial_new_str(a, vial_scheme(rq)));
    vial_object_set(r, "remote_addr", vial_new_str(a, vial_remote_addr(rq)));
    vial_str q = vial_query_string(rq);
    vial_object_set(r, "query_string", vial_new_strn(a, q.ptr, q.len));
    const char *endpoint = vial_endpoint(rq), *bp = vial_blueprint_name(rq);
    vial_object_set(r, "endpoint", endpoint ? vial_new_str(a, endpoint) : vial_value_null());
    vial_object_set(r, "blueprint", bp ? vial_new_str(a, bp) : vial_value_null());
    vial_object_set(r, "view_args", rq->view_args ? rq->view_args : vial_new_object(a));
    vial_object_set(r, "user_agent", vial_new_str(a, vial_user_agent(rq)));
    vial_object_set(r, "headers", vial_headers(rq));
    /* MultiDicts become objects of first values: request.args.get('page') works as in Jinja2. */
    const struct {
        const char *name;
        const vial_multidict *md;
    } dicts[] = {{"args", vial_args(rq)}, {"cookies", vial_cookies(rq)}};
    for (size_t d = 0; d < sizeof dicts / sizeof dicts[0]; d++) {
        vial_value *o = vial_new_object(a);
        for (size_t i = 0; dicts[d].md && i < dicts[d].md->len; i++) {
            const vial_pair *p = &dicts[d].md->items[i];
            if (!vial_object_getn(o, p->key.ptr, p->key.len))
                vial_object_setn(o, p->key.ptr, p->key.len, vial_new_strn(a, p->value.ptr, p->value.len));
        }
        vial_object_set(r, dicts[d].name, o);
    }
    /* The form only when the body was already parsed as one: rendering must not consume it. */
    vial_value *form = vial_new_object(a);
    if (rq->form_parsed && rq->form) {
        const vial_multidict *md = rq->form;
        for (size_t i = 0; i < md->len; i++)
            if (!vial_object_getn(form, md->items[i].key.ptr, md->items[i].key.len))
                vial_object_setn(form, md->items[i].key.ptr, md->items[i].key.len,
                                 vial_new_strn(a, md->items[i].value.ptr, md->items[i].value.len));
    }
    vial_object_set(r, "form", form);
    rq->template_ctx = r;
    return r;
}

static vial_value *resolve_global(void *user, vial_arena *a, const char *name, size_t len) {
    vial_req *rq = user;
    if (!rq) return NULL;
    if (len == 7 && memcmp(name, "request", 7) == 0) return request_object(rq, a);
    if (len == 1 && name[0] == 'g') {
        if (!rq->g) rq->g = vial_new_object(rq->arena);
        return rq->g;
    }
    if (len == 6 && memcmp(name, "config", 6) == 0) return (vial_value *)vial_config(rq->app);
    return app_template_resolve_session(rq, a, name, len);
}

/* ---- the environment ---- */

static void apply_options(vial_app *app, template_app *ta) {
    vial_tpl_options *o = vial_tpl_env_options(ta->env);
    const vial_value *reload = vial_config_get(app, "TEMPLATES_AUTO_RELOAD");
    o->auto_reload = reload && reload->type != VIAL_NULL ? vial_truthy(reload) : vial_config_bool(app, "DEBUG", false);
    ta->config_version = app->config_version;
}

/* vial_app_free: the environment (malloc'd, compiled templates) goes with the app. */
static void env_free(void *env) { vial_tpl_env_free(env); }

vial_tpl_env *vial_template_env(vial_app *app) {
    template_app *ta = app->extensions[TEMPLATE_EXTENSION_SLOT];
    if (ta) {
        if (ta->config_version != app->config_version) apply_options(app, ta);
        if (ta->bps_seen != app->bp_count) add_blueprint_paths(app, ta);
        return ta->env;
    }
    ta = vial_arena_calloc(app->arena, sizeof *ta);
    if (!ta) return NULL;
    vial_tpl_options opt = {.autoescape = VIAL_TPL_AUTOESCAPE_BY_NAME};
    ta->env = vial_tpl_env_new(&opt);
    if (!ta->env) return NULL;
    if (vial_arena_defer(app->arena, env_free, ta->env) != 0) {
        vial_tpl_env_free(ta->env);
        return NULL;
    }
    /* Flask's loader: the app's folder, then every blueprint's, in registration order. */
    if (app->template_folder)
        vial_tpl_add_path(ta->env, vial_arena_sprintf(app->arena, "%s/%s", app->root_path, app->template_folder));
    add_blueprint_paths(app, ta);
    vial_tpl_add_function(ta->env, "url_for", fn_url_for, NULL);
    app_template_register_session(ta->env);
    apply_options(app, ta);
    app->extensions[TEMPLATE_EXTENSION_SLOT] = ta;
    return ta->env;
}

int vial_template_filter(vial_app *app, const char *name, vial_tpl_fn fn, void *data) {
    vial_tpl_env *env = vial_template_env(app);
    return env ? vial_tpl_add_filter(env, name, fn, data) : -1;
}

int vial_template_test(vial_app *app, const char *name, vial_tpl_fn fn, void *data) {
    vial_tpl_env *env = vial_template_env(app);
    return env ? vial_tpl_add_test(env, name, fn, data) : -1;
}

int vial_template_function(vial_app *app, const char *name, vial_tpl_fn fn, void *data) {
    vial_tpl_env *env = vial_template_env(app);
    return env ? vial_tpl_add_function(env, name, fn, data) : -1;
}

int vial_template_global(vial_app *app, const char *name, const vial_value *value) {
    vial_tpl_env *env = vial_template_env(app);
    return env ? vial_tpl_add_global(env, name, value) : -1;
}

/* ---- rendering ---- */

/* A template error is a 500 (Flask raises); the log and, in debug mode, the
 * error page say where, with the lines around it. */
static VIAL_NORETURN void template_failed(vial_req *rq, vial_tpl_env *env, const vial_tpl_error *err, bool from_file) {
    vial_buf where;
    vial_buf_init(&where, rq->arena, 4096);
    vial_tpl_error_format(err, &where);
    vial_buf excerpt;
    vial_buf_init(&excerpt, rq->arena, 16384);
    if (from_file && err->line > 0) vial_tpl_error_excerpt(env, err, 3, &excerpt);
    if (excerpt.len) rq->abort_detail = vial_buf_cstr(&excerpt);
    vial_abort_msg(rq, 500, "template error: %s", vial_buf_cstr(&where));
}

static int render(vial_req *rq, vial_buf *out, const char *name, const char *source, size_t len, const vial_value *ctx) {
    vial_tpl_env *env = vial_template_env(rq->app);
    if (!env) vial_abort_msg(rq, 500, "the template environment could not be created");
    vial_tpl_render_args extra = {.user = rq, .resolve = resolve_global};
    vial_tpl_error err;
    int rc = name ? vial_tpl_render(env, name, ctx, &extra, rq->arena, out, &err)
                  : vial_tpl_render_string(env, source, len, ctx, &extra, rq->arena, out, &err);
    if (rc != 0) template_failed(rq, env, &err, name != NULL);
    return 0;
}

int vial_render(vial_res *rs, const char *name, const vial_value *ctx) {
    vial_buf_reset(&rs->body);
    rs->http->body_kind = VIAL_BODY_BYTES;
    render(rs->rq, &rs->body, name, NULL, 0, ctx);
    res_set_content_type_static(rs, "text/html; charset=utf-8");
    return 0;
}

int vial_render_string(vial_res *rs, const char *source, const vial_value *ctx) {
    vial_buf_reset(&rs->body);
    rs->http->body_kind = VIAL_BODY_BYTES;
    render(rs->rq, &rs->body, NULL, source, source ? strlen(source) : 0, ctx);
    res_set_content_type_static(rs, "text/html; charset=utf-8");
    return 0;
}

char *vial_render_template(vial_req *rq, const char *name, const vial_value *ctx) {
    vial_buf out;
    vial_buf_init(&out, rq->arena, 0);
    render(rq, &out, name, NULL, 0, ctx);
    return (char *)vial_buf_cstr(&out);
}
