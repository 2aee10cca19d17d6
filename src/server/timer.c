/* timer.c - the hierarchical timer wheel.
 *
 * Level 0 holds timers due within 64 ms of the wheel's position, one slot per
 * millisecond; level n holds those due within 64^(n+1) ms, one slot per
 * 64^n ms. When level 0 wraps, the next slot of level 1 is "cascaded": its
 * timers are placed again, now precisely, and so on up the levels (the
 * classic Linux scheme). A timer placed by a cascade always lands in a slot
 * not yet processed, so nothing fires early or late by more than the 1 ms
 * tick. Occupancy bitmaps let next_ms() and advance() skip empty stretches
 * instead of walking them millisecond by millisecond. */
#include "server/timer.h"

#define SLOT_MASK ((uint64_t)VIAL_WHEEL_SLOTS - 1)
#define MAX_DELTA (((uint64_t)1 << (VIAL_WHEEL_LEVELS * VIAL_WHEEL_BITS)) - 1)

static inline void list_init(vial_timer_link *h) { h->next = h->prev = h; }

static inline bool list_empty(const vial_timer_link *h) { return h->next == h; }

static inline void list_push(vial_timer_link *h, vial_timer_link *n) {
    n->prev = h->prev;
    n->next = h;
    h->prev->next = n;
    h->prev = n;
}

static inline void list_unlink(vial_timer_link *n) {
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->next = n->prev = n;
}

void vial_wheel_init(vial_wheel *w, uint64_t now) {
    w->next_tick = now;
    w->count = 0;
    for (int l = 0; l < VIAL_WHEEL_LEVELS; l++) {
        w->occupied[l] = 0;
        for (int i = 0; i < VIAL_WHEEL_SLOTS; i++) list_init(&w->slots[l][i]);
    }
}

void vial_timer_init(vial_timer *t, vial_timer_fn fn) {
    list_init(&t->link);
    t->expires = 0;
    t->fn = fn;
    t->slot = -1;
    t->armed = false;
}

/* Puts an armed timer in the slot its expiry calls for. */
static void place(vial_wheel *w, vial_timer *t) {
    uint64_t expires = t->expires;
    int level, index;
    if (expires < w->next_tick) {
        /* Already due (a cascade, or a time in the past): the slot about to be processed. */
        level = 0;
        index = (int)(w->next_tick & SLOT_MASK);
    } else {
        uint64_t delta = expires - w->next_tick;
        if (delta > MAX_DELTA) {
            delta = MAX_DELTA;
            expires = w->next_tick + MAX_DELTA;
            t->expires = expires;
        }
        level = 0;
        while (level < VIAL_WHEEL_LEVELS - 1 && delta >= (uint64_t)1 << ((level + 1) * VIAL_WHEEL_BITS)) level++;
        index = (int)((expires >> (level * VIAL_WHEEL_BITS)) & SLOT_MASK);
    }
    list_push(&w->slots[level][index], &t->link);
    w->occupied[level] |= (uint64_t)1 << index;
    t->slot = (int16_t)(level * VIAL_WHEEL_SLOTS + index);
}

static void detach(vial_wheel *w, vial_timer *t) {
    list_unlink(&t->link);
    if (t->slot >= 0) {
        int level = t->slot / VIAL_WHEEL_SLOTS, index = t->slot % VIAL_WHEEL_SLOTS;
        if (list_empty(&w->slots[level][index])) w->occupied[level] &= ~((uint64_t)1 << index);
        t->slot = -1;
    }
}

void vial_timer_set(vial_wheel *w, vial_timer *t, uint64_t expires) {
    if (t->armed) {
        detach(w, t);
    } else {
        t->armed = true;
        w->count++;
    }
    t->expires = expires;
    place(w, t);
}

void vial_timer_cancel(vial_wheel *w, vial_timer *t) {
    if (!t->armed) return;
    detach(w, t);
    t->armed = false;
    w->count--;
}

