/*
 * mremap_locked_area_populates_its_growth: Linux 6.1's mremap on a locked
 * area (mm/mremap.c): the pages it grows by are populated before the call
 * returns ("if (locked && new_len > old_len) mm_populate(...)"), whether it
 * grows in place or moves; a locked area moved with MREMAP_DONTUNMAP
 * leaves its old range unlocked ("We always clear VM_LOCKED[ONFAULT] on the
 * old vma") while the new one stays locked. A lock-on-fault area's growth
 * is not populated.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "proc_test.h"
#include "refpage_test.h"

#define P 4096UL

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

static int resident(void *p, size_t pages)
{
    unsigned char v[16];
    CHECK(pages <= sizeof v && mincore(p, pages * P, v) == 0, "mincore: %m");
    int n = 0;
    for (size_t i = 0; i < pages; i++)
        n += v[i] & 1;
    return n;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* Grown in place: room reserved, then given back. */
    char *a = mmap(NULL, 8 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(a != MAP_FAILED, "mmap: %m");
    CHECK(munmap(a + P, 7 * P) == 0, "munmap: %m");
    CHECK(mlock(a, P) == 0, "mlock: %m");
    CHECK(mremap(a, P, 4 * P, 0) == a, "mremap in place: %m");
    int n = resident(a, 4);
    CHECK(n == 4, "a locked area grown in place: %d of 4 pages resident", n);

    /* Grown by a move. */
    char *b = mremap(a, 4 * P, 12 * P, MREMAP_MAYMOVE);
    CHECK(b != MAP_FAILED, "mremap move: %m");
    n = resident(b, 12);
    CHECK(n == 12, "a locked area grown by a move: %d of 12 pages resident", n);
    CHECK(smaps_field(b, "Locked:") == 48, "Locked of the moved area: %ld kB", smaps_field(b, "Locked:"));

    /* Lock on fault: nothing populated. */
    char *c = mmap(NULL, P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(c != MAP_FAILED && mlock2(c, P, MLOCK_ONFAULT) == 0, "mlock2: %m");
    char *d = mremap(c, P, 4 * P, MREMAP_MAYMOVE);
    CHECK(d != MAP_FAILED, "mremap: %m");
    n = resident(d, 4);
    CHECK(n == 0, "a lock-on-fault area's growth: %d pages resident, want 0", n);

    /* MREMAP_DONTUNMAP: the old range stays, unlocked. */
    char *e = mmap(NULL, 2 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(e != MAP_FAILED && mlock(e, 2 * P) == 0, "mlock: %m");
    char *f = mremap(e, 2 * P, 2 * P, MREMAP_MAYMOVE | MREMAP_DONTUNMAP);
    CHECK(f != MAP_FAILED, "mremap DONTUNMAP: %m");
    const char *old_flags = smaps_vmflags(e);
    CHECK(smaps_field(e, "Locked:") == 0 && !strstr(old_flags, " lo"), "the old range: Locked %ld kB, VmFlags %s",
          smaps_field(e, "Locked:"), old_flags);
    CHECK(smaps_field(f, "Locked:") == 8 && strstr(smaps_vmflags(f), " lo"), "the new range: Locked %ld kB, VmFlags %s",
          smaps_field(f, "Locked:"), smaps_vmflags(f));
    printf("mremap_locked_area_populates_its_growth: ok\n");
    return 0;
}
