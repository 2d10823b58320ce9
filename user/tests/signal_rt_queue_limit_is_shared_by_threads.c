/*
 * signal_rt_queue_limit_is_shared_by_threads: RLIMIT_SIGPENDING limits the
 * real-time signals queued by all of a user's tasks together (Linux's
 * user_struct.sigpending), not each queue: four threads, each blocking
 * SIGRTMIN and queueing it to itself with rt_tgsigqueueinfo until EAGAIN,
 * queue no more than the limit between them. (With a limit per queue, a
 * few hundred threads filling their own queues exhausted the kernel heap:
 * a panic from EL0.) Then every one queued is delivered.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "refpage_test.h"

#define THREADS 4

static long limit;
static long queued[THREADS];
static int errors[THREADS];
static volatile long handled;
static pthread_barrier_t all_queued;

static void on_rt(int sig)
{
    (void)sig;
    __atomic_fetch_add(&handled, 1, __ATOMIC_RELAXED);
}

static void *queue_until_full(void *arg)
{
    long i = (long)arg;
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_code = SI_QUEUE;
    pid_t tid = syscall(SYS_gettid);
    while (queued[i] <= limit) {
        if (syscall(SYS_rt_tgsigqueueinfo, getpid(), tid, SIGRTMIN, &si) != 0) {
            errors[i] = errno;
            break;
        }
        queued[i]++;
    }
    /* Every thread's queue stays full until all have tried. */
    pthread_barrier_wait(&all_queued);
    sigset_t rt;
    sigemptyset(&rt);
    sigaddset(&rt, SIGRTMIN);
    pthread_sigmask(SIG_UNBLOCK, &rt, NULL);
    return NULL;
}

int main(void)
{
    struct rlimit rl;
    CHECK(getrlimit(RLIMIT_SIGPENDING, &rl) == 0, "getrlimit(RLIMIT_SIGPENDING): %s", strerror(errno));
    CHECK(rl.rlim_cur > 0 && rl.rlim_cur != RLIM_INFINITY, "RLIMIT_SIGPENDING is %lld", (long long)rl.rlim_cur);
    limit = (long)rl.rlim_cur;
    signal(SIGRTMIN, on_rt);
    sigset_t rt;
    sigemptyset(&rt);
    sigaddset(&rt, SIGRTMIN);
    CHECK(sigprocmask(SIG_BLOCK, &rt, NULL) == 0, "sigprocmask: %s", strerror(errno));
    pthread_barrier_init(&all_queued, NULL, THREADS);
    pthread_t t[THREADS];
    for (long i = 0; i < THREADS; i++)
        CHECK(pthread_create(&t[i], NULL, queue_until_full, (void *)i) == 0, "pthread_create %ld", i);
    long total = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        CHECK(errors[i] == EAGAIN, "thread %d stopped after %ld with errno %d, not EAGAIN", i, queued[i], errors[i]);
        total += queued[i];
    }
    printf("RLIMIT_SIGPENDING %ld; queued per thread %ld %ld %ld %ld; %ld handled\n", limit, queued[0], queued[1],
           queued[2], queued[3], (long)handled);
    CHECK(total <= limit, "%d threads queued %ld real-time signals together, over RLIMIT_SIGPENDING %ld", THREADS,
          total, limit);
    CHECK(queued[0] + queued[1] + queued[2] + queued[3] > 0, "nothing could be queued");
    CHECK(handled == total, "%ld queued, %ld handled", total, (long)handled);
    return 0;
}
