/* eval.c - expressions.
 *
 * vial_tpl_eval walks an expression tree and returns a value from the context,
 * a constant from the compiled template, or a new value in the render arena;
 * NULL means an error was recorded in the render state. Attribute access
 * follows Jinja2's environment.getattr (Python attribute first, then item:
 * `d.items` is the dict method even when d has an "items" key) and subscripts
 * its getitem (item first, then attribute); a miss yields an undefined value
 * that remembers what was missing for its error message. Calls of the form
 * obj.method(...) on strings, lists and dicts dispatch straight to methods.c
 * without creating a bound-method value. */
#include "template/tpl.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define MAX_ARGS_ON_STACK 8

/* ---- errors ---- */

static void record(tpl_render *r, const tpl_node *site, int kind, const char *fmt, va_list ap) {
    if (r->failed) return;
    r->failed = true;
    tpl_err *e = r->err;
    e->kind = kind;
    vial_tpl_err_where(e, r->tmpl);
    const tpl_node *stmt = r->stmt ? r->stmt : site;
    if (stmt) {
        e->line = (int)stmt->line;
        e->column = (int)(site && site->line == stmt->line ? site->col : stmt->col);
    } else {
        e->line = e->column = 0;
    }
    vsnprintf(e->message, sizeof e->message, fmt, ap);
}

int vial_tpl_raise(tpl_render *r, const tpl_node *site, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    record(r, site, VIAL_TPL_ERR_RUNTIME, fmt, ap);
    va_end(ap);
    return -1;
}

vial_value *vial_tpl_failv(tpl_render *r, const tpl_node *site, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    record(r, site, VIAL_TPL_ERR_RUNTIME, fmt, ap);
    va_end(ap);
    return NULL;
}

static void record_kind(tpl_render *r, const tpl_node *site, int kind, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    record(r, site, kind, fmt, ap);
    va_end(ap);
}

vial_value *vial_tpl_oom(tpl_render *r, const tpl_node *site) {
    record_kind(r, site, VIAL_TPL_ERR_MEMORY, "out of memory while rendering the template");
    return NULL;
}

/* ---- undefined ---- */

vial_value *vial_tpl_undefined(tpl_render *r, const char *hint, const vial_value *obj, const char *name, size_t len) {
    tpl_undef *u = vial_tpl_obj_new(r->arena, sizeof *u, TK_UNDEF);
    if (!u) return vial_tpl_oom(r, NULL);
    u->hint = hint;
    u->obj = obj;
    u->name = (vial_str){name, len};
    return &u->h.base;
}

vial_value *vial_tpl_undefined_index(tpl_render *r, const vial_value *obj, vial_value *index) {
    tpl_undef *u = vial_tpl_obj_new(r->arena, sizeof *u, TK_UNDEF);
    if (!u) return vial_tpl_oom(r, NULL);
    u->obj = obj;
    u->has_index = true;
    u->index = index;
    return &u->h.base;
}

const char *vial_tpl_undef_message(tpl_render *r, const vial_value *v) {
    const tpl_undef *u = (const tpl_undef *)v;
    if (u->hint) return u->hint;
    vial_buf b;
    vial_buf_init(&b, r->arena, 1024);
    if (!u->obj) {
        vial_value name = {.type = VIAL_STRING};
        name.as.s.ptr = u->name.ptr ? u->name.ptr : "";
        name.as.s.len = u->name.len;
        vial_tv_repr(r, &b, &name);
        tb_puts(&b, " is undefined");
    } else if (u->has_index) {
        vial_buf_printf(&b, "%s has no element ", vial_tv_object_type_repr(u->obj));
        vial_tv_repr(r, &b, u->index);
    } else {
        vial_buf_printf(&b, "'%s' has no attribute ", vial_tv_object_type_repr(u->obj));
        vial_value name = {.type = VIAL_STRING};
        name.as.s.ptr = u->name.ptr;
        name.as.s.len = u->name.len;
        vial_tv_repr(r, &b, &name);
    }
    return vial_buf_cstr(&b);
}

int vial_tpl_undef_fail(tpl_render *r, const tpl_node *site, const vial_value *u) {
    return vial_tpl_raise(r, site, "%s", vial_tpl_undef_message(r, u));
}

/* ---- attribute and item access ---- */

static vial_value *loop_attr(tpl_render *r, const tpl_node *site, tpl_loop *l, const char *name, size_t len);
static vial_value *cycler_attr(tpl_render *r, tpl_cycler *c, const char *name, size_t len);

static bool eq(const char *name, size_t len, const char *lit) {
    return len == strlen(lit) && memcmp(name, lit, len) == 0;
}

static vial_value *bound_method(tpl_render *r, vial_value *self, const char *name, size_t len) {
    tpl_func *f = vial_tpl_obj_new(r->arena, sizeof *f, TK_FUNC);
    if (!f) return vial_tpl_oom(r, NULL);
    f->fkind = FN_METHOD;
    f->self = self;
    f->name = vial_arena_strndup(r->arena, name, len);
    if (!f->name) return vial_tpl_oom(r, NULL);
    return &f->h.base;
}

static vial_value *block_ref(tpl_render *r, tpl_context *ctx, const tpl_block_stack *stack, uint32_t depth,
                             const char *name) {
    tpl_func *f = vial_tpl_obj_new(r->arena, sizeof *f, TK_FUNC);
    if (!f) return vial_tpl_oom(r, NULL);
    f->fkind = FN_BLOCK;
    f->ctx = ctx;
    f->stack = stack;
    f->depth = depth;
    f->name = name;
    return &f->h.base;
}

static const tpl_block_stack *find_stack(tpl_context *ctx, const char *name, size_t len) {
    for (uint32_t i = 0; i < ctx->nblocks; i++)
        if (ctx->blocks[i].name.len == len && memcmp(ctx->blocks[i].name.ptr, name, len) == 0) return &ctx->blocks[i];
    return NULL;
}

