/*
 * pipe_fork_exec_eof: pipe ends are shared through fork and execve.
 *  1. fork: the child writes 100000 bytes into the inherited write end and
 *     exits without closing it; the parent, having closed its own write end,
 *     reads everything and then end-of-file, before it reaps the child (an
 *     exiting process lets go of its descriptors at once).
 *  2. fork + execve of this program as a writer: the plain pipe's write end
 *     survives the exec, a pipe2(O_CLOEXEC) pair does not (the exec'd
 *     writer checks both, and reports through its data); the parent reads
 *     to end-of-file and then gets the writer's exit status 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "refpage_test.h"

#define TOTAL 100000

static unsigned char pattern(long i)
{
    return (unsigned char)(i % 253);
}

static void write_pattern(int fd)
{
    static unsigned char buf[TOTAL];
    for (long i = 0; i < TOTAL; i++)
        buf[i] = pattern(i);
    long done = 0;
    while (done < TOTAL) {
        ssize_t n = write(fd, buf + done, TOTAL - done);
        CHECK(n > 0, "writer: write after %ld bytes: errno %d", done, errno);
        done += n;
    }
}

/* Reads to end-of-file; CHECKs the pattern; returns the count. */
static long read_to_eof(int fd, const char *what)
{
    static unsigned char buf[7000];
    long got = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof(buf));
        CHECK(n >= 0, "%s: read after %ld bytes: errno %d (%s)", what, got, errno, strerror(errno));
        if (n == 0)
            return got;
        for (ssize_t i = 0; i < n; i++)
            CHECK(buf[i] == pattern(got + i), "%s: byte %ld is %#x, want %#x", what, got + i, buf[i],
                  pattern(got + i));
        got += n;
    }
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "writer") == 0) {
        /* The exec'd writer: argv = writer, write end, the O_CLOEXEC pair. */
        int w = atoi(argv[2]), c0 = atoi(argv[3]), c1 = atoi(argv[4]);
        CHECK(fcntl(c0, F_GETFD) == -1 && errno == EBADF && fcntl(c1, F_GETFD) == -1 && errno == EBADF,
              "writer: the O_CLOEXEC pipe's descriptors %d, %d survived execve", c0, c1);
        CHECK(fcntl(w, F_GETFL) >= 0 && (fcntl(w, F_GETFL) & O_ACCMODE) == O_WRONLY,
              "writer: descriptor %d is not the write end after execve (F_GETFL %d, errno %d)", w,
              fcntl(w, F_GETFL), errno);
        write_pattern(w);
        return 0;
    }

    int p[2];
    CHECK(pipe(p) == 0, "pipe: errno %d", errno);
    pid_t child = fork_checked();
    if (child == 0) {
        close(p[0]);
        write_pattern(p[1]);
        _exit(0); /* p[1] still open: the exit closes it */
    }
    close(p[1]);
    long got = read_to_eof(p[0], "after fork");
    CHECK(got == TOTAL, "after fork: %ld bytes before end-of-file, want %d", got, TOTAL);
    int status = wait_for(child);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child %s", wait_status_str(status));
    close(p[0]);
    printf("pipe_fork_exec_eof: fork: the child's %d bytes, then end-of-file when it exited\n", TOTAL);

    int c[2];
    CHECK(pipe(p) == 0 && pipe2(c, O_CLOEXEC) == 0, "pipes: errno %d", errno);
    child = fork_checked();
    if (child == 0) {
        close(p[0]);
        char w[16], c0[16], c1[16];
        snprintf(w, sizeof(w), "%d", p[1]);
        snprintf(c0, sizeof(c0), "%d", c[0]);
        snprintf(c1, sizeof(c1), "%d", c[1]);
        char *const args[] = {argv[0], "writer", w, c0, c1, NULL};
        char *const envp[] = {NULL};
        execve(argv[0], args, envp);
        fprintf(stderr, "pipe_fork_exec_eof: execve(%s): errno %d (%s)\n", argv[0], errno, strerror(errno));
        _exit(errno == ENOEXEC ? 126 : 127);
    }
    close(p[1]);
    close(c[0]);
    close(c[1]);
    got = read_to_eof(p[0], "after execve");
    status = wait_for(child);
    /* qemu-user without binfmt_misc cannot execve an arm64 program
     * (ENOEXEC); on this kernel (it has refpage_create) that is a failure. */
    static const unsigned char content[16];
    int refpage = refpage_create(content, sizeof(content), 0);
    if (refpage < 0 && WIFEXITED(status) && WEXITSTATUS(status) == 126) {
        printf("pipe_fork_exec_eof: SKIP the execve part: ENOEXEC (qemu-user without binfmt_misc)\n");
        return 0;
    }
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the exec'd writer %s", wait_status_str(status));
    CHECK(got == TOTAL, "after execve: %ld bytes before end-of-file, want %d", got, TOTAL);
    close(p[0]);
    printf("pipe_fork_exec_eof: fork + execve: the write end survives the exec, an O_CLOEXEC pair does not; "
           "%d bytes then end-of-file\n", TOTAL);
    return 0;
}
