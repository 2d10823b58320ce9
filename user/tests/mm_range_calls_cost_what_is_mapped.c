/*
 * mm_range_calls_cost_what_is_mapped: mprotect, madvise, munmap, fork and
 * MAP_POPULATE over a 4 TiB MAP_NORESERVE mapping holding three pages take
 * the time of those three pages, not of the 2^30 pages asked for: the kernel
 * walks the translation tables that exist and skips the empty ones (Linux's
 * change_pmd_range, zap_pmd_range: pmd_none_or_clear_bad -> next).
 *
 * Before: mprotect looked every page of its range up from the root, with
 * interrupts masked; mprotect(p, 1 << 42, PROT_READ) ran 35 s past a 2 s time
 * limit (about 35 minutes at 1 << 47), and MAP_POPULATE of a PROT_NONE
 * mapping tried to fault in every page of it.
 *
 * Each step must take less than 2 s (the unfixed kernel took minutes and
 * never let the time limit end it); the pages' contents and protections
 * must be what Linux gives.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "refpage_test.h"

#define PAGE 4096ULL
#define HUGE (1ULL << 42)
#define LIMIT_NS 2000000000ULL

static uint64_t t0;
static void start(void) { t0 = monotonic_ns(); }
static void done(const char *what)
{
    uint64_t ns = monotonic_ns() - t0;
    printf("%s over %llu GiB: %llu us\n", what, (unsigned long long)(HUGE >> 30), (unsigned long long)(ns / 1000));
    CHECK(ns < LIMIT_NS, "%s took %llu ms; the work must follow what is mapped (3 pages)", what,
          (unsigned long long)(ns / 1000000));
}

/* 1 if a write to p from a child is refused with SIGSEGV. */
static int write_faults(volatile unsigned char *p)
{
    pid_t pid = fork_checked();
    if (pid == 0) {
        *p = 1;
        _exit(0);
    }
    int st = wait_for(pid);
    return WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV;
}

int main(void)
{
    unsigned char *p = mmap(NULL, HUGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    CHECK(p != MAP_FAILED, "mmap of %llu bytes, PROT_NONE, MAP_NORESERVE: %s", HUGE, strerror(errno));
    volatile unsigned char *page[3] = { p, p + HUGE / 2 + 5 * PAGE, p + HUGE - PAGE };

    start();
    CHECK(mprotect(p, HUGE, PROT_READ | PROT_WRITE) == 0, "mprotect RW: %s", strerror(errno));
    done("mprotect(PROT_READ|PROT_WRITE)");
    for (int i = 0; i < 3; i++)
        *page[i] = (unsigned char)(0x41 + i);

    start();
    CHECK(mprotect(p, HUGE, PROT_READ) == 0, "mprotect R: %s", strerror(errno));
    done("mprotect(PROT_READ) with 3 pages present");
    for (int i = 0; i < 3; i++) {
        CHECK(*page[i] == 0x41 + i, "page %d reads %#x after mprotect, want %#x", i, *page[i], 0x41 + i);
        CHECK(write_faults(page[i]), "page %d is still writable after mprotect(PROT_READ)", i);
    }

    CHECK(mprotect(p, HUGE, PROT_READ | PROT_WRITE) == 0, "mprotect RW again: %s", strerror(errno));
    start();
    pid_t pid = fork_checked();
    if (pid == 0) {
        for (int i = 0; i < 3; i++)
            if (*page[i] != 0x41 + i)
                _exit(10 + i);
        *page[1] = 0x7f; /* copy-on-write: the parent keeps its byte */
        _exit(0);
    }
    int st = wait_for(pid);
    done("fork, child's reads and exit");
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child saw other bytes: %s", wait_status_str(st));
    CHECK(*page[1] == 0x42, "the child's write reached the parent: %#x", *page[1]);

    start();
    CHECK(madvise(p, HUGE, MADV_DONTNEED) == 0, "madvise DONTNEED: %s", strerror(errno));
    done("madvise(MADV_DONTNEED)");
    for (int i = 0; i < 3; i++)
        CHECK(*page[i] == 0, "page %d reads %#x after MADV_DONTNEED, want 0", i, *page[i]);

    start();
    CHECK(munmap(p, HUGE) == 0, "munmap: %s", strerror(errno));
    done("munmap");

    /* Linux populates nothing that cannot be accessed (populate_vma_page_range
     * refuses PROT_NONE): the call returns at once. */
    start();
    unsigned char *q =
        mmap(NULL, HUGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_POPULATE, -1, 0);
    CHECK(q != MAP_FAILED, "mmap PROT_NONE MAP_POPULATE: %s", strerror(errno));
    done("mmap(PROT_NONE, MAP_POPULATE)");
    CHECK(munmap(q, HUGE) == 0, "munmap: %s", strerror(errno));
    printf("mm_range_calls_cost_what_is_mapped: ok\n");
    return 0;
}
