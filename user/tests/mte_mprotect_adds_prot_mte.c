/*
 * mte_mprotect_adds_prot_mte: mprotect(PROT_MTE) on anonymous memory that
 * was written without it keeps the data and gives every granule tag 0
 * (Linux clears the tags of a page when it first becomes tagged,
 * mte_sync_tags); from then on the memory is tag-checked: with sync
 * checking a tag-0 pointer works and another tag faults. mprotect without
 * PROT_MTE afterwards does not remove it (Linux keeps VM_MTE): tags stored
 * with STG stay and are still checked. Skipped (exit 0) without HWCAP2_MTE.
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
    MTE_SKIP_UNLESS_SUPPORTED("mte_mprotect_adds_prot_mte");

    volatile unsigned char *p = map_anonymous(2 * PAGE, PROT_READ | PROT_WRITE);
    for (int i = 0; i < PAGE; i++)
        p[i] = (unsigned char)(i * 7);
    /* Page 1 is left untouched. */

    CHECK(mprotect((void *)p, 2 * PAGE, PROT_READ | PROT_WRITE | PROT_MTE) == 0,
          "mprotect(+PROT_MTE): errno %d (%s)", errno, strerror(errno));
    for (int i = 0; i < PAGE; i++)
        CHECK(p[i] == (unsigned char)(i * 7), "byte %d after mprotect(+PROT_MTE): %#x, want %#x", i,
              p[i], (unsigned char)(i * 7));
    for (int g = 0; g < 2 * PAGE / MTE_GRANULE; g++) {
        unsigned t = mte_ldg(p + g * MTE_GRANULE);
        CHECK(t == 0, "granule %d after mprotect(+PROT_MTE) has tag %#x, want 0", g, t);
    }
    printf("mte_mprotect_adds_prot_mte: mprotect(+PROT_MTE): data kept, every granule (written "
           "page and untouched page) has tag 0\n");

    mte_set_ctrl(MTE_CTRL(PR_MTE_TCF_SYNC));
    catch_signal(SIGSEGV, 0, 1);
    struct caught *k = caught();
    uintptr_t pc;
    uint64_t v = load_byte_at(p + 10, &pc);
    CHECK(v == 70 && k->count == 0, "tag-0 load: %#lx, %s", (unsigned long)v, caught_str());
    load_byte_at(mte_tagged(p + 10, 5), &pc);
    CHECK(k->count == 1 && k->code == SEGV_MTESERR && k->addr == untagged(p + 10),
          "tag-5 load from a tag-0 granule: want SEGV_MTESERR; saw %s", caught_str());
    printf("mte_mprotect_adds_prot_mte: now checked: tag 0 reads, tag 5 faults (SEGV_MTESERR)\n");

    mte_stg(p + 32, 5);
    CHECK(mprotect((void *)p, 2 * PAGE, PROT_READ | PROT_WRITE) == 0, "mprotect(-PROT_MTE): errno %d",
          errno);
    unsigned t = mte_ldg(p + 32);
    CHECK(t == 5, "after mprotect without PROT_MTE, LDG of the STG'd granule reads %#x, want 5", t);
    v = load_byte_at(mte_tagged(p + 33, 5), &pc);
    CHECK(v == 33 * 7 % 256 && k->count == 1, "tag-5 load from the tag-5 granule: %#lx, %s",
          (unsigned long)v, caught_str());
    load_byte_at(p + 33, &pc);
    CHECK(k->count == 2 && k->code == SEGV_MTESERR,
          "after mprotect without PROT_MTE, a tag-0 load from a tag-5 granule: want "
          "SEGV_MTESERR (PROT_MTE kept); saw %s", caught_str());
    printf("mte_mprotect_adds_prot_mte: mprotect without PROT_MTE keeps it: tags stay and are "
           "checked\n");

    mte_set_ctrl(0);
    CHECK(munmap((void *)p, 2 * PAGE) == 0, "munmap: errno %d", errno);
    return 0;
}
