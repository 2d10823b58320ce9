/*
 * race_test.h - what the race_* tests in user/tests/ share: threads that
 * start together (race_run), a retry of a load or store after SIGSEGV
 * (RACE_RETRY), a small random generator for where to yield, and the
 * page size. Each race test is correct with any number of CPUs: on one,
 * the threads interleave where the timer preempts them and where
 * race_maybe_yield() gives the CPU away between two steps; on several,
 * they also run at the same instant. docs/smp.md ("Tests") lists them.
 */
#ifndef RACE_TEST_H
#define RACE_TEST_H

#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdint.h>

#include "refpage_test.h"

#define RACE_PAGE 4096UL
#define RACE_MAX_THREADS 8

/* ---- threads that start together ---- */

struct race_start {
    pthread_barrier_t barrier;
    void (*fn)(int id, void *arg);
    void *arg;
};

struct race_thread {
    struct race_start *start;
    int id;
};

static void *race_thread_main(void *p)
{
    struct race_thread *t = p;
    pthread_barrier_wait(&t->start->barrier);
    t->start->fn(t->id, t->start->arg);
    return NULL;
}

/*
 * race_run(n, fn, arg): runs fn(id, arg) in n new threads (id 0 to n - 1),
 * which all pass one barrier before calling fn, and joins them. The caller
 * is not one of the n.
 */
static inline void race_run(int n, void (*fn)(int id, void *arg), void *arg)
{
    CHECK(n > 0 && n <= RACE_MAX_THREADS, "race_run: %d threads", n);
    struct race_start start = {.fn = fn, .arg = arg};
    struct race_thread t[RACE_MAX_THREADS];
    pthread_t tid[RACE_MAX_THREADS];
    CHECK(pthread_barrier_init(&start.barrier, NULL, (unsigned)n) == 0, "pthread_barrier_init");
    for (int i = 0; i < n; i++) {
        t[i] = (struct race_thread){.start = &start, .id = i};
        int e = pthread_create(&tid[i], NULL, race_thread_main, &t[i]);
        CHECK(e == 0, "pthread_create of thread %d: %s", i, strerror(e));
    }
    for (int i = 0; i < n; i++)
        CHECK(pthread_join(tid[i], NULL) == 0, "pthread_join of thread %d", i);
    pthread_barrier_destroy(&start.barrier);
}

/* ---- where to give the CPU away ---- */

/* xorshift64: the next value of *state (never 0 if the seed is not). */
static inline uint64_t race_rand(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

/* A seed per thread and round, never 0. */
static inline uint64_t race_seed(int id, int round)
{
    return 0x9e3779b97f4a7c15ULL * (uint64_t)(id + 1) + 0xbf58476d1ce4e5b9ULL * (uint64_t)(round + 1);
}

/*
 * sched_yield() once in `one_in` calls (at random): on one CPU another
 * thread then runs between this thread's two steps, as it would beside it
 * on a second CPU.
 */
static inline void race_maybe_yield(uint64_t *rng, unsigned one_in)
{
    if (race_rand(rng) % one_in == 0)
        sched_yield();
}

/*
 * The k-th of `pages` pages that thread id of n visits: each thread starts
 * at its own share of the ring and goes all the way round, so every page
 * is met by every thread, by each at a different time.
 */
static inline int race_page(int id, int n, int k, int pages)
{
    return (id * pages / n + k) % pages;
}

/* ---- a load or store retried after SIGSEGV ---- */

/*
 * Each thread arms its own jump buffer over [lo, hi); a SIGSEGV whose
 * address lies there jumps back to RACE_RETRY's sigsetjmp, anything else
 * is a failure. The handler has SA_NODEFER and sigsetjmp saves no mask (no
 * system call per access), so SIGSEGV stays unblocked after the jump.
 */
static __thread sigjmp_buf race_jb;
static __thread volatile int race_armed;
static __thread volatile uintptr_t race_lo, race_hi;

static void race_segv_handler(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    uintptr_t a = (uintptr_t)si->si_addr & ~(0xffULL << 56);
    if (race_armed && a >= race_lo && a < race_hi)
        siglongjmp(race_jb, 1);
    static const char msg[] = "race_test: SIGSEGV outside the armed range\n";
    ssize_t w = write(2, msg, sizeof(msg) - 1);
    (void)w;
    _exit(3);
}

/* Installs the handler (once per process; threads share it). */
static inline void race_catch_segv(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = race_segv_handler;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGSEGV, &sa, NULL) == 0, "sigaction(SIGSEGV): %s", strerror(errno));
}

/* This thread's SIGSEGVs in [lo, lo + len) jump back to RACE_RETRY. */
static inline void race_arm(const volatile void *lo, size_t len)
{
    race_lo = (uintptr_t)lo;
    race_hi = (uintptr_t)lo + len;
    race_armed = 1;
}

/*
 * RACE_RETRY(faults) { block }: runs the block; each time an access in it
 * raises SIGSEGV in the armed range, adds one to `faults` (a volatile
 * counter), gives the CPU away (whoever changed the mapping must run for
 * the retry to differ) and runs the block again from its start. Locals the
 * block changes must be volatile (they live across the jump).
 */
#define RACE_RETRY(faults)                                                      \
    while (sigsetjmp(race_jb, 0) != 0) {                                        \
        (faults)++;                                                             \
        sched_yield();                                                          \
    }

#endif
