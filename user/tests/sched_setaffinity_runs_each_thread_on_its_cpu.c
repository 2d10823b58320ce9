/*
 * sched_setaffinity_runs_each_thread_on_its_cpu: a thread that pins itself
 * to one CPU with sched_setaffinity runs there, and only there, from the
 * call's return on (Linux's __set_cpus_allowed_ptr moves the caller before
 * returning; getcpu(2) tells where it runs): one thread per CPU, each
 * pinned to its own, spins 50 ms asking getcpu and must hear its CPU every
 * time (whether the spins overlapped is printed, not required: under QEMU
 * on a loaded host a vCPU may not run for that long); then the main thread
 * moves itself to each CPU in turn and getcpu follows at once. With one CPU this is CPU 0 alone.
 * (smp_test.h: `SMP=4 ... NAME 4` holds a kernel to four CPUs; one that
 * runs every task on CPU 0 fails with EINVAL at the pin to CPU 1.)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include "smp_test.h"

#define SPIN_NS (50 * 1000000ull)

static int cpus;
static pthread_barrier_t start;
static int pin_error[SMP_TEST_MAX_CPUS];
static long calls[SMP_TEST_MAX_CPUS], elsewhere[SMP_TEST_MAX_CPUS];
static int seen_elsewhere[SMP_TEST_MAX_CPUS];
static uint64_t began[SMP_TEST_MAX_CPUS], ended[SMP_TEST_MAX_CPUS];

static void *worker(void *arg)
{
    long k = (long)arg;
    pin_error[k] = pin_to(k);
    pthread_barrier_wait(&start);
    if (pin_error[k])
        return NULL;
    began[k] = monotonic_ns();
    while (monotonic_ns() - began[k] < SPIN_NS) {
        int c = current_cpu();
        calls[k]++;
        if (c != k) {
            elsewhere[k]++;
            seen_elsewhere[k] = c;
        }
    }
    ended[k] = monotonic_ns();
    return NULL;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    cpus = test_cpus(argc, argv);
    pthread_barrier_init(&start, NULL, cpus);
    pthread_t t[SMP_TEST_MAX_CPUS];
    for (long k = 0; k < cpus; k++)
        CHECK(pthread_create(&t[k], NULL, worker, (void *)k) == 0, "pthread_create");
    for (int k = 0; k < cpus; k++)
        pthread_join(t[k], NULL);
    uint64_t last_start = 0, first_end = UINT64_MAX;
    for (int k = 0; k < cpus; k++) {
        CHECK(pin_error[k] == 0, "sched_setaffinity(CPU %d) of %d: errno %d (%s)", k, cpus, pin_error[k],
              strerror(pin_error[k]));
        CHECK(elsewhere[k] == 0, "the thread pinned to CPU %d ran %ld of %ld getcpu calls elsewhere (CPU %d)", k,
              elsewhere[k], calls[k], seen_elsewhere[k]);
        last_start = began[k] > last_start ? began[k] : last_start;
        first_end = ended[k] < first_end ? ended[k] : first_end;
    }
    printf("sched_setaffinity_runs_each_thread_on_its_cpu: %d threads, each on its own CPU for 50 ms "
           "(%ld getcpu calls on CPU 0)%s\n",
           cpus, calls[0], cpus > 1 && last_start < first_end ? ", all at once for a while" : "");

    for (int k = cpus - 1; k >= 0; k--) {
        int e = pin_to(k);
        CHECK(e == 0, "main thread: sched_setaffinity(CPU %d): errno %d", k, e);
        int c = current_cpu();
        CHECK(c == k, "main thread: getcpu says CPU %d right after pinning itself to CPU %d", c, k);
    }
    printf("sched_setaffinity_runs_each_thread_on_its_cpu: the main thread moved to each CPU as it asked\n");
    return 0;
}
