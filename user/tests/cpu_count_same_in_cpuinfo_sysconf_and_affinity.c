/*
 * cpu_count_same_in_cpuinfo_sysconf_and_affinity: a program is told one
 * number of CPUs wherever it asks, and only CPUs that run its threads:
 * the "processor" blocks of /proc/cpuinfo, sysconf(_SC_NPROCESSORS_CONF)
 * and (_SC_NPROCESSORS_ONLN), and the CPUs sched_getaffinity names agree
 * (on Linux 6.1 with -smp 4 all four say 4). On this kernel every CPU
 * up runs tasks (docs/smp.md), so with SMP=4 every answer is 4.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "refpage_test.h"
#include "smp_test.h"

int main(void)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CHECK(sched_getaffinity(0, sizeof(set), &set) == 0, "sched_getaffinity failed");
    int affinity = CPU_COUNT(&set);
    int cpuinfo = cpuinfo_processors();
    long conf = sysconf(_SC_NPROCESSORS_CONF);
    long onln = sysconf(_SC_NPROCESSORS_ONLN);
    printf("cpu_count_same_in_cpuinfo_sysconf_and_affinity: affinity %d, /proc/cpuinfo %d, "
           "_SC_NPROCESSORS_CONF %ld, _SC_NPROCESSORS_ONLN %ld\n", affinity, cpuinfo, conf, onln);
    CHECK(affinity >= 1, "sched_getaffinity names no CPU");
    CHECK(cpuinfo == affinity, "/proc/cpuinfo has %d processor blocks, sched_getaffinity names %d CPUs",
          cpuinfo, affinity);
    CHECK(onln == affinity, "_SC_NPROCESSORS_ONLN %ld, sched_getaffinity names %d CPUs", onln, affinity);
    CHECK(conf == affinity, "_SC_NPROCESSORS_CONF %ld, sched_getaffinity names %d CPUs", conf, affinity);
    return 0;
}
