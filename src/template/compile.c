/* compile.c - from a parsed tree to one ready to render.
 *
 * Jinja2 finds some errors only while generating Python code: a block
 * defined twice, extends outside the top level, a filter or test that does
 * not exist (except inside if statements and inline ifs, where it fails only
 * when reached), `loop` as a for target. This pass makes the same checks in
 * the same places, and prepares the tree for rendering:
 *   - filters and tests are resolved to function pointers once;
 *   - for loops learn whether they need a loop object, macros whether they
 *     take caller/varargs/kwargs (Jinja2's "undeclared name" analysis);
 *   - output after {% extends %} is marked so the renderer can skip it;
 *   - constant sub-expressions are folded, constant output becomes static
 *     text (escaped now when the template autoescapes), and neighbouring
 *     static texts merge, so rendering static parts costs one memcpy. */
#include "template/tpl.h"

#include <stdio.h>
#include <string.h>

typedef struct compiler {
    struct vial_tpl_env *env;
    tpl_template *t;
    tpl_err *err;
    bool failed;
    int depth;
} compiler;

typedef struct scope {
    bool soft;          /* inside if / inline if */
    bool toplevel;      /* the template's top level (ifs included) */
    bool check_extends; /* output here is dropped once the template extends */
    int ae;             /* static autoescape: 1, 0, or -1 when decided at runtime */
    int ae_fold;        /* what Jinja2's compiler believes it is: constant output is escaped by this,
                           even inside {% autoescape expr %} with a non-constant expr */
} scope;

static int fail(compiler *c, const tpl_node *n, const char *fmt, ...) VIAL_PRINTF(3, 4);
static int fail(compiler *c, const tpl_node *n, const char *fmt, ...) {
    if (c->failed) return -1;
    c->failed = true;
    c->err->kind = VIAL_TPL_ERR_SYNTAX;
    c->err->line = (int)n->line;
    c->err->column = (int)n->col;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err->message, sizeof c->err->message, fmt, ap);
    va_end(ap);
    return -1;
}

static bool str_is(vial_str s, const char *lit) { return s.len == strlen(lit) && memcmp(s.ptr, lit, s.len) == 0; }

/* ---- Jinja2's find_undeclared: is `name` loaded before it is stored? ---- */

typedef struct undecl {
    const char *name;
    int state; /* 0 unknown, 1 loaded (undeclared), 2 declared */
} undecl;

static void ud_expr(undecl *u, const tpl_node *n);
static void ud_body(undecl *u, const tpl_list *body);

static void ud_args(undecl *u, const tpl_callargs *a) {
    for (uint32_t i = 0; i < a->nargs; i++) ud_expr(u, a->args[i]);
    for (uint32_t i = 0; i < a->nkw; i++) ud_expr(u, a->kwvalues[i]);
    ud_expr(u, a->dyn_args);
    ud_expr(u, a->dyn_kwargs);
}

static void ud_store(undecl *u, const tpl_node *target) {
    if (!target || u->state) return;
    if (target->kind == N_NAME) {
        if (str_is(target->u.name.name, u->name)) u->state = 2;
    } else if (target->kind == N_TUPLE) {
        for (uint32_t i = 0; i < target->u.items.n; i++) ud_store(u, target->u.items.items[i]);
    } else if (target->kind == N_NSREF) {
        ud_expr(u, target->u.attr.obj);
    }
}

static void ud_name(undecl *u, vial_str name) {
    if (!u->state && str_is(name, u->name)) u->state = 2;
}

static void ud_expr(undecl *u, const tpl_node *n) {
    if (!n || u->state) return;
    switch (n->kind) {
    case N_NAME:
        if (str_is(n->u.name.name, u->name)) u->state = 1;
        break;
    case N_GETATTR:
    case N_NSREF: ud_expr(u, n->u.attr.obj); break;
    case N_GETITEM:
        ud_expr(u, n->u.item.obj);
        ud_expr(u, n->u.item.key);
        break;
    case N_SLICE:
        ud_expr(u, n->u.slice.obj);
        ud_expr(u, n->u.slice.start);
        ud_expr(u, n->u.slice.stop);
        ud_expr(u, n->u.slice.step);
        break;
    case N_CALL:
        ud_expr(u, n->u.call.callee);
        ud_args(u, &n->u.call.a);
        break;
    case N_FILTER:
    case N_TEST:
        ud_expr(u, n->u.filter.input);
        ud_args(u, &n->u.filter.a);
        break;
    case N_BINOP:
    case N_AND:
    case N_OR:
        ud_expr(u, n->u.bin.l);
        ud_expr(u, n->u.bin.r);
        break;
    case N_NEG:
    case N_POS:
    case N_NOT: ud_expr(u, n->u.operand); break;
    case N_COMPARE:
        ud_expr(u, n->u.cmp.first);
        for (uint32_t i = 0; i < n->u.cmp.n; i++) ud_expr(u, n->u.cmp.rhs[i]);
        break;
    case N_LIST:
    case N_TUPLE:
    case N_CONCAT:
        for (uint32_t i = 0; i < n->u.items.n; i++) ud_expr(u, n->u.items.items[i]);
        break;
    case N_DICT:
        for (uint32_t i = 0; i < n->u.dict.n; i++) {
            ud_expr(u, n->u.dict.keys[i]);
            ud_expr(u, n->u.dict.values[i]);
        }
        break;
    case N_COND:
        ud_expr(u, n->u.cond.test);
        ud_expr(u, n->u.cond.then);
        ud_expr(u, n->u.cond.otherwise);
        break;
    default: break;
    }
}

