/*
 * signal_sent_before_first_run_handled_at_first_instruction: a signal sent
 * to a new process (clone with SIGCHLD, as fork) or a new thread (CLONE_VM |
 * CLONE_THREAD) before it has run is delivered on its first return to EL0,
 * before its first instruction, as Linux's ret_from_fork -> ret_to_user ->
 * do_notify_resume does. The child's code after the clone SVC never enters
 * the kernel again (it spins), so the handler's ucontext PC tells when the
 * signal came: at the first instruction after the SVC (delivered on the
 * first entry) or at the spin loop one instruction later (delivered only
 * when a timer interrupt ended the child's slice). Before, the first return
 * to EL0 skipped signal delivery and the PC was the spin loop's. One CPU:
 * the parent runs on after clone (on a fresh time slice: it yields just
 * before), so it sends the signal before the child has run. Should the
 * child run first all the same (the parent preempted between clone and
 * kill), the PC is the spin loop's: each case is tried up to three times
 * and passes on the first try that shows the first instruction.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include "refpage_test.h"
#include "smp_test.h"

/* What the child's handler saw, in memory the parent can read. */
struct seen {
    volatile uint64_t pc;
    volatile int count;
};
static struct seen *seen;

static void on_sigusr1(int sig, siginfo_t *info, void *ucontext)
{
    (void)sig;
    (void)info;
    const ucontext_t *uc = ucontext;
    seen->pc = uc->uc_mcontext.pc;
    seen->count++;
    /* Only the child gets here: a new process ends itself, a new thread
     * only itself (SYS_exit, not exit_group). */
    syscall(SYS_exit, 0);
}

/*
 * clone(flags, stack) by SVC; the child's first instruction is at *first
 * (the CBNZ telling parent from child), and it then spins at *first + 4
 * without entering the kernel. The parent gets the child's id.
 */
static long clone_then_spin(unsigned long flags, void *stack, uint64_t *first)
{
    register unsigned long x0 __asm__("x0") = flags;
    register void *x1 __asm__("x1") = stack;
    register unsigned long x2 __asm__("x2") = 0, x3 __asm__("x3") = 0, x4 __asm__("x4") = 0;
    register unsigned long x8 __asm__("x8") = SYS_clone;
    uint64_t at;
    __asm__ volatile("adr %[at], 1f\n\t"
                     "svc #0\n"
                     "1:\tcbnz x0, 3f\n"
                     "2:\tb 2b\n"
                     "3:"
                     : "+r"(x0), [at] "=&r"(at)
                     : "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x8)
                     : "memory", "cc");
    *first = at;
    return (long)x0;
}

#define TRIES 3

/* One try: a new process (clone with SIGCHLD, as fork) or a new thread,
 * sent SIGUSR1 at once. Returns the child's first instruction. */
static uint64_t try_once(int thread, int i)
{
    static char stacks[TRIES][64 * 1024] __attribute__((aligned(16)));
    seen->count = 0;
    seen->pc = 0;
    uint64_t first;
    sched_yield(); /* a fresh time slice for clone and kill */
    if (!thread) {
        long pid = clone_then_spin(SIGCHLD, NULL, &first);
        CHECK(pid > 0, "clone(SIGCHLD) returned %ld", pid);
        CHECK(kill((pid_t)pid, SIGUSR1) == 0, "kill failed");
        int status;
        CHECK(waitpid((pid_t)pid, &status, 0) == pid, "waitpid failed");
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
    } else {
        /* Each try its own stack: an earlier thread may not be gone yet. */
        unsigned long flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM;
        long tid = clone_then_spin(flags, stacks[i] + sizeof(stacks[i]), &first);
        CHECK(tid > 0, "clone(CLONE_THREAD) returned %ld", tid);
        CHECK(syscall(SYS_tgkill, getpid(), tid, SIGUSR1) == 0, "tgkill failed");
        for (int n = 0; n < 100000 && seen->count == 0; n++)
            sched_yield();
    }
    CHECK(seen->count == 1, "new %s: the handler ran %d times", thread ? "thread" : "process", seen->count);
    return first;
}

static void check(int thread)
{
    const char *what = thread ? "new thread" : "new process";
    uint64_t first = 0;
    for (int i = 0; i < TRIES; i++) {
        first = try_once(thread, i);
        if (seen->pc == first) {
            printf("signal_sent_before_first_run_handled_at_first_instruction: %s: handled at the first "
                   "instruction %#lx (try %d)\n",
                   what, (unsigned long)first, i + 1);
            return;
        }
        printf("signal_sent_before_first_run_handled_at_first_instruction: %s, try %d: handler interrupted pc %#lx, "
               "first instruction %#lx\n",
               what, i + 1, (unsigned long)seen->pc, (unsigned long)first);
    }
    CHECK(seen->pc == first, "%s: handler interrupted pc %#lx, the child's first instruction is at %#lx%s (%d tries)",
          what, (unsigned long)seen->pc, (unsigned long)first,
          seen->pc == first + 4 ? " (it ran before the signal was delivered)" : "", TRIES);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    seen = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(seen != MAP_FAILED, "mmap failed");
    struct sigaction sa = {.sa_sigaction = on_sigusr1, .sa_flags = SA_SIGINFO};
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction failed");
    /* The order this test needs is one CPU's (the child runs only when the
     * parent leaves the CPU; with more CPUs an idle one may take it at
     * once): parent and children stay on CPU 0, which they inherit. */
    CHECK(pin_to(0) == 0, "sched_setaffinity(CPU 0): errno %d", errno);
    check(0);
    check(1);
    return 0;
}
