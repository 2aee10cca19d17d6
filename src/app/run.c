/* run.c - serving the app: from config to the server engine.
 *
 * Interim: the event-driven engine (src/server) is being built; until it is
 * wired here, `run` reports that it cannot serve. */
#include "app/app.h"

int vial_run(vial_app *app, const char *host, int port, int workers, bool debug) {
    (void)app, (void)workers, (void)debug;
    vial_log(VIAL_LOG_ERROR, "cannot serve on %s:%d: the server engine is not linked in yet", host, port);
    return 1;
}
