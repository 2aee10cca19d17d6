/* test_router.c - the router beyond the vector file: rule errors, priorities,
 * converter edge cases, user converters, the PCRE2 `re` converter, URL
 * building options, the match API's memory and Location details. Expected
 * values were checked against Werkzeug 2.2.2 (/usr/bin/python3) where
 * Werkzeug has an answer; where vial is stricter the test says so. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "vial.h"

static vial_arena *arena;
static vial_router *router;

static void setup(void) {
    arena = vial_arena_new(64 * 1024);
    router = vial_router_new();
    cr_assert(arena && router);
}

static void teardown(void) {
    vial_router_free(router);
    vial_arena_free(arena);
}

TestSuite(router, .init = setup, .fini = teardown);

/* ---- helpers ---- */

static int add_full(const char *rule, const char *endpoint, unsigned methods, void *handler, vial_route_error *err) {
    vial_rule_spec spec = {.rule = rule, .endpoint = endpoint, .methods = methods, .handler = handler};
    return vial_router_add(router, &spec, err);
}

static void add(const char *rule, const char *endpoint) {
    vial_route_error err;
    cr_assert_eq(add_full(rule, endpoint, 0, NULL, &err), 0, "%s: %s", rule, err.message);
}

static void add_m(const char *rule, const char *endpoint, unsigned methods) {
    vial_route_error err;
    cr_assert_eq(add_full(rule, endpoint, methods, NULL, &err), 0, "%s: %s", rule, err.message);
}

/* Adds a rule that must be refused; returns the message. */
static const char *refuse(const char *rule) {
    static vial_route_error err;
    cr_assert_eq(add_full(rule, "e", 0, NULL, &err), -1, "%s was accepted", rule);
    cr_assert(strstr(err.message, rule) != NULL, "message does not name the rule: %s", err.message);
    return err.message;
}

static vial_route_match match_req(unsigned method, const char *path, const char *query) {
    vial_route_request rq = {.method = method,
                             .path = {path, strlen(path)},
                             .query = {query ? query : "", query ? strlen(query) : 0},
                             .scheme = VIAL_STR("http"),
                             .host = VIAL_STR("localhost")};
    vial_route_match m;
    cr_assert_eq(vial_router_match(router, arena, &rq, &m), 0);
    return m;
}

static vial_route_match get(const char *path) { return match_req(VIAL_GET, path, NULL); }

static void expect_endpoint(const char *path, const char *endpoint) {
    vial_route_match m = get(path);
    cr_assert_eq(m.status, VIAL_ROUTE_FOUND, "%s: status %d, expected %s", path, m.status, endpoint);
    cr_assert_str_eq(m.endpoint, endpoint, "%s: %s, expected %s", path, m.endpoint, endpoint);
}

static void expect_404(const char *path) {
    vial_route_match m = get(path);
    cr_assert_eq(m.status, VIAL_ROUTE_NOT_FOUND, "%s: status %d (%s), expected 404", path, m.status,
                 m.endpoint ? m.endpoint : "");
}

static const vial_value *arg(const char *path, const char *name) {
    vial_route_match m = get(path);
    cr_assert_eq(m.status, VIAL_ROUTE_FOUND, "%s did not match", path);
    const vial_value *v = vial_object_get(m.args, name);
    cr_assert(v, "%s: no value %s", path, name);
    return v;
}

static const char *build(const char *endpoint, const vial_value *values, const vial_url_opts *opts) {
    vial_url_error err;
    char *url = vial_router_build(router, arena, endpoint, values, opts, &err);
    cr_assert(url, "build %s failed: %s", endpoint, err.message);
    return url;
}

static const char *build_error(const char *endpoint, const vial_value *values, const vial_url_opts *opts, int kind) {
    static vial_url_error err;
    char *url = vial_router_build(router, arena, endpoint, values, opts, &err);
    cr_assert_null(url, "build %s gave %s", endpoint, url);
    cr_assert_eq(err.kind, kind, "kind %d: %s", err.kind, err.message);
    return err.message;
}

/* ---- rule errors ---- */

Test(router, rule_must_start_with_a_slash) {
    const char *msg = refuse("about");
    cr_expect(strstr(msg, "offset 0") && strstr(msg, "must start with '/'"), "%s", msg);
}

Test(router, malformed_placeholders_are_located) {
    vial_route_error err;
    cr_assert_eq(add_full("/a/<name", "e", 0, NULL, &err), -1);
    cr_expect_eq(err.position, 3);
    cr_expect(strstr(err.message, "never closed"), "%s", err.message);
    cr_assert_eq(add_full("/a/<1x>", "e", 0, NULL, &err), -1);
    cr_expect_eq(err.position, 3);
    cr_expect(strstr(err.message, "malformed placeholder '<1x>'"), "%s", err.message);
    cr_assert_eq(add_full("/a/<int:>", "e", 0, NULL, &err), -1);
    cr_assert_eq(add_full("/a/<int(min=1:x>", "e", 0, NULL, &err), -1);
}

Test(router, unknown_converter) {
    vial_route_error err;
    cr_assert_eq(add_full("/a/<money:x>", "e", 0, NULL, &err), -1);
    cr_expect_eq(err.position, 4);
    cr_expect(strstr(err.message, "the converter 'money' does not exist"), "%s", err.message);
}

