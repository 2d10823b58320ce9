/*
 * wait_waitid_siginfo: waitid(2) reports a child's end through a siginfo:
 * si_signo SIGCHLD, si_code CLD_EXITED with the exit status or CLD_KILLED
 * with the signal, si_pid the child; WNOHANG with no child ended yet gives
 * 0 and si_pid 0; WNOWAIT leaves the child waitable.
 */
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "refpage_test.h"

static pid_t child_that(int how)
{
    pid_t pid = fork();
    CHECK(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        if (how == 1)
            raise(SIGUSR1);
        if (how == 2) {
            struct timespec t = {0, 50 * 1000 * 1000};
            nanosleep(&t, NULL);
        }
        _exit(7);
    }
    return pid;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    siginfo_t si;

    pid_t pid = child_that(0);
    memset(&si, 0xff, sizeof si);
    CHECK(waitid(P_PID, pid, &si, WEXITED | WNOWAIT) == 0, "waitid WNOWAIT: %s", strerror(errno));
    CHECK(si.si_signo == SIGCHLD && si.si_code == CLD_EXITED && si.si_pid == pid && si.si_status == 7,
          "WNOWAIT: signo %d code %d pid %d status %d", si.si_signo, si.si_code, si.si_pid, si.si_status);
    memset(&si, 0, sizeof si);
    CHECK(waitid(P_PID, pid, &si, WEXITED) == 0, "waitid after WNOWAIT: %s", strerror(errno));
    CHECK(si.si_code == CLD_EXITED && si.si_pid == pid && si.si_status == 7, "exit: code %d pid %d status %d",
          si.si_code, si.si_pid, si.si_status);
    CHECK(waitid(P_PID, pid, &si, WEXITED) == -1 && errno == ECHILD, "reaped child still waitable");
    printf("wait_waitid_siginfo: exit(7) -> CLD_EXITED, si_status 7; WNOWAIT kept it waitable\n");

    pid = child_that(1);
    memset(&si, 0, sizeof si);
    CHECK(waitid(P_ALL, 0, &si, WEXITED) == 0, "waitid P_ALL: %s", strerror(errno));
    CHECK(si.si_code == CLD_KILLED && si.si_pid == pid && si.si_status == SIGUSR1, "killed: code %d pid %d status %d",
          si.si_code, si.si_pid, si.si_status);
    printf("wait_waitid_siginfo: raise(SIGUSR1) -> CLD_KILLED, si_status %d\n", si.si_status);

    pid = child_that(2);
    memset(&si, 0xff, sizeof si);
    CHECK(waitid(P_PID, pid, &si, WEXITED | WNOHANG) == 0 && si.si_pid == 0, "WNOHANG: si_pid %d", si.si_pid);
    CHECK(waitid(P_PID, pid, &si, WEXITED) == 0 && si.si_status == 7, "after sleeping child: status %d", si.si_status);
    CHECK(waitid(P_ALL, 0, &si, 0) == -1 && errno == EINVAL, "options without WEXITED must be EINVAL");
    printf("wait_waitid_siginfo: WNOHANG -> 0 with si_pid 0; no WEXITED -> EINVAL\n");
    return 0;
}
