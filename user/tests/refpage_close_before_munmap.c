/*
 * refpage_close_before_munmap: a mapping keeps the reference page alive
 * after its descriptor is closed (docs/refpage.md: "The reference page lives
 * as long as any descriptor or mapping uses it"). After close(2), pages
 * never touched read the pattern, a read page can be written (a
 * copy-on-write fault after close), an untouched page can be written, and
 * a new refpage that reuses the descriptor number does not change the old
 * mapping.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "refpage_test.h"

#define PAGE 4096
#define SIZE 32

static unsigned char content[SIZE] __attribute__((aligned(SIZE)));
static unsigned char other[SIZE] __attribute__((aligned(SIZE)));

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int i = 0; i < SIZE; i++) {
        content[i] = (unsigned char)(0xc0 ^ (i * 5));
        other[i] = 0x77;
    }
    int fd = refpage_create(content, SIZE, 0);
    CHECK(fd >= 0, "refpage_create: errno %d (%s)", errno, strerror(errno));
    volatile unsigned char *p = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(p != MAP_FAILED, "mmap: errno %d (%s)", errno, strerror(errno));
    volatile unsigned char *s = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
    CHECK(s != MAP_FAILED, "mmap MAP_SHARED: errno %d (%s)", errno, strerror(errno));

    /* Nothing touched yet: every access below is the first after close. */
    CHECK(close(fd) == 0, "close(%d): errno %d", fd, errno);
    CHECK_ERRNO(fcntl(fd, F_GETFD), EBADF);
    printf("refpage_close_before_munmap: mapped 4 pages private and 1 shared, closed fd %d before "
           "touching them\n", fd);

    CHECK_PATTERN(p, PAGE, content, SIZE, "page 0 read after close");
    CHECK_PATTERN(s, PAGE, content, SIZE, "MAP_SHARED page read after close");
    printf("refpage_close_before_munmap: reads after close show the pattern\n");

    p[10] = 0x01;
    CHECK(p[10] == 0x01, "page 0 byte 10 reads 0x%02x after writing 0x01", p[10]);
    CHECK_PATTERN(p, 10, content, SIZE, "page 0 before the written byte");
    for (int i = 11; i < PAGE; i++)
        CHECK(p[i] == content[i % SIZE], "page 0 byte %d is 0x%02x, want 0x%02x", i, p[i],
              content[i % SIZE]);
    printf("refpage_close_before_munmap: a write to a read page after close works\n");

    p[PAGE + 20] = 0x02;
    CHECK(p[PAGE + 20] == 0x02, "page 1 byte 20 reads 0x%02x after writing 0x02", p[PAGE + 20]);
    CHECK_PATTERN(p + PAGE, 20, content, SIZE, "page 1 before the written byte");
    printf("refpage_close_before_munmap: a write to an untouched page after close works\n");

    /* The same descriptor number, a different pattern. */
    int fd2 = refpage_create(other, SIZE, 0);
    CHECK(fd2 == fd, "the next refpage_create returned %d (errno %d); want the freed %d", fd2,
          errno, fd);
    CHECK_PATTERN(p + 2 * PAGE, 2 * PAGE, content, SIZE, "pages 2-3 after fd was reused");
    CHECK_PATTERN(s, PAGE, content, SIZE, "MAP_SHARED page after fd was reused");
    CHECK(p[10] == 0x01 && p[PAGE + 20] == 0x02, "written bytes changed: 0x%02x 0x%02x", p[10],
          p[PAGE + 20]);
    printf("refpage_close_before_munmap: fd %d reused for another pattern; the old mapping still "
           "shows its own\n", fd2);

    CHECK(munmap((void *)p, 4 * PAGE) == 0 && munmap((void *)s, PAGE) == 0 && close(fd2) == 0,
          "cleanup: errno %d", errno);
    return 0;
}