vial_value *vial_tpl_getattr(tpl_render *r, const tpl_node *site, vial_value *obj, const char *name, size_t len) {
    switch (tv_kind(obj)) {
    case TK_OBJECT: {
        if (vial_tpl_has_method(obj, name, len)) return bound_method(r, obj, name, len);
        vial_value *v = vial_object_getn(obj, name, len);
        if (v) return v;
        break;
    }
    case TK_ARRAY:
        if (obj->tag == TPL_TAG_GROUP && obj->as.arr.len == 2) {
            if (eq(name, len, "grouper")) return obj->as.arr.items[0];
            if (eq(name, len, "list")) return obj->as.arr.items[1];
        }
        if (vial_tpl_has_method(obj, name, len)) return bound_method(r, obj, name, len);
        break;
    case TK_STRING:
        if (vial_tpl_has_method(obj, name, len)) return bound_method(r, obj, name, len);
        break;
    case TK_INT:
    case TK_BOOL:
    case TK_DOUBLE:
        if (eq(name, len, "real")) return obj->type == VIAL_BOOL ? vial_tv_int(r, obj->as.b) : obj;
        if (eq(name, len, "imag")) return obj->type == VIAL_DOUBLE ? vial_tv_double(r, 0.0) : vial_tv_int(r, 0);
        if (vial_tpl_has_method(obj, name, len)) return bound_method(r, obj, name, len);
        break;
    case TK_UNDEF: vial_tpl_undef_fail(r, site, obj); return NULL;
    case TK_LOOP: {
        vial_value *v = loop_attr(r, site, (tpl_loop *)obj, name, len);
        if (v || r->failed) return v;
        break;
    }
    case TK_NAMESPACE: {
        vial_value *v = vial_object_getn(((tpl_ns *)obj)->attrs, name, len);
        if (v) return v;
        break;
    }
    case TK_CYCLER: {
        vial_value *v = cycler_attr(r, (tpl_cycler *)obj, name, len);
        if (v || r->failed) return v;
        break;
    }
    case TK_MODULE: {
        vial_value *v = vial_object_getn(((tpl_module *)obj)->exports, name, len);
        if (v) return v;
        break;
    }
    case TK_SELF: {
        tpl_selfref *s = (tpl_selfref *)obj;
        const tpl_block_stack *st = find_stack(s->ctx, name, len);
        if (st) return block_ref(r, s->ctx, st, 0, vial_arena_strndup(r->arena, name, len));
        return vial_tpl_failv(r, site, "'%.*s'", (int)len, name); /* KeyError from context.blocks */
    }
    case TK_FUNC: {
        tpl_func *f = (tpl_func *)obj;
        if (f->fkind == FN_BLOCK && eq(name, len, "super")) {
            if (f->depth + 1 >= f->stack->n)
                return vial_tpl_undefined(r, vial_arena_sprintf(r->arena, "there is no parent block called '%s'.", f->name),
                                     NULL, "super", 5);
            return block_ref(r, f->ctx, f->stack, f->depth + 1, f->name);
        }
        break;
    }
    case TK_MACRO: {
        tpl_macro *m = (tpl_macro *)obj;
        if (eq(name, len, "name")) return m->def->call ? vial_value_null() : vial_new_str_ref(r->arena, m->def->name.ptr, m->def->name.len);
        if (eq(name, len, "arguments")) {
            vial_value **items = vial_arena_alloc(r->arena, (m->def->nparams + 1) * sizeof *items);
            if (!items) return vial_tpl_oom(r, site);
            for (uint32_t i = 0; i < m->def->nparams; i++) {
                items[i] = vial_new_str_ref(r->arena, m->def->params[i].ptr, m->def->params[i].len);
                if (!items[i]) return vial_tpl_oom(r, site);
            }
            return vial_tv_tuple(r, m->def->nparams, items);
        }
        if (eq(name, len, "catch_kwargs")) return vial_tv_bool(m->def->uses_kwargs);
        if (eq(name, len, "catch_varargs")) return vial_tv_bool(m->def->uses_varargs);
        if (eq(name, len, "caller")) return vial_tv_bool(m->def->uses_caller);
        break;
    }
    case TK_RANGE: {
        tpl_range *rg = (tpl_range *)obj;
        if (eq(name, len, "start")) return vial_tv_int(r, rg->start);
        if (eq(name, len, "stop")) return vial_tv_int(r, rg->stop);
        if (eq(name, len, "step")) return vial_tv_int(r, rg->step);
        if (vial_tpl_has_method(obj, name, len)) return bound_method(r, obj, name, len);
        break;
    }
    case TK_JOINER: {
        tpl_joiner *j = (tpl_joiner *)obj;
        if (eq(name, len, "sep")) return j->sep;
        if (eq(name, len, "used")) return vial_tv_bool(j->used);
        break;
    }
    default: break;
    }
    return vial_tpl_undefined(r, NULL, obj, name, len);
}

static bool as_index(const vial_value *v, int64_t *out) {
    if (v->type == VIAL_INT) {
        *out = v->as.i;
        return true;
    }
    if (v->type == VIAL_BOOL) {
        *out = v->as.b;
        return true;
    }
    return false;
}

vial_value *vial_tpl_getitem(tpl_render *r, const tpl_node *site, vial_value *obj, vial_value *key) {
    int k = tv_kind(obj);
    int64_t idx;
    switch (k) {
    case TK_OBJECT:
        if (key->type == VIAL_STRING) {
            vial_value *v = vial_object_getn(obj, key->as.s.ptr, key->as.s.len);
            if (v) return v;
            if (vial_tpl_has_method(obj, key->as.s.ptr, key->as.s.len))
                return bound_method(r, obj, key->as.s.ptr, key->as.s.len);
            return vial_tpl_undefined(r, NULL, obj, key->as.s.ptr, key->as.s.len);
        }
        if (tv_kind(key) == TK_UNDEF) return vial_tpl_undefined_index(r, obj, key);
        return vial_tpl_undefined_index(r, obj, key);
    case TK_ARRAY:
        if (obj->tag == TPL_TAG_KEYS || obj->tag == TPL_TAG_VALUES || obj->tag == TPL_TAG_ITEMS)
            return vial_tpl_undefined_index(r, obj, key);
        if (as_index(key, &idx)) {
            int64_t n = (int64_t)obj->as.arr.len;
            if (idx < 0) idx += n;
            if (idx >= 0 && idx < n) return obj->as.arr.items[idx];
            return vial_tpl_undefined_index(r, obj, key);
        }
        break;
    case TK_STRING:
        if (as_index(key, &idx)) {
            int64_t n = (int64_t)vial_tv_cp_len(obj->as.s.ptr, obj->as.s.len);
            if (idx < 0) idx += n;
            if (idx >= 0 && idx < n) {
                size_t off = vial_tv_cp_offset(obj->as.s.ptr, obj->as.s.len, (size_t)idx);
                uint32_t cp;
                size_t cl = vial_tv_next_cp(obj->as.s.ptr + off, obj->as.s.len - off, &cp);
                vial_value *c = vial_new_str_ref(r->arena, obj->as.s.ptr + off, cl);
                if (!c) return vial_tpl_oom(r, site);
                c->flags = obj->flags & VIAL_FLAG_SAFE;
                return c;
            }
            return vial_tpl_undefined_index(r, obj, key);
        }
        break;
    case TK_RANGE:
        if (as_index(key, &idx)) {
            tpl_range *rg = (tpl_range *)obj;
            int64_t n = vial_tpl_range_len(rg);
            if (idx < 0) idx += n;
            if (idx >= 0 && idx < n) return vial_tv_int(r, rg->start + idx * rg->step);
            return vial_tpl_undefined_index(r, obj, key);
        }
        break;
    case TK_UNDEF: vial_tpl_undef_fail(r, site, obj); return NULL;
    default: break;
    }
    if (key->type == VIAL_STRING) return vial_tpl_getattr(r, site, obj, key->as.s.ptr, key->as.s.len);
    return vial_tpl_undefined_index(r, obj, key);
}

