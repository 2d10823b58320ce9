/*
 * user_copy_every_length_and_alignment_stops_at_the_unmapped_byte: the
 * kernel's copies from and to user memory (arch/aarch64/user_copy.rs: 16
 * bytes at a time, then a byte at a time) move every byte for every length
 * up to 40 (and every 37th up to 300) at every alignment (mod 16) of either
 * side, touch nothing beyond the buffer, and
 * fail with EFAULT exactly when the buffer reaches one byte into a page the
 * program may not access, wherever that byte falls in a 16-byte chunk.
 *
 * The copies are a pipe's: write() copies from the program, read() copies
 * to it. A write that meets the inaccessible page adds nothing to the pipe
 * (Linux's pipe_write); a read that meets it leaves the bytes in the pipe
 * (Linux's pipe_read), so that the next read into a good buffer gets them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "refpage_test.h"

#define PAGE 4096
#define GUARD 32
#define MAXLEN 300

static unsigned char src[MAXLEN + 64], dst[MAXLEN + 64 + 2 * GUARD];

static int queued(int fd)
{
    int n = -1;
    CHECK(ioctl(fd, FIONREAD, &n) == 0, "FIONREAD: errno %d (%s)", errno, strerror(errno));
    return n;
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(seed * 131 + i * 7 + 1);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    int fds[2];
    CHECK(pipe2(fds, O_NONBLOCK) == 0, "pipe2: errno %d (%s)", errno, strerror(errno));

    /* Every length 0..MAXLEN at every alignment (mod 16) of each side. */
    long copies = 0;
    for (size_t len = 0; len <= MAXLEN; len += len < 40 ? 1 : 37) {
        for (unsigned so = 0; so < 16; so++) {
            for (unsigned dof = 0; dof < 16; dof++) {
                fill(src, sizeof src, (unsigned)(len + so * 16 + dof));
                memset(dst, 0xa5, sizeof dst);
                unsigned char *to = dst + GUARD + dof;
                ssize_t w = write(fds[1], src + so, len);
                CHECK(w == (ssize_t)len, "write of %zu bytes from offset %u returned %zd (errno %d)", len, so, w,
                      errno);
                ssize_t r = len ? read(fds[0], to, len) : 0;
                CHECK(r == (ssize_t)len, "read of %zu bytes to offset %u returned %zd (errno %d)", len, dof, r,
                      errno);
                for (size_t i = 0; i < len; i++)
                    CHECK(to[i] == src[so + i], "length %zu, offsets %u -> %u: byte %zu is %#x, want %#x", len, so,
                          dof, i, to[i], src[so + i]);
                for (size_t i = 0; i < sizeof dst; i++) {
                    if (dst + i >= to && dst + i < to + len)
                        continue;
                    CHECK(dst[i] == 0xa5, "length %zu, offsets %u -> %u: byte %td outside the buffer changed to %#x",
                          len, so, dof, (dst + i) - to, dst[i]);
                }
                copies++;
            }
        }
    }
    printf("user_copy_every_length_and_alignment_stops_at_the_unmapped_byte: %ld copies each way, every byte "
           "right and none outside the buffer\n", copies);

    /* Buffers ending at or past the start of an inaccessible page. */
    unsigned char *map = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(map != MAP_FAILED, "mmap: errno %d (%s)", errno, strerror(errno));
    CHECK(mprotect(map + PAGE, PAGE, PROT_NONE) == 0, "mprotect: errno %d (%s)", errno, strerror(errno));
    int faults = 0;
    for (size_t len = 1; len <= 40; len += 1) {
        for (size_t start = PAGE - len - 17; start < PAGE && start <= PAGE - len + 17; start++) {
            unsigned char *at = map + start;
            int past = start + len > PAGE;
            fill(at, PAGE - start < len ? PAGE - start : len, (unsigned)(start + len));
            /* From the program: all or nothing. */
            errno = 0;
            ssize_t w = write(fds[1], at, len);
            if (past) {
                CHECK(w == -1 && errno == EFAULT,
                      "write of %zu bytes at page offset %zu (%zu past the page) returned %zd, errno %d; want EFAULT",
                      len, start, start + len - PAGE, w, errno);
                CHECK(queued(fds[0]) == 0, "a write that faulted left %d bytes in the pipe", queued(fds[0]));
                faults++;
            } else {
                CHECK(w == (ssize_t)len, "write of %zu bytes at page offset %zu returned %zd, errno %d", len, start,
                      w, errno);
                ssize_t r = read(fds[0], src, len);
                CHECK(r == (ssize_t)len && memcmp(src, at, len) == 0, "read back %zd of %zu bytes, or not the same",
                      r, len);
            }
            /* To the program: EFAULT, and the bytes stay in the pipe. */
            fill(src, len, (unsigned)(start * 3 + len));
            CHECK(write(fds[1], src, len) == (ssize_t)len, "write: errno %d", errno);
            errno = 0;
            ssize_t r = read(fds[0], at, len);
            if (past) {
                CHECK(r == -1 && errno == EFAULT,
                      "read of %zu bytes to page offset %zu (%zu past the page) returned %zd, errno %d; want EFAULT",
                      len, start, start + len - PAGE, r, errno);
                CHECK(queued(fds[0]) == (int)len, "a read that faulted left %d of %zu bytes in the pipe",
                      queued(fds[0]), len);
                r = read(fds[0], dst, len);
                CHECK(r == (ssize_t)len && memcmp(dst, src, len) == 0,
                      "after a faulting read, the next read got %zd of %zu bytes, or other bytes", r, len);
                faults++;
            } else {
                CHECK(r == (ssize_t)len && memcmp(at, src, len) == 0, "read of %zu bytes at page offset %zu: %zd",
                      len, start, r);
            }
        }
    }
    printf("user_copy_every_length_and_alignment_stops_at_the_unmapped_byte: %d copies reaching into a PROT_NONE "
           "page failed with EFAULT and moved nothing; those ending at the page boundary succeeded\n", faults);
    CHECK(munmap(map, 2 * PAGE) == 0, "munmap: errno %d", errno);
    return 0;
}
