/*
 * malloc_touch: glibc's malloc gets memory from the kernel (brk for small
 * blocks, mmap for large ones), the kernel backs each page on first touch,
 * and the pages keep what was written. sysinfo(2) must account for it:
 * touching 64 MiB takes at least ~60 MiB off freeram (Linux reports RAM in
 * units of mem_unit bytes).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/sysinfo.h>

#include "refpage_test.h"

#define PAGE 4096UL
#define MiB (1024UL * 1024UL)

static uint64_t free_bytes(const struct sysinfo *si) { return (uint64_t)si->freeram * si->mem_unit; }
static uint64_t total_bytes(const struct sysinfo *si) { return (uint64_t)si->totalram * si->mem_unit; }

static struct sysinfo read_sysinfo(void)
{
    struct sysinfo si;
    int ret = sysinfo(&si);
    CHECK(ret == 0, "sysinfo returned %d (%m)", ret);
    CHECK(si.mem_unit > 0, "sysinfo mem_unit is 0");
    CHECK(total_bytes(&si) > free_bytes(&si) && free_bytes(&si) > 0,
          "want totalram > freeram > 0, got totalram %llu, freeram %llu bytes",
          (unsigned long long)total_bytes(&si), (unsigned long long)free_bytes(&si));
    return si;
}

/* The byte written to page i, so a page mapped twice or lost reads wrong. */
static unsigned char pattern(size_t i) { return (unsigned char)(i * 7 + 1); }

static void touch(unsigned char *p, size_t len)
{
    for (size_t i = 0; i < len / PAGE; i++)
        p[i * PAGE] = pattern(i);
}

static void check_touched(const unsigned char *p, size_t len, const char *what)
{
    for (size_t i = 0; i < len / PAGE; i++)
        CHECK(p[i * PAGE] == pattern(i), "%s: page %zu reads 0x%02x, wrote 0x%02x", what, i,
              p[i * PAGE], pattern(i));
}

int main(void)
{
    struct sysinfo start = read_sysinfo();
    printf("malloc_touch: totalram %llu MiB, freeram %llu MiB (mem_unit %u)\n",
           (unsigned long long)(total_bytes(&start) / MiB),
           (unsigned long long)(free_bytes(&start) / MiB), start.mem_unit);

    unsigned char *small = malloc(1 * MiB);
    CHECK(small != NULL, "malloc(1 MiB) returned NULL");
    touch(small, 1 * MiB);
    check_touched(small, 1 * MiB, "1 MiB block");
    free(small);
    printf("malloc_touch: 1 MiB block: %lu pages written and read back\n", 1 * MiB / PAGE);

    /*
     * Linux keeps free pages on per-CPU lists that freeram does not count
     * (NR_FREE_PAGES excludes them; on a large machine they hold over
     * 100 MiB per CPU), so a touch served from those lists leaves freeram
     * where it was. Each try keeps its block and touches a new one, so the
     * lists run dry within a few tries. A kernel that never lowers freeram
     * fails every try; the tries stop while half of free RAM remains, so
     * that such a kernel fails this check rather than running out of memory.
     */
    enum { MAX_TRIES = 8 };
    unsigned char *blocks[MAX_TRIES];
    int64_t dropped = 0;
    int tries = 0;
    while (tries < MAX_TRIES && dropped < (int64_t)(60 * MiB) &&
           free_bytes(&start) / 2 >= (uint64_t)(tries + 1) * 64 * MiB) {
        unsigned char *big = malloc(64 * MiB);
        CHECK(big != NULL, "malloc(64 MiB) returned NULL (try %d)", tries + 1);
        blocks[tries++] = big;
        struct sysinfo before = read_sysinfo();
        touch(big, 64 * MiB);
        struct sysinfo after = read_sysinfo();
        check_touched(big, 64 * MiB, "64 MiB block");
        dropped = (int64_t)free_bytes(&before) - (int64_t)free_bytes(&after);
        printf("malloc_touch: 64 MiB block %d: %lu pages written and read back; freeram dropped %lld KiB\n",
               tries, 64 * MiB / PAGE, (long long)(dropped / 1024));
    }
    CHECK(dropped >= (int64_t)(60 * MiB),
          "touching 64 MiB took only %lld KiB off freeram, in each of %d tries; want >= 60 MiB",
          (long long)(dropped / 1024), tries);
    for (int i = 0; i < tries; i++)
        free(blocks[i]);
    return 0;
}
