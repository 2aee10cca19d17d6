/* db_cli.c - `./app db ...`, the app binary's Flask-Migrate.
 *
 *   ./app db init | revision -m MSG | migrate [-m MSG] | upgrade [REVISION]
 *            | downgrade [REVISION] | current | history     (-d DIR: another folder)
 *
 * Arguments are read here with Click's layout and messages, as the rest of the
 * CLI (src/app/cli.c): --help at both levels, a bad option or argument prints
 * the usage line, a hint and "Error: ..." on stderr and exits 2. The work is
 * vial_db_command's (migrate.c) on the app's database (DATABASE_URL) with the
 * models registered by vial_db_models and the migrations/ folder under the
 * app root; a failure there (database unreachable, a broken migration) exits 1. */
#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "db/db.h"

typedef struct db_subcommand {
    const char *name;
    const char *summary;  /* one line for `db --help` */
    const char *help;     /* the subcommand's own --help text */
    const char *argument; /* positional argument name, NULL: none */
    bool message;         /* takes -m/--message */
    bool message_required;
} db_subcommand;

static const db_subcommand subcommands[] = {
    {"current", "Display the current revision for each database.", "Display the current revision for each database.",
     NULL, false, false},
    {"downgrade", "Revert to a previous version",
     "Revert to a previous version: REVISION is a version number, base, or -N steps (default: -1).", "REVISION", false,
     false},
    {"history", "List changeset scripts in chronological order.",
     "List changeset scripts in chronological order (newest first), marking head, current and pending.", NULL, false,
     false},
    {"init", "Creates a new migration repository.", "Creates a new migration repository.", NULL, false, false},
    {"migrate", "Autogenerate a new revision file from the models.",
     "Autogenerate a new revision file: what the app's models add to the database (tables, columns, indexes).", NULL,
     true, false},
    {"revision", "Create a new revision file.", "Create a new, empty revision file.", NULL, true, true},
    {"upgrade", "Upgrade to a later version",
     "Upgrade to a later version: REVISION is a version number, head (the default), or +N steps.", "REVISION", false,
     false},
};

static int group_usage_error(const char *prog, const char *fmt, const char *arg) {
    fprintf(stderr, "Usage: %s db [OPTIONS] COMMAND [ARGS]...\nTry '%s db --help' for help.\n\nError: ", prog, prog);
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    return 2;
}

static void sub_usage_line(FILE *f, const char *prog, const db_subcommand *sc) {
    fprintf(f, "Usage: %s db %s [OPTIONS]%s%s%s\n", prog, sc->name, sc->argument ? " [" : "",
            sc->argument ? sc->argument : "", sc->argument ? "]" : "");
}

static int sub_usage_error(const char *prog, const db_subcommand *sc, const char *fmt, const char *arg) {
    sub_usage_line(stderr, prog, sc);
    fprintf(stderr, "Try '%s db %s --help' for help.\n\nError: ", prog, sc->name);
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    return 2;
}

static void group_help(const char *prog) {
    printf("Usage: %s db [OPTIONS] COMMAND [ARGS]...\n\n  Perform database migrations.\n\n", prog);
    printf("Options:\n  --help  Show this message and exit.\n\nCommands:\n");
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        printf("  %-9s  %s\n", subcommands[i].name, subcommands[i].summary);
}

static void sub_help(const char *prog, const db_subcommand *sc) {
    sub_usage_line(stdout, prog, sc);
    printf("\n  %s\n\nOptions:\n", sc->help);
    printf("  %-22s  %s\n", "-d, --directory TEXT", "Migration script directory (default is \"migrations\" in the app root)");
    if (sc->message) printf("  %-22s  %s\n", "-m, --message TEXT", sc->message_required ? "Revision message  [required]" : "Revision message");
    printf("  %-22s  %s\n", "--help", "Show this message and exit.");
}

int vial_db_app_cli(vial_app *app, const char *prog, int argc, char **argv) {
    if (argc < 1 || strcmp(argv[0], "--help") == 0) {
        /* Click shows a group's help when it is called without a command. */
        group_help(prog);
        return 0;
    }
    if (argv[0][0] == '-') return group_usage_error(prog, "No such option: %s", argv[0]);
    const db_subcommand *sc = NULL;
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++)
        if (strcmp(argv[0], subcommands[i].name) == 0) sc = &subcommands[i];
    if (!sc) return group_usage_error(prog, "No such command '%s'.", argv[0]);

    const char *directory = NULL, *message = NULL, *argument = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = NULL;
        const char *inline_value = NULL;
        if (strcmp(a, "--help") == 0) {
            sub_help(prog, sc);
            return 0;
        }
        if (strcmp(a, "-d") == 0 || strcmp(a, "--directory") == 0) {
            slot = &directory;
        } else if (strncmp(a, "--directory=", 12) == 0) {
            slot = &directory;
            inline_value = a + 12;
        } else if (sc->message && (strcmp(a, "-m") == 0 || strcmp(a, "--message") == 0)) {
            slot = &message;
        } else if (sc->message && strncmp(a, "--message=", 10) == 0) {
            slot = &message;
            inline_value = a + 10;
        } else if (strcmp(a, "--") == 0) {
            if (i + 1 < argc && sc->argument && !argument && i + 2 == argc) {
                argument = argv[i + 1];
                break;
            }
            if (i + 1 < argc) return sub_usage_error(prog, sc, "Got unexpected extra argument (%s)", argv[i + 1]);
            break;
        } else if (a[0] == '-' && a[1] && !(sc->argument && a[1] >= '0' && a[1] <= '9')) {
            /* "-1" is a downgrade target, not an option (Alembic's relative revisions). */
            return sub_usage_error(prog, sc, "No such option: %s", a);
        } else if (sc->argument && !argument) {
            argument = a;
            continue;
        } else {
            return sub_usage_error(prog, sc, "Got unexpected extra argument (%s)", a);
        }
        if (!inline_value) {
            if (i + 1 >= argc) return sub_usage_error(prog, sc, "Option '%s' requires an argument.", a);
            inline_value = argv[++i];
        }
        *slot = inline_value;
    }
    if (sc->message_required && !message) return sub_usage_error(prog, sc, "Missing option '-m' / '--message'.%s", "");
    if (message && !*message) return sub_usage_error(prog, sc, "Invalid value for '-m' / '--message': %s", "the message is empty.");

    char *dir;
    if (directory)
        dir = vial_arena_strdup(app->arena, directory);
    else
        dir = vial_arena_sprintf(app->arena, "%s/migrations", app->root_path ? app->root_path : ".");
    if (!dir) {
        fprintf(stderr, "Error: out of memory\n");
        return 1;
    }

    char *args[4];
    int n = 0;
    args[n++] = (char *)sc->name;
    if (message) {
        args[n++] = "-m";
        args[n++] = (char *)message;
    }
    if (argument) args[n++] = (char *)argument;

    /* init and revision work on files only; the rest need the database. */
    vial_db *db = NULL;
    if (strcmp(sc->name, "init") != 0 && strcmp(sc->name, "revision") != 0) {
        db = vial_app_db(app);
        if (!db) {
            fprintf(stderr, "Error: DATABASE_URL cannot be used (see the log line above)\n");
            return 1;
        }
    }
    fflush(stdout);
    return vial_db_command(db, vial_db_app_models(app), dir, n, args, stdout, stderr);
}
