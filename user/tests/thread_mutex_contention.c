/*
 * thread_mutex_contention: 6 pthreads each add 1 to a shared counter
 * 50,000 times under one mutex, with a read-modify-write slow enough that
 * preemption (10 ms slices) often lands inside the critical section, so the
 * mutex is contended and waiters sleep in futex (each thread also yields
 * the CPU while holding the mutex 10 times, so contention is certain). The
 * total is exact; each thread counts the times it found the mutex taken
 * (trylock), and there must be some. The
 * threads share the address space (a global and a main-stack variable
 * they all update), getpid() is the same in all of them, gettid() differs
 * from each other's and from the main thread's, and pthread_join returns
 * each thread's own return value.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "refpage_test.h"

#define THREADS 6
#define ITERATIONS 50000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static volatile unsigned long counter;
static volatile unsigned long contended;

struct arg {
    int index;
    volatile unsigned long *on_main_stack;
    pid_t tid, pid;
    unsigned long busy; /* times trylock found the mutex taken */
};

static void *worker(void *p)
{
    struct arg *a = p;
    a->tid = (pid_t)syscall(SYS_gettid);
    a->pid = getpid();
    for (int i = 0; i < ITERATIONS; i++) {
        int r = pthread_mutex_trylock(&lock);
        if (r == EBUSY) {
            a->busy++;
            r = pthread_mutex_lock(&lock);
        }
        if (r != 0)
            return (void *)(intptr_t)-r;
        /* A torn read-modify-write: lost updates if the mutex failed. */
        unsigned long v = counter;
        for (volatile int spin = 0; spin < 20; spin++)
            ;
        /* Now and then give up the CPU holding the mutex: the others find
         * it taken and sleep in futex until the unlock wakes them. */
        if (i % 5000 == 2500)
            sched_yield();
        counter = v + 1;
        (*a->on_main_stack)++;
        pthread_mutex_unlock(&lock);
    }
    pthread_mutex_lock(&lock);
    contended += a->busy;
    pthread_mutex_unlock(&lock);
    return (void *)(intptr_t)(1000 + a->index);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    volatile unsigned long stack_counter = 0;
    struct arg args[THREADS];
    pthread_t threads[THREADS];
    pid_t main_tid = (pid_t)syscall(SYS_gettid);
    CHECK(main_tid == getpid(), "main thread: gettid %d, getpid %d: want equal", (int)main_tid,
          (int)getpid());
    uint64_t t0 = monotonic_ns();
    for (int i = 0; i < THREADS; i++) {
        memset(&args[i], 0, sizeof(args[i]));
        args[i].index = i;
        args[i].on_main_stack = &stack_counter;
        int r = pthread_create(&threads[i], NULL, worker, &args[i]);
        CHECK(r == 0, "pthread_create %d: %d (%s)", i, r, strerror(r));
    }
    for (int i = 0; i < THREADS; i++) {
        void *ret = NULL;
        int r = pthread_join(threads[i], &ret);
        CHECK(r == 0, "pthread_join %d: %d (%s)", i, r, strerror(r));
        CHECK(ret == (void *)(intptr_t)(1000 + i), "thread %d returned %ld, want %d", i,
              (long)(intptr_t)ret, 1000 + i);
    }
    uint64_t t1 = monotonic_ns();
    CHECK(counter == (unsigned long)THREADS * ITERATIONS, "counter is %lu, want %lu (lost updates)",
          counter, (unsigned long)THREADS * ITERATIONS);
    CHECK(stack_counter == (unsigned long)THREADS * ITERATIONS,
          "the main thread's stack variable is %lu, want %lu", stack_counter,
          (unsigned long)THREADS * ITERATIONS);
    CHECK(contended > 0, "no thread ever found the mutex taken: not contended");
    printf("thread_mutex_contention: %d threads x %d increments under a mutex: %lu, exact (%llu ms, "
           "trylock found it taken %lu times)\n", THREADS, ITERATIONS, counter,
           (unsigned long long)(t1 - t0) / 1000000, contended);
    printf("thread_mutex_contention: pthread_join returned each thread's own value\n");

    for (int i = 0; i < THREADS; i++) {
        CHECK(args[i].pid == getpid(), "thread %d: getpid %d, want the process's %d", i,
              (int)args[i].pid, (int)getpid());
        CHECK(args[i].tid > 0 && args[i].tid != main_tid, "thread %d: gettid %d (main thread %d)",
              i, (int)args[i].tid, (int)main_tid);
        for (int j = 0; j < i; j++)
            CHECK(args[i].tid != args[j].tid, "threads %d and %d have the same tid %d", j, i,
                  (int)args[i].tid);
    }
    printf("thread_mutex_contention: getpid %d in every thread; %d distinct tids, none the main "
           "thread's\n", (int)getpid(), THREADS);
    return 0;
}