static void ud_macro(undecl *u, const tpl_macro_def *m) {
    for (uint32_t i = 0; i < m->nparams; i++) ud_name(u, m->params[i]);
    for (uint32_t i = 0; i < m->nparams; i++) ud_expr(u, m->defaults[i]);
    ud_body(u, &m->body);
}

static void ud_stmt(undecl *u, const tpl_node *n) {
    if (u->state) return;
    switch (n->kind) {
    case S_OUTPUT:
    case S_EXTENDS: ud_expr(u, n->u.expr); break;
    case S_IF:
        ud_expr(u, n->u.if_.test);
        ud_body(u, &n->u.if_.body);
        ud_body(u, &n->u.if_.orelse);
        break;
    case S_FOR:
        ud_store(u, n->u.for_.target);
        ud_expr(u, n->u.for_.iter);
        ud_body(u, &n->u.for_.body);
        ud_body(u, &n->u.for_.orelse);
        ud_expr(u, n->u.for_.filter);
        break;
    case S_SET:
        ud_store(u, n->u.set.target);
        ud_expr(u, n->u.set.value);
        break;
    case S_SETBLOCK:
        ud_store(u, n->u.setblock.target);
        ud_body(u, &n->u.setblock.body);
        ud_expr(u, n->u.setblock.filter);
        break;
    case S_MACRO:
        ud_name(u, n->u.macro->name);
        ud_macro(u, n->u.macro);
        break;
    case S_CALLBLOCK:
        ud_expr(u, n->u.macro->call);
        ud_macro(u, n->u.macro);
        break;
    case S_INCLUDE: ud_expr(u, n->u.imp.tmpl); break;
    case S_IMPORT:
        ud_expr(u, n->u.imp.tmpl);
        ud_name(u, n->u.imp.target);
        break;
    case S_FROMIMPORT:
        ud_expr(u, n->u.imp.tmpl);
        for (uint32_t i = 0; i < n->u.imp.nnames; i++) ud_name(u, n->u.imp.names[i].alias);
        break;
    case S_BLOCK: break; /* Jinja2 stops at blocks */
    case S_WITH:
        for (uint32_t i = 0; i < n->u.with.n; i++) {
            ud_store(u, n->u.with.targets[i]);
            ud_expr(u, n->u.with.values[i]);
        }
        ud_body(u, &n->u.with.body);
        break;
    case S_FILTERBLOCK:
        ud_body(u, &n->u.filterblock.body);
        ud_expr(u, n->u.filterblock.filter);
        break;
    case S_AUTOESCAPE:
        ud_expr(u, n->u.autoescape.value);
        ud_body(u, &n->u.autoescape.body);
        break;
    default: break;
    }
}

static void ud_body(undecl *u, const tpl_list *body) {
    for (uint32_t i = 0; i < body->n && !u->state; i++) ud_stmt(u, body->items[i]);
}

static bool undeclared(const tpl_list *body, const char *name) {
    undecl u = {name, 0};
    ud_body(&u, body);
    return u.state == 1;
}

/* ---- `loop` stored anywhere in a for statement ---- */

static bool stores_loop_expr(const tpl_node *target) {
    if (!target) return false;
    if (target->kind == N_NAME) return str_is(target->u.name.name, "loop");
    if (target->kind == N_TUPLE)
        for (uint32_t i = 0; i < target->u.items.n; i++)
            if (stores_loop_expr(target->u.items.items[i])) return true;
    return false;
}

static const tpl_node *find_loop_store(const tpl_list *body);