/* Python slice semantics for lists, tuples, strings and ranges. */
static int slice_bound(tpl_render *r, const tpl_node *site, const vial_value *v, bool *present, int64_t *out) {
    *present = false;
    if (!v || v->type == VIAL_NULL) return 0;
    if (tv_kind(v) == TK_UNDEF) {
        if (r->strict) return vial_tpl_undef_fail(r, site, v);
        return vial_tpl_raise(r, site, "slice indices must be integers or None or have an __index__ method");
    }
    if (!as_index(v, out)) return vial_tpl_raise(r, site, "slice indices must be integers or None or have an __index__ method");
    *present = true;
    return 0;
}

static vial_value *eval_slice(tpl_render *r, tpl_frame *f, const tpl_node *n) {
    vial_value *obj = vial_tpl_eval(r, f, n->u.slice.obj);
    if (!obj) return NULL;
    vial_value *sv[3] = {NULL, NULL, NULL};
    const tpl_node *parts[3] = {n->u.slice.start, n->u.slice.stop, n->u.slice.step};
    for (int i = 0; i < 3; i++)
        if (parts[i] && !(sv[i] = vial_tpl_eval(r, f, parts[i]))) return NULL;
    int k = tv_kind(obj);
    if (k == TK_UNDEF) {
        vial_tpl_undef_fail(r, n, obj);
        return NULL;
    }
    if (k == TK_OBJECT) return vial_tpl_failv(r, n, "unhashable type: 'slice'");
    if (k != TK_ARRAY && k != TK_STRING && k != TK_RANGE)
        return vial_tpl_failv(r, n, "'%s' object is not subscriptable", vial_tv_type_name(obj));
    bool has[3];
    int64_t val[3] = {0, 0, 1};
    for (int i = 0; i < 3; i++)
        if (slice_bound(r, n, sv[i], &has[i], &val[i]) != 0) return NULL;
    int64_t step = has[2] ? val[2] : 1;
    if (step == 0) return vial_tpl_failv(r, n, "slice step cannot be zero");
    int64_t len = k == TK_ARRAY    ? (int64_t)obj->as.arr.len
                  : k == TK_STRING ? (int64_t)vial_tv_cp_len(obj->as.s.ptr, obj->as.s.len)
                                   : vial_tpl_range_len((tpl_range *)obj);
    int64_t start, stop;
    if (step > 0) {
        start = has[0] ? val[0] : 0;
        stop = has[1] ? val[1] : len;
        if (start < 0) start = start + len < 0 ? 0 : start + len;
        if (start > len) start = len;
        if (stop < 0) stop = stop + len < 0 ? 0 : stop + len;
        if (stop > len) stop = len;
    } else {
        start = has[0] ? val[0] : len - 1;
        stop = has[1] ? val[1] : -1;
        if (has[0]) {
            if (start < 0) start = start + len < 0 ? -1 : start + len;
            if (start >= len) start = len - 1;
        }
        if (has[1]) {
            if (stop < 0) stop = stop + len < 0 ? -1 : stop + len;
            if (stop >= len) stop = len - 1;
        }
    }
    int64_t count = 0;
    if (step > 0 && start < stop) count = (stop - start - 1) / step + 1;
    if (step < 0 && start > stop) count = (start - stop - 1) / (-step) + 1;
    if (k == TK_RANGE) {
        tpl_range *rg = (tpl_range *)obj;
        tpl_range *out = vial_tpl_obj_new(r->arena, sizeof *out, TK_RANGE);
        if (!out) return vial_tpl_oom(r, n);
        /* Python: range(r.start + i.start*r.step, r.start + i.stop*r.step, r.step*i.step) */
        out->start = rg->start + start * rg->step;
        out->step = rg->step * step;
        out->stop = rg->start + stop * rg->step;
        return &out->h.base;
    }
    if (k == TK_ARRAY) {
        vial_value *out = vial_new_array(r->arena);
        if (!out) return vial_tpl_oom(r, n);
        out->tag = obj->tag;
        if (count) {
            out->as.arr.items = vial_arena_alloc(r->arena, (size_t)count * sizeof(vial_value *));
            if (!out->as.arr.items) return vial_tpl_oom(r, n);
            for (int64_t i = 0; i < count; i++) out->as.arr.items[i] = obj->as.arr.items[start + i * step];
            out->as.arr.len = out->as.arr.cap = (size_t)count;
        }
        return out;
    }
    /* strings: by code point */
    const char *s = obj->as.s.ptr;
    size_t sn = obj->as.s.len;
    if (step == 1) {
        size_t a = vial_tv_cp_offset(s, sn, (size_t)start);
        size_t b = count ? a + vial_tv_cp_offset(s + a, sn - a, (size_t)count) : a;
        vial_value *out = vial_new_str_ref(r->arena, s + a, b - a);
        if (!out) return vial_tpl_oom(r, n);
        out->flags = obj->flags & VIAL_FLAG_SAFE;
        return out;
    }
    size_t *offs = vial_arena_alloc(r->arena, ((size_t)len + 1) * sizeof *offs);
    if (!offs) return vial_tpl_oom(r, n);
    size_t off = 0;
    for (int64_t i = 0; i < len; i++) {
        offs[i] = off;
        uint32_t cp;
        off += vial_tv_next_cp(s + off, sn - off, &cp);
    }
    offs[len] = sn;
    vial_buf b;
    vial_tv_buf(r, &b);
    for (int64_t i = 0; i < count; i++) {
        int64_t ci = start + i * step;
        if (tb_append(&b, s + offs[ci], offs[ci + 1] - offs[ci]) != 0) return vial_tpl_failv(r, n, "string too large");
    }
    return vial_tv_buf_value(r, &b, tv_is_safe(obj));
}

/* ---- loop and cycler attributes ---- */

