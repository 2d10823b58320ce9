/*
 * socketpair_unix_messages_and_streams: socketpair(AF_UNIX) as Linux 6.1:
 * both ends read and write; SOCK_SEQPACKET keeps message boundaries (a
 * short read takes one message and drops its rest), SOCK_STREAM does not;
 * a forked child talks back; the peer's close is end-of-file for a read
 * and EPIPE (with SIGPIPE, ignored here) for a write; fstat says S_IFSOCK;
 * poll sees data; SOCK_NONBLOCK gives EAGAIN. Errors: an unknown flag
 * EINVAL, another family EAFNOSUPPORT, an unknown type ESOCKTNOSUPPORT,
 * another protocol EPROTONOSUPPORT, a bad vector EFAULT.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "refpage_test.h"

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) == 0, "socketpair: %m");
    CHECK(write(sv[0], "first", 5) == 5 && write(sv[0], "second", 6) == 6, "write: %m");
    char buf[16] = {0};
    CHECK(read(sv[1], buf, 3) == 3 && memcmp(buf, "fir", 3) == 0, "short read of a message: '%s'", buf);
    CHECK(read(sv[1], buf, sizeof buf) == 6 && memcmp(buf, "second", 6) == 0, "the next message: '%s'", buf);
    CHECK(write(sv[1], "back", 4) == 4 && read(sv[0], buf, sizeof buf) == 4, "the other way: %m");
    struct stat st;
    CHECK(fstat(sv[0], &st) == 0 && S_ISSOCK(st.st_mode), "fstat: mode %o", st.st_mode);
    CHECK_ERRNO(lseek(sv[0], 0, SEEK_SET), ESPIPE);

    pid_t child = fork();
    CHECK(child >= 0, "fork: %m");
    if (child == 0) {
        close(sv[0]);
        int v;
        if (read(sv[1], &v, sizeof v) != sizeof v)
            _exit(1);
        v++;
        _exit(write(sv[1], &v, sizeof v) == sizeof v ? 0 : 2);
    }
    close(sv[1]);
    int v = 41;
    CHECK(write(sv[0], &v, sizeof v) == sizeof v, "write to the child: %m");
    struct pollfd pfd = {.fd = sv[0], .events = POLLIN};
    CHECK(poll(&pfd, 1, 5000) == 1 && (pfd.revents & POLLIN), "poll: revents %#x", pfd.revents);
    CHECK(read(sv[0], &v, sizeof v) == sizeof v && v == 42, "the child answered %d", v);
    int status;
    CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0, "child: %#x", status);
    CHECK(read(sv[0], buf, sizeof buf) == 0, "read after the peer closed: not end-of-file");
    CHECK_ERRNO(write(sv[0], "x", 1), EPIPE);
    close(sv[0]);
    printf("SOCK_SEQPACKET: messages both ways and with a child; EOF and EPIPE after the peer's close\n");

    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0, "socketpair stream: %m");
    CHECK_ERRNO(read(sv[0], buf, sizeof buf), EAGAIN);
    CHECK(write(sv[1], "ab", 2) == 2 && write(sv[1], "cd", 2) == 2, "write: %m");
    CHECK(read(sv[0], buf, sizeof buf) == 4 && memcmp(buf, "abcd", 4) == 0, "a stream joins writes: '%.4s'", buf);
    CHECK((fcntl(sv[0], F_GETFD) & FD_CLOEXEC) && (fcntl(sv[0], F_GETFL) & O_NONBLOCK), "flags not applied");
    close(sv[0]);
    close(sv[1]);

    CHECK_ERRNO(socketpair(AF_UNIX, SOCK_STREAM | 0x100, 0, sv), EINVAL);
    CHECK_ERRNO(socketpair(12345, SOCK_STREAM, 0, sv), EAFNOSUPPORT);
    CHECK_ERRNO(socketpair(AF_UNIX, 9, 0, sv), ESOCKTNOSUPPORT);
    CHECK_ERRNO(socketpair(AF_UNIX, SOCK_STREAM, 7, sv), EPROTONOSUPPORT);
    int *nowhere = (int *)8;
    __asm__("" : "+r"(nowhere));
    CHECK_ERRNO(socketpair(AF_UNIX, SOCK_STREAM, 0, nowhere), EFAULT);
    printf("SOCK_STREAM, SOCK_NONBLOCK, SOCK_CLOEXEC and the errors as Linux\n");
    return 0;
}
