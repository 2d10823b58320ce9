/*
 * refpage_partial_munmap_mprotect: munmap(2) and mprotect(2) on part of a
 * refpage mapping split it, and each piece keeps behaving as a refpage
 * mapping. Of 4 pages, unmapping page 1 leaves pages 0, 2, 3 readable (the
 * pattern; page 0 keeps an earlier write) and a hole at page 1 (a
 * MAP_FIXED_NOREPLACE mapping there gets exactly that address); making page
 * 2 PROT_READ leaves it readable and page 3 writable, and making it
 * writable again lets it be written. (That a write to the PROT_READ page
 * faults is refpage_write_readonly--sigsegv.)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "refpage_test.h"

#define PAGE 4096
#define SIZE 4

static unsigned char content[SIZE] __attribute__((aligned(SIZE))) = {0xa0, 0xb1, 0xc2, 0xd3};

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    int fd = refpage_create(content, SIZE, 0);
    CHECK(fd >= 0, "refpage_create: errno %d (%s)", errno, strerror(errno));
    volatile unsigned char *p = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(p != MAP_FAILED, "mmap: errno %d (%s)", errno, strerror(errno));
    p[8] = 0x42;

    CHECK(munmap((void *)(p + PAGE), PAGE) == 0, "munmap of page 1: errno %d (%s)", errno,
          strerror(errno));
    CHECK(p[8] == 0x42, "page 0 byte 8 is 0x%02x after munmap of page 1; want the written 0x42",
          p[8]);
    CHECK_PATTERN(p, 8, content, SIZE, "page 0 after munmap of page 1");
    CHECK_PATTERN(p + 2 * PAGE, 2 * PAGE, content, SIZE, "pages 2-3 after munmap of page 1");
    printf("refpage_partial_munmap_mprotect: munmap of page 1: pages 0, 2, 3 still read the "
           "pattern (page 0 keeps its write)\n");

    void *hole = mmap((void *)(p + PAGE), PAGE, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    CHECK(hole == (void *)(p + PAGE), "MAP_FIXED_NOREPLACE at page 1 (%p) returned %p (errno %d: "
                                      "%s); want exactly that address",
          (void *)(p + PAGE), hole, errno, strerror(errno));
    CHECK(((volatile unsigned char *)hole)[0] == 0, "the anonymous page in the hole is not zero");
    CHECK(munmap(hole, PAGE) == 0, "munmap of the hole page: errno %d", errno);
    printf("refpage_partial_munmap_mprotect: page 1 is a hole: MAP_FIXED_NOREPLACE there returns "
           "exactly %p\n", hole);
    CHECK_ERRNO(mmap((void *)(p + 2 * PAGE), PAGE, PROT_READ,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0), EEXIST);
    printf("refpage_partial_munmap_mprotect: page 2 is still mapped: MAP_FIXED_NOREPLACE there -> "
           "EEXIST\n");

    CHECK(mprotect((void *)(p + 2 * PAGE), PAGE, PROT_READ) == 0, "mprotect page 2 PROT_READ: "
                                                                 "errno %d (%s)", errno,
          strerror(errno));
    CHECK_PATTERN(p + 2 * PAGE, PAGE, content, SIZE, "page 2 after mprotect PROT_READ");
    p[3 * PAGE + 1] = 0x99;
    CHECK(p[3 * PAGE + 1] == 0x99, "page 3 byte 1 reads 0x%02x after writing 0x99",
          p[3 * PAGE + 1]);
    CHECK(p[3 * PAGE + 2] == content[2], "page 3 byte 2 is 0x%02x; want 0x%02x", p[3 * PAGE + 2],
          content[2]);
    printf("refpage_partial_munmap_mprotect: page 2 PROT_READ reads the pattern; page 3 is still "
           "writable\n");

    CHECK(mprotect((void *)(p + 2 * PAGE), PAGE, PROT_READ | PROT_WRITE) == 0,
          "mprotect page 2 back to PROT_READ|PROT_WRITE: errno %d", errno);
    p[2 * PAGE + 100] = 0x31;
    CHECK(p[2 * PAGE + 100] == 0x31, "page 2 byte 100 reads 0x%02x after writing 0x31",
          p[2 * PAGE + 100]);
    CHECK_PATTERN(p + 2 * PAGE, 100, content, SIZE, "page 2 before the written byte");
    printf("refpage_partial_munmap_mprotect: page 2 made writable again takes a write\n");

    CHECK(munmap((void *)p, 4 * PAGE) == 0, "munmap of the whole range (with its hole): errno %d",
          errno);
    CHECK(close(fd) == 0, "close: errno %d", errno);
    return 0;
}
