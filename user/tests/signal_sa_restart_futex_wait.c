/*
 * signal_sa_restart_futex_wait: FUTEX_WAIT without a timeout, interrupted
 * by a signal whose handler has SA_RESTART, is restarted (Linux's
 * ERESTARTSYS) and returns 0 when woken later; without SA_RESTART it fails
 * with EINTR; with a timeout it fails with EINTR even with SA_RESTART.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "refpage_test.h"

static volatile int handled;
static volatile int word;
static volatile pid_t waiter_tid;
static volatile long result, result_errno;
static struct timespec timeout = {5, 0};
static volatile int with_timeout;

static void on_usr1(int sig)
{
    (void)sig;
    handled++;
}

static void *waiter(void *arg)
{
    (void)arg;
    waiter_tid = syscall(SYS_gettid);
    errno = 0;
    result = syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, with_timeout ? &timeout : NULL, NULL, 0);
    result_errno = errno;
    return NULL;
}

/* Starts a waiter, interrupts it with SIGUSR1, then wakes it. */
static void run(int flags, int timed)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_usr1;
    sa.sa_flags = flags;
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction");
    handled = 0;
    word = 0;
    waiter_tid = 0;
    with_timeout = timed;
    pthread_t t;
    CHECK(pthread_create(&t, NULL, waiter, NULL) == 0, "pthread_create");
    while (waiter_tid == 0)
        sched_yield();
    struct timespec settle = {0, 50 * 1000 * 1000};
    nanosleep(&settle, NULL);
    CHECK(syscall(SYS_tgkill, getpid(), waiter_tid, SIGUSR1) == 0, "tgkill: errno %d", errno);
    nanosleep(&settle, NULL);
    word = 1;
    syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    pthread_join(t, NULL);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    run(SA_RESTART, 0);
    CHECK(result == 0 && handled == 1,
          "FUTEX_WAIT, SA_RESTART handler: returned %ld errno %ld, handled %d; want 0 after the wake, handled once",
          result, result_errno, handled);
    printf("signal_sa_restart_futex_wait: SA_RESTART: the wait restarted and the wake ended it\n");
    run(0, 0);
    CHECK(result == -1 && result_errno == EINTR && handled == 1,
          "FUTEX_WAIT, handler without SA_RESTART: returned %ld errno %ld, handled %d; want EINTR", result,
          result_errno, handled);
    run(SA_RESTART, 1);
    CHECK(result == -1 && result_errno == EINTR && handled == 1,
          "FUTEX_WAIT with a timeout, SA_RESTART handler: returned %ld errno %ld, handled %d; want EINTR", result,
          result_errno, handled);
    printf("signal_sa_restart_futex_wait: without SA_RESTART, or with a timeout: EINTR\n");
    return 0;
}
