/*
 * signal_futex_wait_timeout_keeps_deadline_on_restart: a FUTEX_WAIT with a
 * relative timeout, woken by a signal that then runs no handler (made
 * SIG_IGN by another thread before the waiter runs again), goes on to its
 * original deadline: Linux's futex_wait returns ERESTART_RESTARTBLOCK and
 * futex_wait_restart waits again until the same absolute time. Before, the
 * wait was made again with its whole timeout, so it ended one timeout
 * after the signal, not after the call. (On a kernel where the waiter runs
 * first, the handler runs and EINTR is right: accepted.)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "refpage_test.h"

#define TIMEOUT_MS 500
#define SIGNAL_AFTER_MS 300

static volatile int handled;
static volatile pid_t waiter_tid;
static volatile long result;
static volatile int result_errno;
static volatile uint64_t waited_ns;
static uint32_t word;

static void on_usr1(int sig)
{
    (void)sig;
    handled++;
}

static void *waiter(void *arg)
{
    (void)arg;
    waiter_tid = syscall(SYS_gettid);
    struct timespec timeout = {0, TIMEOUT_MS * 1000 * 1000};
    uint64_t start = monotonic_ns();
    errno = 0;
    result = syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, &timeout, NULL, 0);
    result_errno = errno;
    waited_ns = monotonic_ns() - start;
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGUSR1, on_usr1);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, waiter, NULL) == 0, "pthread_create");
    while (waiter_tid == 0)
        sched_yield();
    struct timespec settle = {0, SIGNAL_AFTER_MS * 1000 * 1000};
    nanosleep(&settle, NULL);
    CHECK(syscall(SYS_tgkill, getpid(), waiter_tid, SIGUSR1) == 0, "tgkill: errno %d", errno);
    signal(SIGUSR1, SIG_IGN);
    pthread_join(t, NULL);
    unsigned long ms = (unsigned long)(waited_ns / 1000000);
    if (handled) {
        CHECK(result == -1 && result_errno == EINTR, "the handler ran: futex returned %ld errno %d", result,
              result_errno);
        printf("signal_futex_wait_timeout_keeps_deadline_on_restart: the handler ran first: EINTR\n");
        return 0;
    }
    CHECK(result == -1 && result_errno == ETIMEDOUT, "no handler ran, yet futex returned %ld errno %d after %lu ms",
          result, result_errno, ms);
    CHECK(ms >= TIMEOUT_MS, "FUTEX_WAIT(%d ms) timed out after %lu ms", TIMEOUT_MS, ms);
    /* Started over at the signal, it would end near SIGNAL_AFTER_MS + TIMEOUT_MS. */
    CHECK(ms < TIMEOUT_MS + SIGNAL_AFTER_MS / 2,
          "FUTEX_WAIT(%d ms) interrupted after %d ms timed out after %lu ms: the timeout started over", TIMEOUT_MS,
          SIGNAL_AFTER_MS, ms);
    printf("signal_futex_wait_timeout_keeps_deadline_on_restart: no handler ran: the %d ms wait timed out after "
           "%lu ms, its deadline kept\n",
           TIMEOUT_MS, ms);
    return 0;
}
