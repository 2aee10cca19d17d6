/* main.c - `flask --app flaskr ...`: ./flaskr init-db, ./flaskr run, ./flaskr routes. */
#include "flaskr.h"

int main(int argc, char **argv) {
    vial_app *app = flaskr_create_app(NULL);
    int status = vial_main(app, argc, argv);
    vial_app_free(app);
    return status;
}
