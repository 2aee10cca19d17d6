/* coro.h - stackful coroutines for request handlers (internal to the server).
 *
 * A coroutine runs a function on its own stack and can park itself
 * (vial_coro_yield) so the worker's loop runs other requests until the thing
 * it waits for is ready, then resumes it exactly where it stopped. Stacks are
 * mmap'd with a PROT_NONE guard page below them and pooled: a finished
 * coroutine keeps its stack and is handed the next job, so a request costs
 * two context switches and no allocation. One thread resumes coroutines (the
 * worker's loop); a coroutine never resumes another. */
#ifndef VIAL_SERVER_CORO_H
#define VIAL_SERVER_CORO_H

#include <stdbool.h>
#include <stddef.h>

typedef struct vial_coro vial_coro;
typedef void (*vial_coro_fn)(void *arg);

/* Finished coroutines kept for reuse, with their stacks. */
typedef struct vial_coro_pool {
    size_t stack_size; /* usable bytes per stack, page-rounded */
    size_t max_idle;   /* idle coroutines kept; more are unmapped */
    size_t idle_count;
    size_t live_count; /* created and not destroyed (idle + running/parked) */
    vial_coro *idle;   /* LIFO: the most recently used stack is the warmest */
} vial_coro_pool;

/* The name of the context-switch implementation compiled in ("x86_64", "aarch64", "ucontext"). */
extern const char vial_coro_backend[];

/* Sets up an empty pool: stacks of stack_size bytes (0: 64 KiB; 256 KiB under ASan), max_idle kept. */
void vial_coro_pool_init(vial_coro_pool *pool, size_t stack_size, size_t max_idle);
/* Unmaps every idle coroutine. Coroutines still parked are not owned by the pool. */
void vial_coro_pool_destroy(vial_coro_pool *pool);

/* A coroutine that will run fn(arg) when first resumed; NULL when out of memory. */
vial_coro *vial_coro_start(vial_coro_pool *pool, vial_coro_fn fn, void *arg);
/* Runs co until it yields (returns false) or its function returns (returns
 * true: co went back to its pool and must not be used again). Only from
 * outside any coroutine. */
bool vial_coro_resume(vial_coro *co);
/* Parks the running coroutine and returns to whoever resumed it. */
void vial_coro_yield(void);
/* The coroutine running on this thread, NULL on the scheduler's own stack. */
vial_coro *vial_coro_current(void);

/* A word of the caller's own (who to wake, what it waits for). */
void vial_coro_set_data(vial_coro *co, void *data);
void *vial_coro_data(const vial_coro *co);

/* The bounds of a coroutine's usable stack (tests check the guard page lies below). */
void vial_coro_stack(const vial_coro *co, void **lowest, size_t *size);

#endif
