/* Templates: lexer and parser internals, the evaluator's special values, the
 * C registration API (filters, tests, functions, globals, per-render globals
 * and user pointer), the loader (search path, in-memory sources, auto
 * reload, traversal), limits (output, depth, work, memory), error reports and
 * excerpts, and the exact fixed-point formatter against printf. Behaviour
 * shared with Jinja2 is covered by the differential suite
 * (tests/integration/test_template_diff.py); these tests cover what Jinja2
 * cannot check. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "template/tpl.h"
#include "testutil.h"
#include "vial.h"

/* ---- helpers ---- */

typedef struct rendered {
    int rc;
    char out[8192];
    vial_tpl_error err;
} rendered;

static rendered render_env(vial_tpl_env *env, const char *src, const char *ctx_json,
                           const vial_tpl_render_args *extra) {
    rendered res;
    memset(&res, 0, sizeof res);
    vial_arena *a = vial_arena_new(4096);
    vial_value *ctx = NULL;
    if (ctx_json) {
        vial_json_error jerr;
        ctx = vial_json_parse(a, ctx_json, strlen(ctx_json), 0, &jerr);
        cr_assert_not_null(ctx, "bad test context: %s", jerr.message);
    }
    vial_buf out;
    vial_buf_init(&out, a, 0);
    res.rc = vial_tpl_render_string(env, src, strlen(src), ctx, extra, a, &out, &res.err);
    snprintf(res.out, sizeof res.out, "%s", vial_buf_cstr(&out));
    vial_arena_free(a);
    return res;
}

static rendered render_opts(const vial_tpl_options *opt, const char *src, const char *ctx_json) {
    vial_tpl_env *env = vial_tpl_env_new(opt);
    rendered res = render_env(env, src, ctx_json, NULL);
    vial_tpl_env_free(env);
    return res;
}

static rendered render(const char *src, const char *ctx_json) { return render_opts(NULL, src, ctx_json); }

#define expect_render(src, ctx, want)                                                                          \
    do {                                                                                                       \
        rendered r_ = render(src, ctx);                                                                        \
        cr_expect_eq(r_.rc, 0, "%s: failed: %s (line %d)", src, r_.err.message, r_.err.line);               \
        cr_expect_str_eq(r_.out, want, "%s", src);                                                             \
    } while (0)

/* ---- lexer ---- */

static tpl_token *lex(vial_arena *a, const char *src, tpl_lex_opts opts, size_t *n, tpl_err *err) {
    size_t len;
    char *norm = vial_tpl_normalize_source(a, src, strlen(src), opts.keep_trailing_newline, &len);
    return vial_tpl_lex(a, norm, len, &opts, n, err);
}

Test(template_lexer, token_types_lines_and_columns) {
    vial_arena *a = vial_arena_new(4096);
    tpl_err err = {0};
    size_t n;
    tpl_token *t = lex(a, "ab {{ x.y|f(1, 'q') }}\n{% if a >= 2.5 %}z{% endif %}", (tpl_lex_opts){0}, &n, &err);
    cr_assert_not_null(t);
    static const int want[] = {T_DATA,  T_VAR_BEGIN, T_NAME,   T_DOT,       T_NAME,  T_PIPE,  T_NAME,
                               T_LPAREN, T_INTEGER,  T_COMMA,  T_STRING,    T_RPAREN, T_VAR_END, T_DATA,
                               T_BLOCK_BEGIN, T_NAME, T_NAME,  T_GTEQ,      T_FLOAT, T_BLOCK_END, T_DATA,
                               T_BLOCK_BEGIN, T_NAME, T_BLOCK_END, T_EOF};
    cr_assert_eq(n, sizeof want / sizeof want[0], "token count %zu", n);
    for (size_t i = 0; i < n; i++) cr_expect_eq(t[i].type, want[i], "token %zu: %d", i, t[i].type);
    cr_expect_eq(t[8].v.i, 1);
    cr_expect_eq(t[10].v.s.len, 1);
    cr_expect_eq(t[10].v.s.ptr[0], 'q');
    cr_expect(fabs(t[18].v.d - 2.5) < 1e-12);
    cr_expect_eq(t[14].line, 2);
    cr_expect_eq(t[14].col, 1);
    cr_expect_eq(t[2].line, 1);
    cr_expect_eq(t[2].col, 7, "column of x: %u", t[2].col);
    vial_arena_free(a);
}