static vial_value *loop_attr(tpl_render *r, const tpl_node *site, tpl_loop *l, const char *name, size_t len) {
    switch (len) {
    case 5:
        if (eq(name, len, "index")) return vial_tv_int(r, (int64_t)l->index0 + 1);
        if (eq(name, len, "first")) return vial_tv_bool(l->index0 == 0);
        if (eq(name, len, "depth")) return vial_tv_int(r, l->depth0 + 1);
        if (eq(name, len, "cycle")) goto method;
        break;
    case 6:
        if (eq(name, len, "index0")) return vial_tv_int(r, (int64_t)l->index0);
        if (eq(name, len, "length")) return vial_tv_int(r, (int64_t)l->len);
        if (eq(name, len, "depth0")) return vial_tv_int(r, l->depth0);
        break;
    case 4:
        if (eq(name, len, "last")) return vial_tv_bool(l->index0 + 1 >= l->len);
        break;
    case 8:
        if (eq(name, len, "revindex")) return vial_tv_int(r, (int64_t)(l->len - l->index0));
        if (eq(name, len, "previtem")) {
            if (l->index0 == 0) return vial_tpl_undefined(r, "there is no previous item", NULL, NULL, 0);
            return l->items[l->index0 - 1];
        }
        if (eq(name, len, "nextitem")) {
            if (l->index0 + 1 >= l->len) return vial_tpl_undefined(r, "there is no next item", NULL, NULL, 0);
            return l->items[l->index0 + 1];
        }
        break;
    case 9:
        if (eq(name, len, "revindex0")) return vial_tv_int(r, (int64_t)(l->len - l->index0 - 1));
        break;
    case 7:
        if (eq(name, len, "changed")) goto method;
        break;
    }
    (void)site;
    return NULL;
method: {
    tpl_func *f = vial_tpl_obj_new(r->arena, sizeof *f, TK_FUNC);
    if (!f) return vial_tpl_oom(r, site);
    f->fkind = FN_LOOPCALL;
    f->which = name[1] == 'y' ? 0 : 1; /* cycle / changed */
    f->name = name[1] == 'y' ? "cycle" : "changed";
    f->self = &l->h.base;
    return &f->h.base;
}
}

static vial_value *cycler_attr(tpl_render *r, tpl_cycler *c, const char *name, size_t len) {
    if (eq(name, len, "current")) return c->items[c->pos];
    if (eq(name, len, "items")) return vial_tv_tuple(r, c->n, c->items);
    if (eq(name, len, "pos")) return vial_tv_int(r, (int64_t)c->pos);
    if (eq(name, len, "next") || eq(name, len, "reset")) {
        tpl_func *f = vial_tpl_obj_new(r->arena, sizeof *f, TK_FUNC);
        if (!f) return vial_tpl_oom(r, NULL);
        f->fkind = FN_CYCLER;
        f->which = name[0] == 'n' ? 0 : 1;
        f->name = name[0] == 'n' ? "next" : "reset";
        f->self = &c->h.base;
        return &f->h.base;
    }
    return NULL;
}

/* ---- arguments ---- */

typedef struct argstore {
    tpl_args a;
    vial_value *pos_inline[MAX_ARGS_ON_STACK];
    vial_value *kw_inline[MAX_ARGS_ON_STACK];
    vial_str kwn_inline[MAX_ARGS_ON_STACK];
} argstore;

static inline int push_pos(tpl_render *r, argstore *s, size_t *cap, vial_value *v) {
    if (s->a.npos == *cap) {
        size_t nc = *cap * 2;
        vial_value **p = vial_arena_alloc(r->arena, nc * sizeof *p);
        if (!p) return -1;
        memcpy(p, s->a.pos, s->a.npos * sizeof *p);
        s->a.pos = p;
        *cap = nc;
    }
    s->a.pos[s->a.npos++] = v;
    return 0;
}

static int push_kw(tpl_render *r, argstore *s, size_t *cap, vial_str name, vial_value *v) {
    for (size_t i = 0; i < s->a.nkw; i++)
        if (s->a.kwnames[i].len == name.len && memcmp(s->a.kwnames[i].ptr, name.ptr, name.len) == 0) {
            vial_tpl_raise(r, NULL, "got multiple values for keyword argument '%.*s'", (int)name.len, name.ptr);
            return -2;
        }
    if (s->a.nkw == *cap) {
        size_t nc = *cap * 2;
        vial_value **p = vial_arena_alloc(r->arena, nc * sizeof *p);
        vial_str *q = vial_arena_alloc(r->arena, nc * sizeof *q);
        if (!p || !q) return -1;
        memcpy(p, s->a.kwvals, s->a.nkw * sizeof *p);
        memcpy(q, s->a.kwnames, s->a.nkw * sizeof *q);
        s->a.kwvals = p;
        s->a.kwnames = q;
        *cap = nc;
    }
    s->a.kwnames[s->a.nkw] = name;
    s->a.kwvals[s->a.nkw++] = v;
    return 0;
}

/* Evaluates call arguments; `first` (a filter's input) goes before them when given. */
static int eval_args(tpl_render *r, tpl_frame *f, const tpl_node *site, const tpl_callargs *ca, argstore *s) {
    s->a.pos = s->pos_inline;
    s->a.kwvals = s->kw_inline;
    s->a.kwnames = s->kwn_inline;
    s->a.npos = s->a.nkw = 0;
    size_t pcap = MAX_ARGS_ON_STACK, kcap = MAX_ARGS_ON_STACK;
    for (uint32_t i = 0; i < ca->nargs; i++) {
        const tpl_node *an = ca->args[i];
        vial_value *v = an->kind == N_CONST ? an->u.value : vial_tpl_eval(r, f, an);
        if (!v) return -1;
        if (push_pos(r, s, &pcap, v) != 0) return vial_tpl_oom(r, site), -1;
    }
    for (uint32_t i = 0; i < ca->nkw; i++) {
        vial_value *v = vial_tpl_eval(r, f, ca->kwvalues[i]);
        if (!v) return -1;
        int rc = push_kw(r, s, &kcap, ca->kwnames[i], v);
        if (rc == -1) return vial_tpl_oom(r, site), -1;
        if (rc) return -1;
    }
    if (ca->dyn_args) {
        vial_value *v = vial_tpl_eval(r, f, ca->dyn_args);
        if (!v) return -1;
        vial_value *list = vial_tv_list(r, site, v);
        if (!list) return -1;
        for (size_t i = 0; i < list->as.arr.len; i++)
            if (push_pos(r, s, &pcap, list->as.arr.items[i]) != 0) return vial_tpl_oom(r, site), -1;
    }
    if (ca->dyn_kwargs) {
        vial_value *v = vial_tpl_eval(r, f, ca->dyn_kwargs);
        if (!v) return -1;
        if (v->type != VIAL_OBJECT) {
            if (tv_kind(v) == TK_UNDEF) return 0;
            return vial_tpl_raise(r, site, "argument after ** must be a mapping, not %s", vial_tv_type_name(v));
        }
        for (size_t i = 0; i < v->as.obj.len; i++) {
            vial_str name = {v->as.obj.items[i].key, v->as.obj.items[i].key_len};
            int rc = push_kw(r, s, &kcap, name, v->as.obj.items[i].value);
            if (rc == -1) return vial_tpl_oom(r, site), -1;
            if (rc) return -1;
        }
    }
    return 0;
}

