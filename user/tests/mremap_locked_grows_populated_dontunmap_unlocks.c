/*
 * mremap_locked_grows_populated_dontunmap_unlocks: mremap of mlocked memory
 * as Linux 6.1 does it (mm/mremap.c). Growing a VM_LOCKED mapping, in
 * place or by a move, populates the grown part at once
 * (SYSCALL_DEFINE5(mremap): mm_populate(new_addr + old_len, new_len -
 * old_len) when `locked`), so VmLck and Locked count it and mincore sees
 * it resident; a lock-on-fault mapping grows without pages. MREMAP_DONTUNMAP
 * of a locked range leaves the old range unlocked (move_vma: "We always
 * clear VM_LOCKED[ONFAULT] on the old vma", after splitting it off), the
 * moved pages locked at their new place, VmLck unchanged.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mm_test.h"

#define PAGES 8

static int locked_flag(const void *p)
{
    return strstr(smaps_vmflags(p), " lo ") != NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    long vmlck0 = proc_kb("/proc/self/status", "VmLck:");

    /* Grown in place: room after it (the second half unmapped). */
    unsigned char *p = mmap(NULL, 2 * PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED, "mmap: %m");
    CHECK(munmap(p + PAGES * PAGE, PAGES * PAGE) == 0, "munmap: %m");
    CHECK(mlock(p, PAGES * PAGE) == 0, "mlock: %m");
    CHECK(mremap(p, PAGES * PAGE, 2 * PAGES * PAGE, 0) == p, "mremap in place: %m");
    size_t r = resident_pages(p, 2 * PAGES);
    CHECK(r == 2 * PAGES, "grown in place: %zu of %d pages resident, the grown part was not populated", r,
          2 * PAGES);
    long lck = proc_kb("/proc/self/status", "VmLck:") - vmlck0;
    CHECK(lck == 2 * PAGES * 4, "VmLck +%ld kB after growing a locked mapping in place, want %d", lck, 2 * PAGES * 4);
    CHECK(smaps_field(p, "Locked:") == 2 * PAGES * 4, "Locked %ld kB", smaps_field(p, "Locked:"));
    printf("locked mapping grown in place: the %d new pages resident and locked\n", PAGES);

    /* Grown by a move: a guard page after it. */
    unsigned char *q = mmap(NULL, PAGES * PAGE + PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(q != MAP_FAILED, "mmap: %m");
    CHECK(mprotect(q + PAGES * PAGE, PAGE, PROT_NONE) == 0, "mprotect: %m");
    CHECK(mlock(q, PAGES * PAGE) == 0, "mlock: %m");
    q[0] = 0x42;
    unsigned char *moved = mremap(q, PAGES * PAGE, 4 * PAGES * PAGE, MREMAP_MAYMOVE);
    CHECK(moved != MAP_FAILED && moved != q, "mremap move: %p %m", moved);
    CHECK(moved[0] == 0x42, "the moved page lost its contents");
    r = resident_pages(moved, 4 * PAGES);
    CHECK(r == 4 * PAGES, "grown by a move: %zu of %d pages resident", r, 4 * PAGES);
    CHECK(locked_flag(moved), "the moved mapping lost its lock:%s", smaps_vmflags(moved));
    printf("locked mapping grown by a move: all %d pages resident\n", 4 * PAGES);

    /* Lock-on-fault: grown without population. */
    unsigned char *f = mmap(NULL, 2 * PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(f != MAP_FAILED, "mmap: %m");
    CHECK(munmap(f + PAGES * PAGE, PAGES * PAGE) == 0, "munmap: %m");
    CHECK(mlock2(f, PAGES * PAGE, MLOCK_ONFAULT) == 0, "mlock2: %m");
    CHECK(mremap(f, PAGES * PAGE, 2 * PAGES * PAGE, 0) == f, "mremap in place: %m");
    CHECK(resident_pages(f, 2 * PAGES) == 0, "a lock-on-fault mapping was populated: %zu pages",
          resident_pages(f, 2 * PAGES));
    printf("lock-on-fault mapping grown: nothing populated\n");
    CHECK(munmap(f, 2 * PAGES * PAGE) == 0, "munmap: %m");
    CHECK(munmap(moved, 4 * PAGES * PAGE) == 0, "munmap: %m");
    CHECK(munmap(p, 2 * PAGES * PAGE) == 0, "munmap: %m");

    /* MREMAP_DONTUNMAP of the middle of a locked mapping. */
    long before = proc_kb("/proc/self/status", "VmLck:");
    unsigned char *d = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(d != MAP_FAILED, "mmap: %m");
    CHECK(mlock(d, 3 * PAGE) == 0, "mlock: %m");
    d[PAGE] = 0x77;
    unsigned char *n = mremap(d + PAGE, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL);
    CHECK(n != MAP_FAILED, "mremap DONTUNMAP: %m");
    CHECK(n[0] == 0x77, "the moved page reads %#x", n[0]);
    CHECK(locked_flag(n), "the new range is not locked:%s", smaps_vmflags(n));
    CHECK(!locked_flag(d + PAGE), "the old range is still locked after MREMAP_DONTUNMAP:%s",
          smaps_vmflags(d + PAGE));
    CHECK(locked_flag(d) && locked_flag(d + 2 * PAGE), "the old range's neighbours lost their lock");
    CHECK(resident_pages(d + PAGE, 1) == 0, "the old range has a page");
    long after = proc_kb("/proc/self/status", "VmLck:");
    CHECK(after - before == 3 * 4, "VmLck +%ld kB after locking 3 pages and moving 1 with DONTUNMAP, want 12",
          after - before);
    CHECK(d[PAGE] == 0, "the old range reads %#x, not a fresh page", d[PAGE]);
    printf("MREMAP_DONTUNMAP of a locked page: the old range unlocked, the new one locked, VmLck +%ld kB\n",
           after - before);
    printf("mremap_locked_grows_populated_dontunmap_unlocks: ok\n");
    return 0;
}
