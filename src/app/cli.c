/* cli.c - the app binary is its own `flask` command.
 *
 *   ./app run --host 0.0.0.0 --port 8000 --workers 4 --debug
 *   ./app routes --sort rule
 *   ./app config
 *   ./app db upgrade
 *   ./app init-db            (commands the app registers)
 *
 * Usage and errors follow Click's layout so a Flask user reads them at a
 * glance: a bad option or an unknown command prints the usage line, a hint
 * and "Error: ..." on stderr and exits 2; --help works at every level. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "app/app.h"

static const char *prog_name(const char *argv0) {
    const char *slash = strrchr(argv0, '/');
    return slash ? slash + 1 : argv0;
}

static int usage_error(const char *prog, const char *cmd, const char *fmt, const char *arg) {
    if (cmd) {
        fprintf(stderr, "Usage: %s %s [OPTIONS]\nTry '%s %s --help' for help.\n\nError: ", prog, cmd, prog, cmd);
    } else {
        fprintf(stderr, "Usage: %s [OPTIONS] COMMAND [ARGS]...\nTry '%s --help' for help.\n\nError: ", prog, prog);
    }
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    return 2;
}

/* ---- registered commands ---- */

vial_cmd *vial_command(vial_app *app, const char *name, const char *help, vial_command_fn fn) {
    if (!name || !*name || !fn || app->cmd_count >= sizeof app->cmds / sizeof app->cmds[0]) return NULL;
    static const char *reserved[] = {"run", "routes", "config", "db", "help"};
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        if (strcmp(name, reserved[i]) == 0 && strcmp(name, "db") != 0) {
            vial_log(VIAL_LOG_ERROR, "command name %s is reserved", name);
            return NULL;
        }
    vial_cmd *cmd = vial_arena_calloc(app->arena, sizeof *cmd);
    if (!cmd) return NULL;
    cmd->name = vial_arena_strdup(app->arena, name);
    cmd->help = vial_arena_strdup(app->arena, help ? help : "");
    cmd->fn = fn;
    cmd->app = app;
    app->cmds[app->cmd_count++] = cmd;
    return cmd;
}

int vial_command_option(vial_cmd *cmd, const char *long_name, char short_name, const char *help,
                        const char *default_value, bool is_flag) {
    if (!cmd || !long_name || cmd->option_count >= sizeof cmd->options / sizeof cmd->options[0]) return -1;
    while (*long_name == '-') long_name++;
    cli_option *o = &cmd->options[cmd->option_count++];
    memset(o, 0, sizeof *o);
    o->long_name = vial_arena_strdup(cmd->app->arena, long_name);
    o->short_name = short_name;
    o->help = vial_arena_strdup(cmd->app->arena, help ? help : "");
    o->default_value = default_value ? vial_arena_strdup(cmd->app->arena, default_value) : NULL;
    o->is_flag = is_flag;
    return 0;
}

static cli_option *find_option(const vial_cmd *cmd, const char *long_name) {
    while (*long_name == '-') long_name++;
    for (size_t i = 0; i < cmd->option_count; i++)
        if (strcmp(cmd->options[i].long_name, long_name) == 0) return (cli_option *)&cmd->options[i];
    return NULL;
}

const char *vial_cmd_opt(const vial_cmd *cmd, const char *long_name) {
    cli_option *o = find_option(cmd, long_name);
    if (!o) return NULL;
    return o->seen ? o->value : o->default_value;
}

bool vial_cmd_flag(const vial_cmd *cmd, const char *long_name) {
    cli_option *o = find_option(cmd, long_name);
    return o && o->seen;
}

int vial_cmd_argc(const vial_cmd *cmd) { return cmd->argc; }
const char *vial_cmd_arg(const vial_cmd *cmd, int i) { return i >= 0 && i < cmd->argc ? cmd->argv[i] : NULL; }

static void print_wrapped(FILE *out, const char *text, int indent) {
    fprintf(out, "%*s%s\n", indent, "", text);
}

