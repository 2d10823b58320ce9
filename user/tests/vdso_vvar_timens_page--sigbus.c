/*
 * vdso_vvar_timens_page--sigbus: [vvar] is two pages below [vdso], as on
 * Linux 6.1: the data page, then the page kept for time namespaces, which
 * outside a time namespace has nothing behind it: a read of it is SIGBUS
 * (Linux's vvar_fault returns VM_FAULT_SIGBUS). The data page reads.
 */
#include <stdio.h>
#include <sys/auxv.h>

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    unsigned long vdso = getauxval(AT_SYSINFO_EHDR);
    if (vdso == 0) {
        printf("vdso_vvar_timens_page: no vDSO\n");
        return 1;
    }
    volatile unsigned *data = (volatile unsigned *)(vdso - 2 * 4096);
    volatile unsigned *timens = (volatile unsigned *)(vdso - 4096);
    printf("vdso_vvar_timens_page: vvar data page seq %u; reading the time-namespace page\n", *data);
    printf("vdso_vvar_timens_page: read %u from it: want SIGBUS\n", *timens);
    return 0;
}
