/*
 * exit_group_ends_threads_spinning_on_other_cpus: _exit (exit_group) in one
 * thread ends every thread of the process, also those running at EL0 on
 * other CPUs at that moment (Linux's zap_other_threads SIGKILLs them and
 * kicks their CPUs; each leaves through its own exit), and the parent gets
 * the status once the last is gone. A forked child pins one thread per CPU
 * (three on CPU 0 when there is one CPU), each spinning without a system
 * call; once every counter moves, the thread on CPU 1 calls _exit(42)
 * while the others, the leader among them, spin (smp_test.h: spin_group).
 * Five rounds; the parent wants status 42 within 2 s each time (the runner
 * checks that no frame or heap byte is left behind).
 * (smp_test.h: `SMP=4 ... NAME 4`.)
 */
#define _GNU_SOURCE
#include <stdio.h>

#include "smp_test.h"

#define ROUNDS 5

static int cpus;

static void exit_42(void)
{
    _exit(42);
}

static void child(void)
{
    spin_group(cpus, exit_42);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    cpus = test_cpus(argc, argv);
    unsigned long long ms = wait_rounds(ROUNDS, child, 42, "from _exit(42) in the thread on CPU 1");
    printf("exit_group_ends_threads_spinning_on_other_cpus: %d rounds of threads spinning on %d CPU(s) ended by "
           "_exit(42) in thread 1; the parent saw 42 (first round %llu ms)\n",
           ROUNDS, cpus, ms);
    return 0;
}