static void command_help(const char *prog, const vial_cmd *cmd) {
    printf("Usage: %s %s [OPTIONS]%s\n\n", prog, cmd->name, " [ARGS]...");
    if (*cmd->help) print_wrapped(stdout, cmd->help, 2), printf("\n");
    printf("Options:\n");
    for (size_t i = 0; i < cmd->option_count; i++) {
        const cli_option *o = &cmd->options[i];
        char left[128];
        if (o->short_name)
            snprintf(left, sizeof left, "-%c, --%s%s", o->short_name, o->long_name, o->is_flag ? "" : " TEXT");
        else
            snprintf(left, sizeof left, "--%s%s", o->long_name, o->is_flag ? "" : " TEXT");
        printf("  %-30s  %s", left, o->help);
        if (o->default_value && !o->is_flag) printf("  [default: %s]", o->default_value);
        printf("\n");
    }
    printf("  %-30s  %s\n", "--help", "Show this message and exit.");
}

static int run_user_command(vial_app *app, const char *prog, vial_cmd *cmd, int argc, char **argv) {
    char **positional = vial_arena_calloc(app->arena, (size_t)(argc + 1) * sizeof *positional);
    int npos = 0;
    for (size_t i = 0; i < cmd->option_count; i++) cmd->options[i].seen = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0) {
            command_help(prog, cmd);
            return 0;
        }
        if (strcmp(a, "--") == 0) {
            while (++i < argc) positional[npos++] = argv[i];
            break;
        }
        if (a[0] == '-' && a[1]) {
            cli_option *o = NULL;
            const char *inline_value = NULL;
            if (a[1] == '-') {
                const char *eq = strchr(a + 2, '=');
                char name[128];
                size_t n = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
                if (n >= sizeof name) n = sizeof name - 1;
                memcpy(name, a + 2, n);
                name[n] = '\0';
                o = find_option(cmd, name);
                if (eq) inline_value = eq + 1;
            } else if (!a[2]) {
                for (size_t k = 0; k < cmd->option_count; k++)
                    if (cmd->options[k].short_name == a[1]) o = &cmd->options[k];
            }
            if (!o) return usage_error(prog, cmd->name, "No such option: %s", a);
            o->seen = true;
            if (o->is_flag) {
                if (inline_value) return usage_error(prog, cmd->name, "Option '%s' does not take a value.", a);
                o->value = "1";
            } else if (inline_value) {
                o->value = inline_value;
            } else if (i + 1 < argc) {
                o->value = argv[++i];
            } else {
                return usage_error(prog, cmd->name, "Option '%s' requires an argument.", a);
            }
            continue;
        }
        positional[npos++] = argv[i];
    }
    cmd->argc = npos;
    cmd->argv = positional;
    return cmd->fn(app, cmd);
}

/* ---- built-in commands ---- */

typedef struct help_row {
    const char *name, *help;
    int help_len;
} help_row;

static int help_row_cmp(const void *a, const void *b) {
    return strcmp(((const help_row *)a)->name, ((const help_row *)b)->name);
}

static void main_help(vial_app *app, const char *prog) {
    printf("Usage: %s [OPTIONS] COMMAND [ARGS]...\n\n", prog);
    printf("  %s: a vial application (Flask for C).\n\n", app->name);
    printf("Options:\n  --help  Show this message and exit.\n\nCommands:\n");
    help_row rows[sizeof app->cmds / sizeof app->cmds[0] + 4];
    size_t n = 0;
    rows[n++] = (help_row){"config", "Show the effective configuration (secrets masked).", -1};
    if (app->db_command) rows[n++] = (help_row){"db", "Database migrations: init, revision, upgrade, downgrade...", -1};
    rows[n++] = (help_row){"routes", "Show the routes for the app.", -1};
    rows[n++] = (help_row){"run", "Run the server.", -1};
    for (size_t i = 0; i < app->cmd_count; i++) {
        const char *help = app->cmds[i]->help;
        const char *nl = strchr(help, '\n');
        rows[n++] = (help_row){app->cmds[i]->name, help, nl ? (int)(nl - help) : -1};
    }
    /* Click lists commands alphabetically. */
    qsort(rows, n, sizeof rows[0], help_row_cmp);
    int width = 6;
    for (size_t i = 0; i < n; i++)
        if ((int)strlen(rows[i].name) > width) width = (int)strlen(rows[i].name);
    for (size_t i = 0; i < n; i++) {
        if (rows[i].help_len >= 0)
            printf("  %-*s  %.*s\n", width, rows[i].name, rows[i].help_len, rows[i].help);
        else
            printf("  %-*s  %s\n", width, rows[i].name, rows[i].help);
    }
}