Test(router, bad_converter_arguments) {
    cr_expect(strstr(refuse("/a/<int(foo=1):x>"), "int() got an unexpected keyword argument 'foo'"));
    cr_expect(strstr(refuse("/a/<int(1, 2, 3, 4, 5):x>"), "int() takes at most 4 arguments (5 given)"));
    cr_expect(strstr(refuse("/a/<string(length=x):x>"), "length must be an integer"));
    cr_expect(strstr(refuse("/a/<string(minlength=5, maxlength=2):x>"), "greater than maxlength"));
    cr_expect(strstr(refuse("/a/<any():x>"), "at least one item"));
    cr_expect(strstr(refuse("/a/<any(1, 2):x>"), "not a string"));
    cr_expect(strstr(refuse("/a/<path(1):x>"), "path() takes no arguments"));
    cr_expect(strstr(refuse("/a/<uuid(v=4):x>"), "uuid() takes no arguments"));
    cr_expect(strstr(refuse("/a/<re():x>"), "re() takes exactly one argument"));
    cr_expect(strstr(refuse("/a/<re('a', 'b'):x>"), "re() takes exactly one argument"));
    cr_expect(strstr(refuse("/a/<int(min=1, min=2):x>"), "given twice"));
    cr_expect(strstr(refuse("/a/<int(max=99999999999999999999):x>"), "does not fit in 64 bits"));
    /* Werkzeug would read any(a b) as any(b) and int(min=-5) as int(5): both are errors here */
    cr_expect(strstr(refuse("/a/<any(a b):x>"), "cannot read the converter arguments at 'a b'"));
    cr_expect(strstr(refuse("/a/<int(min=-5, signed=True):x>"), "negative numbers"));
}

Test(router, bad_regex_is_located) {
    vial_route_error err;
    cr_assert_eq(add_full("/sms/<re('1[3-9'):m>", "e", 0, NULL, &err), -1);
    cr_expect(strstr(err.message, "bad regex '1[3-9'"), "%s", err.message);
    cr_expect(strstr(err.message, "missing terminating ]"), "%s", err.message);
    cr_expect_eq(err.position, 15); /* the end of '1[3-9', where PCRE2 wants the ']' */
}

Test(router, variable_used_twice) {
    cr_expect(strstr(refuse("/a/<x>/<int:x>"), "the variable 'x' is used twice"));
}

Test(router, rule_text_must_be_utf8) { cr_expect(strstr(refuse("/a/\xff"), "not valid UTF-8")); }

Test(router, duplicate_rule_for_a_common_method_is_refused) {
    vial_route_error err;
    add_m("/form", "form_get", VIAL_GET);
    add_m("/form", "form_post", VIAL_POST); /* other methods: fine, as in Flask */
    cr_assert_eq(add_full("/form", "again", VIAL_GET | VIAL_PUT, NULL, &err), -1);
    cr_expect(strstr(err.message, "duplicates the rule registered for endpoint 'form_get'"), "%s", err.message);
    /* HEAD comes with GET */
    cr_assert_eq(add_full("/form", "head", VIAL_HEAD, NULL, &err), -1);
    /* any-method rules overlap everything */
    cr_assert_eq(add_full("/form", "any", VIAL_ANY_METHOD, NULL, &err), -1);
    /* the same parts under another text are Werkzeug's shared state: allowed, first wins */
    add("/dup/<a>", "dup_first");
    add("/dup/<b>", "dup_second");
    expect_endpoint("/dup/x", "dup_first");
}

Test(router, endpoint_bound_to_another_handler) {
    static int view1, view2;
    vial_route_error err;
    cr_assert_eq(add_full("/a", "page", 0, &view1, &err), 0);
    cr_assert_eq(add_full("/b", "page", 0, &view1, &err), 0, "same view, second rule: %s", err.message);
    cr_assert_eq(add_full("/c", "page", 0, NULL, &err), 0, "no view: the endpoint's");
    cr_assert_eq(add_full("/d", "page", 0, &view2, &err), -1);
    cr_expect_str_eq(err.message, "View function mapping is overwriting an existing endpoint function: page");
    vial_route_match m = get("/c");
    cr_expect_eq(m.handler, &view1);
}

Test(router, refused_rules_leave_no_trace) {
    refuse("/x/<int(foo=1):n>");
    cr_expect_eq(vial_router_count(router), 0);
    expect_404("/x/1");
    add("/x/<int:n>", "x");
    expect_endpoint("/x/1", "x");
}

Test(router, bad_defaults_and_redirect_to) {
    vial_route_error err;
    vial_value *defaults = vial_pack_in(arena, "{s:s}", "id", "abc");
    vial_rule_spec spec = {.rule = "/i/<int:id>", .endpoint = "i", .defaults = defaults};
    cr_assert_eq(vial_router_add(router, &spec, &err), -1);
    cr_expect(strstr(err.message, "invalid literal for int() with base 10: 'abc'"), "%s", err.message);
    spec = (vial_rule_spec){.rule = "/old/<int:id>", .endpoint = "old", .redirect_to = "/new/<ident>"};
    cr_assert_eq(vial_router_add(router, &spec, &err), -1);
    cr_expect(strstr(err.message, "<ident>"), "%s", err.message);
    spec = (vial_rule_spec){.rule = "/o", .endpoint = "o", .defaults = vial_new_array(arena)};
    cr_assert_eq(vial_router_add(router, &spec, &err), -1);
}

/* ---- priorities ---- */

Test(router, static_beats_converters_whatever_the_order) {
    add("/p/<path:rest>", "p_path");
    add("/p/<name>", "p_str");
    add("/p/<int:id>", "p_int");
    add("/p/special", "p_static");
    expect_endpoint("/p/special", "p_static");
    expect_endpoint("/p/42", "p_int");
    expect_endpoint("/p/hello", "p_str");
    expect_endpoint("/p/a/b", "p_path");
}

