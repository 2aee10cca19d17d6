/* render.c - statements, scopes and template composition.
 *
 * Scopes follow Jinja2's: a frame per for-loop iteration, with, macro call,
 * filter block and set block, whose names shadow the enclosing frames and
 * vanish with them; `if` shares its frame. A template's top level writes
 * into its context (Jinja2's context.vars), which is what blocks, imports
 * and the parent template see. Lookup goes frames -> context variables ->
 * the includer's scope (include/import with context) -> the render's context
 * object -> per-render globals -> environment globals -> builtins (range,
 * dict, lipsum, cycler, joiner, namespace) -> undefined.
 *
 * Inheritance is Jinja2's model: a context holds, per block name, the stack of
 * definitions from the child upwards; {% extends %} appends the parent's
 * blocks, the rest of the child's top level runs without output, and then
 * the parent's top level runs in the same context. super() renders the next
 * definition down the stack.
 *
 * Output goes to r->out; macros, set blocks, filter blocks and recursive
 * loops capture into a fresh buffer from the render arena. Depth (macro
 * calls, includes, recursion) and, optionally, total work are bounded. */
#include "template/tpl.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

vial_value *vial_tpl_filter_chain(tpl_render *r, tpl_frame *f, const tpl_node *n, vial_value *innermost);
vial_value *vial_tpl_eval_call_with_caller(tpl_render *r, tpl_frame *f, const tpl_node *n, vial_value *caller);
vial_value *vial_tpl_call_macro(tpl_render *r, const tpl_node *site, tpl_macro *m, tpl_args *a);
vial_value *vial_tpl_call_loop(tpl_render *r, const tpl_node *site, tpl_loop *l, tpl_args *a);
vial_value *vial_tpl_call_block(tpl_render *r, const tpl_node *site, tpl_func *f);

/* ---- frames ---- */

void vial_tpl_frame_init(tpl_frame *f, tpl_frame *parent, tpl_context *ctx) {
    f->parent = parent;
    f->ctx = ctx;
    f->n = 0;
    f->cap = FRAME_INLINE;
    f->ids = f->inline_ids;
    f->vals = f->inline_vals;
    f->exported = NULL;
}

static int frame_put(tpl_render *r, tpl_frame *f, uint32_t id, vial_value *v, int exported) {
    for (uint32_t i = 0; i < f->n; i++) {
        if (f->ids[i] == id) {
            f->vals[i] = v;
            if (f->exported && exported >= 0) f->exported[i] = (uint8_t)exported;
            return 0;
        }
    }
    if (f->n == f->cap) {
        uint32_t cap = f->cap * 2;
        uint32_t *ids = vial_arena_alloc(r->arena, cap * sizeof *ids);
        vial_value **vals = vial_arena_alloc(r->arena, cap * sizeof *vals);
        if (!ids || !vals) return -1;
        memcpy(ids, f->ids, f->n * sizeof *ids);
        memcpy(vals, f->vals, f->n * sizeof *vals);
        if (f->exported) {
            uint8_t *ex = vial_arena_calloc(r->arena, cap);
            if (!ex) return -1;
            memcpy(ex, f->exported, f->n);
            f->exported = ex;
        }
        f->ids = ids;
        f->vals = vals;
        f->cap = cap;
    }
    f->ids[f->n] = id;
    f->vals[f->n] = v;
    if (f->exported) f->exported[f->n] = exported > 0;
    f->n++;
    return 0;
}

int vial_tpl_frame_set(tpl_render *r, tpl_frame *f, uint32_t id, vial_value *v) {
    if (frame_put(r, f, id, v, -1) != 0) {
        vial_tpl_oom(r, NULL);
        return -1;
    }
    return 0;
}

/* Assignment by name: at a template's top level the name is also exported
 * (unless it starts with an underscore), as Jinja2's context.exported_vars. */
static int assign_name(tpl_render *r, tpl_frame *f, uint32_t id, vial_str name, vial_value *v, bool export_ok) {
    int exported = -1;
    if (f->ctx && f == &f->ctx->vars) exported = export_ok && !(name.len && name.ptr[0] == '_');
    if (frame_put(r, f, id, v, exported) != 0) {
        vial_tpl_oom(r, NULL);
        return -1;
    }
    return 0;
}

static inline vial_value *frame_find(const tpl_frame *f, uint32_t id) {
    for (uint32_t i = 0; i < f->n; i++)
        if (f->ids[i] == id) return f->vals[i];
    return NULL;
}

tpl_context *vial_tpl_context_new(tpl_render *r, const tpl_template *t, tpl_frame *outer, bool has_user) {
    tpl_context *c = vial_arena_calloc(r->arena, sizeof *c);
    if (!c) {
        vial_tpl_oom(r, NULL);
        return NULL;
    }
    vial_tpl_frame_init(&c->vars, NULL, c);
    c->vars.exported = vial_arena_calloc(r->arena, FRAME_INLINE);
    if (!c->vars.exported) {
        vial_tpl_oom(r, NULL);
        return NULL;
    }
    c->outer = outer;
    c->has_user = has_user;
    c->tmpl = t;
    return c;
}

vial_value *vial_tpl_lookup(tpl_render *r, tpl_frame *f, uint32_t id, const vial_str *name) {
    if (!f) return vial_tpl_undefined(r, NULL, NULL, name->ptr, name->len);
    tpl_frame *last = NULL;
    for (tpl_frame *x = f; x; x = x->parent) {
        vial_value *v = frame_find(x, id);
        if (v) return v;
        last = x;
    }
    tpl_context *ctx = f->ctx;
    bool has_user = false;
    while (ctx) {
        if (last != &ctx->vars) {
            vial_value *v = frame_find(&ctx->vars, id);
            if (v) return v;
        }
        if (name->len == 4 && memcmp(name->ptr, "self", 4) == 0) {
            tpl_selfref *s = vial_tpl_obj_new(r->arena, sizeof *s, TK_SELF);
            if (!s) return vial_tpl_oom(r, NULL);
            s->ctx = ctx;
            return &s->h.base;
        }
        if (!ctx->outer) {
            has_user = ctx->has_user;
            break;
        }
        last = NULL;
        for (tpl_frame *x = ctx->outer; x; x = x->parent) {
            vial_value *v = frame_find(x, id);
            if (v) return v;
            last = x;
        }
        tpl_context *next = ctx->outer->ctx;
        if (!next) {
            has_user = ctx->has_user;
            break;
        }
        ctx = next;
    }
    vial_value *v;
    if (has_user && r->user_ctx && (v = vial_object_getn(r->user_ctx, name->ptr, name->len))) return v;
    if (r->extra && (v = vial_object_getn(r->extra, name->ptr, name->len))) return v;
    if (r->resolve && (v = r->resolve(r->user, r->arena, name->ptr, name->len))) return v;
    if (r->env->globals && (v = vial_object_getn(r->env->globals, name->ptr, name->len))) return v;
    if ((v = vial_tpl_builtin_global(r, name->ptr, name->len))) return v;
    return vial_tpl_undefined(r, NULL, NULL, name->ptr, name->len);
}

