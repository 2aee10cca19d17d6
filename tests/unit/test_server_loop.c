/* The worker loop's parking: sleeps wake in order, sleep(0) lets others run,
 * vial_wait_fd wakes on readiness or timeout and unregisters the fd, a
 * coroutine parked with vial_park wakes when another unparks it (or at its
 * timeout), and outside a coroutine the same calls block instead. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "coro_testutil.h"
#include "server/loop.h"
#include "vial.h"

static char order[64];
static size_t order_len;

static void setup(void) {
    cr_assert_eq(vial_loop_init(&loop, 0, 8), 0);
    order_len = 0;
    order[0] = '\0';
    jobs_done = 0;
}
static void teardown(void) { vial_loop_close(&loop); }

static void sleeper(void *arg) {
    int ms = (int)(intptr_t)arg;
    cr_assert(vial_in_coroutine());
    vial_sleep_ms(ms);
    order[order_len++] = (char)('0' + ms / 10);
    order[order_len] = '\0';
}

Test(loop, sleeps_wake_in_order_of_their_deadlines, .init = setup, .fini = teardown) {
    cr_assert_eq(vial_loop_current(), &loop);
    uint64_t began = vial_loop_update_now(&loop);
    start(sleeper, (void *)(intptr_t)60);
    start(sleeper, (void *)(intptr_t)20);
    start(sleeper, (void *)(intptr_t)40);
    cr_assert_eq(jobs_done, 0, "nobody woke before the loop ran");
    run_until(3);
    cr_assert_str_eq(order, "246");
    cr_assert_geq(loop.now - began, 60);
}

static void yielder(void *arg) {
    char c = *(char *)arg;
    for (int i = 0; i < 3; i++) {
        order[order_len++] = c;
        order[order_len] = '\0';
        vial_sleep_ms(0);
    }
}

Test(loop, sleep_zero_lets_the_others_run, .init = setup, .fini = teardown) {
    static char a = 'a', b = 'b';
    start(yielder, &a);
    start(yielder, &b);
    run_until(2);
    cr_assert_str_eq(order, "ababab");
}

static int pipe_fds[2];
static int wait_result;
static void pipe_reader(void *arg) {
    (void)arg;
    wait_result = vial_wait_fd(pipe_fds[0], VIAL_WAIT_READ, 5000);
    char c = 0;
    cr_assert_eq(read(pipe_fds[0], &c, 1), 1);
    order[order_len++] = c;
}
static void pipe_writer(void *arg) {
    (void)arg;
    vial_sleep_ms(20);
    cr_assert_eq(write(pipe_fds[1], "x", 1), 1);
}

Test(loop, wait_fd_wakes_when_the_fd_is_ready, .init = setup, .fini = teardown) {
    cr_assert_eq(pipe2(pipe_fds, O_NONBLOCK), 0);
    start(pipe_reader, NULL);
    start(pipe_writer, NULL);
    run_until(2);
    cr_assert_eq(wait_result, VIAL_WAIT_READ);
    cr_assert_eq(order[0], 'x');
    close(pipe_fds[0]);
    close(pipe_fds[1]);
}

static int timeouts[2];
static void waits_twice_in_vain(void *arg) {
    (void)arg;
    timeouts[0] = vial_wait_fd(pipe_fds[0], VIAL_WAIT_READ, 30);
    /* The fd was unregistered after the first wait: a second one works too. */
    timeouts[1] = vial_wait_fd(pipe_fds[0], VIAL_WAIT_READ, 10);
}

Test(loop, wait_fd_times_out_and_cleans_up, .init = setup, .fini = teardown) {
    cr_assert_eq(pipe2(pipe_fds, O_NONBLOCK), 0);
    start(waits_twice_in_vain, NULL);
    run_until(1);
    cr_assert_eq(timeouts[0], 0);
    cr_assert_eq(timeouts[1], 0);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
}

static int file_result = -5;
static void waits_on_a_file(void *arg) {
    int fd = *(int *)arg;
    file_result = vial_wait_fd(fd, VIAL_WAIT_READ | VIAL_WAIT_WRITE, 1000);
}

Test(loop, regular_files_are_always_ready, .init = setup, .fini = teardown) {
    char path[] = "/tmp/vial_loop_XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    unlink(path);
    start(waits_on_a_file, &fd);
    cr_assert_eq(jobs_done, 1, "no parking for a file");
    cr_assert_eq(file_result, VIAL_WAIT_READ | VIAL_WAIT_WRITE);
    close(fd);
}

Test(loop, outside_a_coroutine_the_calls_block) {
    cr_assert_not(vial_in_coroutine());
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    cr_assert_eq(vial_wait_fd(fds[0], VIAL_WAIT_READ, 20), 0, "nothing to read: timeout");
    cr_assert_eq(write(fds[1], "y", 1), 1);
    cr_assert_eq(vial_wait_fd(fds[0], VIAL_WAIT_READ, 1000), VIAL_WAIT_READ);
    cr_assert_eq(vial_wait_fd(-1, VIAL_WAIT_READ, 0), -1);
    vial_sleep_ms(5);
    close(fds[0]);
    close(fds[1]);
}

/* ---- vial_park / vial_unpark ---- */

static void *parked_slot;
static int park_result;
static void parker(void *arg) {
    int timeout = (int)(intptr_t)arg;
    note("a:park");
    park_result = vial_park(&parked_slot, timeout);
    note(park_result == 1 ? "a:woken" : park_result == 0 ? "a:timeout" : "a:error");
}
static void unparker(void *arg) {
    (void)arg;
    note(parked_slot ? "b:sees-parked" : "b:nobody");
    vial_unpark(&parked_slot);
    note(parked_slot ? "b:still-parked" : "b:unparked");
    vial_unpark(&parked_slot); /* twice: nothing more happens */
}

Test(loop, park_waits_until_another_coroutine_unparks_it, .init = setup, .fini = teardown) {
    events[0] = '\0';
    start(parker, (void *)(intptr_t)-1);
    cr_assert_eq(jobs_done, 0, "parked, not finished");
    start(unparker, NULL);
    run_until(2);
    cr_assert_str_eq(events, "a:park,b:sees-parked,b:unparked,a:woken");
    cr_assert_null(parked_slot);
}

Test(loop, park_times_out_and_clears_its_slot, .init = setup, .fini = teardown) {
    events[0] = '\0';
    start(parker, (void *)(intptr_t)30);
    run_until(1);
    cr_assert_str_eq(events, "a:park,a:timeout");
    cr_assert_null(parked_slot, "a late unpark finds nobody");
    start(unparker, NULL);
    run_until(2);
    cr_assert_str_eq(events, "a:park,a:timeout,b:nobody,b:unparked");
}

Test(loop, park_outside_a_coroutine_refuses) {
    void *slot = NULL;
    cr_assert_eq(vial_park(&slot, 10), -1);
    cr_assert_null(slot);
    vial_unpark(&slot); /* harmless */
}
