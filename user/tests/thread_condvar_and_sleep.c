/*
 * thread_condvar_and_sleep: threads that block (in futex or nanosleep)
 * while others run.
 *  1. Producer/consumer: 2 producers put 2,000 items each into a 4-slot
 *     queue guarded by a mutex and two condition variables; 2 consumers take
 *     them; both sides nanosleep now and then. Every item arrives once (count
 *     and sum exact) and the queue never over- or under-flows.
 *  2. A thread blocked in pthread_cond_wait stays blocked while a spinning
 *     thread makes progress, including while the main thread sleeps in
 *     nanosleep (the spinner runs within one of up to 100 sleeps of 30 ms:
 *     a loaded host may not run its virtual CPU through any one of them);
 *     a pthread_cond_signal then wakes it.
 *  3. 4 threads nanosleep 100 ms at once: each sleeps at least 100 ms, all
 *     together take well under 4 x 100 ms.
 *  4. pthread_cond_timedwait with nobody signalling returns ETIMEDOUT after
 *     its 30 ms timeout.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "refpage_test.h"

#define MS 1000000ull

static void create(pthread_t *t, void *(*fn)(void *), void *arg, const char *what)
{
    int r = pthread_create(t, NULL, fn, arg);
    CHECK(r == 0, "pthread_create (%s): %d (%s)", what, r, strerror(r));
}

static void *join(pthread_t t, const char *what)
{
    void *ret = NULL;
    int r = pthread_join(t, &ret);
    CHECK(r == 0, "pthread_join (%s): %d (%s)", what, r, strerror(r));
    return ret;
}

/* ---- 1. producer/consumer ---- */
#define SLOTS 4
#define PRODUCERS 2
#define CONSUMERS 2
#define ITEMS 2000

static pthread_mutex_t qlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
static unsigned long queue[SLOTS];
static int qhead, qcount, producers_left = PRODUCERS, bad_count;
static unsigned long consumed_sum, consumed_n;
static unsigned long full_waits, empty_waits;

static void *producer(void *arg)
{
    unsigned long id = (unsigned long)(uintptr_t)arg;
    for (unsigned long i = 0; i < ITEMS; i++) {
        pthread_mutex_lock(&qlock);
        while (qcount == SLOTS) {
            full_waits++;
            pthread_cond_wait(&not_full, &qlock);
        }
        if (qcount < 0 || qcount >= SLOTS)
            bad_count++;
        queue[(qhead + qcount) % SLOTS] = id * 100000 + i;
        qcount++;
        pthread_cond_signal(&not_empty);
        pthread_mutex_unlock(&qlock);
        if (i % 700 == 699)
            sleep_ns(1 * MS);
    }
    pthread_mutex_lock(&qlock);
    producers_left--;
    pthread_cond_broadcast(&not_empty);
    pthread_mutex_unlock(&qlock);
    return NULL;
}

static void *consumer(void *arg)
{
    (void)arg;
    unsigned long n = 0;
    for (;;) {
        pthread_mutex_lock(&qlock);
        while (qcount == 0 && producers_left > 0) {
            empty_waits++;
            pthread_cond_wait(&not_empty, &qlock);
        }
        if (qcount == 0) {
            pthread_mutex_unlock(&qlock);
            break;
        }
        if (qcount < 0 || qcount > SLOTS)
            bad_count++;
        unsigned long v = queue[qhead];
        qhead = (qhead + 1) % SLOTS;
        qcount--;
        consumed_sum += v;
        consumed_n++;
        pthread_cond_signal(&not_full);
        pthread_mutex_unlock(&qlock);
        if (++n % 500 == 0)
            sleep_ns(1 * MS);
    }
    return (void *)(uintptr_t)n;
}

