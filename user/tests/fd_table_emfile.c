/*
 * fd_table_emfile: RLIMIT_NOFILE bounds the descriptor numbers. With the
 * soft limit set to 16 (and read back by getrlimit), creating descriptors
 * (refpage_create(2), dup(2), F_DUPFD) succeeds while the lowest free
 * descriptor is below 16 and fails with EMFILE exactly when it would be 16
 * or more; closing one makes it usable again.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "refpage_test.h"

#define LIMIT 16

static unsigned char content[16] __attribute__((aligned(16)));

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);

    struct rlimit old;
    CHECK(getrlimit(RLIMIT_NOFILE, &old) == 0, "getrlimit: errno %d", errno);
    struct rlimit lim = {.rlim_cur = LIMIT, .rlim_max = old.rlim_max < LIMIT ? LIMIT : old.rlim_max};
    CHECK(setrlimit(RLIMIT_NOFILE, &lim) == 0, "setrlimit(RLIMIT_NOFILE, {16, %llu}): errno %d (%s)",
          (unsigned long long)lim.rlim_max, errno, strerror(errno));
    struct rlimit now;
    CHECK(getrlimit(RLIMIT_NOFILE, &now) == 0, "getrlimit: errno %d", errno);
    CHECK(now.rlim_cur == LIMIT && now.rlim_max == lim.rlim_max,
          "getrlimit after setting {16, %llu} reports {%llu, %llu}", (unsigned long long)lim.rlim_max,
          (unsigned long long)now.rlim_cur, (unsigned long long)now.rlim_max);
    printf("fd_table_emfile: RLIMIT_NOFILE was {%llu, %llu}, set and read back {16, %llu}\n",
           (unsigned long long)old.rlim_cur, (unsigned long long)old.rlim_max,
           (unsigned long long)now.rlim_max);

    /* 0-2 are the console: 3..15 are the 13 descriptors left. */
    for (int want = 3; want < LIMIT; want++) {
        int fd = refpage_create(content, sizeof(content), 0);
        CHECK(fd == want, "refpage_create with 0..%d open returned %d (errno %d: %s); want %d",
              want - 1, fd, errno, strerror(errno), want);
    }
    printf("fd_table_emfile: refpage_create gave 3..15\n");
    CHECK_ERRNO(refpage_create(content, sizeof(content), 0), EMFILE);
    CHECK_ERRNO(dup(3), EMFILE);
    CHECK_ERRNO(fcntl(3, F_DUPFD, 0), EMFILE);
    CHECK_ERRNO(fcntl(3, F_DUPFD_CLOEXEC, 0), EMFILE);
    printf("fd_table_emfile: with 0..15 open, refpage_create, dup, F_DUPFD, F_DUPFD_CLOEXEC -> "
           "EMFILE\n");

    CHECK(close(7) == 0, "close(7): errno %d", errno);
    int fd = refpage_create(content, sizeof(content), 0);
    CHECK(fd == 7, "refpage_create after close(7) returned %d (errno %d); want 7", fd, errno);
    CHECK_ERRNO(refpage_create(content, sizeof(content), 0), EMFILE);
    CHECK(close(7) == 0, "close(7): errno %d", errno);
    fd = dup(3);
    CHECK(fd == 7, "dup(3) after close(7) returned %d (errno %d); want 7", fd, errno);
    CHECK_ERRNO(dup(3), EMFILE);
    printf("fd_table_emfile: after close(7), refpage_create and dup get 7, then EMFILE again\n");

    for (int i = 3; i < LIMIT; i++)
        CHECK(close(i) == 0, "close(%d): errno %d", i, errno);
    CHECK(setrlimit(RLIMIT_NOFILE, &old) == 0, "restoring RLIMIT_NOFILE: errno %d", errno);
    return 0;
}
