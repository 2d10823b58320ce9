/*
 * bench_time.h - the clock of the benchmarks in user/bench/ that measure
 * from user space (user_faults, fault_scaling): CLOCK_MONOTONIC in
 * nanoseconds. Under QEMU's `-icount shift=0,align=off,sleep=off` with the
 * 1 GHz counter of QEMU 9 and newer, a nanosecond is one guest
 * instruction, so a time over a loop is the instructions it took, kernel
 * and user together (with -smp N, every vCPU's: they run in turn).
 */
#ifndef BENCH_TIME_H
#define BENCH_TIME_H

#include <stdint.h>
#include <time.h>

#include "refpage_test.h"

static inline uint64_t now_ns(void)
{
    struct timespec ts;
    CHECK(clock_gettime(CLOCK_MONOTONIC, &ts) == 0, "clock_gettime: %s", strerror(errno));
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif
