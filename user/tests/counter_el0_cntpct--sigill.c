/*
 * counter_el0_cntpct--sigill: the physical counter stays closed to EL0, as
 * Linux leaves CNTKCTL_EL1.EL0PCTEN clear (arch_counter_set_user_access):
 * `mrs x0, cntpct_el0` at EL0 traps (EC 0x18) and, with no emulation for
 * it, the program is killed by SIGILL. The virtual counter, read first, is
 * open.
 */
#include <stdint.h>
#include <stdio.h>

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    uint64_t v;
    __asm__ volatile("mrs %0, cntvct_el0" : "=r"(v));
    printf("counter_el0_cntpct: CNTVCT_EL0 read %llu; now CNTPCT_EL0, which must be SIGILL\n",
           (unsigned long long)v);
    __asm__ volatile("mrs %0, cntpct_el0" : "=r"(v));
    printf("counter_el0_cntpct: CNTPCT_EL0 read %llu at EL0: it should have trapped\n",
           (unsigned long long)v);
    return 0;
}
