/*
 * socketpair_fionread_counts_queued_bytes: ioctl(FIONREAD) (SIOCINQ) on a
 * socketpair end, as Linux 6.1's unix_inq_len: SOCK_STREAM and
 * SOCK_SEQPACKET give every byte queued for reading, SOCK_DGRAM the length
 * of the next datagram only; 0 when nothing is queued. Not ENOTTY.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "refpage_test.h"

static int queued(int fd, const char *what)
{
    int n = -1;
    CHECK(ioctl(fd, FIONREAD, &n) == 0, "%s: FIONREAD: %m", what);
    return n;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    static char buf[10000];
    const int types[3] = { SOCK_STREAM, SOCK_SEQPACKET, SOCK_DGRAM };
    const char *names[3] = { "SOCK_STREAM", "SOCK_SEQPACKET", "SOCK_DGRAM" };
    for (int t = 0; t < 3; t++) {
        int sv[2];
        CHECK(socketpair(AF_UNIX, types[t], 0, sv) == 0, "%s: socketpair: %m", names[t]);
        int n = queued(sv[1], names[t]);
        CHECK(n == 0, "%s: nothing queued, FIONREAD says %d", names[t], n);
        CHECK(write(sv[0], buf, 5000) == 5000 && write(sv[0], buf, 7) == 7, "%s: write: %m", names[t]);
        n = queued(sv[1], names[t]);
        int want = types[t] == SOCK_DGRAM ? 5000 : 5007;
        CHECK(n == want, "%s: 5000 and 7 bytes queued, FIONREAD says %d, want %d", names[t], n, want);
        CHECK(queued(sv[0], names[t]) == 0, "%s: the writer's own end has nothing to read", names[t]);
        close(sv[0]);
        close(sv[1]);
    }
    printf("socketpair_fionread_counts_queued_bytes: ok\n");
    return 0;
}
