/* Coroutines: switching order, stack alignment, floating-point state kept
 * per coroutine, pooled reuse, the guard page below each stack. */
#include <criterion/criterion.h>
#include <fenv.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "server/coro.h"

static char trace[256];
static size_t trace_len;

static void note(char c) {
    if (trace_len < sizeof trace - 1) trace[trace_len++] = c;
    trace[trace_len] = '\0';
}

static void ping(void *arg) {
    char c = *(char *)arg;
    for (int i = 0; i < 3; i++) {
        note(c);
        vial_coro_yield();
    }
    note((char)(c - 'a' + 'A'));
}

Test(coro, resume_and_yield_interleave_in_order) {
    vial_coro_pool pool;
    vial_coro_pool_init(&pool, 0, 4);
    trace_len = 0;
    static char a = 'a', b = 'b';
    vial_coro *x = vial_coro_start(&pool, ping, &a);
    vial_coro *y = vial_coro_start(&pool, ping, &b);
    cr_assert(x && y && x != y);
    cr_assert_null(vial_coro_current());
    bool x_done = false, y_done = false;
    while (!x_done || !y_done) {
        if (!x_done) x_done = vial_coro_resume(x);
        if (!y_done) y_done = vial_coro_resume(y);
    }
    cr_assert_str_eq(trace, "abababAB");
    cr_assert_eq(pool.idle_count, 2);
    cr_assert_eq(pool.live_count, 2);
    vial_coro_pool_destroy(&pool);
    cr_assert_eq(pool.live_count, 0);
}

static vial_coro *seen_current;
static void record_current(void *arg) {
    (void)arg;
    seen_current = vial_coro_current();
}

Test(coro, current_is_the_running_coroutine) {
    vial_coro_pool pool;
    vial_coro_pool_init(&pool, 0, 1);
    vial_coro *co = vial_coro_start(&pool, record_current, NULL);
    vial_coro_set_data(co, &pool);
    cr_assert_eq(vial_coro_data(co), &pool);
    cr_assert(vial_coro_resume(co));
    cr_assert_eq(seen_current, co);
    cr_assert_null(vial_coro_current());
    vial_coro_pool_destroy(&pool);
}

static int jobs_run;
static void count_job(void *arg) {
    jobs_run += *(int *)arg;
    vial_coro_yield();
}

Test(coro, finished_coroutines_are_reused_with_their_stack) {
    vial_coro_pool pool;
    vial_coro_pool_init(&pool, 0, 8);
    static int one = 1;
    vial_coro *first = vial_coro_start(&pool, count_job, &one);
    cr_assert_not(vial_coro_resume(first));
    cr_assert(vial_coro_resume(first));
    for (int i = 0; i < 1000; i++) {
        vial_coro *co = vial_coro_start(&pool, count_job, &one);
        cr_assert_eq(co, first, "a warm idle coroutine is handed out again");
        cr_assert_not(vial_coro_resume(co));
        cr_assert(vial_coro_resume(co));
    }
    cr_assert_eq(jobs_run, 1001);
    cr_assert_eq(pool.live_count, 1);
    vial_coro_pool_destroy(&pool);
}

Test(coro, idle_pool_is_bounded) {
    vial_coro_pool pool;
    vial_coro_pool_init(&pool, 0, 3);
    static int zero = 0;
    vial_coro *cos[10];
    for (int i = 0; i < 10; i++) {
        cos[i] = vial_coro_start(&pool, count_job, &zero);
        cr_assert_not(vial_coro_resume(cos[i]));
    }
    cr_assert_eq(pool.live_count, 10);
    for (int i = 0; i < 10; i++) cr_assert(vial_coro_resume(cos[i]));
    cr_assert_eq(pool.idle_count, 3);
    cr_assert_eq(pool.live_count, 3);
    vial_coro_pool_destroy(&pool);
    cr_assert_eq(pool.live_count, 0);
}

/* Many coroutines, each summing with locals live across yields: the
 * callee-saved registers and the stack of each must survive the others. */
static long sums[64];
static void summer(void *arg) {
    int id = (int)(intptr_t)arg;
    long total = 0;
    double f = id * 0.5;
    for (int i = 0; i < 50; i++) {
        total += id * i;
        f += 0.25;
        vial_coro_yield();
    }
    sums[id] = total + (long)(f * 4);
}

