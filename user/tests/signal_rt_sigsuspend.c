/*
 * signal_rt_sigsuspend: sigsuspend(mask) waits with `mask` blocked until a
 * handler runs, then fails with EINTR with the old mask back; the handler
 * runs with the temporary mask (plus its signal) and its frame restores
 * the old one. A signal already pending that the temporary mask unblocks
 * ends it at once. A sigset size other than 8 is EINVAL, an unreadable
 * mask EFAULT.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "refpage_test.h"

static volatile int handled, usr2_blocked_in_handler = -1;

static void on_signal(int sig)
{
    sigset_t now;
    (void)sig;
    sigprocmask(SIG_SETMASK, NULL, &now);
    usr2_blocked_in_handler = sigismember(&now, SIGUSR2);
    handled++;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGUSR1, on_signal);
    signal(SIGUSR2, on_signal);
    sigset_t usr1, none, now;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigemptyset(&none);
    sigprocmask(SIG_BLOCK, &usr1, NULL);

    pid_t pid = child_signals_parent(SIGUSR1, 100, 0, 0);
    sigset_t only_usr2;
    sigemptyset(&only_usr2);
    sigaddset(&only_usr2, SIGUSR2);
    errno = 0;
    int r = sigsuspend(&only_usr2);
    CHECK(r == -1 && errno == EINTR && handled == 1,
          "sigsuspend: returned %d errno %d, handled %d; want -1 EINTR after the handler", r, errno, handled);
    CHECK(usr2_blocked_in_handler == 1, "the handler did not run with sigsuspend's mask (SIGUSR2 blocked)");
    sigprocmask(SIG_SETMASK, NULL, &now);
    CHECK(sigismember(&now, SIGUSR1) && !sigismember(&now, SIGUSR2),
          "after sigsuspend the mask is not the old one (SIGUSR1 blocked, SIGUSR2 not)");
    waitpid(pid, NULL, 0);
    printf("signal_rt_sigsuspend: woke for SIGUSR1 with EINTR; handler under the temporary mask; old mask back\n");

    raise(SIGUSR1);
    CHECK(handled == 1, "SIGUSR1 is blocked, yet handled");
    r = sigsuspend(&none);
    CHECK(r == -1 && errno == EINTR && handled == 2, "sigsuspend with SIGUSR1 pending: %d errno %d, handled %d",
          r, errno, handled);
    printf("signal_rt_sigsuspend: a pending signal it unblocks ends it at once\n");

    CHECK_ERRNO(syscall(SYS_rt_sigsuspend, &none, 16), EINVAL);
    CHECK_ERRNO(syscall(SYS_rt_sigsuspend, (void *)8, 8), EFAULT);
    printf("signal_rt_sigsuspend: size 16 -> EINVAL, bad mask -> EFAULT\n");
    return 0;
}
