/*
 * mremap_mte_tags_travel_with_frames: mremap of PROT_MTE memory. The
 * allocation tags live with the frames, and a move moves the frames'
 * entries, so every granule's tag reads back the same at the new address
 * (LDG), accesses through the right tags work and one through a wrong tag
 * still faults (the moved entries are still Normal-Tagged); the pages a
 * growth adds, and the old range after MREMAP_DONTUNMAP, read tag 0.
 */
#define _GNU_SOURCE
#include <sys/mman.h>

#include "refpage_test.h"

#define PAGE 4096UL
#define PAGES 4

static unsigned tag_for(size_t granule)
{
    return (unsigned)(granule % 15) + 1;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    MTE_SKIP_UNLESS_SUPPORTED("mremap_mte_tags_travel_with_frames");
    mte_set_ctrl(MTE_CTRL(PR_MTE_TCF_SYNC));

    unsigned char *p = map_anonymous((PAGES + 1) * PAGE, PROT_READ | PROT_WRITE | PROT_MTE);
    CHECK(mprotect(p + PAGES * PAGE, PAGE, PROT_READ) == 0, "mprotect: %m"); /* blocks growth in place */
    for (size_t g = 0; g < PAGES * PAGE / MTE_GRANULE; g++) {
        unsigned char *at = p + g * MTE_GRANULE;
        mte_stg(at, tag_for(g));
        *(volatile unsigned char *)mte_tagged(at, tag_for(g)) = (unsigned char)g;
    }

    unsigned char *q = mremap(p, PAGES * PAGE, 2 * PAGES * PAGE, MREMAP_MAYMOVE);
    CHECK(q != MAP_FAILED && q != p, "mremap(MAYMOVE): %p, %m", (void *)q);
    for (size_t g = 0; g < PAGES * PAGE / MTE_GRANULE; g++) {
        unsigned char *at = q + g * MTE_GRANULE;
        unsigned tag = mte_ldg(at);
        CHECK(tag == tag_for(g), "granule %zu at %p has tag %u after the move, want %u", g, (void *)at, tag, tag_for(g));
        unsigned char v = *(volatile unsigned char *)mte_tagged(at, tag);
        CHECK(v == (unsigned char)g, "granule %zu reads 0x%02x through its tag, want 0x%02x", g, v, (unsigned char)g);
    }
    for (size_t off = PAGES * PAGE; off < 2 * PAGES * PAGE; off += MTE_GRANULE)
        CHECK(mte_ldg(q + off) == 0, "grown part at offset %zu has tag %u, want 0", off, mte_ldg(q + off));
    printf("mremap_mte: %lu granules kept their tags and data across a move; the grown part has tag 0\n",
           PAGES * PAGE / MTE_GRANULE);

    /* A wrong tag still faults at the new address: the entry is tagged. */
    uintptr_t pc;
    catch_signal(SIGSEGV, 0, 1);
    load_byte_at(mte_tagged(q, tag_for(0) ^ 1), &pc);
    CHECK(caught()->count == 1 && caught()->code == SEGV_MTESERR,
          "a load through a wrong tag after the move gave %s; want SIGSEGV, SEGV_MTESERR", caught_str());
    signal(SIGSEGV, SIG_DFL);
    printf("mremap_mte: a load through a wrong tag at the new address is a tag-check fault\n");

    /* MREMAP_DONTUNMAP: tags go with the frames, the old range is fresh. */
    unsigned char *d = mremap(q, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL);
    CHECK(d != MAP_FAILED, "MREMAP_DONTUNMAP: %m");
    for (size_t g = 0; g < PAGE / MTE_GRANULE; g++) {
        CHECK(mte_ldg(d + g * MTE_GRANULE) == tag_for(g), "DONTUNMAP destination granule %zu has tag %u, want %u", g,
              mte_ldg(d + g * MTE_GRANULE), tag_for(g));
        CHECK(mte_ldg(q + g * MTE_GRANULE) == 0, "the old range's granule %zu has tag %u, want 0", g,
              mte_ldg(q + g * MTE_GRANULE));
    }
    CHECK(q[0] == 0, "the old range reads 0x%02x, want 0", q[0]);
    q[1] = 1; /* untagged pointer, tag 0 memory: no fault */
    printf("mremap_mte: after MREMAP_DONTUNMAP the tags are at the destination, the old range has tag 0\n");
    return 0;
}