Test(coro, many_coroutines_keep_their_state) {
    vial_coro_pool pool;
    vial_coro_pool_init(&pool, 16 * 1024, 64);
    vial_coro *cos[64];
    bool done[64] = {0};
    for (int i = 0; i < 64; i++) cos[i] = vial_coro_start(&pool, summer, (void *)(intptr_t)i);
    int remaining = 64;
    for (int round = 0; remaining > 0 && round < 1000; round++)
        for (int i = 63; i >= 0; i--)
            if (!done[i] && vial_coro_resume(cos[i])) {
                done[i] = true;
                remaining--;
            }
    cr_assert_eq(remaining, 0);
    for (int i = 0; i < 64; i++) cr_assert_eq(sums[i], (long)i * 1225 + (long)((i * 0.5 + 12.5) * 4), "coroutine %d", i);
    vial_coro_pool_destroy(&pool);
}

static uintptr_t aligned_addr;
static char formatted[64];
static void alignment_probe(void *arg) {
    (void)arg;
    _Alignas(16) char probe[16];
    memset(probe, 0, sizeof probe);
    aligned_addr = (uintptr_t)probe;
    /* printf of a double uses aligned SSE moves on x86-64: a misaligned stack faults. */
    snprintf(formatted, sizeof formatted, "%.3f %Lf", 3.14159, (long double)2.5);
}

Test(coro, stack_is_aligned_for_the_abi) {
    vial_coro_pool pool;
    vial_coro_pool_init(&pool, 0, 1);
    cr_assert(vial_coro_resume(vial_coro_start(&pool, alignment_probe, NULL)));
    cr_assert_eq(aligned_addr % 16, 0);
    cr_assert_str_eq(formatted, "3.142 2.500000");
    vial_coro_pool_destroy(&pool);
}

static int rounding_inside;
static void rounding_changer(void *arg) {
    (void)arg;
    fesetround(FE_UPWARD);
    vial_coro_yield();
    rounding_inside = fegetround();
    fesetround(FE_TONEAREST);
}

Test(coro, floating_point_control_is_per_coroutine) {
    vial_coro_pool pool;
    vial_coro_pool_init(&pool, 0, 1);
    cr_assert_eq(fegetround(), FE_TONEAREST);
    vial_coro *co = vial_coro_start(&pool, rounding_changer, NULL);
    cr_assert_not(vial_coro_resume(co));
    if (strcmp(vial_coro_backend, "ucontext") != 0)
        cr_assert_eq(fegetround(), FE_TONEAREST, "the coroutine's rounding mode leaked out");
    fesetround(FE_TONEAREST);
    cr_assert(vial_coro_resume(co));
    if (strcmp(vial_coro_backend, "ucontext") != 0) cr_assert_eq(rounding_inside, FE_UPWARD);
    vial_coro_pool_destroy(&pool);
}

static volatile char *guard_target;
static void write_below_stack(void *arg) {
    (void)arg;
    guard_target[0] = 1; /* the lowest usable byte: fine */
    guard_target[-1] = 1; /* the guard page: must fault */
}

Test(coro, guard_page_below_each_stack_faults) {
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        vial_coro_pool pool;
        vial_coro_pool_init(&pool, 0, 1);
        vial_coro *co = vial_coro_start(&pool, write_below_stack, NULL);
        void *lo;
        size_t size;
        vial_coro_stack(co, &lo, &size);
        guard_target = lo;
        vial_coro_resume(co);
        _exit(0); /* not reached when the guard works */
    }
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) != 0),
              "writing below the stack did not fault");
    if (WIFSIGNALED(status)) {
        int sig = WTERMSIG(status);
        /* ASan turns the SEGV into its own report and an abort. */
        cr_assert(sig == SIGSEGV || sig == SIGBUS || sig == SIGABRT, "signal %d", sig);
    }
}

Test(coro, backend_is_named) {
#if defined(__x86_64__) && !defined(VIAL_CORO_UCONTEXT)
    cr_assert_str_eq(vial_coro_backend, "x86_64");
#elif defined(__aarch64__) && !defined(VIAL_CORO_UCONTEXT)
    cr_assert_str_eq(vial_coro_backend, "aarch64");
#else
    cr_assert_str_eq(vial_coro_backend, "ucontext");
#endif
}
