/* db.c - flaskr/db.py: init_db and the init-db command.
 *
 * get_db() and close_db() are the framework's: a view's first database call
 * takes a connection from the worker's pool and the request's teardown gives
 * it back (DATABASE_URL, here instance/flaskr.sqlite under the app root). */
#include <stdio.h>
#include <stdlib.h>

#include "flaskr.h"

/* Clear existing data and create new tables: runs schema.sql. */
int flaskr_init_db(vial_app *app) {
    char path[4200];
    snprintf(path, sizeof path, "%s/schema.sql", vial_app_root(app));
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "Error: cannot read %s\n", path);
        return -1;
    }
    char schema[16384];
    size_t n = fread(schema, 1, sizeof schema, f);
    fclose(f);
    if (n == sizeof schema) {
        fprintf(stderr, "Error: %s is larger than %zu bytes\n", path, sizeof schema - 1);
        return -1;
    }
    schema[n] = '\0';
    vial_db *db = vial_app_db(app);
    if (!db) return -1;
    vial_db_conn *c = vial_db_acquire(db);
    int rc = vial_db_script(c, schema);
    if (rc != 0) fprintf(stderr, "Error: %s\n", vial_db_errmsg(c));
    vial_db_release(c);
    return rc;
}

static int init_db_command(vial_app *app, vial_cmd *cmd) {
    (void)cmd;
    if (flaskr_init_db(app) != 0) return 1;
    printf("Initialized the database.\n");
    return 0;
}

void flaskr_db_init_app(vial_app *app) {
    vial_command(app, "init-db", "Clear the existing data and create new tables.", init_db_command);
}
