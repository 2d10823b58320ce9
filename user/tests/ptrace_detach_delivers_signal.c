/*
 * ptrace_detach_delivers_signal: PTRACE_DETACH lets a stopped tracee go,
 * delivering the signal in `data` (Linux's ptrace_detach); after it the
 * former tracer's requests are ESRCH, and the process may be attached
 * again (PTRACE_ATTACH: a new SIGSTOP stop), then detached with no signal.
 * The second attach comes before the tracee has run after the first
 * detach: it must still get the SIGUSR1 that detach gave it.
 */
#include <string.h>
#include <sys/syscall.h>
#include <time.h>

#include "refpage_test.h"
#include "ptrace_test.h"

static volatile sig_atomic_t usr1, usr2;
static void on_usr1(int sig)
{
    (void)sig;
    usr1++;
}
static void on_usr2(int sig)
{
    (void)sig;
    usr2++;
}

/* Runs until SIGUSR2 arrives; exits 0 if SIGUSR1 came exactly once. */
static int tracee(void)
{
    while (!usr2) {
        struct timespec ts = { 0, 1000000 };
        nanosleep(&ts, NULL);
    }
    return usr1 == 1 ? 0 : 10 + usr1;
}

int main(void)
{
    signal(SIGUSR1, on_usr1);
    signal(SIGUSR2, on_usr2);
    pid_t pid = start_tracee(tracee);
    CHECK(ptrace(PTRACE_DETACH, pid, 0, SIGUSR1) == 0, "DETACH with SIGUSR1: errno %d", errno);
    CHECK_ERRNO(ptrace(PTRACE_CONT, pid, 0, 0), ESRCH);
    CHECK_ERRNO(ptrace(PTRACE_GETSIGINFO, pid, 0, &(siginfo_t){ 0 }), ESRCH);
    printf("ptrace_detach: detached with SIGUSR1; the former tracer's requests are ESRCH\n");

    CHECK(ptrace(PTRACE_ATTACH, pid, 0, 0) == 0, "ATTACH again: errno %d", errno);
    int sig = wait_stop(pid);
    CHECK(sig == SIGSTOP, "the new attach's stop is signal %d, expected SIGSTOP", sig);
    CHECK(ptrace(PTRACE_DETACH, pid, 0, 0) == 0, "DETACH: errno %d", errno);
    printf("ptrace_detach: attached again (SIGSTOP stop), detached with no signal\n");

    CHECK(kill(pid, SIGUSR2) == 0, "kill: errno %d", errno);
    int status = wait_end(pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "the tracee ended with status %#x (10 + the number of SIGUSR1 it got, expected 1)", status);
    printf("ptrace_detach: the tracee got the SIGUSR1 of the first detach, once\n");
    return 0;
}
