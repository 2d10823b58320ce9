/*
 * signal_mcontext_registers: the ucontext a SIGSEGV handler receives holds
 * the interrupted state (Linux's struct sigcontext): x0-x17 and x19-x28 as
 * the faulting code set them (x28 holds a pointer), sp, pc at the faulting load, pstate for EL0t
 * (M[3:0] = 0), fault_address the address, and an esr_context record with
 * ESR_EL1 of a data abort from EL0 (EC 0x24, translation fault). Register
 * values the handler writes into uc_mcontext are what the code sees after
 * the handler returns (rt_sigreturn restores them), and the registers the
 * handler did not change come back as they were.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "refpage_test.h"

#define MAGIC(n) (0xa5a5000000000000UL | ((unsigned long)(n) << 32) | (n))

static volatile uint64_t seen_regs[31], seen_sp, seen_pc, seen_pstate, seen_fault, seen_esr;
static volatile int calls;

static void handler(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    (void)sig;
    (void)si;
    calls++;
    for (int i = 0; i < 31; i++)
        seen_regs[i] = uc->uc_mcontext.regs[i];
    seen_sp = uc->uc_mcontext.sp;
    seen_pc = uc->uc_mcontext.pc;
    seen_pstate = uc->uc_mcontext.pstate;
    seen_fault = uc->uc_mcontext.fault_address;
    seen_esr = ucontext_esr(uc);
    /* The faulting load's destination gets a value; x3 is changed too. */
    uc->uc_mcontext.regs[12] = 0x1234;
    uc->uc_mcontext.regs[3] = 0x3333;
    uc->uc_mcontext.pc += 4;
}

/* Sets register n to MAGIC(n). */
#define SET(n) "movz x" #n ", #" #n "\n\tmovk x" #n ", #" #n ", lsl #32\n\tmovk x" #n ", #0xa5a5, lsl #48\n\t"

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGSEGV, &sa, NULL) == 0, "sigaction: errno %d", errno);

    /* x28 points at buf: buf[0..30] receive the registers after the
     * handler, buf[31] the load's pc, buf[32] sp. x11 holds the faulting
     * address 0x18, x12 is the load's destination, x9 and x10 hold pc and
     * sp; x18 (platform register), x29 and x30 are left alone. */
    static uint64_t buf[33];
    register uint64_t *x28 __asm__("x28") = buf;
    __asm__ volatile(
        SET(0) SET(1) SET(2) SET(3) SET(4) SET(5) SET(6) SET(7) SET(8)
        SET(13) SET(14) SET(15) SET(16) SET(17)
        SET(19) SET(20) SET(21) SET(22) SET(23) SET(24) SET(25) SET(26) SET(27)
        "mov x11, #0x18\n\t"
        "mov x12, #0\n\t"
        "mov x10, sp\n\t"
        "adr x9, 1f\n"
        "1:\tldr x12, [x11]\n\t"
        "stp x0, x1, [x28, #0]\n\t"
        "stp x2, x3, [x28, #16]\n\t"
        "stp x4, x5, [x28, #32]\n\t"
        "stp x6, x7, [x28, #48]\n\t"
        "stp x8, x9, [x28, #64]\n\t"
        "stp x10, x11, [x28, #80]\n\t"
        "stp x12, x13, [x28, #96]\n\t"
        "stp x14, x15, [x28, #112]\n\t"
        "stp x16, x17, [x28, #128]\n\t"
        "stp x19, x20, [x28, #152]\n\t"
        "stp x21, x22, [x28, #168]\n\t"
        "stp x23, x24, [x28, #184]\n\t"
        "stp x25, x26, [x28, #200]\n\t"
        "stp x27, x28, [x28, #216]\n\t"
        "stp x9, x10, [x28, #248]\n\t"
        :
        : "r"(x28)
        : "x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13",
          "x14", "x15", "x16", "x17", "x19", "x20", "x21", "x22", "x23", "x24", "x25", "x26",
          "x27", "memory");
    const uint64_t *after = buf;
    uint64_t pc = buf[31], sp = buf[32];

    CHECK(calls == 1, "the handler ran %d times", calls);
    static const int set[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 13, 14, 15, 16, 17,
                              19, 20, 21, 22, 23, 24, 25, 26, 27};
    CHECK(seen_regs[28] == (uintptr_t)buf, "uc_mcontext.regs[28] = %#lx, want %p",
          (unsigned long)seen_regs[28], (void *)buf);
    for (unsigned i = 0; i < sizeof(set) / sizeof(set[0]); i++) {
        int n = set[i];
        CHECK(seen_regs[n] == MAGIC(n), "uc_mcontext.regs[%d] = %#lx, want %#lx", n,
              (unsigned long)seen_regs[n], MAGIC(n));
    }
    CHECK(seen_regs[11] == 0x18 && seen_regs[9] == pc && seen_regs[10] == sp,
          "uc_mcontext x9 %#lx x10 %#lx x11 %#lx, want pc %#lx, sp %#lx, 0x18",
          (unsigned long)seen_regs[9], (unsigned long)seen_regs[10], (unsigned long)seen_regs[11],
          (unsigned long)pc, (unsigned long)sp);
    printf("signal_mcontext_registers: uc_mcontext.regs holds x0-x17, x19-x28 as set before the "
           "fault\n");
    CHECK(seen_pc == pc && seen_sp == sp, "uc_mcontext pc %#lx sp %#lx, want %#lx %#lx",
          (unsigned long)seen_pc, (unsigned long)seen_sp, (unsigned long)pc, (unsigned long)sp);
    CHECK((seen_pstate & 0xf) == 0 && (seen_pstate & (1 << 4)) == 0,
          "uc_mcontext.pstate %#lx: not EL0t AArch64", (unsigned long)seen_pstate);
    CHECK(seen_fault == 0x18, "uc_mcontext.fault_address %#lx, want 0x18", (unsigned long)seen_fault);
    printf("signal_mcontext_registers: pc %#lx at the load, sp, pstate EL0t, fault_address 0x18\n",
           (unsigned long)seen_pc);
    CHECK((seen_esr >> 26) == 0x24 && (seen_esr & 0x3c) == 0x04,
          "esr_context: ESR %#lx, want EC 0x24 with a translation fault status (DFSC 0x04-0x07)",
          (unsigned long)seen_esr);
    printf("signal_mcontext_registers: esr_context ESR %#lx: data abort from EL0, translation "
           "fault\n", (unsigned long)seen_esr);

    CHECK(after[12] == 0x1234 && after[3] == 0x3333,
          "after the handler x12 = %#lx, x3 = %#lx; want the handler's 0x1234, 0x3333",
          (unsigned long)after[12], (unsigned long)after[3]);
    for (unsigned i = 0; i < sizeof(set) / sizeof(set[0]); i++) {
        int n = set[i];
        if (n == 3)
            continue;
        CHECK(after[n] == MAGIC(n), "after the handler x%d = %#lx, want %#lx", n,
              (unsigned long)after[n], MAGIC(n));
    }
    printf("signal_mcontext_registers: after return x12 and x3 hold the handler's values, the "
           "rest are intact\n");
    return 0;
}
