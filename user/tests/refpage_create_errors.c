/*
 * refpage_create_errors: refpage_create(2) refuses bad arguments, checking
 * in the contract's order (docs/refpage.md, "Checks, in this order"):
 *   1. flags != 0                                              -> EINVAL
 *   2. size 0, not a power of two, > 4096, content not aligned -> EINVAL
 *   3. the page holding content cannot be read                 -> EFAULT
 * A call that breaks two rules gets the error of the earlier one, and a
 * failed call leaves no descriptor behind.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "refpage_test.h"

#define PAGE 4096

/* Readable content, aligned for every legal size. */
static unsigned char content[2 * PAGE] __attribute__((aligned(PAGE)));

/* Laundered through volatile so the compiler neither warns about nor
 * reasons with the constant addresses. */
static void *volatile null_ptr = (void *)0;
static void *volatile kernel_image = (void *)0xffff800000000000UL;

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* 1. flags */
    CHECK_ERRNO(refpage_create(content, 16, 1), EINVAL);
    CHECK_ERRNO(refpage_create(content, 16, 1UL << 63), EINVAL);
    CHECK_ERRNO(refpage_create(content, 16, ~0UL), EINVAL);
    printf("refpage_create_errors: flags 1, 1<<63, ~0 with good content and size -> EINVAL\n");

    /* 2. size and alignment */
    CHECK_ERRNO(refpage_create(content, 0, 0), EINVAL);
    CHECK_ERRNO(refpage_create(content, 3, 0), EINVAL);
    CHECK_ERRNO(refpage_create(content, 24, 0), EINVAL);
    CHECK_ERRNO(refpage_create(content, 4095, 0), EINVAL);
    CHECK_ERRNO(refpage_create(content, 4097, 0), EINVAL);
    CHECK_ERRNO(refpage_create(content, 8192, 0), EINVAL);
    CHECK_ERRNO(refpage_create(content, 1U << 31, 0), EINVAL);
    printf("refpage_create_errors: size 0, 3, 24, 4095, 4097 (not a power of two), 8192, "
           "1<<31 (> page size) -> EINVAL\n");
    CHECK_ERRNO(refpage_create(content + 1, 2, 0), EINVAL);
    CHECK_ERRNO(refpage_create(content + 8, 16, 0), EINVAL);
    CHECK_ERRNO(refpage_create(content + 64, 128, 0), EINVAL);
    CHECK_ERRNO(refpage_create(content + 2048, 4096, 0), EINVAL);
    printf("refpage_create_errors: content not aligned to size (+1/2, +8/16, +64/128, "
           "+2048/4096) -> EINVAL\n");

    /* 3. readability */
    CHECK_ERRNO(refpage_create(null_ptr, 1, 0), EFAULT);
    CHECK_ERRNO(refpage_create(null_ptr, 4096, 0), EFAULT);
    printf("refpage_create_errors: content NULL (aligned, size 1 and 4096) -> EFAULT\n");

    unsigned char *gone = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(gone != MAP_FAILED, "mmap of one anonymous page: errno %d", errno);
    CHECK(munmap(gone, PAGE) == 0, "munmap: errno %d", errno);
    CHECK_ERRNO(refpage_create(gone, 1, 0), EFAULT);
    CHECK_ERRNO(refpage_create(gone + 2048, 2048, 0), EFAULT);
    CHECK_ERRNO(refpage_create(gone, 4096, 0), EFAULT);
    printf("refpage_create_errors: content in an unmapped page (mmap then munmap at %p) -> EFAULT\n",
           (void *)gone);

    CHECK_ERRNO(refpage_create(kernel_image, 4096, 0), EFAULT);
    CHECK_ERRNO(refpage_create(kernel_image, 1, 0), EFAULT);
    printf("refpage_create_errors: content at kernel address %p -> EFAULT\n", kernel_image);

    unsigned char *none = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(none != MAP_FAILED, "mmap of one PROT_NONE page: errno %d", errno);
    CHECK_ERRNO(refpage_create(none, 16, 0), EFAULT);
    CHECK_ERRNO(refpage_create(none, 4096, 0), EFAULT);
    printf("refpage_create_errors: content in a PROT_NONE page -> EFAULT\n");

    /* Order: the earlier rule's error wins. */
    CHECK_ERRNO(refpage_create(content, 3, 1), EINVAL);
    CHECK_ERRNO(refpage_create(content + 1, 2, 1), EINVAL);
    printf("refpage_create_errors: flags 1 with a bad size / misaligned content -> EINVAL\n");
    CHECK_ERRNO(refpage_create(null_ptr, 1, 1), EINVAL);
    CHECK_ERRNO(refpage_create(none, 16, 1), EINVAL);
    printf("refpage_create_errors: flags 1 with unreadable content -> EINVAL (flags before "
           "readability)\n");
    CHECK_ERRNO(refpage_create(null_ptr, 3, 0), EINVAL);
    CHECK_ERRNO(refpage_create(null_ptr, 0, 0), EINVAL);
    CHECK_ERRNO(refpage_create(kernel_image, 8192, 0), EINVAL);
    CHECK_ERRNO(refpage_create(none + 1, 2, 0), EINVAL);
    CHECK_ERRNO(refpage_create(gone + 8, 16, 0), EINVAL);
    printf("refpage_create_errors: bad size / misaligned with unreadable content -> EINVAL (size "
           "before readability)\n");

    /* No failed call took a descriptor: 0-2 are the console, so a
     * successful call now gets 3. */
    int fd = refpage_create(content, 16, 0);
    CHECK(fd == 3, "refpage_create after the failures returned %d (errno %d); want 3, the lowest "
                   "free descriptor",
          fd, errno);
    CHECK(close(fd) == 0, "close(%d): errno %d", fd, errno);
    CHECK(munmap(none, PAGE) == 0, "munmap: errno %d", errno);
    printf("refpage_create_errors: the failed calls left no descriptor: the next one is 3\n");
    return 0;
}
