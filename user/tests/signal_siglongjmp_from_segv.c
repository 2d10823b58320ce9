/*
 * signal_siglongjmp_from_segv: a load from address 0x10 (nothing is mapped
 * there) raises SIGSEGV with si_code SEGV_MAPERR and si_addr 0x10; the
 * handler leaves with siglongjmp to a sigsetjmp(env, 1) point, which
 * restores the signal mask saved there, so SIGSEGV is not left blocked and
 * the same fault is caught again the second time (a forced SIGSEGV that is
 * blocked would kill the program instead).
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "refpage_test.h"

static sigjmp_buf env;
static volatile int jumps;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
    caught_record(sig, si, uc);
    siglongjmp(env, 1);
}

/* Laundered so the compiler does not treat the load as undefined. */
static volatile unsigned char *volatile low = (volatile unsigned char *)0x10;

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGSEGV, &sa, NULL) == 0, "sigaction: errno %d", errno);

    struct caught *c = caught();
    for (int round = 1; round <= 2; round++) {
        if (sigsetjmp(env, 1) == 0) {
            uintptr_t pc;
            uint64_t v = load_byte_at(low, &pc);
            CHECK(0, "round %d: the load from 0x10 returned %#lx", round, (unsigned long)v);
        }
        jumps++;
        CHECK(c->count == round && c->signo == SIGSEGV && c->code == SEGV_MAPERR && c->addr == 0x10,
              "round %d: want SIGSEGV SEGV_MAPERR at 0x10; saw %s", round, caught_str());
        sigset_t now;
        CHECK(sigprocmask(SIG_BLOCK, NULL, &now) == 0, "sigprocmask: errno %d", errno);
        CHECK(!sigismember(&now, SIGSEGV), "round %d: after siglongjmp SIGSEGV is still blocked",
              round);
        printf("signal_siglongjmp_from_segv: round %d: load from 0x10 -> SIGSEGV SEGV_MAPERR, "
               "si_addr 0x10; siglongjmp back, SIGSEGV unblocked\n", round);
    }
    CHECK(jumps == 2, "%d jumps", jumps);
    return 0;
}
