/*
 * ptrace_singlestep_into_handler_stops_at_entry: PTRACE_SINGLESTEP from a
 * signal-delivery-stop, delivering a signal that has a handler, stops the
 * tracee at the handler's first instruction, before it runs: WSTOPSIG
 * SIGTRAP with si_code SIGTRAP (5) and si_pid the tracee (Linux 6.1's
 * handle_signal -> signal_setup_done -> signal_delivered ->
 * ptrace_notify(SIGTRAP, 0)). The next step runs exactly that instruction
 * (SS set: user_regs_reset_single_step), and x0 holds the signal number.
 */
#include <string.h>

#include "refpage_test.h"
#include "ptrace_test.h"

static volatile int hits;

static void on_usr1(int sig)
{
    (void)sig;
    hits++;
}

static int body(void)
{
    signal(SIGUSR1, on_usr1);
    raise(SIGUSR1);
    return hits == 1 ? 0 : 50 + hits;
}

int main(void)
{
    pid_t c = start_tracee(body);
    CHECK(ptrace(PTRACE_CONT, c, 0, 0) == 0, "PTRACE_CONT: errno %d", errno);
    int sig = wait_stop(c);
    CHECK(sig == SIGUSR1, "stop with signal %d, expected SIGUSR1", sig);
    CHECK(ptrace(PTRACE_SINGLESTEP, c, 0, SIGUSR1) == 0, "PTRACE_SINGLESTEP: errno %d", errno);
    sig = wait_stop(c);
    struct user_pt_regs regs = get_regs(c);
    siginfo_t si = get_siginfo(c);
    uint64_t handler = (uint64_t)(uintptr_t)on_usr1;
    CHECK(sig == SIGTRAP && si.si_code == SIGTRAP && si.si_pid == c,
          "stop after stepping into the handler: signal %d si_code %d si_pid %d; want SIGTRAP, 5, %d", sig,
          si.si_code, si.si_pid, c);
    CHECK(regs.pc == handler, "stopped at pc %#llx; want the handler's first instruction %#llx", regs.pc,
          (unsigned long long)handler);
    CHECK(regs.regs[0] == SIGUSR1, "x0 %llu at the handler's entry", regs.regs[0]);
    CHECK(ptrace(PTRACE_SINGLESTEP, c, 0, 0) == 0, "PTRACE_SINGLESTEP: errno %d", errno);
    sig = wait_stop(c);
    regs = get_regs(c);
    si = get_siginfo(c);
    CHECK(sig == SIGTRAP && si.si_code == TRAP_TRACE && regs.pc == handler + 4,
          "one step in the handler: signal %d si_code %d pc %#llx; want SIGTRAP TRAP_TRACE at %#llx", sig, si.si_code,
          regs.pc, (unsigned long long)handler + 4);
    CHECK(ptrace(PTRACE_CONT, c, 0, 0) == 0, "PTRACE_CONT: errno %d", errno);
    int status = wait_end(c);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "tracee status %#x (handler ran %d times?)", status,
          WIFEXITED(status) ? WEXITSTATUS(status) - 50 : -1);
    return 0;
}
