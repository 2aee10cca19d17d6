/* parser.c - tokens to a syntax tree, following Jinja2's grammar.
 *
 * The functions mirror Jinja2's Parser method for method (parse_tuple,
 * parse_condexpr ... parse_primary, parse_statement and one function per
 * tag) because the grammar's corners -- where a tuple may end, what binds
 * tighter than a filter, which tokens may start a test argument -- are only
 * reproduced faithfully by the same structure. Error messages use Jinja2's
 * wording ("expected token 'end of statement block', got 'x'", "Encountered
 * unknown tag 'x'. ...") and name the line and column of the token at fault.
 *
 * Everything is allocated from the template's arena; a syntax error unwinds
 * with longjmp (nothing to free). Nesting is capped so hostile input cannot
 * exhaust the C stack. */
#include "template/tpl.h"

#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#define MAX_NESTING 200

typedef struct parser {
    struct vial_tpl_env *env;
    vial_arena *a;
    tpl_token *toks;
    size_t ntoks, i;
    tpl_err *err;
    const tpl_err *lex_err;
    jmp_buf jb;
    int depth;
    const char **tag_stack;
    size_t ntags, tags_cap;
    const char *const **end_stack;
    size_t nend, end_cap;
} parser;

static const char *const END_ENDSET[] = {"endset", NULL};
static const char *const END_FOR[] = {"endfor", "else", NULL};
static const char *const END_ENDFOR[] = {"endfor", NULL};
static const char *const END_IF[] = {"elif", "else", "endif", NULL};
static const char *const END_ENDIF[] = {"endif", NULL};
static const char *const END_WITH[] = {"endwith", NULL};
static const char *const END_AUTOESCAPE[] = {"endautoescape", NULL};
static const char *const END_BLOCK[] = {"endblock", NULL};
static const char *const END_CALL[] = {"endcall", NULL};
static const char *const END_FILTER[] = {"endfilter", NULL};
static const char *const END_MACRO[] = {"endmacro", NULL};

static VIAL_NORETURN void fail_tok(parser *p, const tpl_token *t, const char *fmt, ...) VIAL_PRINTF(3, 4);

static VIAL_NORETURN void fail_line(parser *p, uint32_t line, uint32_t col, const char *fmt, va_list ap) {
    p->err->kind = VIAL_TPL_ERR_SYNTAX;
    p->err->line = (int)line;
    p->err->column = (int)col;
    vsnprintf(p->err->message, sizeof p->err->message, fmt, ap);
    longjmp(p->jb, 1);
}

static void fail_tok(parser *p, const tpl_token *t, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fail_line(p, t->line, t->col, fmt, ap);
    va_end(ap);
}

static VIAL_NORETURN void fail_node(parser *p, const tpl_node *n, const char *fmt, ...) VIAL_PRINTF(3, 4);
static void fail_node(parser *p, const tpl_node *n, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fail_line(p, n->line, n->col, fmt, ap);
    va_end(ap);
}

static VIAL_NORETURN void oom(parser *p) {
    p->err->kind = VIAL_TPL_ERR_MEMORY;
    snprintf(p->err->message, sizeof p->err->message, "out of memory while compiling the template");
    longjmp(p->jb, 1);
}

static void *alloc(parser *p, size_t n) {
    void *m = vial_arena_calloc(p->a, n);
    if (!m) oom(p);
    return m;
}

/* ---- token stream ---- */

static tpl_token *cur(parser *p) { return &p->toks[p->i]; }

static VIAL_NORETURN void raise_lex_error(parser *p) {
    *p->err = *p->lex_err;
    longjmp(p->jb, 1);
}

/* Goes one token ahead and returns the old one (Jinja2's next(stream)). */
static tpl_token *advance(parser *p) {
    tpl_token *t = cur(p);
    if (t->type != T_EOF && t->type != T_ERROR) p->i++;
    if (cur(p)->type == T_ERROR) raise_lex_error(p);
    return t;
}

static tpl_token *look(parser *p) {
    tpl_token *t = cur(p);
    if (t->type == T_EOF) return t;
    tpl_token *n = &p->toks[p->i + 1];
    if (n->type == T_ERROR) raise_lex_error(p);
    return n;
}

static bool tok_is_name(const tpl_token *t, const char *name) {
    size_t n = strlen(name);
    return t->type == T_NAME && t->len == n && memcmp(t->ptr, name, n) == 0;
}

static bool cur_is(parser *p, int type) { return cur(p)->type == type; }
static bool cur_name(parser *p, const char *name) { return tok_is_name(cur(p), name); }

static bool skip_if(parser *p, int type) {
    if (!cur_is(p, type)) return false;
    advance(p);
    return true;
}

static bool skip_name(parser *p, const char *name) {
    if (!cur_name(p, name)) return false;
    advance(p);
    return true;
}

/* describe_token(): names describe as themselves. */
static void describe(const tpl_token *t, char *out, size_t n) {
    if (t->type == T_NAME)
        snprintf(out, n, "%.*s", (int)(t->len > 200 ? 200 : t->len), t->ptr);
    else
        snprintf(out, n, "%s", vial_tpl_token_describe(t->type));
}

static VIAL_NORETURN void expect_failed(parser *p, const char *what) {
    tpl_token *t = cur(p);
    if (t->type == T_EOF) fail_tok(p, t, "unexpected end of template, expected '%s'.", what);
    char got[256];
    describe(t, got, sizeof got);
    fail_tok(p, t, "expected token '%s', got '%s'", what, got);
}

static tpl_token *expect(parser *p, int type) {
    if (!cur_is(p, type)) expect_failed(p, vial_tpl_token_describe(type));
    return advance(p);
}

static tpl_token *expect_name(parser *p, const char *name) {
    if (!cur_name(p, name)) expect_failed(p, name);
    return advance(p);
}

/* ---- nodes ---- */

static tpl_node *node_at(parser *p, int kind, const tpl_token *t) {
    tpl_node *n = alloc(p, sizeof *n);
    n->kind = (uint8_t)kind;
    n->line = t->line;
    n->col = t->col;
    return n;
}

static vial_str tok_str(const tpl_token *t) { return (vial_str){t->ptr, t->len}; }

