/*
 * proc_status_shared_pending_and_tracer: /proc/<pid>/status shows, as
 * Linux 6.1's proc_pid_status does, a signal sent to the process (kill)
 * and still pending in ShdPnd (the process's shared_pending), one sent to
 * the thread (tgkill) in SigPnd (the thread's own), and in TracerPid the
 * pid of the task tracing it (0 when not traced).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc_test.h"

static unsigned long status_hex(const char *text, const char *label)
{
    const char *v = line_value(text, label);
    CHECK(v != NULL, "status has no \"%s\" line", label);
    return strtoul(v, NULL, 16);
}

static long status_num(const char *text, const char *label)
{
    const char *v = line_value(text, label);
    CHECK(v != NULL, "status has no \"%s\" line", label);
    return strtol(v, NULL, 10);
}

int main(void)
{
    static char buf[1 << 14];
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigaddset(&block, SIGUSR2);
    CHECK(sigprocmask(SIG_BLOCK, &block, NULL) == 0, "sigprocmask: %m");
    CHECK(kill(getpid(), SIGUSR1) == 0, "kill: %m");
    CHECK(syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR2) == 0, "tgkill: %m");
    CHECK(read_file("/proc/self/status", buf, sizeof buf) > 0, "read status: %m");
    unsigned long own = status_hex(buf, "SigPnd:\t"), shared = status_hex(buf, "ShdPnd:\t");
    CHECK(own == 1UL << (SIGUSR2 - 1) && shared == 1UL << (SIGUSR1 - 1),
          "SigPnd %016lx ShdPnd %016lx, want SigPnd %016lx (tgkill's SIGUSR2) and ShdPnd %016lx "
          "(kill's SIGUSR1)", own, shared, 1UL << (SIGUSR2 - 1), 1UL << (SIGUSR1 - 1));
    CHECK(status_num(buf, "TracerPid:\t") == 0, "TracerPid %ld untraced, want 0",
          status_num(buf, "TracerPid:\t"));

    int ready[2];
    CHECK(pipe(ready) == 0, "pipe: %m");
    pid_t child = fork();
    CHECK(child >= 0, "fork: %m");
    if (child == 0) {
        if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0)
            _exit(3);
        (void)!write(ready[1], "r", 1);
        for (;;)
            pause();
    }
    char c;
    CHECK(read(ready[0], &c, 1) == 1, "the child did not get to PTRACE_TRACEME");
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/status", (int)child);
    CHECK(read_file(path, buf, sizeof buf) > 0, "read %s: %m", path);
    long tracer = status_num(buf, "TracerPid:\t");
    kill(child, SIGKILL);
    int status;
    waitpid(child, &status, 0);
    CHECK(tracer == getpid(), "the traced child's TracerPid is %ld, want its tracer %d", tracer, (int)getpid());
    printf("proc_status_shared_pending_and_tracer: SigPnd %016lx, ShdPnd %016lx, TracerPid %ld\n", own, shared,
           tracer);
    return 0;
}
