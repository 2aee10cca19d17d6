/* The timer wheel: exact firing times against a brute-force model, rearming
 * and cancelling (also from callbacks), long jumps, clamping, next_ms. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>

#include "server/timer.h"

typedef struct probe {
    vial_timer timer;
    uint64_t fired_at; /* the 'now' of the advance that fired it, 0 = not yet */
    int fire_count;
} probe;

static uint64_t clock_now;

static void on_fire(vial_timer *t) {
    probe *p = (probe *)t;
    p->fired_at = clock_now;
    p->fire_count++;
}

static size_t advance_to(vial_wheel *w, uint64_t now) {
    clock_now = now;
    return vial_wheel_advance(w, now);
}

Test(timer, fires_exactly_when_due) {
    vial_wheel w;
    vial_wheel_init(&w, 1000);
    probe p = {0};
    vial_timer_init(&p.timer, on_fire);
    vial_timer_set(&w, &p.timer, 1005);
    cr_assert(vial_timer_armed(&p.timer));
    cr_assert_eq(vial_wheel_next_ms(&w, 1000), 5);
    cr_assert_eq(advance_to(&w, 1004), 0);
    cr_assert_eq(p.fire_count, 0);
    cr_assert_eq(advance_to(&w, 1005), 1);
    cr_assert_eq(p.fired_at, 1005);
    cr_assert_not(vial_timer_armed(&p.timer));
    cr_assert_eq(vial_wheel_next_ms(&w, 1005), -1);
    cr_assert_eq(advance_to(&w, 5000), 0);
    cr_assert_eq(p.fire_count, 1);
}

Test(timer, past_expiry_fires_on_the_next_tick) {
    vial_wheel w;
    vial_wheel_init(&w, 500);
    advance_to(&w, 700);
    probe p = {0};
    vial_timer_init(&p.timer, on_fire);
    vial_timer_set(&w, &p.timer, 10);
    /* Every ms up to 700 is processed: the earliest it can fire is 701. */
    cr_assert_eq(vial_wheel_next_ms(&w, 700), 1);
    cr_assert_eq(advance_to(&w, 700), 0);
    cr_assert_eq(advance_to(&w, 701), 1);
    cr_assert_eq(p.fire_count, 1);
}

Test(timer, cancel_and_rearm) {
    vial_wheel w;
    vial_wheel_init(&w, 0);
    probe a = {0}, b = {0};
    vial_timer_init(&a.timer, on_fire);
    vial_timer_init(&b.timer, on_fire);
    vial_timer_cancel(&w, &a.timer); /* not armed: nothing happens */
    vial_timer_set(&w, &a.timer, 100);
    vial_timer_set(&w, &b.timer, 100);
    vial_timer_cancel(&w, &a.timer);
    vial_timer_set(&w, &b.timer, 9000); /* moved to a higher level */
    cr_assert_eq(w.count, 1);
    advance_to(&w, 8999);
    cr_assert_eq(a.fire_count + b.fire_count, 0);
    advance_to(&w, 9000);
    cr_assert_eq(b.fire_count, 1);
    cr_assert_eq(b.fired_at, 9000);
    cr_assert_eq(a.fire_count, 0);
    cr_assert_eq(w.count, 0);
}

/* Callbacks that rearm themselves and cancel a sibling due in the same slot. */
static probe chain[3];
static vial_wheel *chain_wheel;
static void chain_fire(vial_timer *t) {
    probe *p = (probe *)t;
    p->fire_count++;
    p->fired_at = clock_now;
    if (p == &chain[0]) {
        vial_timer_cancel(chain_wheel, &chain[1].timer);
        if (p->fire_count < 3) vial_timer_set(chain_wheel, &p->timer, clock_now + 70);
    }
}

Test(timer, callbacks_may_rearm_and_cancel_siblings) {
    vial_wheel w;
    vial_wheel_init(&w, 0);
    chain_wheel = &w;
    for (int i = 0; i < 3; i++) vial_timer_init(&chain[i].timer, chain_fire);
    vial_timer_set(&w, &chain[0].timer, 50);
    vial_timer_set(&w, &chain[1].timer, 50);
    vial_timer_set(&w, &chain[2].timer, 50);
    advance_to(&w, 50);
    cr_assert_eq(chain[0].fire_count, 1);
    cr_assert_eq(chain[1].fire_count, 0, "cancelled by a sibling's callback");
    cr_assert_eq(chain[2].fire_count, 1);
    for (uint64_t t = 51; t <= 400; t++) advance_to(&w, t);
    cr_assert_eq(chain[0].fire_count, 3);
    cr_assert_eq(chain[0].fired_at, 190);
    cr_assert_eq(w.count, 0);
}