Test(template_lexer, whitespace_control_trims_data) {
    vial_arena *a = vial_arena_new(4096);
    tpl_err err = {0};
    size_t n;
    tpl_token *t = lex(a, "a  \n {%- if x -%}\n  b", (tpl_lex_opts){0}, &n, &err);
    cr_assert_not_null(t);
    cr_expect_eq(t[0].type, T_DATA);
    cr_expect_eq(t[0].len, 1, "left data must be 'a', got %zu bytes", t[0].len);
    /* after -%} the whitespace including the newline is gone */
    size_t last = n - 2;
    cr_expect_eq(t[last].type, T_DATA);
    cr_expect_eq(t[last].len, 1);
    cr_expect_eq(t[last].ptr[0], 'b');
    tpl_lex_opts both = {.trim_blocks = true, .lstrip_blocks = true};
    t = lex(a, "x\n    {% if y %}\nz", both, &n, &err);
    cr_expect_eq(t[0].len, 2, "lstrip keeps 'x\\n'");
    cr_expect_eq(t[n - 2].len, 1, "trim_blocks eats the newline before z");
    vial_arena_free(a);
}

Test(template_lexer, string_escapes_decoded) {
    vial_arena *a = vial_arena_new(4096);
    tpl_err err = {0};
    size_t n;
    tpl_token *t = lex(a, "{{ 'a\\tb\\u00e9\\x41\\\\' }}", (tpl_lex_opts){0}, &n, &err);
    cr_assert_eq(t[1].type, T_STRING);
    cr_expect_eq(t[1].v.s.len, 7);
    cr_expect(memcmp(t[1].v.s.ptr, "a\tb\xc3\xa9" "A\\", 7) == 0);
    vial_arena_free(a);
}

Test(template_lexer, errors_end_the_stream) {
    vial_arena *a = vial_arena_new(4096);
    tpl_err err = {0};
    size_t n;
    tpl_token *t = lex(a, "ok\n{{ 1 ? 2 }}", (tpl_lex_opts){0}, &n, &err);
    cr_assert_not_null(t);
    cr_expect_eq(t[n - 1].type, T_ERROR);
    cr_expect_eq(err.line, 2);
    cr_expect_str_eq(err.message, "unexpected char '?' at 8");
    t = lex(a, "{{ (1 ] }}", (tpl_lex_opts){0}, &n, &err);
    cr_expect_eq(t[n - 1].type, T_ERROR);
    cr_expect_str_eq(err.message, "unexpected ']', expected ')'");
    vial_arena_free(a);
}

Test(template_lexer, newline_normalisation) {
    vial_arena *a = vial_arena_new(4096);
    size_t len;
    char *s = vial_tpl_normalize_source(a, "a\r\nb\rc\n", 7, false, &len);
    cr_expect_eq(len, 5);
    cr_expect_str_eq(s, "a\nb\nc");
    s = vial_tpl_normalize_source(a, "x\n\n", 3, false, &len);
    cr_expect_str_eq(s, "x\n", "only one trailing newline goes");
    s = vial_tpl_normalize_source(a, "x\n", 2, true, &len);
    cr_expect_str_eq(s, "x\n");
    vial_arena_free(a);
}

/* ---- parser and compile pass ---- */

static tpl_template *parse(vial_tpl_env *env, const char *src, tpl_err *err) {
    vial_arena *a = vial_arena_new(4096);
    tpl_template *t = vial_arena_calloc(a, sizeof *t);
    t->arena = a;
    t->env = env;
    t->name = "t";
    t->filename = "t";
    if (vial_tpl_parse(t, src, strlen(src), err) != 0) {
        vial_arena_free(a);
        return NULL;
    }
    return t;
}

