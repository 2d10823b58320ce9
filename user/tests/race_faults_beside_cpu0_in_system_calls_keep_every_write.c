/*
 * race_faults_beside_cpu0_in_system_calls_keep_every_write: while the main
 * thread, pinned to CPU 0, makes system calls without a pause (each one
 * holds the big kernel lock from its entry to its return), workers pinned
 * to the other CPUs fault fresh anonymous pages in: a read of each page
 * (the zero page mapped) that must see zero, then a write (a zeroed frame
 * of its own) and a read back of every write once the mapping is full.
 * Workers are processes of their own (one per CPU) and threads of one
 * process (one per CPU), so that both the faults of different address
 * spaces and those of one space meet the lock holder.
 *
 * These faults are the ones the fault path resolves without the kernel
 * lock (docs/smp.md, section 1): on four CPUs they run while CPU 0 holds
 * it, and the runner's closing line counts them ("... of them while
 * another CPU held it"; tests/run.sh wants some in the SMP=4 boot). What
 * this program checks is what they must keep: every page reads zero
 * before its write and holds every word written after, in every round,
 * on the CPU the worker was pinned to. With one CPU the workers
 * interleave with the main thread at slice ends.
 *
 * Takes the CPU count as its first argument, as smp_test.h's tests.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "smp_test.h"

#define PAGES 256 /* 1 MiB a round */
#define ROUNDS 6
#define WORDS_PER_PAGE (4096 / 8)

/* Shared with the forked workers: when to stop the main thread's calls,
 * and the pages each worker faulted in. */
struct shared {
    atomic_int workers_left;
    atomic_ulong pages_faulted;
};

static int cpus;
static struct shared *shared;

/* One worker's rounds on `cpu`: 0, or 1 after printing what it saw. */
static int fault_rounds(int id, int cpu)
{
    if (cpus > 1 && pin_to(cpu) != 0) {
        fprintf(stderr, "worker %d: pin to cpu %d failed\n", id, cpu);
        return 1;
    }
    for (int r = 0; r < ROUNDS; r++) {
        volatile uint64_t *m =
            mmap(NULL, PAGES * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED) {
            perror("mmap");
            return 1;
        }
        uint64_t tag = (uint64_t)id << 48 | (uint64_t)r << 32;
        for (size_t p = 0; p < PAGES; p++) {
            volatile uint64_t *page = m + p * WORDS_PER_PAGE;
            uint64_t first = page[p % WORDS_PER_PAGE];
            if (first != 0) {
                fprintf(stderr, "worker %d round %d: fresh page %zu reads %#lx, not zero\n", id, r, p,
                        (unsigned long)first);
                return 1;
            }
            page[(p * 7) % (WORDS_PER_PAGE - 1)] = tag | p;
            page[WORDS_PER_PAGE - 1] = ~(tag | p);
        }
        for (size_t p = 0; p < PAGES; p++) {
            volatile uint64_t *page = m + p * WORDS_PER_PAGE;
            uint64_t a = page[(p * 7) % (WORDS_PER_PAGE - 1)], b = page[WORDS_PER_PAGE - 1];
            if (a != (tag | p) || b != ~(tag | p)) {
                fprintf(stderr, "worker %d round %d on cpu %d: page %zu holds %#lx and %#lx, wrote %#lx and %#lx\n",
                        id, r, current_cpu(), p, (unsigned long)a, (unsigned long)b, (unsigned long)(tag | p),
                        (unsigned long)~(tag | p));
                return 1;
            }
        }
        if (cpus > 1 && current_cpu() != cpu) {
            fprintf(stderr, "worker %d: on cpu %d, pinned to %d\n", id, current_cpu(), cpu);
            return 1;
        }
        if (munmap((void *)m, PAGES * 4096) != 0) {
            perror("munmap");
            return 1;
        }
        atomic_fetch_add(&shared->pages_faulted, PAGES);
    }
    return 0;
}

static void *worker_thread(void *arg)
{
    int id = (int)(intptr_t)arg;
    return (void *)(intptr_t)fault_rounds(id, 1 + (id - 1) % (cpus > 1 ? cpus - 1 : 1));
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    cpus = test_cpus(argc, argv);
    int per_group = cpus > 1 ? cpus - 1 : 2;
    CHECK(pin_to(0) == 0, "pin to cpu 0");
    shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(shared != MAP_FAILED, "mmap shared: %m");
    /* per_group processes, and one process of per_group threads. */
    atomic_store(&shared->workers_left, per_group + 1);
    pid_t pids[SMP_TEST_MAX_CPUS + 1];
    for (int w = 0; w <= per_group; w++) {
        pids[w] = fork();
        CHECK(pids[w] >= 0, "fork: %m");
        if (pids[w] == 0) {
            int status = 0;
            if (w < per_group) {
                status = fault_rounds(w + 1, 1 + w % (cpus > 1 ? cpus - 1 : 1));
            } else {
                pthread_t t[SMP_TEST_MAX_CPUS];
                for (int i = 0; i < per_group; i++)
                    CHECK(pthread_create(&t[i], NULL, worker_thread, (void *)(intptr_t)(100 + i)) == 0,
                          "pthread_create");
                for (int i = 0; i < per_group; i++) {
                    void *ret;
                    pthread_join(t[i], &ret);
                    status |= (int)(intptr_t)ret;
                }
            }
            atomic_fetch_sub(&shared->workers_left, 1);
            _exit(status);
        }
    }
    /* CPU 0: system calls back to back until every worker is done. */
    unsigned long calls = 0;
    while (atomic_load(&shared->workers_left) > 0) {
        unsigned long mask[4];
        syscall(SYS_getppid);
        syscall(SYS_sched_getaffinity, 0, sizeof(mask), mask);
        calls += 2;
    }
    for (int w = 0; w <= per_group; w++) {
        int status;
        CHECK(waitpid(pids[w], &status, 0) == pids[w], "waitpid: %m");
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "worker group %d ended with status %#x", w, status);
    }
    unsigned long want = (unsigned long)per_group * 2 * ROUNDS * PAGES;
    CHECK(atomic_load(&shared->pages_faulted) == want, "%lu pages faulted, want %lu",
          atomic_load(&shared->pages_faulted), want);
    printf("race_faults_beside_cpu0_in_system_calls_keep_every_write: %lu pages on %d CPUs beside %lu system calls "
           "on CPU 0\n",
           want, cpus > 1 ? cpus - 1 : 1, calls);
    return 0;
}