static uint32_t intern(parser *p, vial_str s) {
    uint32_t id = vial_tpl_intern(p->env, s.ptr, s.len);
    if (id == UINT32_MAX) oom(p);
    return id;
}

typedef struct nodevec {
    tpl_node **items;
    uint32_t n, cap;
} nodevec;

static void vec_push(parser *p, nodevec *v, tpl_node *n) {
    if (v->n == v->cap) {
        uint32_t cap = v->cap ? v->cap * 2 : 4;
        tpl_node **items = vial_arena_grow(p->a, v->items, v->cap * sizeof *items, cap * sizeof *items);
        if (!items) oom(p);
        v->items = items;
        v->cap = cap;
    }
    v->items[v->n++] = n;
}

static tpl_list vec_list(nodevec *v) { return (tpl_list){v->items, v->n}; }

static void enter(parser *p) {
    if (++p->depth > MAX_NESTING) fail_tok(p, cur(p), "template nesting too deep (more than %d levels)", MAX_NESTING);
}
static void leave(parser *p) { p->depth--; }

static tpl_node *make_const(parser *p, const tpl_token *t, vial_value *v) {
    if (!v) oom(p);
    tpl_node *n = node_at(p, N_CONST, t);
    n->u.value = v;
    return n;
}

/* ---- expressions ---- */

static tpl_node *parse_expression(parser *p, bool with_condexpr);
static tpl_node *parse_tuple(parser *p, bool simplified, bool with_condexpr, const char *const *extra_end,
                             bool explicit_parens);
static tpl_node *parse_unary(parser *p, bool with_filter);
static tpl_node *parse_primary(parser *p);
static tpl_node *parse_postfix(parser *p, tpl_node *node);
static tpl_node *parse_filter_expr(parser *p, tpl_node *node);
static tpl_node *parse_filter(parser *p, tpl_node *node, bool start_inline);

static tpl_node *parse_condexpr(parser *p) {
    tpl_token *start = cur(p);
    tpl_node *expr1 = parse_expression(p, false);
    while (skip_name(p, "if")) {
        tpl_node *expr2 = parse_expression(p, false);
        tpl_node *expr3 = NULL;
        if (skip_name(p, "else")) expr3 = parse_condexpr(p);
        tpl_node *n = node_at(p, N_COND, start);
        n->u.cond.test = expr2;
        n->u.cond.then = expr1;
        n->u.cond.otherwise = expr3;
        expr1 = n;
        start = cur(p);
    }
    return expr1;
}

static tpl_node *parse_not(parser *p);
static tpl_node *parse_and(parser *p) {
    tpl_token *start = cur(p);
    tpl_node *left = parse_not(p);
    while (skip_name(p, "and")) {
        tpl_node *right = parse_not(p);
        tpl_node *n = node_at(p, N_AND, start);
        n->u.bin.l = left;
        n->u.bin.r = right;
        left = n;
        start = cur(p);
    }
    return left;
}

static tpl_node *parse_or(parser *p) {
    tpl_token *start = cur(p);
    tpl_node *left = parse_and(p);
    while (skip_name(p, "or")) {
        tpl_node *right = parse_and(p);
        tpl_node *n = node_at(p, N_OR, start);
        n->u.bin.l = left;
        n->u.bin.r = right;
        left = n;
        start = cur(p);
    }
    return left;
}

static tpl_node *parse_compare(parser *p);
static tpl_node *parse_not(parser *p) {
    if (cur_name(p, "not")) {
        tpl_token *t = advance(p);
        enter(p);
        tpl_node *n = node_at(p, N_NOT, t);
        n->u.operand = parse_not(p);
        leave(p);
        return n;
    }
    return parse_compare(p);
}

static tpl_node *parse_math1(parser *p);
static tpl_node *parse_compare(parser *p) {
    tpl_token *start = cur(p);
    tpl_node *expr = parse_math1(p);
    uint8_t ops[64];
    tpl_node *rhs[64];
    uint32_t n = 0;
    for (;;) {
        int type = cur(p)->type, op = -1;
        if (type == T_EQ) op = CMP_EQ;
        else if (type == T_NE) op = CMP_NE;
        else if (type == T_LT) op = CMP_LT;
        else if (type == T_LTEQ) op = CMP_LE;
        else if (type == T_GT) op = CMP_GT;
        else if (type == T_GTEQ) op = CMP_GE;
        if (op >= 0) {
            advance(p);
        } else if (skip_name(p, "in")) {
            op = CMP_IN;
        } else if (cur_name(p, "not") && tok_is_name(look(p), "in")) {
            advance(p);
            advance(p);
            op = CMP_NOTIN;
        } else {
            break;
        }
        if (n == 64) fail_tok(p, cur(p), "too many chained comparisons");
        ops[n] = (uint8_t)op;
        rhs[n] = parse_math1(p);
        n++;
        start = cur(p);
    }
    if (!n) return expr;
    tpl_node *c = node_at(p, N_COMPARE, start);
    c->u.cmp.first = expr;
    c->u.cmp.n = n;
    c->u.cmp.ops = alloc(p, n);
    c->u.cmp.rhs = alloc(p, n * sizeof(tpl_node *));
    memcpy(c->u.cmp.ops, ops, n);
    memcpy(c->u.cmp.rhs, rhs, n * sizeof(tpl_node *));
    return c;
}

static tpl_node *binop(parser *p, const tpl_token *at, int op, tpl_node *l, tpl_node *r) {
    tpl_node *n = node_at(p, N_BINOP, at);
    n->op = (uint8_t)op;
    n->u.bin.l = l;
    n->u.bin.r = r;
    return n;
}

static tpl_node *parse_concat(parser *p);
static tpl_node *parse_math1(parser *p) {
    tpl_token *start = cur(p);
    tpl_node *left = parse_concat(p);
    while (cur_is(p, T_ADD) || cur_is(p, T_SUB)) {
        int op = cur(p)->type == T_ADD ? OP_ADD : OP_SUB;
        advance(p);
        tpl_node *right = parse_concat(p);
        left = binop(p, start, op, left, right);
        start = cur(p);
    }
    return left;
}

static tpl_node *parse_math2(parser *p);
static tpl_node *parse_concat(parser *p) {
    tpl_token *start = cur(p);
    tpl_node *first = parse_math2(p);
    if (!cur_is(p, T_TILDE)) return first;
    nodevec v = {0};
    vec_push(p, &v, first);
    while (skip_if(p, T_TILDE)) vec_push(p, &v, parse_math2(p));
    tpl_node *n = node_at(p, N_CONCAT, start);
    n->u.items = vec_list(&v);
    return n;
}

