/*
 * madvise_cold_pageout_refuse_locked_and_pfn_areas: MADV_COLD and
 * MADV_PAGEOUT are EINVAL on locked memory and on [vvar] (VM_PFNMAP), as
 * Linux 6.1's madvise_cold and madvise_pageout (can_madv_lru_vma: no
 * VM_LOCKED, VM_PFNMAP or VM_HUGETLB); elsewhere they succeed. Over a
 * range, the walk stops at the first area that refuses.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "refpage_test.h"

#define P 4096UL

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    char *a = mmap(NULL, 2 * P, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(a != MAP_FAILED, "mmap: %m");
    CHECK(madvise(a, 2 * P, MADV_COLD) == 0 && madvise(a, 2 * P, MADV_PAGEOUT) == 0, "unlocked memory: %m");
    CHECK(mlock(a + P, P) == 0, "mlock: %m");
    CHECK(madvise(a, P, MADV_COLD) == 0, "the unlocked page: %m");
    errno = 0;
    int r = madvise(a, 2 * P, MADV_COLD);
    CHECK(r == -1 && errno == EINVAL, "MADV_COLD over a locked page: %d (%m), want EINVAL", r);
    errno = 0;
    r = madvise(a + P, P, MADV_PAGEOUT);
    CHECK(r == -1 && errno == EINVAL, "MADV_PAGEOUT of a locked page: %d (%m), want EINVAL", r);

    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    FILE *f = fopen("/proc/self/maps", "r");
    CHECK(f != NULL, "maps: %m");
    char line[256];
    unsigned long vs = 0, ve = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, "[vvar]"))
            sscanf(line, "%lx-%lx", &vs, &ve);
    fclose(f);
    CHECK(vs != 0, "no [vvar]");
    errno = 0;
    r = madvise((void *)vs, P, MADV_COLD);
    CHECK(r == -1 && errno == EINVAL, "MADV_COLD of [vvar]: %d (%m), want EINVAL", r);
    errno = 0;
    r = madvise((void *)vs, P, MADV_PAGEOUT);
    CHECK(r == -1 && errno == EINVAL, "MADV_PAGEOUT of [vvar]: %d (%m), want EINVAL", r);
    printf("madvise_cold_pageout_refuse_locked_and_pfn_areas: ok\n");
    return 0;
}