static const tpl_node *find_loop_store_stmt(const tpl_node *n) {
    const tpl_node *hit;
    switch (n->kind) {
    case S_FOR:
        if (stores_loop_expr(n->u.for_.target)) return n->u.for_.target;
        if ((hit = find_loop_store(&n->u.for_.body)) || (hit = find_loop_store(&n->u.for_.orelse))) return hit;
        break;
    case S_SET:
        if (stores_loop_expr(n->u.set.target)) return n->u.set.target;
        break;
    case S_SETBLOCK:
        if (stores_loop_expr(n->u.setblock.target)) return n->u.setblock.target;
        return find_loop_store(&n->u.setblock.body);
    case S_IF:
        if ((hit = find_loop_store(&n->u.if_.body)) || (hit = find_loop_store(&n->u.if_.orelse))) return hit;
        break;
    case S_WITH:
        for (uint32_t i = 0; i < n->u.with.n; i++)
            if (stores_loop_expr(n->u.with.targets[i])) return n->u.with.targets[i];
        return find_loop_store(&n->u.with.body);
    case S_FILTERBLOCK: return find_loop_store(&n->u.filterblock.body);
    case S_AUTOESCAPE: return find_loop_store(&n->u.autoescape.body);
    case S_MACRO:
    case S_CALLBLOCK: return find_loop_store(&n->u.macro->body);
    case S_BLOCK: return find_loop_store(&n->u.block->body);
    default: break;
    }
    return NULL;
}

static const tpl_node *find_loop_store(const tpl_list *body) {
    for (uint32_t i = 0; i < body->n; i++) {
        const tpl_node *hit = find_loop_store_stmt(body->items[i]);
        if (hit) return hit;
    }
    return NULL;
}

static bool has_scoped_block(const tpl_list *body);
static bool has_scoped_block_stmt(const tpl_node *n) {
    switch (n->kind) {
    case S_BLOCK: return n->u.block->scoped || has_scoped_block(&n->u.block->body);
    case S_FOR: return has_scoped_block(&n->u.for_.body) || has_scoped_block(&n->u.for_.orelse);
    case S_IF: return has_scoped_block(&n->u.if_.body) || has_scoped_block(&n->u.if_.orelse);
    case S_WITH: return has_scoped_block(&n->u.with.body);
    case S_FILTERBLOCK: return has_scoped_block(&n->u.filterblock.body);
    case S_AUTOESCAPE: return has_scoped_block(&n->u.autoescape.body);
    case S_SETBLOCK: return has_scoped_block(&n->u.setblock.body);
    case S_MACRO:
    case S_CALLBLOCK: return has_scoped_block(&n->u.macro->body);
    default: return false;
    }
}
static bool has_scoped_block(const tpl_list *body) {
    for (uint32_t i = 0; i < body->n; i++)
        if (has_scoped_block_stmt(body->items[i])) return true;
    return false;
}

/* ---- block collection ---- */

static int collect_blocks(compiler *c, const tpl_list *body);

static int collect_blocks_stmt(compiler *c, const tpl_node *n) {
    switch (n->kind) {
    case S_BLOCK: {
        tpl_template *t = c->t;
        for (uint32_t i = 0; i < t->nblocks; i++)
            if (t->blocks[i]->name.len == n->u.block->name.len &&
                memcmp(t->blocks[i]->name.ptr, n->u.block->name.ptr, n->u.block->name.len) == 0)
                return fail(c, n, "block '%.*s' defined twice", (int)n->u.block->name.len, n->u.block->name.ptr);
        tpl_block_def **b =
            vial_arena_grow(t->arena, t->blocks, t->nblocks * sizeof *b, (t->nblocks + 1) * sizeof *b);
        if (!b) return fail(c, n, "out of memory");
        b[t->nblocks++] = n->u.block;
        t->blocks = b;
        return collect_blocks(c, &n->u.block->body);
    }
    case S_EXTENDS: c->t->has_extends = true; return 0;
    case S_FOR:
        if (collect_blocks(c, &n->u.for_.body)) return -1;
        return collect_blocks(c, &n->u.for_.orelse);
    case S_IF:
        if (collect_blocks(c, &n->u.if_.body)) return -1;
        return collect_blocks(c, &n->u.if_.orelse);
    case S_WITH: return collect_blocks(c, &n->u.with.body);
    case S_FILTERBLOCK: return collect_blocks(c, &n->u.filterblock.body);
    case S_AUTOESCAPE: return collect_blocks(c, &n->u.autoescape.body);
    case S_SETBLOCK: return collect_blocks(c, &n->u.setblock.body);
    case S_MACRO:
    case S_CALLBLOCK: return collect_blocks(c, &n->u.macro->body);
    default: return 0;
    }
}

static int collect_blocks(compiler *c, const tpl_list *body) {
    for (uint32_t i = 0; i < body->n; i++)
        if (collect_blocks_stmt(c, body->items[i])) return -1;
    return 0;
}

