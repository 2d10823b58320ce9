/*
 * pc_misaligned--sigbus: a branch to an address that is not a multiple of
 * 4 takes a PC alignment fault when the instruction is fetched; Linux
 * sends SIGBUS (BUS_ADRALN) and, with no handler, the program ends by it.
 */
#include <stdint.h>
#include <stdio.h>

static void target(void)
{
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    uintptr_t odd = (uintptr_t)&target + 2;
    printf("pc_misaligned: branching to %#lx (a function's address + 2)\n", (unsigned long)odd);
    __asm__ volatile("blr %0" : : "r"(odd) : "x30", "memory");
    printf("pc_misaligned: FAIL: execution came back from the misaligned branch\n");
    return 1;
}
