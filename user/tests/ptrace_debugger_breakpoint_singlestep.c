/*
 * ptrace_debugger_breakpoint_singlestep: what a minimal debugger does works
 * as on Linux. The child asks to be traced and execs this program again
 * ("child" mode); exec stops it with SIGTRAP (SI_USER). The debugger reads
 * the first instruction of target_function (PEEKTEXT), writes a BRK #0
 * over it (POKETEXT: the text is read-only, so the tracee gets a private
 * copy and the debugger's own text is untouched), continues; the child
 * stops with SIGTRAP (TRAP_BRKPT, si_addr and pc at the BRK, x0 the
 * argument). The debugger puts the instruction back, single-steps three
 * instructions (each a SIGTRAP stop with TRAP_TRACE, pc 4 bytes on, x0
 * as the adds left it), then continues to the end: exit status 16.
 */
#include <string.h>
#include <sys/syscall.h>

#include "refpage_test.h"
#include "ptrace_test.h"

int target_function(int x);
__asm__(".text\n"
        ".global target_function\n"
        ".type target_function, %function\n"
        ".balign 16\n"
        "target_function:\n"
        "    add x0, x0, #1\n"
        "    add x0, x0, #2\n"
        "    add x0, x0, #3\n"
        "    ret\n"
        ".size target_function, . - target_function\n");

#define BRK0 0xd4200000u

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "child") == 0)
        return target_function(10);

    pid_t pid = fork();
    CHECK(pid >= 0, "fork: errno %d", errno);
    if (pid == 0) {
        if (ptrace(PTRACE_TRACEME, 0, 0, 0) != 0)
            _exit(90);
        execl(argv[0], argv[0], "child", (char *)NULL);
        _exit(91);
    }
    int sig = wait_stop(pid);
    CHECK(sig == SIGTRAP, "after exec: stop signal %d, expected SIGTRAP", sig);
    siginfo_t si = get_siginfo(pid);
    CHECK(si.si_signo == SIGTRAP && si.si_code == SI_USER, "exec SIGTRAP: signo %d code %d", si.si_signo,
          si.si_code);

    uintptr_t addr = (uintptr_t)target_function;
    long orig = 0;
    CHECK(ptrace_raw(PTRACE_PEEKTEXT, pid, addr, (unsigned long)&orig) == 0, "PEEKTEXT: errno %d", errno);
    CHECK(orig == *(volatile long *)addr, "PEEKTEXT %#lx, our copy %#lx", orig, *(volatile long *)addr);
    long patched = (long)(((unsigned long)orig & ~0xffffffffUL) | BRK0);
    CHECK(ptrace(PTRACE_POKETEXT, pid, addr, patched) == 0, "POKETEXT: errno %d", errno);
    CHECK(*(volatile uint32_t *)addr != BRK0, "the debugger's own text changed: the copy was not private");
    long now = 0;
    CHECK(ptrace_raw(PTRACE_PEEKTEXT, pid, addr, (unsigned long)&now) == 0 && now == patched,
          "PEEKTEXT after POKETEXT: %#lx, expected %#lx", now, patched);
    printf("ptrace_debugger: exec stop, BRK #0 poked at %#lx over %#lx\n", (unsigned long)addr, orig);

    CHECK(ptrace(PTRACE_CONT, pid, 0, 0) == 0, "CONT: errno %d", errno);
    sig = wait_stop(pid);
    CHECK(sig == SIGTRAP, "at the breakpoint: signal %d", sig);
    struct user_pt_regs regs = get_regs(pid);
    si = get_siginfo(pid);
    CHECK(regs.pc == addr, "breakpoint stop: pc %#llx, expected %#lx", regs.pc, (unsigned long)addr);
    CHECK(regs.regs[0] == 10, "breakpoint stop: x0 %llu, expected 10", regs.regs[0]);
    CHECK(si.si_code == TRAP_BRKPT && (uintptr_t)si.si_addr == addr, "BRK siginfo: code %d addr %p", si.si_code,
          si.si_addr);
    printf("ptrace_debugger: breakpoint hit: pc %#llx x0 %llu, TRAP_BRKPT\n", regs.pc, regs.regs[0]);

    CHECK(ptrace(PTRACE_POKETEXT, pid, addr, orig) == 0, "POKETEXT restore: errno %d", errno);
    unsigned long long want_x0[] = { 11, 13, 16 };
    for (int i = 0; i < 3; i++) {
        CHECK(ptrace(PTRACE_SINGLESTEP, pid, 0, 0) == 0, "SINGLESTEP: errno %d", errno);
        sig = wait_stop(pid);
        CHECK(sig == SIGTRAP, "step %d: signal %d", i + 1, sig);
        regs = get_regs(pid);
        si = get_siginfo(pid);
        CHECK(regs.pc == addr + 4 * (i + 1), "step %d: pc %#llx, expected %#lx", i + 1, regs.pc,
              (unsigned long)(addr + 4 * (i + 1)));
        CHECK(regs.regs[0] == want_x0[i], "step %d: x0 %llu, expected %llu", i + 1, regs.regs[0], want_x0[i]);
        CHECK(si.si_code == TRAP_TRACE, "step %d: si_code %d, expected TRAP_TRACE", i + 1, si.si_code);
        CHECK((uintptr_t)si.si_addr == regs.pc, "step %d: si_addr %p, pc %#llx", i + 1, si.si_addr, regs.pc);
    }
    printf("ptrace_debugger: three single steps: pc +4 each, x0 11, 13, 16, TRAP_TRACE\n");

    CHECK(ptrace(PTRACE_CONT, pid, 0, 0) == 0, "final CONT: errno %d", errno);
    int status = wait_end(pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 16, "the child ended with status %#x, expected exit 16",
          status);
    printf("ptrace_debugger: the child ran on to exit(16)\n");
    return 0;
}
