/*
 * ptrace_test.h - helpers for the ptrace tests in user/tests/: start a
 * child that is traced and stopped, wait for a stop, read its registers.
 * Include after refpage_test.h (for CHECK).
 */
#ifndef PTRACE_TEST_H
#define PTRACE_TEST_H

#include <elf.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <asm/ptrace.h>

#ifndef PTRACE_PEEKMTETAGS
#define PTRACE_PEEKMTETAGS 33
#endif
#ifndef PTRACE_POKEMTETAGS
#define PTRACE_POKEMTETAGS 34
#endif
#ifndef NT_ARM_SYSTEM_CALL
#define NT_ARM_SYSTEM_CALL 0x404
#endif
#ifndef NT_ARM_TAGGED_ADDR_CTRL
#define NT_ARM_TAGGED_ADDR_CTRL 0x409
#endif
#ifndef TRAP_BRKPT
#define TRAP_BRKPT 1
#endif
#ifndef TRAP_TRACE
#define TRAP_TRACE 2
#endif

/* The raw system call: glibc's wrapper turns PEEK* results into a return
 * value; this one returns 0 or -1 with errno, as the kernel does. */
static inline long ptrace_raw(long request, pid_t pid, unsigned long addr, unsigned long data)
{
    return syscall(SYS_ptrace, request, pid, addr, data);
}

/* Waits for `pid` and checks it is in a ptrace-stop; returns the signal. */
static inline int wait_stop(pid_t pid)
{
    int status = 0;
    pid_t got = waitpid(pid, &status, 0);
    CHECK(got == pid, "waitpid(%d) returned %d (errno %d)", pid, got, errno);
    CHECK(WIFSTOPPED(status), "pid %d is not stopped: status %#x", pid, status);
    CHECK((status & 0xffff) == ((WSTOPSIG(status) << 8) | 0x7f), "stop status %#x", status);
    return WSTOPSIG(status);
}

/* Forks a child that asks to be traced and stops itself with SIGSTOP, then
 * runs `body` and exits with its result; returns once it is stopped. */
static inline pid_t start_tracee(int (*body)(void))
{
    pid_t pid = fork();
    CHECK(pid >= 0, "fork: errno %d", errno);
    if (pid == 0) {
        if (ptrace(PTRACE_TRACEME, 0, 0, 0) != 0)
            _exit(90);
        raise(SIGSTOP);
        _exit(body());
    }
    int sig = wait_stop(pid);
    CHECK(sig == SIGSTOP, "first stop of pid %d: signal %d, expected SIGSTOP", pid, sig);
    return pid;
}

/* NT_PRSTATUS of a stopped tracee. */
static inline struct user_pt_regs get_regs(pid_t pid)
{
    struct user_pt_regs regs;
    struct iovec iov = { &regs, sizeof(regs) };
    CHECK(ptrace(PTRACE_GETREGSET, pid, NT_PRSTATUS, &iov) == 0, "GETREGSET NT_PRSTATUS: errno %d", errno);
    CHECK(iov.iov_len == sizeof(regs), "GETREGSET NT_PRSTATUS: iov_len %zu", iov.iov_len);
    return regs;
}

/* The siginfo of a stopped tracee's stop. */
static inline siginfo_t get_siginfo(pid_t pid)
{
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    CHECK(ptrace(PTRACE_GETSIGINFO, pid, 0, &si) == 0, "GETSIGINFO: errno %d", errno);
    return si;
}

/* Waits for `pid` to exit; returns its raw status. */
static inline int wait_end(pid_t pid)
{
    int status = 0;
    pid_t got = waitpid(pid, &status, 0);
    CHECK(got == pid, "waitpid(%d) returned %d (errno %d)", pid, got, errno);
    CHECK(WIFEXITED(status) || WIFSIGNALED(status), "pid %d did not end: status %#x", pid, status);
    return status;
}

#endif