/* ---- constant folding ---- */

static bool immutable_const(const vial_value *v) {
    int k = tv_kind(v);
    if (k == TK_NULL || k == TK_BOOL || k == TK_INT || k == TK_DOUBLE || k == TK_STRING) return true;
    if (k == TK_ARRAY && tv_is_tuple(v)) {
        for (size_t i = 0; i < v->as.arr.len; i++)
            if (!immutable_const(v->as.arr.items[i])) return false;
        return true;
    }
    return false;
}

static bool is_const(const tpl_node *n) { return !n || n->kind == N_CONST; }

static bool args_const(const tpl_callargs *a) {
    if (a->dyn_args || a->dyn_kwargs) return false;
    for (uint32_t i = 0; i < a->nargs; i++)
        if (!is_const(a->args[i])) return false;
    for (uint32_t i = 0; i < a->nkw; i++)
        if (!is_const(a->kwvalues[i])) return false;
    return true;
}

/* Evaluates n now when all its inputs are constants; replaces it on success. */
static void try_fold(compiler *c, tpl_node *n, int ae) {
    bool foldable = false;
    switch (n->kind) {
    case N_NEG:
    case N_POS:
    case N_NOT: foldable = is_const(n->u.operand); break;
    case N_BINOP:
    case N_AND:
    case N_OR: foldable = is_const(n->u.bin.l) && is_const(n->u.bin.r); break;
    case N_COMPARE:
        foldable = is_const(n->u.cmp.first);
        for (uint32_t i = 0; i < n->u.cmp.n && foldable; i++) foldable = is_const(n->u.cmp.rhs[i]);
        break;
    case N_CONCAT:
        foldable = true;
        for (uint32_t i = 0; i < n->u.items.n && foldable; i++) foldable = is_const(n->u.items.items[i]);
        break;
    case N_TUPLE:
        foldable = true;
        for (uint32_t i = 0; i < n->u.items.n && foldable; i++) foldable = is_const(n->u.items.items[i]);
        break;
    case N_COND:
        foldable = is_const(n->u.cond.test) && is_const(n->u.cond.then) && n->u.cond.otherwise &&
                   is_const(n->u.cond.otherwise);
        break;
    case N_GETITEM: foldable = is_const(n->u.item.obj) && is_const(n->u.item.key); break;
    case N_FILTER:
    case N_TEST:
        /* Jinja2 does not fold filters and tests while autoescape is decided at runtime */
        foldable = ae >= 0 && n->u.filter.builtin && !n->u.filter.user && (n->u.filter.builtin->flags & BF_PURE) &&
                   n->u.filter.input && is_const(n->u.filter.input) && args_const(&n->u.filter.a);
        break;
    default: break;
    }
    if (!foldable) return;
    if (n->kind == N_CONCAT) {
        /* Jinja2's Concat.as_const is a plain "".join(str(x)): Markup is lost */
        vial_buf b;
        vial_buf_init(&b, c->t->arena, 1 << 20);
        tpl_err scratch = {0};
        tpl_render r = {.env = c->env, .arena = c->t->arena, .err = &scratch, .tmpl = c->t};
        for (uint32_t i = 0; i < n->u.items.n; i++)
            if (vial_tv_str(&r, &b, n->u.items.items[i]->u.value) != 0) return;
        vial_value *v = vial_new_str_ref(c->t->arena, vial_buf_cstr(&b), b.len);
        if (!v) return;
        n->kind = N_CONST;
        n->flags |= NF_CONST_STR;
        n->u.value = v;
        return;
    }
    tpl_err scratch = {0};
    vial_buf sink;
    vial_buf_init(&sink, c->t->arena, 1 << 20);
    tpl_render r = {.env = c->env, .arena = c->t->arena, .out = &sink, .max_output = 1 << 20,
                    .autoescape = ae > 0, .max_depth = 10, .tmpl = c->t, .err = &scratch};
    vial_value *v = vial_tpl_eval(&r, NULL, n);
    if (!v || r.failed || !immutable_const(v)) return;
    n->kind = N_CONST;
    n->flags &= (uint16_t)~NF_CONST_STR;
    if (v->type == VIAL_STRING) n->flags |= NF_CONST_STR;
    n->u.value = v;
}

/* ---- the walk ---- */

static int walk_body(compiler *c, tpl_list *body, scope s);

/* "lit%.Nflit" with no other '%': the one format the output path formats
 * itself (pyformat.c's %f with no flags or width, on the same digits). */
