/*
 * counter_el0_cntvct_cntfrq: EL0 may read the virtual counter CNTVCT_EL0
 * and the counter frequency CNTFRQ_EL0, as on Linux, which sets
 * CNTKCTL_EL1.EL0VCTEN (arch_counter_set_user_access; CNTFRQ_EL0 is
 * readable when either counter is). Before, both reads trapped (EC 0x18)
 * and the program died of SIGILL. The counter never goes backwards and
 * keeps pace with CLOCK_MONOTONIC_RAW from the system call (on Linux the
 * clock starts later than the counter: only their rates are compared).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "refpage_test.h"

static inline uint64_t cntvct(void)
{
    uint64_t v;
    __asm__ volatile("isb\n\tmrs %0, cntvct_el0" : "=r"(v) : : "memory");
    return v;
}

static uint64_t raw_ns(void)
{
    struct timespec ts;
    CHECK(syscall(SYS_clock_gettime, CLOCK_MONOTONIC_RAW, &ts) == 0, "clock_gettime: errno %d", errno);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    uint64_t freq;
    __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(freq));
    if (freq == 0) {
        /* qemu-user leaves CNTFRQ_EL0 0: only the counter can be checked. */
        printf("counter_el0_cntvct_cntfrq: CNTFRQ_EL0 reads 0 (not Linux: qemu-user?)\n");
    } else {
        CHECK(freq >= 1000000 && freq <= 10000000000ull, "CNTFRQ_EL0 reads %llu Hz",
              (unsigned long long)freq);
    }
    uint64_t last = cntvct();
    for (int i = 0; i < 100000; i++) {
        uint64_t now = cntvct();
        CHECK(now >= last, "CNTVCT_EL0 went back from %llu to %llu", (unsigned long long)last,
              (unsigned long long)now);
        last = now;
    }
    /* Over an interval, the counter's ticks in nanoseconds lie between the
     * clock's shortest and longest view of it (each counter read bracketed
     * by two clock reads; one counter period of rounding each way). */
    if (freq == 0)
        return 0;
    uint64_t period = (1000000000ull + freq - 1) / freq;
    uint64_t a0 = raw_ns(), c0 = cntvct(), b0 = raw_ns();
    for (volatile int i = 0; i < 2000000; i++)
        ;
    uint64_t a1 = raw_ns(), c1 = cntvct(), b1 = raw_ns();
    uint64_t ns = (uint64_t)((__uint128_t)(c1 - c0) * 1000000000u / freq);
    CHECK(ns + 2 * period >= a1 - b0 && ns <= b1 - a0 + 2 * period,
          "CNTVCT_EL0 advanced %llu ns, CLOCK_MONOTONIC_RAW between %llu and %llu ns",
          (unsigned long long)ns, (unsigned long long)(a1 - b0), (unsigned long long)(b1 - a0));
    printf("counter_el0_cntvct_cntfrq: CNTFRQ_EL0 %llu Hz, CNTVCT_EL0 %llu, monotonic over 100000 "
           "reads, in step with CLOCK_MONOTONIC_RAW\n",
           (unsigned long long)freq, (unsigned long long)last);
    return 0;
}
