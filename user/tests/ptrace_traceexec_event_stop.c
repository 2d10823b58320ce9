/*
 * ptrace_traceexec_event_stop: with PTRACE_O_TRACEEXEC (set by SETOPTIONS
 * after TRACEME, or given to SEIZE), exec stops the tracee in a
 * PTRACE_EVENT_EXEC stop instead of sending it SIGTRAP, as on Linux:
 * wait's status is (SIGTRAP | PTRACE_EVENT_EXEC << 8) << 8 | 0x7f, waitid's
 * si_status (SIGTRAP | PTRACE_EVENT_EXEC << 8), GETSIGINFO si_code the same
 * and si_pid the tracee, GETEVENTMSG the tid before exec, and the registers
 * are the new program's first (pc its entry point). Continued with no
 * signal, the new program runs to its exit: no SIGTRAP stop follows.
 * SETOPTIONS refuses unknown bits (EINVAL).
 */
#include <elf.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>

#include "refpage_test.h"
#include "ptrace_test.h"

#ifndef PTRACE_EVENT_EXEC
#define PTRACE_EVENT_EXEC 4
#endif

static const char *self_path;

/* The tracee, once let go: this program again, in "child" mode. */
static int exec_self(void)
{
    execl(self_path, self_path, "child", (char *)NULL);
    return 91;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "child") == 0)
        return 0;

    self_path = argv[0];
    pid_t pid = start_tracee(exec_self);
    CHECK_ERRNO(ptrace(PTRACE_SETOPTIONS, pid, 0, 0x80000000UL), EINVAL);
    CHECK(ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACEEXEC) == 0, "SETOPTIONS: errno %d", errno);
    CHECK(ptrace(PTRACE_CONT, pid, 0, 0) == 0, "CONT: errno %d", errno);

    siginfo_t wi;
    memset(&wi, 0, sizeof(wi));
    CHECK(waitid(P_PID, pid, &wi, WEXITED | WSTOPPED | WNOWAIT) == 0, "waitid: errno %d", errno);
    CHECK(wi.si_code == CLD_TRAPPED && wi.si_status == (SIGTRAP | (PTRACE_EVENT_EXEC << 8)),
          "waitid: code %d status %#x", wi.si_code, wi.si_status);
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid, "waitpid: errno %d", errno);
    CHECK(status == (((SIGTRAP | (PTRACE_EVENT_EXEC << 8)) << 8) | 0x7f), "exec event stop: status %#x", status);
    CHECK(WIFSTOPPED(status) && WSTOPSIG(status) == SIGTRAP && (status >> 16) == PTRACE_EVENT_EXEC,
          "status %#x does not decode as an exec event", status);
    siginfo_t si = get_siginfo(pid);
    CHECK(si.si_signo == SIGTRAP && si.si_code == (SIGTRAP | (PTRACE_EVENT_EXEC << 8)) && si.si_pid == pid,
          "GETSIGINFO: signo %d code %#x pid %d", si.si_signo, si.si_code, si.si_pid);
    unsigned long msg = 0;
    CHECK(ptrace(PTRACE_GETEVENTMSG, pid, 0, &msg) == 0 && msg == (unsigned long)pid, "GETEVENTMSG: errno %d, %lu",
          errno, msg);
    struct user_pt_regs regs = get_regs(pid);
    /* The same static program: its entry point is ours. */
    CHECK(regs.pc == getauxval(AT_ENTRY), "pc %#llx, expected the entry point %#lx", regs.pc, getauxval(AT_ENTRY));
    printf("ptrace_traceexec: exec event stop: status %#x, si_code %#x, event message %lu, pc at the entry\n",
           status, si.si_code, msg);

    CHECK(ptrace(PTRACE_CONT, pid, 0, 0) == 0, "CONT after the event: errno %d", errno);
    status = wait_end(pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "after the exec event the tracee ended with status %#x, expected exit 0", status);
    printf("ptrace_traceexec: no SIGTRAP after the event; the new program ran to exit(0)\n");
    return 0;
}
