/*
 * pipe_sigpipe_handled_epipe: with no reader left, a write raises SIGPIPE at
 * the writer (si_code SI_USER, si_pid its own pid) and fails with EPIPE;
 * the bytes a blocked write had already put in are its result instead.
 *  1. Caught: the handler runs once, write is -1 EPIPE.
 *  2. Ignored: EPIPE, no signal. Blocked: EPIPE, and SIGPIPE stays pending.
 *  3. A writer thread blocks writing 100000 bytes into an empty pipe (65536
 *     go in); the main thread closes the read end: the write returns 65536
 *     and the writer thread gets SIGPIPE.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "refpage_test.h"

static int fds[2];
static volatile pid_t handler_tid;

static void on_sigpipe(int sig, siginfo_t *si, void *uc)
{
    caught_record(sig, si, uc);
    handler_tid = gettid();
}

static void *blocked_writer(void *arg)
{
    static char buf[100000];
    ssize_t *result = arg;
    *result = write(fds[1], buf, sizeof(buf));
    return (void *)(long)gettid();
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_sigpipe;
    sa.sa_flags = SA_SIGINFO;
    CHECK(sigaction(SIGPIPE, &sa, NULL) == 0, "sigaction: errno %d", errno);

    CHECK(pipe(fds) == 0, "pipe: errno %d", errno);
    close(fds[0]);
    CHECK_ERRNO(write(fds[1], "x", 1), EPIPE);
    CHECK(caught()->count == 1 && caught()->signo == SIGPIPE && caught()->code == SI_USER &&
              caught()->pid == getpid(),
          "want one SIGPIPE, SI_USER, from pid %d: %s, si_pid %d", getpid(), caught_str(), caught()->pid);
    printf("pipe_sigpipe_handled_epipe: caught: one SIGPIPE (SI_USER, own pid), write EPIPE\n");

    signal(SIGPIPE, SIG_IGN);
    CHECK_ERRNO(write(fds[1], "x", 1), EPIPE);
    sigset_t block, pending;
    sigemptyset(&block);
    sigaddset(&block, SIGPIPE);
    sigaction(SIGPIPE, &sa, NULL);
    caught()->count = 0;
    CHECK(sigprocmask(SIG_BLOCK, &block, NULL) == 0, "sigprocmask");
    CHECK_ERRNO(write(fds[1], "x", 1), EPIPE);
    CHECK(sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE), "SIGPIPE is not pending while blocked");
    CHECK(caught()->count == 0, "the handler ran while SIGPIPE was blocked");
    CHECK(sigprocmask(SIG_UNBLOCK, &block, NULL) == 0, "sigprocmask");
    CHECK(caught()->count == 1, "unblocked, the pending SIGPIPE was not delivered: %s", caught_str());
    close(fds[1]);
    printf("pipe_sigpipe_handled_epipe: ignored: EPIPE; blocked: EPIPE and SIGPIPE pending\n");

    CHECK(pipe(fds) == 0, "pipe: errno %d", errno);
    caught()->count = 0;
    handler_tid = 0;
    ssize_t result = -2;
    pthread_t writer;
    CHECK(pthread_create(&writer, NULL, blocked_writer, &result) == 0, "pthread_create");
    /* Let the writer fill the pipe and block. */
    int queued = 0;
    for (int i = 0; i < 1000 && queued < 65536; i++) {
        sleep_ns(2000000);
        queued = pipe_held(fds[0]);
    }
    CHECK(queued == 65536, "the pipe holds %d bytes, want 65536 with the writer blocked", queued);
    sleep_ns(20000000);
    CHECK(result == -2, "the write of 100000 bytes returned %zd without a reader taking anything", result);
    CHECK(close(fds[0]) == 0, "close the read end");
    void *writer_tid;
    CHECK(pthread_join(writer, &writer_tid) == 0, "join");
    CHECK(result == 65536, "the blocked write returned %zd (errno %d), want the 65536 bytes it put in", result,
          errno);
    CHECK(caught()->count == 1 && handler_tid == (pid_t)(long)writer_tid,
          "SIGPIPE: %s, in thread %d, want once in the writer %ld", caught_str(), handler_tid, (long)writer_tid);
    close(fds[1]);
    printf("pipe_sigpipe_handled_epipe: closing the read end under a blocked writer: it returns 65536 and gets "
           "SIGPIPE\n");
    return 0;
}
