/*
 * signal_brk_udf_siginfo: with handlers installed, BRK raises SIGTRAP with
 * si_code TRAP_BRKPT and UDF #0 (.inst 0x00000000) SIGILL with si_code
 * ILL_ILLOPC; for both si_addr and uc_mcontext.pc are the instruction's
 * address (Linux reports the pc and does not step over it), and a handler
 * that adds 4 to pc resumes after it. A second BRK is caught the same way.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "refpage_test.h"

static uintptr_t brk_at(void)
{
    uintptr_t at;
    __asm__ volatile("adr %0, 1f\n1:\tbrk #0x42" : "=r"(at) : : "memory");
    return at;
}

static uintptr_t udf_at(void)
{
    uintptr_t at;
    __asm__ volatile("adr %0, 1f\n1:\t.inst 0x00000000" : "=r"(at) : : "memory");
    return at;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct caught *c = caught();

    catch_signal(SIGTRAP, 0, 1);
    for (int round = 1; round <= 2; round++) {
        uintptr_t at = brk_at();
        CHECK(c->count == round && c->signo == SIGTRAP && c->code == TRAP_BRKPT && c->addr == at &&
                  c->pc == at,
              "brk at %#lx: want SIGTRAP, si_code TRAP_BRKPT (%d), si_addr and pc the brk; saw %s",
              (unsigned long)at, TRAP_BRKPT, caught_str());
    }
    printf("signal_brk_udf_siginfo: brk #0x42: SIGTRAP TRAP_BRKPT, si_addr = pc = the brk; "
           "resumed after it (twice)\n");

    catch_signal(SIGILL, 0, 1);
    uintptr_t at = udf_at();
    CHECK(c->count == 1 && c->signo == SIGILL && c->code == ILL_ILLOPC && c->addr == at &&
              c->pc == at,
          "udf at %#lx: want SIGILL, si_code ILL_ILLOPC (%d), si_addr and pc the udf; saw %s",
          (unsigned long)at, ILL_ILLOPC, caught_str());
    printf("signal_brk_udf_siginfo: UDF #0: SIGILL ILL_ILLOPC, si_addr = pc = the instruction; "
           "resumed after it\n");
    return 0;
}
