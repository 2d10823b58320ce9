/*
 * tagged_addr_abi_syscalls: system calls take tagged user pointers (a
 * non-zero top byte, which TBI0 lets the program itself use freely) only
 * after prctl(PR_SET_TAGGED_ADDR_CTRL, PR_TAGGED_ADDR_ENABLE) (Linux's
 * tagged address ABI, Documentation/arch/arm64/tagged-address-abi.rst).
 * Without it write(1, tagged, n) and clock_gettime(.., tagged) fail with
 * EFAULT; with it both work on the memory the untagged pointer names, and
 * turning the ABI off again (prctl 0) brings EFAULT back. Needs no MTE.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "refpage_test.h"

static char msg[] = "tagged_addr_abi_syscalls: (written through a tagged pointer)\n";
static struct timespec ts;

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *tmsg = (const char *)(((uintptr_t)0x3c << 56) | (uintptr_t)msg);
    struct timespec *tts = (struct timespec *)(((uintptr_t)0x71 << 56) | (uintptr_t)&ts);
    size_t n = strlen(msg);

    long got = prctl(PR_GET_TAGGED_ADDR_CTRL, 0, 0, 0, 0);
    CHECK(got == 0, "GET at program start: %ld (errno %d), want 0", got, errno);
    fflush(stdout);
    CHECK_ERRNO(write(1, tmsg, n), EFAULT);
    CHECK_ERRNO(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, tts), EFAULT);
    printf("tagged_addr_abi_syscalls: ABI off: write(1, %p, %zu) and clock_gettime(.., %p) -> "
           "EFAULT\n", (void *)tmsg, n, (void *)tts);

    int r = prctl(PR_SET_TAGGED_ADDR_CTRL, PR_TAGGED_ADDR_ENABLE, 0, 0, 0);
    CHECK(r == 0, "prctl(PR_SET_TAGGED_ADDR_CTRL, PR_TAGGED_ADDR_ENABLE): %d, errno %d (%s)", r,
          errno, strerror(errno));
    fflush(stdout);
    ssize_t w = write(1, tmsg, n);
    CHECK(w == (ssize_t)n, "ABI on: write(1, %p, %zu) returned %zd, errno %d (%s)", (void *)tmsg,
          n, w, errno, strerror(errno));
    ts.tv_sec = -1;
    long c = syscall(SYS_clock_gettime, CLOCK_MONOTONIC, tts);
    CHECK(c == 0 && ts.tv_sec >= 0, "ABI on: clock_gettime(.., %p) returned %ld (errno %d), "
          "tv_sec %ld", (void *)tts, c, errno, (long)ts.tv_sec);
    printf("tagged_addr_abi_syscalls: ABI on: write through %p wrote %zd bytes, clock_gettime "
           "filled the struct through %p\n", (void *)tmsg, w, (void *)tts);

    r = prctl(PR_SET_TAGGED_ADDR_CTRL, 0, 0, 0, 0);
    CHECK(r == 0, "prctl(PR_SET_TAGGED_ADDR_CTRL, 0): %d, errno %d", r, errno);
    fflush(stdout);
    CHECK_ERRNO(write(1, tmsg, n), EFAULT);
    printf("tagged_addr_abi_syscalls: ABI off again: EFAULT again\n");
    return 0;
}