Test(template_parser, precedence_and_structure) {
    vial_tpl_env *env = vial_tpl_env_new(NULL);
    tpl_err err = {0};
    tpl_template *t = parse(env, "{{ a + b * c ~ d|upper }}", &err);
    cr_assert_not_null(t, "%s", err.message);
    cr_assert_eq(t->root.n, 1);
    const tpl_node *out = t->root.items[0];
    cr_assert_eq(out->kind, S_OUTPUT);
    const tpl_node *e = out->u.expr;
    /* Jinja2's grammar: + is looser than ~, which is looser than *; the filter binds to d */
    cr_assert_eq(e->kind, N_BINOP);
    cr_expect_eq(e->op, OP_ADD);
    cr_expect_eq(e->u.bin.l->kind, N_NAME);
    const tpl_node *cat = e->u.bin.r;
    cr_assert_eq(cat->kind, N_CONCAT);
    cr_assert_eq(cat->u.items.n, 2);
    cr_expect_eq(cat->u.items.items[0]->kind, N_BINOP);
    cr_expect_eq(cat->u.items.items[0]->op, OP_MUL);
    cr_expect_eq(cat->u.items.items[1]->kind, N_FILTER);
    vial_arena_free(t->arena);
    vial_tpl_env_free(env);
}

Test(template_parser, constants_fold_and_text_merges) {
    vial_tpl_env *env = vial_tpl_env_new(NULL);
    tpl_err err = {0};
    tpl_template *t = parse(env, "a{{ 1 + 2 * 3 }}b{{ 'x' ~ 'y' }}c{# c #}d", &err);
    cr_assert_not_null(t, "%s", err.message);
    cr_assert_eq(t->root.n, 1, "everything folds into one static text, got %u nodes", t->root.n);
    cr_assert_eq(t->root.items[0]->kind, S_TEXT);
    cr_expect_eq(t->root.items[0]->u.text.len, 7);
    cr_expect(memcmp(t->root.items[0]->u.text.ptr, "a7bxycd", 7) == 0);
    vial_arena_free(t->arena);
    vial_tpl_env_free(env);
}

Test(template_parser, syntax_errors_have_position_and_wording) {
    vial_tpl_env *env = vial_tpl_env_new(NULL);
    tpl_err err = {0};
    cr_expect_null(parse(env, "line\n  {% if x %}\n{% endfor %}", &err));
    cr_expect_eq(err.line, 3);
    cr_expect_eq(err.column, 4);
    cr_expect(strstr(err.message, "Encountered unknown tag 'endfor'.") == err.message, "%s", err.message);
    cr_expect_null(parse(env, "{% for x in y %}{% set a = %}", &err));
    cr_expect_str_eq(err.message, "Expected an expression, got 'end of statement block'");
    cr_expect_eq(err.column, 28);
    cr_expect_null(parse(env, "{{ x|nosuch }}", &err));
    cr_expect_str_eq(err.message, "No filter named 'nosuch'.");
    cr_expect_null(parse(env, "{% if x %}{{ y", &err));
    cr_expect_str_eq(err.message, "unexpected end of template, expected 'end of print statement'.");
    vial_arena_free(parse(env, "{% if false %}{{ y|nosuch }}{% endif %}", &err)->arena);
    vial_tpl_env_free(env);
}

Test(template_parser, nesting_is_bounded) {
    vial_tpl_env *env = vial_tpl_env_new(NULL);
    char src[8192];
    size_t k = 0;
    k += (size_t)snprintf(src + k, sizeof src - k, "{{ ");
    for (int i = 0; i < 1000; i++) src[k++] = '(';
    src[k++] = '1';
    for (int i = 0; i < 1000; i++) src[k++] = ')';
    snprintf(src + k, sizeof src - k, " }}");
    tpl_err err = {0};
    cr_expect_null(parse(env, src, &err));
    cr_expect(strstr(err.message, "nesting too deep") != NULL, "%s", err.message);
    vial_tpl_env_free(env);
}

/* ---- evaluation ---- */

Test(template_eval, basics) {
    expect_render("{{ 1 + 2 }} {{ 'a' ~ 1.5 }} {{ [1, 2]|sum }}", NULL, "3 a1.5 3");
    expect_render("{% for k, v in d|dictsort %}{{ k }}={{ v }};{% endfor %}", "{\"d\": {\"b\": 2, \"a\": 1}}",
                  "a=1;b=2;");
    expect_render("{{ x is defined }}{{ y is defined }}", "{\"x\": null}", "TrueFalse");
}