/* ---- output ---- */

static int out_fail(tpl_render *r, const tpl_node *n) {
    if (r->failed) return -1;
    r->failed = true;
    r->err->kind = VIAL_TPL_ERR_LIMIT;
    vial_tpl_err_where(r->err, r->tmpl);
    r->err->line = n ? (int)n->line : 0;
    r->err->column = n ? (int)n->col : 0;
    snprintf(r->err->message, sizeof r->err->message, "template output exceeds the limit of %zu bytes",
             r->out->max);
    return -1;
}

/* The output's hot path: copy in place while the buffer has room, and only
 * call into vial_buf (growth, the cap) when it has not. */
static inline int out_put(tpl_render *r, const tpl_node *n, const char *s, size_t len) {
    vial_buf *b = r->out;
    if (len + 16 < b->cap - b->len) {
        tb_copy(b->data + b->len, s, len);
        b->len += len;
        b->data[b->len] = 0;
        return 0;
    }
    if (len < b->cap - b->len) {
        if (len) memcpy(b->data + b->len, s, len);
        b->len += len;
        b->data[b->len] = 0;
        return 0;
    }
    if (vial_buf_append(b, s, len) != 0) return out_fail(r, n);
    return 0;
}

static int out_escaped(tpl_render *r, const tpl_node *n, const char *s, size_t len) {
    if (vial_tv_escape_into(r->out, s, len) != 0) return out_fail(r, n);
    return 0;
}

static int write_value(tpl_render *r, const tpl_node *n, vial_value *v, bool escape) {
    vial_buf *out = r->out;
    switch (v->type) {
    case VIAL_STRING:
        if (escape && !(v->flags & VIAL_FLAG_SAFE)) return out_escaped(r, n, v->as.s.ptr, v->as.s.len);
        return out_put(r, n, v->as.s.ptr, v->as.s.len);
    case VIAL_INT: {
        char tmp[24];
        char *end = tmp + sizeof tmp;
        uint64_t u = v->as.i < 0 ? (uint64_t)0 - (uint64_t)v->as.i : (uint64_t)v->as.i;
        char *p = tv_udigits(end, u);
        if (v->as.i < 0) *--p = '-';
        return out_put(r, n, p, (size_t)(end - p));
    }
    default: break;
    }
    int k = tv_kind(v);
    if (k == TK_UNDEF) {
        if (r->strict) return vial_tpl_undef_fail(r, n, v);
        return 0;
    }
    if (!escape || k == TK_DOUBLE || k == TK_BOOL || k == TK_NULL) {
        if (vial_tv_str(r, out, v) != 0) return r->failed ? -1 : out_fail(r, n);
        return 0;
    }
    vial_buf tmp;
    vial_tv_buf(r, &tmp);
    if (vial_tv_str(r, &tmp, v) != 0) return r->failed ? -1 : out_fail(r, n);
    return out_escaped(r, n, tmp.data ? tmp.data : "", tmp.len);
}

/* ---- {{ x|filter }} straight into the output ----
 *
 * The filters the compiler marked FAST_* (lower, upper, join, "lit%.Nflit"|format)
 * write their result into the output here, escaped on the way, instead of
 * building a string that write_value then scans and copies again. Each fast
 * path produces the bytes the filter followed by write_value produces; input
 * it does not cover goes through the filter as usual with the values already
 * evaluated, so nothing is evaluated twice. */

static int put_maybe_escaped(tpl_render *r, const tpl_node *n, const char *s, size_t len, bool escape) {
    return escape ? out_escaped(r, n, s, len) : out_put(r, n, s, len);
}

static int emit_filter_result(tpl_render *r, const tpl_node *p, const tpl_node *e, vial_value *in, vial_value **pos,
                              size_t npos) {
    vial_value *v = vial_tpl_apply_filter_node(r, e, in, pos, npos);
    if (!v) return -1;
    return write_value(r, p, v, r->autoescape);
}

static int emit_case(tpl_render *r, const tpl_node *p, const tpl_node *e, vial_value *in) {
    if (in->type == VIAL_STRING && in->as.s.len <= 256) {
        char tmp[256];
        size_t len = in->as.s.len;
        if (tv_ascii_case(tmp, in->as.s.ptr, len, e->u.filter.fast == FAST_UPPER))
            return put_maybe_escaped(r, p, tmp, len, r->autoescape && !(in->flags & VIAL_FLAG_SAFE));
    }
    return emit_filter_result(r, p, e, in, NULL, 0);
}

/* join: under autoescape, Markup parts go in as they are and the others
 * escaped (whether join returned Markup or a str that output escapes, the
 * bytes are these); without it, str() of each part. */
static int emit_join(tpl_render *r, const tpl_node *p, const tpl_node *e, vial_value *in, vial_value *sep) {
    if (in->type != VIAL_ARRAY || (sep && sep->type != VIAL_STRING)) return emit_filter_result(r, p, e, in, &sep, sep ? 1 : 0);
    size_t n = in->as.arr.len;
    vial_value **items = in->as.arr.items;
    for (size_t i = 0; i < n; i++)
        if (items[i]->type != VIAL_STRING && items[i]->type != VIAL_INT) return emit_filter_result(r, p, e, in, &sep, sep ? 1 : 0);
    bool escape = r->autoescape;
    bool sep_escape = escape && sep && !(sep->flags & VIAL_FLAG_SAFE);
    for (size_t i = 0; i < n; i++) {
        if (i && sep && sep->as.s.len && put_maybe_escaped(r, p, sep->as.s.ptr, sep->as.s.len, sep_escape) != 0) return -1;
        vial_value *it = items[i];
        if (it->type == VIAL_STRING) {
            if (put_maybe_escaped(r, p, it->as.s.ptr, it->as.s.len, escape && !(it->flags & VIAL_FLAG_SAFE)) != 0) return -1;
        } else if (write_value(r, p, it, false) != 0) {
            return -1;
        }
    }
    return 0;
}

