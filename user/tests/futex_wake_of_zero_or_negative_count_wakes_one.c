/*
 * futex_wake_of_zero_or_negative_count_wakes_one: FUTEX_WAKE's count is an
 * int, and Linux's futex_wake stops once ++woken >= nr_wake, so a count of
 * 0 or a negative one wakes one waiter (of three), not none; INT_MAX wakes
 * them all. FUTEX_WAKE_BITSET with an empty bitset is EINVAL.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "refpage_test.h"

#define WAITERS 3

static unsigned word;
static atomic_int woken;

static void *waiter(void *arg)
{
    (void)arg;
    struct timespec limit = {2, 0};
    if (syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, &limit, NULL, 0) == 0)
        atomic_fetch_add(&woken, 1);
    return NULL;
}

static long wake(int count)
{
    return syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, count, NULL, NULL, 0);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    pthread_t t[WAITERS];
    for (int i = 0; i < WAITERS; i++)
        CHECK(pthread_create(&t[i], NULL, waiter, NULL) == 0, "pthread_create");
    /* Long enough for all three to be asleep in FUTEX_WAIT. */
    sleep_ns(50 * 1000000);
    long zero = wake(0);
    sleep_ns(20 * 1000000);
    CHECK(zero == 1 && atomic_load(&woken) == 1, "FUTEX_WAKE with count 0 returned %ld and woke %d; want 1 and 1",
          zero, atomic_load(&woken));
    long negative = wake(-1);
    sleep_ns(20 * 1000000);
    CHECK(negative == 1 && atomic_load(&woken) == 2,
          "FUTEX_WAKE with count -1 returned %ld, %d woken in all; want 1, and 2 in all", negative,
          atomic_load(&woken));
    long all = wake(INT_MAX);
    for (int i = 0; i < WAITERS; i++)
        pthread_join(t[i], NULL);
    CHECK(all == 1 && atomic_load(&woken) == WAITERS, "FUTEX_WAKE with INT_MAX returned %ld, %d woken in all", all,
          atomic_load(&woken));
    errno = 0;
    long r = syscall(SYS_futex, &word, FUTEX_WAKE_BITSET_PRIVATE, 1, NULL, NULL, 0);
    CHECK(r == -1 && errno == EINVAL, "FUTEX_WAKE_BITSET with bitset 0 returned %ld errno %d, want EINVAL", r, errno);
    printf("futex_wake_of_zero_or_negative_count_wakes_one: counts 0 and -1 woke one each, INT_MAX the last; "
           "an empty bitset is EINVAL\n");
    return 0;
}
