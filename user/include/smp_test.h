/*
 * smp_test.h - for the tests of threads on several CPUs at once: how many
 * CPUs a test uses, pinning the calling thread to one, and the CPU it runs
 * on. Raw system calls, so that it needs no _GNU_SOURCE before the first
 * system header.
 *
 * test_cpus(): the CPUs sched_getaffinity names (at most
 * SMP_TEST_MAX_CPUS), unless the program is given a number as its first
 * argument: `SMP=4 bash scripts/run-program build/user/tests/NAME 4` holds
 * the kernel to four CPUs even if it names fewer (a kernel that runs tasks
 * on CPU 0 alone then fails at the first pin, with EINVAL).
 *
 * spin_group(): the body of a forked child whose threads, one per CPU
 * (three on CPU 0 with one CPU), spin at EL0 without a system call; once
 * every one spins, the thread on CPU 1 calls `act`. wait_rounds() forks
 * such children and wants each to end with one status, within 2 s, and
 * no thread of it to run on once the parent has its status: the spin
 * counters live in shared memory and must not move over the next 30 ms.
 * cpuinfo_processors(): the processor blocks of /proc/cpuinfo.
 */
#ifndef SMP_TEST_H
#define SMP_TEST_H

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "refpage_test.h"

#define SMP_TEST_MAX_CPUS 8

static inline int test_cpus(int argc, char **argv)
{
    if (argc > 1 && argv[1][0] >= '1' && argv[1][0] <= '8' && argv[1][1] == 0)
        return argv[1][0] - '0';
    unsigned long mask[16] = {0};
    long n = syscall(SYS_sched_getaffinity, 0, sizeof(mask), mask);
    CHECK(n > 0, "sched_getaffinity: errno %d", errno);
    int cpus = 0;
    for (long i = 0; i < n / (long)sizeof(mask[0]); i++)
        cpus += __builtin_popcountl(mask[i]);
    return cpus > SMP_TEST_MAX_CPUS ? SMP_TEST_MAX_CPUS : cpus;
}

/* Moves the calling thread to `cpu` (sched_setaffinity returns once it
 * runs there); 0 or the errno. */
static inline int pin_to(int cpu)
{
    unsigned long mask[4] = {0};
    mask[cpu / 64] = 1UL << (cpu % 64);
    return syscall(SYS_sched_setaffinity, 0, sizeof(mask), mask) == 0 ? 0 : errno;
}

/* The CPU the caller runs on (getcpu(2)); -1 on error. */
static inline int current_cpu(void)
{
    unsigned cpu = 0;
    return syscall(SYS_getcpu, &cpu, NULL, NULL) == 0 ? (int)cpu : -1;
}

/* The processor blocks of /proc/cpuinfo, one per CPU online. */
static inline int cpuinfo_processors(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    CHECK(f != NULL, "fopen(/proc/cpuinfo) failed");
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, "processor\t:", 11) == 0)
            n++;
    fclose(f);
    return n;
}

static int spin_cpus, spin_threads;
/* In a MAP_SHARED page (wait_rounds), so that the parent sees them. */
static atomic_ulong *spin_counts;
static void (*spin_act)(void);

static inline int spin_cpu_of(long k)
{
    return spin_cpus == 1 ? 0 : (int)(k % spin_cpus);
}

static inline void *spin_thread(void *arg)
{
    long k = (long)arg;
    int e = pin_to(spin_cpu_of(k));
    if (e) {
        fprintf(stderr, "thread %ld: sched_setaffinity(CPU %d): errno %d (%s)\n", k, spin_cpu_of(k), e, strerror(e));
        _exit(1);
    }
    if (k == 1) {
        for (int j = 0; j < spin_threads; j++)
            while (atomic_load(&spin_counts[j]) == 0)
                ;
        spin_act();
        _exit(68);
    }
    for (;;)
        atomic_fetch_add(&spin_counts[k], 1);
    return NULL;
}

/* The child: the leader spins on CPU 0, threads 2.. on theirs, and thread
 * 1 calls `act` once all of them spin. Never returns. */
static inline void spin_group(int cpus, void (*act)(void))
{
    spin_cpus = cpus;
    spin_threads = cpus < 2 ? 3 : cpus;
    spin_act = act;
    pthread_t t;
    for (long k = 1; k < spin_threads; k++)
        if (pthread_create(&t, NULL, spin_thread, (void *)k) != 0)
            _exit(2);
    /* The acting thread counts as spinning. */
    atomic_store(&spin_counts[1], 1);
    spin_thread((void *)0);
    _exit(3);
}

/* Forks `rounds` children running `child` and wants each to exit with
 * `status` within 2 s; returns the first round's milliseconds. */
static inline unsigned long long wait_rounds(int rounds, void (*child)(void), int status, const char *what)
{
    unsigned long long first = 0;
    spin_counts = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(spin_counts != MAP_FAILED, "mmap: errno %d", errno);
    for (int round = 0; round < rounds; round++) {
        memset(spin_counts, 0, 4096);
        uint64_t t0 = monotonic_ns();
        pid_t pid = fork();
        CHECK(pid >= 0, "fork: errno %d", errno);
        if (pid == 0)
            child();
        int st = 0;
        CHECK(waitpid(pid, &st, 0) == pid, "waitpid: errno %d", errno);
        unsigned long long ms = (monotonic_ns() - t0) / 1000000;
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == status, "round %d: the child ended with status %#x, want exit %d (%s)",
              round, st, status, what);
        CHECK(ms < 2000, "round %d: took %llu ms", round, ms);
        unsigned long before[SMP_TEST_MAX_CPUS + 1], after[SMP_TEST_MAX_CPUS + 1];
        for (int k = 0; k <= SMP_TEST_MAX_CPUS; k++)
            before[k] = atomic_load(&spin_counts[k]);
        sleep_ns(30 * 1000000ull);
        for (int k = 0; k <= SMP_TEST_MAX_CPUS; k++) {
            after[k] = atomic_load(&spin_counts[k]);
            CHECK(after[k] == before[k], "round %d: thread %d spun on (%lu -> %lu) after the parent had the status",
                  round, k, before[k], after[k]);
        }
        if (round == 0)
            first = ms;
    }
    return first;
}

#endif
