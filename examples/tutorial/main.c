/* tutorial - the Flask course's examples in C, one small app per lesson.
 *
 *   ./tutorial                             the lessons
 *   ./tutorial <lesson> run --port 5000    serve a lesson
 *   ./tutorial <lesson> routes             its URL map (flask routes)
 *   ./tutorial <lesson> config             its configuration
 *
 * Run it from examples/tutorial: the img and body lessons read and write
 * ./avatar.png, as the course does. See README.md for each lesson. */
#include <stdio.h>
#include <string.h>

#include "lessons.h"

static void list_lessons(const char *prog) {
    printf("Usage: %s LESSON COMMAND [ARGS]...\n\n"
           "  The Flask course's examples in C: each lesson is a small vial app.\n"
           "  COMMAND is the app's own: run, routes, config (try: %s hello --help).\n\n"
           "Lessons:\n",
           prog, prog);
    for (size_t i = 0; i < tutorial_lesson_count; i++)
        printf("  %-17s %s\n  %-17s (%s)\n", tutorial_lessons[i].name, tutorial_lessons[i].summary, "",
               tutorial_lessons[i].chapter);
}

int main(int argc, char **argv) {
    /* print() in the course goes to the console at once; so do the lessons' printf lines */
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *slash = strrchr(argv[0], '/');
    const char *prog = slash ? slash + 1 : argv[0];
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        list_lessons(prog);
        return 0;
    }
    const lesson *l = tutorial_find_lesson(argv[1]);
    if (!l) {
        fprintf(stderr, "Usage: %s LESSON COMMAND [ARGS]...\nTry '%s --help' for the lessons.\n\n"
                        "Error: No such lesson '%s'.\n",
                prog, prog, argv[1]);
        return 2;
    }
    vial_app *app = l->create();
    /* The lesson's app takes the rest of the command line as `flask` would, and
     * names itself "tutorial <lesson>" in its usage lines. */
    char name[256];
    snprintf(name, sizeof name, "%s %s", prog, l->name);
    argv[1] = name;
    int status = vial_main(app, argc - 1, argv + 1);
    vial_app_free(app);
    return status;
}
