/*
 * signal_nanosleep_interrupted_writes_remaining: a nanosleep cut short by
 * a handled signal fails with EINTR, even with SA_RESTART (Linux's
 * ERESTART_RESTARTBLOCK), and writes the time left to rem; so does a
 * relative clock_nanosleep (which returns EINTR itself). An absolute
 * clock_nanosleep returns EINTR and leaves rem alone. After a handler,
 * restart_syscall has nothing to continue: EINTR.
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

static void on_usr1(int sig)
{
    (void)sig;
    handled++;
}

static int64_t ns(const struct timespec *t)
{
    return t->tv_sec * 1000000000LL + t->tv_nsec;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_RESTART;
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction");

    pid_t pid = child_signals_parent(SIGUSR1, 100, 0, 0);
    struct timespec req = {2, 0}, rem = {-1, -1};
    uint64_t start = monotonic_ns();
    errno = 0;
    int r = nanosleep(&req, &rem);
    uint64_t slept = monotonic_ns() - start;
    CHECK(r == -1 && errno == EINTR && handled == 1,
          "nanosleep(2 s) with an SA_RESTART handler: returned %d errno %d, handler ran %d times; want -1 EINTR",
          r, errno, handled);
    CHECK(ns(&rem) > 0 && ns(&rem) <= 2000000000LL - (int64_t)slept + 20000000 && ns(&rem) >= 1000000000LL,
          "rem {%ld, %ld} after sleeping %lu ns of 2 s", (long)rem.tv_sec, rem.tv_nsec, (unsigned long)slept);
    waitpid(pid, NULL, 0);
    printf("signal_nanosleep_interrupted_writes_remaining: nanosleep: EINTR after %lu ms, rem %ld.%09ld s\n",
           (unsigned long)(slept / 1000000), (long)rem.tv_sec, rem.tv_nsec);

    errno = 0;
    long rs = syscall(SYS_restart_syscall);
    CHECK(rs == -1 && errno == EINTR, "restart_syscall after a handler: returned %ld errno %d, want EINTR", rs,
          errno);

    pid = child_signals_parent(SIGUSR1, 100, 0, 0);
    rem.tv_sec = rem.tv_nsec = -1;
    r = clock_nanosleep(CLOCK_MONOTONIC, 0, &req, &rem);
    CHECK(r == EINTR && handled == 2 && ns(&rem) >= 1000000000LL && ns(&rem) < 2000000000LL,
          "relative clock_nanosleep: returned %d, rem {%ld, %ld}, handled %d; want EINTR and the time left", r,
          (long)rem.tv_sec, rem.tv_nsec, handled);
    waitpid(pid, NULL, 0);

    pid = child_signals_parent(SIGUSR1, 100, 0, 0);
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += 2;
    rem.tv_sec = rem.tv_nsec = -1;
    r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, &rem);
    CHECK(r == EINTR && handled == 3 && rem.tv_sec == -1 && rem.tv_nsec == -1,
          "absolute clock_nanosleep: returned %d, rem {%ld, %ld}, handled %d; want EINTR, rem untouched", r,
          (long)rem.tv_sec, rem.tv_nsec, handled);
    waitpid(pid, NULL, 0);
    printf("signal_nanosleep_interrupted_writes_remaining: clock_nanosleep: EINTR, rem for the relative "
           "sleep only; restart_syscall: EINTR\n");
    return 0;
}
