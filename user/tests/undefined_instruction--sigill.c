/*
 * undefined_instruction--sigill: an undefined instruction (0x00000000,
 * UDF #0) with no SIGILL handler ends the program with SIGILL.
 */
#include <stdio.h>

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("undefined_instruction: executing .inst 0x00000000 (UDF #0) with SIGILL at its default "
           "action\n");
    __asm__ volatile(".inst 0x00000000");
    printf("undefined_instruction: FAIL: execution went on after UDF #0\n");
    return 1;
}
