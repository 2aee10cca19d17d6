/* coro.c - coroutines: stacks, the first frame, resume and yield.
 *
 * The register switch itself is a few lines of assembly per architecture
 * (coro_switch_x86_64.c, coro_switch_aarch64.c); elsewhere, or when built
 * with -DVIAL_CORO_UCONTEXT, swapcontext(3) does the job (slower: it saves
 * the signal mask with a system call). Each stack is its own mapping with a
 * PROT_NONE guard page at the bottom, so an overflow faults instead of
 * silently writing over a neighbour. A coroutine's entry never returns: it
 * runs jobs in a loop, marking each finished and yielding, which is how a
 * pooled coroutine takes its next job without rebuilding its first frame.
 *
 * Under AddressSanitizer every switch is announced with
 * __sanitizer_start_switch_fiber / __sanitizer_finish_switch_fiber so ASan
 * knows which stack is live; a reused stack is unpoisoned before its next job.
 * Under Valgrind each stack is registered so memcheck and callgrind follow it. */
#include "server/coro.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if !defined(VIAL_CORO_UCONTEXT) && !defined(__x86_64__) && !defined(__aarch64__)
#define VIAL_CORO_UCONTEXT 1
#endif

#ifdef VIAL_CORO_UCONTEXT
#include <ucontext.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
#define CORO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CORO_ASAN 1
#endif
#endif
#ifdef CORO_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define CORO_VALGRIND 1
#endif
#endif

#ifdef VIAL_CORO_UCONTEXT
const char vial_coro_backend[] = "ucontext";
typedef ucontext_t coro_ctx;
#else
#if defined(__x86_64__)
const char vial_coro_backend[] = "x86_64";
#else
const char vial_coro_backend[] = "aarch64";
#endif
typedef struct coro_ctx {
    void *sp;
} coro_ctx;
void vial_coro_switch(void **save_sp, void *load_sp);
void vial_coro_boot(void);
#endif

struct vial_coro {
    coro_ctx ctx;
    vial_coro_fn fn;
    void *arg;
    void *data;
    vial_coro_pool *pool;
    vial_coro *next_idle;
    char *map;       /* the whole mapping: guard page, then the stack */
    size_t map_size;
    char *stack_lo;  /* lowest usable byte, right above the guard page */
    size_t stack_size;
    bool finished;   /* its current job returned */
#ifdef CORO_ASAN
    void *fake_stack;
#endif
#ifdef CORO_VALGRIND
    unsigned valgrind_id;
#endif
};

/* Per thread: where resume() came from, and what runs now. */
static _Thread_local coro_ctx sched_ctx;
static _Thread_local vial_coro *running;
#ifdef CORO_ASAN
static _Thread_local void *sched_fake_stack;
static _Thread_local const void *sched_stack_bottom;
static _Thread_local size_t sched_stack_size;
#endif

static size_t page_size(void) {
    static size_t cached;
    if (!cached) {
        long p = sysconf(_SC_PAGESIZE);
        cached = p > 0 ? (size_t)p : 4096;
    }
    return cached;
}

void vial_coro_pool_init(vial_coro_pool *pool, size_t stack_size, size_t max_idle) {
    if (stack_size == 0) {
#ifdef CORO_ASAN
        stack_size = 256 * 1024; /* ASan's redzones make frames several times larger */
#else
        stack_size = 64 * 1024;
#endif
    }
    size_t pg = page_size();
    if (stack_size < 4 * pg) stack_size = 4 * pg;
    stack_size = (stack_size + pg - 1) / pg * pg;
    memset(pool, 0, sizeof *pool);
    pool->stack_size = stack_size;
    pool->max_idle = max_idle;
}

static void coro_destroy(vial_coro *co) {
#ifdef CORO_VALGRIND
    VALGRIND_STACK_DEREGISTER(co->valgrind_id);
#endif
    co->pool->live_count--;
    munmap(co->map, co->map_size);
    free(co);
}

void vial_coro_pool_destroy(vial_coro_pool *pool) {
    while (pool->idle) {
        vial_coro *co = pool->idle;
        pool->idle = co->next_idle;
        pool->idle_count--;
        coro_destroy(co);
    }
}

/* Switches from the context saved in *from to the one in *to. */
static inline void ctx_switch(coro_ctx *from, coro_ctx *to) {
#ifdef VIAL_CORO_UCONTEXT
    swapcontext(from, to);
#else
    vial_coro_switch(&from->sp, to->sp);
#endif
}

#ifdef CORO_ASAN
static inline void asan_enter(void **fake_save, const void *bottom, size_t size) {
    __sanitizer_start_switch_fiber(fake_save, bottom, size);
}
#endif

/* The body of every coroutine: run jobs until the stack is unmapped. */
static void coro_main(vial_coro *co) {
#ifdef CORO_ASAN
    __sanitizer_finish_switch_fiber(NULL, &sched_stack_bottom, &sched_stack_size);
#endif
    for (;;) {
        co->fn(co->arg);
        co->finished = true;
        vial_coro_yield();
    }
}

#ifdef VIAL_CORO_UCONTEXT
/* getcontext "returns twice" as far as the compiler knows (nobody ever
 * setcontext()s back to it here); kept out of line so coro_create's locals
 * need no protection from that. */
__attribute__((noinline)) static int capture_context(ucontext_t *ctx) { return getcontext(ctx); }