int vial_tpl_bind(tpl_render *r, const tpl_node *site, const tpl_builtin *b, tpl_args *a, vial_value **p) {
    for (int i = 0; i < b->nparams; i++) p[i] = NULL;
    if (a->npos > b->nparams)
        return vial_tpl_raise(r, site, "%s() takes from %d to %d positional arguments but %zu were given", b->pyname,
                        b->nrequired + 1, b->nparams + 1, a->npos + 1);
    for (size_t i = 0; i < a->npos; i++) p[i] = a->pos[i];
    for (size_t k = 0; k < a->nkw; k++) {
        int slot = -1;
        for (int i = 0; i < b->nparams; i++)
            if (eq(a->kwnames[k].ptr, a->kwnames[k].len, b->params[i])) slot = i;
        if (slot < 0)
            return vial_tpl_raise(r, site, "%s() got an unexpected keyword argument '%.*s'", b->pyname,
                            (int)a->kwnames[k].len, a->kwnames[k].ptr);
        if (p[slot]) return vial_tpl_raise(r, site, "%s() got multiple values for argument '%s'", b->pyname, b->params[slot]);
        p[slot] = a->kwvals[k];
    }
    for (int i = 0; i < b->nrequired; i++)
        if (!p[i]) return vial_tpl_raise(r, site, "%s() missing 1 required positional argument: '%s'", b->pyname, b->params[i]);
    return 0;
}

/* ---- C callables ---- */

static vial_value *call_user(tpl_render *r, const tpl_node *site, const tpl_userfn *u, vial_value *first,
                             tpl_args *a, const char *what) {
    size_t n = a->npos + (first ? 1 : 0);
    vial_value **args = vial_arena_alloc(r->arena, (n ? n : 1) * sizeof *args);
    if (!args) return vial_tpl_oom(r, site);
    size_t k = 0;
    if (first) args[k++] = first;
    for (size_t i = 0; i < a->npos; i++) args[k++] = a->pos[i];
    vial_value *kw = NULL;
    if (a->nkw) {
        kw = vial_new_object(r->arena);
        if (!kw) return vial_tpl_oom(r, site);
        for (size_t i = 0; i < a->nkw; i++)
            if (vial_object_set_ref(kw, a->kwnames[i].ptr, a->kwnames[i].len, a->kwvals[i]) != 0)
                return vial_tpl_oom(r, site);
    }
    vial_tpl_call call = {.arena = r->arena, .user = r->user, .data = u->data, .args = args, .nargs = n,
                          .kwargs = kw, .autoescape = r->autoescape};
    vial_value *v = u->fn(&call);
    if (!v) {
        if (r->failed) return NULL;
        if (call.error[0]) return vial_tpl_failv(r, site, "%s", call.error);
        return vial_tpl_failv(r, site, "%s '%s' failed", what, u->name);
    }
    return v;
}

/* ---- filters and tests ---- */

vial_value *vial_tpl_apply_filter(tpl_render *r, const tpl_node *site, const tpl_builtin *b, const tpl_userfn *u,
                             vial_value *in, tpl_args *a) {
    if (u) return call_user(r, site, u, in, a, "filter");
    vial_value *p[BF_MAXP];
    if (!(b->flags & BF_VARARGS) && vial_tpl_bind(r, site, b, a, p) != 0) return NULL;
    return b->fn.filter(r, site, in, p, a);
}

int vial_tpl_apply_test(tpl_render *r, const tpl_node *site, const tpl_builtin *b, const tpl_userfn *u, vial_value *in,
                   tpl_args *a) {
    if (u) {
        vial_value *v = call_user(r, site, u, in, a, "test");
        if (!v) return -1;
        return vial_tv_truthy(r, site, v);
    }
    vial_value *p[BF_MAXP];
    if (!(b->flags & BF_VARARGS) && vial_tpl_bind(r, site, b, a, p) != 0) return -1;
    return b->fn.test(r, site, in, p, a);
}

static bool resolve_runtime(tpl_render *r, const tpl_node *n, const tpl_builtin **b, const tpl_userfn **u) {
    *b = n->u.filter.builtin;
    *u = n->u.filter.user;
    if (*b || *u) return true;
    bool is_filter = n->kind == N_FILTER;
    vial_str name = n->u.filter.name;
    *u = vial_tpl_env_find(is_filter ? r->env->filters : r->env->tests, is_filter ? r->env->nfilters : r->env->ntests,
                      name.ptr, name.len);
    if (!*u) *b = is_filter ? vial_tpl_find_filter(name.ptr, name.len) : vial_tpl_find_test(name.ptr, name.len);
    if (*b || *u) return true;
    vial_tpl_raise(r, n, "No %s named '%.*s' found.", is_filter ? "filter" : "test", (int)name.len, name.ptr);
    return false;
}

/* Applies a filter node to an already computed input (filter blocks and set blocks). */
vial_value *vial_tpl_filter_chain(tpl_render *r, tpl_frame *f, const tpl_node *n, vial_value *innermost);

static vial_value *eval_filter(tpl_render *r, tpl_frame *f, const tpl_node *n, vial_value *innermost) {
    vial_value *in;
    if (n->u.filter.input) {
        if (innermost && n->u.filter.input->kind == N_FILTER)
            in = vial_tpl_filter_chain(r, f, n->u.filter.input, innermost);
        else
            in = vial_tpl_eval(r, f, n->u.filter.input);
    } else {
        in = innermost;
    }
    if (!in) return NULL;
    const tpl_builtin *b;
    const tpl_userfn *u;
    if (!resolve_runtime(r, n, &b, &u)) return NULL;
    const tpl_callargs *ca = &n->u.filter.a;
    if (b && (!b->nrequired || (b->flags & BF_VARARGS)) && !ca->nargs && !ca->nkw && !ca->dyn_args &&
        !ca->dyn_kwargs) {
        /* {{ x|lower }}: nothing to evaluate or bind */
        vial_value *p[BF_MAXP] = {NULL, NULL, NULL, NULL, NULL, NULL};
        vial_value *no_pos[1] = {NULL};
        vial_str no_names[1] = {{NULL, 0}};
        tpl_args none = {no_pos, 0, no_names, no_pos, 0};
        return b->fn.filter(r, n, in, p, &none);
    }
    argstore s;
    if (eval_args(r, f, n, ca, &s) != 0) return NULL;
    return vial_tpl_apply_filter(r, n, b, u, in, &s.a);
}

