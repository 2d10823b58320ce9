/*
 * fd_table_huge_fork_enomem: a descriptor table grown to a million slots
 * (RLIMIT_NOFILE raised to Linux's nr_open, then dup3 to the last
 * descriptor) is 16 MiB of kernel memory, and every fork copies it. Forking
 * sixteen children that stay alive either succeeds or fails cleanly with
 * ENOMEM (this kernel's heap holds two or three such tables; Linux has the
 * RAM): the kernel must never fail an allocation it cannot survive. Then
 * every child is reaped and the parent goes on.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "refpage_test.h"

#define NR_OPEN (1 << 20)
#define CHILDREN 16

int main(void)
{
    /* Where raising the hard limit is not allowed (a container under
     * qemu-user), the largest table the hard limit allows. */
    struct rlimit r = {NR_OPEN, NR_OPEN};
    if (setrlimit(RLIMIT_NOFILE, &r) != 0) {
        CHECK(errno == EPERM, "setrlimit(RLIMIT_NOFILE, %d): %s", NR_OPEN, strerror(errno));
        CHECK(getrlimit(RLIMIT_NOFILE, &r) == 0, "getrlimit: %s", strerror(errno));
        r.rlim_cur = r.rlim_max;
        CHECK(setrlimit(RLIMIT_NOFILE, &r) == 0, "setrlimit to the hard limit: %s", strerror(errno));
    }
    int last = (int)r.rlim_cur - 1;
    int fd = dup3(1, last, 0);
    CHECK(fd == last, "dup3 to %d: %s", last, strerror(errno));

    pid_t kids[CHILDREN];
    int n = 0, refused = 0;
    for (int i = 0; i < CHILDREN; i++) {
        pid_t p = fork();
        if (p == 0) {
            for (;;)
                sleep(1000);
        }
        if (p < 0) {
            CHECK(errno == ENOMEM || errno == EAGAIN, "fork %d: want success or ENOMEM, got %s", i, strerror(errno));
            refused++;
            continue;
        }
        kids[n++] = p;
    }
    printf("fd_table_huge_fork_enomem: %d forks with a %d-slot table, %d refused\n", n, last + 1, refused);
    for (int i = 0; i < n; i++) {
        CHECK(kill(kids[i], SIGKILL) == 0, "kill: %s", strerror(errno));
        CHECK(waitpid(kids[i], NULL, 0) == kids[i], "waitpid: %s", strerror(errno));
    }
    CHECK(close(fd) == 0, "close: %s", strerror(errno));
    printf("fd_table_huge_fork_enomem: ok\n");
    return 0;
}
