/*
 * brk_instruction--sigtrap: a BRK instruction with no SIGTRAP handler ends
 * the program with SIGTRAP (Linux: brk_handler -> SIGTRAP, TRAP_BRKPT;
 * the default action terminates).
 */
#include <stdio.h>

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("brk_instruction: executing brk #0x7 with SIGTRAP at its default action\n");
    __asm__ volatile("brk #0x7");
    printf("brk_instruction: FAIL: execution went on after the brk\n");
    return 1;
}