/* "lit%.Nflit"|format(x) for a finite int or float: pyformat.c's %f (sign,
 * then vial_tpl_fixed_digits); digits never need escaping, the literals may. */
static int emit_format_f(tpl_render *r, const tpl_node *p, const tpl_node *e, vial_value *fmt, vial_value *x) {
    double d;
    if (x->type == VIAL_DOUBLE) d = x->as.d;
    else if (x->type == VIAL_INT) d = (double)x->as.i;
    else return emit_filter_result(r, p, e, fmt, &x, 1);
    char num[80];
    size_t k = 0;
    int dl = -1;
    if (isfinite(d)) {
        if (signbit(d)) num[k++] = '-';
        dl = vial_tpl_fixed_digits(num + k, sizeof num - k, fabs(d), e->u.filter.fast_prec);
    }
    if (dl < 0) return emit_filter_result(r, p, e, fmt, &x, 1);
    k += (size_t)dl;
    const char *s = fmt->as.s.ptr;
    size_t at = e->u.filter.fast_spec_at, end = e->u.filter.fast_spec_end;
    if (at && put_maybe_escaped(r, p, s, at, r->autoescape) != 0) return -1;
    if (out_put(r, p, num, k) != 0) return -1;
    if (end < fmt->as.s.len && put_maybe_escaped(r, p, s + end, fmt->as.s.len - end, r->autoescape) != 0) return -1;
    return 0;
}

/* Kept out of line: emit_output stays small enough to inline into the statement loop. */
__attribute__((noinline)) static int emit_fast(tpl_render *r, tpl_frame *f, const tpl_node *p, const tpl_node *e) {
    {
        const tpl_node *inode = e->u.filter.input;
        vial_value *in = inode->kind == N_CONST ? inode->u.value : vial_tpl_eval(r, f, inode);
        if (!in) return -1;
        vial_value *arg = NULL;
        if (e->u.filter.a.nargs) {
            const tpl_node *an = e->u.filter.a.args[0];
            arg = an->kind == N_CONST ? an->u.value : vial_tpl_eval(r, f, an);
            if (!arg) return -1;
        }
        switch (e->u.filter.fast) {
        case FAST_LOWER:
        case FAST_UPPER: return emit_case(r, p, e, in);
        case FAST_JOIN: return emit_join(r, p, e, in, arg);
        case FAST_FORMAT_F:
            if (in->type == VIAL_STRING && !(in->flags & VIAL_FLAG_SAFE) && in->as.s.len >= e->u.filter.fast_spec_end)
                return emit_format_f(r, p, e, in, arg);
            return emit_filter_result(r, p, e, in, &arg, 1);
        default: return emit_filter_result(r, p, e, in, &arg, arg ? 1 : 0);
        }
    }
}

static inline int emit_output(tpl_render *r, tpl_frame *f, const tpl_node *p) {
    const tpl_node *e = p->u.expr;
    if (e->kind == N_FILTER && e->u.filter.fast) return emit_fast(r, f, p, e);
    vial_value *v = vial_tpl_eval(r, f, e);
    if (!v) return -1;
    return write_value(r, p, v, r->autoescape);
}

/* ---- assignment targets ---- */

static int unpack(tpl_render *r, tpl_frame *f, const tpl_node *target, vial_value *v, const tpl_node *site,
                  bool export_ok);

static int assign(tpl_render *r, tpl_frame *f, const tpl_node *target, vial_value *v, const tpl_node *site,
                  bool export_ok) {
    if (target->kind == N_NAME) return assign_name(r, f, target->u.name.id, target->u.name.name, v, export_ok);
    if (target->kind == N_TUPLE) return unpack(r, f, target, v, site, export_ok);
    if (target->kind == N_NSREF) {
        vial_value *ns = vial_tpl_lookup(r, f, target->u.attr.obj->u.name.id, &target->u.attr.obj->u.name.name);
        if (!ns) return -1;
        if (tv_kind(ns) != TK_NAMESPACE) return vial_tpl_raise(r, site, "cannot assign attribute on non-namespace object");
        if (vial_object_set_ref(((tpl_ns *)ns)->attrs, target->u.attr.attr.ptr, target->u.attr.attr.len, v) != 0)
            return vial_tpl_oom(r, site), -1;
        return 0;
    }
    return vial_tpl_raise(r, site, "can't assign to this target");
}

static int unpack(tpl_render *r, tpl_frame *f, const tpl_node *target, vial_value *v, const tpl_node *site,
                  bool export_ok) {
    int k = tv_kind(v);
    if (k != TK_ARRAY && k != TK_OBJECT && k != TK_STRING && k != TK_RANGE && k != TK_UNDEF)
        return vial_tpl_raise(r, site, "cannot unpack non-iterable %s object", vial_tv_type_name(v));
    vial_value *list = vial_tv_list(r, site, v);
    if (!list) return -1;
    uint32_t want = target->u.items.n;
    if (list->as.arr.len < want)
        return vial_tpl_raise(r, site, "not enough values to unpack (expected %u, got %zu)", want, list->as.arr.len);
    if (list->as.arr.len > want) return vial_tpl_raise(r, site, "too many values to unpack (expected %u)", want);
    for (uint32_t i = 0; i < want; i++)
        if (assign(r, f, target->u.items.items[i], list->as.arr.items[i], site, export_ok) != 0) return -1;
    return 0;
}

/* ---- capturing ---- */

vial_value *vial_tpl_capture(tpl_render *r, tpl_frame *f, const tpl_list *body, bool safe) {
    vial_buf buf;
    vial_tv_buf(r, &buf);
    buf.max = r->out->max;
    vial_buf *saved = r->out;
    r->out = &buf;
    int rc = vial_tpl_exec(r, f, body);
    r->out = saved;
    if (rc != 0) return NULL;
    return vial_tv_buf_value(r, &buf, safe);
}

