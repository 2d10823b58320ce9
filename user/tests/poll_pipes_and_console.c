/*
 * poll_pipes_and_console: ppoll and pselect6 (through glibc's poll, ppoll,
 * select, pselect and the raw calls) on pipes and the console, as Linux
 * 6.1 reports them.
 *  1. Readiness: an empty pipe's write end is POLLOUT|POLLWRNORM, its read
 *     end nothing; with data the read end is POLLIN|POLLRDNORM; a full
 *     pipe's write end nothing; no writer left: POLLHUP on the read end
 *     (with POLLIN while data is left, and even when no event was asked
 *     for); no reader left: POLLERR|POLLOUT|POLLWRNORM on the write end. A
 *     closed descriptor is POLLNVAL, a negative one is skipped (revents 0).
 *     The console: stdin POLLIN, stdout POLLOUT.
 *  2. Blocking: a poll with no timeout returns when another thread writes;
 *     a 50 ms timeout returns 0 after at least 50 ms.
 *  3. The time left is written back (raw ppoll and pselect6 with a
 *     timespec; glibc's select with a timeval); a zero timeout is left as
 *     is.
 *  4. select: the sets come back holding the ready descriptors; a closed
 *     descriptor in a set is EBADF; n < 0 is EINVAL.
 *  5. The signal mask: with SIGUSR1 blocked, ppoll and pselect with a mask
 *     that unblocks it are interrupted by it (EINTR, the handler ran) and
 *     SIGUSR1 is blocked again afterwards; a SIGUSR1 already pending is
 *     taken at once; a mask that keeps it blocked lets the wait time out.
 *  6. Errors: nfds above RLIMIT_NOFILE EINVAL, a bad timespec EINVAL, a
 *     sigset size other than 8 EINVAL, an unmapped array EFAULT.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "refpage_test.h"

#define MS 1000000ull
#define ALL (POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM | POLLPRI)

static int fds[2];
static pid_t main_tid;
#define handled (*signals_counted())

static short revents_of(int fd, short events)
{
    struct pollfd p = {fd, events, 0x7777};
    int n = poll(&p, 1, 0);
    CHECK(n == (p.revents != 0), "poll(%d) returned %d with revents %#x", fd, n, p.revents);
    return p.revents;
}

#define EXPECT_REVENTS(fd, events, want, what)                                                          \
    do {                                                                                                \
        short got_ = revents_of((fd), (events));                                                       \
        CHECK(got_ == (want), "%s: revents %#x, want %#x", (what), got_, (want));                       \
    } while (0)

static void *write_later(void *arg)
{
    sleep_ns((uint64_t)(long)arg);
    CHECK(write(fds[1], "x", 1) == 1, "helper write");
    return NULL;
}

static void *signal_later(void *arg)
{
    sleep_ns((uint64_t)(long)arg);
    syscall(SYS_tgkill, getpid(), main_tid, SIGUSR1);
    return NULL;
}

static pthread_t start(void *(*fn)(void *), uint64_t ns)
{
    pthread_t t;
    CHECK(pthread_create(&t, NULL, fn, (void *)(long)ns) == 0, "pthread_create");
    return t;
}

static sigset_t usr1_blocked(void)
{
    sigset_t s;
    CHECK(sigprocmask(SIG_SETMASK, NULL, &s) == 0, "sigprocmask");
    return s;
}

int main(void)
{
    main_tid = gettid();
    CHECK(pipe(fds) == 0, "pipe: errno %d", errno);
    EXPECT_REVENTS(fds[0], ALL, 0, "empty pipe, read end");
    EXPECT_REVENTS(fds[1], ALL, POLLOUT | POLLWRNORM, "empty pipe, write end");
    EXPECT_REVENTS(fds[1], POLLIN, 0, "empty pipe, write end, only POLLIN asked");
    CHECK(write(fds[1], "a", 1) == 1, "write");
    EXPECT_REVENTS(fds[0], ALL, POLLIN | POLLRDNORM, "a byte in, read end");
    CHECK(fcntl(fds[1], F_SETFL, O_NONBLOCK) == 0, "F_SETFL");
    static char big[65536];
    while (write(fds[1], big, sizeof(big)) > 0)
        ;
    EXPECT_REVENTS(fds[1], ALL, 0, "full pipe, write end");
    close(fds[1]);
    EXPECT_REVENTS(fds[0], ALL, POLLIN | POLLRDNORM | POLLHUP, "no writer, data left");
    while (read(fds[0], big, sizeof(big)) > 0)
        ;
    EXPECT_REVENTS(fds[0], ALL, POLLHUP, "no writer, empty");
    EXPECT_REVENTS(fds[0], 0, POLLHUP, "no writer, no event asked");
    close(fds[0]);
    CHECK(pipe(fds) == 0, "pipe");
    close(fds[0]);
    EXPECT_REVENTS(fds[1], ALL, POLLOUT | POLLWRNORM | POLLERR, "no reader, write end");
    close(fds[1]);
    EXPECT_REVENTS(fds[1], POLLIN, POLLNVAL, "a closed descriptor");
    EXPECT_REVENTS(-1, POLLIN, 0, "a negative descriptor");
    CHECK(revents_of(0, POLLIN) & POLLIN, "stdin: revents %#x, want POLLIN", revents_of(0, POLLIN));
    CHECK(revents_of(1, POLLOUT) & POLLOUT, "stdout: revents %#x, want POLLOUT", revents_of(1, POLLOUT));
    printf("poll_pipes_and_console: POLLIN/POLLOUT/POLLHUP/POLLERR/POLLNVAL as Linux sets them; console "
           "ready\n");

    CHECK(pipe(fds) == 0, "pipe");
    struct pollfd pr = {fds[0], POLLIN, 0};
    pthread_t t = start(write_later, 30 * MS);
    uint64_t t0 = monotonic_ns();
    int n = poll(&pr, 1, -1);
    CHECK(n == 1 && pr.revents == POLLIN, "a blocking poll woken by a write: %d revents %#x", n, pr.revents);
    CHECK(monotonic_ns() - t0 >= 20 * MS, "the poll returned before the write");
    pthread_join(t, NULL);
    CHECK(read(fds[0], big, 1) == 1, "read");
    t0 = monotonic_ns();
    n = poll(&pr, 1, 50);
    uint64_t took = monotonic_ns() - t0;
    CHECK(n == 0 && took >= 50 * MS && took < 2000 * MS, "a 50 ms poll: %d after %lu ms", n,
          (unsigned long)(took / MS));
    printf("poll_pipes_and_console: a blocking poll wakes on a write; a 50 ms timeout returns 0 after %lu ms\n",
           (unsigned long)(took / MS));

    struct timespec ts = {10, 0};
    t = start(write_later, 30 * MS);
    n = (int)syscall(SYS_ppoll, &pr, 1, &ts, NULL, 8);
    pthread_join(t, NULL);
    CHECK(n == 1, "ppoll: %d errno %d", n, errno);
    CHECK(ts.tv_sec == 9 && ts.tv_nsec > 0, "ppoll wrote back %ld.%09ld s left of 10 s, want 9.x", (long)ts.tv_sec,
          ts.tv_nsec);
    CHECK(read(fds[0], big, 1) == 1, "read");
    ts = (struct timespec){0, 20 * MS};
    n = (int)syscall(SYS_ppoll, &pr, 1, &ts, NULL, 8);
    CHECK(n == 0 && ts.tv_sec == 0 && ts.tv_nsec == 0, "ppoll timing out: %d, %ld.%09ld left", n,
          (long)ts.tv_sec, ts.tv_nsec);
    ts = (struct timespec){0, 0};
    CHECK(syscall(SYS_ppoll, &pr, 1, &ts, NULL, 8) == 0 && ts.tv_sec == 0 && ts.tv_nsec == 0, "zero timeout");
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(fds[0], &rd);
    ts = (struct timespec){5, 0};
    t = start(write_later, 30 * MS);
    n = (int)syscall(SYS_pselect6, fds[0] + 1, &rd, NULL, NULL, &ts, NULL);
    pthread_join(t, NULL);
    CHECK(n == 1 && FD_ISSET(fds[0], &rd), "pselect6: %d errno %d", n, errno);
    CHECK(ts.tv_sec == 4 && ts.tv_nsec > 0, "pselect6 wrote back %ld.%09ld s left of 5 s", (long)ts.tv_sec,
          ts.tv_nsec);
    CHECK(read(fds[0], big, 1) == 1, "read");
    struct timeval tv = {0, 30000};
    FD_ZERO(&rd);
    FD_SET(fds[0], &rd);
    n = select(fds[0] + 1, &rd, NULL, NULL, &tv);
    CHECK(n == 0 && !FD_ISSET(fds[0], &rd) && tv.tv_sec == 0 && tv.tv_usec == 0,
          "select timing out: %d, set %d, %ld.%06ld left", n, FD_ISSET(fds[0], &rd), (long)tv.tv_sec,
          (long)tv.tv_usec);
    printf("poll_pipes_and_console: the time left is written back (ppoll, pselect6, select)\n");

    CHECK(write(fds[1], "y", 1) == 1, "write");
    fd_set wr, ex;
    FD_ZERO(&rd);
    FD_ZERO(&wr);
    FD_ZERO(&ex);
    FD_SET(fds[0], &rd);
    FD_SET(fds[1], &rd);
    FD_SET(fds[1], &wr);
    FD_SET(fds[0], &ex);
    tv = (struct timeval){0, 0};
    n = select(fds[1] + 1, &rd, &wr, &ex, &tv);
    CHECK(n == 2 && FD_ISSET(fds[0], &rd) && !FD_ISSET(fds[1], &rd) && FD_ISSET(fds[1], &wr) &&
              !FD_ISSET(fds[0], &ex),
          "select: %d; read %d/%d write %d except %d", n, FD_ISSET(fds[0], &rd), FD_ISSET(fds[1], &rd),
          FD_ISSET(fds[1], &wr), FD_ISSET(fds[0], &ex));
    int closed = dup(0);
    close(closed);
    FD_ZERO(&rd);
    FD_SET(closed, &rd);
    CHECK_ERRNO(select(closed + 1, &rd, NULL, NULL, &tv), EBADF);
    CHECK_ERRNO(syscall(SYS_pselect6, -1, NULL, NULL, NULL, NULL, NULL), EINVAL);
    CHECK(read(fds[0], big, 1) == 1, "read");
    printf("poll_pipes_and_console: select's sets hold the ready descriptors; a closed one EBADF\n");

    count_signal(SIGUSR1);
    sigset_t block, empty;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigemptyset(&empty);
    CHECK(sigprocmask(SIG_BLOCK, &block, NULL) == 0, "sigprocmask");
    t = start(signal_later, 30 * MS);
    CHECK_ERRNO(ppoll(&pr, 1, NULL, &empty), EINTR);
    pthread_join(t, NULL);
    sigset_t now = usr1_blocked();
    CHECK(handled == 1 && sigismember(&now, SIGUSR1), "ppoll: handled %d, SIGUSR1 blocked again %d", handled,
          sigismember(&now, SIGUSR1));
    t = start(signal_later, 30 * MS);
    FD_ZERO(&rd);
    FD_SET(fds[0], &rd);
    CHECK_ERRNO(pselect(fds[0] + 1, &rd, NULL, NULL, NULL, &empty), EINTR);
    pthread_join(t, NULL);
    now = usr1_blocked();
    CHECK(handled == 2 && sigismember(&now, SIGUSR1), "pselect: handled %d, SIGUSR1 blocked again %d", handled,
          sigismember(&now, SIGUSR1));
    raise(SIGUSR1);
    CHECK(handled == 2, "a blocked SIGUSR1 ran the handler");
    struct timespec wait = {0, 20 * MS};
    CHECK(ppoll(&pr, 1, &wait, &block) == 0, "ppoll keeping SIGUSR1 blocked did not time out: errno %d", errno);
    CHECK(handled == 2, "ppoll with SIGUSR1 still blocked ran the handler");
    CHECK_ERRNO(ppoll(&pr, 1, NULL, &empty), EINTR);
    CHECK(handled == 3, "the pending SIGUSR1 was not taken by ppoll: handled %d", handled);
    CHECK(sigprocmask(SIG_UNBLOCK, &block, NULL) == 0, "sigprocmask");
    printf("poll_pipes_and_console: the wait's signal mask: EINTR with the handler run, the old mask back\n");

    struct rlimit rl;
    CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0, "getrlimit");
    if (rl.rlim_cur < (1 << 20)) {
        /* A readable array, so that only the count is wrong (qemu-user
         * checks the array first). */
        struct pollfd *many = calloc(rl.rlim_cur + 1, sizeof(*many));
        CHECK(many != NULL, "calloc");
        for (rlim_t i = 0; i <= rl.rlim_cur; i++)
            many[i].fd = -1;
        CHECK_ERRNO(syscall(SYS_ppoll, many, (unsigned long)rl.rlim_cur + 1, NULL, NULL, 8), EINVAL);
        free(many);
    }
    ts = (struct timespec){0, 1000000000};
    CHECK_ERRNO(syscall(SYS_ppoll, &pr, 1, &ts, NULL, 8), EINVAL);
    ts = (struct timespec){-1, 0};
    CHECK_ERRNO(syscall(SYS_ppoll, &pr, 1, &ts, NULL, 8), EINVAL);
    CHECK_ERRNO(syscall(SYS_ppoll, &pr, 1, NULL, &empty, 4), EINVAL);
    CHECK_ERRNO(syscall(SYS_ppoll, (void *)8, 1, NULL, NULL, 8), EFAULT);
    close(fds[0]);
    close(fds[1]);
    printf("poll_pipes_and_console: EINVAL for nfds, timespec and sigset size; EFAULT for the array\n");
    return 0;
}