vial_value *vial_tpl_filter_chain(tpl_render *r, tpl_frame *f, const tpl_node *n, vial_value *innermost) {
    return eval_filter(r, f, n, innermost);
}

vial_value *vial_tpl_apply_filter_node(tpl_render *r, const tpl_node *n, vial_value *in, vial_value **pos, size_t npos) {
    const tpl_builtin *b;
    const tpl_userfn *u;
    if (!resolve_runtime(r, n, &b, &u)) return NULL;
    vial_value *no_kw[1] = {NULL};
    vial_str no_names[1] = {{NULL, 0}};
    tpl_args a = {npos ? pos : no_kw, npos, no_names, no_kw, 0};
    return vial_tpl_apply_filter(r, n, b, u, in, &a);
}

static vial_value *eval_test(tpl_render *r, tpl_frame *f, const tpl_node *n) {
    vial_value *in = vial_tpl_eval(r, f, n->u.filter.input);
    if (!in) return NULL;
    const tpl_builtin *b;
    const tpl_userfn *u;
    if (!resolve_runtime(r, n, &b, &u)) return NULL;
    argstore s;
    if (eval_args(r, f, n, &n->u.filter.a, &s) != 0) return NULL;
    int rc = vial_tpl_apply_test(r, n, b, u, in, &s.a);
    if (rc < 0) return NULL;
    return vial_tv_bool(rc);
}

vial_value *vial_tpl_call_filter_named(tpl_render *r, const tpl_node *site, const vial_value *name, vial_value *in,
                                  tpl_args *a) {
    if (name->type != VIAL_STRING) return vial_tpl_failv(r, site, "No filter named %s.", vial_tv_type_name(name));
    const tpl_userfn *u = vial_tpl_env_find(r->env->filters, r->env->nfilters, name->as.s.ptr, name->as.s.len);
    const tpl_builtin *b = u ? NULL : vial_tpl_find_filter(name->as.s.ptr, name->as.s.len);
    if (!u && !b) return vial_tpl_failv(r, site, "No filter named '%.*s'.", (int)name->as.s.len, name->as.s.ptr);
    return vial_tpl_apply_filter(r, site, b, u, in, a);
}

int vial_tpl_call_test_named(tpl_render *r, const tpl_node *site, const vial_value *name, vial_value *in, tpl_args *a) {
    if (name->type != VIAL_STRING) return vial_tpl_raise(r, site, "No test named %s.", vial_tv_type_name(name));
    const tpl_userfn *u = vial_tpl_env_find(r->env->tests, r->env->ntests, name->as.s.ptr, name->as.s.len);
    const tpl_builtin *b = u ? NULL : vial_tpl_find_test(name->as.s.ptr, name->as.s.len);
    if (!u && !b) return vial_tpl_raise(r, site, "No test named '%.*s'.", (int)name->as.s.len, name->as.s.ptr);
    return vial_tpl_apply_test(r, site, b, u, in, a);
}

/* ---- calls ---- */

vial_value *vial_tpl_call_macro(tpl_render *r, const tpl_node *site, tpl_macro *m, tpl_args *a);
vial_value *vial_tpl_call_loop(tpl_render *r, const tpl_node *site, tpl_loop *l, tpl_args *a);
vial_value *vial_tpl_call_block(tpl_render *r, const tpl_node *site, tpl_func *f);

static vial_value *loop_call(tpl_render *r, const tpl_node *site, tpl_func *f, tpl_args *a) {
    tpl_loop *l = (tpl_loop *)f->self;
    if (a->nkw) return vial_tpl_failv(r, site, "%s() got an unexpected keyword argument '%.*s'", f->name,
                                 (int)a->kwnames[0].len, a->kwnames[0].ptr);
    if (f->which == 0) {
        if (!a->npos) return vial_tpl_failv(r, site, "no items for cycling given");
        return a->pos[l->index0 % a->npos];
    }
    vial_value *cur = vial_tv_tuple(r, a->npos, a->pos);
    if (!cur) return NULL;
    if (l->last_changed && vial_tv_equal(l->last_changed, cur)) return vial_tv_bool(false);
    l->last_changed = cur;
    return vial_tv_bool(true);
}

vial_value *vial_tpl_call_value(tpl_render *r, const tpl_node *site, vial_value *callee, tpl_args *a) {
    switch (tv_kind(callee)) {
    case TK_MACRO: return vial_tpl_call_macro(r, site, (tpl_macro *)callee, a);
    case TK_FUNC: {
        tpl_func *f = (tpl_func *)callee;
        switch (f->fkind) {
        case FN_USER: return call_user(r, site, f->user, NULL, a, "function");
        case FN_BUILTIN: return vial_tpl_call_builtin(r, site, f, a);
        case FN_METHOD: {
            bool found;
            vial_value *v = vial_tpl_call_method(r, site, f->self, f->name, strlen(f->name), a, &found);
            if (!found && !r->failed) return vial_tpl_failv(r, site, "'%s' object is not callable", f->name);
            return v;
        }
        case FN_BLOCK:
            if (a->npos || a->nkw) return vial_tpl_failv(r, site, "BlockReference() takes no arguments");
            return vial_tpl_call_block(r, site, f);
        case FN_LOOPCALL: return loop_call(r, site, f, a);
        case FN_CYCLER: {
            tpl_cycler *c = (tpl_cycler *)f->self;
            if (f->which == 1) {
                c->pos = 0;
                return vial_value_null();
            }
            vial_value *v = c->items[c->pos];
            c->pos = (c->pos + 1) % c->n;
            return v;
        }
        }
        break;
    }
    case TK_LOOP: return vial_tpl_call_loop(r, site, (tpl_loop *)callee, a);
    case TK_JOINER: {
        tpl_joiner *j = (tpl_joiner *)callee;
        if (!j->used) {
            j->used = true;
            return vial_new_str_ref(r->arena, "", 0);
        }
        return j->sep;
    }
    case TK_UNDEF: vial_tpl_undef_fail(r, site, callee); return NULL;
    default: break;
    }
    return vial_tpl_failv(r, site, "'%s' object is not callable", vial_tv_type_name(callee));
}

