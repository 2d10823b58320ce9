/*
 * mte_sync_fault_siginfo: with synchronous tag checking
 * (PR_MTE_TCF_SYNC), a load or store through a pointer whose logical tag
 * differs from the granule's allocation tag raises SIGSEGV with si_code
 * SEGV_MTESERR (9) and si_addr the fault address with its tag bits cleared
 * (no SA_EXPOSE_TAGBITS), before the access happens; uc_mcontext.pc is the
 * faulting instruction, and a handler that adds 4 to it and returns resumes
 * after it. Accesses with the right tag do not fault, and a pointer with
 * logical tag 0 is checked like any other (Linux never sets TCR_EL1.TCMA0).
 * Skipped (exit 0) without HWCAP2_MTE.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "refpage_test.h"

#define PAGE 4096

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    MTE_SKIP_UNLESS_SUPPORTED("mte_sync_fault_siginfo");

    volatile unsigned char *p = map_anonymous(PAGE, PROT_READ | PROT_WRITE | PROT_MTE);
    mte_stg(p, 3);
    volatile unsigned char *good = mte_tagged(p, 3);
    good[5] = 0x5a;
    mte_set_ctrl(MTE_CTRL(PR_MTE_TCF_SYNC));
    catch_signal(SIGSEGV, 0, 1);

    uintptr_t pc;
    uint64_t v = load_byte_at(good + 5, &pc);
    CHECK(v == 0x5a && caught()->count == 0, "load with the right tag: value %#lx, %s",
          (unsigned long)v, caught_str());
    printf("mte_sync_fault_siginfo: load through tag 3 from a granule tagged 3: 0x5a, no signal\n");

    volatile unsigned char *bad = mte_tagged(p + 5, 7);
    v = load_byte_at(bad, &pc);
    struct caught *c = caught();
    CHECK(c->count == 1 && c->signo == SIGSEGV && c->code == SEGV_MTESERR,
          "load through tag 7: want one SIGSEGV, si_code SEGV_MTESERR (9); saw %s", caught_str());
    CHECK(c->addr == untagged(bad), "load through %p: si_addr %#lx, want the untagged %#lx",
          (void *)bad, (unsigned long)c->addr, (unsigned long)untagged(bad));
    CHECK(c->pc == pc, "uc_mcontext.pc %#lx, want the load at %#lx", (unsigned long)c->pc,
          (unsigned long)pc);
    CHECK(v == LOAD_SKIPPED, "the skipped load's register holds %#lx, want %#x untouched",
          (unsigned long)v, LOAD_SKIPPED);
    printf("mte_sync_fault_siginfo: load through tag 7: SIGSEGV SEGV_MTESERR, si_addr %#lx "
           "(untagged), pc at the load; resumed after it\n", (unsigned long)c->addr);

    v = load_byte_at(p + 5, &pc);
    CHECK(c->count == 2 && c->code == SEGV_MTESERR && c->addr == untagged(p + 5) && c->pc == pc,
          "load through logical tag 0 from a granule tagged 3: want a second SEGV_MTESERR at "
          "%p; saw %s", (void *)(p + 5), caught_str());
    printf("mte_sync_fault_siginfo: load through tag 0 from a granule tagged 3 faults too "
           "(no match-all tag at EL0)\n");

    volatile unsigned char *bad_store = mte_tagged(p + 9, 0xc);
    store_byte_at(bad_store, 0x77, &pc);
    CHECK(c->count == 3 && c->signo == SIGSEGV && c->code == SEGV_MTESERR &&
              c->addr == untagged(bad_store) && c->pc == pc,
          "store through tag 0xc: want a third SEGV_MTESERR at %#lx, pc %#lx; saw %s",
          (unsigned long)untagged(bad_store), (unsigned long)pc, caught_str());
    CHECK(good[9] == 0, "the faulting store wrote: byte 9 is %#x", good[9]);
    printf("mte_sync_fault_siginfo: store through tag 0xc: SEGV_MTESERR, memory unchanged\n");

    good[9] = 0x66;
    CHECK(good[9] == 0x66 && c->count == 3, "store and load with the right tag: %#x, %s", good[9],
          caught_str());
    printf("mte_sync_fault_siginfo: after the faults, accesses with the right tag still work\n");
    return 0;
}
