/*
 * mlock_populates_and_reports_locked_memory: mlock(2) of private anonymous
 * memory maps every page at once, writable and private (Linux's
 * populate_vma_page_range writes a private writable area), a read-only
 * area gets the zero page (resident to mincore, no memory of its own),
 * and the lock shows in /proc as on Linux: VmFlags "lo", Locked (the
 * area's Pss), VmLck (the locked size) and Mlocked in /proc/meminfo.
 * munlock of the middle page splits the area, munlock of all of it joins
 * it again (mlock2-tests' test_vma_management); mlock2(MLOCK_ONFAULT)
 * locks without populating, and a later mlock populates.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mm_test.h"

#define PAGES 64

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    unsigned char *p = mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED, "mmap: %m");
    CHECK(resident_pages(p, PAGES) == 0, "fresh mapping: %zu pages resident", resident_pages(p, PAGES));
    long mlocked_before = proc_kb("/proc/meminfo", "Mlocked:");

    CHECK(mlock(p + 100, PAGES * PAGE - 100) == 0, "mlock (unaligned start): %m");
    CHECK(resident_pages(p, PAGES) == PAGES, "after mlock %zu of %d pages resident", resident_pages(p, PAGES),
          PAGES);
    CHECK(strstr(smaps_vmflags(p), " lo ") != NULL, "VmFlags without lo:%s", smaps_vmflags(p));
    long anon = smaps_field(p, "Anonymous:"), locked = smaps_field(p, "Locked:");
    CHECK(anon == PAGES * 4, "Anonymous %ld kB after mlock: the pages were not populated for writing", anon);
    CHECK(locked == PAGES * 4, "Locked %ld kB, want %d", locked, PAGES * 4);
    CHECK(proc_kb("/proc/self/status", "VmLck:") == PAGES * 4, "VmLck %ld kB", proc_kb("/proc/self/status", "VmLck:"));
    long mlocked = proc_kb("/proc/meminfo", "Mlocked:");
    CHECK(mlocked - mlocked_before == PAGES * 4, "Mlocked went from %ld to %ld kB", mlocked_before, mlocked);
    printf("mlock of %d pages: all resident, Anonymous %ld kB, Locked %ld kB, Mlocked +%ld kB\n", PAGES, anon,
           locked, mlocked - mlocked_before);

    /* Locked memory keeps its pages: MADV_DONTNEED is EINVAL. */
    p[0] = 7;
    CHECK_ERRNO(madvise(p, PAGE, MADV_DONTNEED), EINVAL);
    CHECK(p[0] == 7, "the refused MADV_DONTNEED dropped the page");

    /* munlock of the middle page: three areas; of all: one again. */
    CHECK(munlock(p + PAGE, PAGE) == 0, "munlock: %m");
    CHECK(strstr(smaps_vmflags(p + PAGE), " lo ") == NULL, "the unlocked page is still lo");
    CHECK(strstr(smaps_vmflags(p), " lo ") && strstr(smaps_vmflags(p + 2 * PAGE), " lo "), "neighbours unlocked");
    CHECK(smaps_field(p, "Size:") == 4, "the first area is %ld kB, not split off", smaps_field(p, "Size:"));
    CHECK(munlock(p, PAGES * PAGE) == 0, "munlock: %m");
    CHECK(smaps_field(p, "Size:") == PAGES * 4, "after munlock of all the area is %ld kB, not merged again",
          smaps_field(p, "Size:"));
    CHECK(proc_kb("/proc/self/status", "VmLck:") == 0, "VmLck %ld kB after munlock",
          proc_kb("/proc/self/status", "VmLck:"));
    CHECK(resident_pages(p, PAGES) == PAGES, "munlock dropped pages");
    printf("munlock of the middle page splits the area, of all of it merges it back\n");

    /* A read-only area is populated for reading: the zero page, no frames. */
    unsigned char *r = mmap(NULL, PAGES * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(r != MAP_FAILED, "mmap: %m");
    CHECK(mlock(r, PAGES * PAGE) == 0, "mlock read-only: %m");
    CHECK(resident_pages(r, PAGES) == PAGES, "read-only mlock: %zu pages resident", resident_pages(r, PAGES));
    CHECK(smaps_field(r, "Rss:") == 0, "the zero page counted in Rss: %ld kB", smaps_field(r, "Rss:"));
    CHECK(r[PAGE * 5] == 0, "zero page reads %d", r[PAGE * 5]);
    printf("mlock of a read-only area: resident (the zero page), Rss 0\n");

    /* MLOCK_ONFAULT: locked, nothing populated; a touch brings one page. */
    unsigned char *f = mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(f != MAP_FAILED, "mmap: %m");
    CHECK(syscall(SYS_mlock2, f, PAGES * PAGE, MLOCK_ONFAULT) == 0, "mlock2(MLOCK_ONFAULT): %m");
    CHECK(strstr(smaps_vmflags(f), " lo ") != NULL, "MLOCK_ONFAULT area not lo");
    CHECK(resident_pages(f, PAGES) == 0, "MLOCK_ONFAULT populated %zu pages", resident_pages(f, PAGES));
    f[3 * PAGE] = 1;
    CHECK(resident_pages(f, PAGES) == 1, "one touch: %zu pages", resident_pages(f, PAGES));
    CHECK(mlock(f, PAGES * PAGE) == 0, "mlock over the on-fault lock: %m");
    CHECK(resident_pages(f, PAGES) == PAGES, "mlock after MLOCK_ONFAULT: %zu pages", resident_pages(f, PAGES));
    printf("mlock2(MLOCK_ONFAULT): locked, not populated; mlock then populates\n");

    CHECK(munmap(p, PAGES * PAGE) == 0 && munmap(r, PAGES * PAGE) == 0 && munmap(f, PAGES * PAGE) == 0, "munmap");
    CHECK(proc_kb("/proc/self/status", "VmLck:") == 0, "VmLck %ld kB after munmap",
          proc_kb("/proc/self/status", "VmLck:"));
    return 0;
}
