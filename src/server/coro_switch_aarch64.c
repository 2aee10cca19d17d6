/* coro_switch_aarch64.c - the coroutine context switch for AArch64 (AAPCS64).
 *
 * Saves the callee-saved registers x19-x28, the frame pointer and link
 * register, d8-d15 (the low halves of v8-v15 the ABI preserves) and FPCR on
 * the stack being left; the context is the saved stack pointer. coro.c lays
 * out a new coroutine's first frame so that the first switch returns into
 * vial_coro_boot with the argument in x19 and the entry function in x20.
 * Top-level assembly in a C file, so the C-only build compiles it. */
#if defined(__aarch64__) && !defined(VIAL_CORO_UCONTEXT)

/* void vial_coro_switch(void **save_sp, void *load_sp) */
__asm__(".text\n"
        ".globl vial_coro_switch\n"
        ".hidden vial_coro_switch\n"
        ".type vial_coro_switch, %function\n"
        ".p2align 4\n"
        "vial_coro_switch:\n"
        "    sub sp, sp, #176\n"
        "    stp x19, x20, [sp, #0]\n"
        "    stp x21, x22, [sp, #16]\n"
        "    stp x23, x24, [sp, #32]\n"
        "    stp x25, x26, [sp, #48]\n"
        "    stp x27, x28, [sp, #64]\n"
        "    stp x29, x30, [sp, #80]\n"
        "    stp d8, d9, [sp, #96]\n"
        "    stp d10, d11, [sp, #112]\n"
        "    stp d12, d13, [sp, #128]\n"
        "    stp d14, d15, [sp, #144]\n"
        "    mrs x9, fpcr\n"
        "    str x9, [sp, #160]\n"
        "    mov x9, sp\n"
        "    str x9, [x0]\n"
        "    mov sp, x1\n"
        "    ldp x19, x20, [sp, #0]\n"
        "    ldp x21, x22, [sp, #16]\n"
        "    ldp x23, x24, [sp, #32]\n"
        "    ldp x25, x26, [sp, #48]\n"
        "    ldp x27, x28, [sp, #64]\n"
        "    ldp x29, x30, [sp, #80]\n"
        "    ldp d8, d9, [sp, #96]\n"
        "    ldp d10, d11, [sp, #112]\n"
        "    ldp d12, d13, [sp, #128]\n"
        "    ldp d14, d15, [sp, #144]\n"
        "    ldr x9, [sp, #160]\n"
        "    msr fpcr, x9\n"
        "    add sp, sp, #176\n"
        "    ret\n"
        ".size vial_coro_switch, .-vial_coro_switch\n"
        /* First code a coroutine runs: entry(arg); the entry never returns. */
        ".globl vial_coro_boot\n"
        ".hidden vial_coro_boot\n"
        ".type vial_coro_boot, %function\n"
        ".p2align 4\n"
        "vial_coro_boot:\n"
        "    .cfi_startproc\n"
        "    .cfi_undefined x30\n"
        "    mov x0, x19\n"
        "    blr x20\n"
        "    brk #0\n"
        "    .cfi_endproc\n"
        ".size vial_coro_boot, .-vial_coro_boot\n");

#else
typedef int vial_coro_switch_aarch64_unused; /* ISO C wants a declaration in every file */
#endif
