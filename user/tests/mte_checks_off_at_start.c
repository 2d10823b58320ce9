/*
 * mte_checks_off_at_start: a program starts with tag checking off (Linux
 * resets the tag-check state at execve): with no prctl call, loads and
 * stores through a wrong tag to PROT_MTE memory neither fault nor raise an
 * asynchronous SIGSEGV at the next system call, whatever mode the program
 * run before this one left behind (the runner runs tests in name order;
 * mte_async_fault_siginfo, run earlier, ends in async mode). Skipped
 * (exit 0) without HWCAP2_MTE.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "refpage_test.h"

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    MTE_SKIP_UNLESS_SUPPORTED("mte_checks_off_at_start");

    long ctrl = prctl(PR_GET_TAGGED_ADDR_CTRL, 0, 0, 0, 0);
    CHECK(ctrl == 0, "PR_GET_TAGGED_ADDR_CTRL at start: %#lx, want 0", ctrl);
    volatile unsigned char *p = map_anonymous(4096, PROT_READ | PROT_WRITE | PROT_MTE);
    mte_stg(p, 0xc);
    catch_signal(SIGSEGV, 0, 1);
    caught()->skip_code = SEGV_MTESERR;
    uintptr_t pc;
    store_byte_at(mte_tagged(p + 1, 3), 0x99, &pc);
    uint64_t v = load_byte_at(mte_tagged(p + 1, 4), &pc);
    syscall(SYS_getpid);
    CHECK(v == 0x99 && caught()->count == 0,
          "wrong-tag store and load at start: the load gave %#lx; %s", (unsigned long)v,
          caught_str());
    printf("mte_checks_off_at_start: no prctl: wrong-tag accesses to PROT_MTE memory are not "
           "checked (no fault, no async signal)\n");
    return 0;
}
