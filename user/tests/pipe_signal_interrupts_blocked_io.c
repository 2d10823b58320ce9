/*
 * pipe_signal_interrupts_blocked_io: a signal with a handler (no
 * SA_RESTART) wakes a reader or writer blocked in a pipe.
 *  1. A read blocked on an empty pipe: -1 EINTR, the handler ran.
 *  2. A write blocked on a full pipe with nothing written: -1 EINTR; the
 *     pipe still holds its 65536 bytes.
 *  3. A write of 100000 bytes into an empty pipe blocks after 65536: the
 *     signal makes it return 65536.
 *  4. A blocked signal does not interrupt; a SIGCHLD sent to the reader
 *     with its default action (ignore) does not either: the read returns
 *     the data written later.
 * (With SA_RESTART Linux restarts the read or write: not checked here.)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "refpage_test.h"

#define MS 1000000ull

static int fds[2];
static pid_t main_tid;
#define handled (*signals_counted())

struct later {
    uint64_t delay_ns;
    int sig;           /* sent to the main thread, if not 0 */
    const char *data;  /* then written to the pipe, if not NULL */
};

static void *act_later(void *arg)
{
    struct later *l = arg;
    sleep_ns(l->delay_ns);
    if (l->sig)
        syscall(SYS_tgkill, getpid(), main_tid, l->sig);
    if (l->data) {
        sleep_ns(l->delay_ns);
        CHECK(write(fds[1], l->data, strlen(l->data)) == (ssize_t)strlen(l->data), "helper write: errno %d",
              errno);
    }
    return NULL;
}

static pthread_t start(struct later *l)
{
    pthread_t t;
    CHECK(pthread_create(&t, NULL, act_later, l) == 0, "pthread_create");
    return t;
}

int main(void)
{
    main_tid = gettid();
    count_signal(SIGUSR1);
    CHECK(pipe(fds) == 0, "pipe: errno %d", errno);
    static char buf[100000];

    struct later l1 = {30 * MS, SIGUSR1, NULL};
    pthread_t t = start(&l1);
    CHECK_ERRNO(read(fds[0], buf, 10), EINTR);
    CHECK(handled == 1, "the handler ran %d times", handled);
    pthread_join(t, NULL);
    printf("pipe_signal_interrupts_blocked_io: a blocked read: EINTR\n");

    CHECK(write(fds[1], buf, 65536) == 65536, "fill");
    t = start(&l1);
    CHECK_ERRNO(write(fds[1], buf, 1), EINTR);
    CHECK(handled == 2 && pipe_held(fds[0]) == 65536, "handled %d, the pipe holds %d", handled, pipe_held(fds[0]));
    pthread_join(t, NULL);
    while (pipe_held(fds[0]) > 0)
        CHECK(read(fds[0], buf, sizeof(buf)) > 0, "drain");
    printf("pipe_signal_interrupts_blocked_io: a blocked write with nothing written: EINTR\n");

    t = start(&l1);
    ssize_t n = write(fds[1], buf, 100000);
    CHECK(n == 65536, "the interrupted write of 100000 returned %zd (errno %d), want 65536", n, errno);
    CHECK(handled == 3, "handled %d", handled);
    pthread_join(t, NULL);
    CHECK(read(fds[0], buf, sizeof(buf)) == 65536, "drain");
    printf("pipe_signal_interrupts_blocked_io: an interrupted write returns the 65536 bytes it put in\n");

    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    CHECK(sigprocmask(SIG_BLOCK, &block, NULL) == 0, "sigprocmask");
    struct later l2 = {20 * MS, SIGUSR1, "after"};
    t = start(&l2);
    n = read(fds[0], buf, sizeof(buf));
    CHECK(n == 5 && memcmp(buf, "after", 5) == 0, "with SIGUSR1 blocked the read returned %zd (errno %d)", n,
          errno);
    pthread_join(t, NULL);
    CHECK(handled == 3, "a blocked signal ran the handler");
    CHECK(sigprocmask(SIG_UNBLOCK, &block, NULL) == 0 && handled == 4, "unblocked: handled %d", handled);

    struct later l3 = {20 * MS, SIGCHLD, "late"};
    t = start(&l3);
    n = read(fds[0], buf, sizeof(buf));
    CHECK(n == 4 && memcmp(buf, "late", 4) == 0, "with a SIGCHLD (default: ignored) the read returned %zd "
          "(errno %d)", n, errno);
    pthread_join(t, NULL);
    printf("pipe_signal_interrupts_blocked_io: a blocked SIGUSR1 or an ignored SIGCHLD does not interrupt\n");
    return 0;
}
