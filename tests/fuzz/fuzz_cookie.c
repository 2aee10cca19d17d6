/* libFuzzer target: the Cookie header parser and the Set-Cookie formatter.
 * The input is parsed as a Cookie header (names and values must come out
 * as UTF-8), and used as a cookie value: the Set-Cookie line must not
 * contain CR, LF or NUL, and reading the value back with the Cookie parser
 * must give it back unchanged (when it is UTF-8). */
#include <stdint.h>
#include <string.h>

#include "vial.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *s = (const char *)data;
    vial_arena *a = vial_arena_new(4096);
    vial_multidict md;
    vial_multidict_init(&md, a, false);
    if (vial_parse_cookie(a, s, size, &md) != 0) __builtin_trap();
    for (size_t i = 0; i < md.len; i++) {
        const vial_pair *p = &md.items[i];
        if (!p->key.len) __builtin_trap(); /* empty names are skipped */
        if (!vial_utf8_valid(p->key.ptr, p->key.len) || !vial_utf8_valid(p->value.ptr, p->value.len)) __builtin_trap();
    }
    vial_form_error err;
    vial_cookie_opts opts = {.max_size = SIZE_MAX, .httponly = size & 1, .samesite = size & 2 ? "lax" : NULL};
    size_t len;
    char *line = vial_dump_cookie(a, "k", s, size, &opts, &len, &err);
    if (!line) __builtin_trap();
    if (memchr(line, '\r', len) || memchr(line, '\n', len) || memchr(line, '\0', len)) __builtin_trap();
    /* The Cookie header a browser would send back: "k=" + the value part. */
    const char *value_end = line + 2;
    if (*value_end == '"') {
        value_end++;
        while (*value_end != '"') value_end += *value_end == '\\' ? 2 : 1;
        value_end++;
    } else {
        while (*value_end && *value_end != ';') value_end++;
    }
    vial_multidict back;
    vial_multidict_init(&back, a, false);
    vial_parse_cookie(a, line, (size_t)(value_end - line), &back);
    if (vial_utf8_valid(s, size)) {
        const vial_pair *p = vial_multidict_find(&back, "k", 1);
        if (!p || p->value.len != size || memcmp(p->value.ptr, s, size) != 0) __builtin_trap();
    }
    vial_arena_free(a);
    return 0;
}
