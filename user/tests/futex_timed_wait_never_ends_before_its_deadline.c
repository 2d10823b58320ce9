/*
 * futex_timed_wait_never_ends_before_its_deadline: one thread pinned to each
 * CPU makes 40 timed futex waits nobody wakes, with deadlines of 1 to 3 ms
 * and an odd nanosecond: FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME with an
 * absolute CLOCK_REALTIME deadline (what glibc's pthread_cond_timedwait
 * makes), FUTEX_WAIT_BITSET with a CLOCK_MONOTONIC one, and FUTEX_WAIT with
 * a relative timeout, in turn. Every wait ends with ETIMEDOUT, and at or
 * after its deadline read on the same clock (Linux's futex_wait returns
 * ETIMEDOUT only once its hrtimer has expired; any other wake-up that is
 * not a FUTEX_WAKE or a signal sleeps again). The other threads' waits,
 * begun and ended on their CPUs' timers, must not end this one's early.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "refpage_test.h"
#include "smp_test.h"

#define WAITS 40
#define NS 1000000000ull

static int cpus;
static unsigned words[SMP_TEST_MAX_CPUS];

static uint64_t now_on(clockid_t clock)
{
    struct timespec t;
    clock_gettime(clock, &t);
    return (uint64_t)t.tv_sec * NS + (uint64_t)t.tv_nsec;
}

static void *waiter(void *arg)
{
    long k = (long)arg;
    int r = pin_to((int)k);
    CHECK(r == 0, "pin to CPU %ld: %s", k, strerror(r));
    for (int i = 0; i < WAITS; i++) {
        uint64_t len = 1000000 + (uint64_t)((i * 7919 + k * 104729) % 2000000) + 1;
        int kind = i % 3;
        clockid_t clock = kind == 0 ? CLOCK_REALTIME : CLOCK_MONOTONIC;
        uint64_t start = now_on(clock);
        uint64_t deadline = start + len;
        struct timespec ts;
        long ret;
        if (kind == 2) {
            ts.tv_sec = 0;
            ts.tv_nsec = (long)len;
            ret = syscall(SYS_futex, &words[k], FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0);
        } else {
            ts.tv_sec = (time_t)(deadline / NS);
            ts.tv_nsec = (long)(deadline % NS);
            int op = FUTEX_WAIT_BITSET_PRIVATE | (kind == 0 ? FUTEX_CLOCK_REALTIME : 0);
            ret = syscall(SYS_futex, &words[k], op, 0, &ts, NULL, FUTEX_BITSET_MATCH_ANY);
        }
        int err = errno;
        uint64_t end = now_on(clock);
        static const char *const what[] = {"BITSET|CLOCK_REALTIME (absolute)", "BITSET (absolute, monotonic)",
                                           "WAIT (relative)"};
        CHECK(ret == -1 && err == ETIMEDOUT, "CPU %ld wait %d, FUTEX_%s %llu ns: returned %ld (%s), want ETIMEDOUT",
              k, i, what[kind], (unsigned long long)len, ret, ret == -1 ? strerror(err) : "no error");
        CHECK(end >= deadline, "CPU %ld wait %d, FUTEX_%s %llu ns: ETIMEDOUT %llu ns before its deadline", k, i,
              what[kind], (unsigned long long)len, (unsigned long long)(deadline - end));
    }
    return NULL;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    cpus = test_cpus(argc, argv);
    pthread_t t[SMP_TEST_MAX_CPUS];
    for (long k = 0; k < cpus; k++) {
        int r = pthread_create(&t[k], NULL, waiter, (void *)k);
        CHECK(r == 0, "pthread_create: %s", strerror(r));
    }
    for (int k = 0; k < cpus; k++)
        pthread_join(t[k], NULL);
    printf("futex_timed_wait_never_ends_before_its_deadline: %d CPUs x %d timed waits, none ended early\n", cpus,
           WAITS);
    return 0;
}
