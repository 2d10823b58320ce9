/*
 * spin--timeout: a program that never makes a system call still gets
 * stopped: the timer interrupt preempts EL0 and the kernel's per-program
 * time limit ends it. The runner expects the time limit to fire.
 */
#include <stdio.h>

int main(void)
{
    printf("spin: looping without system calls until the time limit stops this program\n");
    fflush(stdout);
    volatile unsigned long counter = 0;
    for (;;)
        counter++;
}
