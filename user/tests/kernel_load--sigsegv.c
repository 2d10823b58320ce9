/*
 * kernel_load--sigsegv: EL0 cannot read the kernel image. A load from
 * 0xffff800000000000 (where this kernel links its image; a TTBR1 address
 * on any arm64 Linux) must be a fault the kernel turns into SIGSEGV, which
 * kills the program. The runner expects death by SIGSEGV.
 */
#include <stdio.h>

#include "refpage_test.h"

int main(void)
{
    /* volatile pointer: the compiler may neither drop the load nor reason
     * about the constant address. */
    volatile long *volatile kernel_image = (volatile long *)0xffff800000000000UL;

    printf("kernel_load: reading %p from EL0; expect SIGSEGV\n", (void *)kernel_image);
    fflush(stdout);
    long value = *kernel_image;
    printf("kernel_load: read 0x%lx: the kernel image is readable from EL0\n", value);
    return 1;
}