static int enter_depth(tpl_render *r, const tpl_node *site) {
    if (++r->depth > r->max_depth) {
        r->depth--;
        if (!r->failed) {
            vial_tpl_raise(r, site, "maximum recursion depth exceeded (%d nested calls, includes or loops)", r->max_depth);
            r->err->kind = VIAL_TPL_ERR_LIMIT;
        }
        return -1;
    }
    return 0;
}

static int step(tpl_render *r, const tpl_node *site) {
    if (r->max_steps && ++r->steps > r->max_steps) {
        if (!r->failed) {
            vial_tpl_raise(r, site, "template work limit of %llu steps exceeded", (unsigned long long)r->max_steps);
            r->err->kind = VIAL_TPL_ERR_LIMIT;
        }
        return -1;
    }
    return 0;
}

/* ---- macros ---- */

static bool kw_is(const vial_str *k, const char *name, size_t len) {
    return k->len == len && memcmp(k->ptr, name, len) == 0;
}

vial_value *vial_tpl_call_macro(tpl_render *r, const tpl_node *site, tpl_macro *m, tpl_args *a) {
    const tpl_macro_def *d = m->def;
    char mname[128];
    if (d->call)
        snprintf(mname, sizeof mname, "None");
    else
        snprintf(mname, sizeof mname, "'%.*s'", (int)(d->name.len > 100 ? 100 : d->name.len), d->name.ptr);
    bool *used = a->nkw ? vial_arena_calloc(r->arena, a->nkw * sizeof *used) : NULL;
    vial_value **vals = vial_arena_calloc(r->arena, (d->nparams + 1) * sizeof *vals);
    if ((a->nkw && !used) || !vals) return vial_tpl_oom(r, site);

    /* Jinja2's Macro.__call__: positional first, then keywords by name */
    size_t npos = a->npos < d->nparams ? a->npos : d->nparams;
    bool found_caller = false;
    for (uint32_t i = 0; i < d->nparams; i++) {
        if (i < npos) {
            vals[i] = a->pos[i];
            continue;
        }
        for (size_t k = 0; k < a->nkw; k++)
            if (!used[k] && kw_is(&a->kwnames[k], d->params[i].ptr, d->params[i].len)) {
                vals[i] = a->kwvals[k];
                used[k] = true;
                break;
            }
        if (d->params[i].len == 6 && memcmp(d->params[i].ptr, "caller", 6) == 0) found_caller = true;
    }
    if (npos == d->nparams) found_caller = d->explicit_caller;
    vial_value *caller = NULL;
    if (d->uses_caller && !found_caller) {
        for (size_t k = 0; k < a->nkw; k++)
            if (!used[k] && kw_is(&a->kwnames[k], "caller", 6)) {
                caller = a->kwvals[k];
                used[k] = true;
                break;
            }
        if (!caller || tv_kind(caller) == TK_NULL) {
            caller = vial_tpl_undefined(r, "No caller defined", NULL, "caller", 6);
            if (!caller) return NULL;
        }
    }
    vial_value *kwargs = NULL;
    if (d->uses_kwargs) {
        kwargs = vial_new_object(r->arena);
        if (!kwargs) return vial_tpl_oom(r, site);
        for (size_t k = 0; k < a->nkw; k++)
            if (!used[k] && vial_object_set_ref(kwargs, a->kwnames[k].ptr, a->kwnames[k].len, a->kwvals[k]) != 0)
                return vial_tpl_oom(r, site);
    } else {
        for (size_t k = 0; k < a->nkw; k++) {
            if (used[k]) continue;
            for (size_t j = 0; j < a->nkw; j++)
                if (!used[j] && kw_is(&a->kwnames[j], "caller", 6))
                    return vial_tpl_failv(r, site,
                                     "macro %s was invoked with two values for the special caller argument. This is "
                                     "most likely a bug.",
                                     mname);
            return vial_tpl_failv(r, site, "macro %s takes no keyword argument '%.*s'", mname, (int)a->kwnames[k].len,
                             a->kwnames[k].ptr);
        }
    }
    vial_value *varargs = NULL;
    if (d->uses_varargs) {
        size_t extra = a->npos > d->nparams ? a->npos - d->nparams : 0;
        varargs = vial_tv_tuple(r, extra, a->pos + (a->npos - extra));
        if (!varargs) return NULL;
    } else if (a->npos > d->nparams) {
        return vial_tpl_failv(r, site, "macro %s takes not more than %u argument(s)", mname, d->nparams);
    }

    if (step(r, site) != 0 || enter_depth(r, site) != 0) return NULL;
    bool caller_autoescape = r->autoescape;
    const tpl_template *saved_tmpl = r->tmpl;
    const tpl_node *saved_stmt = r->stmt;
    r->autoescape = m->autoescape;
    r->tmpl = m->tmpl;
    r->stmt = d->node;
    vial_value *result = NULL;
    tpl_frame mf;
    vial_tpl_frame_init(&mf, m->closure, m->closure ? m->closure->ctx : NULL);
    for (uint32_t i = 0; i < d->nparams; i++) {
        vial_value *v = vals[i];
        if (!v && d->defaults[i]) {
            r->stmt = d->node;
            v = vial_tpl_eval(r, &mf, d->defaults[i]);
            if (!v) goto out;
        } else if (!v) {
            const char *hint = vial_arena_sprintf(r->arena, "parameter '%.*s' was not provided", (int)d->params[i].len,
                                                  d->params[i].ptr);
            v = vial_tpl_undefined(r, hint, NULL, d->params[i].ptr, d->params[i].len);
            if (!v) goto out;
        }
        if (vial_tpl_frame_set(r, &mf, d->param_ids[i], v) != 0) goto out;
    }
    if (caller && vial_tpl_frame_set(r, &mf, r->env->id_caller, caller) != 0) goto out;
    if (kwargs && vial_tpl_frame_set(r, &mf, r->env->id_kwargs, kwargs) != 0) goto out;
    if (varargs && vial_tpl_frame_set(r, &mf, r->env->id_varargs, varargs) != 0) goto out;
    result = vial_tpl_capture(r, &mf, &d->body, false);
    if (result && caller_autoescape) result->flags |= VIAL_FLAG_SAFE;
out:
    r->autoescape = caller_autoescape;
    r->tmpl = saved_tmpl;
    r->stmt = saved_stmt;
    r->depth--;
    return r->failed ? NULL : result;
}

