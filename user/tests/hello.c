/*
 * hello: glibc's stdio reaches fd 1. printf returns the number of bytes it
 * formatted, and fflush makes the write(2) happen here, so a kernel whose
 * write fails or comes up short is caught by fflush's result.
 */
#include <stdio.h>
#include <string.h>

#include "refpage_test.h"

int main(void)
{
    const char *greeting = "hello from glibc\n";
    int n = printf("hello from glibc\n");
    CHECK(n == (int)strlen(greeting), "printf returned %d, want %zu", n, strlen(greeting));
    int flushed = fflush(stdout);
    CHECK(flushed == 0 && !ferror(stdout), "fflush(stdout) returned %d (%m)", flushed);
    return 0;
}
