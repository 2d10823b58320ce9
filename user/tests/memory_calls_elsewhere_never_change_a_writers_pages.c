/*
 * memory_calls_elsewhere_never_change_a_writers_pages: threads pinned to
 * the other CPUs each write their own pages in a loop and read back every
 * word they wrote, while the main thread, on CPU 0, runs fork (the child
 * checks its snapshot of the writers' pages is whole and exits), mprotect
 * flips, munmap and mmap of 3 MiB (page tables freed and made), and
 * MADV_DONTNEED of another range, as fast as it can. Every word a writer
 * reads back is its last write: each fork write-protects the writers'
 * pages under their feet (their next store faults and copies, and the copy
 * must hold every store made through the old entry), and no invalidation,
 * free or copy for one range lands in another. Also checked: the range
 * flipped read-only faults for the main thread's store, the remapped range
 * reads zero, the range advised away reads zero.
 *
 * One CPU interleaves the threads at slice ends and the random yields;
 * with four (make test's SMP=4 boot) the writers run at EL0 beside every
 * call. Takes the CPU count as its first argument, as smp_test.h's tests.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "smp_test.h"

#define WRITER_PAGES 8
#define WORDS (WRITER_PAGES * 4096 / 8)
#define STRIDE 61 /* words apart: every page, several cache lines */
#define ROUNDS 24
#define BIG (3UL << 20)

static int cpus;
static atomic_int stop, failed;
static volatile uint64_t *writer_pages[SMP_TEST_MAX_CPUS];
static atomic_ulong passes[SMP_TEST_MAX_CPUS];

static void *writer(void *arg)
{
    int w = (int)(intptr_t)arg;
    if (cpus > 1 && pin_to(w % cpus) != 0) {
        fprintf(stderr, "writer %d: pin to cpu %d failed\n", w, w % cpus);
        atomic_store(&failed, 1);
        return NULL;
    }
    volatile uint64_t *p = writer_pages[w];
    for (uint64_t pass = 1; !atomic_load(&stop); pass++) {
        uint64_t tag = (uint64_t)w << 56 | pass << 20;
        for (size_t i = 0; i < WORDS; i += STRIDE)
            p[i] = tag | i;
        for (size_t i = 0; i < WORDS; i += STRIDE) {
            if (p[i] != (tag | i)) {
                fprintf(stderr, "writer %d on cpu %d, pass %lu: word %zu holds %#lx, wrote %#lx\n", w,
                        current_cpu(), (unsigned long)pass, i, (unsigned long)p[i], (unsigned long)(tag | i));
                atomic_store(&failed, 1);
                return NULL;
            }
        }
        atomic_store(&passes[w], pass);
    }
    return NULL;
}

static sigjmp_buf env;
static void on_segv(int sig)
{
    (void)sig;
    siglongjmp(env, 1);
}

/* The child's check: each writer's pages hold one pass up to some word and
 * the pass before after it (the writer was mid-pass at the fork), or one
 * pass throughout; nothing else. */