static vial_value *make_macro(tpl_render *r, tpl_frame *f, const tpl_macro_def *d) {
    tpl_macro *m = vial_tpl_obj_new(r->arena, sizeof *m, TK_MACRO);
    if (!m) return vial_tpl_oom(r, NULL);
    m->def = d;
    m->closure = f;
    m->tmpl = r->tmpl;
    m->autoescape = r->autoescape;
    return &m->h.base;
}

/* ---- for loops ---- */

static int run_loop(tpl_render *r, tpl_frame *f, const tpl_node *n, vial_value *iterable, int depth0);

vial_value *vial_tpl_call_loop(tpl_render *r, const tpl_node *site, tpl_loop *l, tpl_args *a) {
    if (!(l->node->flags & NF_RECURSIVE))
        return vial_tpl_failv(r, site, "The loop must have the 'recursive' marker to be called recursively.");
    if (a->npos != 1 || a->nkw) return vial_tpl_failv(r, site, "loop() takes exactly one argument");
    if (enter_depth(r, site) != 0) return NULL;
    vial_buf buf;
    vial_tv_buf(r, &buf);
    buf.max = r->out->max;
    vial_buf *saved = r->out;
    const tpl_node *saved_stmt = r->stmt;
    r->out = &buf;
    int rc = run_loop(r, l->frame, l->node, a->pos[0], l->depth0 + 1);
    r->out = saved;
    r->depth--;
    if (rc != 0) return NULL;
    r->stmt = saved_stmt;
    return vial_tv_buf_value(r, &buf, r->autoescape);
}

static int bind_target(tpl_render *r, tpl_frame *f, const tpl_node *target, vial_value *item, const tpl_node *site) {
    if (target->kind == N_NAME) return frame_put(r, f, target->u.name.id, item, -1) == 0 ? 0 : (vial_tpl_oom(r, site), -1);
    return assign(r, f, target, item, site, false);
}

static int run_loop(tpl_render *r, tpl_frame *f, const tpl_node *n, vial_value *iterable, int depth0) {
    vial_value *list = vial_tv_list(r, n, iterable);
    if (!list) return -1;
    const tpl_node *target = n->u.for_.target;
    size_t len = list->as.arr.len;
    vial_value **items = list->as.arr.items;
    if (n->u.for_.filter) {
        vial_value **kept = vial_arena_alloc(r->arena, (len ? len : 1) * sizeof *kept);
        if (!kept) return vial_tpl_oom(r, n), -1;
        size_t nk = 0;
        tpl_frame tf;
        for (size_t i = 0; i < len; i++) {
            vial_tpl_frame_init(&tf, f, f->ctx);
            if (bind_target(r, &tf, target, items[i], n) != 0) return -1;
            vial_value *t = vial_tpl_eval(r, &tf, n->u.for_.filter);
            if (!t) return -1;
            int c = vial_tv_truthy(r, n->u.for_.filter, t);
            if (c < 0) return -1;
            if (c) kept[nk++] = items[i];
        }
        items = kept;
        len = nk;
    }
    tpl_loop *loop = NULL;
    if (n->flags & NF_USES_LOOP) {
        loop = vial_tpl_obj_new(r->arena, sizeof *loop, TK_LOOP);
        if (!loop) return vial_tpl_oom(r, n), -1;
        loop->iterable = list;
        loop->items = items;
        loop->len = len;
        loop->depth0 = depth0;
        loop->node = n;
        loop->frame = f;
    }
    tpl_frame it;
    vial_tpl_frame_init(&it, f, f->ctx);
    for (size_t i = 0; i < len; i++) {
        if (step(r, n) != 0) return -1;
        it.n = 0;
        if (loop) {
            loop->index0 = i;
            it.ids[0] = r->env->id_loop;
            it.vals[0] = &loop->h.base;
            it.n = 1;
        }
        vial_value *item = items[i];
        if (target->kind == N_NAME) {
            /* the frame was just emptied: the target goes straight in */
            it.ids[it.n] = target->u.name.id;
            it.vals[it.n] = item;
            it.n++;
        } else if (assign(r, &it, target, item, n, false) != 0) {
            return -1;
        }
        if (vial_tpl_exec(r, &it, &n->u.for_.body) != 0) return -1;
    }
    if (len == 0 && n->u.for_.orelse.n) {
        tpl_frame ef;
        vial_tpl_frame_init(&ef, f, f->ctx);
        return vial_tpl_exec(r, &ef, &n->u.for_.orelse);
    }
    return 0;
}

static int exec_for(tpl_render *r, tpl_frame *f, const tpl_node *n) {
    vial_value *iterable = vial_tpl_eval(r, f, n->u.for_.iter);
    if (!iterable) return -1;
    if (n->flags & NF_RECURSIVE) {
        if (enter_depth(r, n) != 0) return -1;
        int rc = run_loop(r, f, n, iterable, 0);
        r->depth--;
        return rc;
    }
    return run_loop(r, f, n, iterable, 0);
}

/* ---- blocks ---- */

static int render_block(tpl_render *r, tpl_context *ctx, const tpl_block_stack *st, uint32_t depth,
                        tpl_frame *scope_parent, const tpl_node *site) {
    if (enter_depth(r, site) != 0) return -1;
    const tpl_block_def *d = st->defs[depth];
    const tpl_template *saved_tmpl = r->tmpl;
    bool saved_ae = r->autoescape;
    const tpl_node *saved_stmt = r->stmt;
    r->tmpl = st->tmpls[depth];
    r->autoescape = st->tmpls[depth]->autoescape;
    tpl_frame bf;
    vial_tpl_frame_init(&bf, scope_parent, ctx);
    int rc = 0;
    tpl_func *sup = vial_tpl_obj_new(r->arena, sizeof *sup, TK_FUNC);
    if (!sup) {
        vial_tpl_oom(r, site);
        rc = -1;
    } else {
        sup->fkind = FN_BLOCK;
        sup->ctx = ctx;
        sup->stack = st;
        sup->depth = depth + 1;
        sup->name = vial_arena_strndup(r->arena, st->name.ptr, st->name.len);
        vial_value *sv = &sup->h.base;
        if (depth + 1 >= st->n) {
            sv = vial_tpl_undefined(r, vial_arena_sprintf(r->arena, "there is no parent block called '%s'.", sup->name),
                               NULL, "super", 5);
            if (!sv) rc = -1;
        }
        if (rc == 0 && vial_tpl_frame_set(r, &bf, r->env->id_super, sv) != 0) rc = -1;
    }
    if (rc == 0) rc = vial_tpl_exec(r, &bf, &d->body);
    r->depth--;
    r->autoescape = saved_ae;
    if (rc == 0) {
        r->tmpl = saved_tmpl;
        r->stmt = saved_stmt;
    }
    return rc;
}

