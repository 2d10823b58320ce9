/*
 * refpage_create_fd: a successful refpage_create(2) returns the lowest free
 * descriptor, opened read-only and close-on-exec ("as if by passing
 * O_RDONLY | O_CLOEXEC to open(2)", the man page). Descriptors 0-2 are the
 * console, so the first one is 3.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "refpage_test.h"

static unsigned char content[64] __attribute__((aligned(64))) = {0x11, 0x22, 0x33, 0x44};

/* fd is open read-only and close-on-exec. */
static void check_rdonly_cloexec(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    CHECK(fl != -1, "fcntl(%d, F_GETFL) failed: errno %d (%s)", fd, errno, strerror(errno));
    CHECK((fl & O_ACCMODE) == O_RDONLY, "fcntl(%d, F_GETFL) is %#x: access mode %d, want O_RDONLY",
          fd, fl, fl & O_ACCMODE);
    int fdfl = fcntl(fd, F_GETFD);
    CHECK(fdfl == FD_CLOEXEC, "fcntl(%d, F_GETFD) is %d (errno %d); want FD_CLOEXEC", fd, fdfl,
          errno);
    printf("refpage_create_fd: fd %d: F_GETFL %#x (O_RDONLY), F_GETFD FD_CLOEXEC\n", fd, fl);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);

    int a = refpage_create(content, 4, 0);
    CHECK(a == 3, "first refpage_create returned %d (errno %d); want 3 (0-2 are the console)", a,
          errno);
    int b = refpage_create(content, 64, 0);
    CHECK(b == 4, "second refpage_create returned %d (errno %d); want 4", b, errno);
    printf("refpage_create_fd: first two descriptors are 3 and 4\n");

    check_rdonly_cloexec(a);
    check_rdonly_cloexec(b);

    CHECK(close(a) == 0, "close(3): errno %d", errno);
    int c = refpage_create(content, 1, 0);
    CHECK(c == 3, "refpage_create after close(3) returned %d (errno %d); want 3, the lowest free",
          c, errno);
    printf("refpage_create_fd: after close(3) the next descriptor is 3 again\n");
    check_rdonly_cloexec(c);

    int d = refpage_create(content, 2, 0);
    CHECK(d == 5, "refpage_create with 3 and 4 open returned %d (errno %d); want 5", d, errno);
    printf("refpage_create_fd: with 3 and 4 open the next is 5\n");

    CHECK(close(b) == 0 && close(c) == 0 && close(d) == 0, "close: errno %d", errno);
    return 0;
}
