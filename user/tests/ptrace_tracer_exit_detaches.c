/*
 * ptrace_tracer_exit_detaches: PTRACE_ATTACH of a process that is not the
 * tracer's child, with Linux's rules (as root): the tracer waits for it
 * like a child; itself is EPERM, a missing pid ESRCH, an already traced
 * process EPERM for a second tracer, which may not drive it either
 * (ESRCH). When the tracer exits without detaching, the tracee is detached
 * and, stopped, runs on (Linux's exit_ptrace), without the signal it
 * stopped for: the tracer's wait took it (wait_task_stopped clears the
 * exit code).
 *
 * T counts in shared memory; the tracer P attaches (first stop SIGSTOP,
 * si_code SI_KERNEL), continues it, sends it SIGUSR1, waits for that stop
 * and leaves it stopped there (the count stands still), then exits. T runs
 * on: the count moves, and its SIGUSR1 handler never runs.
 */
#include <string.h>
#include <sys/syscall.h>
#include <sched.h>
#include <time.h>

#include "refpage_test.h"
#include "ptrace_test.h"

struct shared {
    volatile long count;
    volatile int usr1;
    volatile int phase;
    volatile int quit;
};
static struct shared *s;

static void on_usr1(int sig)
{
    (void)sig;
    s->usr1++;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { 0, ms * 1000000 };
    nanosleep(&ts, NULL);
}

/* Waits (a bounded time) until `cond` holds. */
#define WAIT_FOR(cond)                                                          \
    do {                                                                        \
        for (int i_ = 0; i_ < 2000 && !(cond); i_++)                            \
            sleep_ms(1);                                                        \
    } while (0)

static int tracer(pid_t t)
{
    if (ptrace(PTRACE_ATTACH, t, 0, 0) != 0)
        return 20;
    int status = 0;
    if (waitpid(t, &status, 0) != t || !WIFSTOPPED(status) || WSTOPSIG(status) != SIGSTOP)
        return 21;
    siginfo_t si;
    if (ptrace(PTRACE_GETSIGINFO, t, 0, &si) != 0 || si.si_code != SI_KERNEL)
        return 22;
    if (ptrace(PTRACE_CONT, t, 0, 0) != 0)
        return 23;
    kill(t, SIGUSR1);
    if (waitpid(t, &status, 0) != t || !WIFSTOPPED(status) || WSTOPSIG(status) != SIGUSR1)
        return 24;
    long before = s->count;
    sleep_ms(30);
    if (s->count != before)
        return 25;
    s->phase = 1;
    WAIT_FOR(s->phase == 2);
    return 0; /* exits still tracing t, which is stopped */
}

int main(void)
{
    s = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(s != MAP_FAILED, "mmap shared: errno %d", errno);
    signal(SIGUSR1, on_usr1);

    pid_t t = fork();
    CHECK(t >= 0, "fork: errno %d", errno);
    if (t == 0) {
        while (!s->quit) {
            s->count++;
            sched_yield();
        }
        _exit(s->usr1 == 0 ? 0 : 30);
    }
    CHECK_ERRNO(ptrace(PTRACE_ATTACH, getpid(), 0, 0), EPERM);
    CHECK_ERRNO(ptrace(PTRACE_ATTACH, 4000000, 0, 0), ESRCH);
    CHECK_ERRNO(ptrace(PTRACE_CONT, t, 0, 0), ESRCH);

    pid_t p = fork();
    CHECK(p >= 0, "fork: errno %d", errno);
    if (p == 0)
        _exit(tracer(t));
    WAIT_FOR(s->phase == 1);
    CHECK(s->phase == 1, "the tracer did not get to hold T stopped (still phase %d)", s->phase);
    CHECK_ERRNO(ptrace(PTRACE_ATTACH, t, 0, 0), EPERM);
    CHECK_ERRNO(ptrace(PTRACE_SEIZE, t, 0, 0), EPERM);
    CHECK_ERRNO(ptrace(PTRACE_CONT, t, 0, 0), ESRCH);
    printf("ptrace_tracer_exit: attach to self EPERM, missing ESRCH, traced EPERM; another's tracee ESRCH\n");
    long held = s->count;
    s->phase = 2;
    int status = wait_end(p);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the tracer ended with status %#x (20-25: its step)",
          status);

    WAIT_FOR(s->count > held + 100);
    CHECK(s->count > held + 100, "T did not run on after its tracer exited (count %ld, held at %ld)", s->count,
          held);
    CHECK(s->usr1 == 0, "T's SIGUSR1 handler ran %d times: the signal the tracer's wait took was delivered",
          s->usr1);
    printf("ptrace_tracer_exit: the tracer exited; T ran on, without the SIGUSR1 its tracer's wait took\n");
    s->quit = 1;
    status = wait_end(t);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "T ended with status %#x", status);
    return 0;
}