Test(router, more_literal_text_first_then_registration_order) {
    add("/m/<c>", "one");
    add("/m/<a>-<b>", "two");
    add("/m/<a>-<b>-<c>", "three");
    expect_endpoint("/m/x-y-z", "three");
    expect_endpoint("/m/x-y", "two");
    expect_endpoint("/m/xy", "one");
    add("/q/<y>", "q_str");
    add("/q/<any(a, b):x>", "q_any");
    expect_endpoint("/q/a", "q_str"); /* any() weighs as much as a string: registration order */
}

Test(router, backtracking_to_a_path_converter) {
    add("/docs/<a>/<b>", "two");
    add("/docs/<path:p>", "path");
    expect_endpoint("/docs/x/y", "two");
    expect_endpoint("/docs/x/y/z", "path");
    cr_expect_str_eq(vial_str_of(arg("/docs/x/y/z", "p")), "x/y/z");
}

Test(router, method_decides_between_static_and_converter) {
    add_m("/user/<username>", "user", VIAL_GET);
    add_m("/user/new", "user_new", VIAL_POST);
    expect_endpoint("/user/new", "user");
    vial_route_match m = match_req(VIAL_POST, "/user/new", NULL);
    cr_assert_eq(m.status, VIAL_ROUTE_FOUND);
    cr_expect_str_eq(m.endpoint, "user_new");
    m = match_req(VIAL_POST, "/user/bob", NULL);
    cr_assert_eq(m.status, VIAL_ROUTE_METHOD_NOT_ALLOWED);
    cr_expect_eq(m.allowed, VIAL_GET | VIAL_HEAD | VIAL_OPTIONS);
}

Test(router, validation_failure_does_not_fall_back) {
    add("/v/<int(max=10):x>", "small");
    add("/v/<y>", "any");
    expect_endpoint("/v/5", "small");
    expect_404("/v/50");
    expect_endpoint("/v/abc", "any");
}

Test(router, unknown_method_gets_405) {
    add("/about", "about");
    vial_route_match m = match_req(0, "/about", NULL); /* BREW */
    cr_assert_eq(m.status, VIAL_ROUTE_METHOD_NOT_ALLOWED);
    char allow[64];
    vial_methods_format(allow, sizeof allow, m.allowed);
    cr_expect_str_eq(allow, "GET, HEAD, OPTIONS");
}

Test(router, any_method_rules) {
    vial_rule_spec spec = {.rule = "/hook", .endpoint = "hook", .methods = VIAL_ANY_METHOD};
    cr_assert_eq(vial_router_add(router, &spec, NULL), 0);
    cr_expect_eq(match_req(0, "/hook", NULL).status, VIAL_ROUTE_FOUND);
    cr_expect_eq(match_req(VIAL_PATCH, "/hook", NULL).status, VIAL_ROUTE_FOUND);
    cr_expect_eq(vial_router_rule(router, 0)->methods, VIAL_ANY_METHOD);
    cr_expect_not(vial_router_rule(router, 0)->auto_options);
}

/* ---- converters ---- */

Test(router, int_converter_edges) {
    add("/int/<int:n>", "int");
    add("/year/<int(fixed_digits=4):y>", "year");
    add("/signed/<int(signed=True):n>", "signed");
    add("/range/<int(min=1, max=10):n>", "range");
    cr_expect_eq(arg("/int/007", "n")->as.i, 7);
    cr_expect_eq(arg("/int/\xef\xbc\x91\xef\xbc\x92", "n")->as.i, 12); /* full-width digits, as Python's \d */
    cr_expect_eq(arg("/int/9223372036854775807", "n")->as.i, INT64_MAX);
    expect_404("/int/9223372036854775808"); /* past int64: deliberate (Python has bigints) */
    expect_404("/int/-1");
    expect_404("/int/+1");
    expect_404("/int/1_000");
    expect_404("/int/");
    cr_expect_eq(arg("/year/0099", "y")->as.i, 99);
    expect_404("/year/99");
    expect_404("/year/12345");
    cr_expect_eq(arg("/signed/-0", "n")->as.i, 0);
    cr_expect_eq(arg("/signed/-9223372036854775808", "n")->as.i, INT64_MIN);
    expect_404("/signed/--1");
    expect_404("/range/0");
    expect_404("/range/11");
    cr_expect_eq(arg("/range/10", "n")->type, VIAL_INT);
}

Test(router, float_converter_edges) {
    add("/f/<float:x>", "f");
    add("/s/<float(signed=True, max=2.5):x>", "s");
    cr_expect_eq(arg("/f/1.5", "x")->as.d, 1.5);
    cr_expect_eq(arg("/f/0.1", "x")->as.d, 0.1);
    cr_expect_eq(arg("/f/00.50", "x")->as.d, 0.5);
    expect_404("/f/1");
    expect_404("/f/.5");
    expect_404("/f/1.");
    expect_404("/f/1e5");
    expect_404("/f/1.5e3");
    expect_404("/f/inf");
    expect_404("/f/-1.5");
    cr_expect_eq(arg("/s/-99.25", "x")->as.d, -99.25);
    cr_expect_eq(arg("/s/2.5", "x")->as.d, 2.5);
    expect_404("/s/2.6");
}

Test(router, uuid_converter_normalises_case) {
    add("/o/<uuid:id>", "o");
    cr_expect_str_eq(vial_str_of(arg("/o/C9BF9E57-1685-4C89-BAFB-FF5AF830BE8A", "id")),
                     "c9bf9e57-1685-4c89-bafb-ff5af830be8a");
    expect_404("/o/c9bf9e5716854c89bafbff5af830be8a");
    expect_404("/o/c9bf9e57-1685-4c89-bafb-ff5af830be8g");
    expect_404("/o/{c9bf9e57-1685-4c89-bafb-ff5af830be8a}");
}

