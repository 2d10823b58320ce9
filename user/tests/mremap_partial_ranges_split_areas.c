/*
 * mremap_partial_ranges_split_areas: mremap of part of a mapping splits it
 * as Linux's move_vma and do_munmap do. Moving the middle of a mapping
 * leaves the pieces either side in place and the hole free; the moved part
 * of a file mapping starts at the file offset it had (its maps offset);
 * growing a part that does not reach the end of its mapping moves it;
 * shrinking a part in the middle unmaps just the pages let go.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mman.h>

#include "proc_test.h"

#define PAGE 4096UL
#define NAME "/dev/shm/mremap_partial_ranges_split_areas"

/* The start and end of the area holding addr, from /proc/self/maps. */
static void area_of(const void *addr, unsigned long *lo, unsigned long *hi, unsigned long *off)
{
    const char *line = maps_line(addr);
    CHECK(line && sscanf(line, "%lx-%lx %*4s %lx", lo, hi, off) == 3, "no maps line for %p", addr);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* 8 pages between PROT_NONE guards (no neighbour merges with them). */
    unsigned char *p = map_anonymous(10 * PAGE, PROT_NONE) + PAGE;
    CHECK(mprotect(p, 8 * PAGE, PROT_READ | PROT_WRITE) == 0, "mprotect: %m");
    for (int i = 0; i < 8; i++)
        memset(p + i * PAGE, 'a' + i, PAGE);
    unsigned char *dst = map_anonymous(3 * PAGE, PROT_READ);
    unsigned char *m = mremap(p + 2 * PAGE, 3 * PAGE, 3 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
    CHECK(m == dst, "mremap(FIXED) of pages 2-4: %p, %m", (void *)m);
    for (int i = 0; i < 3; i++)
        CHECK(m[i * PAGE] == 'c' + i && m[i * PAGE + PAGE - 1] == 'c' + i, "moved page %d reads '%c'", i, m[i * PAGE]);
    CHECK(m[0] = 'C', "the moved pages are not writable"); /* the old area's protection, not dst's */
    unsigned long lo, hi, off;
    area_of(p, &lo, &hi, &off);
    CHECK(lo == (uintptr_t)p && hi == (uintptr_t)(p + 2 * PAGE), "the lower piece is %lx-%lx, want %p-%p", lo, hi,
          (void *)p, (void *)(p + 2 * PAGE));
    area_of(p + 5 * PAGE, &lo, &hi, &off);
    CHECK(lo == (uintptr_t)(p + 5 * PAGE) && hi == (uintptr_t)(p + 8 * PAGE), "the upper piece is %lx-%lx", lo, hi);
    CHECK(range_is_free(p + 2 * PAGE, 3 * PAGE), "the moved pages' old place is not free");
    CHECK(p[PAGE] == 'b' && p[5 * PAGE] == 'f', "the pieces left read '%c' and '%c'", p[PAGE], p[5 * PAGE]);
    printf("mremap_partial: the middle of a mapping moved; the pieces either side stay, the hole is free\n");

    /* A part of a file mapping keeps its offset. */
    unlink(NAME);
    int fd = open(NAME, O_CREAT | O_EXCL | O_RDWR, 0600);
    CHECK(fd >= 0 && ftruncate(fd, 8 * PAGE) == 0, "open/ftruncate %s: %m", NAME);
    unsigned char *f = mmap(NULL, 8 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(f != MAP_FAILED, "mmap: %m");
    for (int i = 0; i < 8; i++)
        f[i * PAGE] = (unsigned char)i;
    unsigned char *to = map_anonymous(2 * PAGE, PROT_NONE);
    unsigned char *g = mremap(f + 3 * PAGE, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, to);
    CHECK(g == to, "mremap of pages 3-4 of a file mapping: %p, %m", (void *)g);
    area_of(g, &lo, &hi, &off);
    CHECK(off == 3 * PAGE && hi - lo == 2 * PAGE, "the moved part's maps line: offset %#lx, %lu bytes; want 0x3000, 8192",
          off, hi - lo);
    CHECK(g[0] == 3 && g[PAGE] == 4, "moved file pages read %d, %d", g[0], g[PAGE]);
    area_of(f + 5 * PAGE, &lo, &hi, &off);
    CHECK(off == 5 * PAGE, "the upper piece's offset is %#lx, want 0x5000", off);
    printf("mremap_partial: part of a file mapping moved with its file offset (maps offset 0x3000)\n");

    /* Growing a part that does not reach its mapping's end moves it. */
    unsigned char *h = mremap(f, PAGE, 3 * PAGE, MREMAP_MAYMOVE);
    CHECK(h != MAP_FAILED && h != f, "growing page 0 of a mapping that goes on: %p, %m", (void *)h);
    CHECK(h[0] == 0 && h[PAGE] == 1 && h[2 * PAGE] == 2, "grown part reads %d %d %d; want 0 1 2 (file pages)", h[0],
          h[PAGE], h[2 * PAGE]);
    CHECK(f[PAGE] == 1 && range_is_free(f, PAGE), "the rest stayed, page 0 left");
    printf("mremap_partial: growing a part not at its mapping's end moved it\n");

    /* Shrinking a part in the middle unmaps only what it lets go. */
    CHECK(mremap(p + 5 * PAGE, 2 * PAGE, PAGE, 0) == p + 5 * PAGE, "shrink in the middle: %m");
    CHECK(range_is_free(p + 6 * PAGE, PAGE), "page 6 is still mapped after the shrink");
    CHECK(p[7 * PAGE] == 'h' && p[5 * PAGE] == 'f', "pages 5 and 7 read '%c' and '%c'", p[5 * PAGE], p[7 * PAGE]);
    printf("mremap_partial: shrinking pages 5-6 to one page unmapped page 6 only\n");
    CHECK(unlink(NAME) == 0, "unlink: %m");
    return 0;
}
