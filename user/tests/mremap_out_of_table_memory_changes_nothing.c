/*
 * mremap_out_of_table_memory_changes_nothing: a move that runs out of
 * frames for the destination's page tables part-way returns ENOMEM with
 * nothing half-done (Linux's move_vma: "On error, move entries back from
 * new area to old ... then proceed to unmap new area instead of old").
 * With memory filled by a failed MADV_POPULATE_WRITE and eight frames given
 * back, 64 pages one per
 * 2 MiB window are moved one page off that alignment to a far-away
 * address, so every page needs destination tables of its own: the call
 * fails, every page still reads its own value at its old address, the
 * destination holds no mapping, and once memory is freed the same move
 * succeeds and frees every frame and table it took.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mm_test.h"

#define MB2 (2UL << 20)
#define WINDOWS 64

static long mem_free(void)
{
    return proc_kb("/proc/meminfo", "MemFree:");
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!on_refpage_kernel()) {
        printf("not the refpage kernel: filling Linux's memory would call its OOM killer; nothing to check\n");
        return 0;
    }
    const int prw = PROT_READ | PROT_WRITE;
    size_t len = WINDOWS * MB2;
    unsigned char *src = mmap(NULL, len + MB2, prw, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(src != MAP_FAILED, "mmap: %m");
    /* 2 MiB aligned, so the source tables are the windows. */
    unsigned char *s = (unsigned char *)(((uintptr_t)src + MB2 - 1) & ~(MB2 - 1));
    for (size_t w = 0; w < WINDOWS; w++)
        s[w * MB2 + PAGE] = (unsigned char)(w + 1);
    /* A destination one page off 2 MiB alignment, held by a PROT_NONE
     * mapping without pages (so no page table) that MREMAP_FIXED replaces. */
    unsigned char *far = mmap(NULL, len + 2 * MB2, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(far != MAP_FAILED, "mmap: %m");
    unsigned char *dst = (unsigned char *)(((uintptr_t)far + MB2 - 1) & ~(MB2 - 1)) + PAGE;
    long before = mem_free();

    /* Fill memory: MADV_POPULATE_WRITE keeps what it populated. */
    long total = proc_kb("/proc/meminfo", "MemTotal:");
    size_t big = ((size_t)total * 1024 + (64 << 20)) & ~(size_t)(PAGE - 1);
    unsigned char *hog = mmap(NULL, big, prw, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    CHECK(hog != MAP_FAILED, "mmap %zu MiB: %m", big >> 20);
    CHECK_ERRNO(madvise(hog, big, MADV_POPULATE_WRITE), ENOMEM);
    /* Eight frames back: the move gets some way before it stops. */
    CHECK(munmap(hog + (64 << 20), 8 * PAGE) == 0, "munmap: %m");

    void *r = mremap(s, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
    int err = errno;
    CHECK(r == MAP_FAILED && err == ENOMEM, "mremap with memory full returned %p (errno %d), want ENOMEM", r, err);
    CHECK(munmap(hog, big) == 0, "munmap: %m");
    for (size_t w = 0; w < WINDOWS; w++)
        CHECK(s[w * MB2 + PAGE] == (unsigned char)(w + 1), "after the refused move page %zu reads %u, want %zu", w,
              s[w * MB2 + PAGE], w + 1);
    CHECK(resident_pages(s, len / PAGE) == WINDOWS, "%zu pages resident in the source, want %d",
          resident_pages(s, len / PAGE), WINDOWS);
    /* Unmapped, as Linux leaves a refused MREMAP_FIXED's destination. */
    CHECK(range_is_free(dst, len), "the refused move's destination is mapped");
    printf("mremap with no memory for destination tables: ENOMEM, all %d pages where they were\n", WINDOWS);

    unsigned char *moved = mremap(s, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
    CHECK(moved == dst, "mremap with memory back: %p, %m", moved);
    for (size_t w = 0; w < WINDOWS; w++)
        CHECK(moved[w * MB2 + PAGE] == (unsigned char)(w + 1), "moved page %zu reads %u", w,
              moved[w * MB2 + PAGE]);
    CHECK(munmap(moved, len) == 0 && munmap(src, len + MB2) == 0 && munmap(far, len + 2 * MB2) == 0, "munmap: %m");
    long after = mem_free();
    CHECK(after >= before + WINDOWS * 4 - 16, "MemFree %ld kB before, %ld kB after everything was unmapped", before,
          after);
    printf("the same move with memory back: done; after munmap MemFree %ld kB (was %ld with the pages)\n", after,
           before);
    return 0;
}