/* Building: str(value) as Werkzeug, except bytes that are not UTF-8 (fuzz_router found one). */
Test(router, uuid_converter_builds_str_value_and_quotes_bytes_that_are_not_utf8) {
    add("/files/<uuid:p>/edit", "files");
    vial_value *values = vial_new_object(arena);
    vial_object_set(values, "p", vial_new_str(arena, "C9BF9E57-1685-4C89-BAFB-FF5AF830BE8A"));
    cr_expect_str_eq(build("files", values, NULL), "/files/C9BF9E57-1685-4C89-BAFB-FF5AF830BE8A/edit");
    vial_object_set(values, "p", vial_new_str(arena, "a b"));
    cr_expect_str_eq(build("files", values, NULL), "/files/a b/edit", "Werkzeug's str(value), unquoted");
    vial_object_set(values, "p", vial_new_str(arena, "bo\t\xf5\xb2\xd0\x8a"));
    cr_expect_str_eq(build("files", values, NULL), "/files/bo%09%F5%B2%D0%8A/edit");
}

Test(router, string_lengths_count_code_points) {
    add("/l/<string(length=2):c>", "l");
    add("/n/<string(minlength=3, maxlength=5):n>", "n");
    add("/z/<string(minlength=0):z>/end", "z");
    cr_expect_str_eq(vial_str_of(arg("/l/%E4%B8%AD%E6%96%87", "c")), "\xe4\xb8\xad\xe6\x96\x87");
    expect_404("/l/abc");
    expect_404("/n/ab");
    expect_endpoint("/n/abcde", "n");
    expect_404("/n/abcdef");
    cr_expect_str_eq(vial_str_of(arg("/z//end", "z")), "");
}

Test(router, any_converter_items) {
    add("/pages/<any(about, help, \"foo,bar\", 'a b'):page>", "pages");
    expect_endpoint("/pages/about", "pages");
    expect_endpoint("/pages/foo,bar", "pages");
    expect_endpoint("/pages/a%20b", "pages");
    expect_404("/pages/foo");
    expect_404("/pages/About");
    expect_404("/pages/aboutx");
}

Test(router, path_converter) {
    add("/files/<path:p>", "files");
    add("/files/<path:p>/edit", "edit");
    add("/raw/<path:p>.<ext>", "ext");
    cr_expect_str_eq(vial_str_of(arg("/files/dir/", "p")), "dir/");
    cr_expect_str_eq(vial_str_of(arg("/files/a/b/c/edit", "p")), "a/b/c");
    expect_endpoint("/files/edit", "files");
    expect_404("/files/");
    expect_404("/files/a%0Ab"); /* Python's '.' does not match a newline */
    vial_route_match m = get("/raw/a/b.tar.gz");
    cr_assert_eq(m.status, VIAL_ROUTE_FOUND);
    cr_expect_str_eq(vial_get_str(m.args, "p"), "a/b"); /* non-greedy path, greedy string */
    cr_expect_str_eq(vial_get_str(m.args, "ext"), "tar.gz");
}

/* ---- the re converter (PCRE2) ---- */

Test(router, re_converter_as_in_the_tutorial) {
    add("/sms/<re('1[3-9]\\d{9}'):mobile>", "sms");
    add("/goods/<re(r'\\d+'):id>", "goods");
    cr_expect_str_eq(vial_str_of(arg("/sms/13812345678", "mobile")), "13812345678");
    expect_404("/sms/12812345678");
    expect_404("/sms/138123456789");
    expect_404("/sms/1381234567");
    expect_endpoint("/goods/42", "goods");
    expect_endpoint("/goods/%D9%A3", "goods"); /* Arabic-Indic three: \d is Unicode-aware, as in Python */
}

Test(router, re_converter_python_syntax) {
    add("/z/<re('a\\Z'):x>", "z");           /* Python's \Z: end of string */
    add("/c/<re('x{,2}'):x>", "c");          /* Python's {,n} = {0,n} */
    add("/u/<re('\\u00e9+'):x>", "u");       /* \uXXXX */
    add("/n/<re('(?P<w>[a-c])\\d'):x>", "n"); /* named group: shifts values like any group */
    expect_endpoint("/z/a", "z");
    expect_404("/z/a%0A");
    expect_endpoint("/c/xx", "c");
    expect_404("/c/xxx");
    expect_endpoint("/u/%C3%A9%C3%A9", "u");
    expect_endpoint("/n/b7", "n");
}

Test(router, re_groups_shift_values_as_in_werkzeug) {
    add("/g/<re(\"(a)b\"):x>-<y>", "g");
    add("/k/<re(\"a|b\"):x>", "k");
    vial_route_match m = get("/g/ab-zz");
    cr_assert_eq(m.status, VIAL_ROUTE_FOUND);
    cr_expect_str_eq(vial_get_str(m.args, "x"), "ab");
    cr_expect_str_eq(vial_get_str(m.args, "y"), "a");
    expect_endpoint("/k/b", "k");
    expect_404("/k/ab");
}

Test(router, re_is_confined_to_one_segment) {
    add("/any/<re('.*'):x>", "any");
    expect_endpoint("/any/a", "any");
    expect_404("/any/a/b"); /* Werkzeug 2.2: part_isolating, as its RegexConverter does */
}

/* ---- user converters ---- */

/* A "list" converter: a+b+c <-> ["a", "b", "c"]. */
static vial_value *list_to_value(vial_arena *a, const char *text, size_t len, void *state) {
    (void)state;
    vial_value *arr = vial_new_array(a);
    size_t start = 0;
    for (size_t i = 0; i <= len; i++)
        if (i == len || text[i] == '+') {
            if (i == start) return NULL; /* empty item: reject, like a ValidationError */
            vial_array_push(arr, vial_new_strn(a, text + start, i - start));
            start = i + 1;
        }
    return arr;
}