static vial_value *eval_call(tpl_render *r, tpl_frame *f, const tpl_node *n, vial_value *caller) {
    const tpl_node *callee = n->u.call.callee;
    argstore s;
    if (callee->kind == N_GETATTR) {
        vial_value *obj = vial_tpl_eval(r, f, callee->u.attr.obj);
        if (!obj) return NULL;
        int k = tv_kind(obj);
        if ((k == TK_STRING || k == TK_ARRAY || k == TK_OBJECT) &&
            vial_tpl_has_method(obj, callee->u.attr.attr.ptr, callee->u.attr.attr.len)) {
            if (eval_args(r, f, n, &n->u.call.a, &s) != 0) return NULL;
            if (caller) {
                size_t cap = s.a.nkw > MAX_ARGS_ON_STACK ? s.a.nkw : MAX_ARGS_ON_STACK;
                if (push_kw(r, &s, &cap, (vial_str){"caller", 6}, caller) != 0) return r->failed ? NULL : vial_tpl_oom(r, n);
            }
            bool found;
            return vial_tpl_call_method(r, n, obj, callee->u.attr.attr.ptr, callee->u.attr.attr.len, &s.a, &found);
        }
        if (k == TK_LOOP && !caller && (callee->op == LA_CYCLE || callee->op == LA_CHANGED)) {
            const tpl_callargs *ca = &n->u.call.a;
            if (callee->op == LA_CYCLE && ca->nargs && !ca->nkw && !ca->dyn_args && !ca->dyn_kwargs) {
                /* loop.cycle(a, b, ...): every argument is evaluated, in order, and one returned */
                size_t pick = ((const tpl_loop *)obj)->index0 % ca->nargs;
                vial_value *chosen = NULL;
                for (uint32_t i = 0; i < ca->nargs; i++) {
                    const tpl_node *an = ca->args[i];
                    vial_value *v = an->kind == N_CONST ? an->u.value : vial_tpl_eval(r, f, an);
                    if (!v) return NULL;
                    if (i == pick) chosen = v;
                }
                return chosen;
            }
            if (eval_args(r, f, n, &n->u.call.a, &s) != 0) return NULL;
            tpl_func fake = {.fkind = FN_LOOPCALL, .self = obj};
            fake.which = callee->u.attr.attr.ptr[1] == 'y' ? 0 : 1;
            fake.name = fake.which == 0 ? "cycle" : "changed";
            return loop_call(r, n, &fake, &s.a);
        }
        vial_value *fn = vial_tpl_getattr(r, callee, obj, callee->u.attr.attr.ptr, callee->u.attr.attr.len);
        if (!fn) return NULL;
        if (eval_args(r, f, n, &n->u.call.a, &s) != 0) return NULL;
        if (caller) {
            size_t cap = s.a.nkw > MAX_ARGS_ON_STACK ? s.a.nkw : MAX_ARGS_ON_STACK;
            if (push_kw(r, &s, &cap, (vial_str){"caller", 6}, caller) != 0) return r->failed ? NULL : vial_tpl_oom(r, n);
        }
        return vial_tpl_call_value(r, n, fn, &s.a);
    }
    vial_value *fn = vial_tpl_eval(r, f, callee);
    if (!fn) return NULL;
    if (eval_args(r, f, n, &n->u.call.a, &s) != 0) return NULL;
    if (caller) {
        size_t cap = s.a.nkw > MAX_ARGS_ON_STACK ? s.a.nkw : MAX_ARGS_ON_STACK;
        if (push_kw(r, &s, &cap, (vial_str){"caller", 6}, caller) != 0) return r->failed ? NULL : vial_tpl_oom(r, n);
    }
    return vial_tpl_call_value(r, n, fn, &s.a);
}

vial_value *vial_tpl_eval_call_with_caller(tpl_render *r, tpl_frame *f, const tpl_node *n, vial_value *caller);
vial_value *vial_tpl_eval_call_with_caller(tpl_render *r, tpl_frame *f, const tpl_node *n, vial_value *caller) {
    return eval_call(r, f, n, caller);
}

/* ---- the evaluator ---- */

static vial_value *eval_concat(tpl_render *r, tpl_frame *f, const tpl_node *n) {
    uint32_t count = n->u.items.n;
    vial_value *inline_parts[8];
    vial_value **parts = count <= 8 ? inline_parts : vial_arena_alloc(r->arena, count * sizeof *parts);
    if (!parts) return vial_tpl_oom(r, n);
    bool any_safe = false;
    for (uint32_t i = 0; i < count; i++) {
        vial_value *v = vial_tpl_eval(r, f, n->u.items.items[i]);
        if (!v) return NULL;
        if (tv_kind(v) == TK_UNDEF && r->strict) {
            vial_tpl_undef_fail(r, n, v);
            return NULL;
        }
        parts[i] = v;
        if (tv_is_safe(v)) any_safe = true;
    }
    bool escape = r->autoescape && any_safe;
    vial_buf b;
    vial_tv_buf(r, &b);
    for (uint32_t i = 0; i < count; i++) {
        vial_value *v = parts[i];
        int rc;
        if (escape && !tv_is_safe(v)) {
            if (v->type == VIAL_STRING) {
                rc = vial_tv_escape_into(&b, v->as.s.ptr, v->as.s.len);
            } else {
                vial_buf tmp;
                vial_tv_buf(r, &tmp);
                rc = vial_tv_str(r, &tmp, v);
                if (rc == 0) rc = vial_tv_escape_into(&b, tmp.data ? tmp.data : "", tmp.len);
            }
        } else {
            rc = vial_tv_str(r, &b, v);
        }
        if (rc != 0) return r->failed ? NULL : vial_tpl_failv(r, n, "string too large");
    }
    return vial_tv_buf_value(r, &b, escape);
}

static vial_value *eval_compare(tpl_render *r, tpl_frame *f, const tpl_node *n) {
    vial_value *left = vial_tpl_eval(r, f, n->u.cmp.first);
    if (!left) return NULL;
    for (uint32_t i = 0; i < n->u.cmp.n; i++) {
        vial_value *right = vial_tpl_eval(r, f, n->u.cmp.rhs[i]);
        if (!right) return NULL;
        int op = n->u.cmp.ops[i], res;
        switch (op) {
        case CMP_EQ:
        case CMP_NE:
            if (r->strict && (tv_kind(left) == TK_UNDEF || tv_kind(right) == TK_UNDEF)) {
                vial_tpl_undef_fail(r, n, tv_kind(left) == TK_UNDEF ? left : right);
                return NULL;
            }
            res = vial_tv_equal(left, right) == (op == CMP_EQ);
            break;
        case CMP_IN:
        case CMP_NOTIN:
            res = vial_tv_contains(r, n, right, left);
            if (res < 0) return NULL;
            if (op == CMP_NOTIN) res = !res;
            break;
        default:
            res = vial_tv_order(r, n, op, left, right);
            if (res < 0) return NULL;
            break;
        }
        if (!res) return vial_tv_bool(false);
        left = right;
    }
    return vial_tv_bool(true);
}

