/*
 * fd_table_lowest_free_at_50000: with RLIMIT_NOFILE raised to 50,000
 * (root may, up to nr_open), dup(2) hands out every descriptor from 3 to
 * 49,999 in order, then EMFILE; closed descriptors come back lowest first
 * (7, 63, 64, 3,000, 40,000, closed in another order), F_DUPFD's minimum
 * skips the lower ones, and each number is the lowest free one (Linux's
 * alloc_fd). The kernel found the lowest free descriptor by walking every
 * slot below it: these 50,000 dups took about 40 s (past the runner's
 * 10 s limit); with the open-descriptor bitmap searched a word at a time
 * (Linux's find_next_fd) they take milliseconds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "refpage_test.h"

#define LIMIT 50000

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void dup_fails_emfile(const char *when)
{
    errno = 0;
    int fd = dup(0);
    CHECK(fd == -1 && errno == EMFILE, "dup %s: %d (%s), want EMFILE", when, fd, strerror(errno));
}

int main(void)
{
    struct rlimit lim = {.rlim_cur = LIMIT, .rlim_max = LIMIT};
    CHECK(setrlimit(RLIMIT_NOFILE, &lim) == 0, "setrlimit(RLIMIT_NOFILE, 50000): %s", strerror(errno));
    double t0 = now();
    for (int want = 3; want < LIMIT; want++) {
        int fd = dup(0);
        CHECK(fd == want, "dup number %d: %d (%s), want %d", want - 2, fd, strerror(errno), want);
    }
    double t1 = now();
    dup_fails_emfile("with every descriptor open");

    static const int closed[] = {40000, 64, 3000, 7, 63};
    static const int back[] = {7, 63, 64, 3000, 40000};
    for (unsigned i = 0; i < sizeof closed / sizeof closed[0]; i++)
        CHECK(close(closed[i]) == 0, "close(%d): %s", closed[i], strerror(errno));
    for (unsigned i = 0; i < sizeof back / sizeof back[0]; i++) {
        int fd = dup(0);
        CHECK(fd == back[i], "dup after the closes: %d (%s), want %d", fd, strerror(errno), back[i]);
    }
    dup_fails_emfile("with the closed ones reopened");

    CHECK(close(10) == 0 && close(20000) == 0 && close(49999) == 0, "close: %s", strerror(errno));
    int fd = fcntl(0, F_DUPFD, 15000);
    CHECK(fd == 20000, "F_DUPFD from 15000: %d (%s), want 20000", fd, strerror(errno));
    fd = fcntl(0, F_DUPFD, 49999);
    CHECK(fd == 49999, "F_DUPFD from 49999: %d (%s), want 49999", fd, strerror(errno));
    errno = 0;
    fd = fcntl(0, F_DUPFD, 11);
    CHECK(fd == -1 && errno == EMFILE, "F_DUPFD from 11 with only 10 free: %d (%s), want EMFILE", fd,
          strerror(errno));
    fd = dup(0);
    CHECK(fd == 10, "dup with only 10 free: %d (%s), want 10", fd, strerror(errno));

    double t2 = now();
    for (int i = 3; i < LIMIT; i++)
        CHECK(close(i) == 0, "close(%d): %s", i, strerror(errno));
    fd = dup(0);
    CHECK(fd == 3, "dup after closing everything: %d, want 3", fd);
    printf("%d dups in order in %.0f ms, lowest free descriptors back in order, all closed in %.0f ms\n",
           LIMIT - 3, (t1 - t0) * 1e3, (now() - t2) * 1e3);
    return 0;
}
