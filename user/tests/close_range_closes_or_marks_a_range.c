/*
 * close_range_closes_or_marks_a_range: close_range(2) as Linux 6.1's
 * __close_range (fs/file.c): flags other than CLOSE_RANGE_UNSHARE and
 * CLOSE_RANGE_CLOEXEC, or first > last, are EINVAL; otherwise the open
 * descriptors in [first, last] are closed (holes and a last of ~0U are
 * fine), or with CLOSE_RANGE_CLOEXEC marked close-on-exec and left open;
 * CLOSE_RANGE_UNSHARE first gives a task sharing its table (CLONE_FILES)
 * a copy of its own, so the other task's descriptors stay open. glibc's
 * closefrom() is close_range(first, ~0U, 0).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "refpage_test.h"

#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static long close_range_(unsigned first, unsigned last, unsigned flags)
{
    return syscall(SYS_close_range, first, last, flags);
}

static int is_open(int fd)
{
    return fcntl(fd, F_GETFD) != -1;
}

static char stack[64 * 1024] __attribute__((aligned(16)));

static int child_unshares(void *arg)
{
    (void)arg;
    /* Shares the parent's table: unshared first, so only its copy loses 20-29. */
    if (close_range_(20, 29, CLOSE_RANGE_UNSHARE) != 0)
        return 2;
    return is_open(20) ? 3 : 0;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    CHECK_ERRNO(close_range_(3, 10, 1), EINVAL);
    CHECK_ERRNO(close_range_(3, 10, 8), EINVAL);
    CHECK_ERRNO(close_range_(10, 3, 0), EINVAL);

    for (int fd = 10; fd < 40; fd++)
        CHECK(dup2(1, fd) == fd, "dup2 to %d: %m", fd);
    CHECK(close(15) == 0, "close 15: %m");

    CHECK(close_range_(12, 17, 0) == 0, "close_range(12, 17): %m");
    for (int fd = 10; fd < 20; fd++)
        CHECK(is_open(fd) == (fd < 12 || fd > 17), "after close_range(12, 17): %d is %s", fd,
              is_open(fd) ? "open" : "closed");

    CHECK(close_range_(10, 11, CLOSE_RANGE_CLOEXEC) == 0, "CLOSE_RANGE_CLOEXEC: %m");
    CHECK(fcntl(10, F_GETFD) == FD_CLOEXEC && fcntl(11, F_GETFD) == FD_CLOEXEC, "10 and 11 not close-on-exec: %d %d",
          fcntl(10, F_GETFD), fcntl(11, F_GETFD));
    CHECK(fcntl(18, F_GETFD) == 0, "18 changed: %d", fcntl(18, F_GETFD));

    pid_t pid = clone(child_unshares, stack + sizeof stack, CLONE_FILES | SIGCHLD, NULL);
    CHECK(pid > 0, "clone(CLONE_FILES): %m");
    int status;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "the unsharing child: status %#x", status);
    for (int fd = 20; fd < 30; fd++)
        CHECK(is_open(fd), "the child's CLOSE_RANGE_UNSHARE closed the parent's %d", fd);

    CHECK(close_range_(18, ~0U, 0) == 0, "close_range(18, ~0U): %m");
    for (int fd = 18; fd < 40; fd++)
        CHECK(!is_open(fd), "%d still open after close_range(18, ~0U)", fd);
    CHECK(is_open(1) && is_open(10), "descriptors below the range closed");
    CHECK(close_range_(100, 200, 0) == 0, "a range with nothing open: %m");
    printf("close_range_closes_or_marks_a_range: ok\n");
    return 0;
}
