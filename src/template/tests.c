/* tests.c - Jinja2's tests (`x is odd`, `x is divisibleby 3`, ...).
 *
 * Each test is Jinja2's one-line definition read in Python terms: odd is
 * `value % 2 == 1` (so 3.0 is odd and a string is a TypeError), sequence is
 * "has len() and __getitem__", callable is Python's callable(), sameas is
 * `is` -- which for small integers, booleans and None is value identity. */
#include "template/tpl.h"

#include <string.h>

#define TEST(nm) static int nm(tpl_render *r, const tpl_node *site, vial_value *v, vial_value **p, tpl_args *raw)
#define UNUSED (void)r, (void)site, (void)v, (void)p, (void)raw

static int mod_equals(tpl_render *r, const tpl_node *site, vial_value *v, vial_value *m, int64_t want) {
    vial_value *rem = vial_tv_binop(r, site, OP_MOD, v, m);
    if (!rem) return -1;
    vial_value w = {.type = VIAL_INT};
    w.as.i = want;
    return vial_tv_equal(rem, &w);
}

TEST(t_odd) {
    UNUSED;
    vial_value two = {.type = VIAL_INT, .as.i = 2};
    return mod_equals(r, site, v, &two, 1);
}

TEST(t_even) {
    UNUSED;
    vial_value two = {.type = VIAL_INT, .as.i = 2};
    return mod_equals(r, site, v, &two, 0);
}

TEST(t_divisibleby) {
    UNUSED;
    return mod_equals(r, site, v, p[0], 0);
}

TEST(t_defined) {
    UNUSED;
    return tv_kind(v) != TK_UNDEF;
}

TEST(t_undefined) {
    UNUSED;
    return tv_kind(v) == TK_UNDEF;
}

TEST(t_none) {
    UNUSED;
    return tv_kind(v) == TK_NULL;
}

TEST(t_boolean) {
    UNUSED;
    return v->type == VIAL_BOOL;
}

TEST(t_false) {
    UNUSED;
    return v->type == VIAL_BOOL && !v->as.b;
}

TEST(t_true) {
    UNUSED;
    return v->type == VIAL_BOOL && v->as.b;
}

TEST(t_integer) {
    UNUSED;
    return v->type == VIAL_INT;
}

TEST(t_float) {
    UNUSED;
    return v->type == VIAL_DOUBLE;
}

/* str(value).islower() / isupper(): Python's rule with titlecase letters */
static int case_test(tpl_render *r, const tpl_node *site, vial_value *v, bool want_lower) {
    vial_value *s = vial_tv_to_str(r, site, v);
    if (!s) return -1;
    bool cased = false;
    for (size_t i = 0; i < s->as.s.len;) {
        uint32_t cp;
        i += vial_tv_next_cp(s->as.s.ptr + i, s->as.s.len - i, &cp);
        if ((want_lower ? vial_tv_isupper_cp(cp) : vial_tv_islower_cp(cp)) || vial_tv_istitle_cp(cp)) return 0;
        if (want_lower ? vial_tv_islower_cp(cp) : vial_tv_isupper_cp(cp)) cased = true;
    }
    return cased;
}

TEST(t_lower) {
    UNUSED;
    return case_test(r, site, v, true);
}

TEST(t_upper) {
    UNUSED;
    return case_test(r, site, v, false);
}

TEST(t_string) {
    UNUSED;
    return v->type == VIAL_STRING;
}

TEST(t_mapping) {
    UNUSED;
    return v->type == VIAL_OBJECT;
}

TEST(t_number) {
    UNUSED;
    return vial_tv_is_number(v);
}

TEST(t_sequence) {
    UNUSED;
    switch (tv_kind(v)) {
    case TK_STRING:
    case TK_ARRAY:
    case TK_OBJECT:
    case TK_RANGE: return 1;
    case TK_UNDEF: return !r->strict;
    default: return 0;
    }
}

TEST(t_iterable) {
    UNUSED;
    switch (tv_kind(v)) {
    case TK_STRING:
    case TK_ARRAY:
    case TK_OBJECT:
    case TK_RANGE:
    case TK_LOOP: return 1;
    case TK_UNDEF:
        if (r->strict) return vial_tpl_undef_fail(r, site, v);
        return 1;
    default: return 0;
    }
}

TEST(t_callable) {
    UNUSED;
    switch (tv_kind(v)) {
    case TK_MACRO:
    case TK_FUNC:
    case TK_LOOP:
    case TK_JOINER:
    case TK_UNDEF: return 1;
    default: return 0;
    }
}