Test(template_eval, undefined_is_null_to_core_code) {
    vial_arena *a = vial_arena_new(4096);
    tpl_render r = {.arena = a};
    vial_value *u = vial_tpl_undefined(&r, NULL, NULL, "x", 1);
    cr_assert_not_null(u);
    cr_expect(vial_tpl_is_undefined(u));
    cr_expect_eq(u->type, VIAL_NULL, "core code must see a null");
    cr_expect(!vial_truthy(u));
    cr_expect(!vial_tpl_is_undefined(vial_value_null()));
    vial_arena_free(a);
}

Test(template_eval, context_must_be_an_object) {
    vial_tpl_env *env = vial_tpl_env_new(NULL);
    vial_arena *a = vial_arena_new(4096);
    vial_buf out;
    vial_buf_init(&out, a, 0);
    vial_tpl_error err;
    vial_value *arr = vial_new_array(a);
    cr_expect_eq(vial_tpl_render_string(env, "x", 1, arr, NULL, a, &out, &err), -1);
    cr_expect(strstr(err.message, "must be an object") != NULL);
    vial_arena_free(a);
    vial_tpl_env_free(env);
}

Test(template_eval, failed_render_leaves_buffer_unchanged) {
    vial_tpl_env *env = vial_tpl_env_new(NULL);
    vial_arena *a = vial_arena_new(4096);
    vial_buf out;
    vial_buf_init(&out, a, 0);
    vial_buf_puts(&out, "HEAD");
    vial_tpl_error err;
    const char *src = "partial output {{ 1 // 0 }}";
    cr_expect_eq(vial_tpl_render_string(env, src, strlen(src), NULL, NULL, a, &out, &err), -1);
    cr_expect_str_eq(vial_buf_cstr(&out), "HEAD");
    cr_expect_eq(err.kind, VIAL_TPL_ERR_RUNTIME);
    cr_expect_str_eq(err.message, "integer division or modulo by zero");
    cr_expect_eq(err.line, 1);
    vial_arena_free(a);
    vial_tpl_env_free(env);
}

/* ---- C registration ---- */

static vial_value *money(vial_tpl_call *c) {
    vial_value *v = vial_tpl_arg(c, 0, NULL);
    vial_value *cur = vial_tpl_arg(c, 1, "currency");
    if (!v || (v->type != VIAL_INT && v->type != VIAL_DOUBLE)) return vial_tpl_fail(c, "money needs a number");
    double d = v->type == VIAL_INT ? (double)v->as.i : v->as.d;
    char *s = vial_arena_sprintf(c->arena, "%.2f %s", d, cur && cur->type == VIAL_STRING ? cur->as.s.ptr : "EUR");
    return vial_new_str(c->arena, s);
}

static vial_value *is_positive(vial_tpl_call *c) {
    vial_value *v = vial_tpl_arg(c, 0, NULL);
    return vial_new_bool(c->arena, v && v->type == VIAL_INT && v->as.i > 0);
}

static vial_value *whoami(vial_tpl_call *c) {
    /* the per-render user pointer, e.g. the request */
    const char *who = c->user ? (const char *)c->user : "nobody";
    char *s = vial_arena_sprintf(c->arena, "%s/%s/%zu", who, (const char *)c->data, c->nargs);
    return vial_new_str(c->arena, s);
}

static vial_value *markup_fn(vial_tpl_call *c) {
    (void)c;
    return vial_new_safe(c->arena, "<b>safe</b>", 11);
}

static vial_value *counter_fn(vial_tpl_call *c) {
    int *calls = c->data;
    (*calls)++;
    return vial_new_int(c->arena, *calls);
}

