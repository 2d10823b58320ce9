/*
 * signal_sigprocmask_pending: a blocked signal stays pending (sigpending
 * shows it; a second raise does not queue a second instance of a standard
 * signal) and is delivered exactly when sigprocmask unblocks it, before
 * that call returns, once. While a handler runs its own signal and its
 * sa_mask are blocked, and the old mask comes back when it returns.
 * SIGKILL and SIGSTOP cannot be blocked: the kernel silently drops them.
 * rt_sigpending takes any size up to 8 bytes and writes that many (EINVAL
 * above).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "refpage_test.h"

static volatile int phase, seen_in_phase = -1, calls;
static sigset_t mask_in_handler;

static void on_usr1(int sig)
{
    (void)sig;
    calls++;
    seen_in_phase = phase;
    sigprocmask(SIG_BLOCK, NULL, &mask_in_handler);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR2);
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction: errno %d", errno);

    sigset_t usr1, pending, now;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    CHECK(sigprocmask(SIG_BLOCK, &usr1, NULL) == 0, "sigprocmask(SIG_BLOCK): errno %d", errno);
    phase = 1;
    raise(SIGUSR1);
    raise(SIGUSR1);
    CHECK(calls == 0, "SIGUSR1 blocked: the handler ran %d times", calls);
    CHECK(sigpending(&pending) == 0 && sigismember(&pending, SIGUSR1),
          "sigpending does not show the blocked SIGUSR1");
    printf("signal_sigprocmask_pending: blocked SIGUSR1 raised twice: not delivered, sigpending "
           "shows it\n");

    phase = 2;
    CHECK(sigprocmask(SIG_UNBLOCK, &usr1, NULL) == 0, "sigprocmask(SIG_UNBLOCK): errno %d", errno);
    int calls_at_return = calls;
    phase = 3;
    CHECK(calls_at_return == 1 && seen_in_phase == 2,
          "after unblocking: the handler ran %d times by the time sigprocmask returned, in phase "
          "%d; want once, during the unblocking call (phase 2)", calls_at_return, seen_in_phase);
    CHECK(sigpending(&pending) == 0 && !sigismember(&pending, SIGUSR1),
          "SIGUSR1 still pending after delivery");
    printf("signal_sigprocmask_pending: unblocking delivers it once, before sigprocmask returns\n");

    CHECK(sigismember(&mask_in_handler, SIGUSR1) && sigismember(&mask_in_handler, SIGUSR2),
          "in the handler SIGUSR1 blocked %d, SIGUSR2 (sa_mask) blocked %d",
          sigismember(&mask_in_handler, SIGUSR1), sigismember(&mask_in_handler, SIGUSR2));
    CHECK(sigprocmask(SIG_BLOCK, NULL, &now) == 0 && !sigismember(&now, SIGUSR1) &&
              !sigismember(&now, SIGUSR2),
          "after the handler the mask still blocks SIGUSR1 %d / SIGUSR2 %d",
          sigismember(&now, SIGUSR1), sigismember(&now, SIGUSR2));
    printf("signal_sigprocmask_pending: in the handler SIGUSR1 and sa_mask's SIGUSR2 were "
           "blocked; restored after\n");

    sigset_t all;
    sigfillset(&all);
    CHECK(sigprocmask(SIG_SETMASK, &all, NULL) == 0, "sigprocmask(all): errno %d", errno);
    CHECK(sigprocmask(SIG_BLOCK, NULL, &now) == 0, "sigprocmask: errno %d", errno);
    CHECK(!sigismember(&now, SIGKILL) && !sigismember(&now, SIGSTOP) && sigismember(&now, SIGUSR1),
          "blocking everything: SIGKILL %d, SIGSTOP %d, SIGUSR1 %d in the mask",
          sigismember(&now, SIGKILL), sigismember(&now, SIGSTOP), sigismember(&now, SIGUSR1));
    printf("signal_sigprocmask_pending: SIGKILL and SIGSTOP are never in the mask\n");
    CHECK_ERRNO(sigprocmask(42, &usr1, NULL), EINVAL);

    raise(SIGUSR1);
    uint64_t words[2] = {~0ull, ~0ull};
    long r = syscall(SYS_rt_sigpending, words, 4);
    CHECK(r == 0 && words[0] == (0xffffffff00000000ull | 1ull << (SIGUSR1 - 1)) && words[1] == ~0ull,
          "rt_sigpending(4 bytes): returned %ld errno %d, wrote %#llx %#llx; want 4 bytes with SIGUSR1", r, errno,
          (unsigned long long)words[0], (unsigned long long)words[1]);
    CHECK_ERRNO(syscall(SYS_rt_sigpending, words, 16), EINVAL);
    printf("signal_sigprocmask_pending: rt_sigpending writes the size asked, up to 8 bytes\n");
    return 0;
}
