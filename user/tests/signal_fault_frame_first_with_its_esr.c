/*
 * signal_fault_frame_first_with_its_esr: when a fault's SIGSEGV and a
 * lower-numbered SIGINT are both pending, the SIGSEGV's frame, not
 * SIGINT's, carries the fault's esr_context and fault_address (Linux
 * dequeues kernel-raised synchronous signals first, and a frame describes
 * its own fault). The child comes from a raw clone whose first instruction
 * in the child loads from address 0x10; the parent sends SIGINT before the
 * child first runs. Here SIGINT is still pending at the fault, so SIGSEGV
 * goes first; Linux delivers SIGINT on the child's way out of clone, before
 * the load, so either order is accepted: the esr is what is checked.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "refpage_test.h"
#include "smp_test.h"

static volatile int order[4], n;
static volatile uint64_t segv_esr, segv_fault_address, int_esr;

static void on_segv(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    (void)si;
    order[n++] = sig;
    segv_esr = ucontext_esr(uc);
    segv_fault_address = uc->uc_mcontext.fault_address;
    uc->uc_mcontext.pc += 4;
}

static void on_int(int sig, siginfo_t *si, void *ucv)
{
    (void)si;
    order[n++] = sig;
    int_esr = ucontext_esr(ucv);
}

/* fork by raw clone; the child's first instruction loads from 0x10, the
 * parent's next one sends the child SIGINT (kill), so that on one CPU the
 * SIGINT is pending when the child faults. Returns the child's pid. */
static long clone_and_fault(void)
{
    register long x0 __asm__("x0") = SIGCHLD;
    register long x1 __asm__("x1") = 0;
    register long x2 __asm__("x2") = 0;
    register long x3 __asm__("x3") = 0;
    register long x4 __asm__("x4") = 0;
    register long x8 __asm__("x8") = SYS_clone;
    long pid;
    __asm__ volatile("svc #0\n\t"
                     "mov %[pid], x0\n\t"
                     "cbnz x0, 1f\n\t"
                     "mov x9, #0x10\n\t"
                     "ldr x9, [x9]\n\t"
                     "b 2f\n"
                     "1:\n\t"
                     "cmp x0, #0\n\t"
                     "b.lt 2f\n\t"
                     "mov x1, #%[sigint]\n\t"
                     "mov x8, #%[kill]\n\t"
                     "svc #0\n"
                     "2:"
                     : "+r"(x0), "+r"(x1), "+r"(x8), [pid] "=&r"(pid)
                     : "r"(x2), "r"(x3), "r"(x4), [sigint] "i"(SIGINT), [kill] "i"(SYS_kill)
                     : "x9", "memory");
    return pid;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* The interleaving this test needs is one CPU's (the child runs only
     * when the parent leaves the CPU): parent and child stay on CPU 0. */
    CHECK(pin_to(0) == 0, "sched_setaffinity(CPU 0): errno %d", errno);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_flags = SA_SIGINFO;
    sa.sa_sigaction = on_segv;
    /* SIGINT waits for the SIGSEGV handler to return, so that one handler
     * does not interrupt the other (the child's first write to order[]
     * is a copy-on-write fault, a return to EL0 where SIGINT could run). */
    sigaddset(&sa.sa_mask, SIGINT);
    sigaction(SIGSEGV, &sa, NULL);
    sigemptyset(&sa.sa_mask);
    sa.sa_sigaction = on_int;
    sigaction(SIGINT, &sa, NULL);

    /* A fresh time slice, so that the timer does not give the CPU to the
     * child between the clone and the kill. */
    sched_yield();
    long pid = clone_and_fault();
    if (pid == 0) {
        /* The child, after both handlers (SIGINT may come a little later on
         * a multi-CPU kernel: wait for it). */
        for (int i = 0; i < 1000 && n < 2; i++)
            usleep(1000);
        int ok = n == 2 && order[0] + order[1] == SIGSEGV + SIGINT && segv_esr >> 26 == 0x24 &&
                 segv_fault_address == 0x10 && int_esr == 0;
        if (!ok)
            fprintf(stderr,
                    "child: delivered %d: first %d then %d (want SIGSEGV and SIGINT); SIGSEGV's esr %#lx "
                    "(want EC 0x24) fault_address %#lx (want 0x10); SIGINT's esr %#lx (want none)\n",
                    n, order[0], order[1], (unsigned long)segv_esr, (unsigned long)segv_fault_address,
                    (unsigned long)int_esr);
        syscall(SYS_exit_group, ok ? 0 : 1);
    }
    CHECK(pid > 0, "clone: errno %ld", -pid);
    int status;
    CHECK(waitpid(pid, &status, 0) == pid, "waitpid: errno %d", errno);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x (its message above)", status);
    printf("signal_fault_frame_first_with_its_esr: SIGSEGV with its esr_context and fault_address, "
           "SIGINT without\n");
    return 0;
}
