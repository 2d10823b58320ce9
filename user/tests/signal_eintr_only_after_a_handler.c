/*
 * signal_eintr_only_after_a_handler: a sleeping thread woken by a signal
 * that then runs no handler (here made SIG_IGN by another thread before
 * the sleeper runs again) does not see EINTR: Linux restarts the call,
 * nanosleep through restart_syscall with the time that was left, so it
 * returns 0 after the whole sleep. (On a kernel where the sleeper runs
 * first, the handler runs and EINTR is right: accepted.)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "refpage_test.h"

static volatile int handled;
static volatile pid_t sleeper_tid;
static volatile int result, result_errno;
static volatile uint64_t slept_ns;

static void on_usr1(int sig)
{
    (void)sig;
    handled++;
}

static void *sleeper(void *arg)
{
    (void)arg;
    sleeper_tid = syscall(SYS_gettid);
    struct timespec req = {0, 300 * 1000 * 1000}, rem = {-1, -1};
    uint64_t start = monotonic_ns();
    errno = 0;
    result = nanosleep(&req, &rem);
    result_errno = errno;
    slept_ns = monotonic_ns() - start;
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGUSR1, on_usr1);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, sleeper, NULL) == 0, "pthread_create");
    while (sleeper_tid == 0)
        sched_yield();
    struct timespec settle = {0, 50 * 1000 * 1000};
    nanosleep(&settle, NULL);
    CHECK(syscall(SYS_tgkill, getpid(), sleeper_tid, SIGUSR1) == 0, "tgkill: errno %d", errno);
    signal(SIGUSR1, SIG_IGN);
    pthread_join(t, NULL);
    if (handled) {
        CHECK(result == -1 && result_errno == EINTR, "the handler ran: nanosleep returned %d errno %d", result,
              result_errno);
        printf("signal_eintr_only_after_a_handler: the handler ran first: EINTR\n");
        return 0;
    }
    CHECK(result == 0, "no handler ran, yet nanosleep returned %d errno %d after %lu ms", result, result_errno,
          (unsigned long)(slept_ns / 1000000));
    CHECK(slept_ns >= 300 * 1000 * 1000ULL, "nanosleep(300 ms) returned 0 after %lu ms",
          (unsigned long)(slept_ns / 1000000));
    printf("signal_eintr_only_after_a_handler: no handler ran: nanosleep went on to the end (%lu ms)\n",
           (unsigned long)(slept_ns / 1000000));
    return 0;
}
