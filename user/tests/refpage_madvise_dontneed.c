/*
 * refpage_madvise_dontneed: madvise(MADV_DONTNEED) on a private refpage
 * mapping drops the written copies in the range (project decision, as
 * Linux does for private file mappings): the next read there sees the
 * pattern again, pages outside the range keep what was written, and a
 * page can be written again afterwards.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "refpage_test.h"

#define PAGE 4096
#define SIZE 8

static unsigned char content[SIZE] __attribute__((aligned(SIZE))) = {9, 8, 7, 6, 5, 4, 3, 2};

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    int fd = refpage_create(content, SIZE, 0);
    CHECK(fd >= 0, "refpage_create: errno %d (%s)", errno, strerror(errno));
    volatile unsigned char *p = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(p != MAP_FAILED, "mmap: errno %d (%s)", errno, strerror(errno));

    memset((void *)p, 0x55, 2 * PAGE);
    p[2 * PAGE + 1] = 0x66;
    CHECK(madvise((void *)(p + PAGE), 2 * PAGE, MADV_DONTNEED) == 0,
          "madvise(pages 1-2, MADV_DONTNEED): errno %d (%s)", errno, strerror(errno));
    CHECK_PATTERN(p + PAGE, 2 * PAGE, content, SIZE, "pages 1-2 after MADV_DONTNEED");
    printf("refpage_madvise_dontneed: written pages 1-2 read the pattern again after "
           "MADV_DONTNEED\n");
    for (int i = 0; i < PAGE; i++)
        CHECK(p[i] == 0x55, "page 0 (outside the range) byte %d is 0x%02x; want the written 0x55", i,
              p[i]);
    CHECK_PATTERN(p + 3 * PAGE, PAGE, content, SIZE, "page 3 (never written)");
    printf("refpage_madvise_dontneed: page 0, outside the range, keeps its writes\n");

    p[PAGE + 3] = 0x77;
    CHECK(p[PAGE + 3] == 0x77, "rewritten byte reads 0x%02x", p[PAGE + 3]);
    CHECK_PATTERN(p + PAGE, 3, content, SIZE, "page 1 before the rewritten byte");
    CHECK(p[PAGE + 4] == content[4], "page 1 byte 4 is 0x%02x, want 0x%02x", p[PAGE + 4],
          content[4]);
    printf("refpage_madvise_dontneed: page 1 can be written again afterwards\n");

    CHECK(madvise((void *)p, 4 * PAGE, MADV_DONTNEED) == 0, "madvise(all): errno %d", errno);
    CHECK_PATTERN(p, 4 * PAGE, content, SIZE, "the whole mapping after MADV_DONTNEED");
    printf("refpage_madvise_dontneed: MADV_DONTNEED on the whole mapping: all pattern\n");

    CHECK(munmap((void *)p, 4 * PAGE) == 0 && close(fd) == 0, "cleanup: errno %d", errno);
    return 0;
}
