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
 */
#ifndef SMP_TEST_H
#define SMP_TEST_H

#include <errno.h>
#include <sys/syscall.h>
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

#endif
