/*
 * mte_irg_include_mask: IRG at EL0 draws only tags in the prctl include
 * mask (PR_MTE_TAG_MASK; the kernel programs GCR_EL1.Exclude with its
 * complement on every switch to the process). Including only tag 5 gives 5
 * every time; including none gives tag 0 (Arm ARM (DDI 0487K.a), IRG: it yields 0 when every
 * tag is excluded), which is also the state a program starts in (Linux's
 * default include mask is 0); including {3, 9} gives only 3 and 9, both
 * seen; including all gives many distinct tags. Skipped (exit 0) without
 * HWCAP2_MTE.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include "refpage_test.h"

#define DRAWS 512

/* Draws DRAWS tags; returns the set of tags seen, one bit per tag. */
static unsigned draw(void)
{
    static char base[16];
    unsigned seen = 0;
    for (int i = 0; i < DRAWS; i++)
        seen |= 1u << tag_of(mte_irg(base));
    return seen;
}

static void set_include(unsigned long include)
{
    mte_set_ctrl(PR_TAGGED_ADDR_ENABLE | PR_MTE_TCF_NONE | (include << PR_MTE_TAG_SHIFT));
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    MTE_SKIP_UNLESS_SUPPORTED("mte_irg_include_mask");

    unsigned seen = draw();
    CHECK(seen == 1u << 0, "at program start (include mask 0) IRG drew the tag set %#x, want only 0",
          seen);
    printf("mte_irg_include_mask: at program start IRG gives tag 0 (%d draws)\n", DRAWS);

    set_include(1u << 5);
    seen = draw();
    CHECK(seen == 1u << 5, "include {5}: IRG drew the tag set %#x, want only 5", seen);
    printf("mte_irg_include_mask: include {5}: IRG gives 5 every time\n");

    set_include(0);
    seen = draw();
    CHECK(seen == 1u << 0, "include {}: IRG drew the tag set %#x, want only 0", seen);
    printf("mte_irg_include_mask: include {}: IRG gives 0 every time\n");

    set_include((1u << 3) | (1u << 9));
    seen = draw();
    CHECK(seen == ((1u << 3) | (1u << 9)), "include {3, 9}: IRG drew the tag set %#x, want 0x208",
          seen);
    printf("mte_irg_include_mask: include {3, 9}: IRG gives 3 and 9, nothing else\n");

    set_include(0xfffe);
    seen = draw();
    CHECK(!(seen & 1) && __builtin_popcount(seen) >= 8,
          "include all but 0: IRG drew the tag set %#x, want no 0 and at least 8 tags", seen);
    printf("mte_irg_include_mask: include all but 0: IRG gives %d distinct tags, never 0\n",
           __builtin_popcount(seen));

    /* Back to none after a full mask: GCR_EL1 follows every SET. */
    set_include(0);
    seen = draw();
    CHECK(seen == 1u << 0, "include {} again: IRG drew the tag set %#x, want only 0", seen);
    printf("mte_irg_include_mask: include {} again: IRG gives 0\n");
    return 0;
}
