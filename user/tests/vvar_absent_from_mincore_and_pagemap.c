/*
 * vvar_absent_from_mincore_and_pagemap: [vvar] is a VM_PFNMAP mapping on
 * Linux 6.1 arm64 (vdso.c: VM_READ | VM_MAYREAD | VM_PFNMAP), and page walks
 * skip such areas as holes (mm/pagewalk.c walk_page_test calls pte_hole):
 * mincore reports its pages as not resident (mincore_unmapped_range, no
 * file: 0) and /proc/self/pagemap gives them empty entries
 * (pagemap_pte_hole), even right after clock_gettime read them through
 * the vDSO. [vdso] itself is an ordinary special mapping: its pages, once
 * run, are resident.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "refpage_test.h"

static int find_area(const char *name, unsigned long *start, unsigned long *end)
{
    FILE *f = fopen("/proc/self/maps", "r");
    CHECK(f != NULL, "open maps: %m");
    char line[256];
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        if (strstr(line, name) && sscanf(line, "%lx-%lx", start, end) == 2) {
            found = 1;
            break;
        }
    }
    fclose(f);
    return found;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct timespec ts;
    CHECK(clock_gettime(CLOCK_MONOTONIC, &ts) == 0, "clock_gettime: %m");
    unsigned long start, end;
    CHECK(find_area("[vvar]", &start, &end), "no [vvar] in /proc/self/maps");
    size_t pages = (end - start) / 4096;
    unsigned char vec[64];
    CHECK(pages > 0 && pages <= sizeof vec, "[vvar] is %zu pages", pages);
    memset(vec, 0xaa, sizeof vec);
    CHECK(mincore((void *)start, end - start, vec) == 0, "mincore [vvar]: %m");
    for (size_t i = 0; i < pages; i++)
        CHECK(vec[i] == 0, "mincore: [vvar] page %zu is resident (%#x), a PFN mapping never is", i, vec[i]);

    int fd = open("/proc/self/pagemap", O_RDONLY);
    CHECK(fd >= 0, "open pagemap: %m");
    uint64_t e[64];
    CHECK(pread(fd, e, pages * 8, (start / 4096) * 8) == (ssize_t)(pages * 8), "pagemap read: %m");
    for (size_t i = 0; i < pages; i++)
        CHECK(e[i] == 0, "pagemap: [vvar] page %zu has entry %#llx, a PFN mapping's is 0", i,
              (unsigned long long)e[i]);

    unsigned long vs, ve;
    CHECK(find_area("[vdso]", &vs, &ve), "no [vdso] in /proc/self/maps");
    CHECK(mincore((void *)vs, 4096, vec) == 0 && vec[0] == 1, "mincore [vdso]'s first page: %#x, want 1", vec[0]);
    printf("vvar_absent_from_mincore_and_pagemap: ok\n");
    return 0;
}