static tpl_node *parse_pow(parser *p);
static tpl_node *parse_math2(parser *p) {
    tpl_token *start = cur(p);
    tpl_node *left = parse_pow(p);
    for (;;) {
        int type = cur(p)->type, op;
        if (type == T_MUL) op = OP_MUL;
        else if (type == T_DIV) op = OP_DIV;
        else if (type == T_FLOORDIV) op = OP_FLOORDIV;
        else if (type == T_MOD) op = OP_MOD;
        else break;
        advance(p);
        tpl_node *right = parse_pow(p);
        left = binop(p, start, op, left, right);
        start = cur(p);
    }
    return left;
}

static tpl_node *parse_pow(parser *p) {
    tpl_token *start = cur(p);
    tpl_node *left = parse_unary(p, true);
    while (skip_if(p, T_POW)) {
        tpl_node *right = parse_unary(p, true);
        left = binop(p, start, OP_POW, left, right);
        start = cur(p);
    }
    return left;
}

static tpl_node *parse_unary(parser *p, bool with_filter) {
    tpl_token *t = cur(p);
    tpl_node *node;
    enter(p);
    if (t->type == T_SUB || t->type == T_ADD) {
        advance(p);
        node = node_at(p, t->type == T_SUB ? N_NEG : N_POS, t);
        node->u.operand = parse_unary(p, false);
    } else {
        node = parse_primary(p);
    }
    node = parse_postfix(p, node);
    if (with_filter) node = parse_filter_expr(p, node);
    leave(p);
    return node;
}

static tpl_node *parse_list(parser *p) {
    tpl_token *t = expect(p, T_LBRACKET);
    nodevec v = {0};
    while (!cur_is(p, T_RBRACKET)) {
        if (v.n) expect(p, T_COMMA);
        if (cur_is(p, T_RBRACKET)) break;
        vec_push(p, &v, parse_expression(p, true));
    }
    expect(p, T_RBRACKET);
    tpl_node *n = node_at(p, N_LIST, t);
    n->u.items = vec_list(&v);
    return n;
}

static tpl_node *parse_dict(parser *p) {
    tpl_token *t = expect(p, T_LBRACE);
    nodevec keys = {0}, values = {0};
    while (!cur_is(p, T_RBRACE)) {
        if (keys.n) expect(p, T_COMMA);
        if (cur_is(p, T_RBRACE)) break;
        vec_push(p, &keys, parse_expression(p, true));
        expect(p, T_COLON);
        vec_push(p, &values, parse_expression(p, true));
    }
    expect(p, T_RBRACE);
    tpl_node *n = node_at(p, N_DICT, t);
    n->u.dict.keys = keys.items;
    n->u.dict.values = values.items;
    n->u.dict.n = keys.n;
    return n;
}

static tpl_node *parse_primary(parser *p) {
    tpl_token *t = cur(p);
    tpl_node *n;
    enter(p);
    if (t->type == T_NAME) {
        if (tok_is_name(t, "true") || tok_is_name(t, "True")) {
            n = make_const(p, t, vial_new_bool(p->a, true));
        } else if (tok_is_name(t, "false") || tok_is_name(t, "False")) {
            n = make_const(p, t, vial_new_bool(p->a, false));
        } else if (tok_is_name(t, "none") || tok_is_name(t, "None")) {
            n = make_const(p, t, vial_value_null());
        } else {
            n = node_at(p, N_NAME, t);
            n->u.name.name = tok_str(t);
            n->u.name.id = intern(p, n->u.name.name);
        }
        advance(p);
    } else if (t->type == T_STRING) {
        advance(p);
        if (!cur_is(p, T_STRING)) {
            n = make_const(p, t, vial_new_str_ref(p->a, t->v.s.ptr, t->v.s.len));
        } else {
            vial_buf b;
            vial_buf_init(&b, p->a, 0);
            if (tb_append(&b, t->v.s.ptr, t->v.s.len) != 0) oom(p);
            while (cur_is(p, T_STRING)) {
                if (tb_append(&b, cur(p)->v.s.ptr, cur(p)->v.s.len) != 0) oom(p);
                advance(p);
            }
            n = make_const(p, t, vial_new_str_ref(p->a, vial_buf_cstr(&b), b.len));
        }
        n->flags |= NF_CONST_STR;
    } else if (t->type == T_INTEGER) {
        advance(p);
        n = make_const(p, t, vial_new_int(p->a, t->v.i));
    } else if (t->type == T_FLOAT) {
        advance(p);
        n = make_const(p, t, vial_new_double(p->a, t->v.d));
    } else if (t->type == T_LPAREN) {
        advance(p);
        n = parse_tuple(p, false, true, NULL, true);
        expect(p, T_RPAREN);
    } else if (t->type == T_LBRACKET) {
        n = parse_list(p);
    } else if (t->type == T_LBRACE) {
        n = parse_dict(p);
    } else {
        char d[256];
        describe(t, d, sizeof d);
        fail_tok(p, t, "unexpected '%s'", d);
    }
    leave(p);
    return n;
}

static bool is_tuple_end(parser *p, const char *const *extra_end) {
    int type = cur(p)->type;
    if (type == T_VAR_END || type == T_BLOCK_END || type == T_RPAREN) return true;
    if (extra_end)
        for (size_t k = 0; extra_end[k]; k++)
            if (cur_name(p, extra_end[k])) return true;
    return false;
}

static tpl_node *parse_tuple(parser *p, bool simplified, bool with_condexpr, const char *const *extra_end,
                             bool explicit_parens) {
    tpl_token *start = cur(p);
    nodevec v = {0};
    bool is_tuple = false;
    enter(p);
    for (;;) {
        if (v.n) expect(p, T_COMMA);
        if (is_tuple_end(p, extra_end)) break;
        tpl_node *item = simplified ? parse_primary(p) : parse_expression(p, with_condexpr);
        vec_push(p, &v, item);
        if (cur_is(p, T_COMMA))
            is_tuple = true;
        else
            break;
        start = cur(p);
    }
    leave(p);
    if (!is_tuple) {
        if (v.n) return v.items[0];
        if (!explicit_parens) {
            char d[256];
            describe(cur(p), d, sizeof d);
            fail_tok(p, cur(p), "Expected an expression, got '%s'", d);
        }
    }
    tpl_node *n = node_at(p, N_TUPLE, start);
    n->u.items = vec_list(&v);
    return n;
}

