/*
 * mte_anonymous_tags: mmap(2) with PROT_MTE gives anonymous memory whose
 * allocation tags start at 0 in every granule (Linux clears the tags of
 * every page it hands to a PROT_MTE mapping), including when the frame
 * was just freed by another PROT_MTE mapping that had set tags in it.
 * Tags are set with STG and read with LDG at EL0. Skipped (exit 0) when
 * getauxval(AT_HWCAP2) lacks HWCAP2_MTE.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#include "refpage_test.h"

#define PAGE 4096
#define GRANULE 16

static void check_tags_zero(volatile unsigned char *p, size_t len, const char *what)
{
    for (size_t g = 0; g < len / GRANULE; g++) {
        unsigned t = mte_ldg(p + g * GRANULE);
        CHECK(t == 0, "%s: granule %zu (%p) has tag %#x, want 0", what, g,
              (void *)(p + g * GRANULE), t);
    }
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!(getauxval(AT_HWCAP2) & HWCAP2_MTE)) {
        printf("mte_anonymous_tags: SKIP: AT_HWCAP2 %#lx lacks HWCAP2_MTE\n", getauxval(AT_HWCAP2));
        return 0;
    }

    volatile unsigned char *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE | PROT_MTE,
                                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED, "mmap PROT_READ|PROT_WRITE|PROT_MTE anonymous: errno %d (%s)", errno,
          strerror(errno));
    p[0] = 1; /* page 0 written (a frame), page 1 only read below */
    check_tags_zero(p, 2 * PAGE, "new PROT_MTE anonymous pages");
    printf("mte_anonymous_tags: new PROT_MTE anonymous pages (one written, one not): tag 0 in "
           "every granule\n");

    for (size_t g = 0; g < PAGE / GRANULE; g++)
        mte_stg(p + g * GRANULE, 1 + g % 15);
    for (size_t g = 0; g < PAGE / GRANULE; g++) {
        unsigned t = mte_ldg(p + g * GRANULE);
        CHECK(t == 1 + g % 15, "granule %zu: LDG reads %#x after STG of %#zx", g, t, 1 + g % 15);
    }
    printf("mte_anonymous_tags: STG tags 1..15 on page 0, LDG reads them back\n");

    CHECK(munmap((void *)p, 2 * PAGE) == 0, "munmap: errno %d", errno);
    volatile unsigned char *q = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE | PROT_MTE,
                                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(q != MAP_FAILED, "second mmap: errno %d (%s)", errno, strerror(errno));
    q[0] = 1;
    q[PAGE] = 1;
    check_tags_zero(q, 2 * PAGE, "PROT_MTE pages mapped after a tagged page was freed");
    printf("mte_anonymous_tags: after munmap of the tagged page, new PROT_MTE pages read tag 0\n");
    CHECK(munmap((void *)q, 2 * PAGE) == 0, "munmap: errno %d", errno);
    return 0;
}
