/* The portable coroutine fallback (swapcontext), compiled here from coro.c
 * under other names so it is tested on every machine, next to the
 * assembly switch the library uses. */
#define VIAL_CORO_UCONTEXT 1
#define vial_coro_backend uctx_backend
#define vial_coro_pool_init uctx_pool_init
#define vial_coro_pool_destroy uctx_pool_destroy
#define vial_coro_start uctx_start
#define vial_coro_resume uctx_resume
#define vial_coro_yield uctx_yield
#define vial_coro_current uctx_current
#define vial_coro_set_data uctx_set_data
#define vial_coro_data uctx_data
#define vial_coro_stack uctx_stack
#include "server/coro.c"

#include <criterion/criterion.h>
#include <stdio.h>

static char trace[64];
static size_t trace_len;

static void ping(void *arg) {
    char c = *(char *)arg;
    for (int i = 0; i < 3; i++) {
        trace[trace_len++] = c;
        uctx_yield();
    }
}

Test(coro_ucontext, interleaves_and_reuses) {
    vial_coro_pool pool;
    uctx_pool_init(&pool, 0, 4);
    cr_assert_str_eq(uctx_backend, "ucontext");
    static char a = 'a', b = 'b';
    for (int round = 0; round < 50; round++) {
        trace_len = 0;
        vial_coro *x = uctx_start(&pool, ping, &a), *y = uctx_start(&pool, ping, &b);
        bool xd = false, yd = false;
        while (!xd || !yd) {
            if (!xd) xd = uctx_resume(x);
            if (!yd) yd = uctx_resume(y);
        }
        trace[trace_len] = '\0';
        cr_assert_str_eq(trace, "ababab");
    }
    cr_assert_eq(pool.live_count, 2, "finished coroutines were reused");
    uctx_pool_destroy(&pool);
}

static char formatted[32];
static uintptr_t probe_addr;
static void aligned(void *arg) {
    (void)arg;
    _Alignas(16) char probe[16] = {0};
    probe_addr = (uintptr_t)probe;
    snprintf(formatted, sizeof formatted, "%.2f", 2.5);
    cr_assert_eq(uctx_current() != NULL, true);
}

Test(coro_ucontext, stack_alignment_and_current) {
    vial_coro_pool pool;
    uctx_pool_init(&pool, 0, 1);
    cr_assert(uctx_resume(uctx_start(&pool, aligned, NULL)));
    cr_assert_eq(probe_addr % 16, 0);
    cr_assert_str_eq(formatted, "2.50");
    cr_assert_null(uctx_current());
    uctx_pool_destroy(&pool);
}