vial_value *vial_tpl_call_block(tpl_render *r, const tpl_node *site, tpl_func *f) {
    if (f->depth >= f->stack->n)
        return vial_tpl_failv(r, site, "there is no parent block called '%s'.", f->name);
    vial_buf buf;
    vial_tv_buf(r, &buf);
    buf.max = r->out->max;
    vial_buf *saved = r->out;
    r->out = &buf;
    bool ae = r->autoescape;
    int rc = render_block(r, f->ctx, f->stack, f->depth, NULL, site);
    r->out = saved;
    if (rc != 0) return NULL;
    return vial_tv_buf_value(r, &buf, ae);
}

static tpl_block_stack *stack_for(tpl_render *r, tpl_context *ctx, vial_str name) {
    for (uint32_t i = 0; i < ctx->nblocks; i++)
        if (ctx->blocks[i].name.len == name.len && memcmp(ctx->blocks[i].name.ptr, name.ptr, name.len) == 0)
            return &ctx->blocks[i];
    if (ctx->nblocks == ctx->blocks_cap) {
        uint32_t cap = ctx->blocks_cap ? ctx->blocks_cap * 2 : 8;
        tpl_block_stack *b = vial_arena_alloc(r->arena, cap * sizeof *b);
        if (!b) return NULL;
        if (ctx->nblocks) memcpy(b, ctx->blocks, ctx->nblocks * sizeof *b);
        ctx->blocks = b;
        ctx->blocks_cap = cap;
    }
    tpl_block_stack *s = &ctx->blocks[ctx->nblocks++];
    memset(s, 0, sizeof *s);
    s->name = name;
    return s;
}

int vial_tpl_context_add_blocks(tpl_render *r, tpl_context *ctx, const tpl_template *t) {
    for (uint32_t i = 0; i < t->nblocks; i++) {
        tpl_block_stack *s = stack_for(r, ctx, t->blocks[i]->name);
        if (!s) return vial_tpl_oom(r, NULL), -1;
        if (s->n == s->cap) {
            uint32_t cap = s->cap ? s->cap * 2 : 4;
            const tpl_block_def **d = vial_arena_alloc(r->arena, cap * sizeof *d);
            const tpl_template **tm = vial_arena_alloc(r->arena, cap * sizeof *tm);
            if (!d || !tm) return vial_tpl_oom(r, NULL), -1;
            if (s->n) {
                memcpy(d, s->defs, s->n * sizeof *d);
                memcpy(tm, s->tmpls, s->n * sizeof *tm);
            }
            s->defs = d;
            s->tmpls = tm;
            s->cap = cap;
        }
        s->defs[s->n] = t->blocks[i];
        s->tmpls[s->n] = t;
        s->n++;
    }
    return 0;
}

static int exec_block(tpl_render *r, tpl_frame *f, const tpl_node *n) {
    tpl_context *ctx = f->ctx;
    if ((n->flags & NF_TOPLEVEL) && ctx->parent_tmpl) return 0;
    const tpl_block_def *d = n->u.block;
    tpl_block_stack *st = NULL;
    for (uint32_t i = 0; i < ctx->nblocks; i++)
        if (ctx->blocks[i].name.len == d->name.len && memcmp(ctx->blocks[i].name.ptr, d->name.ptr, d->name.len) == 0)
            st = &ctx->blocks[i];
    if (!st || st->n == 0) return vial_tpl_raise(r, n, "'%.*s'", (int)d->name.len, d->name.ptr);
    if (d->required && st->n <= 1)
        return vial_tpl_raise(r, n, "Required block '%.*s' not found", (int)d->name.len, d->name.ptr);
    return render_block(r, ctx, st, 0, (n->flags & NF_SCOPED) ? f : NULL, n);
}

/* ---- template loading from expressions ---- */

static void not_found(tpl_render *r, const tpl_node *site, const tpl_err *e) {
    if (r->failed) return;
    r->failed = true;
    *r->err = *e;
    if (e->kind == VIAL_TPL_ERR_NOT_FOUND) {
        /* report where the include/extends/import is */
        vial_tpl_err_where(r->err, r->tmpl);
        r->err->line = (int)site->line;
        r->err->column = (int)site->col;
    }
}

/* Loads by name or from a list of names (the first that exists). NULL with
 * *missing set when nothing was found (the caller decides if that is fine). */
static const tpl_template *load_named(tpl_render *r, const tpl_node *site, vial_value *name, bool ignore_missing,
                                      bool *missing) {
    *missing = false;
    tpl_err e = {0};
    int k = tv_kind(name);
    if (k == TK_STRING) {
        tpl_template *t = vial_tpl_env_load(r->env, name->as.s.ptr, name->as.s.len, &e);
        if (!t) {
            if (e.kind == VIAL_TPL_ERR_NOT_FOUND) *missing = true;
            if (!(*missing && ignore_missing)) not_found(r, site, &e);
        }
        return t;
    }
    if (k == TK_ARRAY) {
        for (size_t i = 0; i < name->as.arr.len; i++) {
            vial_value *one = name->as.arr.items[i];
            if (one->type != VIAL_STRING) continue;
            tpl_err e2 = {0};
            tpl_template *t = vial_tpl_env_load(r->env, one->as.s.ptr, one->as.s.len, &e2);
            if (t) return t;
            if (e2.kind != VIAL_TPL_ERR_NOT_FOUND) {
                not_found(r, site, &e2);
                return NULL;
            }
        }
        *missing = true;
        if (ignore_missing) return NULL;
        vial_buf b;
        vial_buf_init(&b, r->arena, 400);
        vial_tv_repr(r, &b, name);
        vial_tpl_raise(r, site, "None of the templates given were found: %s", vial_buf_cstr(&b));
        r->err->kind = VIAL_TPL_ERR_NOT_FOUND;
        return NULL;
    }
    if (k == TK_UNDEF) {
        vial_tpl_undef_fail(r, site, name);
        return NULL;
    }
    vial_tpl_raise(r, site, "template name must be a string, not %s", vial_tv_type_name(name));
    return NULL;
}

