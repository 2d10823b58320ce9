/*
 * ptrace_signal_stops_and_injection: a tracee stops on each signal about to
 * be delivered to it (signal-delivery-stop), and its tracer decides what is
 * delivered with PTRACE_CONT's data, as on Linux:
 * - the stop is reported by wait as (signal << 8) | 0x7f, by waitid as
 *   CLD_TRAPPED (WNOWAIT leaves it reportable), and the tracer gets SIGCHLD
 *   with CLD_TRAPPED;
 * - GETSIGINFO shows the signal's siginfo (SI_TKILL from raise);
 * - CONT with 0 suppresses it (the handler never runs), with the same
 *   signal delivers it as sent, with another signal delivers that one
 *   instead, from the tracer (SI_USER, si_pid the tracer);
 * - a signal whose default action terminates, let through, kills.
 */
#include <string.h>
#include <sys/syscall.h>

#include "refpage_test.h"
#include "ptrace_test.h"

static volatile sig_atomic_t got_sig, got_code, got_pid, handled;

static void record(int sig, siginfo_t *si, void *ctx)
{
    (void)ctx;
    got_sig = sig;
    got_code = si->si_code;
    got_pid = si->si_pid;
    handled++;
}

static volatile sig_atomic_t chld_code, chld_status, chld_count;

static void on_sigchld(int sig, siginfo_t *si, void *ctx)
{
    (void)sig, (void)ctx;
    chld_code = si->si_code;
    chld_status = si->si_status;
    chld_count++;
}

/* Exit codes say which expectation failed. */
static int tracee(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = record;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);
    raise(SIGUSR1); /* suppressed by the tracer */
    if (handled != 0)
        return 10;
    raise(SIGUSR2); /* replaced by SIGUSR1 */
    if (handled != 1 || got_sig != SIGUSR1 || got_code != SI_USER || got_pid != getppid())
        return 11;
    raise(SIGUSR2); /* delivered as sent */
    if (handled != 2 || got_sig != SIGUSR2 || got_code != SI_TKILL || got_pid != getpid())
        return 12;
    raise(SIGTERM); /* let through: the default action kills */
    return 13;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_sigchld;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGCHLD, &sa, NULL);

    pid_t pid = start_tracee(tracee);
    CHECK(ptrace(PTRACE_CONT, pid, 0, 0) == 0, "CONT: errno %d", errno);

    /* raise(SIGUSR1): look with waitid WNOWAIT first, then wait. */
    siginfo_t wi;
    memset(&wi, 0, sizeof(wi));
    CHECK(waitid(P_PID, pid, &wi, WEXITED | WSTOPPED | WNOWAIT) == 0, "waitid: errno %d", errno);
    CHECK(wi.si_signo == SIGCHLD && wi.si_code == CLD_TRAPPED && wi.si_pid == pid && wi.si_status == SIGUSR1,
          "waitid: signo %d code %d pid %d status %d", wi.si_signo, wi.si_code, wi.si_pid, wi.si_status);
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid, "waitpid: errno %d", errno);
    CHECK(status == ((SIGUSR1 << 8) | 0x7f), "status %#x, expected %#x", status, (SIGUSR1 << 8) | 0x7f);
    CHECK(chld_count >= 1 && chld_code == CLD_TRAPPED && chld_status == SIGUSR1,
          "SIGCHLD: %d received, last code %d status %d", (int)chld_count, (int)chld_code, (int)chld_status);
    siginfo_t si = get_siginfo(pid);
    CHECK(si.si_signo == SIGUSR1 && si.si_code == SI_TKILL && si.si_pid == pid,
          "GETSIGINFO: signo %d code %d pid %d", si.si_signo, si.si_code, si.si_pid);
    printf("ptrace_signal_stops: SIGUSR1 stop: status %#x, waitid CLD_TRAPPED, SIGCHLD CLD_TRAPPED, SI_TKILL\n",
           status);
    CHECK(ptrace(PTRACE_CONT, pid, 0, 0) == 0, "CONT 0: errno %d", errno);

    CHECK(wait_stop(pid) == SIGUSR2, "second stop is not SIGUSR2");
    CHECK(ptrace(PTRACE_CONT, pid, 0, SIGUSR1) == 0, "CONT SIGUSR1: errno %d", errno);
    /* The injected signal is delivered at once: no second stop for it. */
    CHECK(wait_stop(pid) == SIGUSR2, "third stop is not SIGUSR2");
    CHECK(ptrace(PTRACE_CONT, pid, 0, SIGUSR2) == 0, "CONT SIGUSR2: errno %d", errno);
    printf("ptrace_signal_stops: CONT 0 suppressed SIGUSR1; CONT SIGUSR1 replaced SIGUSR2 (SI_USER)\n");

    CHECK(wait_stop(pid) == SIGTERM, "fourth stop is not SIGTERM");
    CHECK(ptrace(PTRACE_CONT, pid, 0, SIGTERM) == 0, "CONT SIGTERM: errno %d", errno);
    status = wait_end(pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM,
          "the tracee ended with status %#x, expected SIGTERM (exit 10-13: its check failed)", status);
    printf("ptrace_signal_stops: SIGTERM let through killed the tracee\n");
    return 0;
}
