/* vial-template - render a Jinja2 template from the shell.
 *
 *   vial-template render FILE [--context JSON-file] [--autoescape] [--trim-blocks]
 *                 [--lstrip-blocks] [--keep-trailing-newline] [--strict-undefined]
 *
 * Templates that FILE includes, imports or extends are looked up in FILE's
 * folder. The output goes to stdout byte for byte; a template error goes to
 * stderr as "file:line:column: message" with exit status 1; bad usage prints
 * the usage on stderr with exit status 2. */
#include "vial.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: vial-template render FILE [--context JSON-file] [--autoescape] [--trim-blocks]\n"
    "                     [--lstrip-blocks] [--keep-trailing-newline] [--strict-undefined]\n"
    "\n"
    "Renders FILE (Jinja2 syntax) to stdout. Included, imported and extended templates\n"
    "are looked up in FILE's folder. --context gives the variables as a JSON object.\n";

static int bad_usage(const char *why) {
    if (why) fprintf(stderr, "vial-template: %s\n", why);
    fputs(usage, stderr);
    return 2;
}

static char *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 65536, n = 0;
    char *data = malloc(cap + 1);
    if (!data) {
        fclose(f);
        return NULL;
    }
    size_t got;
    while ((got = fread(data + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *bigger = realloc(data, cap * 2 + 1);
            if (!bigger) {
                free(data);
                fclose(f);
                return NULL;
            }
            data = bigger;
            cap *= 2;
        }
    }
    bool err = ferror(f);
    fclose(f);
    if (err) {
        free(data);
        return NULL;
    }
    data[n] = 0;
    *len = n;
    return data;
}

int main(int argc, char **argv) {
    if (argc < 2) return bad_usage(NULL);
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) return bad_usage(NULL);
    if (strcmp(argv[1], "render") != 0) return bad_usage("unknown command (expected 'render')");
    const char *file = NULL, *context_file = NULL;
    vial_tpl_options opt = {0};
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) return bad_usage(NULL);
        if (strcmp(a, "--context") == 0) {
            if (++i >= argc) return bad_usage("--context needs a file");
            context_file = argv[i];
        } else if (strncmp(a, "--context=", 10) == 0) {
            context_file = a + 10;
        } else if (strcmp(a, "--autoescape") == 0) {
            opt.autoescape = VIAL_TPL_AUTOESCAPE_ON;
        } else if (strcmp(a, "--trim-blocks") == 0) {
            opt.trim_blocks = true;
        } else if (strcmp(a, "--lstrip-blocks") == 0) {
            opt.lstrip_blocks = true;
        } else if (strcmp(a, "--keep-trailing-newline") == 0) {
            opt.keep_trailing_newline = true;
        } else if (strcmp(a, "--strict-undefined") == 0) {
            opt.strict_undefined = true;
        } else if (a[0] == '-' && a[1]) {
            char msg[300];
            snprintf(msg, sizeof msg, "unknown option '%s'", a);
            return bad_usage(msg);
        } else if (!file) {
            file = a;
        } else {
            return bad_usage("more than one FILE given");
        }
    }
    if (!file) return bad_usage("FILE is missing");

    vial_arena *arena = vial_arena_new(1 << 16);
    if (!arena) {
        fprintf(stderr, "vial-template: out of memory\n");
        return 1;
    }
    vial_value *ctx = NULL;
    if (context_file) {
        size_t n;
        char *text = read_all(context_file, &n);
        if (!text) {
            fprintf(stderr, "vial-template: cannot read %s\n", context_file);
            vial_arena_free(arena);
            return 1;
        }
        vial_json_error jerr;
        ctx = vial_json_parse(arena, text, n, 0, &jerr);
        free(text);
        if (!ctx) {
            fprintf(stderr, "%s:%d:%d: invalid JSON: %s\n", context_file, jerr.line, jerr.column, jerr.message);
            vial_arena_free(arena);
            return 1;
        }
        if (ctx->type != VIAL_OBJECT) {
            fprintf(stderr, "%s: the context must be a JSON object\n", context_file);
            vial_arena_free(arena);
            return 1;
        }
    }
    char *dir_copy = strdup(file), *base_copy = strdup(file);
    vial_tpl_env *env = vial_tpl_env_new(&opt);
    if (!dir_copy || !base_copy || !env) {
        fprintf(stderr, "vial-template: out of memory\n");
        return 1;
    }
    vial_tpl_add_path(env, dirname(dir_copy));
    const char *name = basename(base_copy);
    vial_buf out;
    vial_buf_init(&out, NULL, 0);
    vial_tpl_error err;
    int rc = vial_tpl_render(env, name, ctx, NULL, arena, &out, &err);
    int status = 0;
    if (rc != 0) {
        vial_buf msg;
        vial_buf_init(&msg, NULL, 0);
        if (err.kind == VIAL_TPL_ERR_NOT_FOUND && err.line == 0)
            vial_buf_printf(&msg, "%s: %s", file, err.message);
        else
            vial_tpl_error_format(&err, &msg);
        fprintf(stderr, "%s\n", vial_buf_cstr(&msg));
        vial_buf_free(&msg);
        status = 1;
    } else if (out.len && fwrite(out.data, 1, out.len, stdout) != out.len) {
        fprintf(stderr, "vial-template: write error\n");
        status = 1;
    }
    if (fflush(stdout) != 0) status = 1;
    vial_buf_free(&out);
    vial_tpl_env_free(env);
    free(dir_copy);
    free(base_copy);
    vial_arena_free(arena);
    return status;
}
