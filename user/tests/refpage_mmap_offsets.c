/*
 * refpage_mmap_offsets: the refpage "file is infinite": a MAP_PRIVATE
 * mapping at any page-aligned offset (0, 4096, 1 GiB, 1 TiB) shows the
 * repeated pattern, and so does a read-only MAP_SHARED mapping.
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
#define LEN (3 * PAGE)

static unsigned char content[SIZE] __attribute__((aligned(SIZE)));

static void check_mapping(int fd, int flags, off_t offset, const char *kind)
{
    unsigned char *p = mmap(NULL, LEN, PROT_READ, flags, fd, offset);
    CHECK(p != MAP_FAILED, "mmap %s PROT_READ at offset %#llx: errno %d (%s)", kind,
          (unsigned long long)offset, errno, strerror(errno));
    char what[96];
    snprintf(what, sizeof(what), "%s mapping at offset %#llx", kind, (unsigned long long)offset);
    CHECK_PATTERN(p, LEN, content, SIZE, what);
    CHECK(munmap(p, LEN) == 0, "munmap: errno %d", errno);
    printf("refpage_mmap_offsets: %s, 3 pages at offset %#llx: the pattern\n", kind,
           (unsigned long long)offset);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int i = 0; i < SIZE; i++)
        content[i] = (unsigned char)(i * 37 + 11);
    int fd = refpage_create(content, SIZE, 0);
    CHECK(fd >= 0, "refpage_create: errno %d (%s)", errno, strerror(errno));

    static const off_t offsets[] = {0, PAGE, 5 * PAGE, 1L << 30, 1L << 40};
    for (unsigned i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++)
        check_mapping(fd, MAP_PRIVATE, offsets[i], "MAP_PRIVATE");
    check_mapping(fd, MAP_SHARED, 0, "MAP_SHARED");
    check_mapping(fd, MAP_SHARED, 1L << 30, "MAP_SHARED");

    CHECK(close(fd) == 0, "close: errno %d", errno);
    return 0;
}
