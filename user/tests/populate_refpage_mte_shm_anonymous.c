/*
 * populate_refpage_mte_shm_anonymous: populating (MADV_POPULATE_READ,
 * MADV_POPULATE_WRITE, MAP_POPULATE, mlock) maps what the first touch
 * would, without the touch:
 *   anonymous: a read maps the zero page (resident, Rss 0, no frame), a
 *   write private zeroed pages;
 *   a refpage mapping: a read maps the reference page (Rss, but no
 *   Anonymous memory), a write (or mlock of a writable private mapping)
 *   private copies holding the pattern;
 *   PROT_MTE: written pages are private with their tags cleared (LDG
 *   reads 0 in every granule);
 *   /dev/shm, MAP_SHARED: a write populates the file's pages, which a
 *   second mapping then finds; mlock of a shared mapping reads only.
 * And a part of a range: only that part is mapped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mm_test.h"

#define PAGES 32

static const unsigned char content[16] = "0123456789abcdef";

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const int prw = PROT_READ | PROT_WRITE, priv = MAP_PRIVATE | MAP_ANONYMOUS;

    /* Anonymous: read then write, on part of the range. */
    unsigned char *a = mmap(NULL, PAGES * PAGE, prw, priv, -1, 0);
    CHECK(a != MAP_FAILED, "mmap: %m");
    CHECK(madvise(a + 4 * PAGE, 8 * PAGE, MADV_POPULATE_READ) == 0, "MADV_POPULATE_READ: %m");
    CHECK(resident_pages(a, PAGES) == 8, "POPULATE_READ of 8 pages: %zu resident", resident_pages(a, PAGES));
    CHECK(resident_pages(a + 4 * PAGE, 8) == 8, "not the 8 pages asked for");
    CHECK(smaps_field(a, "Rss:") == 0, "zero page counted: Rss %ld kB", smaps_field(a, "Rss:"));
    CHECK(madvise(a, 2 * PAGE, MADV_POPULATE_WRITE) == 0, "MADV_POPULATE_WRITE: %m");
    CHECK(smaps_field(a, "Anonymous:") == 8, "POPULATE_WRITE of 2 pages: Anonymous %ld kB",
          smaps_field(a, "Anonymous:"));
    CHECK(madvise(a + 4 * PAGE, 8 * PAGE, MADV_POPULATE_WRITE) == 0, "MADV_POPULATE_WRITE over the zero page: %m");
    CHECK(smaps_field(a, "Anonymous:") == 40, "zero pages not replaced: Anonymous %ld kB", smaps_field(a, "Anonymous:"));
    CHECK(a[5 * PAGE] == 0 && a[0] == 0, "populated anonymous memory is not zero");
    printf("anonymous: POPULATE_READ maps the zero page, POPULATE_WRITE private pages, only the range asked\n");

    /* A refpage mapping. */
    int fd = refpage_create(content, sizeof content, 0);
    CHECK(fd >= 0, "refpage_create: %m");
    unsigned char *r = mmap(NULL, PAGES * PAGE, prw, MAP_PRIVATE, fd, 0);
    CHECK(r != MAP_FAILED, "mmap refpage: %m");
    CHECK(madvise(r, PAGES * PAGE, MADV_POPULATE_READ) == 0, "MADV_POPULATE_READ refpage: %m");
    CHECK(resident_pages(r, PAGES) == PAGES, "refpage POPULATE_READ: %zu resident", resident_pages(r, PAGES));
    CHECK(smaps_field(r, "Anonymous:") == 0, "a read populate made private pages: %ld kB", smaps_field(r, "Anonymous:"));
    CHECK(smaps_field(r, "Rss:") == PAGES * 4, "the reference page is not in Rss: %ld kB", smaps_field(r, "Rss:"));
    CHECK(mlock(r, 8 * PAGE) == 0, "mlock refpage: %m");
    CHECK(smaps_field(r, "Anonymous:") == 32, "mlock of a writable private refpage mapping: Anonymous %ld kB, want 32",
          smaps_field(r, "Anonymous:"));
    CHECK_PATTERN(r, PAGES * PAGE, content, sizeof content, "refpage after populate and mlock");
    /* A read-only refpage mapping locked: the reference page, no copies. */
    unsigned char *ro = mmap(NULL, PAGES * PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
    CHECK(ro != MAP_FAILED, "mmap: %m");
    CHECK(mlock(ro, PAGES * PAGE) == 0, "mlock read-only refpage: %m");
    CHECK(resident_pages(ro, PAGES) == PAGES && smaps_field(ro, "Anonymous:") == 0,
          "read-only refpage mlock: %zu resident, Anonymous %ld kB", resident_pages(ro, PAGES),
          smaps_field(ro, "Anonymous:"));
    CHECK_ERRNO(madvise(ro, PAGE, MADV_POPULATE_WRITE), EINVAL);
    /* MAP_POPULATE of a writable private refpage mapping writes it. */
    unsigned char *mp = mmap(NULL, 4 * PAGE, prw, MAP_PRIVATE | MAP_POPULATE, fd, 0);
    CHECK(mp != MAP_FAILED, "mmap MAP_POPULATE: %m");
    CHECK(smaps_field(mp, "Anonymous:") == 16, "MAP_POPULATE refpage: Anonymous %ld kB", smaps_field(mp, "Anonymous:"));
    CHECK_PATTERN(mp, 4 * PAGE, content, sizeof content, "MAP_POPULATE refpage");
    printf("refpage: a read populate maps the reference page, a write or mlock makes the pattern's copies\n");

    /* PROT_MTE: private pages with cleared tags. */
    if (mte_supported()) {
        unsigned char *m = mmap(NULL, 4 * PAGE, prw | PROT_MTE, priv, -1, 0);
        CHECK(m != MAP_FAILED, "mmap PROT_MTE: %m");
        CHECK(mlock(m, 4 * PAGE) == 0, "mlock PROT_MTE: %m");
        CHECK(smaps_field(m, "Anonymous:") == 16, "PROT_MTE mlock: Anonymous %ld kB", smaps_field(m, "Anonymous:"));
        for (size_t g = 0; g < 4 * PAGE; g += MTE_GRANULE)
            CHECK(mte_ldg(m + g) == 0, "granule at +%zu has tag %u after populating", g, mte_ldg(m + g));
        unsigned char *mr = mmap(NULL, 4 * PAGE, prw | PROT_MTE, MAP_PRIVATE, fd, 0);
        CHECK(mr != MAP_FAILED, "mmap refpage PROT_MTE: %m");
        CHECK(madvise(mr, 4 * PAGE, MADV_POPULATE_WRITE) == 0, "POPULATE_WRITE refpage PROT_MTE: %m");
        CHECK_PATTERN(mr, 4 * PAGE, content, sizeof content, "PROT_MTE refpage populated");
        for (size_t g = 0; g < 4 * PAGE; g += MTE_GRANULE)
            CHECK(mte_ldg(mr + g) == 0, "refpage granule at +%zu has tag %u", g, mte_ldg(mr + g));
        printf("PROT_MTE: populated pages private, tags cleared\n");
    }

    /* /dev/shm, shared: a write populate creates the file's pages. */
    int sfd = open("/dev/shm/populate_test", O_RDWR | O_CREAT | O_EXCL, 0600);
    CHECK(sfd >= 0, "open /dev/shm: %m");
    CHECK(ftruncate(sfd, PAGES * PAGE) == 0, "ftruncate: %m");
    unsigned char *s = mmap(NULL, PAGES * PAGE, prw, MAP_SHARED, sfd, 0);
    CHECK(s != MAP_FAILED, "mmap shm: %m");
    CHECK(madvise(s, 8 * PAGE, MADV_POPULATE_WRITE) == 0, "POPULATE_WRITE shm: %m");
    unsigned char *s2 = mmap(NULL, PAGES * PAGE, PROT_READ, MAP_SHARED, sfd, 0);
    CHECK(s2 != MAP_FAILED, "mmap shm: %m");
    /* The second mapping maps nothing yet, but the file's pages are there. */
    CHECK(resident_pages(s2, PAGES) == 8, "the file holds %zu pages after POPULATE_WRITE of 8", resident_pages(s2, PAGES));
    CHECK(mlock(s2, PAGES * PAGE) == 0, "mlock shared read-only: %m");
    CHECK(smaps_field(s2, "Rss:") == PAGES * 4, "mlock of a shared mapping: Rss %ld kB", smaps_field(s2, "Rss:"));
    CHECK_ERRNO(madvise(s2, PAGE, MADV_POPULATE_WRITE), EINVAL);
    CHECK(unlink("/dev/shm/populate_test") == 0, "unlink: %m");
    printf("/dev/shm: POPULATE_WRITE fills the file, mincore sees its pages through another mapping\n");

    /* Errors: a hole is ENOMEM after the rest; PROT_NONE and [vvar] EINVAL. */
    CHECK(munmap(a + 20 * PAGE, PAGE) == 0, "munmap: %m");
    CHECK_ERRNO(madvise(a + 16 * PAGE, 8 * PAGE, MADV_POPULATE_WRITE), ENOMEM);
    CHECK(resident_pages(a + 21 * PAGE, 3) == 3, "pages after the hole were not populated");
    unsigned char *none = mmap(NULL, PAGE, PROT_NONE, priv, -1, 0);
    CHECK_ERRNO(madvise(none, PAGE, MADV_POPULATE_READ), EINVAL);
    unsigned char *wo = mmap(NULL, PAGE, PROT_READ, priv, -1, 0);
    CHECK_ERRNO(madvise(wo, PAGE, MADV_POPULATE_WRITE), EINVAL);
    printf("a hole: ENOMEM after populating the rest; PROT_NONE, read-only write: EINVAL\n");
    return 0;
}