static int exec_extends(tpl_render *r, tpl_frame *f, const tpl_node *n) {
    tpl_context *ctx = f->ctx;
    if (ctx->parent_tmpl) return vial_tpl_raise(r, n, "extended multiple times");
    vial_value *name = vial_tpl_eval(r, f, n->u.expr);
    if (!name) return -1;
    bool missing;
    const tpl_template *parent = load_named(r, n, name, false, &missing);
    if (!parent) return -1;
    if (vial_tpl_context_add_blocks(r, ctx, parent) != 0) return -1;
    ctx->parent_tmpl = parent;
    return 0;
}

int vial_tpl_run_template(tpl_render *r, tpl_context *ctx, const tpl_template *t) {
    if (enter_depth(r, NULL) != 0) return -1;
    const tpl_template *saved_tmpl = r->tmpl;
    bool saved_ae = r->autoescape;
    const tpl_node *saved_stmt = r->stmt;
    const tpl_template *saved_parent = ctx->parent_tmpl;
    int rc = 0;
    int levels = 0;
    ctx->parent_tmpl = NULL;
    while (t) {
        r->tmpl = t;
        r->autoescape = t->autoescape;
        r->stmt = NULL;
        rc = vial_tpl_exec(r, &ctx->vars, &t->root);
        if (rc != 0) break;
        t = ctx->parent_tmpl;
        ctx->parent_tmpl = NULL;
        if (t && ++levels > r->max_depth) {
            vial_tpl_raise(r, NULL, "maximum recursion depth exceeded (template extends itself)");
            r->err->kind = VIAL_TPL_ERR_LIMIT;
            rc = -1;
            break;
        }
    }
    ctx->parent_tmpl = saved_parent;
    r->depth--;
    r->autoescape = saved_ae;
    if (rc == 0) {
        r->tmpl = saved_tmpl;
        r->stmt = saved_stmt;
    }
    return rc;
}

static tpl_context *new_sub_context(tpl_render *r, const tpl_template *t, tpl_frame *f, bool with_context) {
    tpl_context *c = vial_tpl_context_new(r, t, with_context ? f : NULL, with_context);
    if (!c) return NULL;
    if (vial_tpl_context_add_blocks(r, c, t) != 0) return NULL;
    return c;
}

static int exec_include(tpl_render *r, tpl_frame *f, const tpl_node *n) {
    vial_value *name = vial_tpl_eval(r, f, n->u.imp.tmpl);
    if (!name) return -1;
    bool missing;
    const tpl_template *t = load_named(r, n, name, n->flags & NF_IGNORE_MISSING, &missing);
    if (!t) return r->failed ? -1 : 0;
    tpl_context *c = new_sub_context(r, t, f, n->flags & NF_WITH_CONTEXT);
    if (!c) return -1;
    return vial_tpl_run_template(r, c, t);
}

static tpl_module *make_module(tpl_render *r, tpl_frame *f, const tpl_node *n) {
    vial_value *name = vial_tpl_eval(r, f, n->u.imp.tmpl);
    if (!name) return NULL;
    bool missing;
    const tpl_template *t = load_named(r, n, name, false, &missing);
    if (!t) return NULL;
    tpl_context *c = new_sub_context(r, t, f, n->flags & NF_WITH_CONTEXT);
    if (!c) return NULL;
    vial_buf buf;
    vial_tv_buf(r, &buf);
    buf.max = r->out->max;
    vial_buf *saved = r->out;
    r->out = &buf;
    int rc = vial_tpl_run_template(r, c, t);
    r->out = saved;
    if (rc != 0) return NULL;
    tpl_module *m = vial_tpl_obj_new(r->arena, sizeof *m, TK_MODULE);
    vial_value *exports = vial_new_object(r->arena);
    if (!m || !exports) return (tpl_module *)vial_tpl_oom(r, n);
    for (uint32_t i = 0; i < c->vars.n; i++) {
        if (!c->vars.exported || !c->vars.exported[i]) continue;
        vial_str nm = r->env->names.names[c->vars.ids[i]];
        if (vial_object_set_ref(exports, nm.ptr, nm.len, c->vars.vals[i]) != 0) return (tpl_module *)vial_tpl_oom(r, n);
    }
    m->exports = exports;
    m->body = vial_tv_buf_value(r, &buf, false);
    m->name = t->name;
    return m;
}

static int exec_import(tpl_render *r, tpl_frame *f, const tpl_node *n) {
    tpl_module *m = make_module(r, f, n);
    if (!m) return -1;
    return assign_name(r, f, n->u.imp.target_id, n->u.imp.target, &m->h.base, false);
}

static int exec_from_import(tpl_render *r, tpl_frame *f, const tpl_node *n) {
    tpl_module *m = make_module(r, f, n);
    if (!m) return -1;
    for (uint32_t i = 0; i < n->u.imp.nnames; i++) {
        const tpl_import_name *in = &n->u.imp.names[i];
        vial_value *v = vial_object_getn(m->exports, in->name.ptr, in->name.len);
        if (!v) {
            const char *tname = r->tmpl && r->tmpl->name && r->tmpl->name[0] ? r->tmpl->name : NULL;
            const char *hint =
                tname ? vial_arena_sprintf(r->arena,
                                           "the template '%s' (imported on line %u in '%s') does not export the "
                                           "requested name '%.*s'",
                                           m->name ? m->name : "", n->line, tname, (int)in->name.len, in->name.ptr)
                      : vial_arena_sprintf(r->arena,
                                           "the template '%s' (imported on line %u) does not export the requested "
                                           "name '%.*s'",
                                           m->name ? m->name : "", n->line, (int)in->name.len, in->name.ptr);
            v = vial_tpl_undefined(r, hint, NULL, in->name.ptr, in->name.len);
            if (!v) return -1;
        }
        if (assign_name(r, f, in->alias_id, in->alias, v, false) != 0) return -1;
    }
    return 0;
}

