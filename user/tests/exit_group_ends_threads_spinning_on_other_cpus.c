/*
 * exit_group_ends_threads_spinning_on_other_cpus: _exit (exit_group) in one
 * thread ends every thread of the process, also those running at EL0 on
 * other CPUs at that moment (Linux's zap_other_threads SIGKILLs them and
 * kicks their CPUs; each leaves through its own exit), and the parent gets
 * the status once the last is gone. A forked child pins one thread per CPU
 * (two on CPU 0 when there is one CPU), each spinning without a system
 * call; once every counter moves, the thread on CPU 1 calls _exit(42)
 * while the others, the leader among them, spin. Five rounds; the parent
 * wants status 42 within 2 s each time (the runner checks that no frame
 * or heap byte is left behind). (smp_test.h: `SMP=4 ... NAME 4`.)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/wait.h>

#include "smp_test.h"

#define ROUNDS 5

static int cpus, threads;
static atomic_ulong spins[SMP_TEST_MAX_CPUS + 1];

static int cpu_of(long k)
{
    return cpus == 1 ? 0 : (int)(k % cpus);
}

static void wait_all_spinning(void)
{
    for (int k = 0; k < threads; k++)
        while (atomic_load(&spins[k]) == 0)
            ;
}

static void *spinner(void *arg)
{
    long k = (long)arg;
    int e = pin_to(cpu_of(k));
    if (e) {
        fprintf(stderr, "thread %ld: sched_setaffinity(CPU %d): errno %d\n", k, cpu_of(k), e);
        _exit(1);
    }
    if (k == 1) {
        wait_all_spinning();
        _exit(42);
    }
    for (;;)
        atomic_fetch_add(&spins[k], 1);
    return NULL;
}

static void child(void)
{
    pthread_t t;
    for (long k = 1; k < threads; k++)
        if (pthread_create(&t, NULL, spinner, (void *)k) != 0)
            _exit(2);
    int e = pin_to(0);
    if (e) {
        fprintf(stderr, "leader: sched_setaffinity(CPU 0): errno %d\n", e);
        _exit(1);
    }
    atomic_store(&spins[1], 1); /* the exiting thread counts as spinning */
    for (;;)
        atomic_fetch_add(&spins[0], 1);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    cpus = test_cpus(argc, argv);
    threads = cpus < 2 ? 3 : cpus;
    for (int round = 0; round < ROUNDS; round++) {
        uint64_t t0 = monotonic_ns();
        pid_t pid = fork();
        CHECK(pid >= 0, "fork: errno %d", errno);
        if (pid == 0)
            child();
        int status = 0;
        CHECK(waitpid(pid, &status, 0) == pid, "waitpid: errno %d", errno);
        uint64_t ms = (monotonic_ns() - t0) / 1000000;
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 42,
              "round %d: the child ended with status %#x, want exit 42 from the thread on CPU 1", round, status);
        CHECK(ms < 2000, "round %d: the group took %llu ms to end", round, (unsigned long long)ms);
        if (round == 0)
            printf("exit_group_ends_threads_spinning_on_other_cpus: %d threads on %d CPU(s) ended by _exit(42) "
                   "in one, parent saw 42 after %llu ms\n",
                   threads, cpus, (unsigned long long)ms);
    }
    printf("exit_group_ends_threads_spinning_on_other_cpus: %d rounds\n", ROUNDS);
    return 0;
}
