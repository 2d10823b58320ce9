/*
 * pipe_close_while_blocked: another thread closes descriptors under a
 * blocked reader, writer or poller.
 *  1. A writer blocked on a full pipe; the read end is closed: the write is
 *     -1 EPIPE (SIGPIPE ignored).
 *  2. A reader blocked on an empty pipe; the write end is closed: 0
 *     (end-of-file).
 *  3. A reader blocked on descriptor r; r itself is closed by another
 *     thread: the open file lives on with the call, which returns the data
 *     written next (as on Linux, close does not wake it).
 *  4. A poll on the read end; the write end is closed: POLLHUP.
 *  5. A child process whose thread is blocked in a pipe read ends (the
 *     other thread calls _exit): the child is reaped normally and the
 *     parent's pipe still works.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "refpage_test.h"

#define MS 1000000ull

static int fds[2];
static volatile long result = -2;
static volatile int saved_errno;

static void *write_one(void *arg)
{
    (void)arg;
    result = write(fds[1], "x", 1);
    saved_errno = errno;
    return NULL;
}

static void *read_some(void *arg)
{
    static char buf[64];
    int fd = (int)(long)arg;
    result = read(fd, buf, sizeof(buf));
    saved_errno = errno;
    return NULL;
}

static void *poll_read_end(void *arg)
{
    (void)arg;
    struct pollfd p = {fds[0], POLLIN, 0};
    result = poll(&p, 1, 5000);
    saved_errno = p.revents;
    return NULL;
}

static pthread_t start(void *(*fn)(void *), void *arg)
{
    pthread_t t;
    result = -2;
    CHECK(pthread_create(&t, NULL, fn, arg) == 0, "pthread_create");
    sleep_ns(30 * MS);
    CHECK(result == -2, "the thread did not block: result %ld", result);
    return t;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    static char big[65536];
    CHECK(pipe(fds) == 0, "pipe");
    CHECK(write(fds[1], big, sizeof(big)) == (ssize_t)sizeof(big), "fill");
    pthread_t t = start(write_one, NULL);
    close(fds[0]);
    pthread_join(t, NULL);
    CHECK(result == -1 && saved_errno == EPIPE, "the blocked write returned %ld errno %d, want EPIPE", result,
          saved_errno);
    close(fds[1]);
    printf("pipe_close_while_blocked: read end closed under a blocked writer: EPIPE\n");

    CHECK(pipe(fds) == 0, "pipe");
    t = start(read_some, (void *)(long)fds[0]);
    close(fds[1]);
    pthread_join(t, NULL);
    CHECK(result == 0, "the blocked read returned %ld errno %d, want 0 (end-of-file)", result, saved_errno);
    close(fds[0]);
    printf("pipe_close_while_blocked: write end closed under a blocked reader: end-of-file\n");

    CHECK(pipe(fds) == 0, "pipe");
    t = start(read_some, (void *)(long)fds[0]);
    close(fds[0]);
    sleep_ns(20 * MS);
    CHECK(result == -2, "closing the reader's own descriptor ended its read: %ld errno %d", result, saved_errno);
    CHECK(write(fds[1], "data", 4) == 4, "write: errno %d", errno);
    pthread_join(t, NULL);
    CHECK(result == 4, "the read on the closed descriptor returned %ld errno %d, want 4", result, saved_errno);
    close(fds[1]);
    printf("pipe_close_while_blocked: the reader's own descriptor closed: the read goes on and gets the data\n");

    CHECK(pipe(fds) == 0, "pipe");
    t = start(poll_read_end, NULL);
    close(fds[1]);
    pthread_join(t, NULL);
    CHECK(result == 1 && saved_errno == POLLHUP, "poll returned %ld revents %#x, want 1 POLLHUP", result,
          saved_errno);
    close(fds[0]);
    printf("pipe_close_while_blocked: write end closed under a poller: POLLHUP\n");

    CHECK(pipe(fds) == 0, "pipe");
    pid_t child = fork_checked();
    if (child == 0) {
        pthread_t r;
        pthread_create(&r, NULL, read_some, (void *)(long)fds[0]);
        sleep_ns(20 * MS);
        _exit(7);
    }
    int status = wait_for(child);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 7, "the child %s, want exited 7", wait_status_str(status));
    CHECK(write(fds[1], "z", 1) == 1 && read(fds[0], big, 1) == 1 && big[0] == 'z', "the pipe after the child");
    close(fds[0]);
    close(fds[1]);
    printf("pipe_close_while_blocked: a process ending with a thread blocked in a pipe read\n");
    return 0;
}
