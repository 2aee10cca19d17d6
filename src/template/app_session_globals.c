/* app_session_globals.c - the session's template globals: session,
 * get_flashed_messages(with_categories=..., category_filter=...) and
 * csrf_token(), as Flask and Flask-WTF put them in every template. */
#include <string.h>

#include "app/app.h"
#include "template/app_render.h"

static vial_value *fn_get_flashed_messages(vial_tpl_call *call) {
    vial_req *rq = call->user;
    if (!rq) return vial_new_array(call->arena);
    vial_flash_opts opts = {0};
    vial_value *with = vial_tpl_arg(call, 0, "with_categories");
    opts.with_categories = with && vial_truthy(with);
    vial_value *filter = vial_tpl_arg(call, 1, "category_filter");
    if (filter && (filter->type == VIAL_ARRAY || filter->type == VIAL_STRING)) {
        /* A list of categories (a single string is taken as one, not as its characters). */
        size_t n = filter->type == VIAL_ARRAY ? filter->as.arr.len : 1;
        const char **names = vial_arena_calloc(call->arena, (n + 1) * sizeof *names);
        if (!names) return vial_tpl_fail(call, "out of memory");
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            const vial_value *v = filter->type == VIAL_ARRAY ? filter->as.arr.items[i] : filter;
            if (v->type == VIAL_STRING) names[k++] = v->as.s.ptr;
        }
        if (k) opts.category_filter = names;
    }
    return vial_get_flashed_messages_with(rq, &opts);
}

static vial_value *fn_csrf_token(vial_tpl_call *call) {
    vial_req *rq = call->user;
    if (!rq) return vial_tpl_fail(call, "csrf_token() needs a request");
    const char *token = vial_csrf_token(rq);
    if (!token) return vial_tpl_fail(call, "csrf_token(): %s", "the session is unavailable (no SECRET_KEY?)");
    return vial_new_str(call->arena, token);
}

vial_value *app_template_resolve_session(vial_req *rq, vial_arena *a, const char *name, size_t len) {
    (void)a;
    if (len == 7 && memcmp(name, "session", 7) == 0) return (vial_value *)vial_session(rq);
    return NULL;
}

void app_template_register_session(vial_tpl_env *env) {
    vial_tpl_add_function(env, "get_flashed_messages", fn_get_flashed_messages, NULL);
    vial_tpl_add_function(env, "csrf_token", fn_csrf_token, NULL);
}
