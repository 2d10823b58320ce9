/*
 * munmap_frees_tables_and_keeps_neighbours: munmap frees the page tables of
 * the gap it leaves and only those. Pieces unmapped out of the middle of a
 * written 8 MiB mapping (across 2 MiB boundaries, at one page, at a whole
 * 2 MiB span) leave every page around them with its contents, and the hole
 * reads zero when mapped again; a page mapped and unmapped 1 GiB apart each
 * time, 2,000 times (new level-2 and level-3 tables each time), takes no
 * memory for good (on this kernel, by /proc/meminfo's MemFree).
 */
#include "proc_test.h"

#define PAGE 4096UL
#define MIB (1024UL * 1024)

static long mem_free_kb(void)
{
    static char text[1 << 14];
    CHECK(read_file("/proc/meminfo", text, sizeof text) > 0, "read /proc/meminfo: %m");
    const char *v = line_value(text, "MemFree:");
    CHECK(v != NULL, "no MemFree line");
    return strtol(v, NULL, 10);
}

int main(void)
{
    /* 8 MiB starting on a 2 MiB boundary, inside a 10 MiB reservation. */
    unsigned char *raw = mmap(NULL, 10 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(raw != MAP_FAILED, "mmap: %m");
    unsigned char *base = (unsigned char *)(((unsigned long)raw + 2 * MIB - 1) & ~(2 * MIB - 1));
    const unsigned long pages = 8 * MIB / PAGE;
    for (unsigned long i = 0; i < pages; i++)
        base[i * PAGE] = (unsigned char)(i % 251 + 1);

    /* Holes: across the first 2 MiB boundary, one page, a whole 2 MiB span. */
    static const struct { unsigned long lo, hi; } holes[] = {
        { 500, 530 },  /* pages 500..529 cross the boundary at page 512 */
        { 700, 701 },  /* one page */
        { 1024, 1536 } /* exactly the third 2 MiB span: its table goes */
    };
    for (unsigned h = 0; h < sizeof holes / sizeof holes[0]; h++) {
        unsigned long lo = holes[h].lo, hi = holes[h].hi;
        CHECK(munmap(base + lo * PAGE, (hi - lo) * PAGE) == 0, "munmap of pages %lu..%lu: %m", lo, hi);
        /* Every page but the hole's: its byte, or 0 in an earlier hole
         * (mapped again, never written). */
        for (unsigned long i = 0; i < pages; i++) {
            if (i >= lo && i < hi)
                continue;
            int in_earlier = 0;
            for (unsigned k = 0; k < h; k++)
                in_earlier |= i >= holes[k].lo && i < holes[k].hi;
            unsigned char want = in_earlier ? 0 : (unsigned char)(i % 251 + 1);
            CHECK(base[i * PAGE] == want, "after hole %u: page %lu holds %u, not %u", h, i, base[i * PAGE], want);
        }
        void *again = mmap(base + lo * PAGE, (hi - lo) * PAGE, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        CHECK(again == base + lo * PAGE, "mapping the hole again: %m");
        for (unsigned long i = lo; i < hi; i++)
            CHECK(base[i * PAGE] == 0, "the hole's page %lu holds %u after mapping it again", i, base[i * PAGE]);
    }
    printf("munmap_frees_tables_and_keeps_neighbours: three holes cut and mapped again, neighbours intact\n");
    munmap(raw, 10 * MIB);

    if (!on_refpage_kernel()) {
        printf("MemFree part skipped (the host's figures under qemu-user)\n");
        return 0;
    }
    /* One page 1 GiB apart each time: a new level-2 and level-3 table. */
    long before = mem_free_kb();
    const unsigned long far = 0x100000000000UL; /* 16 TiB */
    for (unsigned long i = 0; i < 2000; i++) {
        unsigned char *p = mmap((void *)(far + i * 1024 * MIB), PAGE, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        CHECK(p == (void *)(far + i * 1024 * MIB), "mmap at %#lx: %m", far + i * 1024 * MIB);
        *p = 1;
        CHECK(munmap(p, PAGE) == 0, "munmap: %m");
    }
    long after = mem_free_kb();
    CHECK(before - after < 1024, "2,000 map-touch-unmap cycles took %ld kB for good (tables not freed?)",
          before - after);
    printf("munmap_frees_tables_and_keeps_neighbours: 2,000 cycles 1 GiB apart, MemFree %ld -> %ld kB\n", before,
           after);
    return 0;
}
