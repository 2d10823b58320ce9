/*
 * mremap_huge_ranges_cost_what_is_mapped: mremap of a 1 TiB MAP_NORESERVE
 * reservation holding three pages moves those three pages' entries (and
 * the tables above them), not 2^28 empty ones: each step takes well under
 * 2 s. A 1 GiB-aligned move keeps the pages where the tables say; the
 * grown part costs nothing until touched.
 */
#define _GNU_SOURCE
#include <sys/mman.h>

#include "refpage_test.h"

#define PAGE 4096UL
#define HUGE (1UL << 40)
#define LIMIT_NS 2000000000ULL

static uint64_t t0;
static void start(void) { t0 = monotonic_ns(); }
static void done(const char *what)
{
    uint64_t ns = monotonic_ns() - t0;
    printf("mremap_huge: %s: %llu us\n", what, (unsigned long long)(ns / 1000));
    CHECK(ns < LIMIT_NS, "%s took %llu ms; the work must follow what is mapped (3 pages)", what,
          (unsigned long long)(ns / 1000000));
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* 1 GiB-aligned: reserve 1 GiB more and trim. */
    unsigned char *r = mmap(NULL, HUGE + (1UL << 30), PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    CHECK(r != MAP_FAILED, "mmap of %lu bytes: %m", HUGE);
    unsigned char *p = (unsigned char *)(((uintptr_t)r + (1UL << 30) - 1) & ~((1UL << 30) - 1));
    if (p != r)
        CHECK(munmap(r, p - r) == 0, "munmap below: %m");
    /* One read-only page above it: growth in place is blocked. */
    CHECK(mprotect(p + HUGE, PAGE, PROT_READ) == 0, "mprotect: %m");
    if (p + HUGE + PAGE < r + HUGE + (1UL << 30))
        CHECK(munmap(p + HUGE + PAGE, r + HUGE + (1UL << 30) - (p + HUGE + PAGE)) == 0, "munmap above: %m");
    size_t offs[3] = { 0, HUGE / 2 + 5 * PAGE, HUGE - PAGE };
    for (int i = 0; i < 3; i++)
        p[offs[i]] = (unsigned char)(0x60 + i);

    start();
    unsigned char *q = mremap(p, HUGE, HUGE + PAGE, MREMAP_MAYMOVE);
    done("moved 1 TiB holding 3 pages, grown by one page");
    CHECK(q != MAP_FAILED && q != p, "mremap: %p, %m", (void *)q);
    for (int i = 0; i < 3; i++)
        CHECK(q[offs[i]] == 0x60 + i, "page %d reads 0x%02x after the move", i, q[offs[i]]);
    CHECK(q[HUGE] == 0 && q[HUGE / 4] == 0, "the grown part and an untouched page read zeros");

    /* Back to a 1 GiB-aligned place, which moves whole tables. */
    unsigned char *dst = p;
    start();
    unsigned char *back = mremap(q, HUGE + PAGE, HUGE + PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
    done("moved it back, 1 GiB-aligned");
    CHECK(back == dst, "mremap(FIXED): %p, %m", (void *)back);
    for (int i = 0; i < 3; i++)
        CHECK(back[offs[i]] == 0x60 + i, "page %d reads 0x%02x after moving back", i, back[offs[i]]);

    start();
    CHECK(munmap(back, HUGE + PAGE) == 0, "munmap: %m");
    done("unmapped it");
    return 0;
}