static int parse_port(const char *s, int *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 0 || v > 65535) return -1;
    *out = (int)v;
    return 0;
}

static int cmd_run(vial_app *app, const char *prog, int argc, char **argv) {
    const char *host = getenv("VIAL_RUN_HOST");
    const char *port_env = getenv("VIAL_RUN_PORT");
    const char *workers_env = getenv("VIAL_RUN_WORKERS");
    const char *debug_env = getenv("VIAL_DEBUG");
    int port = 5000, workers = 0;
    bool debug = vial_config_bool(app, "DEBUG", false);
    if (!host) host = "127.0.0.1";
    if (port_env && parse_port(port_env, &port) != 0)
        return usage_error(prog, "run", "Invalid value for VIAL_RUN_PORT: '%s' is not a valid port.", port_env);
    if (workers_env && (workers = atoi(workers_env)) < 0)
        return usage_error(prog, "run", "Invalid value for VIAL_RUN_WORKERS: '%s'.", workers_env);
    if (debug_env) debug = strcmp(debug_env, "1") == 0 || strcasecmp(debug_env, "true") == 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *value = NULL;
        const char *eq = strchr(a, '=');
        char name[64];
        size_t n = eq && a[0] == '-' && a[1] == '-' ? (size_t)(eq - a) : strlen(a);
        if (n >= sizeof name) n = sizeof name - 1;
        memcpy(name, a, n);
        name[n] = '\0';
        if (eq && a[1] == '-') value = eq + 1;
        bool wants_value = strcmp(name, "--host") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "--port") == 0 ||
                           strcmp(name, "-p") == 0 || strcmp(name, "--workers") == 0 || strcmp(name, "-w") == 0;
        if (wants_value && !value) {
            if (i + 1 >= argc) return usage_error(prog, "run", "Option '%s' requires an argument.", name);
            value = argv[++i];
        }
        if (strcmp(name, "--help") == 0) {
            printf("Usage: %s run [OPTIONS]\n\n  Run the server: a master process and worker processes serving the app.\n\n"
                   "Options:\n"
                   "  -h, --host TEXT        The interface to bind to.  [default: 127.0.0.1; env VIAL_RUN_HOST]\n"
                   "  -p, --port INTEGER     The port to bind to.  [default: 5000; env VIAL_RUN_PORT]\n"
                   "  -w, --workers INTEGER  Worker processes.  [default: number of CPUs; env VIAL_RUN_WORKERS]\n"
                   "  --debug / --no-debug   One worker, detailed error pages, restart when the binary changes.\n"
                   "                         [env VIAL_DEBUG]\n"
                   "  --single               One process without a master (for debuggers and profilers).\n"
                   "  --help                 Show this message and exit.\n",
                   prog);
            return 0;
        } else if (strcmp(name, "--host") == 0 || strcmp(name, "-h") == 0) {
            host = value;
        } else if (strcmp(name, "--port") == 0 || strcmp(name, "-p") == 0) {
            if (parse_port(value, &port) != 0)
                return usage_error(prog, "run", "Invalid value for '--port' / '-p': '%s' is not a valid port.", value);
        } else if (strcmp(name, "--workers") == 0 || strcmp(name, "-w") == 0) {
            char *end;
            long w = strtol(value, &end, 10);
            if (end == value || *end || w < 1 || w > 1024)
                return usage_error(prog, "run", "Invalid value for '--workers' / '-w': '%s' is not a number from 1 to 1024.",
                                   value);
            workers = (int)w;
        } else if (strcmp(name, "--debug") == 0) {
            debug = true;
        } else if (strcmp(name, "--no-debug") == 0) {
            debug = false;
        } else if (strcmp(name, "--single") == 0) {
            /* One process, no master (for debuggers and profilers such as callgrind). */
            app->run_single_process = true;
        } else if (a[0] == '-') {
            return usage_error(prog, "run", "No such option: %s", name);
        } else {
            return usage_error(prog, "run", "Got unexpected extra argument (%s)", a);
        }
    }
    return vial_run(app, host, port, workers, debug);
}

typedef struct route_row {
    const char *endpoint, *methods, *rule;
    size_t order;
} route_row;