static int list_to_url(vial_buf *out, const vial_value *v, void *state, char *err, size_t errlen) {
    (void)state;
    if (v->type != VIAL_ARRAY) {
        snprintf(err, errlen, "a list is needed");
        return -1;
    }
    for (size_t i = 0; i < vial_len(v); i++) {
        const vial_value *item = vial_array_get(v, i);
        if ((i && vial_buf_putc(out, '+') != 0) || vial_url_quote(out, item->as.s.ptr, item->as.s.len, "") != 0)
            return -1;
    }
    return 0;
}

static const vial_converter list_converter = {
    .regex = "[a-z]+(?:\\+[a-z]+)*",
    .to_value = list_to_value,
    .to_url = list_to_url,
};

Test(router, user_converter_both_ways) {
    vial_route_error err;
    cr_assert_eq(vial_router_converter(router, "list", &list_converter, &err), 0, "%s", err.message);
    add("/tags/<list:tags>", "tags");
    vial_route_match m = get("/tags/a+bc+d");
    cr_assert_eq(m.status, VIAL_ROUTE_FOUND);
    const vial_value *tags = vial_object_get(m.args, "tags");
    cr_assert_eq(tags->type, VIAL_ARRAY);
    cr_assert_eq(vial_len(tags), 3);
    cr_expect_str_eq(vial_str_of(vial_array_get(tags, 1)), "bc");
    expect_404("/tags/A");
    vial_value *values = vial_pack_in(arena, "{s:[s,s]}", "tags", "x", "y");
    cr_expect_str_eq(build("tags", values, NULL), "/tags/x+y");
    values = vial_pack_in(arena, "{s:s}", "tags", "x");
    cr_expect_str_eq(build_error("tags", values, NULL, VIAL_URL_VALUE_ERROR), "a list is needed");
}

/* An "hex" converter with an argument and a weight: <hex(4):v> matches 4 hex digits. */
static int hex_setup(vial_converter_setup *s) {
    const vial_value *digits = vial_array_get(s->args, 0);
    if (vial_len(s->args) != 1 || digits->type != VIAL_INT || digits->as.i < 1 || digits->as.i > 16) {
        snprintf(s->error, sizeof s->error, "hex() takes the number of digits (1-16)");
        return -1;
    }
    s->regex = vial_arena_sprintf(s->arena, "[0-9a-f]{%d}", (int)digits->as.i);
    return 0;
}

static vial_value *hex_to_value(vial_arena *a, const char *text, size_t len, void *state) {
    (void)state;
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) v = v * 16 + (text[i] <= '9' ? text[i] - '0' : text[i] - 'a' + 10);
    return vial_new_int(a, v);
}

static const vial_converter hex_converter = {.weight = 40, .setup = hex_setup, .to_value = hex_to_value};

Test(router, user_converter_arguments_and_weight) {
    cr_assert_eq(vial_router_converter(router, "hex", &hex_converter, NULL), 0);
    add("/h/<int:n>", "int"); /* weight 50 */
    add("/h/<hex(4):v>", "hex"); /* weight 40: tried first although added later */
    cr_expect_eq(arg("/h/00ff", "v")->as.i, 255);
    cr_expect_eq(arg("/h/1234", "v")->as.i, 0x1234);
    expect_endpoint("/h/12345", "int");
    vial_route_error err;
    cr_assert_eq(add_full("/h2/<hex(99):v>", "e", 0, NULL, &err), -1);
    cr_expect(strstr(err.message, "hex() takes the number of digits"), "%s", err.message);
    cr_assert_eq(add_full("/h3/<hex:v>", "e", 0, NULL, &err), -1);
}

static const vial_converter spanning_converter = {.regex = "[a-z/]+", .spans_slashes = true, .weight = 300};

Test(router, user_converter_spanning_slashes) {
    cr_assert_eq(vial_router_converter(router, "slug", &spanning_converter, NULL), 0);
    add("/w/<slug:s>/edit", "edit");
    add("/w/<name>", "one");
    cr_expect_str_eq(vial_str_of(arg("/w/a/b/c/edit", "s")), "a/b/c");
    expect_endpoint("/w/a", "one");
}

Test(router, user_converter_errors) {
    vial_route_error err;
    vial_converter bad = {.regex = "a("};
    cr_assert_eq(vial_router_converter(router, "bad", &bad, &err), -1);
    cr_expect(strstr(err.message, "bad regex 'a('"), "%s", err.message);
    cr_assert_eq(vial_router_converter(router, "9x", &list_converter, &err), -1);
    cr_assert_eq(vial_router_converter(router, "", &list_converter, &err), -1);
    /* a converter without setup takes no arguments */
    cr_assert_eq(vial_router_converter(router, "list", &list_converter, NULL), 0);
    cr_assert_eq(add_full("/l/<list(1):x>", "e", 0, NULL, &err), -1);
    cr_expect(strstr(err.message, "list() takes no arguments"), "%s", err.message);
}

Test(router, user_converter_replaces_a_builtin) {
    cr_assert_eq(vial_router_converter(router, "int", &hex_converter, NULL), 0);
    add("/n/<int(2):v>", "n");
    cr_expect_eq(arg("/n/ff", "v")->as.i, 255);
}

/* ---- slashes and redirects ---- */