static tpl_node *parse_expression(parser *p, bool with_condexpr) {
    return with_condexpr ? parse_condexpr(p) : parse_or(p);
}

static tpl_node *parse_subscribed(parser *p) {
    tpl_token *start = cur(p);
    tpl_node *args[3] = {NULL, NULL, NULL};
    if (cur_is(p, T_COLON)) {
        advance(p);
    } else {
        tpl_node *node = parse_expression(p, true);
        if (!cur_is(p, T_COLON)) return node;
        advance(p);
        args[0] = node;
    }
    if (cur_is(p, T_COLON)) {
        /* no stop */
    } else if (!cur_is(p, T_RBRACKET) && !cur_is(p, T_COMMA)) {
        args[1] = parse_expression(p, true);
    }
    if (cur_is(p, T_COLON)) {
        advance(p);
        if (!cur_is(p, T_RBRACKET) && !cur_is(p, T_COMMA)) args[2] = parse_expression(p, true);
    }
    tpl_node *n = node_at(p, N_SLICE, start);
    n->u.slice.start = args[0];
    n->u.slice.stop = args[1];
    n->u.slice.step = args[2];
    return n;
}

static tpl_node *parse_subscript(parser *p, tpl_node *node) {
    tpl_token *t = advance(p);
    if (t->type == T_DOT) {
        tpl_token *attr = cur(p);
        advance(p);
        if (attr->type == T_NAME) {
            tpl_node *n = node_at(p, N_GETATTR, t);
            n->u.attr.obj = node;
            n->u.attr.attr = tok_str(attr);
            return n;
        }
        if (attr->type != T_INTEGER) fail_tok(p, attr, "expected name or number");
        tpl_node *n = node_at(p, N_GETITEM, t);
        n->u.item.obj = node;
        n->u.item.key = make_const(p, attr, vial_new_int(p->a, attr->v.i));
        return n;
    }
    /* lbracket */
    nodevec v = {0};
    while (!cur_is(p, T_RBRACKET)) {
        if (v.n) expect(p, T_COMMA);
        vec_push(p, &v, parse_subscribed(p));
    }
    expect(p, T_RBRACKET);
    tpl_node *arg;
    if (v.n == 1) {
        arg = v.items[0];
    } else {
        /* Jinja2 turns x[a, b:c] into invalid Python (a SyntaxError at compile time) */
        for (uint32_t k = 0; k < v.n; k++)
            if (v.items[k]->kind == N_SLICE) fail_node(p, v.items[k], "invalid syntax: a slice inside a subscript tuple");
        arg = node_at(p, N_TUPLE, t);
        arg->u.items = vec_list(&v);
    }
    if (arg->kind == N_SLICE) {
        arg->u.slice.obj = node;
        return arg;
    }
    tpl_node *n = node_at(p, N_GETITEM, t);
    n->u.item.obj = node;
    n->u.item.key = arg;
    return n;
}

static tpl_callargs parse_call_args(parser *p) {
    tpl_token *t = expect(p, T_LPAREN);
    nodevec args = {0}, kwvalues = {0};
    vial_str *kwnames = NULL;
    uint32_t kwcap = 0;
    tpl_callargs a = {0};
    bool require_comma = false;
    while (!cur_is(p, T_RPAREN)) {
        if (require_comma) {
            expect(p, T_COMMA);
            if (cur_is(p, T_RPAREN)) break;
        }
        if (cur_is(p, T_MUL)) {
            if (a.dyn_args || a.dyn_kwargs) fail_tok(p, t, "invalid syntax for function call expression");
            advance(p);
            a.dyn_args = parse_expression(p, true);
        } else if (cur_is(p, T_POW)) {
            if (a.dyn_kwargs) fail_tok(p, t, "invalid syntax for function call expression");
            advance(p);
            a.dyn_kwargs = parse_expression(p, true);
        } else if (cur_is(p, T_NAME) && look(p)->type == T_ASSIGN) {
            if (a.dyn_kwargs) fail_tok(p, t, "invalid syntax for function call expression");
            vial_str key = tok_str(cur(p));
            /* Keyword names become object keys handed to C code, which may rely on the
             * NUL vial_member promises: copy them out of the source text once, here. */
            key.ptr = vial_arena_strndup(p->a, key.ptr, key.len);
            if (!key.ptr) oom(p);
            advance(p);
            advance(p);
            tpl_node *value = parse_expression(p, true);
            if (kwvalues.n == kwcap) {
                uint32_t cap = kwcap ? kwcap * 2 : 4;
                vial_str *k = vial_arena_grow(p->a, kwnames, kwcap * sizeof *k, cap * sizeof *k);
                if (!k) oom(p);
                kwnames = k;
                kwcap = cap;
            }
            kwnames[kwvalues.n] = key;
            vec_push(p, &kwvalues, value);
        } else {
            if (a.dyn_args || a.dyn_kwargs || kwvalues.n)
                fail_tok(p, t, "invalid syntax for function call expression");
            vec_push(p, &args, parse_expression(p, true));
        }
        require_comma = true;
    }
    expect(p, T_RPAREN);
    a.args = args.items;
    a.nargs = args.n;
    a.kwnames = kwnames;
    a.kwvalues = kwvalues.items;
    a.nkw = kwvalues.n;
    return a;
}

static tpl_node *parse_call(parser *p, tpl_node *node) {
    tpl_token *t = cur(p);
    tpl_node *n = node_at(p, N_CALL, t);
    n->u.call.callee = node;
    n->u.call.a = parse_call_args(p);
    return n;
}

static tpl_node *parse_postfix(parser *p, tpl_node *node) {
    for (;;) {
        int type = cur(p)->type;
        if (type == T_DOT || type == T_LBRACKET)
            node = parse_subscript(p, node);
        else if (type == T_LPAREN)
            node = parse_call(p, node);
        else
            break;
    }
    return node;
}

