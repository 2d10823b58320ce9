/*
 * signal_ignored_does_not_wake_a_sleeper: a signal the process ignores (SIG_IGN,
 * or a default that ignores, as SIGCHLD's) is dropped when it is sent
 * (Linux's prepare_signal / sig_ignored): it wakes no one. A thread in
 * rt_sigtimedwait for SIGUSR1 with a 200 ms timeout, sent SIGUSR2 (set to
 * SIG_IGN) and SIGCHLD by tgkill and SIGUSR2 by kill, still times out with
 * EAGAIN after the 200 ms. (It used to be woken and fail with EINTR at
 * once, with no handler having run.)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "refpage_test.h"

static atomic_int waiter_tid;
static int result, error;
static double elapsed;

static void *waiter(void *arg)
{
    (void)arg;
    atomic_store(&waiter_tid, (int)syscall(SYS_gettid));
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    struct timespec timeout = {0, 200000000};
    uint64_t start = monotonic_ns();
    result = sigtimedwait(&usr1, NULL, &timeout);
    error = errno;
    elapsed = (monotonic_ns() - start) / 1e9;
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    sigset_t usr1;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    CHECK(sigprocmask(SIG_BLOCK, &usr1, NULL) == 0, "sigprocmask");
    signal(SIGUSR2, SIG_IGN);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, waiter, NULL) == 0, "pthread_create");
    while (atomic_load(&waiter_tid) == 0)
        sched_yield();
    sleep_ns(50 * 1000000);
    syscall(SYS_tgkill, getpid(), atomic_load(&waiter_tid), SIGUSR2);
    syscall(SYS_tgkill, getpid(), atomic_load(&waiter_tid), SIGCHLD);
    kill(getpid(), SIGUSR2);
    pthread_join(t, NULL);
    printf("signal_ignored_does_not_wake_a_sleeper: sigtimedwait returned %d (%s) after %.3f s\n", result,
           strerror(error), elapsed);
    CHECK(result == -1 && error == EAGAIN && elapsed > 0.15,
          "sigtimedwait returned %d errno %d (%s) after %.3f s; want EAGAIN after 0.2 s: ignored signals woke it",
          result, error, strerror(error), elapsed);
    return 0;
}