Test(router, strict_and_loose_slashes) {
    add("/foo/", "foo");
    vial_rule_spec loose = {.rule = "/bar/", .endpoint = "bar", .strict_slashes = VIAL_SLASHES_LOOSE};
    cr_assert_eq(vial_router_add(router, &loose, NULL), 0);
    vial_route_match m = match_req(VIAL_GET, "/foo", "x=1&y=%20");
    cr_assert_eq(m.status, VIAL_ROUTE_REDIRECT);
    cr_expect_eq(m.redirect_code, 308);
    cr_expect_str_eq(m.location, "http://localhost/foo/?x=1&y=%20");
    expect_endpoint("/bar", "bar");
    expect_endpoint("/bar/", "bar");
    cr_expect_eq(match_req(VIAL_POST, "/foo", NULL).status, VIAL_ROUTE_NOT_FOUND);
}

Test(router, redirect_locations) {
    add("/dir/", "dir");
    add("/a/b", "ab");
    vial_route_request rq = {.method = VIAL_GET, .path = VIAL_STR("/dir")};
    vial_route_match m;
    cr_assert_eq(vial_router_match(router, arena, &rq, &m), 0);
    cr_expect_str_eq(m.location, "/dir/"); /* no host: a path */
    rq.script_root = VIAL_STR("/app/");
    rq.host = VIAL_STR("Example.COM:8080");
    rq.scheme = VIAL_STR("https");
    rq.query = VIAL_STR("q=\xe4\xb8\xad&r=%41&s=\xff");
    cr_assert_eq(vial_router_match(router, arena, &rq, &m), 0);
    cr_expect_str_eq(m.location, "https://example.com:8080/app/dir/?q=%E4%B8%AD&r=%41&s=%EF%BF%BD");
    rq.path = VIAL_STR("/a//b");
    rq.query = VIAL_STR("");
    cr_assert_eq(vial_router_match(router, arena, &rq, &m), 0);
    cr_expect_str_eq(m.location, "https://example.com:8080/app/a/b");
    rq.path = VIAL_STR("/a///b"); /* "///" merges to "//" only, as re.sub("/{2,}?") does */
    cr_assert_eq(vial_router_match(router, arena, &rq, &m), 0);
    cr_expect_eq(m.status, VIAL_ROUTE_NOT_FOUND);
}

Test(router, redirect_to_and_defaults) {
    vial_value *defaults = vial_pack_in(arena, "{s:i}", "page", 1);
    vial_rule_spec all = {.rule = "/all/", .endpoint = "all", .defaults = defaults};
    cr_assert_eq(vial_router_add(router, &all, NULL), 0);
    add("/all/page/<int:page>", "all");
    add("/item/<int:id>", "item");
    vial_rule_spec old = {.rule = "/old/<int:id>", .endpoint = "old", .redirect_to = "/item/<id>"};
    cr_assert_eq(vial_router_add(router, &old, NULL), 0);
    vial_rule_spec rel = {.rule = "/rel/<name>", .endpoint = "rel", .redirect_to = "x/<name>"};
    cr_assert_eq(vial_router_add(router, &rel, NULL), 0);
    cr_expect_eq(arg("/all/", "page")->as.i, 1);
    cr_expect_eq(arg("/all/page/2", "page")->as.i, 2);
    vial_route_match m = get("/all/page/1");
    cr_assert_eq(m.status, VIAL_ROUTE_REDIRECT);
    cr_expect_str_eq(m.location, "http://localhost/all/");
    m = get("/old/7");
    cr_assert_eq(m.status, VIAL_ROUTE_REDIRECT);
    cr_expect_str_eq(m.location, "http://localhost/item/7");
    m = get("/rel/a%20b");
    cr_assert_eq(m.status, VIAL_ROUTE_REDIRECT);
    cr_expect_str_eq(m.location, "http://localhost/x/a%20b");
}

/* ---- the path ---- */

Test(router, path_decoding) {
    add("/user/<name>", "user");
    add("/about", "about");
    expect_endpoint("/%61bout", "about");
    expect_endpoint("//about", "about");
    expect_404("/user/a%2Fb");
    cr_expect_str_eq(vial_str_of(arg("/user/%zz%4", "name")), "%zz%4");
    cr_expect_str_eq(vial_str_of(arg("/user/%FF", "name")), "\xef\xbf\xbd");
    cr_expect_str_eq(vial_str_of(arg("/user/\xe5\xbc\xa0", "name")), "\xe5\xbc\xa0");
    cr_expect_str_eq(vial_str_of(arg("/user/a%00b", "name")), "a"); /* a NUL inside: the C string ends there */
    cr_expect_eq(vial_len(arg("/user/a%00b", "name")), 3);
}

Test(router, static_paths_allocate_nothing) {
    add("/", "index");
    add("/about/team", "team");
    add("/user/<name>", "user");
    vial_arena_reset(arena);
    size_t before = vial_arena_used(arena);
    expect_endpoint("/about/team", "team");
    expect_endpoint("/", "index");
    cr_expect_eq(vial_arena_used(arena), before, "a static match allocated %zu bytes", vial_arena_used(arena) - before);
    cr_expect_null(get("/about/team").args);
}

Test(router, allowed_methods_for_options) {
    add_m("/item/<int:id>", "get", VIAL_GET);
    add_m("/item/<int:id>", "modify", VIAL_PUT | VIAL_DELETE);
    unsigned bits = vial_router_allowed_methods(router, arena, VIAL_STR("/item/3"), false);
    char allow[80];
    vial_methods_format(allow, sizeof allow, bits);
    cr_expect_str_eq(allow, "DELETE, GET, HEAD, OPTIONS, PUT");
    cr_expect_eq(vial_router_allowed_methods(router, arena, VIAL_STR("/item/x"), false), 0);
}

/* ---- building ---- */

