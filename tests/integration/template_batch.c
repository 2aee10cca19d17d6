/* template_batch - renders many template cases in one process for the
 * differential test against Jinja2 (tests/integration/test_template_diff.py).
 *
 * stdin: one JSON object per line:
 *   {"id": "...", "dir": "/tmp/x", "name": "t.html", "context": {...},
 *    "options": {"autoescape": true|false|"by_name", "trim_blocks": bool, "lstrip_blocks": bool,
 *                "keep_trailing_newline": bool, "strict_undefined": bool}}
 * stdout: one JSON object per case:
 *   {"id": "...", "ok": true, "output": "..."} or
 *   {"id": "...", "ok": false, "file": "...", "line": N, "column": N, "kind": N, "message": "..."}
 * Each case gets a fresh environment (options differ) and a fresh arena. */
#include "vial.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool opt_bool(const vial_value *opts, const char *key) { return vial_get_bool(opts, key, false); }

int main(void) {
    size_t cap = 1 << 16, len = 0;
    char *line = malloc(cap);
    if (!line) return 1;
    int c;
    for (;;) {
        len = 0;
        while ((c = getchar()) != EOF && c != '\n') {
            if (len + 1 >= cap) {
                char *bigger = realloc(line, cap * 2);
                if (!bigger) return 1;
                line = bigger;
                cap *= 2;
            }
            line[len++] = (char)c;
        }
        if (c == EOF && len == 0) break;
        line[len] = 0;
        vial_arena *a = vial_arena_new(1 << 16);
        vial_json_error jerr;
        vial_value *req = vial_json_parse(a, line, len, 0, &jerr);
        if (!req || req->type != VIAL_OBJECT) {
            fprintf(stderr, "template_batch: bad input line: %s\n", jerr.message);
            return 1;
        }
        const vial_value *opts = vial_object_get(req, "options");
        vial_tpl_options o = {0};
        const vial_value *ae = vial_object_get(opts, "autoescape");
        if (ae && ae->type == VIAL_STRING && strcmp(ae->as.s.ptr, "by_name") == 0)
            o.autoescape = VIAL_TPL_AUTOESCAPE_BY_NAME;
        else if (ae && vial_truthy(ae))
            o.autoescape = VIAL_TPL_AUTOESCAPE_ON;
        o.trim_blocks = opt_bool(opts, "trim_blocks");
        o.lstrip_blocks = opt_bool(opts, "lstrip_blocks");
        o.keep_trailing_newline = opt_bool(opts, "keep_trailing_newline");
        o.strict_undefined = opt_bool(opts, "strict_undefined");
        o.max_output = 16u << 20;
        vial_tpl_env *env = vial_tpl_env_new(&o);
        vial_tpl_add_path(env, vial_get_str(req, "dir"));
        vial_buf out;
        vial_buf_init(&out, a, 0);
        vial_tpl_error err;
        int rc = vial_tpl_render(env, vial_get_str(req, "name"), vial_object_get(req, "context"), NULL, a, &out, &err);
        vial_value *res = vial_new_object(a);
        vial_object_set(res, "id", vial_object_get(req, "id"));
        vial_object_set(res, "ok", vial_new_bool(a, rc == 0));
        if (rc == 0) {
            vial_object_set(res, "output", vial_new_strn(a, out.data ? out.data : "", out.len));
        } else {
            vial_object_set(res, "file", vial_new_str(a, err.file));
            vial_object_set(res, "line", vial_new_int(a, err.line));
            vial_object_set(res, "column", vial_new_int(a, err.column));
            vial_object_set(res, "kind", vial_new_int(a, err.kind));
            vial_object_set(res, "message", vial_new_str(a, err.message));
        }
        size_t n;
        char *json = vial_json_encode(a, res, 0, &n);
        fwrite(json, 1, n, stdout);
        putchar('\n');
        fflush(stdout);
        vial_tpl_env_free(env);
        vial_arena_free(a);
    }
    free(line);
    return 0;
}
