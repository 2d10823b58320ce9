/*
 * pipe_efault_no_loss: a buffer that is not mapped gets EFAULT, and nothing
 * in the pipe is lost or duplicated (Linux 6.1's pipe_read/pipe_write: a
 * pipe buffer whose copy out faults is not consumed; the page a faulting
 * write was filling is not added).
 *  1. write from an unmapped page: EFAULT, the pipe stays empty; read into
 *     one: EFAULT, the bytes stay.
 *  2. Two page buffers in the pipe, read of 8192 into one mapped page
 *     followed by a PROT_NONE page: 4096 (the first buffer), the second
 *     stays whole.
 *  3. One page buffer, read of 4096 into a buffer whose second half is not
 *     accessible: EFAULT, and all 4096 bytes are still there.
 *  4. write of 8192 (and of 6000) from one mapped page followed by a
 *     PROT_NONE page: 4096, the completed page; the pipe holds exactly it.
 *  5. A small write that would merge into the last buffer, from an
 *     unmapped address: EFAULT, the pipe holds what it held.
 * qemu-user (make user-test-linux) checks a whole buffer before the call
 * and fails 2 and 4 with EFAULT up front: there the test checks that
 * nothing was lost instead. This kernel (it has refpage_create) must give
 * Linux's partial counts.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "refpage_test.h"

static void expect_content(int fd, char c, int len, const char *what)
{
    static char buf[16384];
    CHECK(pipe_held(fd) == len, "%s: the pipe holds %d bytes, want %d", what, pipe_held(fd), len);
    ssize_t n = read(fd, buf, sizeof(buf));
    CHECK(n == len, "%s: read %zd (errno %d), want %d", what, n, errno, len);
    for (int i = 0; i < len; i++)
        CHECK(buf[i] == c, "%s: byte %d is %#x, want %#x", what, i, buf[i], c);
}

static int on_this_kernel(void)
{
    static const unsigned char content[16];
    int fd = refpage_create(content, sizeof(content), 0);
    if (fd < 0)
        return 0;
    close(fd);
    return 1;
}

int main(void)
{
    int strict = on_this_kernel();
    /* Two pages: the first readable and writable, the second PROT_NONE. */
    char *two = map_anonymous(8192, PROT_READ | PROT_WRITE);
    CHECK(mprotect(two + 4096, 4096, PROT_NONE) == 0, "mprotect: errno %d", errno);
    char *gone = map_anonymous(4096, PROT_READ | PROT_WRITE);
    CHECK(munmap(gone, 4096) == 0, "munmap");

    int p[2];
    CHECK(pipe(p) == 0, "pipe: errno %d", errno);
    CHECK_ERRNO(write(p[1], gone, 10), EFAULT);
    CHECK(pipe_held(p[0]) == 0, "after a faulting write the pipe holds %d bytes", pipe_held(p[0]));
    CHECK(write(p[1], "hello", 5) == 5, "write");
    CHECK_ERRNO(read(p[0], gone, 5), EFAULT);
    char buf[8];
    CHECK(pipe_held(p[0]) == 5 && read(p[0], buf, 8) == 5 && memcmp(buf, "hello", 5) == 0,
          "after a faulting read the bytes are not all there");
    printf("pipe_efault_no_loss: unmapped source or destination: EFAULT, nothing lost\n");

    static char page[4096];
    memset(page, 'A', sizeof(page));
    CHECK(write(p[1], page, 4096) == 4096, "A page");
    memset(page, 'B', sizeof(page));
    CHECK(write(p[1], page, 4096) == 4096, "B page");
    ssize_t n = read(p[0], two, 8192);
    if (!strict && n == -1 && errno == EFAULT) {
        printf("pipe_efault_no_loss: (not Linux's partial read: EFAULT up front, as qemu-user does)\n");
        CHECK(pipe_held(p[0]) == 8192 && read(p[0], page, 4096) == 4096 && page[0] == 'A' && page[4095] == 'A',
              "qemu-user: after a failed read the pipe holds %d bytes", pipe_held(p[0]));
    } else {
        CHECK(n == 4096, "read of 8192 with the second page not accessible: %zd (errno %d), want 4096", n, errno);
        for (int i = 0; i < 4096; i++)
            CHECK(two[i] == 'A', "byte %d read is %#x, want 'A'", i, two[i]);
    }
    expect_content(p[0], 'B', 4096, "after the short read");
    printf("pipe_efault_no_loss: a read faulting in the second buffer returns the first; the second stays\n");

    memset(page, 'C', sizeof(page));
    CHECK(write(p[1], page, 4096) == 4096, "C page");
    CHECK_ERRNO(read(p[0], two + 2048, 4096), EFAULT);
    expect_content(p[0], 'C', 4096, "after a read faulting halfway through its only buffer");
    printf("pipe_efault_no_loss: a read faulting halfway through a buffer: EFAULT, the buffer stays whole\n");

    memset(two, 'D', 4096);
    for (int len = 8192; len >= 6000; len -= 2192) {
        n = write(p[1], two, len);
        if (!strict && n == -1 && errno == EFAULT) {
            printf("pipe_efault_no_loss: (not Linux's partial write: EFAULT up front, as qemu-user does)\n");
            CHECK(pipe_held(p[0]) == 0, "qemu-user: a failed write left %d bytes", pipe_held(p[0]));
            continue;
        }
        CHECK(n == 4096, "write of %d with bytes 4096.. not accessible: %zd (errno %d), want 4096", len, n,
              errno);
        expect_content(p[0], 'D', 4096, "after the short write");
    }
    printf("pipe_efault_no_loss: a write faulting in its second page returns the first; the faulting page is "
           "not added\n");

    CHECK(write(p[1], "0123456789", 10) == 10, "write 10");
    CHECK_ERRNO(write(p[1], gone, 100), EFAULT);
    CHECK(pipe_held(p[0]) == 10 && read(p[0], buf, 8) == 8 && memcmp(buf, "01234567", 8) == 0,
          "after a faulting merge the pipe holds %d bytes", pipe_held(p[0]));
    CHECK_ERRNO(write(p[1], (void *)0xffff000000001000UL, 1), EFAULT);
    close(p[0]);
    close(p[1]);
    printf("pipe_efault_no_loss: a faulting small write merging into the last buffer: EFAULT, nothing added\n");
    return 0;
}