static int sort_key;
static int row_cmp(const void *x, const void *y) {
    const route_row *a = x, *b = y;
    int c = 0;
    switch (sort_key) {
    case 0: c = strcmp(a->endpoint, b->endpoint); break;
    case 1: c = strcmp(a->methods, b->methods); break;
    case 2: c = strcmp(a->rule, b->rule); break;
    default: break;
    }
    if (c == 0) c = a->order < b->order ? -1 : a->order > b->order;
    return c;
}

static const char *methods_text(vial_arena *a, unsigned methods, bool all) {
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {{VIAL_CONNECT, "CONNECT"}, {VIAL_DELETE, "DELETE"}, {VIAL_GET, "GET"},     {VIAL_HEAD, "HEAD"},
                 {VIAL_OPTIONS, "OPTIONS"}, {VIAL_PATCH, "PATCH"},   {VIAL_POST, "POST"},   {VIAL_PUT, "PUT"},
                 {VIAL_TRACE, "TRACE"}};
    if (methods & VIAL_GET) methods |= VIAL_HEAD;
    methods |= VIAL_OPTIONS;
    if (!all) methods &= ~(VIAL_HEAD | VIAL_OPTIONS);
    vial_buf b;
    vial_buf_init(&b, a, 0);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (methods & names[i].bit) {
            if (b.len) vial_buf_puts(&b, ", ");
            vial_buf_puts(&b, names[i].name);
        }
    return vial_buf_cstr(&b);
}

static int cmd_routes(vial_app *app, const char *prog, int argc, char **argv) {
    const char *sort = "endpoint";
    bool all = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            printf("Usage: %s routes [OPTIONS]\n\n  Show all registered routes with endpoints and methods.\n\nOptions:\n"
                   "  -s, --sort [endpoint|methods|rule|match]\n"
                   "                                  Method to sort routes by. \"match\" is the\n"
                   "                                  order that vial will match routes when\n"
                   "                                  dispatching a request.\n"
                   "  --all-methods                   Show HEAD and OPTIONS methods.\n"
                   "  --help                          Show this message and exit.\n",
                   prog);
            return 0;
        } else if (strcmp(argv[i], "--sort") == 0 || strcmp(argv[i], "-s") == 0) {
            if (i + 1 >= argc) return usage_error(prog, "routes", "Option '%s' requires an argument.", argv[i]);
            sort = argv[++i];
        } else if (strncmp(argv[i], "--sort=", 7) == 0) {
            sort = argv[i] + 7;
        } else if (strcmp(argv[i], "--all-methods") == 0) {
            all = true;
        } else if (argv[i][0] == '-') {
            return usage_error(prog, "routes", "No such option: %s", argv[i]);
        } else {
            return usage_error(prog, "routes", "Got unexpected extra argument (%s)", argv[i]);
        }
    }
    if (strcmp(sort, "endpoint") == 0)
        sort_key = 0;
    else if (strcmp(sort, "methods") == 0)
        sort_key = 1;
    else if (strcmp(sort, "rule") == 0)
        sort_key = 2;
    else if (strcmp(sort, "match") == 0)
        sort_key = 3;
    else
        return usage_error(prog, "routes",
                           "Invalid value for '--sort' / '-s': '%s' is not one of 'endpoint', 'methods', 'rule', 'match'.",
                           sort);
    if (app->router_dirty) app_compile_routes(app);
    size_t n = app->route_count;
    if (n == 0) {
        printf("No routes were registered.\n");
        return 0;
    }
    route_row *rows = vial_arena_calloc(app->arena, n * sizeof *rows);
    size_t widths[3] = {8, 7, 4};
    for (size_t i = 0; i < n; i++) {
        const app_route *r = &app->routes[app->route_order ? app->route_order[i] : i];
        rows[i] = (route_row){r->endpoint, methods_text(app->arena, r->methods, all), r->rule, i};
        size_t l[3] = {strlen(rows[i].endpoint), strlen(rows[i].methods), strlen(rows[i].rule)};
        for (int k = 0; k < 3; k++)
            if (l[k] > widths[k]) widths[k] = l[k];
    }
    qsort(rows, n, sizeof *rows, row_cmp);
    printf("%-*s  %-*s  %s\n", (int)widths[0], "Endpoint", (int)widths[1], "Methods", "Rule");
    char dashes[3][256];
    for (int k = 0; k < 3; k++) {
        size_t w = widths[k] < 255 ? widths[k] : 255;
        memset(dashes[k], '-', w);
        dashes[k][w] = '\0';
    }
    printf("%s  %s  %s\n", dashes[0], dashes[1], dashes[2]);
    for (size_t i = 0; i < n; i++)
        printf("%-*s  %-*s  %s\n", (int)widths[0], rows[i].endpoint, (int)widths[1], rows[i].methods, rows[i].rule);
    return 0;
}

