/*
 * mremap_refpage_moves_copies_and_shares: mremap of a private refpage
 * mapping. Growth in place shows the pattern beyond the old end (the file
 * offset carries on); a move takes every entry along as it is: the private
 * copy of a written page keeps its data, the pages only read still map the
 * one shared reference page (smaps Shared_Clean, no new private frame);
 * MREMAP_DONTUNMAP leaves the old range mapped with no pages, and a read
 * there maps the reference page again. Linux has no refpage_create: there
 * the program checks nothing and says so.
 */
#define _GNU_SOURCE
#include <sys/mman.h>

#include "proc_test.h"

#define PAGE 4096UL

static const unsigned char content[16] = "0123456789abcdef";

/* The pattern over `pages` pages at m, except byte 0 of page 1 ('x'). */
static void check_contents(const volatile unsigned char *m, size_t pages, const char *what)
{
    CHECK(m[PAGE] == 'x', "%s: the written byte reads 0x%02x, want 'x'", what, m[PAGE]);
    CHECK_PATTERN(m, PAGE, content, sizeof content, what);
    for (size_t i = 1; i < PAGE; i++)
        CHECK(m[PAGE + i] == content[i % sizeof content], "%s: page 1 byte %zu reads 0x%02x, want 0x%02x", what, i,
              m[PAGE + i], content[i % sizeof content]);
    CHECK_PATTERN(m + 2 * PAGE, (pages - 2) * PAGE, content, sizeof content, what);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!on_refpage_kernel()) {
        printf("not the refpage kernel (Linux has no refpage_create): nothing to check\n");
        return 0;
    }
    int fd = refpage_create(content, sizeof content, 0);
    CHECK(fd >= 0, "refpage_create: %m");

    /* 8 pages mapped, the last 4 unmapped again: room to grow. */
    volatile unsigned char *m = mmap(NULL, 8 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(m != MAP_FAILED, "mmap refpage: %m");
    CHECK(munmap((void *)(m + 4 * PAGE), 4 * PAGE) == 0, "munmap: %m");
    for (int i = 0; i < 4; i++)
        (void)m[i * PAGE];
    m[PAGE] = 'x';
    CHECK(mremap((void *)m, 4 * PAGE, 8 * PAGE, 0) == m, "grow in place: %m");
    CHECK(smaps_field((void *)m, "Rss:") == 16, "Rss after growth %ld kB, want 16 (the grown part untouched)",
          smaps_field((void *)m, "Rss:"));
    check_contents(m, 8, "grown in place");
    printf("mremap_refpage: grown in place, the pattern goes on past the old end\n");

    /* A move to a place where growth in place is impossible. */
    volatile unsigned char *blocker = mmap((void *)(m + 8 * PAGE), PAGE, PROT_READ,
                                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    CHECK(blocker == m + 8 * PAGE, "mmap of the blocker: %m");
    volatile unsigned char *n = mremap((void *)m, 8 * PAGE, 12 * PAGE, MREMAP_MAYMOVE);
    CHECK(n != MAP_FAILED && n != m, "mremap(MAYMOVE): %p, %m", (void *)n);
    long rss = smaps_field((void *)n, "Rss:"), sc = smaps_field((void *)n, "Shared_Clean:");
    long pd = smaps_field((void *)n, "Private_Dirty:");
    printf("mremap_refpage: moved: Rss %ld, Shared_Clean %ld, Private_Dirty %ld kB\n", rss, sc, pd);
    CHECK(rss == 32 && sc == 28 && pd == 4,
          "want Rss 32, Shared_Clean 28 (7 entries of the reference page moved, still shared), Private_Dirty 4 "
          "(the copy moved)");
    check_contents(n, 12, "moved");
    CHECK(smaps_field((void *)n, "Private_Dirty:") == 4, "reading the moved pages made %ld kB private",
          smaps_field((void *)n, "Private_Dirty:"));
    printf("mremap_refpage: the private copy kept its data, the read pages still share the reference page\n");

    /* MREMAP_DONTUNMAP: the old range maps the reference page again. */
    volatile unsigned char *d = mremap((void *)n, 4 * PAGE, 4 * PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL);
    CHECK(d != MAP_FAILED, "MREMAP_DONTUNMAP: %m");
    CHECK(smaps_field((void *)n, "Rss:") == 32, "old area after MREMAP_DONTUNMAP: Rss %ld kB, want 32 (pages 4-11)",
          smaps_field((void *)n, "Rss:"));
    check_contents(d, 4, "MREMAP_DONTUNMAP destination");
    CHECK_PATTERN(n, 4 * PAGE, content, sizeof content, "the old range after MREMAP_DONTUNMAP");
    printf("mremap_refpage: after MREMAP_DONTUNMAP the old range reads the pattern again, the written byte moved\n");
    close(fd);
    return 0;
}
