/*
 * mte_async_fault_siginfo: with asynchronous tag checking
 * (PR_MTE_TCF_ASYNC), a mismatching load completes (it returns the data)
 * and the fault is only recorded (TFSRE0_EL1.TF0); the kernel notices it on
 * its next entry from the program, here the getpid() system call, and
 * sends SIGSEGV with si_code SEGV_MTEAERR (8) and si_addr 0. One fault gives
 * one signal: the record is cleared. With sync|async requested, the mode in
 * force is async (Linux's default preferred mode). Skipped (exit 0) without
 * HWCAP2_MTE.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "refpage_test.h"

#define PAGE 4096

static void async_fault_then_syscall(volatile unsigned char *p, const char *mode)
{
    struct caught *c = caught();
    /* Resume at pc for the asynchronous signal (it points after the svc);
     * a synchronous fault, which would be wrong here, is skipped so that
     * the check below reports it. */
    catch_signal(SIGSEGV, 0, 1);
    c->skip_code = SEGV_MTESERR;
    uintptr_t pc;
    uint64_t v = load_byte_at(mte_tagged(p + 1, 0xe), &pc);
    int before = c->count;
    CHECK(!(before && c->code == SEGV_MTESERR),
          "%s: the mismatching load raised a synchronous fault (%s): async mode is not in force",
          mode, caught_str());
    CHECK(v == 0x42, "%s: the mismatching load returned %#lx, want the data 0x42", mode,
          (unsigned long)v);
    syscall(SYS_getpid);
    CHECK(c->count == 1 && c->signo == SIGSEGV && c->code == SEGV_MTEAERR && c->addr == 0,
          "%s: after a mismatching load and getpid(): want one SIGSEGV, SEGV_MTEAERR (8), "
          "si_addr 0; saw %s", mode, caught_str());
    printf("mte_async_fault_siginfo: %s: the load returned the data; SIGSEGV SEGV_MTEAERR, "
           "si_addr 0, by the next system call (%s)\n",
           mode, before ? "already at the load" : "not before it");
    syscall(SYS_getpid);
    syscall(SYS_getpid);
    CHECK(c->count == 1, "%s: more system calls after one fault: %s", mode, caught_str());
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    MTE_SKIP_UNLESS_SUPPORTED("mte_async_fault_siginfo");

    volatile unsigned char *p = map_anonymous(PAGE, PROT_READ | PROT_WRITE | PROT_MTE);
    mte_stg(p, 2);
    *(volatile unsigned char *)mte_tagged(p + 1, 2) = 0x42;

    mte_set_ctrl(MTE_CTRL(PR_MTE_TCF_ASYNC));
    catch_signal(SIGSEGV, 0, 0);
    uintptr_t pc;
    uint64_t v = load_byte_at(mte_tagged(p + 1, 2), &pc);
    syscall(SYS_getpid);
    CHECK(v == 0x42 && caught()->count == 0, "async, right tag: %#lx, %s", (unsigned long)v,
          caught_str());
    printf("mte_async_fault_siginfo: async, right tag: no signal\n");

    async_fault_then_syscall(p, "async");
    mte_set_ctrl(MTE_CTRL(PR_MTE_TCF_SYNC | PR_MTE_TCF_ASYNC));
    async_fault_then_syscall(p, "sync|async");
    printf("mte_async_fault_siginfo: one signal per fault; the record is cleared\n");
    return 0;
}
