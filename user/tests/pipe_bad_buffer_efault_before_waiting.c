/*
 * pipe_bad_buffer_efault_before_waiting: read, write, readv and writev
 * check that the buffer lies in the user half before the pipe is looked
 * at (Linux's vfs_read / vfs_write access_ok, import_iovec for the
 * vectors), so an empty or full pipe does not turn a bad buffer into
 * EAGAIN, and a blocking read into one fails at once instead of
 * sleeping. A kernel address, a range that wraps, and (without the
 * tagged address ABI) a tagged pointer are EFAULT, even for 0 bytes.
 * readv/writev look at the descriptor before the vector (EBADF first).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "refpage_test.h"

#define FAILS(call, want)                                                                \
    do {                                                                                 \
        errno = 0;                                                                       \
        long r_ = (long)(call);                                                          \
        CHECK(r_ == -1 && errno == (want), "%s: %ld (%m), want %s", #call, r_, #want);   \
    } while (0)

int main(void)
{
    static char buf[4096];
    char *kernel = (char *)0xffff000000001000UL;
    char *tagged = (char *)((uintptr_t)buf | (0x2aUL << 56));
    int p[2];
    CHECK(pipe2(p, O_NONBLOCK) == 0, "pipe2: %m");
    /* Empty: a good buffer is EAGAIN, a bad one EFAULT. */
    FAILS(read(p[0], buf, 10), EAGAIN);
    FAILS(read(p[0], kernel, 10), EFAULT);
    FAILS(read(p[0], kernel, 0), EFAULT);
    FAILS(syscall(SYS_read, p[0], buf, SIZE_MAX), EFAULT);
    FAILS(read(p[0], tagged, 10), EFAULT);
    struct iovec bad[2] = {{buf, 10}, {kernel, 10}};
    FAILS(readv(p[0], bad, 2), EFAULT);
    FAILS(syscall(SYS_readv, -1, NULL, 1), EBADF);
    FAILS(syscall(SYS_writev, -1, NULL, -1), EBADF);
    FAILS(write(p[1], kernel, 0), EFAULT);
    /* Full: a good buffer is EAGAIN, a bad one EFAULT. */
    while (write(p[1], buf, sizeof buf) > 0)
        ;
    FAILS(write(p[1], buf, 10), EAGAIN);
    FAILS(write(p[1], kernel, 10), EFAULT);
    FAILS(writev(p[1], bad, 2), EFAULT);
    close(p[0]);
    close(p[1]);
    /* Blocking, empty, a writer left: the bad buffer fails at once. */
    CHECK(pipe(p) == 0, "pipe: %m");
    FAILS(read(p[0], kernel, 10), EFAULT);
    printf("bad buffers: EFAULT before EAGAIN or sleeping\n");
    return 0;
}
