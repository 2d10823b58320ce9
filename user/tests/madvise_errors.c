/*
 * madvise_errors: madvise(2) refuses an address that is not page-aligned
 * and advice it does not know, with EINVAL (mm/madvise.c,
 * madvise_behavior_valid). Under qemu-user (make user-test-linux) the
 * unknown-advice checks fail: qemu's linux-user madvise returns 0 for any
 * advice it does not act on; a real Linux kernel refuses it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "refpage_test.h"

#define PAGE 4096

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    unsigned char *p =
        mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED, "mmap: errno %d", errno);
    p[0] = 1;

    CHECK_ERRNO(madvise(p + 1, PAGE, MADV_DONTNEED), EINVAL);
    CHECK_ERRNO(madvise(p + 2048, PAGE, MADV_DONTNEED), EINVAL);
    printf("madvise_errors: MADV_DONTNEED at page + 1 and page + 2048 -> EINVAL\n");
    CHECK_ERRNO(madvise(p, PAGE, 12345), EINVAL);
    CHECK_ERRNO(madvise(p, PAGE, -1), EINVAL);
    printf("madvise_errors: advice 12345 and -1 -> EINVAL\n");
    CHECK(p[0] == 1, "the refused calls changed memory: byte 0 is %d", p[0]);
    CHECK(madvise(p, PAGE, MADV_DONTNEED) == 0, "the same call with a valid address and advice: "
                                                "errno %d", errno);

    CHECK(munmap(p, 2 * PAGE) == 0, "munmap: errno %d", errno);
    return 0;
}
