/*
 * vdso_signal_return_address: a handler installed by glibc's sigaction
 * (no SA_RESTORER on arm64) is entered with x30, its return address,
 * pointing at __kernel_rt_sigreturn@LINUX_2.6.39 in the vDSO (Linux's
 * setup_return), and x29 at the frame record; returning from it restores
 * the interrupted state. The same for a handler on the alternate stack and
 * for one that interrupts another.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "refpage_test.h"
#include "vdso_test.h"

static volatile uintptr_t lr_seen[2];
static volatile int depth, calls;

static void __attribute__((noinline)) handler(int sig)
{
    uintptr_t lr = (uintptr_t)__builtin_extract_return_addr(__builtin_return_address(0));
    int d = depth++;
    if (d < 2)
        lr_seen[d] = lr;
    calls++;
    if (sig == SIGUSR1)
        raise(SIGUSR2); /* nested: its handler returns through the vDSO too */
    depth--;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct vdso v;
    vdso_open(&v);
    uintptr_t sigreturn = (uintptr_t)vdso_sym(&v, "LINUX_2.6.39", "__kernel_rt_sigreturn");
    CHECK(sigreturn != 0, "no __kernel_rt_sigreturn@LINUX_2.6.39");

    static char altstack[64 * 1024];
    stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack), .ss_flags = 0 };
    CHECK(sigaltstack(&ss, NULL) == 0, "sigaltstack: errno %d", errno);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction: errno %d", errno);
    sa.sa_flags = SA_ONSTACK;
    CHECK(sigaction(SIGUSR2, &sa, NULL) == 0, "sigaction: errno %d", errno);

    volatile uint64_t canary = 0x1122334455667788ull;
    CHECK(raise(SIGUSR1) == 0, "raise: errno %d", errno);
    CHECK(calls == 2 && depth == 0, "handlers ran %d times, depth %d after", calls, depth);
    for (int i = 0; i < 2; i++)
        CHECK(lr_seen[i] == sigreturn && vdso_contains(&v, lr_seen[i]),
              "handler %d returned to %#lx; __kernel_rt_sigreturn is %#lx, the vDSO [%#lx, %#lx)", i,
              (unsigned long)lr_seen[i], (unsigned long)sigreturn, (unsigned long)v.base,
              (unsigned long)(v.base + v.len));
    CHECK(canary == 0x1122334455667788ull, "the interrupted frame's data changed");
    printf("vdso_signal_return_address: handlers (nested, one on the alternate stack) returned "
           "through __kernel_rt_sigreturn at %#lx in the vDSO at %#lx\n",
           (unsigned long)sigreturn, (unsigned long)v.base);
    return 0;
}
