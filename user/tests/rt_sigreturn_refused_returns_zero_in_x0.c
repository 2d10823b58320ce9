/*
 * rt_sigreturn_refused_returns_zero_in_x0: a frame rt_sigreturn refuses
 * still has its registers taken (Linux's restore_sigframe reads them
 * before it checks the records), and the call then returns 0, as Linux's
 * badframe path does (arm64_notify_segfault; return 0): the SIGSEGV
 * handler that follows sees x0 = 0 in its uc_mcontext, with x1 and the pc
 * as the refused frame held them. (The refused call used to leave the
 * frame's x0.)
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

#include "refpage_test.h"

#define FRAME_X0 0x1234567812345678ul
#define FRAME_X1 0x0badc0de0badc0deul

static sigjmp_buf back;
static volatile uint64_t seen_x0, seen_x1, seen_pc, want_pc;
static volatile int seen_code;

static void on_usr1(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    (void)sig, (void)si;
    uc->uc_mcontext.regs[0] = FRAME_X0;
    uc->uc_mcontext.regs[1] = FRAME_X1;
    want_pc = uc->uc_mcontext.pc;
    /* An unknown record where fpsimd_context should be: refused. */
    struct _aarch64_ctx *first = (struct _aarch64_ctx *)uc->uc_mcontext.__reserved;
    first->magic = 0x12345678;
}

static void on_segv(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    (void)sig;
    seen_code = si->si_code;
    seen_x0 = uc->uc_mcontext.regs[0];
    seen_x1 = uc->uc_mcontext.regs[1];
    seen_pc = uc->uc_mcontext.pc;
    siglongjmp(back, 1);
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_flags = SA_SIGINFO;
    sa.sa_sigaction = on_usr1;
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction SIGUSR1");
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    CHECK(sigaction(SIGSEGV, &sa, NULL) == 0, "sigaction SIGSEGV");
    if (sigsetjmp(back, 1) == 0) {
        raise(SIGUSR1);
        CHECK(0, "rt_sigreturn accepted a frame without fpsimd_context");
    }
    printf("rt_sigreturn_refused_returns_zero_in_x0: SIGSEGV si_code %d, x0 %#lx, x1 %#lx, pc %s\n", seen_code,
           (unsigned long)seen_x0, (unsigned long)seen_x1, seen_pc == want_pc ? "the frame's" : "elsewhere");
    CHECK(seen_x0 == 0, "after a refused rt_sigreturn x0 is %#lx, want 0 (Linux's badframe returns 0)",
          (unsigned long)seen_x0);
    CHECK(seen_x1 == FRAME_X1, "x1 is %#lx, want the refused frame's %#lx", (unsigned long)seen_x1, FRAME_X1);
    CHECK(seen_pc == want_pc, "pc is %#lx, want the refused frame's %#lx", (unsigned long)seen_pc,
          (unsigned long)want_pc);
    return 0;
}
