/* app_render.h - the template layer's hooks into sessions (internal). */
#ifndef VIAL_TEMPLATE_APP_RENDER_H
#define VIAL_TEMPLATE_APP_RENDER_H

#include "vial.h"

/* session, and the functions get_flashed_messages and csrf_token, from the session layer. */
vial_value *app_template_resolve_session(vial_req *rq, vial_arena *a, const char *name, size_t len);
void app_template_register_session(vial_tpl_env *env);

#endif
