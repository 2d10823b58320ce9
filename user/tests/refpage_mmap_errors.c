/*
 * refpage_mmap_errors: mmap(2) and mprotect(2) refuse what a refpage
 * descriptor (a read-only file) or the arguments do not allow, with
 * Linux's errors (mm/mmap.c do_mmap, mm/mprotect.c):
 *  - offset not page-aligned                                -> EINVAL
 *  - MAP_SHARED with PROT_WRITE (the file is O_RDONLY)      -> EACCES
 *  - mprotect PROT_WRITE on a MAP_SHARED refpage mapping    -> EACCES
 *  - a descriptor without mmap (fd 1, the console)          -> ENODEV
 *  - no MAP_ANONYMOUS and fd 999 / -1 / a closed descriptor -> EBADF
 *  - length 0                                               -> EINVAL
 *  - neither MAP_SHARED nor MAP_PRIVATE                     -> EINVAL
 *  - unknown PROT bits (0x1000): mprotect -> EINVAL; mmap ignores them, as
 *    Linux's does (calc_vm_prot_bits keeps only the bits it knows)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "refpage_test.h"

#define PAGE 4096

static unsigned char content[4] __attribute__((aligned(4))) = {0xde, 0xad, 0xbe, 0xef};

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    int fd = refpage_create(content, sizeof(content), 0);
    CHECK(fd >= 0, "refpage_create: errno %d (%s)", errno, strerror(errno));

    CHECK_ERRNO(mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 100), EINVAL);
    CHECK_ERRNO(mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 2048), EINVAL);
    CHECK_ERRNO(mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, PAGE + 1), EINVAL);
    printf("refpage_mmap_errors: offset 100, 2048, 4097 -> EINVAL\n");

    CHECK_ERRNO(mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), EACCES);
    CHECK_ERRNO(mmap(NULL, PAGE, PROT_WRITE, MAP_SHARED, fd, 0), EACCES);
    printf("refpage_mmap_errors: MAP_SHARED with PROT_WRITE -> EACCES\n");

    unsigned char *s = mmap(NULL, 2 * PAGE, PROT_READ, MAP_SHARED, fd, 0);
    CHECK(s != MAP_FAILED, "mmap MAP_SHARED PROT_READ: errno %d (%s)", errno, strerror(errno));
    CHECK_ERRNO(mprotect(s, 2 * PAGE, PROT_READ | PROT_WRITE), EACCES);
    CHECK_ERRNO(mprotect(s + PAGE, PAGE, PROT_WRITE), EACCES);
    CHECK_PATTERN(s, 2 * PAGE, content, sizeof(content), "MAP_SHARED mapping after the refused "
                                                         "mprotect");
    CHECK(mprotect(s, 2 * PAGE, PROT_READ) == 0, "mprotect PROT_READ on it: errno %d", errno);
    CHECK(munmap(s, 2 * PAGE) == 0, "munmap: errno %d", errno);
    printf("refpage_mmap_errors: mprotect PROT_READ|PROT_WRITE on a MAP_SHARED mapping -> EACCES; "
           "it still reads the pattern\n");

    unsigned char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(p != MAP_FAILED, "mmap MAP_PRIVATE PROT_READ|PROT_WRITE (allowed on a read-only file): "
                           "errno %d (%s)", errno, strerror(errno));
    CHECK(munmap(p, PAGE) == 0, "munmap: errno %d", errno);
    printf("refpage_mmap_errors: (MAP_PRIVATE with PROT_WRITE is allowed)\n");

    CHECK_ERRNO(mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, 1, 0), ENODEV);
    CHECK_ERRNO(mmap(NULL, PAGE, PROT_READ, MAP_SHARED, 1, 0), ENODEV);
    printf("refpage_mmap_errors: mmap of fd 1 (the console) -> ENODEV\n");

    CHECK_ERRNO(mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, 999, 0), EBADF);
    CHECK_ERRNO(mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, -1, 0), EBADF);
    int closed = refpage_create(content, sizeof(content), 0);
    CHECK(closed >= 0, "refpage_create: errno %d", errno);
    CHECK(close(closed) == 0, "close: errno %d", errno);
    CHECK_ERRNO(mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, closed, 0), EBADF);
    printf("refpage_mmap_errors: fd 999, -1, closed fd %d without MAP_ANONYMOUS -> EBADF\n", closed);

    CHECK_ERRNO(mmap(NULL, 0, PROT_READ, MAP_PRIVATE, fd, 0), EINVAL);
    printf("refpage_mmap_errors: length 0 -> EINVAL\n");
    CHECK_ERRNO(mmap(NULL, PAGE, PROT_READ, 0, fd, 0), EINVAL);
    printf("refpage_mmap_errors: flags without MAP_SHARED or MAP_PRIVATE -> EINVAL\n");
    unsigned char *m = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
    CHECK(m != MAP_FAILED, "mmap: errno %d (%s)", errno, strerror(errno));
    CHECK_ERRNO(mprotect(m, PAGE, PROT_READ | 0x1000), EINVAL);
    CHECK(munmap(m, PAGE) == 0, "munmap: errno %d", errno);
    printf("refpage_mmap_errors: mprotect with PROT bit 0x1000 -> EINVAL\n");
    /* Linux's mmap ignores PROT bits it does not know; only mprotect
     * (arch_validate_prot) refuses them. The mapping is an ordinary one. */
    m = mmap(NULL, PAGE, PROT_READ | 0x1000, MAP_PRIVATE, fd, 0);
    CHECK(m != MAP_FAILED, "mmap with PROT bit 0x1000: errno %d (%s)", errno, strerror(errno));
    CHECK(m[123] == content[123 % sizeof(content)], "the mapping shows the pattern: byte 123 is %#x", m[123]);
    CHECK(munmap(m, PAGE) == 0, "munmap: errno %d", errno);
    printf("refpage_mmap_errors: mmap with PROT bit 0x1000 -> ignored, as Linux does\n");

    CHECK(close(fd) == 0, "close: errno %d", errno);
    return 0;
}
