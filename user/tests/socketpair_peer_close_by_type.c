/*
 * socketpair_peer_close_by_type: what the survivor of a socketpair sees
 * once its peer is closed, by socket type, as Linux 6.1's net/unix:
 * - SOCK_STREAM: poll says POLLIN | POLLOUT | POLLHUP (unix_poll: the
 *   peer's close is RCV_SHUTDOWN, which is readable; "writable also when
 *   the other side has shut down"); a write is EPIPE with SIGPIPE.
 * - SOCK_SEQPACKET: a read is end-of-file, a write EPIPE *without* SIGPIPE
 *   (unix_dgram_sendmsg sends no signal; only unix_stream_sendmsg does).
 * - SOCK_DGRAM: nothing tells the survivor: a nonblocking read is EAGAIN
 *   (no end-of-file), poll has no POLLHUP; the first write is ECONNREFUSED
 *   (the dead peer is forgotten), the next ENOTCONN, never SIGPIPE.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "refpage_test.h"

static volatile sig_atomic_t sigpipes;

static void on_sigpipe(int sig)
{
    (void)sig;
    sigpipes++;
}

static int pair(int type, int sv[2])
{
    CHECK(socketpair(AF_UNIX, type, 0, sv) == 0, "socketpair(%d): %m", type);
    CHECK(close(sv[1]) == 0, "close: %m");
    return sv[0];
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, on_sigpipe);
    int sv[2];
    char buf[16];

    int s = pair(SOCK_STREAM, sv);
    struct pollfd pfd = { .fd = s, .events = POLLIN | POLLOUT };
    CHECK(poll(&pfd, 1, 0) == 1, "stream poll: %m");
    CHECK(pfd.revents == (POLLIN | POLLOUT | POLLHUP), "stream poll after the peer's close: revents %#x, want %#x",
          pfd.revents, POLLIN | POLLOUT | POLLHUP);
    CHECK(read(s, buf, sizeof buf) == 0, "stream read: not end-of-file");
    CHECK(write(s, "x", 1) == -1 && errno == EPIPE, "stream write: %m");
    CHECK(sigpipes == 1, "stream write: %d SIGPIPEs, want 1", (int)sigpipes);
    close(s);

    sigpipes = 0;
    s = pair(SOCK_SEQPACKET, sv);
    CHECK(read(s, buf, sizeof buf) == 0, "seqpacket read: not end-of-file");
    CHECK(write(s, "x", 1) == -1 && errno == EPIPE, "seqpacket write: %m");
    CHECK(sigpipes == 0, "seqpacket write: %d SIGPIPEs, want none", (int)sigpipes);
    close(s);

    s = pair(SOCK_DGRAM | SOCK_NONBLOCK, sv);
    errno = 0;
    ssize_t n = read(s, buf, sizeof buf);
    CHECK(n == -1 && errno == EAGAIN, "dgram read after the peer's close: %zd (%m), want EAGAIN", n);
    pfd = (struct pollfd){ .fd = s, .events = POLLIN | POLLOUT };
    CHECK(poll(&pfd, 1, 0) == 1 && pfd.revents == POLLOUT, "dgram poll: revents %#x, want POLLOUT only", pfd.revents);
    errno = 0;
    n = write(s, "x", 1);
    CHECK(n == -1 && errno == ECONNREFUSED, "dgram write: %zd (%m), want ECONNREFUSED", n);
    errno = 0;
    n = write(s, "x", 1);
    CHECK(n == -1 && errno == ENOTCONN, "second dgram write: %zd (%m), want ENOTCONN", n);
    CHECK(sigpipes == 0, "dgram writes: %d SIGPIPEs, want none", (int)sigpipes);
    close(s);

    printf("socketpair_peer_close_by_type: ok\n");
    return 0;
}
