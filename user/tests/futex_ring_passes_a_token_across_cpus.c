/*
 * futex_ring_passes_a_token_across_cpus: N threads, one pinned to each
 * CPU (two per CPU), pass a token round a ring through futexes: thread i
 * waits (FUTEX_WAIT) until slot i holds the round number, checks the
 * shared sequence is what the ring order says, bumps it and wakes thread
 * i+1 (FUTEX_WAKE). A lost wake-up (a wake between the waiter's check
 * and its sleep, on another CPU) hangs the ring: every thread also waits
 * with a 2 s timeout and fails the test if it expires. Content check: the
 * sequence counter must read exactly i + round * N at thread i's turn.
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <time.h>

#include "smp_test.h"

enum { MAX_THREADS = 2 * SMP_TEST_MAX_CPUS, ROUNDS = 200 };

static int threads, cpus;
static atomic_int slot[MAX_THREADS];
static long sequence;

static long futex(atomic_int *addr, int op, int val, const struct timespec *timeout)
{
    return syscall(SYS_futex, addr, op | FUTEX_PRIVATE_FLAG, val, timeout, NULL, 0);
}

static void *member(void *arg)
{
    int i = (int)(long)arg;
    CHECK(pin_to(i % cpus) == 0, "thread %d: pin to CPU %d failed", i, i % cpus);
    for (int round = 0; round < ROUNDS; round++) {
        int want = round + 1;
        while (atomic_load(&slot[i]) != want) {
            struct timespec two_s = {2, 0};
            int seen = atomic_load(&slot[i]);
            if (seen == want)
                break;
            CHECK(seen == round, "thread %d round %d: slot holds %d", i, round, seen);
            long r = futex(&slot[i], FUTEX_WAIT, seen, &two_s);
            CHECK(r == 0 || errno == EAGAIN || errno == EINTR,
                  "thread %d round %d: futex wait: %s (slot %d, sequence %ld): a lost wake-up", i, round,
                  strerror(errno), atomic_load(&slot[i]), sequence);
        }
        CHECK(sequence == (long)round * threads + i, "thread %d round %d: sequence %ld, want %ld", i, round, sequence,
              (long)round * threads + i);
        sequence++;
        int next = (i + 1) % threads;
        /* The next thread's turn is round + 1 for those after us in this
         * round, round + 2 for thread 0 (its next round). */
        atomic_store(&slot[next], next == 0 ? round + 2 : round + 1);
        futex(&slot[next], FUTEX_WAKE, 1, NULL);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    cpus = test_cpus(argc, argv);
    threads = 2 * cpus < 3 ? 3 : 2 * cpus;
    pthread_t t[MAX_THREADS];
    atomic_store(&slot[0], 1);
    for (int i = 0; i < threads; i++)
        CHECK(pthread_create(&t[i], NULL, member, (void *)(long)i) == 0, "pthread_create %d failed", i);
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    CHECK(sequence == (long)ROUNDS * threads, "sequence %ld after the rounds, want %ld", sequence,
          (long)ROUNDS * threads);
    printf("%d threads on %d CPUs passed the token %ld times\n", threads, cpus, sequence);
    return 0;
}
