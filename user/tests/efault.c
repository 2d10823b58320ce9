/*
 * efault: a system call given a bad user pointer fails with EFAULT instead
 * of faulting the kernel or the program: an unmapped low address, and a
 * kernel-half address (inside this kernel's linear map at
 * 0xffff000000000000: mapped, but for EL1 only, so the kernel must not
 * read it on the program's behalf). Uses write(2), and uname(2) and
 * clock_gettime(2) through syscall() so that glibc (or a vDSO) never
 * touches the pointer itself.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "refpage_test.h"

/* Laundered through volatile so the compiler neither warns about nor
 * reasons with the constant addresses. */
static void *volatile unmapped_low = (void *)0x10;
static void *volatile kernel_half = (void *)0xffff000000001000UL;

/* ret must be -1 with errno EFAULT; what = the call, for the message. */
static void expect_efault(long ret, int err, const char *what)
{
    CHECK(ret == -1 && err == EFAULT, "%s returned %ld, errno %d (%s); want -1, EFAULT", what, ret,
          err, strerror(err));
    printf("efault: %s -> -1, EFAULT\n", what);
}

int main(void)
{
    long ret;

    errno = 0;
    ret = write(1, unmapped_low, 8);
    expect_efault(ret, errno, "write(1, 0x10, 8)");

    errno = 0;
    ret = write(1, kernel_half, 8);
    expect_efault(ret, errno, "write(1, 0xffff000000001000, 8)");

    errno = 0;
    ret = syscall(SYS_uname, unmapped_low);
    expect_efault(ret, errno, "uname(0x10)");

    errno = 0;
    ret = syscall(SYS_clock_gettime, CLOCK_MONOTONIC, unmapped_low);
    expect_efault(ret, errno, "clock_gettime(CLOCK_MONOTONIC, 0x10)");

    return 0;
}
