/* timer.h - a hierarchical timer wheel (internal to the server).
 *
 * Every connection has a timeout that moves with each request (header, body,
 * idle keep-alive, write), and handlers sleep; so timers are armed and
 * cancelled far more often than they fire. The wheel makes both O(1) list
 * operations on an intrusive node, with no allocation and no system call:
 * time is the loop's cached millisecond clock. Five levels of 64 slots cover
 * 2^30 ms (about 12 days) at 1 ms resolution; longer timeouts are clamped. */
#ifndef VIAL_SERVER_TIMER_H
#define VIAL_SERVER_TIMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VIAL_WHEEL_LEVELS 5
#define VIAL_WHEEL_BITS 6
#define VIAL_WHEEL_SLOTS (1 << VIAL_WHEEL_BITS)

typedef struct vial_timer_link {
    struct vial_timer_link *next, *prev;
} vial_timer_link;

typedef struct vial_timer vial_timer;
typedef void (*vial_timer_fn)(vial_timer *t);

struct vial_timer {
    vial_timer_link link; /* first: a slot's list head is a bare link */
    uint64_t expires;     /* absolute ms */
    vial_timer_fn fn;
    int16_t slot;         /* level * 64 + index while armed, -1 while firing or idle */
    bool armed;
};

typedef struct vial_wheel {
    uint64_t next_tick; /* the first ms not processed yet */
    size_t count;       /* armed timers */
    uint64_t occupied[VIAL_WHEEL_LEVELS]; /* bit i: slot i of that level holds timers */
    vial_timer_link slots[VIAL_WHEEL_LEVELS][VIAL_WHEEL_SLOTS];
} vial_wheel;

/* Starts an empty wheel at time now (ms). */
void vial_wheel_init(vial_wheel *w, uint64_t now);
/* Prepares a timer that calls fn when it fires. */
void vial_timer_init(vial_timer *t, vial_timer_fn fn);
/* Arms (or moves) t to fire at expires; a time already past fires at the
 * first tick not yet processed (at most 1 ms after the last advance). */
void vial_timer_set(vial_wheel *w, vial_timer *t, uint64_t expires);
/* Disarms t (nothing happens when it is not armed). */
void vial_timer_cancel(vial_wheel *w, vial_timer *t);
/* True while t waits to fire. */
static inline bool vial_timer_armed(const vial_timer *t) { return t->armed; }
/* Fires every timer due at or before now, in order of slots; returns how many fired.
 * A callback may arm or cancel any timer, including others due in the same call. */
size_t vial_wheel_advance(vial_wheel *w, uint64_t now);
/* Milliseconds from now until the wheel next needs advance(): 0 when a timer
 * is due, -1 when none is armed. Never later than the earliest expiry. */
int64_t vial_wheel_next_ms(const vial_wheel *w, uint64_t now);

#endif