/* name(.name)* for filters and tests */
static vial_str dotted_name(parser *p) {
    tpl_token *t = expect(p, T_NAME);
    vial_str name = tok_str(t);
    if (!cur_is(p, T_DOT)) return name;
    vial_buf b;
    vial_buf_init(&b, p->a, 0);
    if (tb_append(&b, name.ptr, name.len) != 0) oom(p);
    while (skip_if(p, T_DOT)) {
        tpl_token *part = expect(p, T_NAME);
        if (tb_putc(&b, '.') != 0 || tb_append(&b, part->ptr, part->len) != 0) oom(p);
    }
    return (vial_str){vial_buf_cstr(&b), b.len};
}

static tpl_node *parse_filter(parser *p, tpl_node *node, bool start_inline) {
    while (cur_is(p, T_PIPE) || start_inline) {
        if (!start_inline) advance(p);
        tpl_token *t = cur(p);
        vial_str name = dotted_name(p);
        tpl_node *f = node_at(p, N_FILTER, t);
        f->u.filter.input = node;
        f->u.filter.name = name;
        if (cur_is(p, T_LPAREN)) f->u.filter.a = parse_call_args(p);
        node = f;
        start_inline = false;
    }
    return node;
}

static tpl_node *parse_test(parser *p, tpl_node *node) {
    tpl_token *t = advance(p); /* `is` */
    bool negated = skip_name(p, "not");
    vial_str name = dotted_name(p);
    tpl_node *n = node_at(p, N_TEST, t);
    n->u.filter.input = node;
    n->u.filter.name = name;
    int type = cur(p)->type;
    if (type == T_LPAREN) {
        n->u.filter.a = parse_call_args(p);
    } else if ((type == T_NAME || type == T_STRING || type == T_INTEGER || type == T_FLOAT || type == T_LBRACKET ||
                type == T_LBRACE) &&
               !cur_name(p, "else") && !cur_name(p, "or") && !cur_name(p, "and")) {
        if (cur_name(p, "is")) fail_tok(p, cur(p), "You cannot chain multiple tests with is");
        tpl_node *arg = parse_postfix(p, parse_primary(p));
        n->u.filter.a.args = alloc(p, sizeof(tpl_node *));
        n->u.filter.a.args[0] = arg;
        n->u.filter.a.nargs = 1;
    }
    if (negated) {
        tpl_node *neg = node_at(p, N_NOT, t);
        neg->u.operand = n;
        return neg;
    }
    return n;
}

static tpl_node *parse_filter_expr(parser *p, tpl_node *node) {
    for (;;) {
        int type = cur(p)->type;
        if (type == T_PIPE)
            node = parse_filter(p, node, false);
        else if (type == T_NAME && cur_name(p, "is"))
            node = parse_test(p, node);
        else if (type == T_LPAREN)
            node = parse_call(p, node);
        else
            break;
    }
    return node;
}

/* ---- assignment targets ---- */

static const char *target_kind_name(const tpl_node *n) {
    switch (n->kind) {
    case N_CONST: return "const";
    case N_NAME: return "name";
    case N_TUPLE: return "tuple";
    case N_LIST: return "list";
    case N_DICT: return "dict";
    case N_GETATTR: return "getattr";
    case N_GETITEM: return "getitem";
    case N_SLICE: return "slice";
    case N_CALL: return "call";
    case N_FILTER: return "filter";
    case N_TEST: return "test";
    case N_COND: return "condexpr";
    case N_CONCAT: return "concat";
    case N_COMPARE: return "compare";
    case N_AND: return "and";
    case N_OR: return "or";
    case N_NOT: return "not";
    case N_NEG: return "neg";
    case N_POS: return "pos";
    case N_BINOP: {
        static const char *names[] = {"add", "sub", "mul", "div", "floordiv", "mod", "pow"};
        return names[n->op];
    }
    default: return "expr";
    }
}

static bool can_assign(const tpl_node *n) {
    if (n->kind == N_NAME) {
        vial_str s = n->u.name.name;
        static const char *reserved[] = {"true", "false", "none", "True", "False", "None"};
        for (size_t i = 0; i < 6; i++)
            if (s.len == strlen(reserved[i]) && memcmp(s.ptr, reserved[i], s.len) == 0) return false;
        return true;
    }
    if (n->kind == N_TUPLE) {
        for (uint32_t i = 0; i < n->u.items.n; i++)
            if (!can_assign(n->u.items.items[i])) return false;
        return true;
    }
    return n->kind == N_NSREF;
}

static tpl_node *parse_assign_target(parser *p, bool with_tuple, bool name_only, const char *const *extra_end,
                                     bool with_namespace) {
    tpl_node *target;
    if (with_namespace && look(p)->type == T_DOT) {
        tpl_token *t = expect(p, T_NAME);
        advance(p);
        tpl_token *attr = expect(p, T_NAME);
        target = node_at(p, N_NSREF, t);
        tpl_node *ns = node_at(p, N_NAME, t);
        ns->u.name.name = tok_str(t);
        ns->u.name.id = intern(p, ns->u.name.name);
        target->u.attr.obj = ns;
        target->u.attr.attr = tok_str(attr);
    } else if (name_only) {
        tpl_token *t = expect(p, T_NAME);
        target = node_at(p, N_NAME, t);
        target->u.name.name = tok_str(t);
        target->u.name.id = intern(p, target->u.name.name);
    } else {
        target = with_tuple ? parse_tuple(p, true, true, extra_end, false) : parse_primary(p);
    }
    if (!can_assign(target)) fail_node(p, target, "can't assign to '%s'", target_kind_name(target));
    return target;
}

/* ---- statements ---- */

static tpl_list subparse(parser *p, const char *const *end_tokens);
static void parse_statement(parser *p, nodevec *body);

