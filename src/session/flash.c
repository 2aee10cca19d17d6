/* flash.c - flask.flash and get_flashed_messages.
 *
 * Messages wait in the session under "_flashes" as a list of (category,
 * message) tuples - the exact shape Flask stores - so a message flashed by a
 * Flask app is shown by a vial app sharing the cookie, and the other way
 * round. The first get_flashed_messages of a request pops the list from the
 * session; later calls in the same request see that same list (Flask keeps
 * it on the request context), whatever filters they ask for. */
#include <string.h>

#include "session/session_req.h"

void vial_flash(vial_req *rq, const char *message, const char *category) {
    vial_arena *a = rq->arena;
    vial_value *flashes = vial_session_get(rq, "_flashes");
    vial_value *list = vial_new_array(a);
    if (!list) vial_abort(rq, 500);
    /* session.get("_flashes", []) + append, on a copy: the stored list is replaced, not edited */
    if (flashes && flashes->type == VIAL_ARRAY)
        for (size_t i = 0; i < flashes->as.arr.len; i++) vial_array_push(list, flashes->as.arr.items[i]);
    vial_value *item = vial_new_tuple(a);
    if (!item || vial_array_push(item, vial_new_str(a, category ? category : "message")) != 0 ||
        vial_array_push(item, vial_new_str(a, message ? message : "")) != 0 || vial_array_push(list, item) != 0)
        vial_abort(rq, 500);
    vial_session_set(rq, "_flashes", list);
}

static bool category_wanted(const vial_flash_opts *o, const vial_value *category) {
    if (!o->category_filter || !o->category_filter[0]) return true;
    const char *name = vial_str_of(category);
    if (!name) return false;
    for (const char *const *c = o->category_filter; *c; c++)
        if (strcmp(*c, name) == 0) return true;
    return false;
}

vial_value *vial_get_flashed_messages_with(vial_req *rq, const vial_flash_opts *opts) {
    static const vial_flash_opts defaults = {0};
    const vial_flash_opts *o = opts ? opts : &defaults;
    session_req *s = session_req_state(rq);
    if (!s->flashes_popped) {
        s->flashes_popped = true;
        session_open(rq);
        /* session.pop("_flashes") if "_flashes" in session else []: no write to an empty or null session */
        vial_value *stored = vial_session_contains(rq, "_flashes") ? vial_session_pop(rq, "_flashes") : NULL;
        s->flashes = stored && stored->type == VIAL_ARRAY ? stored : vial_new_array(rq->arena);
    }
    vial_value *out = vial_new_array(rq->arena);
    if (!out || !s->flashes) vial_abort(rq, 500);
    for (size_t i = 0; i < s->flashes->as.arr.len; i++) {
        vial_value *item = s->flashes->as.arr.items[i];
        vial_value *category = NULL, *message = item;
        if (item->type == VIAL_ARRAY && item->as.arr.len == 2) {
            category = item->as.arr.items[0];
            message = item->as.arr.items[1];
        }
        if (!category_wanted(o, category)) continue;
        if (vial_array_push(out, o->with_categories ? item : message) != 0) vial_abort(rq, 500);
    }
    return out;
}