/* makecontext passes int arguments: the pointer travels in two halves. */
static void coro_main_ucontext(unsigned hi, unsigned lo) {
    uintptr_t p = ((uintptr_t)hi << 16 << 16) | (uintptr_t)lo;
    coro_main((vial_coro *)p);
}
#endif

static vial_coro *coro_create(vial_coro_pool *pool) {
    size_t pg = page_size();
    vial_coro *co = calloc(1, sizeof *co);
    if (!co) return NULL;
    co->map_size = pool->stack_size + pg;
    co->map = mmap(NULL, co->map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (co->map == MAP_FAILED) {
        free(co);
        return NULL;
    }
    if (mprotect(co->map, pg, PROT_NONE) != 0) {
        munmap(co->map, co->map_size);
        free(co);
        return NULL;
    }
    co->stack_lo = co->map + pg;
    co->stack_size = pool->stack_size;
    co->pool = pool;
    pool->live_count++;
#ifdef CORO_VALGRIND
    co->valgrind_id = VALGRIND_STACK_REGISTER(co->stack_lo, co->stack_lo + co->stack_size);
#endif
#ifdef VIAL_CORO_UCONTEXT
    capture_context(&co->ctx);
    co->ctx.uc_stack.ss_sp = co->stack_lo;
    co->ctx.uc_stack.ss_size = co->stack_size;
    co->ctx.uc_link = NULL;
    uintptr_t p = (uintptr_t)co;
    makecontext(&co->ctx, (void (*)(void))coro_main_ucontext, 2, (unsigned)(p >> 16 >> 16), (unsigned)p);
#else
    /* The first frame, read by vial_coro_switch's epilogue: it pops the
     * control words and six registers, then returns into vial_coro_boot with
     * the stack 16-byte aligned as a call site expects. */
    uintptr_t top = ((uintptr_t)co->stack_lo + co->stack_size) & ~(uintptr_t)15;
#if defined(__x86_64__)
    uint64_t *frame = (uint64_t *)(top - 64);
    memset(frame, 0, 64);
    uint32_t mxcsr = 0x1F80;   /* all exceptions masked, round to nearest */
    uint16_t x87_cw = 0x037F;  /* the same for x87 */
    memcpy((char *)frame, &mxcsr, 4);
    memcpy((char *)frame + 4, &x87_cw, 2);
    frame[3] = (uint64_t)(uintptr_t)coro_main; /* r13 */
    frame[4] = (uint64_t)(uintptr_t)co;        /* r12 */
    frame[6] = 0;                              /* rbp: ends frame-pointer walks */
    frame[7] = (uint64_t)(uintptr_t)vial_coro_boot;
    co->ctx.sp = frame;
#else
    uint64_t *frame = (uint64_t *)(top - 176);
    memset(frame, 0, 176);
    frame[0] = (uint64_t)(uintptr_t)co;             /* x19 */
    frame[1] = (uint64_t)(uintptr_t)coro_main;      /* x20 */
    frame[10] = 0;                                  /* x29 */
    frame[11] = (uint64_t)(uintptr_t)vial_coro_boot; /* x30 */
    co->ctx.sp = frame;
#endif
#endif
    return co;
}

vial_coro *vial_coro_start(vial_coro_pool *pool, vial_coro_fn fn, void *arg) {
    vial_coro *co = pool->idle;
    if (co) {
        pool->idle = co->next_idle;
        pool->idle_count--;
#if defined(CORO_ASAN) && !defined(VIAL_CORO_UCONTEXT)
        /* A frame the previous job left without returning (a noreturn call)
         * may still be poisoned. Everything below the saved stack pointer is
         * dead, so it is all handed back clean to the next job. */
        __asan_unpoison_memory_region(co->stack_lo, (size_t)((char *)co->ctx.sp - co->stack_lo));
#endif
    } else {
        co = coro_create(pool);
        if (!co) return NULL;
    }
    co->fn = fn;
    co->arg = arg;
    co->data = NULL;
    co->finished = false;
    co->next_idle = NULL;
    return co;
}

bool vial_coro_resume(vial_coro *co) {
    running = co;
#ifdef CORO_ASAN
    asan_enter(&sched_fake_stack, co->stack_lo, co->stack_size);
#endif
    ctx_switch(&sched_ctx, &co->ctx);
#ifdef CORO_ASAN
    __sanitizer_finish_switch_fiber(sched_fake_stack, NULL, NULL);
#endif
    running = NULL;
    if (!co->finished) return false;
    vial_coro_pool *pool = co->pool;
    if (pool->idle_count < pool->max_idle) {
        co->next_idle = pool->idle;
        pool->idle = co;
        pool->idle_count++;
    } else {
        coro_destroy(co);
    }
    return true;
}

void vial_coro_yield(void) {
    vial_coro *co = running;
#ifdef CORO_ASAN
    asan_enter(&co->fake_stack, sched_stack_bottom, sched_stack_size);
#endif
    ctx_switch(&co->ctx, &sched_ctx);
#ifdef CORO_ASAN
    __sanitizer_finish_switch_fiber(co->fake_stack, &sched_stack_bottom, &sched_stack_size);
#endif
}

vial_coro *vial_coro_current(void) { return running; }

void vial_coro_set_data(vial_coro *co, void *data) { co->data = data; }

void *vial_coro_data(const vial_coro *co) { return co->data; }

void vial_coro_stack(const vial_coro *co, void **lowest, size_t *size) {
    *lowest = co->stack_lo;
    *size = co->stack_size;
}