static VIAL_NORETURN void fail_ut_eof(parser *p, const tpl_token *name_tok, const tpl_token *at) {
    char msg[512];
    size_t off = 0;
    char name[128] = "";
    if (name_tok) snprintf(name, sizeof name, "%.*s", (int)(name_tok->len > 100 ? 100 : name_tok->len), name_tok->ptr);
    if (!name_tok)
        off += (size_t)snprintf(msg + off, sizeof msg - off, "Unexpected end of template.");
    else
        off += (size_t)snprintf(msg + off, sizeof msg - off, "Encountered unknown tag '%s'.", name);
    if (p->nend) {
        const char *const *looking = p->end_stack[p->nend - 1];
        char cl[256];
        size_t o = 0;
        cl[0] = 0;
        for (size_t k = 0; looking[k] && o < sizeof cl; k++)
            o += (size_t)snprintf(cl + o, sizeof cl - o, "%s'%s'", k ? " or " : "", looking[k]);
        bool expected = false;
        if (name_tok)
            for (size_t s = 0; s < p->nend && !expected; s++)
                for (size_t k = 0; p->end_stack[s][k]; k++)
                    if (strcmp(p->end_stack[s][k], name) == 0) expected = true;
        if (off < sizeof msg) {
            if (expected)
                off += (size_t)snprintf(msg + off, sizeof msg - off,
                                        " You probably made a nesting mistake. Jinja is expecting this tag, but "
                                        "currently looking for %s.",
                                        cl);
            else
                off += (size_t)snprintf(msg + off, sizeof msg - off, " Jinja was looking for the following tags: %s.",
                                        cl);
        }
    }
    if (p->ntags && off < sizeof msg)
        snprintf(msg + off, sizeof msg - off, " The innermost block that needs to be closed is '%s'.",
                 p->tag_stack[p->ntags - 1]);
    fail_tok(p, at, "%s", msg);
}

static void push_end(parser *p, const char *const *end) {
    if (p->nend == p->end_cap) {
        size_t cap = p->end_cap ? p->end_cap * 2 : 8;
        const char *const **s = vial_arena_grow(p->a, (void *)p->end_stack, p->end_cap * sizeof *s, cap * sizeof *s);
        if (!s) oom(p);
        p->end_stack = s;
        p->end_cap = cap;
    }
    p->end_stack[p->nend++] = end;
}

static void push_tag(parser *p, const tpl_token *t) {
    if (p->ntags == p->tags_cap) {
        size_t cap = p->tags_cap ? p->tags_cap * 2 : 8;
        const char **s = vial_arena_grow(p->a, p->tag_stack, p->tags_cap * sizeof *s, cap * sizeof *s);
        if (!s) oom(p);
        p->tag_stack = s;
        p->tags_cap = cap;
    }
    p->tag_stack[p->ntags++] = vial_arena_strndup(p->a, t->ptr, t->len > 100 ? 100 : t->len);
}

static tpl_list parse_statements(parser *p, const char *const *end_tokens, bool drop_needle) {
    skip_if(p, T_COLON);
    expect(p, T_BLOCK_END);
    tpl_list body = subparse(p, end_tokens);
    if (cur_is(p, T_EOF)) {
        push_end(p, end_tokens);
        fail_ut_eof(p, NULL, cur(p));
    }
    if (drop_needle) advance(p);
    return body;
}

static tpl_node *parse_set(parser *p) {
    tpl_token *t = advance(p);
    tpl_node *target = parse_assign_target(p, true, false, NULL, true);
    if (skip_if(p, T_ASSIGN)) {
        tpl_node *n = node_at(p, S_SET, t);
        n->u.set.target = target;
        n->u.set.value = parse_tuple(p, false, true, NULL, false);
        return n;
    }
    tpl_node *n = node_at(p, S_SETBLOCK, t);
    n->u.setblock.target = target;
    n->u.setblock.filter = cur_is(p, T_PIPE) ? parse_filter(p, NULL, false) : NULL;
    n->u.setblock.body = parse_statements(p, END_ENDSET, true);
    return n;
}

static const char *const IN_END[] = {"in", NULL};
static const char *const RECURSIVE_END[] = {"recursive", NULL};

static tpl_node *parse_for(parser *p) {
    tpl_token *t = expect_name(p, "for");
    tpl_node *n = node_at(p, S_FOR, t);
    n->u.for_.target = parse_assign_target(p, true, false, IN_END, false);
    expect_name(p, "in");
    n->u.for_.iter = parse_tuple(p, false, false, RECURSIVE_END, false);
    if (skip_name(p, "if")) n->u.for_.filter = parse_expression(p, true);
    if (skip_name(p, "recursive")) n->flags |= NF_RECURSIVE;
    n->u.for_.body = parse_statements(p, END_FOR, false);
    tpl_token *end = advance(p);
    if (!tok_is_name(end, "endfor")) n->u.for_.orelse = parse_statements(p, END_ENDFOR, true);
    return n;
}

static tpl_node *parse_if(parser *p) {
    tpl_token *t = expect_name(p, "if");
    tpl_node *result = node_at(p, S_IF, t), *node = result;
    for (;;) {
        node->u.if_.test = parse_tuple(p, false, false, NULL, false);
        node->u.if_.body = parse_statements(p, END_IF, false);
        tpl_token *tok = advance(p);
        if (tok_is_name(tok, "elif")) {
            tpl_node *elif = node_at(p, S_IF, cur(p));
            node->u.if_.orelse.items = alloc(p, sizeof(tpl_node *));
            node->u.if_.orelse.items[0] = elif;
            node->u.if_.orelse.n = 1;
            node = elif;
            continue;
        }
        if (tok_is_name(tok, "else")) node->u.if_.orelse = parse_statements(p, END_ENDIF, true);
        break;
    }
    return result;
}

static tpl_node *parse_with(parser *p) {
    tpl_token *t = advance(p);
    tpl_node *n = node_at(p, S_WITH, t);
    nodevec targets = {0}, values = {0};
    while (!cur_is(p, T_BLOCK_END)) {
        if (targets.n) expect(p, T_COMMA);
        vec_push(p, &targets, parse_assign_target(p, true, false, NULL, false));
        expect(p, T_ASSIGN);
        vec_push(p, &values, parse_expression(p, true));
    }
    n->u.with.targets = targets.items;
    n->u.with.values = values.items;
    n->u.with.n = targets.n;
    n->u.with.body = parse_statements(p, END_WITH, true);
    return n;
}

static tpl_node *parse_autoescape(parser *p) {
    tpl_token *t = advance(p);
    tpl_node *n = node_at(p, S_AUTOESCAPE, t);
    n->u.autoescape.value = parse_expression(p, true);
    n->u.autoescape.body = parse_statements(p, END_AUTOESCAPE, true);
    return n;
}

