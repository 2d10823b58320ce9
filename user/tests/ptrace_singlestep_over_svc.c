/*
 * ptrace_singlestep_over_svc: single-stepping over `svc #0` as on Linux
 * 6.1. The step that runs the SVC stops after the call (x0 holds its
 * result) with SIGTRAP, si_code SI_USER, no sender: Linux's syscall exit
 * reports a stepped task (user_single_step_report). The next step stops
 * again at the same pc, TRAP_TRACE, without running anything: the SVC
 * completed the hardware step, so SPSR.SS is 0 and the return to EL0 is
 * active-pending (Arm ARM (DDI 0487K.a), "Software Step
 * exceptions"; arch/aarch64/debug.rs), and SINGLESTEP of
 * a task already stepping does not set SS again (user_enable_single_step).
 * The step after that runs the add.
 *
 * The tracee runs svc_target (mov x8, getpid; svc; add; ret); the tracer
 * stops it there with a BRK, puts the instruction back and steps.
 */
#include <string.h>
#include <sys/syscall.h>

#include "refpage_test.h"
#include "ptrace_test.h"

long svc_target(void);
__asm__(".text\n"
        ".global svc_target\n"
        ".type svc_target, %function\n"
        ".balign 16\n"
        "svc_target:\n"
        "    mov x8, #172\n" /* getpid */
        "    svc #0\n"
        "    add x0, x0, #1000\n"
        "    ret\n"
        ".size svc_target, . - svc_target\n");

#define BRK0 0xd4200000u

static int tracee(void)
{
    return svc_target() == getpid() + 1000 ? 0 : 10;
}

int main(void)
{
    pid_t pid = start_tracee(tracee);
    uintptr_t addr = (uintptr_t)svc_target;
    long orig = *(volatile long *)addr;
    long patched = (long)(((unsigned long)orig & ~0xffffffffUL) | BRK0);
    CHECK(ptrace(PTRACE_POKETEXT, pid, addr, patched) == 0, "POKETEXT: errno %d", errno);
    CHECK(ptrace(PTRACE_CONT, pid, 0, 0) == 0, "CONT: errno %d", errno);
    CHECK(wait_stop(pid) == SIGTRAP, "no SIGTRAP at the breakpoint");
    CHECK(get_regs(pid).pc == addr, "breakpoint pc %#llx", get_regs(pid).pc);
    CHECK(ptrace(PTRACE_POKETEXT, pid, addr, orig) == 0, "POKETEXT restore: errno %d", errno);

    struct {
        unsigned long long pc;
        int code;
        long long x0;
    } want[] = {
        { addr + 4, TRAP_TRACE, -1 },      /* mov x8 */
        { addr + 8, SI_USER, pid },        /* svc: the syscall-exit report */
        { addr + 8, TRAP_TRACE, pid },     /* the pending hardware step */
        { addr + 12, TRAP_TRACE, pid + 1000 }, /* add */
    };
    for (int i = 0; i < 4; i++) {
        CHECK(ptrace(PTRACE_SINGLESTEP, pid, 0, 0) == 0, "SINGLESTEP: errno %d", errno);
        int sig = wait_stop(pid);
        struct user_pt_regs regs = get_regs(pid);
        siginfo_t si = get_siginfo(pid);
        CHECK(sig == SIGTRAP && si.si_code == want[i].code, "step %d: signal %d code %d, expected SIGTRAP code %d",
              i + 1, sig, si.si_code, want[i].code);
        CHECK(regs.pc == want[i].pc, "step %d: pc +%#llx, expected +%#llx", i + 1, regs.pc - addr, want[i].pc - addr);
        CHECK(want[i].x0 < 0 || (long long)regs.regs[0] == want[i].x0, "step %d: x0 %lld, expected %lld", i + 1,
              (long long)regs.regs[0], want[i].x0);
        if (want[i].code == SI_USER)
            CHECK(si.si_pid == 0, "the syscall-exit SIGTRAP names sender %d", si.si_pid);
    }
    printf("ptrace_singlestep_over_svc: mov; svc (x0 = pid %d): SI_USER stop, then TRAP_TRACE at the same pc; "
           "add\n",
           pid);
    CHECK(ptrace(PTRACE_CONT, pid, 0, 0) == 0, "CONT: errno %d", errno);
    int status = wait_end(pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the tracee ended with status %#x", status);
    return 0;
}
