/*
 * refpage_cow_two_mappings: two MAP_PRIVATE mappings of one refpage
 * descriptor are isolated by copy-on-write: a write to mapping A is not
 * seen in B, a write to B does not disturb A's own write, and neither
 * reaches the reference page itself (a read-only MAP_SHARED mapping and a
 * mapping made afterwards still show the pattern).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "refpage_test.h"

#define PAGE 4096
#define LEN (2 * PAGE)
#define SIZE 16

static unsigned char content[SIZE] __attribute__((aligned(SIZE))) = {
    0x10, 0x21, 0x32, 0x43, 0x54, 0x65, 0x76, 0x87, 0x98, 0xa9, 0xba, 0xcb, 0xdc, 0xed, 0xfe, 0x0f};

static unsigned char *map(int fd, int prot, int flags)
{
    unsigned char *p = mmap(NULL, LEN, prot, flags, fd, 0);
    CHECK(p != MAP_FAILED, "mmap: errno %d (%s)", errno, strerror(errno));
    return p;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    int fd = refpage_create(content, SIZE, 0);
    CHECK(fd >= 0, "refpage_create: errno %d (%s)", errno, strerror(errno));

    volatile unsigned char *a = map(fd, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    volatile unsigned char *b = map(fd, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    volatile unsigned char *s = map(fd, PROT_READ, MAP_SHARED);
    /* Read everything first: all three map the reference page now. */
    CHECK_PATTERN(a, LEN, content, SIZE, "mapping A");
    CHECK_PATTERN(b, LEN, content, SIZE, "mapping B");
    CHECK_PATTERN(s, LEN, content, SIZE, "MAP_SHARED mapping");

    a[100] = 0xa1;
    a[PAGE + 5] = 0xa2;
    CHECK(a[100] == 0xa1 && a[PAGE + 5] == 0xa2, "A does not keep its writes: 0x%02x 0x%02x",
          a[100], a[PAGE + 5]);
    CHECK_PATTERN(b, LEN, content, SIZE, "mapping B after writes to A");
    CHECK_PATTERN(s, LEN, content, SIZE, "MAP_SHARED mapping after writes to A");
    printf("refpage_cow_two_mappings: writes to A (bytes 100 and 4101) are not seen in B or in "
           "a MAP_SHARED mapping\n");

    b[100] = 0xb1;
    CHECK(b[100] == 0xb1, "B does not keep its write: 0x%02x", b[100]);
    CHECK(a[100] == 0xa1, "A's byte 100 is 0x%02x after B wrote its own byte 100; want A's 0xa1",
          a[100]);
    CHECK(a[PAGE + 5] == 0xa2, "A's byte 4101 is 0x%02x; want 0xa2", a[PAGE + 5]);
    CHECK_PATTERN(b + PAGE, PAGE, content, SIZE, "B's second page");
    CHECK_PATTERN(b, 100, content, SIZE, "B's first page before byte 100");
    CHECK_PATTERN(s, LEN, content, SIZE, "MAP_SHARED mapping after writes to B");
    printf("refpage_cow_two_mappings: B's write to byte 100 leaves A's own 0xa1 there\n");

    /* A write as the first touch of a page in a third mapping. */
    volatile unsigned char *c = map(fd, PROT_READ | PROT_WRITE, MAP_PRIVATE);
    c[PAGE + 5] = 0xc2;
    CHECK(a[PAGE + 5] == 0xa2, "A's byte 4101 is 0x%02x after C wrote; want 0xa2", a[PAGE + 5]);
    CHECK_PATTERN(b + PAGE, PAGE, content, SIZE, "B's second page after C wrote");
    CHECK_PATTERN(c, PAGE + 5, content, SIZE, "C before its written byte");
    printf("refpage_cow_two_mappings: a third mapping's write is isolated from A and B too\n");

    CHECK(munmap((void *)a, LEN) == 0 && munmap((void *)b, LEN) == 0 &&
              munmap((void *)s, LEN) == 0 && munmap((void *)c, LEN) == 0,
          "munmap: errno %d", errno);
    volatile unsigned char *d = map(fd, PROT_READ, MAP_PRIVATE);
    CHECK_PATTERN(d, LEN, content, SIZE, "a mapping made after all the writes");
    printf("refpage_cow_two_mappings: a new mapping after all that shows the pattern\n");
    CHECK(munmap((void *)d, LEN) == 0 && close(fd) == 0, "cleanup: errno %d", errno);
    return 0;
}