static bool parse_fixed_format(const vial_value *fmt, tpl_node *n) {
    const char *s = fmt->as.s.ptr;
    size_t len = fmt->as.s.len;
    const char *pct = memchr(s, '%', len);
    if (!pct || len > UINT32_MAX) return false;
    size_t i = (size_t)(pct - s) + 1;
    if (i >= len || s[i] != '.') return false;
    i++;
    int prec = 0, ndigits = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9' && ndigits < 3) prec = prec * 10 + (s[i++] - '0'), ndigits++;
    if (ndigits > 2 || i >= len || s[i] != 'f') return false;
    i++;
    if (memchr(s + i, '%', len - i)) return false;
    n->u.filter.fast_prec = (uint8_t)prec;
    n->u.filter.fast_spec_at = (uint32_t)(pct - s);
    n->u.filter.fast_spec_end = (uint32_t)i;
    return true;
}

static uint8_t fast_kind(tpl_node *n, const tpl_builtin *b) {
    const tpl_callargs *a = &n->u.filter.a;
    if (!n->u.filter.input || a->nkw || a->dyn_args || a->dyn_kwargs) return FAST_NONE;
    if (strcmp(b->name, "lower") == 0 && !a->nargs) return FAST_LOWER;
    if (strcmp(b->name, "upper") == 0 && !a->nargs) return FAST_UPPER;
    if (strcmp(b->name, "join") == 0 && a->nargs <= 1) return FAST_JOIN;
    if (strcmp(b->name, "format") == 0 && a->nargs == 1 && n->u.filter.input->kind == N_CONST) {
        const vial_value *fmt = n->u.filter.input->u.value;
        if (fmt->type == VIAL_STRING && !(fmt->flags & VIAL_FLAG_SAFE) && parse_fixed_format(fmt, n)) return FAST_FORMAT_F;
    }
    return FAST_NONE;
}

static int resolve_filter(compiler *c, tpl_node *n, scope s) {
    bool is_filter = n->kind == N_FILTER;
    vial_str name = n->u.filter.name;
    const tpl_userfn *u =
        vial_tpl_env_find(is_filter ? c->env->filters : c->env->tests, is_filter ? c->env->nfilters : c->env->ntests,
                     name.ptr, name.len);
    const tpl_builtin *b = u ? NULL : is_filter ? vial_tpl_find_filter(name.ptr, name.len) : vial_tpl_find_test(name.ptr, name.len);
    n->u.filter.user = u;
    n->u.filter.builtin = b;
    n->u.filter.fast = is_filter && b ? fast_kind(n, b) : FAST_NONE;
    if (!u && !b && !s.soft)
        return fail(c, n, "No %s named '%.*s'.", is_filter ? "filter" : "test", (int)name.len, name.ptr);
    if (!s.soft) n->flags &= (uint16_t)~NF_SOFT;
    else n->flags |= NF_SOFT;
    return 0;
}

static int walk_expr(compiler *c, tpl_node *n, scope s);

static int walk_args(compiler *c, tpl_callargs *a, scope s) {
    for (uint32_t i = 0; i < a->nargs; i++)
        if (walk_expr(c, a->args[i], s)) return -1;
    for (uint32_t i = 0; i < a->nkw; i++)
        if (walk_expr(c, a->kwvalues[i], s)) return -1;
    if (walk_expr(c, a->dyn_args, s) || walk_expr(c, a->dyn_kwargs, s)) return -1;
    return 0;
}