static bool text_is_space(const vial_str *s) {
    if (!s->len) return false;
    for (size_t i = 0; i < s->len;) {
        uint32_t cp;
        i += vial_tv_next_cp(s->ptr + i, s->len - i, &cp);
        if (!vial_tv_isspace_cp(cp)) return false;
    }
    return true;
}

static tpl_node *parse_block(parser *p) {
    tpl_token *t = advance(p);
    tpl_node *n = node_at(p, S_BLOCK, t);
    tpl_block_def *b = alloc(p, sizeof *b);
    n->u.block = b;
    b->name = tok_str(expect(p, T_NAME));
    b->line = t->line;
    b->scoped = skip_name(p, "scoped");
    b->required = skip_name(p, "required");
    if (cur_is(p, T_SUB))
        fail_tok(p, cur(p),
                 "Block names in Jinja have to be valid Python identifiers and may not contain hyphens, use an "
                 "underscore instead.");
    b->body = parse_statements(p, END_BLOCK, true);
    if (b->required) {
        for (uint32_t k = 0; k < b->body.n; k++) {
            const tpl_node *s = b->body.items[k];
            if (s->kind != S_TEXT || !text_is_space(&s->u.text))
                fail_tok(p, cur(p), "Required blocks can only contain comments or whitespace");
        }
    }
    if (cur_is(p, T_NAME) && cur(p)->len == b->name.len && memcmp(cur(p)->ptr, b->name.ptr, b->name.len) == 0)
        advance(p);
    return n;
}

static tpl_node *parse_extends(parser *p) {
    tpl_token *t = advance(p);
    tpl_node *n = node_at(p, S_EXTENDS, t);
    n->u.expr = parse_expression(p, true);
    return n;
}

static void parse_import_context(parser *p, tpl_node *n, bool dflt) {
    if ((cur_name(p, "with") || cur_name(p, "without")) && tok_is_name(look(p), "context")) {
        if (cur_name(p, "with")) n->flags |= NF_WITH_CONTEXT;
        advance(p);
        advance(p);
    } else if (dflt) {
        n->flags |= NF_WITH_CONTEXT;
    }
}

static tpl_node *parse_include(parser *p) {
    tpl_token *t = advance(p);
    tpl_node *n = node_at(p, S_INCLUDE, t);
    n->u.imp.tmpl = parse_expression(p, true);
    if (cur_name(p, "ignore") && tok_is_name(look(p), "missing")) {
        n->flags |= NF_IGNORE_MISSING;
        advance(p);
        advance(p);
    }
    parse_import_context(p, n, true);
    return n;
}

static tpl_node *parse_import(parser *p) {
    tpl_token *t = advance(p);
    tpl_node *n = node_at(p, S_IMPORT, t);
    n->u.imp.tmpl = parse_expression(p, true);
    expect_name(p, "as");
    tpl_node *target = parse_assign_target(p, true, true, NULL, false);
    n->u.imp.target = target->u.name.name;
    n->u.imp.target_id = target->u.name.id;
    parse_import_context(p, n, false);
    return n;
}

static bool from_context(parser *p, tpl_node *n) {
    if ((cur_name(p, "with") || cur_name(p, "without")) && tok_is_name(look(p), "context")) {
        if (cur_name(p, "with")) n->flags |= NF_WITH_CONTEXT;
        advance(p);
        advance(p);
        return true;
    }
    return false;
}

static tpl_node *parse_from(parser *p) {
    tpl_token *t = advance(p);
    tpl_node *n = node_at(p, S_FROMIMPORT, t);
    n->u.imp.tmpl = parse_expression(p, true);
    expect_name(p, "import");
    uint32_t cap = 0;
    for (;;) {
        if (n->u.imp.nnames) expect(p, T_COMMA);
        if (cur_is(p, T_NAME)) {
            if (from_context(p, n)) break;
            tpl_node *target = parse_assign_target(p, true, true, NULL, false);
            if (target->u.name.name.len && target->u.name.name.ptr[0] == '_')
                fail_node(p, target, "names starting with an underline can not be imported");
            tpl_import_name in = {target->u.name.name, target->u.name.name, target->u.name.id};
            if (skip_name(p, "as")) {
                tpl_node *alias = parse_assign_target(p, true, true, NULL, false);
                in.alias = alias->u.name.name;
                in.alias_id = alias->u.name.id;
            }
            if (n->u.imp.nnames == cap) {
                uint32_t nc = cap ? cap * 2 : 4;
                tpl_import_name *names =
                    vial_arena_grow(p->a, n->u.imp.names, cap * sizeof *names, nc * sizeof *names);
                if (!names) oom(p);
                n->u.imp.names = names;
                cap = nc;
            }
            n->u.imp.names[n->u.imp.nnames++] = in;
            if (from_context(p, n) || !cur_is(p, T_COMMA)) break;
        } else {
            expect(p, T_NAME);
        }
    }
    return n;
}

static tpl_macro_def *parse_signature(parser *p, tpl_macro_def *m) {
    expect(p, T_LPAREN);
    nodevec defaults = {0};
    vial_str *names = NULL;
    uint32_t *ids = NULL;
    uint32_t n = 0, cap = 0;
    bool have_default = false;
    while (!cur_is(p, T_RPAREN)) {
        if (n) expect(p, T_COMMA);
        tpl_node *arg = parse_assign_target(p, true, true, NULL, false);
        tpl_node *dflt = NULL;
        if (skip_if(p, T_ASSIGN)) {
            dflt = parse_expression(p, true);
            have_default = true;
        } else if (have_default) {
            fail_tok(p, cur(p), "non-default argument follows default argument");
        }
        if (n == cap) {
            uint32_t nc = cap ? cap * 2 : 4;
            names = vial_arena_grow(p->a, names, cap * sizeof *names, nc * sizeof *names);
            ids = vial_arena_grow(p->a, ids, cap * sizeof *ids, nc * sizeof *ids);
            if (!names || !ids) oom(p);
            cap = nc;
        }
        names[n] = arg->u.name.name;
        ids[n] = arg->u.name.id;
        vec_push(p, &defaults, dflt);
        n++;
    }
    expect(p, T_RPAREN);
    m->params = names;
    m->param_ids = ids;
    m->defaults = defaults.items;
    m->nparams = n;
    return m;
}

