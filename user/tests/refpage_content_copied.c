/*
 * refpage_content_copied: refpage_create(2) copies the content during the
 * call. Changing the caller's buffer afterwards, or unmapping it, does not
 * change what a mapping of the descriptor shows; and content in a page the
 * program has never touched is readable (the kernel faults it in: zeros).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "refpage_test.h"

#define PAGE 4096
#define SIZE 64

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);

    unsigned char *buf = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(buf != MAP_FAILED, "mmap: errno %d", errno);
    unsigned char old[SIZE];
    for (int i = 0; i < SIZE; i++)
        old[i] = buf[i] = (unsigned char)(0x40 + i * 3);

    int fd = refpage_create(buf, SIZE, 0);
    CHECK(fd >= 0, "refpage_create: errno %d (%s)", errno, strerror(errno));

    /* Change the source before anything maps or faults the descriptor. */
    memset(buf, 0xee, SIZE);
    unsigned char *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(p != MAP_FAILED, "mmap of the refpage: errno %d (%s)", errno, strerror(errno));
    CHECK_PATTERN(p, 2 * PAGE, old, SIZE, "mapping after the source buffer was overwritten");
    printf("refpage_content_copied: source overwritten with 0xee after the call; the "
           "mapping shows the old 64-byte pattern\n");

    /* Unmap the source entirely: a new mapping still shows the copy. */
    CHECK(munmap(buf, PAGE) == 0, "munmap of the source: errno %d", errno);
    unsigned char *q = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
    CHECK(q != MAP_FAILED, "second mmap: errno %d (%s)", errno, strerror(errno));
    CHECK_PATTERN(q, PAGE, old, SIZE, "mapping made after the source was unmapped");
    printf("refpage_content_copied: source unmapped; a new mapping shows the pattern\n");
    CHECK(munmap(p, 2 * PAGE) == 0 && munmap(q, PAGE) == 0 && close(fd) == 0, "cleanup: errno %d",
          errno);

    /* Content in an anonymous page never touched: readable, all zero. */
    unsigned char *fresh = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(fresh != MAP_FAILED, "mmap: errno %d", errno);
    fd = refpage_create(fresh + 1024, 1024, 0);
    CHECK(fd >= 0, "refpage_create from a never-touched page: errno %d (%s); want success",
          errno, strerror(errno));
    unsigned char zeros[1024] = {0};
    p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
    CHECK(p != MAP_FAILED, "mmap: errno %d (%s)", errno, strerror(errno));
    CHECK_PATTERN(p, PAGE, zeros, 1024, "refpage from a never-touched anonymous page");
    printf("refpage_content_copied: content in a never-touched anonymous page reads as "
           "zeros\n");
    CHECK(munmap(p, PAGE) == 0 && munmap(fresh, PAGE) == 0 && close(fd) == 0, "cleanup: errno %d",
          errno);
    return 0;
}