Test(template_api, filters_tests_functions_globals) {
    vial_tpl_env *env = vial_tpl_env_new(NULL);
    cr_assert_eq(vial_tpl_add_filter(env, "money", money, NULL), 0);
    cr_assert_eq(vial_tpl_add_test(env, "positive", is_positive, NULL), 0);
    cr_assert_eq(vial_tpl_add_function(env, "whoami", whoami, "fn-data"), 0);
    vial_arena *ga = vial_arena_new(4096);
    cr_assert_eq(vial_tpl_add_global(env, "site", vial_pack_in(ga, "{s:s}", "name", "Vial")), 0);
    vial_arena_free(ga); /* the environment keeps its own copy */
    rendered r = render_env(env,
                            "{{ 3|money }} {{ 2.5|money('USD') }} {{ 1|money(currency='GBP') }} "
                            "{{ 5 is positive }} {{ -1 is positive }} {{ whoami(1, 2) }} {{ site.name }} "
                            "{{ [1, -2, 3]|select('positive')|list }} {{ [1, 2]|map('money')|join('; ') }}",
                            NULL, NULL);
    cr_expect_eq(r.rc, 0, "%s", r.err.message);
    cr_expect_str_eq(r.out,
                     "3.00 EUR 2.50 USD 1.00 GBP True False nobody/fn-data/2 Vial [1, 3] 1.00 EUR; 2.00 EUR");
    vial_tpl_env_free(env);
}

Test(template_api, per_render_globals_and_user_pointer) {
    vial_tpl_env *env = vial_tpl_env_new(NULL);
    vial_tpl_add_function(env, "whoami", whoami, "d");
    vial_arena *a = vial_arena_new(4096);
    vial_value *request = vial_pack_in(a, "{s:s}", "path", "/home");
    vial_value *g = vial_pack_in(a, "{s:o, s:s}", "request", request, "title", "from-globals");
    vial_tpl_render_args extra = {.globals = g, .user = "req-7"};
    rendered r = render_env(env, "{{ request.path }} {{ title }} {{ whoami() }}", "{\"title\": \"from-context\"}",
                            &extra);
    cr_expect_eq(r.rc, 0, "%s", r.err.message);
    /* the context wins over per-render globals, as Jinja2's render arguments win over globals */
    cr_expect_str_eq(r.out, "/home from-context req-7/d/0");
    /* globals are looked up, not copied: a change is seen by the next render */
    vial_object_set(request, "path", vial_new_str(a, "/changed"));
    r = render_env(env, "{{ request.path }}", NULL, &extra);
    cr_expect_str_eq(r.out, "/changed");
    /* included templates without context still see per-render globals (Flask's request) */
    vial_tpl_add_source(env, "inc.html", "[{{ request.path }}|{{ title }}]", 32);
    r = render_env(env, "{% include 'inc.html' without context %}", "{\"title\": \"ctx\"}", &extra);
    cr_expect_str_eq(r.out, "[/changed|from-globals]");
    vial_arena_free(a);
    vial_tpl_env_free(env);
}

Test(template_api, c_function_errors_have_location) {
    vial_tpl_env *env = vial_tpl_env_new(NULL);
    vial_tpl_add_filter(env, "money", money, NULL);
    rendered r = render_env(env, "ok\n{{ 'x'|money }}", NULL, NULL);
    cr_expect_eq(r.rc, -1);
    cr_expect_str_eq(r.err.message, "money needs a number");
    cr_expect_eq(r.err.line, 2);
    cr_expect_eq(r.err.kind, VIAL_TPL_ERR_RUNTIME);
    vial_tpl_env_free(env);
}

Test(template_api, markup_from_c_and_user_data) {
    vial_tpl_options opt = {.autoescape = VIAL_TPL_AUTOESCAPE_ON};
    vial_tpl_env *env = vial_tpl_env_new(&opt);
    int calls = 0;
    vial_tpl_add_function(env, "markup", markup_fn, NULL);
    vial_tpl_add_function(env, "count", counter_fn, &calls);
    rendered r = render_env(env, "{{ markup() }} {{ '<' ~ markup() }} {{ count() }}{{ count() }}", NULL, NULL);
    cr_expect_str_eq(r.out, "<b>safe</b> &lt;<b>safe</b> 12");
    cr_expect_eq(calls, 2);
    vial_tpl_env_free(env);
}

