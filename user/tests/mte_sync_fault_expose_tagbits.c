/*
 * mte_sync_fault_expose_tagbits: a handler installed with
 * SA_EXPOSE_TAGBITS sees the logical tag of the faulting pointer in bits
 * 59:56 of si_addr for a synchronous tag-check fault (SEGV_MTESERR), and
 * bits 63:60 as in the untagged address (0: FAR_EL1[63:60] are UNKNOWN for
 * tag-check faults and Linux replaces them, do_tag_check_fault). For a
 * translation fault through a tagged pointer the whole top byte is shown.
 * Without the flag the same faults report the untagged address.
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
    MTE_SKIP_UNLESS_SUPPORTED("mte_sync_fault_expose_tagbits");

    volatile unsigned char *p = map_anonymous(PAGE, PROT_READ | PROT_WRITE | PROT_MTE);
    mte_stg(p + 32, 4);
    mte_set_ctrl(MTE_CTRL(PR_MTE_TCF_SYNC));
    struct caught *c = caught();
    uintptr_t pc;

    catch_signal(SIGSEGV, SA_EXPOSE_TAGBITS, 1);
    volatile unsigned char *bad = mte_tagged(p + 33, 0xb);
    load_byte_at(bad, &pc);
    CHECK(c->count == 1 && c->code == SEGV_MTESERR, "load through tag 0xb: want SEGV_MTESERR; saw %s",
          caught_str());
    CHECK(c->addr == (uintptr_t)bad,
          "SA_EXPOSE_TAGBITS: si_addr %#lx, want %#lx (tag 0xb in bits 59:56, 63:60 clear)",
          (unsigned long)c->addr, (unsigned long)(uintptr_t)bad);
    printf("mte_sync_fault_expose_tagbits: SA_EXPOSE_TAGBITS, tag-check fault: si_addr %#lx keeps "
           "tag 0xb\n", (unsigned long)c->addr);

    /* A translation fault through a pointer with top byte 0x2a. */
    volatile unsigned char *unmapped = (volatile unsigned char *)((0x2aUL << 56) | 0x10);
    load_byte_at(unmapped, &pc);
    CHECK(c->count == 2 && c->code == SEGV_MAPERR && c->addr == (uintptr_t)unmapped,
          "SA_EXPOSE_TAGBITS, load from %p: want SEGV_MAPERR with si_addr the whole pointer; saw %s",
          (void *)unmapped, caught_str());
    printf("mte_sync_fault_expose_tagbits: SA_EXPOSE_TAGBITS, translation fault: si_addr %#lx "
           "keeps the top byte\n", (unsigned long)c->addr);

    catch_signal(SIGSEGV, 0, 1);
    load_byte_at(bad, &pc);
    CHECK(c->count == 1 && c->code == SEGV_MTESERR && c->addr == untagged(bad),
          "without SA_EXPOSE_TAGBITS: want SEGV_MTESERR at %#lx; saw %s",
          (unsigned long)untagged(bad), caught_str());
    load_byte_at(unmapped, &pc);
    CHECK(c->count == 2 && c->code == SEGV_MAPERR && c->addr == 0x10,
          "without SA_EXPOSE_TAGBITS, load from %p: want SEGV_MAPERR at 0x10; saw %s",
          (void *)unmapped, caught_str());
    printf("mte_sync_fault_expose_tagbits: without the flag both faults report the untagged "
           "address\n");
    return 0;
}
