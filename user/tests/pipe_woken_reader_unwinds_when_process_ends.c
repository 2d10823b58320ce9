/*
 * pipe_woken_reader_unwinds_when_process_ends: a thread asleep in a pipe
 * read that has just been woken (data arrived) but has not run yet still
 * holds the pipe in its system call; when its process ends right then, by
 * exit_group or by exec in another thread, it must unwind and let go of
 * the pipe like any other thread (Linux: the group's SIGKILL makes it
 * return from pipe_read). Seen from the parent: once the child is gone, the
 * pipe has no reader left, so a write is EPIPE.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "refpage_test.h"
#include "smp_test.h"

static int q[2];

static void *reader(void *arg)
{
    (void)arg;
    char c;
    for (;;)
        if (read(q[0], &c, 1) <= 0)
            return NULL;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        return 0;
    signal(SIGPIPE, SIG_IGN);
    /* The interleaving this test needs is one CPU's (a woken thread runs
     * only when this one leaves the CPU): every thread stays on CPU 0. */
    CHECK(pin_to(0) == 0, "sched_setaffinity(CPU 0): errno %d", errno);
    for (int round = 0; round < 4; round++) {
        int exec = round % 2;
        CHECK(pipe(q) == 0, "pipe: %m");
        pid_t child = fork();
        CHECK(child >= 0, "fork: %m");
        if (child == 0) {
            pthread_t t;
            pthread_create(&t, NULL, reader, NULL);
            usleep(50000);
            /* Wake the reader, and end the process before it runs. */
            write(q[1], "x", 1);
            if (exec) {
                char *av[] = {argv[0], "exec", NULL};
                execv(argv[0], av);
                _exit(9);
            }
            syscall(SYS_exit_group, 5);
        }
        close(q[0]);
        int status;
        CHECK(waitpid(child, &status, 0) == child, "waitpid: %m");
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == (exec ? 0 : 5), "round %d: status %#x", round, status);
        errno = 0;
        long n = write(q[1], "y", 1);
        CHECK(n == -1 && errno == EPIPE,
              "round %d (%s): write after the child ended: %ld (%m), want EPIPE: its reader still holds the pipe",
              round, exec ? "exec" : "exit_group", n);
        close(q[1]);
    }
    printf("woken readers unwound at exit_group and at exec\n");
    return 0;
}