TEST(t_sameas) {
    UNUSED;
    vial_value *o = p[0];
    if (v == o) return 1;
    int kv = tv_kind(v), ko = tv_kind(o);
    if (kv != ko) return 0;
    if (kv == TK_NULL) return 1;
    if (kv == TK_BOOL) return v->as.b == o->as.b;
    if (kv == TK_INT) return v->as.i == o->as.i && v->as.i >= -5 && v->as.i <= 256; /* CPython's small ints */
    return 0;
}

TEST(t_escaped) {
    UNUSED;
    return tv_is_safe(v);
}

TEST(t_in) {
    UNUSED;
    return vial_tv_contains(r, site, p[0], v);
}

TEST(t_eq) {
    UNUSED;
    if (r->strict && (tv_kind(v) == TK_UNDEF || tv_kind(p[0]) == TK_UNDEF))
        return vial_tpl_undef_fail(r, site, tv_kind(v) == TK_UNDEF ? v : p[0]);
    return vial_tv_equal(v, p[0]);
}

TEST(t_ne) {
    UNUSED;
    int e = t_eq(r, site, v, p, raw);
    return e < 0 ? -1 : !e;
}

TEST(t_gt) {
    UNUSED;
    return vial_tv_order(r, site, CMP_GT, v, p[0]);
}
TEST(t_ge) {
    UNUSED;
    return vial_tv_order(r, site, CMP_GE, v, p[0]);
}
TEST(t_lt) {
    UNUSED;
    return vial_tv_order(r, site, CMP_LT, v, p[0]);
}
TEST(t_le) {
    UNUSED;
    return vial_tv_order(r, site, CMP_LE, v, p[0]);
}

TEST(t_filter) {
    UNUSED;
    if (v->type != VIAL_STRING) return 0;
    return vial_tpl_env_find(r->env->filters, r->env->nfilters, v->as.s.ptr, v->as.s.len) ||
           vial_tpl_find_filter(v->as.s.ptr, v->as.s.len);
}

TEST(t_test) {
    UNUSED;
    if (v->type != VIAL_STRING) return 0;
    return vial_tpl_env_find(r->env->tests, r->env->ntests, v->as.s.ptr, v->as.s.len) ||
           vial_tpl_find_test(v->as.s.ptr, v->as.s.len);
}

#define T1(nm, py, fn) {nm, py, {.test = fn}, BF_PURE, 0, 0, {0}}
#define T2(nm, py, fn, arg) {nm, py, {.test = fn}, BF_PURE, 1, 1, {arg}}

static const tpl_builtin tests[] = {
    T1("odd", "test_odd", t_odd),
    T1("even", "test_even", t_even),
    T2("divisibleby", "test_divisibleby", t_divisibleby, "num"),
    {"defined", "test_defined", {.test = t_defined}, 0, 0, 0, {0}},
    {"undefined", "test_undefined", {.test = t_undefined}, 0, 0, 0, {0}},
    {"filter", "test_filter", {.test = t_filter}, 0, 0, 0, {0}},
    {"test", "test_test", {.test = t_test}, 0, 0, 0, {0}},
    T1("none", "test_none", t_none),
    T1("boolean", "test_boolean", t_boolean),
    T1("false", "test_false", t_false),
    T1("true", "test_true", t_true),
    T1("integer", "test_integer", t_integer),
    T1("float", "test_float", t_float),
    T1("lower", "test_lower", t_lower),
    T1("upper", "test_upper", t_upper),
    T1("string", "test_string", t_string),
    T1("mapping", "test_mapping", t_mapping),
    T1("number", "test_number", t_number),
    T1("sequence", "test_sequence", t_sequence),
    T1("iterable", "test_iterable", t_iterable),
    T1("callable", "callable", t_callable),
    T2("sameas", "test_sameas", t_sameas, "other"),
    T1("escaped", "test_escaped", t_escaped),
    T2("in", "test_in", t_in, "seq"),
    T2("==", "eq", t_eq, "b"),
    T2("eq", "eq", t_eq, "b"),
    T2("equalto", "eq", t_eq, "b"),
    T2("!=", "ne", t_ne, "b"),
    T2("ne", "ne", t_ne, "b"),
    T2(">", "gt", t_gt, "b"),
    T2("gt", "gt", t_gt, "b"),
    T2("greaterthan", "gt", t_gt, "b"),
    T2(">=", "ge", t_ge, "b"),
    T2("ge", "ge", t_ge, "b"),
    T2("<", "lt", t_lt, "b"),
    T2("lt", "lt", t_lt, "b"),
    T2("lessthan", "lt", t_lt, "b"),
    T2("<=", "le", t_le, "b"),
    T2("le", "le", t_le, "b"),
};

const tpl_builtin *vial_tpl_find_test(const char *name, size_t len) {
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        if (strlen(tests[i].name) == len && memcmp(tests[i].name, name, len) == 0) return &tests[i];
    return NULL;
}
