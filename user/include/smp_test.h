/*
 * smp_test.h - for the tests of threads on several CPUs at once: how many
 * CPUs a test uses, pinning the calling thread to one, and the CPU it runs
 * on.
 *
 * test_cpus(): the CPUs sched_getaffinity names (all of them, at most
 * SMP_TEST_MAX_CPUS), unless the program is given a number as its first
 * argument: `SMP=4 bash scripts/run-program build/user/tests/NAME 4` holds
 * the kernel to four CPUs even if it names fewer (a kernel that runs tasks
 * on CPU 0 alone then fails at the first pin, with EINVAL).
 */
#ifndef SMP_TEST_H
#define SMP_TEST_H

#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "refpage_test.h"

#define SMP_TEST_MAX_CPUS 8

static inline int test_cpus(int argc, char **argv)
{
    if (argc > 1 && argv[1][0] >= '1' && argv[1][0] <= '8' && argv[1][1] == 0)
        return argv[1][0] - '0';
    cpu_set_t set;
    CPU_ZERO(&set);
    CHECK(sched_getaffinity(0, sizeof(set), &set) == 0, "sched_getaffinity: errno %d", errno);
    int n = CPU_COUNT(&set);
    return n > SMP_TEST_MAX_CPUS ? SMP_TEST_MAX_CPUS : n;
}

/* Moves the calling thread to `cpu` (sched_setaffinity returns once it
 * runs there); 0 or the errno. */
static inline int pin_to(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(0, sizeof(set), &set) == 0 ? 0 : errno;
}

/* The CPU the caller runs on (getcpu(2)); -1 on error. */
static inline int current_cpu(void)
{
    unsigned cpu = 0;
    return syscall(SYS_getcpu, &cpu, NULL, NULL) == 0 ? (int)cpu : -1;
}

#endif
