/*
 * signal_fault_address_untagged: for a data abort through a tagged pointer
 * (top-byte-ignore, no MTE needed) uc_mcontext.fault_address is the address
 * without its tag, as Linux records it (do_bad_area / __do_user_fault:
 * set_thread_esr(untagged_addr(far), esr)), and si_addr is untagged too
 * without SA_EXPOSE_TAGBITS; with it si_addr keeps the tag but
 * fault_address does not. With MTE, the same holds for a synchronous
 * tag-check fault, whose FAR_EL1 bits 63:60 are UNKNOWN, and its
 * esr_context shows EC 0x24 with DFSC 0x11.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "refpage_test.h"

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    catch_signal(SIGSEGV, 0, 1);
    struct caught *c = caught();
    uintptr_t pc;

    volatile unsigned char *tagged = (volatile unsigned char *)((0x5aUL << 56) | 0x28);
    load_byte_at(tagged, &pc);
    CHECK(c->count == 1 && c->code == SEGV_MAPERR && c->addr == 0x28,
          "load from %p: want SEGV_MAPERR, si_addr 0x28; saw %s", (void *)tagged, caught_str());
    CHECK(c->fault_address == 0x28, "load from %p: uc_mcontext.fault_address %#lx, want 0x28",
          (void *)tagged, (unsigned long)c->fault_address);
    printf("signal_fault_address_untagged: translation fault through %p: si_addr and "
           "fault_address 0x28\n", (void *)tagged);

    catch_signal(SIGSEGV, SA_EXPOSE_TAGBITS, 1);
    load_byte_at(tagged, &pc);
    CHECK(c->count == 1 && c->code == SEGV_MAPERR && c->addr == (uintptr_t)tagged,
          "SA_EXPOSE_TAGBITS, load from %p: want si_addr the whole pointer; saw %s",
          (void *)tagged, caught_str());
    CHECK(c->fault_address == 0x28,
          "SA_EXPOSE_TAGBITS, load from %p: uc_mcontext.fault_address %#lx, want 0x28 (the flag "
          "only concerns si_addr)", (void *)tagged, (unsigned long)c->fault_address);
    printf("signal_fault_address_untagged: with SA_EXPOSE_TAGBITS si_addr keeps the tag, "
           "fault_address stays 0x28\n");
    catch_signal(SIGSEGV, 0, 1);

    if (!mte_supported()) {
        printf("signal_fault_address_untagged: no HWCAP2_MTE: tag-check part skipped\n");
        return 0;
    }
    volatile unsigned char *p = map_anonymous(4096, PROT_READ | PROT_WRITE | PROT_MTE);
    mte_stg(p + 64, 1);
    mte_set_ctrl(MTE_CTRL(PR_MTE_TCF_SYNC));
    volatile unsigned char *bad = mte_tagged(p + 70, 0xd);
    load_byte_at(bad, &pc);
    CHECK(c->count == 1 && c->code == SEGV_MTESERR && c->addr == untagged(bad),
          "tag-check fault at %p: want SEGV_MTESERR, si_addr %#lx; saw %s", (void *)bad,
          (unsigned long)untagged(bad), caught_str());
    CHECK((c->esr >> 26) == 0x24 && (c->esr & 0x3f) == 0x11,
          "tag-check fault: esr_context ESR %#lx, want EC 0x24, DFSC 0x11", (unsigned long)c->esr);
    CHECK(c->fault_address == untagged(bad),
          "tag-check fault at %p: uc_mcontext.fault_address %#lx, want the untagged %#lx",
          (void *)bad, (unsigned long)c->fault_address, (unsigned long)untagged(bad));
    printf("signal_fault_address_untagged: tag-check fault through %p: ESR %#lx, fault_address "
           "%#lx\n", (void *)bad, (unsigned long)c->esr, (unsigned long)c->fault_address);
    return 0;
}