Test(template_api, user_filter_overrides_builtin) {
    vial_tpl_env *env = vial_tpl_env_new(NULL);
    vial_tpl_add_source(env, "t.txt", "{{ 5|upper }}", 13);
    vial_tpl_error err;
    cr_assert_eq(vial_tpl_load(env, "t.txt", &err), 0);
    vial_tpl_add_filter(env, "upper", money, NULL); /* compiled templates are dropped and recompiled */
    vial_arena *a = vial_arena_new(4096);
    vial_buf out;
    vial_buf_init(&out, a, 0);
    cr_assert_eq(vial_tpl_render(env, "t.txt", NULL, NULL, a, &out, &err), 0, "%s", err.message);
    cr_expect_str_eq(vial_buf_cstr(&out), "5.00 EUR");
    vial_arena_free(a);
    vial_tpl_env_free(env);
}

/* ---- loader ---- */

static char tmpdir[256];

static void write_file(const char *dir, const char *name, const char *text) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
}

static void make_tmpdir(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/vial-tpl-test-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

static void remove_tree(const char *dir) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    (void)system(cmd);
}

static rendered render_name(vial_tpl_env *env, const char *name) {
    rendered res;
    memset(&res, 0, sizeof res);
    vial_arena *a = vial_arena_new(4096);
    vial_buf out;
    vial_buf_init(&out, a, 0);
    res.rc = vial_tpl_render(env, name, NULL, NULL, a, &out, &res.err);
    snprintf(res.out, sizeof res.out, "%s", vial_buf_cstr(&out));
    vial_arena_free(a);
    return res;
}

Test(template_loader, search_path_order_and_memory_sources) {
    make_tmpdir();
    char app[600], bp[600];
    snprintf(app, sizeof app, "%s/app", tmpdir);
    snprintf(bp, sizeof bp, "%s/bp", tmpdir);
    mkdir(app, 0700);
    mkdir(bp, 0700);
    write_file(app, "page.html", "app-page {% include 'part.html' %}");
    write_file(bp, "page.html", "bp-page");
    write_file(bp, "part.html", "bp-part");
    vial_tpl_env *env = vial_tpl_env_new(NULL);
    vial_tpl_add_path(env, app);
    vial_tpl_add_path(env, bp);
    rendered r = render_name(env, "page.html");
    cr_expect_str_eq(r.out, "app-page bp-part", "the app folder wins, blueprint folders fill in");
    vial_tpl_add_source(env, "page.html", "memory-page", 11);
    r = render_name(env, "page.html");
    cr_expect_str_eq(r.out, "memory-page", "in-memory sources come first");
    r = render_name(env, "./part.html");
    cr_expect_str_eq(r.out, "bp-part");
    r = render_name(env, "../bp/part.html");
    cr_expect_eq(r.rc, -1, "'..' must not escape the search path");
    cr_expect_eq(r.err.kind, VIAL_TPL_ERR_NOT_FOUND);
    r = render_name(env, "nope.html");
    cr_expect_eq(r.err.kind, VIAL_TPL_ERR_NOT_FOUND);
    cr_expect_str_eq(r.err.message, "template not found: nope.html");
    vial_tpl_env_free(env);
    remove_tree(tmpdir);
}

static void set_mtime(const char *path, time_t t) {
    struct timespec times[2] = {{t, 0}, {t, 0}};
    cr_assert_eq(utimensat(AT_FDCWD, path, times, 0), 0);
}

Test(template_loader, auto_reload_recompiles_changed_files) {
    make_tmpdir();
    char path[600];
    snprintf(path, sizeof path, "%s/t.html", tmpdir);
    for (int reload = 0; reload < 2; reload++) {
        write_file(tmpdir, "t.html", "version one");
        set_mtime(path, 1000000000);
        vial_tpl_options opt = {.auto_reload = reload};
        vial_tpl_env *env = vial_tpl_env_new(&opt);
        vial_tpl_add_path(env, tmpdir);
        cr_expect_str_eq(render_name(env, "t.html").out, "version one");
        write_file(tmpdir, "t.html", "version two");
        set_mtime(path, 1000000100);
        rendered r = render_name(env, "t.html");
        cr_expect_str_eq(r.out, reload ? "version two" : "version one", "auto_reload=%d", reload);
        vial_tpl_env_free(env);
    }
    remove_tree(tmpdir);
}