static int child_checks(int writers)
{
    for (int w = 1; w <= writers; w++) {
        volatile uint64_t *p = writer_pages[w];
        uint64_t first = p[0] >> 20 & 0xfffffffffUL;
        for (size_t i = 0; i < WORDS; i += STRIDE) {
            uint64_t v = p[i];
            uint64_t pass = v >> 20 & 0xfffffffffUL;
            if (v >> 56 != (uint64_t)w || (v & 0xfffff) != i || (pass != first && pass + 1 != first)) {
                fprintf(stderr, "child: writer %d's word %zu holds %#lx (first word's pass %lu)\n", w, i,
                        (unsigned long)v, (unsigned long)first);
                return 1;
            }
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    cpus = test_cpus(argc, argv);
    int writers = cpus > 1 ? cpus - 1 : 2;
    CHECK(pin_to(0) == 0, "pin to cpu 0");
    for (int w = 1; w <= writers; w++) {
        writer_pages[w] = mmap(NULL, WORDS * 8, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        CHECK(writer_pages[w] != MAP_FAILED, "mmap: %m");
        for (size_t i = 0; i < WORDS; i += STRIDE)
            writer_pages[w][i] = (uint64_t)w << 56 | i;
    }
    volatile uint64_t *flip = mmap(NULL, 16 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    volatile uint64_t *advised = mmap(NULL, 16 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(flip != MAP_FAILED && advised != MAP_FAILED, "mmap: %m");
    struct sigaction sa = {.sa_handler = on_segv};
    CHECK(sigaction(SIGSEGV, &sa, NULL) == 0, "sigaction");
    pthread_t t[SMP_TEST_MAX_CPUS];
    for (int w = 1; w <= writers; w++)
        CHECK(pthread_create(&t[w], NULL, writer, (void *)(intptr_t)w) == 0, "pthread_create");
    for (int w = 1; w <= writers; w++)
        while (atomic_load(&passes[w]) == 0 && !atomic_load(&failed))
            sched_yield();
    int forks = 0, faults = 0;
    for (int r = 0; r < ROUNDS && !atomic_load(&failed); r++) {
        /* fork: the child checks its snapshot. */
        pid_t pid = fork();
        CHECK(pid >= 0, "fork: %m");
        if (pid == 0)
            _exit(child_checks(writers));
        int status;
        CHECK(waitpid(pid, &status, 0) == pid, "waitpid: %m");
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "round %d: the child's snapshot was torn (status %#x)",
              r, status);
        forks++;
        /* mprotect: read-only faults the main thread's store. */
        for (int i = 0; i < 16; i++)
            flip[i * 512] = r;
        CHECK(mprotect((void *)flip, 16 * 4096, PROT_READ) == 0, "mprotect: %m");
        if (sigsetjmp(env, 1) == 0) {
            flip[(r % 16) * 512] = 0xbad;
            CHECK(0, "round %d: a store to a page made read-only did not fault", r);
        }
        faults++;
        CHECK(flip[(r % 16) * 512] == (uint64_t)r, "round %d: read-only page holds %#lx", r,
              (unsigned long)flip[(r % 16) * 512]);
        CHECK(mprotect((void *)flip, 16 * 4096, PROT_READ | PROT_WRITE) == 0, "mprotect: %m");
        /* munmap and mmap: tables freed and made; fresh memory reads zero. */
        volatile uint64_t *big = mmap(NULL, BIG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        CHECK(big != MAP_FAILED, "mmap: %m");
        for (size_t off = 0; off < BIG / 8; off += 4096 / 8 * 17) {
            CHECK(big[off] == 0, "round %d: fresh memory at +%#zx holds %#lx", r, off * 8, (unsigned long)big[off]);
            big[off] = off;
        }
        CHECK(munmap((void *)big, BIG) == 0, "munmap: %m");
        /* MADV_DONTNEED: the pages read zero again. */
        for (int i = 0; i < 16; i++)
            advised[i * 512] = 0x5a00 + i;
        CHECK(madvise((void *)advised, 16 * 4096, MADV_DONTNEED) == 0, "madvise: %m");
        for (int i = 0; i < 16; i++)
            CHECK(advised[i * 512] == 0, "round %d: page %d advised away holds %#lx", r, i,
                  (unsigned long)advised[i * 512]);
    }
    atomic_store(&stop, 1);
    for (int w = 1; w <= writers; w++)
        CHECK(pthread_join(t[w], NULL) == 0, "pthread_join");
    CHECK(!atomic_load(&failed), "a writer saw its memory change (above)");
    unsigned long least = ~0UL;
    for (int w = 1; w <= writers; w++)
        least = atomic_load(&passes[w]) < least ? atomic_load(&passes[w]) : least;
    printf("memory_calls_elsewhere_never_change_a_writers_pages: %d writers, %d forks, %d read-only faults, "
           "fewest passes %lu\n",
           writers, forks, faults, least);
    return 0;
}