/* Random timers against a model: each fires once, at the first advance whose
 * 'now' reaches its expiry; next_ms never promises a wake-up after the
 * earliest expiry. */
Test(timer, random_timers_match_a_model) {
    enum { N = 20000 };
    probe *ps = calloc(N, sizeof *ps);
    uint64_t *due = calloc(N, sizeof *due);
    cr_assert(ps && due);
    vial_wheel w;
    uint64_t start = 123456789;
    vial_wheel_init(&w, start);
    srand(42);
    uint64_t now = start;
    clock_now = now;
    for (int i = 0; i < N; i++) {
        vial_timer_init(&ps[i].timer, on_fire);
        uint64_t spread = (uint64_t[]){50, 5000, 300000, 20000000}[i % 4];
        due[i] = now + (uint64_t)rand() % spread;
        vial_timer_set(&w, &ps[i].timer, due[i]);
    }
    /* Cancel every 7th; move every 11th. */
    for (int i = 0; i < N; i += 7) vial_timer_cancel(&w, &ps[i].timer);
    for (int i = 5; i < N; i += 11)
        if (vial_timer_armed(&ps[i].timer)) {
            due[i] = now + (uint64_t)rand() % 100000;
            vial_timer_set(&w, &ps[i].timer, due[i]);
        }
    int steps = 0;
    while (w.count > 0 && steps < 2000000) {
        int64_t wait = vial_wheel_next_ms(&w, now);
        cr_assert_geq(wait, 0);
        uint64_t earliest = UINT64_MAX;
        for (int i = 0; i < N; i += 97)
            if (vial_timer_armed(&ps[i].timer) && due[i] < earliest) earliest = due[i];
        if (earliest != UINT64_MAX) cr_assert_leq(now + (uint64_t)wait, earliest > now ? earliest : now);
        /* Sometimes sleep exactly as told, sometimes less, sometimes oversleep. */
        uint64_t step = steps % 3 == 0 ? (uint64_t)wait : steps % 3 == 1 ? (uint64_t)rand() % 300 : (uint64_t)wait + (uint64_t)rand() % 5000;
        now += step;
        advance_to(&w, now);
        for (int i = (steps * 13) % 101; i < N; i += 101)
            if (!vial_timer_armed(&ps[i].timer) && i % 7 != 0) cr_assert_leq(due[i], now);
        steps++;
    }
    cr_assert_eq(w.count, 0);
    for (int i = 0; i < N; i++) {
        if (i % 7 == 0) {
            cr_assert_eq(ps[i].fire_count, 0, "cancelled timer %d fired", i);
            continue;
        }
        cr_assert_eq(ps[i].fire_count, 1, "timer %d fired %d times", i, ps[i].fire_count);
        cr_assert_geq(ps[i].fired_at, due[i], "timer %d fired early", i);
    }
    free(ps);
    free(due);
}

/* Fired at the first advance reaching the expiry: checked with 1 ms steps. */
Test(timer, one_ms_steps_fire_on_the_exact_tick) {
    enum { N = 3000 };
    probe *ps = calloc(N, sizeof *ps);
    vial_wheel w;
    vial_wheel_init(&w, 7);
    srand(7);
    for (int i = 0; i < N; i++) {
        vial_timer_init(&ps[i].timer, on_fire);
        vial_timer_set(&w, &ps[i].timer, 7 + 1 + (uint64_t)rand() % 300000);
    }
    uint64_t expect[N];
    for (int i = 0; i < N; i++) expect[i] = ps[i].timer.expires;
    for (uint64_t t = 7; t <= 300010; t++) advance_to(&w, t);
    for (int i = 0; i < N; i++) cr_assert_eq(ps[i].fired_at, expect[i], "timer %d", i);
    free(ps);
}

Test(timer, huge_delays_are_clamped_not_lost) {
    vial_wheel w;
    vial_wheel_init(&w, 0);
    probe p = {0};
    vial_timer_init(&p.timer, on_fire);
    vial_timer_set(&w, &p.timer, UINT64_MAX / 2);
    int64_t wait = vial_wheel_next_ms(&w, 0);
    cr_assert_gt(wait, 0);
    uint64_t now = 0;
    for (int i = 0; i < 100 && p.fire_count == 0; i++) {
        now += (uint64_t)vial_wheel_next_ms(&w, now);
        advance_to(&w, now);
    }
    cr_assert_eq(p.fire_count, 1);
    cr_assert_geq(now, ((uint64_t)1 << 30) - 1);
}
