/*
 * refpage_mte_tags: with MTE, refpage_create(2) copies the allocation tags
 * of the content along with its data when size is at least the 16-byte tag
 * granule, so a PROT_MTE mapping's tags repeat with the pattern's period;
 * below 16 bytes the reference page has tag 0 (docs/refpage.md, "The
 * reference page"). A write fault in a PROT_MTE mapping copies data and
 * tags. Skipped (exit 0) when getauxval(AT_HWCAP2) lacks HWCAP2_MTE.
 *
 * Content: 64 bytes in a PROT_MTE anonymous page, granule i tagged
 * TAGS[i] with STG. The addresses given to system calls are untagged: the
 * kernel refuses tagged pointers until the tagged-address ABI is enabled
 * with prctl. Tag checking is off for EL0 (TCF0 = none), so data accesses
 * need no tag; writes still go through correctly tagged pointers.
 *  - size 64: LDG of every granule of two pages: granule g has TAGS[g % 4];
 *  - size 16 (the content's granule 2): every granule has TAGS[2];
 *  - size 8 (the first half of granule 1): every granule has tag 0;
 *  - after a write to a read page (copy-on-write from the reference page)
 *    and to an untouched page of the size-64 mapping, those pages still
 *    have the replicated tags and the pattern around the written byte.
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

static const unsigned TAGS[4] = {0x3, 0x7, 0xa, 0xd};

/* Every granule g of p[0, len) has tag want(g). */
static void check_tags(const volatile unsigned char *p, size_t len, const unsigned *tags,
                       unsigned ntags, const char *what)
{
    for (size_t g = 0; g < len / GRANULE; g++) {
        unsigned want = ntags ? tags[g % ntags] : 0;
        unsigned t = mte_ldg(p + g * GRANULE);
        CHECK(t == want, "%s: granule %zu (%p) has tag %#x, want %#x", what, g,
              (void *)(p + g * GRANULE), t, want);
    }
}