static int walk_expr(compiler *c, tpl_node *n, scope s) {
    if (!n) return 0;
    if (++c->depth > 400) return fail(c, n, "expression nesting too deep");
    int rc = 0;
    switch (n->kind) {
    case N_GETATTR:
    case N_NSREF:
        rc = walk_expr(c, n->u.attr.obj, s);
        if (n->kind == N_GETATTR) {
            /* names no builtin type has a method for can skip that check when rendering */
            static vial_value probe_obj = {.type = VIAL_OBJECT}, probe_arr = {.type = VIAL_ARRAY},
                              probe_str = {.type = VIAL_STRING};
            vial_str a = n->u.attr.attr;
            if (!vial_tpl_has_method(&probe_obj, a.ptr, a.len) && !vial_tpl_has_method(&probe_arr, a.ptr, a.len) &&
                !vial_tpl_has_method(&probe_str, a.ptr, a.len))
                n->flags |= NF_NOT_METHOD;
            static const char *loop_attrs[] = {"", "index", "index0", "first", "last", "length", "revindex", "revindex0",
                                               "cycle", "changed"};
            n->op = LA_NONE;
            for (uint8_t k = 1; k < sizeof loop_attrs / sizeof loop_attrs[0]; k++)
                if (strlen(loop_attrs[k]) == a.len && memcmp(loop_attrs[k], a.ptr, a.len) == 0) n->op = k;
        }
        break;
    case N_GETITEM: rc = walk_expr(c, n->u.item.obj, s) || walk_expr(c, n->u.item.key, s); break;
    case N_SLICE:
        rc = walk_expr(c, n->u.slice.obj, s) || walk_expr(c, n->u.slice.start, s) ||
             walk_expr(c, n->u.slice.stop, s) || walk_expr(c, n->u.slice.step, s);
        break;
    case N_CALL: rc = walk_expr(c, n->u.call.callee, s) || walk_args(c, &n->u.call.a, s); break;
    case N_FILTER:
    case N_TEST:
        rc = walk_expr(c, n->u.filter.input, s) || walk_args(c, &n->u.filter.a, s) || resolve_filter(c, n, s);
        break;
    case N_AND:
    case N_OR:
        rc = walk_expr(c, n->u.bin.l, s);
        if (!rc && n->u.bin.l->kind == N_CONST && tv_kind(n->u.bin.l->u.value) < TK_UNDEF &&
            vial_truthy(n->u.bin.l->u.value) == (n->kind == N_OR)) {
            /* Jinja2 folds `const or x` / `const and x` that short-circuit without
             * compiling x: its unknown filters are no error */
            tpl_node *l = n->u.bin.l;
            *n = *l;
            c->depth--;
            return 0;
        }
        if (!rc) rc = walk_expr(c, n->u.bin.r, s);
        break;
    case N_BINOP: rc = walk_expr(c, n->u.bin.l, s) || walk_expr(c, n->u.bin.r, s); break;
    case N_NEG:
    case N_POS:
    case N_NOT: rc = walk_expr(c, n->u.operand, s); break;
    case N_COMPARE:
        rc = walk_expr(c, n->u.cmp.first, s);
        for (uint32_t i = 0; i < n->u.cmp.n && !rc; i++) rc = walk_expr(c, n->u.cmp.rhs[i], s);
        break;
    case N_LIST:
    case N_TUPLE:
    case N_CONCAT:
        for (uint32_t i = 0; i < n->u.items.n && !rc; i++) rc = walk_expr(c, n->u.items.items[i], s);
        break;
    case N_DICT:
        for (uint32_t i = 0; i < n->u.dict.n && !rc; i++)
            rc = walk_expr(c, n->u.dict.keys[i], s) || walk_expr(c, n->u.dict.values[i], s);
        break;
    case N_COND: {
        scope soft = s;
        soft.soft = true;
        rc = walk_expr(c, n->u.cond.then, soft) || walk_expr(c, n->u.cond.test, soft) ||
             walk_expr(c, n->u.cond.otherwise, soft);
        break;
    }
    default: break;
    }
    c->depth--;
    if (rc) return -1;
    try_fold(c, n, s.ae);
    return 0;
}

static int walk_macro(compiler *c, tpl_node *n, scope s) {
    tpl_macro_def *m = n->u.macro;
    scope inner = {.soft = false, .toplevel = false, .check_extends = false, .ae = s.ae, .ae_fold = s.ae_fold};
    for (uint32_t i = 0; i < m->nparams; i++)
        if (walk_expr(c, m->defaults[i], inner)) return -1;
    m->uses_caller = undeclared(&m->body, "caller");
    m->uses_varargs = undeclared(&m->body, "varargs");
    m->uses_kwargs = undeclared(&m->body, "kwargs");
    for (uint32_t i = 0; i < m->nparams; i++) {
        if (str_is(m->params[i], "caller")) {
            m->explicit_caller = true;
            if (m->uses_caller && !m->defaults[i])
                return fail(c, n,
                            "When defining macros or call blocks the special \"caller\" argument must be omitted "
                            "or be given a default.");
        }
        if (str_is(m->params[i], "varargs")) m->uses_varargs = false;
        if (str_is(m->params[i], "kwargs")) m->uses_kwargs = false;
    }
    return walk_body(c, &m->body, inner);
}

static int static_autoescape(const tpl_node *value) {
    if (value->kind != N_CONST) return -1;
    int k = tv_kind(value->u.value);
    if (k >= TK_UNDEF) return -1;
    return vial_truthy(value->u.value) ? 1 : 0;
}

