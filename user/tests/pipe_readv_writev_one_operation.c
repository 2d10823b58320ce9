/*
 * pipe_readv_writev_one_operation: on a pipe, readv and writev move the
 * whole vector in one operation (Linux's pipe_read/pipe_write take an
 * iov_iter), not one read or write per iovec.
 *  1. readv of two 4-byte iovecs from a pipe holding 4 bytes returns 4 at
 *     once (a later write does not join it); readv across iovecs fills them
 *     in order.
 *  2. writev of 2000 + 2000 bytes is one 4000-byte write: with 15 full
 *     pages and 100 bytes in the 16th it is EAGAIN on a non-blocking pipe
 *     (it does not fit whole), not a 2000-byte partial write; writev's
 *     pieces, empty ones included, arrive in order.
 *  3. An iovec length negative as a ssize_t is EINVAL.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "refpage_test.h"

static int fds[2];

static void *write_later(void *arg)
{
    (void)arg;
    sleep_ns(200000000);
    CHECK(write(fds[1], "LATE", 4) == 4, "helper write: errno %d", errno);
    return NULL;
}

int main(void)
{
    CHECK(pipe(fds) == 0, "pipe: errno %d", errno);
    CHECK(write(fds[1], "abcd", 4) == 4, "write");
    char a[4], b[4];
    struct iovec rv[2] = {{a, 4}, {b, 4}};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, write_later, NULL) == 0, "pthread_create");
    ssize_t n = readv(fds[0], rv, 2);
    CHECK(n == 4 && memcmp(a, "abcd", 4) == 0, "readv with 4 bytes in the pipe returned %zd (errno %d), want 4 "
          "at once", n, errno);
    pthread_join(t, NULL);
    CHECK(read(fds[0], a, 4) == 4 && memcmp(a, "LATE", 4) == 0, "the later write");
    CHECK(write(fds[1], "0123456789", 10) == 10, "write");
    char c3[3], c100[100];
    struct iovec rv2[2] = {{c3, 3}, {c100, 100}};
    n = readv(fds[0], rv2, 2);
    CHECK(n == 10 && memcmp(c3, "012", 3) == 0 && memcmp(c100, "3456789", 7) == 0,
          "readv across iovecs: %zd '%.3s' '%.7s'", n, c3, c100);
    printf("pipe_readv_writev_one_operation: readv returns what is there at once, filling iovecs in order\n");

    struct iovec wv[3] = {{"abc", 3}, {"", 0}, {"defg", 4}};
    CHECK(writev(fds[1], wv, 3) == 7, "writev: errno %d", errno);
    char out[16] = {0};
    CHECK(read(fds[0], out, sizeof(out)) == 7 && strcmp(out, "abcdefg") == 0, "writev's pieces: '%s'", out);

    CHECK(fcntl(fds[1], F_SETFL, O_NONBLOCK) == 0, "F_SETFL");
    static char page[4096];
    for (int i = 0; i < 15; i++)
        CHECK(write(fds[1], page, 4096) == 4096, "page %d", i);
    CHECK(write(fds[1], page, 100) == 100, "100 bytes");
    static char x[2000], y[2000];
    struct iovec two[2] = {{x, sizeof(x)}, {y, sizeof(y)}};
    errno = 0;
    n = writev(fds[1], two, 2);
    CHECK(n == -1 && errno == EAGAIN, "writev of 2000 + 2000 into 3996 bytes of room: %zd (errno %d), want "
          "EAGAIN (one 4000-byte write, whole or not at all)", n, errno);
    struct iovec bad[1] = {{x, (size_t)-1}};
    CHECK_ERRNO(writev(fds[1], bad, 1), EINVAL);
    close(fds[0]);
    close(fds[1]);
    printf("pipe_readv_writev_one_operation: writev is one write: 4000 bytes in two iovecs EAGAIN, not "
           "partial\n");
    return 0;
}