static vial_value *eval_dict(tpl_render *r, tpl_frame *f, const tpl_node *n) {
    vial_value *obj = vial_new_object(r->arena);
    if (!obj) return vial_tpl_oom(r, n);
    for (uint32_t i = 0; i < n->u.dict.n; i++) {
        vial_value *k = vial_tpl_eval(r, f, n->u.dict.keys[i]);
        if (!k) return NULL;
        vial_value *v = vial_tpl_eval(r, f, n->u.dict.values[i]);
        if (!v) return NULL;
        int kk = tv_kind(k);
        if (kk == TK_ARRAY && !tv_is_tuple(k)) return vial_tpl_failv(r, n, "unhashable type: 'list'");
        if (kk == TK_OBJECT) return vial_tpl_failv(r, n, "unhashable type: 'dict'");
        vial_value *ks = vial_tv_to_str(r, n, k);
        if (!ks) return NULL;
        if (vial_object_set_ref(obj, ks->as.s.ptr, ks->as.s.len, v) != 0) return vial_tpl_oom(r, n);
    }
    return obj;
}

static vial_value *eval_seq(tpl_render *r, tpl_frame *f, const tpl_node *n, bool tuple) {
    uint32_t count = n->u.items.n;
    vial_value *arr = vial_new_array(r->arena);
    if (!arr) return vial_tpl_oom(r, n);
    if (tuple) arr->tag = VIAL_TAG_TUPLE;
    if (count) {
        arr->as.arr.items = vial_arena_alloc(r->arena, count * sizeof(vial_value *));
        if (!arr->as.arr.items) return vial_tpl_oom(r, n);
        arr->as.arr.cap = count;
        for (uint32_t i = 0; i < count; i++) {
            vial_value *v = vial_tpl_eval(r, f, n->u.items.items[i]);
            if (!v) return NULL;
            arr->as.arr.items[i] = v;
        }
        arr->as.arr.len = count;
    }
    return arr;
}

vial_value *vial_tpl_eval(tpl_render *r, tpl_frame *f, const tpl_node *n) {
    switch (n->kind) {
    case N_CONST: return n->u.value;
    case N_NAME: return tpl_lookup_fast(r, f, n->u.name.id, &n->u.name.name);
    case N_GETATTR: {
        const tpl_node *on = n->u.attr.obj;
        vial_value *obj = on->kind == N_NAME ? tpl_lookup_fast(r, f, on->u.name.id, &on->u.name.name) : vial_tpl_eval(r, f, on);
        if (!obj) return NULL;
        if (obj->type == VIAL_OBJECT && (n->flags & NF_NOT_METHOD)) {
            /* the hot path: row.field (dict methods win over keys, but this name is none) */
            vial_value *v = tv_object_get_hinted(obj, n->u.attr.attr.ptr, n->u.attr.attr.len, &((tpl_node *)n)->u.attr.hint);
            if (v) return v;
        }
        if (n->op != LA_NONE && tv_kind(obj) == TK_LOOP) {
            /* loop.index and friends: what loop_attr answers, without comparing names */
            const tpl_loop *l = (const tpl_loop *)obj;
            switch (n->op) {
            case LA_INDEX: return vial_tv_int(r, (int64_t)l->index0 + 1);
            case LA_INDEX0: return vial_tv_int(r, (int64_t)l->index0);
            case LA_FIRST: return vial_tv_bool(l->index0 == 0);
            case LA_LAST: return vial_tv_bool(l->index0 + 1 >= l->len);
            case LA_LENGTH: return vial_tv_int(r, (int64_t)l->len);
            case LA_REVINDEX: return vial_tv_int(r, (int64_t)(l->len - l->index0));
            case LA_REVINDEX0: return vial_tv_int(r, (int64_t)(l->len - l->index0 - 1));
            default: break;
            }
        }
        return vial_tpl_getattr(r, n, obj, n->u.attr.attr.ptr, n->u.attr.attr.len);
    }
    case N_GETITEM: {
        vial_value *obj = vial_tpl_eval(r, f, n->u.item.obj);
        if (!obj) return NULL;
        vial_value *key = vial_tpl_eval(r, f, n->u.item.key);
        if (!key) return NULL;
        return vial_tpl_getitem(r, n, obj, key);
    }
    case N_SLICE: return eval_slice(r, f, n);
    case N_CALL: return eval_call(r, f, n, NULL);
    case N_FILTER: return eval_filter(r, f, n, NULL);
    case N_TEST: return eval_test(r, f, n);
    case N_BINOP: {
        vial_value *a = vial_tpl_eval(r, f, n->u.bin.l);
        if (!a) return NULL;
        vial_value *b = vial_tpl_eval(r, f, n->u.bin.r);
        if (!b) return NULL;
        return vial_tv_binop(r, n, n->op, a, b);
    }
    case N_NEG:
    case N_POS: {
        vial_value *a = vial_tpl_eval(r, f, n->u.operand);
        if (!a) return NULL;
        return vial_tv_neg(r, n, a, n->kind == N_POS);
    }
    case N_NOT: {
        vial_value *a = vial_tpl_eval(r, f, n->u.operand);
        if (!a) return NULL;
        int t = vial_tv_truthy(r, n, a);
        if (t < 0) return NULL;
        return vial_tv_bool(!t);
    }
    case N_AND:
    case N_OR: {
        vial_value *a = vial_tpl_eval(r, f, n->u.bin.l);
        if (!a) return NULL;
        int t = vial_tv_truthy(r, n, a);
        if (t < 0) return NULL;
        if ((n->kind == N_AND) != (t != 0)) return a;
        return vial_tpl_eval(r, f, n->u.bin.r);
    }
    case N_COMPARE: return eval_compare(r, f, n);
    case N_CONCAT: return eval_concat(r, f, n);
    case N_COND: {
        vial_value *t = vial_tpl_eval(r, f, n->u.cond.test);
        if (!t) return NULL;
        int c = vial_tv_truthy(r, n, t);
        if (c < 0) return NULL;
        if (c) return vial_tpl_eval(r, f, n->u.cond.then);
        if (n->u.cond.otherwise) return vial_tpl_eval(r, f, n->u.cond.otherwise);
        const char *tname = r->tmpl && r->tmpl->name && r->tmpl->name[0] ? r->tmpl->name : NULL;
        const char *hint =
            tname ? vial_arena_sprintf(r->arena,
                                       "the inline if-expression on line %u in '%s' evaluated to false and no else "
                                       "section was defined.",
                                       n->line, tname)
                  : vial_arena_sprintf(r->arena,
                                       "the inline if-expression on line %u evaluated to false and no else section "
                                       "was defined.",
                                       n->line);
        if (!hint) return vial_tpl_oom(r, n);
        return vial_tpl_undefined(r, hint, NULL, NULL, 0);
    }
    case N_LIST: return eval_seq(r, f, n, false);
    case N_TUPLE: return eval_seq(r, f, n, true);
    case N_DICT: return eval_dict(r, f, n);
    default: return vial_tpl_failv(r, n, "internal error: node %d is not an expression", n->kind);
    }
}
