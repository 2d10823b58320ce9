/*
 * signal_rt_sigtimedwait: sigtimedwait takes a pending signal of its set
 * without running the handler and fills siginfo (tgkill: SI_TKILL and the
 * sender, read with the raw system call as glibc's wrapper folds SI_TKILL
 * into SI_USER; sigqueue: SI_QUEUE and the value); with nothing pending it waits
 * up to the timeout and fails with EAGAIN (at once for a zero timeout);
 * another signal's handler cuts the wait short with EINTR; a bad timeout
 * is EINVAL, a sigset size other than 8 EINVAL.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "refpage_test.h"

static volatile int handled;

static void on_signal(int sig)
{
    (void)sig;
    handled++;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGUSR1, on_signal);
    signal(SIGUSR2, on_signal);
    signal(SIGRTMIN, on_signal);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGRTMIN);
    sigprocmask(SIG_BLOCK, &set, NULL);

    raise(SIGUSR1);
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    struct timespec zero = {0, 0}, short_wait = {0, 50 * 1000 * 1000};
    int r = syscall(SYS_rt_sigtimedwait, &set, &si, &zero, 8);
    CHECK(r == SIGUSR1 && si.si_signo == SIGUSR1 && si.si_code == SI_TKILL && si.si_pid == getpid() &&
              handled == 0,
          "sigtimedwait with SIGUSR1 pending: %d, si_signo %d si_code %d si_pid %d, handled %d", r, si.si_signo,
          si.si_code, si.si_pid, handled);

    union sigval v = {.sival_int = 42};
    CHECK(sigqueue(getpid(), SIGRTMIN, v) == 0, "sigqueue: errno %d", errno);
    r = sigwaitinfo(&set, &si);
    CHECK(r == SIGRTMIN && si.si_code == SI_QUEUE && si.si_value.sival_int == 42 && si.si_pid == getpid(),
          "sigwaitinfo after sigqueue: %d, si_code %d, value %d, si_pid %d", r, si.si_code, si.si_value.sival_int,
          si.si_pid);
    printf("signal_rt_sigtimedwait: took SIGUSR1 (SI_TKILL) and SIGRTMIN (SI_QUEUE, value 42) without "
           "handlers\n");

    errno = 0;
    CHECK(sigtimedwait(&set, &si, &zero) == -1 && errno == EAGAIN, "nothing pending, zero timeout: errno %d",
          errno);
    uint64_t start = monotonic_ns();
    errno = 0;
    r = sigtimedwait(&set, &si, &short_wait);
    uint64_t waited = monotonic_ns() - start;
    CHECK(r == -1 && errno == EAGAIN && waited >= 45 * 1000 * 1000,
          "nothing pending, 50 ms timeout: %d errno %d after %lu ms", r, errno, (unsigned long)(waited / 1000000));
    printf("signal_rt_sigtimedwait: nothing pending: EAGAIN at once, or after the timeout (%lu ms)\n",
           (unsigned long)(waited / 1000000));

    pid_t pid = child_signals_parent(SIGUSR2, 100, 0, 0);
    struct timespec long_wait = {5, 0};
    errno = 0;
    r = sigtimedwait(&set, &si, &long_wait);
    CHECK(r == -1 && errno == EINTR && handled == 1, "SIGUSR2 (handled, not waited for): %d errno %d, handled %d",
          r, errno, handled);
    waitpid(pid, NULL, 0);
    printf("signal_rt_sigtimedwait: another signal's handler: EINTR\n");

    struct timespec bad = {0, 1000000000};
    CHECK_ERRNO(sigtimedwait(&set, &si, &bad), EINVAL);
    CHECK_ERRNO(syscall(SYS_rt_sigtimedwait, &set, &si, &zero, 16), EINVAL);
    printf("signal_rt_sigtimedwait: tv_nsec 1e9 -> EINVAL, size 16 -> EINVAL\n");
    return 0;
}
