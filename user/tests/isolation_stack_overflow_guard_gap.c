/*
 * isolation_stack_overflow_guard_gap: unbounded recursion runs the main
 * thread's stack down to its limit (RLIMIT_STACK, 8 MiB) and into the
 * unmapped gap below it. The next push ends the process with SIGSEGV,
 * si_code SEGV_MAPERR (Linux: no area there and the stack may not grow
 * further, so do_page_fault gives VM_FAULT_BADMAP), si_addr about
 * RLIMIT_STACK below where main's frame is. The handler runs on an alternate stack.
 *
 * qemu-user (make user-test-linux) is not Linux here: its guard page is a
 * PROT_NONE mapping, so it reports SEGV_ACCERR. The test accepts either
 * and prints the name it saw; tests/run.sh checks this kernel's line.
 */
#include <sys/resource.h>

#include "refpage_test.h"

#define FRAME 1024

static __attribute__((noinline)) int recurse(int depth)
{
    volatile char frame[FRAME];
    frame[0] = (char)depth;
    /* A bound no stack reaches: keeps the compiler from calling the
     * recursion infinite, and the call from becoming a loop. */
    if (depth == 1 << 30)
        return 0;
    return recurse(depth + 1) + frame[0];
}

static void overflow(void *unused)
{
    (void)unused;
    recurse(0);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct rlimit limit;
    CHECK(getrlimit(RLIMIT_STACK, &limit) == 0, "getrlimit: errno %d", errno);
    uintptr_t top = (uintptr_t)&limit;

    struct caught r = fault_in_child(overflow, NULL, 0);
    /* The stack above main's frame (argv, envp, auxv) is far less than
     * 256 KiB, and the fault comes within one frame of the limit. */
    CHECK(r.signo == SIGSEGV && (r.code == SEGV_MAPERR || r.code == SEGV_ACCERR),
          "overflow: want SIGSEGV SEGV_MAPERR; saw signo %d si_code %d si_addr %#lx", r.signo, r.code,
          (unsigned long)r.addr);
    uintptr_t depth = top - r.addr;
    CHECK(depth > limit.rlim_cur - 256 * 1024 && depth <= limit.rlim_cur + FRAME,
          "overflow: si_addr %#lx is %#lx below main's frame, want about RLIMIT_STACK %#lx below",
          (unsigned long)r.addr, (unsigned long)depth, (unsigned long)limit.rlim_cur);
    CHECK(r.fault_address == r.addr, "overflow: fault_address %#lx, si_addr %#lx", (unsigned long)r.fault_address,
          (unsigned long)r.addr);
    printf("isolation_stack_overflow_guard_gap: recursion to %#lx below main's frame (RLIMIT_STACK %#lx) -> "
           "SIGSEGV %s\n", (unsigned long)depth, (unsigned long)limit.rlim_cur,
           r.code == SEGV_MAPERR ? "SEGV_MAPERR" : "SEGV_ACCERR");
    return 0;
}
