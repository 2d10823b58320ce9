/*
 * sched_yield_on_every_cpu_starves_no_thread: threads that do nothing but
 * sched_yield, on every CPU at once, each pinned to a CPU of its own and
 * two more left to float, all make progress: the one kernel lock every
 * system call takes (docs/smp.md) is handed round, no CPU waits for it
 * for ever (its watchdog would panic the kernel), and a floating thread
 * gets a turn on some CPU. Each thread counts its calls for 500 ms; every
 * count must be at least 10 (a thread starved of the lock or of a CPU
 * makes none; how many the others make depends on how much host time each
 * vCPU gets, so the counts are printed).
 * (smp_test.h: `SMP=4 ... NAME 4`.)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>

#include "smp_test.h"

#define RUN_NS (500 * 1000000ull)
#define FLOATING 2

static int cpus;
static long yields[SMP_TEST_MAX_CPUS + FLOATING];
static int pin_error[SMP_TEST_MAX_CPUS + FLOATING];
static atomic_int started;

static void *yielder(void *arg)
{
    long k = (long)arg;
    if (k < cpus)
        pin_error[k] = pin_to((int)k);
    atomic_fetch_add(&started, 1);
    while (atomic_load(&started) < cpus + FLOATING)
        sched_yield();
    uint64_t t0 = monotonic_ns();
    while (monotonic_ns() - t0 < RUN_NS) {
        sched_yield();
        yields[k]++;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    cpus = test_cpus(argc, argv);
    pthread_t t[SMP_TEST_MAX_CPUS + FLOATING];
    for (long k = 0; k < cpus + FLOATING; k++)
        CHECK(pthread_create(&t[k], NULL, yielder, (void *)k) == 0, "pthread_create");
    for (int k = 0; k < cpus + FLOATING; k++)
        pthread_join(t[k], NULL);
    long least = yields[0];
    for (int k = 0; k < cpus + FLOATING; k++) {
        if (yields[k] < 10)
            fprintf(stderr, "counts:");
        for (int j = 0; yields[k] < 10 && j < cpus + FLOATING; j++)
            fprintf(stderr, " %ld%s", yields[j], j + 1 == cpus + FLOATING ? "\n" : "");
        CHECK(pin_error[k] == 0, "sched_setaffinity(CPU %d): errno %d", k, pin_error[k]);
        CHECK(yields[k] >= 10, "thread %d (%s) made only %ld sched_yield calls in 500 ms", k,
              k < cpus ? "pinned" : "floating", yields[k]);
        least = yields[k] < least ? yields[k] : least;
    }
    printf("sched_yield_on_every_cpu_starves_no_thread: %d pinned and %d floating threads, at least %ld "
           "sched_yield calls each in 500 ms (",
           cpus, FLOATING, least);
    for (int k = 0; k < cpus + FLOATING; k++)
        printf("%s%ld", k ? " " : "", yields[k]);
    printf(")\n");
    return 0;
}
