/* libFuzzer target: templates from arbitrary text.
 *
 * The first byte picks the environment options (trim/lstrip blocks,
 * keep_trailing_newline, autoescape, strict undefined); the rest is a
 * template, lexed, parsed and compiled, then rendered against a small
 * context with base/include/macro templates available by name. Output,
 * recursion depth, total work and memory are capped, so a hostile template
 * ends with an error instead of a hang or an exhausted machine. Checked:
 * no crash, no leak, output within the cap, errors carry a message. */
#include <stdint.h>
#include <string.h>

#include "template/tpl.h"
#include "vial.h"

static const char context_json[] =
    "{\"x\": \"<X&'\\\">\", \"n\": 3, \"f\": 2.5, \"xs\": [1, 2, 3], \"d\": {\"a\": 1, \"b\": [true, null]},"
    " \"users\": [{\"name\": \"ann\", \"age\": 31}, {\"name\": \"bob\", \"age\": 25}], \"e\": [], \"s\": \"a b c\"}";

static const char *const sources[][2] = {
    {"base.html", "<{% block a %}A{% endblock %}|{% block b %}B{{ x }}{% endblock %}>"},
    {"inc.html", "[{{ x }}{% for i in xs %}{{ i }}{% endfor %}]"},
    {"macros.html", "{% macro m(a, b=2) %}({{ a }},{{ b }},{{ caller() if caller }}){% endmacro %}{% set v = 7 %}"},
    {"self.html", "{% include 'self.html' %}"},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    uint8_t flags = data[0];
    vial_tpl_options opt = {
        .trim_blocks = flags & 1,
        .lstrip_blocks = flags & 2,
        .keep_trailing_newline = flags & 4,
        .autoescape = (flags & 8) ? VIAL_TPL_AUTOESCAPE_ON : VIAL_TPL_AUTOESCAPE_OFF,
        .strict_undefined = flags & 16,
        .max_output = 64 * 1024,
        .max_depth = 40,
        .max_steps = 20000,
    };
    vial_tpl_env *env = vial_tpl_env_new(&opt);
    if (!env) return 0;
    for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++)
        vial_tpl_add_source(env, sources[i][0], sources[i][1], strlen(sources[i][1]));
    vial_arena *a = vial_arena_new(1 << 16);
    vial_arena_set_limit(a, 32u << 20);
    vial_json_error jerr;
    vial_value *ctx = vial_json_parse(a, context_json, sizeof context_json - 1, 0, &jerr);
    if (!ctx) __builtin_trap();

    /* the lexer on its own, over the raw bytes */
    tpl_err lex_err;
    size_t ntoks;
    tpl_lex_opts lo = {opt.trim_blocks, opt.lstrip_blocks, opt.keep_trailing_newline};
    tpl_token *toks = vial_tpl_lex(a, (const char *)data + 1, size - 1, &lo, &ntoks, &lex_err);
    if (toks && (ntoks == 0 || (toks[ntoks - 1].type != T_EOF && toks[ntoks - 1].type != T_ERROR))) __builtin_trap();

    vial_buf out;
    vial_buf_init(&out, a, 0);
    vial_tpl_error err;
    int rc = vial_tpl_render_string(env, (const char *)data + 1, size - 1, ctx, NULL, a, &out, &err);
    if (rc == 0) {
        if (out.len > opt.max_output) __builtin_trap();
    } else {
        if (!err.message[0] || err.line < 0 || err.kind < VIAL_TPL_ERR_SYNTAX || err.kind > VIAL_TPL_ERR_MEMORY)
            __builtin_trap();
        if (out.len != 0) __builtin_trap();
    }
    vial_arena_free(a);
    vial_tpl_env_free(env);
    return 0;
}