static tpl_node *parse_macro(parser *p) {
    tpl_token *t = advance(p);
    tpl_node *n = node_at(p, S_MACRO, t);
    tpl_macro_def *m = alloc(p, sizeof *m);
    n->u.macro = m;
    m->node = n;
    tpl_node *name = parse_assign_target(p, true, true, NULL, false);
    m->name = name->u.name.name;
    m->name_id = name->u.name.id;
    parse_signature(p, m);
    m->body = parse_statements(p, END_MACRO, true);
    return n;
}

static tpl_node *parse_call_block(parser *p) {
    tpl_token *t = advance(p);
    tpl_node *n = node_at(p, S_CALLBLOCK, t);
    tpl_macro_def *m = alloc(p, sizeof *m);
    n->u.macro = m;
    m->node = n;
    m->name = (vial_str){"caller", 6};
    if (cur_is(p, T_LPAREN)) parse_signature(p, m);
    tpl_node *call = parse_expression(p, true);
    if (call->kind != N_CALL) fail_node(p, n, "expected call");
    m->call = call;
    m->body = parse_statements(p, END_CALL, true);
    return n;
}

static tpl_node *parse_filter_block(parser *p) {
    tpl_token *t = advance(p);
    tpl_node *n = node_at(p, S_FILTERBLOCK, t);
    n->u.filterblock.filter = parse_filter(p, NULL, true);
    n->u.filterblock.body = parse_statements(p, END_FILTER, true);
    return n;
}

static void parse_print(parser *p, nodevec *body) {
    tpl_token *t = advance(p);
    uint32_t count = 0;
    while (!cur_is(p, T_BLOCK_END)) {
        if (count) expect(p, T_COMMA);
        tpl_node *n = node_at(p, S_OUTPUT, t);
        n->u.expr = parse_expression(p, true);
        n->line = n->u.expr->line;
        n->col = n->u.expr->col;
        vec_push(p, body, n);
        count++;
    }
}

static void parse_statement(parser *p, nodevec *body) {
    tpl_token *t = cur(p);
    if (t->type != T_NAME) fail_tok(p, t, "tag name expected");
    enter(p);
    push_tag(p, t);
    tpl_node *n = NULL;
    if (tok_is_name(t, "for")) n = parse_for(p);
    else if (tok_is_name(t, "if")) n = parse_if(p);
    else if (tok_is_name(t, "block")) n = parse_block(p);
    else if (tok_is_name(t, "extends")) n = parse_extends(p);
    else if (tok_is_name(t, "print")) parse_print(p, body);
    else if (tok_is_name(t, "macro")) n = parse_macro(p);
    else if (tok_is_name(t, "include")) n = parse_include(p);
    else if (tok_is_name(t, "from")) n = parse_from(p);
    else if (tok_is_name(t, "import")) n = parse_import(p);
    else if (tok_is_name(t, "set")) n = parse_set(p);
    else if (tok_is_name(t, "with")) n = parse_with(p);
    else if (tok_is_name(t, "autoescape")) n = parse_autoescape(p);
    else if (tok_is_name(t, "call")) n = parse_call_block(p);
    else if (tok_is_name(t, "filter")) n = parse_filter_block(p);
    else {
        p->ntags--;
        fail_ut_eof(p, t, t);
    }
    p->ntags--;
    leave(p);
    if (n) vec_push(p, body, n);
}

static tpl_list subparse(parser *p, const char *const *end_tokens) {
    nodevec body = {0};
    if (end_tokens) push_end(p, end_tokens);
    while (!cur_is(p, T_EOF)) {
        tpl_token *t = cur(p);
        if (t->type == T_DATA) {
            tpl_node *n = node_at(p, S_TEXT, t);
            n->u.text = tok_str(t);
            vec_push(p, &body, n);
            advance(p);
        } else if (t->type == T_VAR_BEGIN) {
            advance(p);
            tpl_node *expr = parse_tuple(p, false, true, NULL, false);
            tpl_node *n = node_at(p, S_OUTPUT, t);
            n->line = expr->line;
            n->col = expr->col;
            n->u.expr = expr;
            vec_push(p, &body, n);
            expect(p, T_VAR_END);
        } else if (t->type == T_BLOCK_BEGIN) {
            advance(p);
            if (end_tokens) {
                for (size_t k = 0; end_tokens[k]; k++) {
                    if (cur_name(p, end_tokens[k])) {
                        p->nend--;
                        return vec_list(&body);
                    }
                }
            }
            parse_statement(p, &body);
            expect(p, T_BLOCK_END);
        } else {
            fail_tok(p, t, "internal parsing error");
        }
    }
    if (end_tokens) p->nend--;
    return vec_list(&body);
}

int vial_tpl_parse(tpl_template *t, const char *src, size_t len, tpl_err *err) {
    struct vial_tpl_env *env = t->env;
    vial_arena *a = t->arena;
    tpl_lex_opts lo = {env->opt.trim_blocks, env->opt.lstrip_blocks, env->opt.keep_trailing_newline};
    t->source = vial_tpl_normalize_source(a, src, len, true, &t->source_len);
    size_t norm_len;
    char *norm = vial_tpl_normalize_source(a, src, len, lo.keep_trailing_newline, &norm_len);
    if (!t->source || !norm) goto oom;
    tpl_err lex_err = {0};
    size_t ntoks;
    tpl_token *toks = vial_tpl_lex(a, norm, norm_len, &lo, &ntoks, &lex_err);
    if (!toks) goto oom;
    /* the end-of-template token carries the last real token's line, as Jinja2's does */
    if (ntoks > 1 && toks[ntoks - 1].type == T_EOF) {
        toks[ntoks - 1].line = toks[ntoks - 2].line;
        toks[ntoks - 1].col = toks[ntoks - 2].col;
    }
    parser p = {.env = env, .a = a, .toks = toks, .ntoks = ntoks, .err = err, .lex_err = &lex_err};
    if (setjmp(p.jb)) return -1;
    if (cur(&p)->type == T_ERROR) raise_lex_error(&p);
    t->root = subparse(&p, NULL);
    return vial_tpl_compile(env, t, err);
oom:
    err->kind = VIAL_TPL_ERR_MEMORY;
    snprintf(err->message, sizeof err->message, "out of memory while compiling the template");
    return -1;
}
