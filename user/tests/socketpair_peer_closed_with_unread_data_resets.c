/*
 * socketpair_peer_closed_with_unread_data_resets: when a SOCK_STREAM or
 * SOCK_SEQPACKET end is closed with data it never read, its peer gets
 * ECONNRESET once (Linux 6.1's unix_release_sock sets the peer's sk_err;
 * sock_error reports and clears it): poll says POLLERR until then; a stream
 * read returns what was queued for it first, then ECONNRESET, then
 * end-of-file; a SEQPACKET write is ECONNRESET (unix_seqpacket_sendmsg
 * checks sock_error first), then EPIPE. A peer closed with nothing unread
 * gives plain end-of-file. A SOCK_DGRAM peer never resets.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "refpage_test.h"

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    int sv[2];
    char buf[16];

    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair: %m");
    CHECK(write(sv[0], "unread", 6) == 6 && write(sv[1], "for-0", 5) == 5, "write: %m");
    CHECK(close(sv[1]) == 0, "close: %m");
    struct pollfd p = { .fd = sv[0], .events = POLLIN };
    CHECK(poll(&p, 1, 0) == 1 && (p.revents & POLLERR), "stream poll: revents %#x, want POLLERR", p.revents);
    CHECK(read(sv[0], buf, sizeof buf) == 5, "stream: the queued bytes first");
    errno = 0;
    ssize_t n = read(sv[0], buf, sizeof buf);
    CHECK(n == -1 && errno == ECONNRESET, "stream read after a close with unread data: %zd (%m), want ECONNRESET", n);
    CHECK(read(sv[0], buf, sizeof buf) == 0, "stream: end-of-file after the reset");
    p.revents = 0;
    CHECK(poll(&p, 1, 0) == 1 && !(p.revents & POLLERR), "stream poll after the reset: revents %#x", p.revents);
    close(sv[0]);

    CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0, "socketpair: %m");
    CHECK(write(sv[0], "unread", 6) == 6, "write: %m");
    CHECK(close(sv[1]) == 0, "close: %m");
    errno = 0;
    n = write(sv[0], "x", 1);
    CHECK(n == -1 && errno == ECONNRESET, "seqpacket write after a close with unread data: %zd (%m)", n);
    errno = 0;
    n = write(sv[0], "x", 1);
    CHECK(n == -1 && errno == EPIPE, "seqpacket: the next write: %zd (%m), want EPIPE", n);
    CHECK(read(sv[0], buf, sizeof buf) == 0, "seqpacket: end-of-file after the reset");
    close(sv[0]);

    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair: %m");
    CHECK(close(sv[1]) == 0, "close: %m");
    CHECK(read(sv[0], buf, sizeof buf) == 0, "stream: a peer with nothing unread: not end-of-file");
    close(sv[0]);

    CHECK(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv) == 0, "socketpair: %m");
    CHECK(write(sv[0], "unread", 6) == 6, "write: %m");
    CHECK(close(sv[1]) == 0, "close: %m");
    errno = 0;
    n = read(sv[0], buf, sizeof buf);
    CHECK(n == -1 && errno == EAGAIN, "dgram read: %zd (%m), want EAGAIN", n);
    printf("socketpair_peer_closed_with_unread_data_resets: ok\n");
    return 0;
}
