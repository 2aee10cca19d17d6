/* coro_switch_x86_64.c - the coroutine context switch for x86-64 (System V).
 *
 * A switch saves only what the ABI says a call preserves: rbx, rbp, r12-r15,
 * the stack pointer, and the SSE/x87 control words (rounding modes belong to
 * a thread of execution, so each coroutine keeps its own). Everything goes on
 * the stack being left; the context is just the saved stack pointer. coro.c
 * lays out a new coroutine's first frame so that the first switch "returns"
 * into vial_coro_boot with the entry function in r13 and its argument in r12.
 * Written as top-level assembly in a C file so the C-only build compiles it. */
#if defined(__x86_64__) && !defined(VIAL_CORO_UCONTEXT)

/* void vial_coro_switch(void **save_sp, void *load_sp) */
__asm__(".text\n"
        ".globl vial_coro_switch\n"
        ".hidden vial_coro_switch\n"
        ".type vial_coro_switch, @function\n"
        ".p2align 4\n"
        "vial_coro_switch:\n"
        "    pushq %rbp\n"
        "    pushq %rbx\n"
        "    pushq %r12\n"
        "    pushq %r13\n"
        "    pushq %r14\n"
        "    pushq %r15\n"
        "    subq $8, %rsp\n"
        "    stmxcsr (%rsp)\n"
        "    fnstcw 4(%rsp)\n"
        "    movq %rsp, (%rdi)\n"
        "    movq %rsi, %rsp\n"
        "    ldmxcsr (%rsp)\n"
        "    fldcw 4(%rsp)\n"
        "    addq $8, %rsp\n"
        "    popq %r15\n"
        "    popq %r14\n"
        "    popq %r13\n"
        "    popq %r12\n"
        "    popq %rbx\n"
        "    popq %rbp\n"
        "    ret\n"
        ".size vial_coro_switch, .-vial_coro_switch\n"
        /* First code a coroutine runs: entry(arg). The entry never returns;
         * the undefined return address ends debugger backtraces here. */
        ".globl vial_coro_boot\n"
        ".hidden vial_coro_boot\n"
        ".type vial_coro_boot, @function\n"
        ".p2align 4\n"
        "vial_coro_boot:\n"
        "    .cfi_startproc\n"
        "    .cfi_undefined rip\n"
        "    movq %r12, %rdi\n"
        "    callq *%r13\n"
        "    ud2\n"
        "    .cfi_endproc\n"
        ".size vial_coro_boot, .-vial_coro_boot\n");

#else
typedef int vial_coro_switch_x86_64_unused; /* ISO C wants a declaration in every file */
#endif
