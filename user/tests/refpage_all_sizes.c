/*
 * refpage_all_sizes: for every legal size 1, 2, 4, ..., 4096, with random
 * content (getrandom), a 3-page MAP_PRIVATE PROT_READ|PROT_WRITE mapping at
 * offset 8192 shows content[i % size] in every byte i. Then:
 *  - writing one byte of the middle page (which was read, so it maps the
 *    reference page) changes that byte only: the other bytes of the page
 *    keep the pattern, and the other pages too (copy-on-write isolation
 *    between the pages of one mapping);
 *  - writing to a page never touched before (the fault finds no page)
 *    gives a page that is the pattern except for the written byte.
 * Sizes up to 16 exercise the kernel's pattern fill, larger ones its copy.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#include "refpage_test.h"

#define PAGE 4096
#define LEN (3 * PAGE)
#define OFFSET (2 * PAGE)

static unsigned char content[PAGE] __attribute__((aligned(PAGE)));

/* p[0, len) is the pattern except p[at], which is `value`. */
static void check_all_but(const unsigned char *p, size_t len, size_t at, unsigned char value,
                          unsigned size, const char *what)
{
    CHECK(p[at] == value, "%s: the written byte %zu reads 0x%02x, want 0x%02x", what, at, p[at],
          value);
    CHECK_PATTERN(p, at, content, size, what);
    for (size_t i = at + 1; i < len; i++) {
        CHECK(p[i] == content[i % size], "%s: byte %zu is 0x%02x, want pattern byte 0x%02x (size "
                                         "%u, write was at byte %zu)",
              what, i, p[i], content[i % size], size, at);
    }
}

static void one_size(unsigned size)
{
    ssize_t got = getrandom(content, size, 0);
    CHECK(got == (ssize_t)size, "getrandom(%u) returned %zd, errno %d", size, got, errno);
    int fd = refpage_create(content, size, 0);
    CHECK(fd >= 0, "refpage_create(size %u): errno %d (%s)", size, errno, strerror(errno));

    unsigned char *p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, OFFSET);
    CHECK(p != MAP_FAILED, "size %u: mmap 3 pages at offset 8192: errno %d (%s)", size, errno,
          strerror(errno));
    char what[96];
    snprintf(what, sizeof(what), "size %u, 3 pages at offset 8192, read", size);
    CHECK_PATTERN(p, LEN, content, size, what);

    size_t at = PAGE + 1234;
    unsigned char value = (unsigned char)~content[at % size];
    ((volatile unsigned char *)p)[at] = value;
    snprintf(what, sizeof(what), "size %u, after writing byte %zu of the read mapping", size, at);
    check_all_but(p, LEN, at, value, size, what);

    /* A write as the first touch of a page. */
    unsigned char *q = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 5 * PAGE);
    CHECK(q != MAP_FAILED, "size %u: second mmap: errno %d (%s)", size, errno, strerror(errno));
    size_t at2 = PAGE + 7;
    unsigned char value2 = (unsigned char)(content[at2 % size] + 1);
    ((volatile unsigned char *)q)[at2] = value2;
    snprintf(what, sizeof(what), "size %u, write as the first touch of a page", size);
    check_all_but(q, 2 * PAGE, at2, value2, size, what);
    /* ... and the first mapping did not see it. */
    snprintf(what, sizeof(what), "size %u, first mapping after the second was written", size);
    check_all_but(p, LEN, at, value, size, what);

    CHECK(munmap(p, LEN) == 0 && munmap(q, 2 * PAGE) == 0 && close(fd) == 0,
          "size %u: cleanup: errno %d", size, errno);
    printf("refpage_all_sizes: size %4u: pattern in 3 pages at offset 8192; one-byte writes "
           "(read page and untouched page) change only that byte\n", size);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (unsigned size = 1; size <= PAGE; size *= 2)
        one_size(size);
    return 0;
}