/* Moves a slot's timers onto a private list so callbacks can rearm freely. */
static void take_slot(vial_wheel *w, int level, int index, vial_timer_link *out) {
    vial_timer_link *h = &w->slots[level][index];
    list_init(out);
    if (list_empty(h)) return;
    out->next = h->next;
    out->prev = h->prev;
    out->next->prev = out;
    out->prev->next = out;
    list_init(h);
    w->occupied[level] &= ~((uint64_t)1 << index);
    for (vial_timer_link *n = out->next; n != out; n = n->next) ((vial_timer *)n)->slot = -1;
}

/* Re-places the timers of level's current slot one level down (or into level 0). */
static void cascade(vial_wheel *w, int level) {
    int index = (int)((w->next_tick >> (level * VIAL_WHEEL_BITS)) & SLOT_MASK);
    vial_timer_link moving;
    take_slot(w, level, index, &moving);
    while (!list_empty(&moving)) {
        vial_timer *t = (vial_timer *)moving.next;
        list_unlink(&t->link);
        place(w, t);
    }
}

size_t vial_wheel_advance(vial_wheel *w, uint64_t now) {
    size_t fired = 0;
    while (w->next_tick <= now) {
        if (w->count == 0) {
            w->next_tick = now + 1;
            break;
        }
        uint64_t tick = w->next_tick;
        int index = (int)(tick & SLOT_MASK);
        if (index == 0) {
            /* Level 0 wrapped: bring the next stretch of each higher level
             * down, highest first, for as long as the lower one wrapped too. */
            int top = 1;
            while (top < VIAL_WHEEL_LEVELS - 1 && ((tick >> (top * VIAL_WHEEL_BITS)) & SLOT_MASK) == 0) top++;
            for (int l = top; l >= 1; l--) cascade(w, l);
        }
        if (w->occupied[0] & ((uint64_t)1 << index)) {
            vial_timer_link due;
            take_slot(w, 0, index, &due);
            w->next_tick = tick + 1;
            while (!list_empty(&due)) {
                vial_timer *t = (vial_timer *)due.next;
                list_unlink(&t->link);
                t->armed = false;
                w->count--;
                fired++;
                t->fn(t); /* may arm timers, which land at next_tick or later */
            }
            continue;
        }
        /* Nothing in this slot: jump to the next occupied level-0 slot, or to
         * the next wrap of level 0, whichever comes first (and not past now+1). */
        uint64_t jump;
        uint64_t rest = index == 63 ? 0 : w->occupied[0] >> (index + 1) << (index + 1);
        if (rest)
            jump = (tick & ~SLOT_MASK) + (uint64_t)__builtin_ctzll(rest);
        else
            jump = (tick | SLOT_MASK) + 1;
        if (jump > now + 1) jump = now + 1;
        w->next_tick = jump > tick ? jump : tick + 1;
    }
    return fired;
}

int64_t vial_wheel_next_ms(const vial_wheel *w, uint64_t now) {
    if (w->count == 0) return -1;
    uint64_t best = UINT64_MAX;
    uint64_t next = w->next_tick;
    /* Level 0: the nearest occupied slot at or after the current position. */
    int index0 = (int)(next & SLOT_MASK);
    uint64_t occ = w->occupied[0];
    if (occ) {
        uint64_t rotated = (occ >> index0) | (index0 ? occ << (64 - index0) : 0);
        best = next + (uint64_t)__builtin_ctzll(rotated);
    }
    /* Higher levels: a slot is processed (cascaded) when its stretch begins;
     * the current slot of a level is a full turn away. */
    for (int l = 1; l < VIAL_WHEEL_LEVELS; l++) {
        occ = w->occupied[l];
        if (!occ) continue;
        int shift = l * VIAL_WHEEL_BITS;
        int index = (int)((next >> shift) & SLOT_MASK);
        uint64_t rotated = (occ >> index) | (index ? occ << (64 - index) : 0);
        uint64_t ahead = rotated & ~(uint64_t)1;
        uint64_t steps = ahead ? (uint64_t)__builtin_ctzll(ahead) : 64;
        uint64_t when = ((next >> shift) + steps) << shift;
        if (when < best) best = when;
    }
    if (best <= now) return 0;
    return (int64_t)(best - now);
}
