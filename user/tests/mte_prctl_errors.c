/*
 * mte_prctl_errors: PR_SET_TAGGED_ADDR_CTRL refuses with EINVAL an argument
 * with a bit it does not know (below bit 0 of the include mask's top, i.e.
 * anything outside PR_TAGGED_ADDR_ENABLE | PR_MTE_TCF_MASK | PR_MTE_TAG_MASK)
 * and non-zero arguments 3, 4 or 5; PR_GET_TAGGED_ADDR_CTRL refuses
 * non-zero arguments 2 to 5 (Linux kernel/sys.c). A refused SET changes
 * nothing. Skipped (exit 0) without HWCAP2_MTE.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include "refpage_test.h"

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    MTE_SKIP_UNLESS_SUPPORTED("mte_prctl_errors");

    const unsigned long good = MTE_CTRL(PR_MTE_TCF_SYNC);
    mte_set_ctrl(good);

    static const unsigned long unknown[] = {1UL << 19, 1UL << 20, 1UL << 31, 1UL << 32, 1UL << 63};
    for (unsigned i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        CHECK_ERRNO(prctl(PR_SET_TAGGED_ADDR_CTRL, good | unknown[i], 0, 0, 0), EINVAL);
        long got = prctl(PR_GET_TAGGED_ADDR_CTRL, 0, 0, 0, 0);
        CHECK(got == (long)good, "after a refused SET with bit %#lx, GET returned %#lx, want %#lx",
              unknown[i], got, good);
    }
    printf("mte_prctl_errors: SET with an unknown bit (19, 20, 31, 32, 63) -> EINVAL, state kept\n");

    CHECK_ERRNO(prctl(PR_SET_TAGGED_ADDR_CTRL, PR_TAGGED_ADDR_ENABLE, 1, 0, 0), EINVAL);
    CHECK_ERRNO(prctl(PR_SET_TAGGED_ADDR_CTRL, PR_TAGGED_ADDR_ENABLE, 0, 1, 0), EINVAL);
    CHECK_ERRNO(prctl(PR_SET_TAGGED_ADDR_CTRL, PR_TAGGED_ADDR_ENABLE, 0, 0, 1), EINVAL);
    long got = prctl(PR_GET_TAGGED_ADDR_CTRL, 0, 0, 0, 0);
    CHECK(got == (long)good, "after refused SETs with non-zero arg3..5, GET returned %#lx, want %#lx",
          got, good);
    printf("mte_prctl_errors: SET with non-zero arg3, arg4 or arg5 -> EINVAL, state kept\n");

    CHECK_ERRNO(prctl(PR_GET_TAGGED_ADDR_CTRL, 1, 0, 0, 0), EINVAL);
    CHECK_ERRNO(prctl(PR_GET_TAGGED_ADDR_CTRL, 0, 1, 0, 0), EINVAL);
    CHECK_ERRNO(prctl(PR_GET_TAGGED_ADDR_CTRL, 0, 0, 1, 0), EINVAL);
    CHECK_ERRNO(prctl(PR_GET_TAGGED_ADDR_CTRL, 0, 0, 0, 1), EINVAL);
    printf("mte_prctl_errors: GET with non-zero arg2, arg3, arg4 or arg5 -> EINVAL\n");
    return 0;
}
