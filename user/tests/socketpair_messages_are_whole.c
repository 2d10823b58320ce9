/*
 * socketpair_messages_are_whole: a SOCK_SEQPACKET or SOCK_DGRAM message is
 * one unit whatever its size, as in Linux 6.1's unix_dgram_sendmsg (one
 * skb per message) and unix_dgram_recvmsg (one skb per read):
 * - a 10,000-byte message is read whole by one read, and a short read
 *   takes the message's start and drops the rest, pages beyond included;
 * - a message larger than the send buffer less 32 bytes (212,992 - 32) is
 *   EMSGSIZE, nothing sent; one just under it goes in whole;
 * - a message that does not fit the room left is EAGAIN when nonblocking,
 *   never a part of it;
 * - a message of no bytes is a message: the read returns 0 for it and the
 *   next read gets the next message;
 * - writev's vector is one message (sock_write_iter), readv takes one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "refpage_test.h"

#define SNDBUF 212992

static unsigned char out[SNDBUF], in[SNDBUF];

static void check_type(int type, const char *name)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, type | SOCK_NONBLOCK, 0, sv) == 0, "%s: socketpair: %m", name);
    for (size_t i = 0; i < sizeof out; i++)
        out[i] = (unsigned char)(i * 7 + 1);

    ssize_t n = write(sv[0], out, 10000);
    CHECK(n == 10000, "%s: write of 10000: %zd (%m)", name, n);
    n = read(sv[1], in, sizeof in);
    CHECK(n == 10000 && memcmp(in, out, 10000) == 0, "%s: read of a 10000-byte message: %zd", name, n);

    CHECK(write(sv[0], out, 9000) == 9000 && write(sv[0], "next", 4) == 4, "%s: writes: %m", name);
    n = read(sv[1], in, 100);
    CHECK(n == 100 && memcmp(in, out, 100) == 0, "%s: short read: %zd", name, n);
    n = read(sv[1], in, sizeof in);
    CHECK(n == 4 && memcmp(in, "next", 4) == 0, "%s: after a short read, the next message: %zd bytes", name, n);

    errno = 0;
    n = write(sv[0], out, SNDBUF - 31);
    CHECK(n == -1 && errno == EMSGSIZE, "%s: write of sndbuf - 31 bytes: %zd (%m), want EMSGSIZE", name, n);
    n = write(sv[0], out, SNDBUF - 32);
    CHECK(n == SNDBUF - 32, "%s: write of sndbuf - 32 bytes: %zd (%m)", name, n);
    errno = 0;
    n = write(sv[0], out, SNDBUF - 32);
    CHECK(n == -1 && errno == EAGAIN, "%s: a second big message with no room: %zd (%m), want EAGAIN", name, n);
    n = read(sv[1], in, sizeof in);
    CHECK(n == SNDBUF - 32 && memcmp(in, out, n) == 0, "%s: read of the big message: %zd", name, n);

    CHECK(write(sv[0], out, 0) == 0 && write(sv[0], "z", 1) == 1, "%s: empty message: %m", name);
    n = read(sv[1], in, sizeof in);
    CHECK(n == 0, "%s: read of the empty message: %zd (%m)", name, n);
    n = read(sv[1], in, sizeof in);
    CHECK(n == 1 && in[0] == 'z', "%s: the message after the empty one: %zd", name, n);
    struct iovec two[2] = { { out, 5000 }, { out + 5000, 3 } };
    CHECK(writev(sv[0], two, 2) == 5003 && write(sv[0], "w", 1) == 1, "%s: writev: %m", name);
    struct iovec back[2] = { { in, 10 }, { in + 10, sizeof in - 10 } };
    n = readv(sv[1], back, 2);
    CHECK(n == 5003 && memcmp(in, out, 5003) == 0, "%s: readv of a writev's message: %zd", name, n);
    CHECK(read(sv[1], in, sizeof in) == 1 && in[0] == 'w', "%s: the message after the writev's", name);
    errno = 0;
    n = read(sv[1], in, sizeof in);
    CHECK(n == -1 && errno == EAGAIN, "%s: nothing left: %zd (%m)", name, n);
    close(sv[0]);
    close(sv[1]);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    check_type(SOCK_SEQPACKET, "SOCK_SEQPACKET");
    check_type(SOCK_DGRAM, "SOCK_DGRAM");
    printf("socketpair_messages_are_whole: ok\n");
    return 0;
}
