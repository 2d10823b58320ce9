/*
 * clock_gettime_bench: what reading the time costs, in instructions, under
 * QEMU -icount shift=0 (the 1 GHz counter advances once per instruction).
 * Each call is made CALLS times in a loop timed with
 * clock_gettime(CLOCK_MONOTONIC); a line per call:
 *
 *   bench call=NAME calls=N insns_per_call=X
 *
 * NAME: clock_gettime-monotonic (glibc: the vDSO where there is one),
 * clock_gettime-monotonic-coarse, clock_gettime-realtime, gettimeofday,
 * clock_getres-monotonic, and syscall-clock_gettime-monotonic (the
 * system call itself, as glibc makes it without a vDSO). The same static
 * binary runs on this kernel (scripts/bench.sh) and on Linux 6.1
 * (make bench-linux).
 */
#include <stdint.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define CALLS 4000

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Runs `body` CALLS times; prints instructions per call (the loop's own
 * few instructions included, the two timing calls spread over CALLS). */
#define MEASURE(name, body)                                                               \
    do {                                                                                  \
        uint64_t start = now_ns();                                                        \
        for (int i = 0; i < CALLS; i++) {                                                 \
            body;                                                                         \
            __asm__ volatile("" ::: "memory");                                            \
        }                                                                                 \
        uint64_t ns = now_ns() - start;                                                   \
        printf("bench call=%s calls=%d insns_per_call=%llu\n", name, CALLS,               \
               (unsigned long long)((ns + CALLS / 2) / CALLS));                           \
    } while (0)

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct timespec ts;
    struct timeval tv;
    printf("# clock_gettime_bench: instructions per call, %d calls each, under -icount shift=0\n", CALLS);
    /* Warm up: the first calls fault the vDSO's pages in. */
    for (int i = 0; i < 100; i++)
        clock_gettime(CLOCK_MONOTONIC, &ts);
    MEASURE("clock_gettime-monotonic", clock_gettime(CLOCK_MONOTONIC, &ts));
    MEASURE("clock_gettime-realtime", clock_gettime(CLOCK_REALTIME, &ts));
    MEASURE("clock_gettime-monotonic-coarse", clock_gettime(CLOCK_MONOTONIC_COARSE, &ts));
    MEASURE("gettimeofday", gettimeofday(&tv, NULL));
    MEASURE("clock_getres-monotonic", clock_getres(CLOCK_MONOTONIC, &ts));
    MEASURE("syscall-clock_gettime-monotonic", syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts));
    printf("bench clock done\n");
    return 0;
}
