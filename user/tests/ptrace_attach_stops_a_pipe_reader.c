/*
 * ptrace_attach_stops_a_pipe_reader: PTRACE_ATTACH to a process asleep in
 * read(2) on an empty pipe stops it. Linux's sig_ignored spares a ptraced
 * task, so the attach's SIGSTOP is queued and pending; pipe_read sees
 * signal_pending() and returns -ERESTARTSYS, the task stops for its tracer
 * (WSTOPSIG SIGSTOP, pc on the SVC, x0 the fd again: arm64's do_signal
 * rewinds before get_signal) and after PTRACE_CONT with no signal the read
 * starts over and returns the byte written later. An ignored signal
 * (SIGCHLD) sent to the traced reader stops it the same way.
 *
 * The tracer's waitpid has a 2 s alarm (no SA_RESTART): a reader that
 * never stops shows as EINTR there.
 */
#include <string.h>
#include <sys/syscall.h>
#include <time.h>

#include "refpage_test.h"
#include "ptrace_test.h"

static void on_alarm(int sig)
{
    (void)sig;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { 0, ms * 1000000 };
    nanosleep(&ts, NULL);
}

/* Waits (at most 2 s) for a stop of `pid`; returns its signal. */
static int wait_stop_bounded(pid_t pid, const char *why)
{
    int status = 0;
    alarm(2);
    pid_t got = waitpid(pid, &status, 0);
    alarm(0);
    CHECK(got == pid, "%s: waitpid(%d) returned %d (errno %d): the pipe reader never stopped", why, pid, got, errno);
    CHECK(WIFSTOPPED(status), "%s: status %#x is not a stop", why, status);
    return WSTOPSIG(status);
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_alarm;
    CHECK(sigaction(SIGALRM, &sa, NULL) == 0, "sigaction: errno %d", errno);
    int p[2];
    CHECK(pipe(p) == 0, "pipe: errno %d", errno);
    pid_t c = fork();
    CHECK(c >= 0, "fork: errno %d", errno);
    if (c == 0) {
        char b = 0;
        ssize_t n = read(p[0], &b, 1);
        _exit(n == 1 ? b : 100 + errno);
    }
    sleep_ms(50); /* c is asleep in read */
    CHECK(ptrace(PTRACE_ATTACH, c, 0, 0) == 0, "PTRACE_ATTACH: errno %d", errno);
    int sig = wait_stop_bounded(c, "attach");
    CHECK(sig == SIGSTOP, "first stop with signal %d, expected SIGSTOP", sig);
    struct user_pt_regs regs = get_regs(c);
    long insn = ptrace(PTRACE_PEEKTEXT, c, regs.pc, 0);
    CHECK((uint32_t)insn == 0xd4000001, "pc %#llx holds %#x, not the SVC of read", regs.pc, (unsigned)insn);
    CHECK(regs.regs[0] == (uint64_t)p[0] && regs.regs[8] == SYS_read, "x0 %#llx x8 %llu: want the fd %d and read",
          regs.regs[0], regs.regs[8], p[0]);
    CHECK(ptrace(PTRACE_CONT, c, 0, 0) == 0, "PTRACE_CONT: errno %d", errno);

    /* A signal whose default is to be ignored still stops a tracee. */
    sleep_ms(50);
    CHECK(kill(c, SIGCHLD) == 0, "kill: errno %d", errno);
    sig = wait_stop_bounded(c, "SIGCHLD");
    CHECK(sig == SIGCHLD, "stop with signal %d, expected SIGCHLD", sig);
    CHECK(ptrace(PTRACE_CONT, c, 0, 0) == 0, "PTRACE_CONT: errno %d", errno);

    sleep_ms(50);
    CHECK(write(p[1], "\x2a", 1) == 1, "write: errno %d", errno);
    int status = wait_end(c);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 42,
          "the reader ended with status %#x; want exit 42 (read restarted and got the byte)", status);
    return 0;
}
