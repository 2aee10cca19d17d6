/* coro_testutil.h - a worker's loop for database tests that run coroutines:
 * start(fn, arg) begins one as a request would, run_until(n) turns the loop
 * (bounded) until n of them finished, note() records what happened in order. */
#ifndef VIAL_CORO_TESTUTIL_H
#define VIAL_CORO_TESTUTIL_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "server/loop.h"

static vial_loop loop;
static int jobs_done;
static char events[256];

static void note(const char *what) {
    size_t n = strlen(events);
    snprintf(events + n, sizeof events - n, "%s%s", n ? "," : "", what);
}

static void job_finished(vial_job *job) {
    (void)job;
    jobs_done++;
}
static vial_job finish_job = {job_finished};

static void start(vial_coro_fn fn, void *arg) {
    vial_coro *co = vial_coro_start(&loop.coros, fn, arg);
    cr_assert_not_null(co);
    vial_coro_set_data(co, &finish_job);
    vial_loop_resume(&loop, co);
}

static void run_until(int jobs) {
    for (int i = 0; i < 3000 && jobs_done < jobs; i++) vial_loop_turn(&loop, 50);
    cr_assert_eq(jobs_done, jobs, "only %d of %d coroutines finished (events: %s)", jobs_done, jobs, events);
}

#endif
