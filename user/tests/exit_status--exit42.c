/*
 * exit_status--exit42: the value main returns reaches the parent as the
 * exit status (glibc's exit -> exit_group(42)). The runner expects 42.
 */
#include <stdio.h>

int main(void)
{
    printf("exit_status: returning 42 from main; the runner expects exit status 42\n");
    return 42;
}
