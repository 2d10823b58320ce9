/*
 * signal_rt_sigqueueinfo_rules: rt_sigqueueinfo delivers the caller's
 * siginfo (si_code, si_pid, si_value) to a process; a si_code >= 0 or
 * SI_TKILL is allowed only to oneself (EPERM otherwise); no such process
 * is ESRCH, a bad signal EINVAL, an unreadable siginfo EFAULT.
 * rt_tgsigqueueinfo does the same for one thread, with EINVAL for ids
 * <= 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "refpage_test.h"

static volatile int got_code, got_value, got_pid, handled;

static void on_rt(int sig, siginfo_t *si, void *uc)
{
    (void)sig, (void)uc;
    got_code = si->si_code;
    got_value = si->si_value.sival_int;
    got_pid = si->si_pid;
    handled++;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_rt;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGRTMIN + 1, &sa, NULL);

    siginfo_t si;
    memset(&si, 0, sizeof(si));
    si.si_code = SI_QUEUE;
    si.si_pid = 1234;
    si.si_value.sival_int = 77;
    CHECK(syscall(SYS_rt_sigqueueinfo, getpid(), SIGRTMIN + 1, &si) == 0, "to self: errno %d", errno);
    CHECK(handled == 1 && got_code == SI_QUEUE && got_value == 77 && got_pid == 1234,
          "delivered: handled %d, si_code %d, value %d, si_pid %d; want SI_QUEUE, 77, 1234", handled, got_code,
          got_value, got_pid);
    si.si_code = SI_USER;
    CHECK(syscall(SYS_rt_sigqueueinfo, getpid(), SIGRTMIN + 1, &si) == 0 && got_code == SI_USER,
          "si_code SI_USER to oneself: errno %d, si_code %d", errno, got_code);
    CHECK(syscall(SYS_rt_tgsigqueueinfo, getpid(), gettid(), SIGRTMIN + 1, &si) == 0 && handled == 3,
          "rt_tgsigqueueinfo to oneself: errno %d", errno);
    printf("signal_rt_sigqueueinfo_rules: the caller's siginfo arrives as given\n");

    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        for (;;) {
            struct timespec t = {1, 0};
            nanosleep(&t, NULL);
        }
    }
    si.si_code = SI_USER;
    CHECK_ERRNO(syscall(SYS_rt_sigqueueinfo, pid, SIGRTMIN + 1, &si), EPERM);
    si.si_code = SI_TKILL;
    CHECK_ERRNO(syscall(SYS_rt_sigqueueinfo, pid, SIGRTMIN + 1, &si), EPERM);
    CHECK_ERRNO(syscall(SYS_rt_tgsigqueueinfo, pid, pid, SIGRTMIN + 1, &si), EPERM);
    si.si_code = SI_QUEUE;
    CHECK_ERRNO(syscall(SYS_rt_sigqueueinfo, pid, 99, &si), EINVAL);
    CHECK_ERRNO(syscall(SYS_rt_sigqueueinfo, 999999, SIGRTMIN + 1, &si), ESRCH);
    CHECK_ERRNO(syscall(SYS_rt_sigqueueinfo, pid, SIGRTMIN + 1, (void *)8), EFAULT);
    CHECK_ERRNO(syscall(SYS_rt_tgsigqueueinfo, pid, 0, SIGRTMIN + 1, &si), EINVAL);
    CHECK_ERRNO(syscall(SYS_rt_tgsigqueueinfo, getpid(), pid, SIGRTMIN + 1, &si), ESRCH);
    CHECK(syscall(SYS_rt_sigqueueinfo, pid, 0, &si) == 0, "signal 0 to the child: errno %d", errno);
    CHECK(syscall(SYS_rt_sigqueueinfo, pid, SIGKILL, &si) == 0, "SIGKILL to the child: errno %d", errno);
    int status;
    CHECK(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
          "the child: status %#x", status);
    printf("signal_rt_sigqueueinfo_rules: EPERM, EINVAL, ESRCH, EFAULT as Linux; SI_QUEUE to another process "
           "delivered\n");
    return 0;
}