Test(router, build_with_script_root_and_external) {
    add("/user/<name>", "user");
    add("/", "index");
    vial_value *v = vial_pack_in(arena, "{s:s}", "name", "x y");
    vial_url_opts opts = {.script_root = "/app"};
    cr_expect_str_eq(build("user", v, &opts), "/app/user/x%20y");
    opts.external = VIAL_EXTERNAL_YES;
    opts.host = "example.com";
    cr_expect_str_eq(build("user", v, &opts), "http://example.com/app/user/x%20y");
    opts.scheme = "ftp"; /* Werkzeug: anything but https/wss is http */
    cr_expect_str_eq(build("index", NULL, &opts), "http://example.com/app/");
    opts.scheme = "https";
    opts.anchor = "sec 1/\xc3\xbc";
    cr_expect_str_eq(build("index", NULL, &opts), "https://example.com/app/#sec%201/%C3%BC");
    vial_url_opts bad = {.scheme = "https", .external = VIAL_EXTERNAL_NO};
    cr_expect_str_eq(build_error("index", NULL, &bad, VIAL_URL_VALUE_ERROR),
                     "When specifying '_scheme', '_external' must be True.");
}

Test(router, build_query_strings) {
    add("/user/<name>", "user");
    vial_value *v = vial_pack_in(arena, "{s:s, s:[i,n,s], s:n, s:s, s:b, s:f}", "name", "x", "q", 1, "z", "k",
                                 "\xe4\xb8\xad", "\xe6\x96\x87", "b", false, "f", 1e-07);
    cr_expect_str_eq(build("user", v, NULL), "/user/x?q=1&q=z&%E4%B8%AD=%E6%96%87&b=False&f=1e-07");
}

Test(router, build_numbers) {
    add("/i/<int(fixed_digits=3):n>", "i");
    add("/f/<float:x>", "f");
    cr_expect_str_eq(build("i", vial_pack_in(arena, "{s:i}", "n", -7), NULL), "/i/-07");
    cr_expect_str_eq(build("i", vial_pack_in(arena, "{s:f}", "n", 1e22), NULL), "/i/10000000000000000000000");
    cr_expect_str_eq(build("i", vial_pack_in(arena, "{s:s}", "n", " 0012_345 "), NULL), "/i/12345");
    cr_expect_str_eq(build("i", vial_pack_in(arena, "{s:s}", "n", "123456789012345678901234567890"), NULL),
                     "/i/123456789012345678901234567890");
    cr_expect_str_eq(build_error("i", vial_pack_in(arena, "{s:f}", "n", 0.0 / 0.0), NULL, VIAL_URL_VALUE_ERROR),
                     "cannot convert float NaN to integer");
    cr_expect_str_eq(build_error("i", vial_pack_in(arena, "{s:[]}", "n"), NULL, VIAL_URL_VALUE_ERROR),
                     "int() argument must be a string, a bytes-like object or a real number, not 'list'");
    cr_expect_str_eq(build("f", vial_pack_in(arena, "{s:s}", "x", "2"), NULL), "/f/2.0");
    cr_expect_str_eq(build("f", vial_pack_in(arena, "{s:b}", "x", true), NULL), "/f/1.0");
    cr_expect_str_eq(build_error("f", vial_pack_in(arena, "{s:s}", "x", "x'y"), NULL, VIAL_URL_VALUE_ERROR),
                     "could not convert string to float: \"x'y\"");
}

Test(router, build_errors_and_suggestions) {
    vial_rule_spec a = {.rule = "/a/<int:x>", .endpoint = "a", .methods = VIAL_POST, .no_auto_options = true};
    cr_assert_eq(vial_router_add(router, &a, NULL), 0);
    add("/user/<name>", "user");
    vial_url_opts get_opts = {.method = VIAL_GET};
    cr_expect_str_eq(build_error("usr", vial_pack_in(arena, "{s:s}", "name", "x"), NULL, VIAL_URL_BUILD_ERROR),
                     "Could not build url for endpoint 'usr' with values ['name']. Did you mean 'user' instead?");
    cr_expect_str_eq(build_error("a", vial_pack_in(arena, "{s:i}", "x", 1), &get_opts, VIAL_URL_BUILD_ERROR),
                     "Could not build url for endpoint 'a' ('GET') with values ['x']. Did you mean to use methods "
                     "['POST']?");
    cr_expect_str_eq(build_error("a", NULL, NULL, VIAL_URL_BUILD_ERROR),
                     "Could not build url for endpoint 'a'. Did you forget to specify values ['x']?");
    cr_expect_str_eq(build_error("user", vial_pack_in(arena, "{s:i, s:i}", "zz", 2, "nam", 1), NULL,
                                 VIAL_URL_BUILD_ERROR),
                     "Could not build url for endpoint 'user' with values ['nam', 'zz']. Did you forget to specify "
                     "values ['name']?");
}

Test(router, build_picks_rules_by_method) {
    add_m("/thing/read", "thing", VIAL_GET);
    add_m("/thing/write", "thing", VIAL_POST);
    vial_url_opts opts = {.default_method = VIAL_POST};
    cr_expect_str_eq(build("thing", NULL, &opts), "/thing/write");
    opts.default_method = VIAL_GET;
    cr_expect_str_eq(build("thing", NULL, &opts), "/thing/read");
    opts.method = VIAL_POST;
    cr_expect_str_eq(build("thing", NULL, &opts), "/thing/write");
    opts = (vial_url_opts){.default_method = VIAL_DELETE}; /* no DELETE rule: any method */
    cr_expect_str_eq(build("thing", NULL, &opts), "/thing/read");
}

