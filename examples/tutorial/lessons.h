/* lessons.h - the tutorial's lessons: one small app per example of the
 * Flask course (shared/tutorial/flask-course.zh.md), chosen by name on the
 * command line:
 *
 *   ./tutorial                       lists the lessons
 *   ./tutorial params run --port 5000
 *   ./tutorial params routes
 *
 * The course's examples cannot live in one app (several define "/", "/login",
 * "/user" or "/goods" differently), so each lesson builds its own vial_app
 * and registers its routes with vial_add_url_rule, giving each view the
 * endpoint name of the course's Python function ("index", "goods", "login").
 * (VIAL_ROUTE would not do here: it registers a view in every app the program
 * creates.) */
#ifndef TUTORIAL_LESSONS_H
#define TUTORIAL_LESSONS_H

#include <vial.h>

typedef struct lesson {
    const char *name;    /* on the command line: "params" */
    const char *chapter; /* the course's section title */
    const char *summary; /* what it shows */
    vial_app *(*create)(void);
} lesson;

/* Every lesson, in the course's order. */
extern const lesson tutorial_lessons[];
extern const size_t tutorial_lesson_count;

/* The lesson called name, or NULL. */
const lesson *tutorial_find_lesson(const char *name);

/* One constructor per lesson (and per variant of a lesson's code). */
vial_app *lesson_hello(void);
vial_app *lesson_config(void);
vial_app *lesson_methods(void);
vial_app *lesson_params(void);
vial_app *lesson_converters(void);
vial_app *lesson_regex(void);
vial_app *lesson_qs(void);
vial_app *lesson_body(void);
vial_app *lesson_header(void);
vial_app *lesson_html(void);
vial_app *lesson_html_tuple(void);
vial_app *lesson_html_make(void);
vial_app *lesson_jsonapi(void);
vial_app *lesson_jsonapi_dumps(void);
vial_app *lesson_jsonapi_response(void);
vial_app *lesson_img(void);
vial_app *lesson_jump(void);
vial_app *lesson_jump_redirect(void);
vial_app *lesson_redirect(void);
vial_app *lesson_redirect_params(void);
vial_app *lesson_status(void);
vial_app *lesson_status_666(void);
vial_app *lesson_cookie(void);
vial_app *lesson_session(void);

#endif
