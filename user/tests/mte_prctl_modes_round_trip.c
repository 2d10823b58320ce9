/*
 * mte_prctl_modes_round_trip: PR_GET_TAGGED_ADDR_CTRL returns what
 * PR_SET_TAGGED_ADDR_CTRL stored (Linux get_mte_ctrl), for every tag-check
 * mode (none, sync, async, and sync|async, which reads back as both even
 * though the mode in force is the CPU's preferred one), with and without
 * PR_TAGGED_ADDR_ENABLE, and for include masks from none to all 16 tags.
 * A new program starts with 0: the ABI off, checking off, include mask 0.
 * Skipped (exit 0) without HWCAP2_MTE.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include "refpage_test.h"

static void round_trip(unsigned long ctrl, const char *what)
{
    int r = prctl(PR_SET_TAGGED_ADDR_CTRL, ctrl, 0, 0, 0);
    CHECK(r == 0, "%s: SET %#lx returned %d, errno %d (%s)", what, ctrl, r, errno, strerror(errno));
    long got = prctl(PR_GET_TAGGED_ADDR_CTRL, 0, 0, 0, 0);
    CHECK(got == (long)ctrl, "%s: SET %#lx, GET returned %#lx (errno %d)", what, ctrl, got, errno);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    MTE_SKIP_UNLESS_SUPPORTED("mte_prctl_modes_round_trip");

    long initial = prctl(PR_GET_TAGGED_ADDR_CTRL, 0, 0, 0, 0);
    CHECK(initial == 0, "GET at program start returned %#lx (errno %d), want 0", initial, errno);
    printf("mte_prctl_modes_round_trip: at start GET returns 0 (ABI off, TCF none, include 0)\n");

    static const struct {
        unsigned long tcf;
        const char *name;
    } modes[] = {
        {PR_MTE_TCF_NONE, "none"},
        {PR_MTE_TCF_SYNC, "sync"},
        {PR_MTE_TCF_ASYNC, "async"},
        {PR_MTE_TCF_SYNC | PR_MTE_TCF_ASYNC, "sync|async"},
    };
    static const unsigned long includes[] = {0, 0xffff, 0xfffe, 0x0001, 0x8000, 0x1234, 0x0020};
    for (unsigned m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
        for (unsigned i = 0; i < sizeof(includes) / sizeof(includes[0]); i++) {
            for (unsigned long abi = 0; abi <= PR_TAGGED_ADDR_ENABLE; abi++) {
                unsigned long ctrl = abi | modes[m].tcf | (includes[i] << PR_MTE_TAG_SHIFT);
                char what[64];
                snprintf(what, sizeof(what), "TCF %s, include %#lx, ABI %s", modes[m].name,
                         includes[i], abi ? "on" : "off");
                round_trip(ctrl, what);
            }
        }
        printf("mte_prctl_modes_round_trip: TCF %s: GET returns what SET stored, for %zu include "
               "masks, ABI on and off\n", modes[m].name, sizeof(includes) / sizeof(includes[0]));
    }

    round_trip(0, "back to 0");
    printf("mte_prctl_modes_round_trip: SET 0 reads back 0\n");
    return 0;
}
