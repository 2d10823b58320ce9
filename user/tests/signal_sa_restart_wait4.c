/*
 * signal_sa_restart_wait4: a signal whose handler has SA_RESTART restarts
 * an interrupted wait4 (Linux's ERESTARTSYS), which then reports the child
 * as usual; without SA_RESTART the same wait4 fails with EINTR after the
 * handler. The child sends its parent SIGUSR1, then exits a little later.
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

static void on_usr1(int sig)
{
    (void)sig;
    handled++;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_RESTART;
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction");

    pid_t pid = child_signals_parent(SIGUSR1, 100, 100, 7);
    int status = 0;
    pid_t got = wait4(pid, &status, 0, NULL);
    CHECK(got == pid && WIFEXITED(status) && WEXITSTATUS(status) == 7 && handled == 1,
          "SA_RESTART: wait4 returned %d (errno %d), status %#x, handler ran %d times; want the child %d, "
          "exit 7, once",
          (int)got, errno, status, handled, (int)pid);
    printf("signal_sa_restart_wait4: with SA_RESTART, wait4 restarted after the handler and reaped the child\n");

    sa.sa_flags = 0;
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction");
    handled = 0;
    pid = child_signals_parent(SIGUSR1, 100, 100, 7);
    errno = 0;
    got = wait4(pid, &status, 0, NULL);
    CHECK(got == -1 && errno == EINTR && handled == 1,
          "without SA_RESTART: wait4 returned %d errno %d, handler ran %d times; want -1 EINTR, once", (int)got,
          errno, handled);
    CHECK(wait4(pid, &status, 0, NULL) == pid && WEXITSTATUS(status) == 7, "the second wait4");
    printf("signal_sa_restart_wait4: without SA_RESTART, wait4 failed with EINTR\n");
    return 0;
}
