/*
 * exec_stack_nested_function: a GCC nested function whose address escapes
 * runs through a trampoline GCC writes on the stack, so the program is
 * linked with an executable stack (PT_GNU_STACK with PF_X). Linux loads
 * such programs with the stack mapped executable; so does this kernel (the
 * stack pages are writable and executable at once). The call must return the
 * value computed from the enclosing frame, twice, with a write to the stack
 * in between.
 */
#include <stdio.h>

#include "refpage_test.h"

static int apply(int (*f)(int), int x)
{
    return f(x);
}

int main(void)
{
    int base = 40;
    int add_base(int x)
    {
        return x + base;
    }
    int first = apply(add_base, 2);
    base = 100; /* a store to the stack page the trampoline is on */
    int second = apply(add_base, 2);
    CHECK(first == 42 && second == 102, "nested function gave %d and %d, want 42 and 102", first, second);
    printf("exec_stack_nested_function: ok\n");
    return 0;
}
