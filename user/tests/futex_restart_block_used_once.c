/*
 * futex_restart_block_used_once: a timed FUTEX_WAIT that a signal cut
 * short, with no handler seeing it, goes on through restart_syscall
 * (Linux's futex_wait_restart), which first resets the restart block to
 * do_no_restart_syscall: once that wait has ended, a restart_syscall the
 * program makes itself returns EINTR, not the same futex wait again.
 *
 * The signal is sent to the waiting thread with a handler installed, then
 * discarded by setting SIG_IGN before the thread runs (as in
 * futex_timed_wait_keeps_its_deadline_when_restarted).
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

static atomic_int waiter_tid, done;
static unsigned word;
static long wait_result, wait_error, again_result, again_error;

static void on_usr1(int sig)
{
    (void)sig;
}

static void *waiter(void *arg)
{
    (void)arg;
    atomic_store(&waiter_tid, (int)syscall(SYS_gettid));
    struct timespec timeout = {0, 200000000};
    wait_result = syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, &timeout, NULL, 0);
    wait_error = errno;
    atomic_store(&done, 1);
    again_result = syscall(SYS_restart_syscall);
    again_error = errno;
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
    signal(SIGUSR1, on_usr1);
    syscall(SYS_tgkill, getpid(), atomic_load(&waiter_tid), SIGUSR1);
    signal(SIGUSR1, SIG_IGN);
    pthread_join(t, NULL);
    CHECK(wait_result == -1 && wait_error == ETIMEDOUT, "the interrupted wait ended with %ld (%s), want ETIMEDOUT",
          wait_result, strerror((int)wait_error));
    CHECK(again_result == -1 && again_error == EINTR,
          "restart_syscall after the restarted wait ended returned %ld (%s), want -1 EINTR (the restart block "
          "is used once)", again_result, again_result ? strerror((int)again_error) : "0");
    printf("futex_restart_block_used_once: the wait timed out, then restart_syscall returned EINTR\n");
    return 0;
}