static vial_value *touch_fn(vial_tpl_call *c) {
    /* changes the template file while it renders: the include below must recompile it */
    static time_t t = 1500000000;
    t += 10;
    struct timespec times[2] = {{t, 0}, {t, 0}};
    utimensat(AT_FDCWD, (const char *)c->data, times, 0);
    return vial_new_str(c->arena, "");
}

Test(template_loader, reload_while_rendering_is_safe) {
    make_tmpdir();
    static char path[600];
    snprintf(path, sizeof path, "%s/self.html", tmpdir);
    write_file(tmpdir, "self.html",
               "{% set depth = (depth or 0) + 1 %}{% if depth < 4 %}[{{ touch() }}{% include 'self.html' %}]{% endif %}");
    vial_tpl_options opt = {.auto_reload = true};
    vial_tpl_env *env = vial_tpl_env_new(&opt);
    vial_tpl_add_path(env, tmpdir);
    vial_tpl_add_function(env, "touch", touch_fn, path);
    rendered r = render_name(env, "self.html");
    cr_expect_eq(r.rc, 0, "%s", r.err.message);
    cr_expect_str_eq(r.out, "[[[]]]");
    cr_expect_str_eq(render_name(env, "self.html").out, "[[[]]]");
    vial_tpl_env_free(env);
    remove_tree(tmpdir);
}

Test(template_loader, syntax_error_names_the_file) {
    make_tmpdir();
    write_file(tmpdir, "bad.html", "ok\n{% for x in %}\n");
    vial_tpl_env *env = vial_tpl_env_new(NULL);
    vial_tpl_add_path(env, tmpdir);
    vial_tpl_error err;
    cr_expect_eq(vial_tpl_load(env, "bad.html", &err), -1);
    cr_expect_eq(err.kind, VIAL_TPL_ERR_SYNTAX);
    cr_expect_str_eq(err.name, "bad.html");
    cr_expect(strstr(err.file, "/bad.html") != NULL, "%s", err.file);
    cr_expect_eq(err.line, 2);
    vial_buf b;
    vial_buf_init(&b, NULL, 0);
    vial_tpl_error_format(&err, &b);
    char want[1200];
    snprintf(want, sizeof want, "%s:2:13: Expected an expression, got 'end of statement block'", err.file);
    cr_expect_str_eq(vial_buf_cstr(&b), want);
    vial_buf_reset(&b);
    cr_expect_eq(vial_tpl_error_excerpt(env, &err, 1, &b), 0);
    cr_expect_str_eq(vial_buf_cstr(&b), "     1 | ok\n>    2 | {% for x in %}\n       |             ^\n     3 | \n");
    vial_buf_free(&b);
    vial_tpl_env_free(env);
    remove_tree(tmpdir);
}

/* ---- limits ---- */

Test(template_limits, output_limit) {
    vial_tpl_options opt = {.max_output = 1000};
    rendered r = render_opts(&opt, "{% for i in range(100) %}0123456789abcdef{% endfor %}", NULL);
    cr_expect_eq(r.rc, -1);
    cr_expect_eq(r.err.kind, VIAL_TPL_ERR_LIMIT);
    cr_expect(strstr(r.err.message, "exceeds the limit of 1000 bytes") != NULL, "%s", r.err.message);
    cr_expect_str_eq(r.out, "");
    r = render_opts(&opt, "{% for i in range(10) %}0123456789{% endfor %}", NULL);
    cr_expect_eq(r.rc, 0, "100 bytes fit: %s", r.err.message);
    /* a small vial_buf maximum wins over the environment's */
    vial_tpl_env *env = vial_tpl_env_new(NULL);
    vial_arena *a = vial_arena_new(4096);
    vial_buf out;
    vial_buf_init(&out, a, 50);
    vial_tpl_error err;
    const char *src = "{{ 'x' * 60 }}";
    cr_expect_eq(vial_tpl_render_string(env, src, strlen(src), NULL, NULL, a, &out, &err), -1);
    cr_expect_eq(out.len, 0);
    vial_arena_free(a);
    vial_tpl_env_free(env);
}