static void producer_consumer(void)
{
    pthread_t p[PRODUCERS], c[CONSUMERS];
    uint64_t t0 = monotonic_ns();
    for (int i = 0; i < CONSUMERS; i++)
        create(&c[i], consumer, NULL, "consumer");
    for (int i = 0; i < PRODUCERS; i++)
        create(&p[i], producer, (void *)(uintptr_t)(i + 1), "producer");
    for (int i = 0; i < PRODUCERS; i++)
        join(p[i], "producer");
    unsigned long per_consumer[CONSUMERS], total = 0;
    for (int i = 0; i < CONSUMERS; i++) {
        per_consumer[i] = (unsigned long)(uintptr_t)join(c[i], "consumer");
        total += per_consumer[i];
    }
    unsigned long want_sum = 0;
    for (unsigned long id = 1; id <= PRODUCERS; id++)
        for (unsigned long i = 0; i < ITEMS; i++)
            want_sum += id * 100000 + i;
    CHECK(consumed_n == PRODUCERS * ITEMS && total == consumed_n,
          "consumed %lu items (consumers report %lu), want %d", consumed_n, total,
          PRODUCERS * ITEMS);
    CHECK(consumed_sum == want_sum, "sum of consumed items %lu, want %lu", consumed_sum, want_sum);
    CHECK(bad_count == 0 && qcount == 0, "queue count out of range %d times; %d left", bad_count,
          qcount);
    printf("thread_condvar_and_sleep: producer/consumer: %d items through a %d-slot queue, sum "
           "exact (consumers took %lu and %lu; waits: %lu on full, %lu on empty; %llu ms)\n",
           PRODUCERS * ITEMS, SLOTS, per_consumer[0], per_consumer[1], full_waits, empty_waits,
           (unsigned long long)(monotonic_ns() - t0) / MS);
}

/* ---- 2. blocked in futex while others run ---- */
static pthread_mutex_t glock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gcond = PTHREAD_COND_INITIALIZER;
static volatile int go, waiter_woke, stop_spinning;
static volatile unsigned long spins;
/* When main's sleep began (0: no sleep being watched), and the first time
 * the spinner saw after it (0: not yet). */
static volatile uint64_t window_start, seen_in_window;

static void *waiter(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&glock);
    while (!go)
        pthread_cond_wait(&gcond, &glock);
    waiter_woke = 1;
    pthread_mutex_unlock(&glock);
    return NULL;
}

static void *spinner(void *arg)
{
    (void)arg;
    while (!stop_spinning) {
        spins++;
        uint64_t w = window_start;
        if (w && !seen_in_window) {
            uint64_t now = monotonic_ns();
            if (now > w)
                seen_in_window = now;
        }
    }
    return NULL;
}

/* Sleeps of 30 ms (3 s in all) during one of which the spinner must run. */
#define SLEEP_ROUNDS 100

static void blocked_while_others_run(void)
{
    pthread_t w, s;
    create(&w, waiter, NULL, "waiter");
    create(&s, spinner, NULL, "spinner");
    sleep_ns(20 * MS);
    /* Main blocks in nanosleep for 30 ms; the spinner must run meanwhile:
     * it notes the first time it sees after the sleep began, which must
     * fall within the 30 ms. Counting spins from before the sleep to after
     * it cannot tell: a kernel that kept the CPU through the sleep passed,
     * as main, preempted on its way back to EL0, read the count only after
     * the spinner's next slice. And one sleep is not enough: a loaded host
     * may not run the spinner's virtual CPU for all of it (seen on a busy
     * CI host, with no kernel bug), so main sleeps up to SLEEP_ROUNDS
     * times and wants the spinner seen within one of them. */
    uint64_t seen_after = 0;
    int rounds = 0;
    while (rounds < SLEEP_ROUNDS) {
        rounds++;
        seen_in_window = 0;
        uint64_t t0 = monotonic_ns();
        window_start = t0;
        sleep_ns(30 * MS);
        window_start = 0;
        uint64_t seen = seen_in_window;
        if (seen > t0 && seen < t0 + 30 * MS) {
            seen_after = seen - t0;
            break;
        }
    }
    CHECK(!waiter_woke, "the waiter returned from pthread_cond_wait with no signal");
    CHECK(seen_after > 0, "the spinner did not run during any of %d nanosleeps of 30 ms by the main thread", rounds);
    uint64_t t0 = monotonic_ns();
    unsigned long mine = 0;
    while (monotonic_ns() - t0 < 30 * MS)
        mine++;
    CHECK(!waiter_woke, "the waiter returned from pthread_cond_wait with no signal");
    pthread_mutex_lock(&glock);
    go = 1;
    pthread_cond_signal(&gcond);
    pthread_mutex_unlock(&glock);
    join(w, "waiter");
    CHECK(waiter_woke, "the waiter was joined without having woken");
    stop_spinning = 1;
    join(s, "spinner");
    printf("thread_condvar_and_sleep: a thread blocked in pthread_cond_wait stayed blocked while "
           "a spinner ran (%llu us into a 30 ms nanosleep of the main thread, its sleep %d of at most "
           "%d; main spun %lu times alongside it), then pthread_cond_signal woke it\n",
           (unsigned long long)seen_after / 1000, rounds, SLEEP_ROUNDS, mine);
}

