/*
 * pipe_nonblock_capacity_eagain: capacity, PIPE_BUF atomicity and
 * O_NONBLOCK, with the exact counts Linux's page-buffer ring gives.
 *  - Non-blocking, one byte at a time: 65536 bytes go in (small writes
 *    merge into 16 pages), the next is EAGAIN; reading on empty is EAGAIN.
 *  - Atomicity: with 15 full pages and 4000 bytes in the 16th, a 200-byte
 *    write is EAGAIN (it does not fit whole in the last page and no slot is
 *    free), not a partial write; 96 bytes do fit and go in.
 *  - A write larger than the room is partial: with 14 full pages and 100
 *    bytes in a 15th, 10000 bytes give 5904 (1808 merged into the 15th,
 *    one page in the 16th).
 *  - F_SETFL O_NONBLOCK on a blocking pipe (through a dup: the open file is
 *    shared) makes both descriptors non-blocking; clearing it again works.
 *    (F_SETFL O_DIRECT elsewhere depends on the file system: not checked.)
 * *  - Packet mode (pipe2 O_DIRECT): each write is one packet; a read takes at
 *    most one, and what does not fit is dropped.
 *  - With no reader left and SIGPIPE ignored, a non-blocking write is EPIPE.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "refpage_test.h"

static char big[65536];

static void fill_pages(int fd, int pages)
{
    for (int i = 0; i < pages; i++)
        CHECK(write(fd, big, 4096) == 4096, "page %d: errno %d", i, errno);
}

int main(void)
{
    int p[2];
    CHECK(pipe2(p, O_NONBLOCK) == 0, "pipe2: errno %d", errno);
    long total = 0;
    for (;;) {
        ssize_t n = write(p[1], "x", 1);
        if (n < 0) {
            CHECK(errno == EAGAIN, "write 1 byte after %ld: errno %d, want EAGAIN", total, errno);
            break;
        }
        total += n;
        CHECK(total <= 65536, "more than 64 KiB went in");
    }
    CHECK(total == 65536, "one byte at a time: %ld bytes went in, want 65536", total);
    long drained = 0;
    ssize_t n;
    while ((n = read(p[0], big, sizeof(big))) > 0)
        drained += n;
    CHECK(n == -1 && errno == EAGAIN && drained == 65536, "drain: %ld bytes, then %zd errno %d (want EAGAIN)",
          drained, n, errno);
    printf("pipe_nonblock_capacity_eagain: 65536 one-byte writes fit, the next is EAGAIN; empty read EAGAIN\n");

    fill_pages(p[1], 15);
    CHECK(write(p[1], big, 4000) == 4000, "4000 bytes into the 16th page");
    CHECK_ERRNO(write(p[1], big, 200), EAGAIN);
    CHECK(write(p[1], big, 96) == 96, "96 bytes fit in the last page: errno %d", errno);
    CHECK_ERRNO(write(p[1], "x", 1), EAGAIN);
    while (read(p[0], big, sizeof(big)) > 0)
        ;
    printf("pipe_nonblock_capacity_eagain: a 200-byte write that does not fit whole is EAGAIN, not partial\n");

    fill_pages(p[1], 14);
    CHECK(write(p[1], big, 100) == 100, "100 bytes into the 15th page");
    n = write(p[1], big, 10000);
    CHECK(n == 5904, "10000 bytes with one slot and 3996 bytes of the 15th page free: wrote %zd (errno %d), "
          "want 5904", n, errno);
    CHECK_ERRNO(write(p[1], big, 1), EAGAIN);
    close(p[0]);
    close(p[1]);
    printf("pipe_nonblock_capacity_eagain: a larger write is partial: 5904 of 10000\n");

    CHECK(pipe(p) == 0, "pipe");
    int r2 = dup(p[0]);
    CHECK(fcntl(r2, F_SETFL, O_NONBLOCK) == 0, "F_SETFL O_NONBLOCK: errno %d", errno);
    CHECK(fcntl(p[0], F_GETFL) & O_NONBLOCK, "the dup's F_SETFL shows on the original: %#x",
          fcntl(p[0], F_GETFL));
    CHECK_ERRNO(read(p[0], big, 1), EAGAIN);
    CHECK(fcntl(p[0], F_SETFL, 0) == 0 && !(fcntl(r2, F_GETFL) & O_NONBLOCK), "clearing O_NONBLOCK");
    CHECK(fcntl(p[1], F_SETFL, O_NONBLOCK) == 0 && (fcntl(p[1], F_GETFL) & O_NONBLOCK), "the write end too");
    CHECK((fcntl(p[0], F_GETFL) & O_ACCMODE) == O_RDONLY, "F_SETFL kept the access mode");
    close(r2);
    close(p[0]);
    close(p[1]);
    printf("pipe_nonblock_capacity_eagain: F_SETFL O_NONBLOCK through a dup, and cleared\n");

    CHECK(pipe2(p, O_DIRECT | O_NONBLOCK) == 0, "pipe2(O_DIRECT): errno %d", errno);
    CHECK(write(p[1], "abc", 3) == 3 && write(p[1], "defg", 4) == 4, "two packets");
    char buf[16] = {0};
    n = read(p[0], buf, sizeof(buf));
    CHECK(n == 3 && memcmp(buf, "abc", 3) == 0, "first packet: %zd '%.3s', want 3 'abc'", n, buf);
    n = read(p[0], buf, 2);
    CHECK(n == 2 && memcmp(buf, "de", 2) == 0, "second packet, 2 bytes: %zd '%.2s'", n, buf);
    CHECK_ERRNO(read(p[0], buf, sizeof(buf)), EAGAIN);
    close(p[0]);
    printf("pipe_nonblock_capacity_eagain: packet mode: one packet per read, the rest dropped\n");

    signal(SIGPIPE, SIG_IGN);
    CHECK_ERRNO(write(p[1], "x", 1), EPIPE);
    close(p[1]);
    printf("pipe_nonblock_capacity_eagain: no reader: EPIPE\n");
    return 0;
}