Test(router, build_prefers_more_arguments) {
    add("/page/", "page");
    add("/page/<int:n>", "page");
    cr_expect_str_eq(build("page", vial_pack_in(arena, "{s:i}", "n", 3), NULL), "/page/3");
    cr_expect_str_eq(build("page", NULL, NULL), "/page/");
    size_t count;
    const vial_rule_info *const *rules = vial_router_endpoint_rules(router, "page", &count);
    cr_assert_eq(count, 2);
    cr_expect_str_eq(rules[0]->rule, "/page/<int:n>");
    cr_expect_str_eq(rules[1]->rule, "/page/");
    cr_expect_null(vial_router_endpoint_rules(router, "nope", &count));
    cr_expect_eq(count, 0);
}

Test(router, rules_listing) {
    static int view;
    vial_rule_spec spec = {.rule = "/x/<int:a>/<b>", .endpoint = "x", .methods = VIAL_POST | VIAL_GET, .handler = &view};
    cr_assert_eq(vial_router_add(router, &spec, NULL), 0);
    const vial_rule_info *info = vial_router_rule(router, 0);
    cr_assert(info);
    cr_expect_str_eq(info->rule, "/x/<int:a>/<b>");
    cr_expect_eq(info->methods, VIAL_GET | VIAL_HEAD | VIAL_POST | VIAL_OPTIONS);
    cr_expect(info->auto_options);
    cr_expect(info->strict_slashes);
    cr_expect_eq(info->handler, &view);
    cr_assert_eq(info->argc, 2);
    cr_expect_str_eq(info->argv[0], "a");
    cr_expect_str_eq(info->argv[1], "b");
    cr_expect_null(vial_router_rule(router, 1));
}

/* ---- helpers of the public API ---- */

Test(router, quoting_helpers) {
    vial_buf b;
    vial_buf_init(&b, arena, 0);
    cr_assert_eq(vial_url_quote(&b, "a b/c?d~\xe4\xb8\xad", strlen("a b/c?d~\xe4\xb8\xad"), "/"), 0);
    cr_expect_str_eq(b.data, "a%20b/c%3Fd~%E4%B8%AD");
    vial_buf_reset(&b);
    vial_value *q = vial_pack_in(arena, "{s:s, s:s}", "s", "a&b=c+d/e?f#g%h:i;j,k@l!m*n'o(p)q~r$s", "t", "x y");
    cr_assert_eq(vial_url_encode_query(&b, q), 0);
    cr_expect_str_eq(b.data, "s=a%26b%3Dc%2Bd%2Fe%3Ff%23g%25h%3Ai;j,k%40l!m*n'o(p)q~r$s&t=x+y");
}

Test(router, method_names) {
    cr_expect_eq(vial_method_from_name("get", 3), VIAL_GET);
    cr_expect_eq(vial_method_from_name("Options", 7), VIAL_OPTIONS);
    cr_expect_eq(vial_method_from_name("BREW", 4), 0);
    cr_expect_str_eq(vial_method_name(VIAL_PATCH), "PATCH");
    cr_expect_null(vial_method_name(VIAL_GET | VIAL_POST));
    char out[12];
    size_t n = vial_methods_format(out, sizeof out, VIAL_POST | VIAL_GET | VIAL_DELETE);
    cr_expect_eq(n, strlen("DELETE, GET, POST")); /* the length needed, as snprintf */
    cr_expect_str_eq(out, "DELETE, GET");
}

/* ---- scale ---- */

Test(router, a_thousand_rules) {
    char rule[64], endpoint[32], path[64];
    for (int i = 0; i < 1000; i++) {
        snprintf(endpoint, sizeof endpoint, "e%d", i);
        switch (i % 4) {
        case 0: snprintf(rule, sizeof rule, "/r%d/static/page", i); break;
        case 1: snprintf(rule, sizeof rule, "/r%d/<int:id>", i); break;
        case 2: snprintf(rule, sizeof rule, "/r%d/<name>/posts/<int:n>", i); break;
        default: snprintf(rule, sizeof rule, "/r%d/files/<path:p>", i); break;
        }
        add(rule, endpoint);
    }
    for (int i = 0; i < 1000; i++) {
        snprintf(endpoint, sizeof endpoint, "e%d", i);
        switch (i % 4) {
        case 0: snprintf(path, sizeof path, "/r%d/static/page", i); break;
        case 1: snprintf(path, sizeof path, "/r%d/%d", i, i * 7); break;
        case 2: snprintf(path, sizeof path, "/r%d/bob/posts/%d", i, i); break;
        default: snprintf(path, sizeof path, "/r%d/files/a/b/c.txt", i); break;
        }
        expect_endpoint(path, endpoint);
        vial_arena_reset(arena);
    }
    expect_404("/r1000/static/page");
    expect_404("/r1/x");
}

Test(router, replacing_a_converter_keeps_earlier_rules) {
    vial_converter letters = {.regex = "[a-z]+"}, digits = {.regex = "[0-9]+"};
    cr_assert_eq(vial_router_converter(router, "c", &letters, NULL), 0);
    add("/old/<c:x>", "old");
    cr_assert_eq(vial_router_converter(router, "c", &digits, NULL), 0);
    add("/new/<c:x>", "new");
    /* many more converters: the registry grows and moves */
    char name[16];
    for (int i = 0; i < 40; i++) {
        snprintf(name, sizeof name, "conv%d", i);
        cr_assert_eq(vial_router_converter(router, name, &letters, NULL), 0);
    }
    letters.regex = "changed by the caller afterwards";
    expect_endpoint("/old/abc", "old");
    expect_404("/old/123");
    expect_endpoint("/new/123", "new");
    expect_404("/new/abc");
    cr_expect_str_eq(build("old", vial_pack_in(arena, "{s:s}", "x", "a b"), NULL), "/old/a%20b");
}