static int walk_stmt(compiler *c, tpl_node *n, scope s) {
    if (s.check_extends && (n->kind == S_TEXT || n->kind == S_OUTPUT)) n->flags |= NF_CHECK_EXTENDS;
    switch (n->kind) {
    case S_OUTPUT: return walk_expr(c, n->u.expr, s);
    case S_EXTENDS:
        if (!s.toplevel) return fail(c, n, "cannot use extend from a non top-level scope");
        n->flags |= NF_TOPLEVEL;
        return walk_expr(c, n->u.expr, s);
    case S_IF: {
        scope soft = s;
        soft.soft = true;
        return walk_expr(c, n->u.if_.test, soft) || walk_body(c, &n->u.if_.body, soft) ||
               walk_body(c, &n->u.if_.orelse, soft);
    }
    case S_FOR: {
        if (walk_expr(c, n->u.for_.iter, s)) return -1;
        const tpl_node *bad = stores_loop_expr(n->u.for_.target) ? n->u.for_.target : NULL;
        if (!bad) bad = find_loop_store(&n->u.for_.body);
        if (!bad) bad = find_loop_store(&n->u.for_.orelse);
        if (bad) return fail(c, bad, "Can't assign to special loop variable in for-loop target");
        if ((n->flags & NF_RECURSIVE) || undeclared(&n->u.for_.body, "loop") || has_scoped_block(&n->u.for_.body))
            n->flags |= NF_USES_LOOP;
        scope inner = s;
        inner.soft = false;
        inner.toplevel = false;
        return walk_expr(c, n->u.for_.filter, inner) || walk_body(c, &n->u.for_.body, inner) ||
               walk_body(c, &n->u.for_.orelse, inner);
    }
    case S_SET: return walk_expr(c, n->u.set.target, s) || walk_expr(c, n->u.set.value, s);
    case S_SETBLOCK: {
        scope inner = {.soft = false, .toplevel = false, .check_extends = false, .ae = s.ae, .ae_fold = s.ae_fold};
        return walk_expr(c, n->u.setblock.target, s) || walk_body(c, &n->u.setblock.body, inner) ||
               walk_expr(c, n->u.setblock.filter, inner);
    }
    case S_MACRO: return walk_macro(c, n, s);
    case S_CALLBLOCK: return walk_expr(c, n->u.macro->call, s) || walk_macro(c, n, s);
    case S_INCLUDE:
    case S_IMPORT:
    case S_FROMIMPORT: return walk_expr(c, n->u.imp.tmpl, s);
    case S_BLOCK:
        if (s.toplevel) n->flags |= NF_TOPLEVEL;
        if (n->u.block->scoped) n->flags |= NF_SCOPED;
        return 0; /* its body is compiled on its own */
    case S_WITH: {
        for (uint32_t i = 0; i < n->u.with.n; i++)
            if (walk_expr(c, n->u.with.values[i], s)) return -1;
        scope inner = s;
        inner.soft = false;
        inner.toplevel = false;
        return walk_body(c, &n->u.with.body, inner);
    }
    case S_FILTERBLOCK: {
        scope inner = s;
        inner.soft = false;
        inner.toplevel = false;
        return walk_expr(c, n->u.filterblock.filter, inner) || walk_body(c, &n->u.filterblock.body, inner);
    }
    case S_AUTOESCAPE: {
        if (walk_expr(c, n->u.autoescape.value, s)) return -1;
        scope inner = s;
        inner.soft = false;
        inner.toplevel = false;
        inner.ae = static_autoescape(n->u.autoescape.value);
        if (inner.ae >= 0) inner.ae_fold = inner.ae;
        return walk_body(c, &n->u.autoescape.body, inner);
    }
    default: return 0;
    }
}

static bool slice_bound_ok(const tpl_node *b) {
    if (!b) return true;
    if (b->kind != N_CONST) return true; /* decided at runtime */
    int k = tv_kind(b->u.value);
    return k == TK_NULL || k == TK_INT || k == TK_BOOL;
}

/* A constant slice Python refuses with TypeError (not ValueError). */
static bool slice_of_constant_fails(const tpl_node *n) {
    const tpl_node *parts[3] = {n->u.slice.start, n->u.slice.stop, n->u.slice.step};
    if (n->u.slice.obj->kind != N_CONST) return false;
    for (int i = 0; i < 3; i++)
        if (parts[i] && parts[i]->kind != N_CONST) return false;
    int k = tv_kind(n->u.slice.obj->u.value);
    if (k != TK_ARRAY && k != TK_STRING && k != TK_RANGE) return true;
    for (int i = 0; i < 3; i++)
        if (!slice_bound_ok(parts[i])) return true;
    return false;
}

