/*
 * exec_two_threads_at_once_one_wins: two threads of a process call execve
 * together while a third sleeps in a pipe read. One exec wins (Linux's
 * de_thread: the other exec-ing thread is killed by it and unwinds); the
 * program runs once, and nothing of the loser's new image is left behind
 * (the runner checks every frame and heap byte comes back). Also: a
 * thread calls exit_group while another is exec-ing (waiting for the
 * pipe reader to unwind): the process ends with the exit status.
 */
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "refpage_test.h"

static char **args;
static volatile int go;
static int pipefd[2];

static void *reader(void *arg)
{
    (void)arg;
    char c;
    read(pipefd[0], &c, 1);
    return NULL;
}

static void *execer(void *arg)
{
    while (!go)
        ;
    char *av[] = {args[0], arg, NULL};
    execv(args[0], av);
    return NULL;
}

static void *exiter(void *arg)
{
    (void)arg;
    while (!go)
        ;
    syscall(SYS_exit_group, 7);
    return NULL;
}

int main(int argc, char **argv)
{
    args = argv;
    if (argc > 1)
        return 0;
    for (int round = 0; round < 8; round++) {
        pid_t child = fork();
        CHECK(child >= 0, "fork: %m");
        if (child == 0) {
            CHECK(pipe(pipefd) == 0, "pipe: %m");
            pthread_t t;
            pthread_create(&t, NULL, reader, NULL);
            pthread_create(&t, NULL, round % 2 ? exiter : execer, "thread");
            usleep(20000);
            go = 1;
            execer("main");
            _exit(9);
        }
        int status;
        CHECK(waitpid(child, &status, 0) == child, "waitpid: %m");
        CHECK(WIFEXITED(status) && (WEXITSTATUS(status) == 0 || (round % 2 && WEXITSTATUS(status) == 7)),
              "round %d: status %#x, want exit 0%s", round, status, round % 2 ? " or 7" : "");
    }
    printf("two execs at once: one program ran, the other unwound\n");
    return 0;
}