/* A PROT_MTE mapping of fd; checks that mmap accepts PROT_MTE on it. */
static volatile unsigned char *map_mte(int fd, size_t len, int prot)
{
    unsigned char *p = mmap(NULL, len, prot | PROT_MTE, MAP_PRIVATE, fd, 0);
    CHECK(p != MAP_FAILED, "mmap of a refpage with PROT_MTE: errno %d (%s)", errno,
          strerror(errno));
    return p;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!(getauxval(AT_HWCAP2) & HWCAP2_MTE)) {
        printf("refpage_mte_tags: SKIP: AT_HWCAP2 %#lx lacks HWCAP2_MTE\n", getauxval(AT_HWCAP2));
        return 0;
    }

    volatile unsigned char *c = mmap(NULL, PAGE, PROT_READ | PROT_WRITE | PROT_MTE,
                                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(c != MAP_FAILED, "mmap of PROT_MTE anonymous memory: errno %d (%s)", errno,
          strerror(errno));
    unsigned char data[64];
    for (int i = 0; i < 64; i++)
        data[i] = c[i] = (unsigned char)(0x90 + i);
    for (int g = 0; g < 4; g++)
        mte_stg(c + g * GRANULE, TAGS[g]);
    for (int g = 0; g < 4; g++)
        CHECK(mte_ldg(c + g * GRANULE) == TAGS[g], "content granule %d: LDG %#x after STG %#x", g,
              mte_ldg(c + g * GRANULE), TAGS[g]);
    printf("refpage_mte_tags: content: 64 bytes at %p, granule tags 0x3 0x7 0xa 0xd\n", (void *)c);

    /* size 64: the tags repeat every 4 granules. */
    int fd64 = refpage_create((const void *)c, 64, 0);
    CHECK(fd64 >= 0, "refpage_create(size 64): errno %d (%s)", errno, strerror(errno));
    volatile unsigned char *p = map_mte(fd64, 3 * PAGE, PROT_READ | PROT_WRITE);
    CHECK_PATTERN(p, 2 * PAGE, data, 64, "size 64 PROT_MTE mapping, data");
    check_tags(p, 2 * PAGE, TAGS, 4, "size 64 PROT_MTE mapping");
    printf("refpage_mte_tags: size 64: two pages read the data and LDG gives tag TAGS[g %% 4] in "
           "granule g\n");

    /* size 16: the one granule's tag everywhere. */
    int fd16 = refpage_create((const void *)(c + 2 * GRANULE), 16, 0);
    CHECK(fd16 >= 0, "refpage_create(size 16): errno %d (%s)", errno, strerror(errno));
    volatile unsigned char *q = map_mte(fd16, 2 * PAGE, PROT_READ);
    CHECK_PATTERN(q, 2 * PAGE, data + 2 * GRANULE, 16, "size 16 PROT_MTE mapping, data");
    check_tags(q, 2 * PAGE, &TAGS[2], 1, "size 16 PROT_MTE mapping");
    printf("refpage_mte_tags: size 16 (content granule 2): every granule has tag %#x\n", TAGS[2]);

    /* size 8: below the granule, no tags. */
    int fd8 = refpage_create((const void *)(c + GRANULE), 8, 0);
    CHECK(fd8 >= 0, "refpage_create(size 8): errno %d (%s)", errno, strerror(errno));
    volatile unsigned char *r = map_mte(fd8, 2 * PAGE, PROT_READ);
    CHECK_PATTERN(r, 2 * PAGE, data + GRANULE, 8, "size 8 PROT_MTE mapping, data");
    check_tags(r, 2 * PAGE, NULL, 0, "size 8 PROT_MTE mapping");
    printf("refpage_mte_tags: size 8 (half of content granule 1, tag %#x): every granule has tag "
           "0\n", TAGS[1]);

    /* Write faults in the size-64 mapping: page 1 was read (it maps the
     * reference page), page 2 was never touched. Granule 5 of a page has
     * tag TAGS[1]; write through a pointer carrying it. */
    volatile unsigned char *w1 = mte_tagged(p + PAGE + 5 * GRANULE + 3, TAGS[1]);
    volatile unsigned char *w2 = mte_tagged(p + 2 * PAGE + 5 * GRANULE + 3, TAGS[1]);
    *w1 = 0x11;
    *w2 = 0x22;
    CHECK(*w1 == 0x11 && *w2 == 0x22, "the written bytes read 0x%02x 0x%02x", *w1, *w2);
    check_tags(p + PAGE, PAGE, TAGS, 4, "size 64 page 1 after a copy-on-write fault");
    check_tags(p + 2 * PAGE, PAGE, TAGS, 4, "size 64 page 2 after a write to an untouched page");
    CHECK_PATTERN(p + PAGE, 5 * GRANULE + 3, data, 64, "size 64 page 1 before the written byte");
    CHECK_PATTERN(p + 2 * PAGE, 5 * GRANULE + 3, data, 64, "size 64 page 2 before the written byte");
    for (int i = 5 * GRANULE + 4; i < PAGE; i++)
        CHECK(p[PAGE + i] == data[i % 64] && p[2 * PAGE + i] == data[i % 64],
              "written pages, byte %d: 0x%02x 0x%02x, want 0x%02x", i, p[PAGE + i],
              p[2 * PAGE + i], data[i % 64]);
    check_tags(p, PAGE, TAGS, 4, "size 64 page 0 (still the reference page)");
    printf("refpage_mte_tags: after writes (copy-on-write and first touch) the pages keep the "
           "replicated tags and data\n");

    CHECK(munmap((void *)p, 3 * PAGE) == 0 && munmap((void *)q, 2 * PAGE) == 0 &&
              munmap((void *)r, 2 * PAGE) == 0 && munmap((void *)c, PAGE) == 0,
          "munmap: errno %d", errno);
    CHECK(close(fd64) == 0 && close(fd16) == 0 && close(fd8) == 0, "close: errno %d", errno);
    return 0;
}
