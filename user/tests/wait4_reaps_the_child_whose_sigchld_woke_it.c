/*
 * wait4_reaps_the_child_whose_sigchld_woke_it: a parent blocked in wait4
 * with a SIGCHLD handler that has no SA_RESTART is woken by its child's
 * exit and SIGCHLD together; wait4 looks at its children again before
 * giving up for the signal (Linux's do_wait: the zombie is found, the
 * call returns its pid, and the handler runs on the way out). It must not
 * fail with EINTR: the child it waited for has exited.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "refpage_test.h"

static volatile int handled;

static void on_chld(int sig)
{
    (void)sig;
    handled++;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_chld;
    sa.sa_flags = 0; /* no SA_RESTART */
    CHECK(sigaction(SIGCHLD, &sa, NULL) == 0, "sigaction: %s", strerror(errno));
    for (int round = 0; round < 3; round++) {
        handled = 0;
        pid_t pid = fork_checked();
        if (pid == 0) {
            sleep_ns(30 * 1000000);
            _exit(5);
        }
        int status = 0;
        errno = 0;
        pid_t got = waitpid(pid, &status, 0);
        CHECK(got == pid && WIFEXITED(status) && WEXITSTATUS(status) == 5,
              "round %d: waitpid returned %d (errno %d: %s), status %#x; want the child %d, exit 5", round, (int)got,
              errno, strerror(errno), status, (int)pid);
        CHECK(handled == 1, "round %d: the SIGCHLD handler ran %d times, want once", round, handled);
    }
    printf("wait4_reaps_the_child_whose_sigchld_woke_it: waitpid reaped the child, the handler ran once\n");
    return 0;
}
