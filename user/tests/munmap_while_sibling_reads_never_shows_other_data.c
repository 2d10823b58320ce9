/*
 * munmap_while_sibling_reads_never_shows_other_data: a thread reading a
 * range that another thread unmaps sees the old contents or gets SIGSEGV,
 * never the data of whoever gets the freed frames next (here a child
 * process that fills fresh memory with its own pattern right after the
 * munmap). Another CPU may hold a translation of the range until the
 * broadcast TLB invalidation has completed: munmap frees the frames (and
 * the page tables) only after it (Linux's mmu_gather; mm/tlb_gather.rs).
 * Run with SMP=4 too (make test does), where the reader runs beside the
 * munmap.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "refpage_test.h"

/* 4 MiB: the range's own level-3 tables are freed by the munmap too. */
#define LEN (4UL << 20)
#define WORDS (LEN / sizeof(uint64_t))
#define ROUNDS 12
#define OURS 0xa5a5a5a500000000ULL
#define THEIRS 0xc3c3c3c3c3c3c3c3ULL

static _Atomic(uint64_t *) range;
/* How many ranges were published, and which one the reader is reading
 * (its SIGSEGV says that one is gone; the next may be at the same place). */
static atomic_int published, reading;
static atomic_int stop, segvs, reads;
static atomic_ulong bad;
static sigjmp_buf env;

static void on_segv(int sig)
{
    (void)sig;
    siglongjmp(env, 1);
}

static void *reader(void *arg)
{
    (void)arg;
    if (sigsetjmp(env, 1)) {
        atomic_fetch_add(&segvs, 1);
        /* Wait for the next range. */
        while (atomic_load(&published) == atomic_load(&reading) && !atomic_load(&stop))
            sched_yield();
    }
    while (!atomic_load(&stop)) {
        atomic_store(&reading, atomic_load(&published));
        volatile uint64_t *p = atomic_load(&range);
        for (size_t i = 0; i < WORDS; i += 512) {
            uint64_t v = p[i];
            if ((v & 0xffffffff00000000ULL) != OURS)
                atomic_store(&bad, v);
        }
        atomic_fetch_add(&reads, 1);
    }
    return NULL;
}

static uint64_t *fill_new(int round)
{
    uint64_t *p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED, "mmap: %m");
    for (size_t i = 0; i < WORDS; i += 512)
        p[i] = OURS | (uint64_t)round;
    return p;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct sigaction sa = {.sa_handler = on_segv};
    CHECK(sigaction(SIGSEGV, &sa, NULL) == 0, "sigaction: %m");
    atomic_store(&range, fill_new(0));
    pthread_t t;
    CHECK(pthread_create(&t, NULL, reader, NULL) == 0, "pthread_create");
    for (int round = 1; round <= ROUNDS; round++) {
        int before = atomic_load(&reads);
        while (atomic_load(&reads) < before + 2)
            sched_yield();
        uint64_t *old = atomic_load(&range);
        CHECK(munmap(old, LEN) == 0, "munmap: %m");
        /* Someone else's data in fresh frames, as soon as possible. */
        pid_t pid = fork();
        CHECK(pid >= 0, "fork: %m");
        if (pid == 0) {
            uint64_t *q = mmap(NULL, 2 * LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (q == MAP_FAILED)
                _exit(2);
            for (size_t i = 0; i < 2 * WORDS; i++)
                q[i] = THEIRS;
            for (int k = 0; k < 20; k++)
                sched_yield();
            _exit(0);
        }
        int status;
        CHECK(waitpid(pid, &status, 0) == pid, "waitpid: %m");
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child's fill failed (status %#x)", status);
        atomic_store(&range, fill_new(round));
        atomic_fetch_add(&published, 1);
        CHECK(atomic_load(&bad) == 0, "round %d: the reader saw %#lx in the range: not the range's own data", round,
              (unsigned long)atomic_load(&bad));
    }
    atomic_store(&stop, 1);
    CHECK(pthread_join(t, NULL) == 0, "pthread_join");
    CHECK(atomic_load(&bad) == 0, "the reader saw %#lx in the range: not the range's own data",
          (unsigned long)atomic_load(&bad));
    printf("munmap_while_sibling_reads_never_shows_other_data: %d rounds, %d passes read, %d SIGSEGV\n", ROUNDS,
           atomic_load(&reads), atomic_load(&segvs));
    CHECK(munmap(atomic_load(&range), LEN) == 0, "munmap: %m");
    return 0;
}
