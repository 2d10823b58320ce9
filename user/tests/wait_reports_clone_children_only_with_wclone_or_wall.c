/*
 * wait_reports_clone_children_only_with_wclone_or_wall: as Linux 6.1's
 * eligible_child, wait4 and waitid report a "clone" child (one whose exit
 * signal is not SIGCHLD: none, or another signal) only with __WCLONE or
 * __WALL, and a child that sends SIGCHLD only without __WCLONE (or with
 * __WALL). A wait that only ineligible children could answer is ECHILD.
 * __WNOTHREAD is accepted (EINVAL before, as every Linux-only option but
 * __WALL and __WCLONE, which were accepted and ignored: a plain waitpid
 * reaped a clone child).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "proc_test.h"
#include "refpage_test.h"

#ifndef __WNOTHREAD
#define __WNOTHREAD 0x20000000
#endif

/* A child as fork makes it, sending `exit_signal` at its end, which exits
 * at once with `code`. */
static pid_t child_sending(int exit_signal, int code)
{
    long pid = syscall(SYS_clone, (unsigned long)exit_signal, 0, 0, 0, 0);
    if (pid < 0 && errno == EINVAL && exit_signal != SIGCHLD && !on_refpage_kernel()) {
        /* qemu-user makes only SIGCHLD children: Linux's rule cannot be
         * seen through it. */
        printf("qemu-user refuses clone(exit signal %d): nothing to check\n", exit_signal);
        exit(0);
    }
    CHECK(pid >= 0, "clone(exit signal %d): errno %d", exit_signal, errno);
    if (pid == 0)
        _exit(code);
    return (pid_t)pid;
}

static void expect_status(pid_t got, pid_t want, int status, int code, const char *what)
{
    CHECK(got == want, "%s returned %d (errno %d), want child %d", what, got, errno, want);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == code, "%s: status %#x, want exit %d", what, status, code);
}

int main(void)
{
    /* A clone child sending SIGUSR2 (ignored), and a forked one sending
     * SIGCHLD. */
    signal(SIGUSR1, SIG_IGN);
    signal(SIGUSR2, SIG_IGN);
    pid_t quiet = child_sending(SIGUSR2, 3);
    pid_t forked = child_sending(SIGCHLD, 4);
    int status = 0;

    errno = 0;
    CHECK(waitpid(quiet, &status, 0) == -1 && errno == ECHILD,
          "waitpid(clone child, 0) without __WCLONE: errno %d, want ECHILD (Linux: not eligible)", errno);
    expect_status(waitpid(-1, &status, 0), forked, status, 4, "waitpid(-1, 0)");
    /* Only the clone child is left: not eligible without __WCLONE. */
    errno = 0;
    CHECK(waitpid(-1, &status, WNOHANG) == -1 && errno == ECHILD,
          "waitpid(-1, WNOHANG) with only a clone child left: errno %d, want ECHILD", errno);
    /* A SIGCHLD child is not eligible with __WCLONE. */
    pid_t forked2 = child_sending(SIGCHLD, 5);
    expect_status(waitpid(-1, &status, __WCLONE), quiet, status, 3, "waitpid(-1, __WCLONE)");
    errno = 0;
    CHECK(waitpid(-1, &status, __WCLONE | WNOHANG) == -1 && errno == ECHILD,
          "waitpid(-1, __WCLONE | WNOHANG) with only a SIGCHLD child left: errno %d, want ECHILD", errno);
    expect_status(waitpid(forked2, &status, __WNOTHREAD), forked2, status, 5, "waitpid(child, __WNOTHREAD)");

    /* __WALL takes both kinds; waitid follows the same rule. */
    pid_t usr1 = child_sending(SIGUSR1, 6);
    siginfo_t si = {0};
    errno = 0;
    CHECK(waitid(P_PID, usr1, &si, WEXITED) == -1 && errno == ECHILD,
          "waitid(P_PID, SIGUSR1 child, WEXITED): errno %d, want ECHILD", errno);
    CHECK(waitid(P_PID, usr1, &si, WEXITED | __WALL) == 0 && si.si_pid == usr1 && si.si_status == 6,
          "waitid(P_PID, SIGUSR1 child, WEXITED | __WALL): errno %d, si_pid %d, si_status %d", errno, si.si_pid,
          si.si_status);
    pid_t forked3 = child_sending(SIGCHLD, 7);
    expect_status(waitpid(-1, &status, __WALL), forked3, status, 7, "waitpid(-1, __WALL)");
    errno = 0;
    CHECK(waitpid(-1, &status, __WALL) == -1 && errno == ECHILD, "waitpid(-1, __WALL) with no child: errno %d",
          errno);
    printf("ok\n");
    return 0;
}
