/*
 * exec_with_pipe_reader_runs_no_other_thread: once execve has begun ending
 * the other threads (Linux's de_thread, which SIGKILLs them all first), no
 * other thread runs another instruction of the old program, even while
 * exec waits for a thread blocked in a pipe read to unwind.
 *
 * A forked child starts a thread blocked reading an empty pipe and a
 * thread spinning until a flag is set, then writing bytes to a second
 * pipe; the main thread sets the flag and execs this program again as a
 * probe, the second pipe's descriptors kept. The probe reads the pipe
 * without blocking and wants nothing in it (EAGAIN); it exits 66.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "refpage_test.h"

static int in_pipe[2], out_pipe[2];
static atomic_int started, go;

static void *reader(void *arg)
{
    (void)arg;
    char c;
    read(in_pipe[0], &c, 1);
    return NULL;
}

static void *spinner(void *arg)
{
    (void)arg;
    atomic_store(&started, 1);
    for (;;)
        if (atomic_load(&go))
            (void)!write(out_pipe[1], "x", 1);
    return NULL;
}

static int probe(int fd)
{
    CHECK(fcntl(fd, F_SETFL, O_NONBLOCK) == 0, "probe: fcntl(O_NONBLOCK): errno %d", errno);
    char buf[256];
    ssize_t n = read(fd, buf, sizeof(buf));
    CHECK(n < 0 && errno == EAGAIN,
          "probe: the old program's spinning thread ran after execve began: read returned %zd "
          "(errno %d), want -1 EAGAIN (nothing written)", n, n < 0 ? errno : 0);
    return 66;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 3 && strcmp(argv[1], "probe") == 0)
        return probe(atoi(argv[2]));
    pid_t child = fork_checked();
    if (child == 0) {
        CHECK(pipe(in_pipe) == 0 && pipe(out_pipe) == 0, "pipe: errno %d", errno);
        pthread_t t;
        CHECK(pthread_create(&t, NULL, reader, NULL) == 0, "pthread_create(reader)");
        CHECK(pthread_create(&t, NULL, spinner, NULL) == 0, "pthread_create(spinner)");
        while (!atomic_load(&started))
            sleep_ns(1000000);
        /* Time for the reader to block in its read. */
        sleep_ns(50 * 1000000);
        char fd_arg[16];
        snprintf(fd_arg, sizeof(fd_arg), "%d", out_pipe[0]);
        char *const args[] = {argv[0], "probe", fd_arg, NULL};
        char *const envp[] = {NULL};
        atomic_store(&go, 1);
        execve(argv[0], args, envp);
        _exit(67);
    }
    int status = wait_for(child);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 66,
          "the child %s, want exited 66 (the probe found nothing written after execve began)",
          wait_status_str(status));
    printf("exec_with_pipe_reader_runs_no_other_thread: no other thread ran while exec waited "
           "for the pipe reader\n");
    return 0;
}