static bool is_secret_key(const char *key) {
    static const char *words[] = {"SECRET", "PASSWORD", "TOKEN", "PRIVATE"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strstr(key, words[i])) return true;
    return false;
}

/* postgresql://user:pass@host/db → postgresql://user:***@host/db */
static const char *mask_url_password(vial_arena *a, const char *url) {
    const char *scheme = strstr(url, "://");
    if (!scheme) return url;
    const char *at = strchr(scheme + 3, '@');
    const char *colon = strchr(scheme + 3, ':');
    if (!at || !colon || colon > at) return url;
    return vial_arena_sprintf(a, "%.*s***%s", (int)(colon + 1 - url), url, at);
}

static int cmd_config(vial_app *app, const char *prog, int argc, char **argv) {
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            printf("Usage: %s config [OPTIONS]\n\n  Show the effective configuration, secrets masked.\n\nOptions:\n"
                   "  --help  Show this message and exit.\n",
                   prog);
            return 0;
        }
        return usage_error(prog, "config", argv[i][0] == '-' ? "No such option: %s" : "Got unexpected extra argument (%s)",
                           argv[i]);
    }
    const vial_value *cfg = app->config;
    for (size_t i = 0; i < cfg->as.obj.len; i++) {
        const vial_member *m = &cfg->as.obj.items[i];
        const vial_value *v = m->value;
        if (is_secret_key(m->key) && v->type != VIAL_NULL && !(v->type == VIAL_ARRAY && v->as.arr.len == 0)) {
            printf("%s = '***'\n", m->key);
            continue;
        }
        if (v->type == VIAL_STRING && strstr(m->key, "URL")) {
            printf("%s = \"%s\"\n", m->key, mask_url_password(app->arena, v->as.s.ptr));
            continue;
        }
        char *json = vial_json_encode(app->arena, v, VIAL_JSON_SPACED, NULL);
        printf("%s = %s\n", m->key, json ? json : "?");
    }
    return 0;
}

int vial_main(vial_app *app, int argc, char **argv) {
    const char *prog = argc > 0 ? prog_name(argv[0]) : app->name;
    if (!app) {
        fprintf(stderr, "Error: no application (vial_app_new failed).\n");
        return 1;
    }
    if (app->setup_failed) {
        /* A bad rule or a duplicate endpoint: Flask fails at import time; we refuse to start. */
        fprintf(stderr, "Error: the app could not be set up: %s\n", app->last_error);
        return 1;
    }
    if (vial_config_from_env(app, "VIAL") != 0) {
        fprintf(stderr, "Error: %s\n", app->last_error ? app->last_error : "bad VIAL_* environment variable");
        return 1;
    }
    if (argc < 2 || strcmp(argv[1], "--help") == 0) {
        main_help(app, prog);
        return 0;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "run") == 0) return cmd_run(app, prog, argc - 2, argv + 2);
    if (strcmp(cmd, "routes") == 0) return cmd_routes(app, prog, argc - 2, argv + 2);
    if (strcmp(cmd, "config") == 0) return cmd_config(app, prog, argc - 2, argv + 2);
    if (strcmp(cmd, "db") == 0 && app->db_command) return app->db_command(app, prog, argc - 2, argv + 2);
    for (size_t i = 0; i < app->cmd_count; i++)
        if (strcmp(app->cmds[i]->name, cmd) == 0) return run_user_command(app, prog, app->cmds[i], argc - 2, argv + 2);
    if (cmd[0] == '-') return usage_error(prog, NULL, "No such option: %s", cmd);
    return usage_error(prog, NULL, "No such command '%s'.", cmd);
}
