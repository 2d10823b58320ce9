/*
 * futex_timed_wait_keeps_its_deadline_when_restarted: a FUTEX_WAIT with a
 * 300 ms timeout that signals keep cutting short, with no handler seeing
 * them (each is sent to the waiting thread with a handler installed, then
 * discarded by setting SIG_IGN before the thread runs), is restarted
 * through restart_syscall with its original deadline (Linux's
 * futex_wait_restart): it still ends with ETIMEDOUT about 300 ms after it
 * began, however many interruptions come. (Restarted from scratch, the
 * relative timeout started over at each one: 0.6 s with five, never with
 * interruptions more frequent than the timeout.) Where the handler did
 * run (another CPU took the signal first), the wait fails with EINTR and
 * is made again for the time left, as a program would.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "refpage_test.h"
#include "smp_test.h"

#define TIMEOUT_NS 300000000L

static atomic_int waiter_tid, done;
static unsigned word;
static long result, error, eintrs;
static double elapsed;

static void on_usr1(int sig)
{
    (void)sig;
}

static void *waiter(void *arg)
{
    (void)arg;
    atomic_store(&waiter_tid, (int)syscall(SYS_gettid));
    uint64_t start = monotonic_ns();
    for (;;) {
        long left = TIMEOUT_NS - (long)(monotonic_ns() - start);
        if (left < 0)
            left = 0;
        struct timespec timeout = {0, left};
        result = syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, &timeout, NULL, 0);
        error = errno;
        if (!(result == -1 && error == EINTR))
            break;
        eintrs++;
    }
    elapsed = (monotonic_ns() - start) / 1e9;
    atomic_store(&done, 1);
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* The interleaving this test needs is one CPU's (a woken thread runs
     * only when this one leaves the CPU): every thread stays on CPU 0. */
    CHECK(pin_to(0) == 0, "sched_setaffinity(CPU 0): errno %d", errno);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, waiter, NULL) == 0, "pthread_create");
    while (atomic_load(&waiter_tid) == 0)
        sched_yield();
    sleep_ns(50 * 1000000);
    int sent = 0;
    while (!atomic_load(&done) && sent < 10) {
        signal(SIGUSR1, on_usr1);
        syscall(SYS_tgkill, getpid(), atomic_load(&waiter_tid), SIGUSR1);
        signal(SIGUSR1, SIG_IGN);
        sent++;
        sleep_ns(50 * 1000000);
    }
    pthread_join(t, NULL);
    printf("futex_timed_wait_keeps_its_deadline_when_restarted: %d signals, %ld seen by the handler (EINTR); "
           "the wait ended after %.3f s with %ld (%s)\n",
           sent, eintrs, elapsed, result, result ? strerror((int)error) : "woken");
    CHECK(result == -1 && error == ETIMEDOUT, "the wait ended with %ld (%s), want ETIMEDOUT", result,
          strerror((int)error));
    CHECK(elapsed < 0.45, "the 300 ms wait took %.3f s: the interruptions put its deadline off", elapsed);
    return 0;
}
