/*
 * mincore_msync_rules: mincore(2) and msync(2) as Linux 6.1 (mm/mincore.c,
 * mm/msync.c).
 * mincore: EINVAL for an unaligned start, ENOMEM for a range beyond the
 * user half or meeting a hole, EFAULT for a vector that cannot be written;
 * resident means a present entry (the zero page and the reference page
 * count once mapped), and for shared memory a page the object holds.
 * msync: EINVAL for unknown flags, MS_ASYNC | MS_SYNC and an unaligned
 * start; ENOMEM for a hole (after the rest; at once for plain MS_ASYNC);
 * EBUSY for MS_INVALIDATE over locked memory.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mm_test.h"

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    unsigned char vec[16];
    unsigned char *p = mmap(NULL, 8 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED, "mmap: %m");
    CHECK_ERRNO(mincore(p + 1, PAGE, vec), EINVAL);
    CHECK_ERRNO(mincore(p, (size_t)1 << 62, vec), ENOMEM);
    CHECK_ERRNO(mincore(p, PAGE, (unsigned char *)-4096L), EFAULT);
    CHECK_ERRNO(mincore(p, PAGE, (unsigned char *)8), EFAULT);
    CHECK(mincore(p, 0, vec) == 0, "mincore of 0 bytes: %m");
    volatile unsigned char sink = p[PAGE]; /* the zero page */
    (void)sink;
    p[3 * PAGE] = 1;
    CHECK(mincore(p, 8 * PAGE - 1, vec) == 0, "mincore: %m");
    for (int i = 0; i < 8; i++)
        CHECK(vec[i] == (i == 1 || i == 3), "page %d: %d", i, vec[i]);
    CHECK(munmap(p + 6 * PAGE, PAGE) == 0, "munmap: %m");
    memset(vec, 9, sizeof vec);
    CHECK_ERRNO(mincore(p, 8 * PAGE, vec), ENOMEM);
    static const unsigned char content[16] = "0123456789abcdef";
    int fd = refpage_create(content, sizeof content, 0);
    unsigned char *r = mmap(NULL, 2 * PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
    CHECK(r != MAP_FAILED, "mmap refpage: %m");
    sink = r[PAGE];
    CHECK(mincore(r, 2 * PAGE, vec) == 0 && vec[0] == 0 && vec[1] == 1, "refpage: %d %d", vec[0], vec[1]);
    unsigned char *sh = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    sh[PAGE] = 1;
    CHECK(madvise(sh, 2 * PAGE, MADV_DONTNEED) == 0, "MADV_DONTNEED: %m");
    CHECK(mincore(sh, 2 * PAGE, vec) == 0 && vec[0] == 0 && vec[1] == 1, "shared memory after DONTNEED: %d %d",
          vec[0], vec[1]);
    printf("mincore: errors as Linux; zero page, reference page and shared memory's pages resident\n");

    CHECK_ERRNO(msync(p, PAGE, 8), EINVAL);
    CHECK_ERRNO(msync(p, PAGE, MS_ASYNC | MS_SYNC), EINVAL);
    CHECK_ERRNO(msync(p + 1, PAGE, MS_SYNC), EINVAL);
    CHECK(msync(p, PAGE, MS_SYNC) == 0 && msync(p, PAGE, MS_ASYNC) == 0 && msync(p, PAGE, 0) == 0,
          "msync of a mapped page: %m");
    CHECK(msync(p, 0, MS_SYNC) == 0, "msync of 0 bytes: %m");
    CHECK_ERRNO(msync(p, 8 * PAGE, MS_SYNC), ENOMEM);
    CHECK_ERRNO(msync(p + 6 * PAGE, 2 * PAGE, MS_ASYNC), ENOMEM);
    CHECK_ERRNO(msync(p, (size_t)-4096, MS_SYNC), ENOMEM);
    CHECK(mlock(p, PAGE) == 0, "mlock: %m");
    CHECK_ERRNO(msync(p, PAGE, MS_INVALIDATE), EBUSY);
    CHECK(msync(p + PAGE, PAGE, MS_INVALIDATE) == 0, "MS_INVALIDATE of unlocked memory: %m");
    printf("msync: EINVAL, ENOMEM and EBUSY as Linux\n");
    return 0;
}
