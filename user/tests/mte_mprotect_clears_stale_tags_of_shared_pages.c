/*
 * mte_mprotect_clears_stale_tags_of_shared_pages: a page mapped tagged for
 * the first time has allocation tags 0, whoever used its frame before
 * (Linux's mte_sync_tags: a page without PG_mte_tagged has its tags
 * cleared the first time a PROT_MTE mapping maps it). Here the tags of
 * 4,000 private PROT_MTE pages are set to non-zero values and the pages
 * unmapped; then 2,000 pages of MAP_SHARED anonymous memory (which may get
 * the same frames) are written, and mprotect(PROT_MTE) makes them tagged.
 * Every granule must read back tag 0, and the data must be kept. Skipped
 * (exit 0) without HWCAP2_MTE.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "refpage_test.h"

#define PAGE 4096
#define DIRTY_PAGES 4000
#define SHARED_PAGES 2000

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    MTE_SKIP_UNLESS_SUPPORTED("mte_mprotect_clears_stale_tags_of_shared_pages");
    volatile unsigned char *dirty = map_anonymous((size_t)DIRTY_PAGES * PAGE, PROT_READ | PROT_WRITE | PROT_MTE);
    for (size_t p = 0; p < DIRTY_PAGES; p++)
        for (size_t g = 0; g < PAGE; g += MTE_GRANULE)
            mte_stg(dirty + p * PAGE + g, 1 + (unsigned)((p + g / MTE_GRANULE) % 15));
    CHECK(munmap((void *)dirty, (size_t)DIRTY_PAGES * PAGE) == 0, "munmap: errno %d", errno);

    size_t len = (size_t)SHARED_PAGES * PAGE;
    volatile unsigned char *s = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(s != MAP_FAILED, "mmap shared: errno %d (%s)", errno, strerror(errno));
    for (size_t p = 0; p < SHARED_PAGES; p++)
        s[p * PAGE + 5] = (unsigned char)(p * 7 + 1);
    CHECK(mprotect((void *)s, len, PROT_READ | PROT_WRITE | PROT_MTE) == 0, "mprotect(PROT_MTE): errno %d (%s)",
          errno, strerror(errno));
    size_t stale = 0, first = SHARED_PAGES;
    unsigned first_tag = 0;
    for (size_t p = 0; p < SHARED_PAGES; p++) {
        for (size_t g = 0; g < PAGE; g += MTE_GRANULE) {
            unsigned t = mte_ldg(s + p * PAGE + g);
            if (t != 0) {
                if (first == SHARED_PAGES) {
                    first = p;
                    first_tag = t;
                }
                stale++;
                break;
            }
        }
        CHECK(s[p * PAGE + 5] == (unsigned char)(p * 7 + 1), "page %zu lost its data: %#x", p, s[p * PAGE + 5]);
    }
    CHECK(stale == 0, "%zu of %d shared pages had non-zero tags after mprotect(PROT_MTE) (first: page %zu, tag %u)",
          stale, SHARED_PAGES, first, first_tag);
    printf("mte_mprotect_clears_stale_tags_of_shared_pages: %d pages, all tags 0 after mprotect(PROT_MTE)\n",
           SHARED_PAGES);
    return 0;
}