/* ---- 3. parallel sleeps ---- */
static void *sleeper(void *arg)
{
    uint64_t *slept = arg;
    uint64_t t0 = monotonic_ns();
    struct timespec ts = {0, 100 * MS};
    int r = nanosleep(&ts, NULL);
    *slept = r == 0 ? monotonic_ns() - t0 : 0;
    return NULL;
}

static void parallel_sleeps(void)
{
    pthread_t t[4];
    uint64_t slept[4];
    uint64_t t0 = monotonic_ns();
    for (int i = 0; i < 4; i++)
        create(&t[i], sleeper, &slept[i], "sleeper");
    for (int i = 0; i < 4; i++)
        join(t[i], "sleeper");
    uint64_t total = monotonic_ns() - t0;
    for (int i = 0; i < 4; i++)
        CHECK(slept[i] >= 100 * MS, "sleeper %d: nanosleep(100 ms) returned after %llu us", i,
              (unsigned long long)slept[i] / 1000);
    CHECK(total < 300 * MS, "4 threads sleeping 100 ms at once took %llu ms together, want < 300",
          (unsigned long long)total / MS);
    printf("thread_condvar_and_sleep: 4 threads slept 100 ms each, %llu ms in all\n",
           (unsigned long long)total / MS);
}

/* ---- 4. a timed wait that times out ---- */
static void timed_wait(void)
{
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t c = PTHREAD_COND_INITIALIZER;
    struct timespec deadline;
    /* t0 before the deadline is read: the other way round, a pause of the
     * thread (or of its virtual CPU on a loaded host) between the two reads
     * moved t0 past the deadline's start, and `took` came out short of
     * 30 ms (25.2 ms seen) with the wait itself on time. */
    uint64_t t0 = monotonic_ns();
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_nsec += 30 * MS;
    if (deadline.tv_nsec >= 1000000000) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&m);
    int r = pthread_cond_timedwait(&c, &m, &deadline);
    pthread_mutex_unlock(&m);
    uint64_t took = monotonic_ns() - t0;
    struct timespec after;
    clock_gettime(CLOCK_REALTIME, &after);
    CHECK(after.tv_sec > deadline.tv_sec || (after.tv_sec == deadline.tv_sec && after.tv_nsec >= deadline.tv_nsec),
          "pthread_cond_timedwait returned at CLOCK_REALTIME %lld.%09ld, before its deadline %lld.%09ld",
          (long long)after.tv_sec, after.tv_nsec, (long long)deadline.tv_sec, deadline.tv_nsec);
    CHECK(r == ETIMEDOUT, "pthread_cond_timedwait (30 ms, no signal) returned %d (%s), want "
          "ETIMEDOUT", r, strerror(r));
    CHECK(took >= 30 * MS && took < 1000 * MS, "pthread_cond_timedwait (30 ms) returned after %llu us",
          (unsigned long long)took / 1000);
    printf("thread_condvar_and_sleep: pthread_cond_timedwait timed out after %llu ms (30 ms "
           "asked)\n", (unsigned long long)took / MS);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    producer_consumer();
    blocked_while_others_run();
    parallel_sleeps();
    timed_wait();
    return 0;
}