/* Constant output becomes static text; runs of static text merge. */
static int fold_body(compiler *c, tpl_list *body, int ae_fold) {
    uint32_t out = 0;
    for (uint32_t i = 0; i < body->n; i++) {
        tpl_node *n = body->items[i];
        int ae = ae_fold;
        if (n->kind == S_OUTPUT && n->u.expr->kind == N_SLICE && !c->env->opt.strict_undefined &&
            slice_of_constant_fails(n->u.expr)) {
            /* Jinja2's compiler folds {{ const[a:b] }} through environment.getitem, which turns
             * the TypeError into an Undefined: the output is empty */
            n->kind = S_TEXT;
            n->u.text = (vial_str){"", 0};
        }
        if (n->kind == S_OUTPUT && n->u.expr->kind == N_CONST) {
            vial_value *v = n->u.expr->u.value;
            int k = tv_kind(v);
            if (k <= TK_STRING) {
                vial_buf b;
                vial_buf_init(&b, c->t->arena, 0);
                tpl_err scratch = {0};
                tpl_render r = {.env = c->env, .arena = c->t->arena, .err = &scratch, .tmpl = c->t};
                int rc;
                if (ae && !tv_is_safe(v)) {
                    vial_buf tmp;
                    vial_buf_init(&tmp, c->t->arena, 0);
                    rc = vial_tv_str(&r, &tmp, v);
                    if (rc == 0) rc = vial_tv_escape_into(&b, tmp.data ? tmp.data : "", tmp.len);
                } else {
                    rc = vial_tv_str(&r, &b, v);
                }
                if (rc != 0) return fail(c, n, "out of memory");
                n->kind = S_TEXT;
                n->u.text = (vial_str){vial_buf_cstr(&b), b.len};
            }
        }
        if (n->kind == S_TEXT && n->u.text.len == 0) continue;
        if (n->kind == S_TEXT && out > 0 && body->items[out - 1]->kind == S_TEXT &&
            (body->items[out - 1]->flags & NF_CHECK_EXTENDS) == (n->flags & NF_CHECK_EXTENDS)) {
            tpl_node *prev = body->items[out - 1];
            size_t len = prev->u.text.len + n->u.text.len;
            char *merged = vial_arena_alloc(c->t->arena, len + 1);
            if (!merged) return fail(c, n, "out of memory");
            memcpy(merged, prev->u.text.ptr, prev->u.text.len);
            memcpy(merged + prev->u.text.len, n->u.text.ptr, n->u.text.len);
            merged[len] = 0;
            /* the merged node is a copy: `prev` may be shared with nothing else, but keep nodes immutable */
            tpl_node *m = vial_arena_alloc(c->t->arena, sizeof *m);
            if (!m) return fail(c, n, "out of memory");
            *m = *prev;
            m->u.text = (vial_str){merged, len};
            body->items[out - 1] = m;
            continue;
        }
        body->items[out++] = n;
    }
    body->n = out;
    /* fuse runs of text and outputs: one statement dispatch for the run */
    uint32_t w = 0;
    for (uint32_t i = 0; i < body->n;) {
        tpl_node *n = body->items[i];
        uint32_t j = i;
        while (j < body->n && (body->items[j]->kind == S_TEXT || body->items[j]->kind == S_OUTPUT) &&
               (body->items[j]->flags & NF_CHECK_EXTENDS) == (n->flags & NF_CHECK_EXTENDS))
            j++;
        if (j - i >= 2) {
            tpl_node *m = vial_arena_calloc(c->t->arena, sizeof *m);
            tpl_node **parts = vial_arena_alloc(c->t->arena, (j - i) * sizeof *parts);
            if (!m || !parts) return fail(c, n, "out of memory");
            memcpy(parts, body->items + i, (j - i) * sizeof *parts);
            m->kind = S_MULTI;
            m->flags = n->flags & NF_CHECK_EXTENDS;
            m->line = n->line;
            m->col = n->col;
            m->u.items = (tpl_list){parts, j - i};
            body->items[w++] = m;
            i = j;
        } else {
            body->items[w++] = n;
            i++;
        }
    }
    body->n = w;
    return 0;
}

static int walk_body(compiler *c, tpl_list *body, scope s) {
    for (uint32_t i = 0; i < body->n; i++)
        if (walk_stmt(c, body->items[i], s)) return -1;
    return fold_body(c, body, s.ae_fold);
}

int vial_tpl_compile(struct vial_tpl_env *env, tpl_template *t, tpl_err *err) {
    compiler c = {.env = env, .t = t, .err = err};
    if (collect_blocks(&c, &t->root)) return -1;
    int ae = t->autoescape ? 1 : 0;
    scope root = {.soft = false, .toplevel = true, .check_extends = t->has_extends, .ae = ae, .ae_fold = ae};
    if (walk_body(&c, &t->root, root)) return -1;
    for (uint32_t i = 0; i < t->nblocks; i++) {
        scope bs = {.soft = false, .toplevel = false, .check_extends = false, .ae = ae, .ae_fold = ae};
        if (walk_body(&c, &t->blocks[i]->body, bs)) return -1;
    }
    return 0;
}
