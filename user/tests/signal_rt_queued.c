/*
 * signal_rt_queued: real-time signals (SIGRTMIN..SIGRTMAX) are queued:
 * raised three times while blocked, SIGRTMIN is delivered three times when
 * unblocked, whereas a standard signal (SIGUSR1) raised three times while
 * blocked is delivered once. Pending real-time signals go lowest number
 * first (SIGRTMIN before SIGRTMIN+1), after standard ones.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "refpage_test.h"

static volatile int order[16], n;

static void handler(int sig)
{
    if (n < 16)
        order[n] = sig;
    n++;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    int sigs[] = {SIGUSR1, SIGRTMIN, SIGRTMIN + 1};
    sigset_t set;
    sigemptyset(&set);
    for (int i = 0; i < 3; i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = handler;
        sigemptyset(&sa.sa_mask);
        sigaddset(&sa.sa_mask, SIGUSR1);
        sigaddset(&sa.sa_mask, SIGRTMIN);
        sigaddset(&sa.sa_mask, SIGRTMIN + 1);
        CHECK(sigaction(sigs[i], &sa, NULL) == 0, "sigaction(%d): errno %d", sigs[i], errno);
        sigaddset(&set, sigs[i]);
    }
    CHECK(sigprocmask(SIG_BLOCK, &set, NULL) == 0, "sigprocmask: errno %d", errno);
    for (int k = 0; k < 3; k++) {
        raise(SIGRTMIN + 1);
        raise(SIGRTMIN);
        raise(SIGUSR1);
    }
    CHECK(n == 0, "%d deliveries while blocked", n);
    CHECK(sigprocmask(SIG_UNBLOCK, &set, NULL) == 0, "sigprocmask: errno %d", errno);

    int usr1 = 0, rt0 = 0, rt1 = 0;
    for (int i = 0; i < n && i < 16; i++) {
        usr1 += order[i] == SIGUSR1;
        rt0 += order[i] == SIGRTMIN;
        rt1 += order[i] == SIGRTMIN + 1;
    }
    CHECK(usr1 == 1, "SIGUSR1 raised 3 times while blocked was delivered %d times, want 1", usr1);
    CHECK(rt0 == 3 && rt1 == 3,
          "SIGRTMIN (%d) and SIGRTMIN+1 raised 3 times each while blocked were delivered %d and %d "
          "times, want 3 and 3 (real-time signals queue)", SIGRTMIN, rt0, rt1);
    CHECK(order[0] == SIGUSR1 && order[1] == SIGRTMIN && order[4] == SIGRTMIN + 1,
          "delivery order %d %d .. %d ..., want SIGUSR1, then SIGRTMIN x3, then SIGRTMIN+1 x3",
          order[0], order[1], order[4]);
    printf("signal_rt_queued: SIGUSR1 x3 -> 1 delivery; SIGRTMIN x3 -> 3, SIGRTMIN+1 x3 -> 3, in "
           "number order\n");
    return 0;
}
