/*
 * el0_dc_zva_wfi_wfe: the EL0 system state Linux sets up (SCTLR_EL1):
 * DZE, so DCZID_EL0.DZP reads 0 and DC ZVA zeroes a block at EL0 (glibc's
 * memset uses it when DZP is 0); nTWE, so WFE runs at EL0; WFI traps and
 * Linux treats it as a no-op (wfi_handler). Before, DZP read 1 and WFI and
 * WFE at EL0 were undefined instructions (SIGILL).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "refpage_test.h"

static unsigned char buf[4096] __attribute__((aligned(4096)));

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    uint64_t dczid;
    __asm__ volatile("mrs %0, dczid_el0" : "=r"(dczid));
    CHECK((dczid & 0x10) == 0, "DCZID_EL0 %#lx: DZP set, DC ZVA prohibited at EL0", (unsigned long)dczid);
    size_t block = 4u << (dczid & 0xf);
    memset(buf, 0xa5, sizeof(buf));
    __asm__ volatile("dc zva, %0" : : "r"(buf + block) : "memory");
    for (size_t i = 0; i < sizeof(buf); i++) {
        int zeroed = i >= block && i < 2 * block;
        CHECK(buf[i] == (zeroed ? 0 : 0xa5), "after DC ZVA of [%zu, %zu): byte %zu is %#x", block, 2 * block, i,
              buf[i]);
    }
    for (int i = 0; i < 3; i++)
        __asm__ volatile("wfi");
    __asm__ volatile("sevl\n\twfe");
    printf("el0_dc_zva_wfi_wfe: DZP 0, DC ZVA zeroed %zu bytes, WFI and WFE returned\n", block);
    return 0;
}
