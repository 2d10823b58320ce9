/*
 * signal_process_signal_goes_to_unblocking_thread: a signal sent to the
 * process (kill) goes to a thread that does not block it when the main
 * thread does (Linux's complete_signal), waking it from nanosleep; when
 * every thread blocks it, it stays pending for the process (sigpending
 * shows it in each thread) and the first thread to unblock it takes it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "refpage_test.h"

static volatile pid_t handled_by;
static volatile int handled;
static volatile int phase;
static volatile pid_t worker_tid;
static volatile int worker_saw_pending;

static void on_usr1(int sig)
{
    (void)sig;
    handled_by = syscall(SYS_gettid);
    handled++;
}

static void *worker(void *arg)
{
    (void)arg;
    sigset_t usr1, pending;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    worker_tid = syscall(SYS_gettid);
    /* Phase 1: SIGUSR1 unblocked here, asleep until it comes. */
    pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);
    struct timespec long_sleep = {5, 0};
    int r = nanosleep(&long_sleep, NULL);
    if (r != -1 || errno != EINTR)
        fprintf(stderr, "worker: nanosleep returned %d errno %d, want EINTR\n", r, errno);
    /* Phase 2: blocked here too; wait for main to send, then look. */
    pthread_sigmask(SIG_BLOCK, &usr1, NULL);
    phase = 2;
    while (phase != 3)
        sched_yield();
    sigpending(&pending);
    worker_saw_pending = sigismember(&pending, SIGUSR1);
    pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGUSR1, on_usr1);
    sigset_t usr1, pending;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &usr1, NULL);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, worker, NULL) == 0, "pthread_create");
    while (worker_tid == 0)
        sched_yield();
    struct timespec settle = {0, 50 * 1000 * 1000};
    nanosleep(&settle, NULL);

    CHECK(kill(getpid(), SIGUSR1) == 0, "kill: errno %d", errno);
    for (int i = 0; i < 1000 && !handled; i++)
        sched_yield();
    CHECK(handled == 1 && handled_by == worker_tid,
          "kill() while main blocks SIGUSR1: handled %d times, by tid %d; want once by the worker %d", handled,
          (int)handled_by, (int)worker_tid);
    printf("signal_process_signal_goes_to_unblocking_thread: the worker (tid %d) took the process's SIGUSR1\n",
           (int)worker_tid);

    while (phase != 2)
        sched_yield();
    CHECK(kill(getpid(), SIGUSR1) == 0, "kill: errno %d", errno);
    sigpending(&pending);
    CHECK(sigismember(&pending, SIGUSR1), "every thread blocks SIGUSR1: not pending for main");
    CHECK(handled == 1, "handled by someone while every thread blocks it");
    phase = 3;
    pthread_join(t, NULL);
    CHECK(worker_saw_pending, "every thread blocks SIGUSR1: not pending for the worker");
    CHECK(handled == 2 && handled_by == worker_tid,
          "after the worker unblocked SIGUSR1: handled %d times, last by %d; want twice, by the worker %d",
          handled, (int)handled_by, (int)worker_tid);
    sigpending(&pending);
    CHECK(!sigismember(&pending, SIGUSR1), "SIGUSR1 still pending after the worker took it");
    printf("signal_process_signal_goes_to_unblocking_thread: blocked by all, it stayed pending for the "
           "process until the worker unblocked it\n");
    return 0;
}