/* ---- statements ---- */

static int exec_output(tpl_render *r, tpl_frame *f, const tpl_node *n) { return emit_output(r, f, n); }

static int write_raw(tpl_render *r, const tpl_node *n, vial_value *v) {
    if (v->type == VIAL_STRING) return out_put(r, n, v->as.s.ptr, v->as.s.len);
    if (vial_tv_str(r, r->out, v) != 0) return r->failed ? -1 : out_fail(r, n);
    return 0;
}

static int exec_stmt(tpl_render *r, tpl_frame *f, const tpl_node *n) {
    r->stmt = n;
    switch (n->kind) {
    case S_MULTI: {
        /* a run of text and {{ }} outputs, fused by the compiler */
        if ((n->flags & NF_CHECK_EXTENDS) && f->ctx && f->ctx->parent_tmpl) return 0;
        const tpl_list *parts = &n->u.items;
        for (uint32_t i = 0; i < parts->n; i++) {
            const tpl_node *p = parts->items[i];
            if (p->kind == S_TEXT) {
                if (out_put(r, p, p->u.text.ptr, p->u.text.len) != 0) return -1;
                continue;
            }
            r->stmt = p;
            if (emit_output(r, f, p) != 0) return -1;
        }
        return 0;
    }
    case S_TEXT:
        if ((n->flags & NF_CHECK_EXTENDS) && f->ctx && f->ctx->parent_tmpl) return 0;
        return out_put(r, n, n->u.text.ptr, n->u.text.len);
    case S_OUTPUT:
        if ((n->flags & NF_CHECK_EXTENDS) && f->ctx && f->ctx->parent_tmpl) return 0;
        return exec_output(r, f, n);
    case S_IF:
        for (;;) {
            vial_value *t = vial_tpl_eval(r, f, n->u.if_.test);
            if (!t) return -1;
            int c = vial_tv_truthy(r, n, t);
            if (c < 0) return -1;
            if (c) return vial_tpl_exec(r, f, &n->u.if_.body);
            /* elif chains are nested ifs: walk them instead of recursing */
            if (n->u.if_.orelse.n == 1 && n->u.if_.orelse.items[0]->kind == S_IF) {
                n = n->u.if_.orelse.items[0];
                r->stmt = n;
                continue;
            }
            return vial_tpl_exec(r, f, &n->u.if_.orelse);
        }
    case S_FOR: return exec_for(r, f, n);
    case S_SET: {
        vial_value *v = vial_tpl_eval(r, f, n->u.set.value);
        if (!v) return -1;
        return assign(r, f, n->u.set.target, v, n, true);
    }
    case S_SETBLOCK: {
        tpl_frame bf;
        vial_tpl_frame_init(&bf, f, f->ctx);
        vial_value *v = vial_tpl_capture(r, &bf, &n->u.setblock.body, r->autoescape);
        if (!v) return -1;
        if (n->u.setblock.filter) {
            r->stmt = n;
            v = vial_tpl_filter_chain(r, &bf, n->u.setblock.filter, v);
            if (!v) return -1;
            if (r->autoescape && !tv_is_safe(v)) {
                v = vial_tv_to_str(r, n, v);
                if (!v) return -1;
                v = vial_tv_strn(r, v->as.s.ptr, v->as.s.len, true);
                if (!v) return -1;
            }
        }
        return assign(r, f, n->u.setblock.target, v, n, true);
    }
    case S_MACRO: {
        vial_value *m = make_macro(r, f, n->u.macro);
        if (!m) return -1;
        return assign_name(r, f, n->u.macro->name_id, n->u.macro->name, m, true);
    }
    case S_CALLBLOCK: {
        vial_value *caller = make_macro(r, f, n->u.macro);
        if (!caller) return -1;
        vial_value *v = vial_tpl_eval_call_with_caller(r, f, n->u.macro->call, caller);
        if (!v) return -1;
        r->stmt = n;
        return write_raw(r, n, v);
    }
    case S_INCLUDE: return exec_include(r, f, n);
    case S_IMPORT: return exec_import(r, f, n);
    case S_FROMIMPORT: return exec_from_import(r, f, n);
    case S_EXTENDS: return exec_extends(r, f, n);
    case S_BLOCK: return exec_block(r, f, n);
    case S_WITH: {
        tpl_frame wf;
        vial_tpl_frame_init(&wf, f, f->ctx);
        for (uint32_t i = 0; i < n->u.with.n; i++) {
            vial_value *v = vial_tpl_eval(r, f, n->u.with.values[i]);
            if (!v) return -1;
            if (assign(r, &wf, n->u.with.targets[i], v, n, false) != 0) return -1;
        }
        return vial_tpl_exec(r, &wf, &n->u.with.body);
    }
    case S_FILTERBLOCK: {
        tpl_frame bf;
        vial_tpl_frame_init(&bf, f, f->ctx);
        vial_value *v = vial_tpl_capture(r, &bf, &n->u.filterblock.body, r->autoescape);
        if (!v) return -1;
        r->stmt = n;
        v = vial_tpl_filter_chain(r, &bf, n->u.filterblock.filter, v);
        if (!v) return -1;
        return write_raw(r, n, v);
    }
    case S_AUTOESCAPE: {
        vial_value *v = vial_tpl_eval(r, f, n->u.autoescape.value);
        if (!v) return -1;
        int on = vial_tv_truthy(r, n, v);
        if (on < 0) return -1;
        bool saved = r->autoescape;
        r->autoescape = on;
        tpl_frame sf;
        vial_tpl_frame_init(&sf, f, f->ctx);
        int rc = vial_tpl_exec(r, &sf, &n->u.autoescape.body);
        r->autoescape = saved;
        return rc;
    }
    default: return vial_tpl_raise(r, n, "internal error: node %d is not a statement", n->kind);
    }
}

int vial_tpl_exec(tpl_render *r, tpl_frame *f, const tpl_list *body) {
    for (uint32_t i = 0; i < body->n; i++)
        if (exec_stmt(r, f, body->items[i]) != 0) return -1;
    return 0;
}