Test(template_limits, recursion_depth) {
    vial_tpl_options opt = {.max_depth = 50};
    rendered r = render_opts(&opt, "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", NULL);
    cr_expect_eq(r.rc, -1);
    cr_expect_eq(r.err.kind, VIAL_TPL_ERR_LIMIT);
    cr_expect(strstr(r.err.message, "recursion depth") != NULL, "%s", r.err.message);
    r = render_opts(&opt, "{% macro f(n) %}{% if n < 20 %}{{ f(n + 1) }}{% else %}{{ n }}{% endif %}{% endmacro %}{{ f(0) }}",
                    NULL);
    cr_expect_eq(r.rc, 0, "%s", r.err.message);
    cr_expect_str_eq(r.out, "20");
}

Test(template_limits, work_limit) {
    vial_tpl_options opt = {.max_steps = 10000};
    rendered r = render_opts(&opt, "{% for i in range(100) %}{% for j in range(100) %}{% for k in range(100) %}{% endfor %}{% endfor %}{% endfor %}", NULL);
    cr_expect_eq(r.rc, -1);
    cr_expect_eq(r.err.kind, VIAL_TPL_ERR_LIMIT);
    cr_expect(strstr(r.err.message, "work limit") != NULL, "%s", r.err.message);
}

Test(template_limits, arena_limit_is_a_clean_error) {
    vial_tpl_env *env = vial_tpl_env_new(NULL);
    vial_arena *a = vial_arena_new(4096);
    vial_arena_set_limit(a, 64 * 1024);
    vial_buf out;
    vial_buf_init(&out, a, 0);
    vial_tpl_error err;
    const char *src = "{% set l = [] %}{% for i in range(100000) %}{% set _ = l.append(i ~ 'xxxxxxxxxxxxxxxx') %}{% endfor %}";
    cr_expect_eq(vial_tpl_render_string(env, src, strlen(src), NULL, NULL, a, &out, &err), -1);
    cr_expect_eq(err.kind, VIAL_TPL_ERR_MEMORY, "kind %d: %s", err.kind, err.message);
    vial_arena_free(a);
    vial_tpl_env_free(env);
}

/* ---- excerpts ---- */

Test(template_errors, excerpt_marks_line_and_column) {
    vial_buf b;
    vial_buf_init(&b, NULL, 0);
    const char *src = "one\ntwo\n\tthree x\nfour\nfive";
    cr_assert_eq(vial_tpl_excerpt(src, strlen(src), 3, 8, 1, &b), 0);
    cr_expect_str_eq(vial_buf_cstr(&b), "     2 | two\n>    3 | \tthree x\n       | \t      ^\n     4 | four\n");
    vial_buf_reset(&b);
    cr_assert_eq(vial_tpl_excerpt(src, strlen(src), 1, 0, 0, &b), 0);
    cr_expect_str_eq(vial_buf_cstr(&b), ">    1 | one\n");
    vial_buf_free(&b);
}

/* ---- fixed-point formatting against printf ---- */

Test(template_numbers, fixed_digits_match_printf) {
    uint64_t s = 0x9E3779B97F4A7C15ull;
    long checked = 0;
    for (long i = 0; i < 200000; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        double x;
        switch (i % 4) {
        case 0: x = (double)(s % 100000000) / 1000.0 + 0.0005; break; /* near ties */
        case 1: x = (double)(s % 1000000) / 8.0; break;                /* exact ties */
        case 2: {
            uint64_t bits = s;
            memcpy(&x, &bits, sizeof x);
            x = fabs(x);
            if (!isfinite(x)) continue;
            break;
        }
        default: x = (double)(s % 1000003) * 1.37 + 0.005; break;
        }
        int prec = (int)((s >> 59) % 16);
        char ours[700], want[700];
        if (vial_tpl_fixed_digits(ours, sizeof ours, x, prec) < 0) continue;
        snprintf(want, sizeof want, "%.*f", prec, x);
        cr_assert_str_eq(ours, want, "x=%.17g prec=%d", x, prec);
        checked++;
    }
    cr_expect_gt(checked, 150000);
}
