/*
 * mte_execve_discards_async_fault: an asynchronous tag-check fault still
 * unreported when execve() is called (the mismatching load comes right
 * before the svc, with no kernel entry in between) belongs to the old image
 * and is discarded with it: Linux's flush_thread -> mte_thread_init_user
 * clears TFSRE0_EL1 and TIF_MTE_ASYNC_FAULT before the fault becomes a
 * signal, so the new image is not killed by SIGSEGV (SEGV_MTEAERR). It then
 * runs with checking off. The program runs itself again with the argument
 * "after-exec". Skipped (exit 0) without HWCAP2_MTE.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "refpage_test.h"

extern char **environ;

static int after_exec(void)
{
    check_mte_control_after_exec();
    printf("mte_execve_discards_async_fault: new image runs: no SIGSEGV from the old image's "
           "async fault; GET 0, IRG tag 0, no tag checks\n");
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    MTE_SKIP_UNLESS_SUPPORTED("mte_execve_discards_async_fault");
    if (argc > 1 && strcmp(argv[1], "after-exec") == 0)
        return after_exec();

    volatile unsigned char *p = map_anonymous(4096, PROT_READ | PROT_WRITE | PROT_MTE);
    mte_stg(p, 0x2);
    mte_set_ctrl(MTE_CTRL(PR_MTE_TCF_ASYNC));
    /* Should a timer interrupt come between the load and the svc, the old
     * image gets the SIGSEGV and returns to the svc (the check is then
     * vacuous, not failed); execve resets this handler either way. */
    catch_signal(SIGSEGV, 0, 0);
    printf("mte_execve_discards_async_fault: async mode, include all but 0; a wrong-tag load, then "
           "execve(%s, after-exec)\n", argv[0]);
    fflush(stdout);

    char *args[] = {argv[0], "after-exec", NULL};
    register long x0 __asm__("x0") = (long)argv[0];
    register long x1 __asm__("x1") = (long)args;
    register long x2 __asm__("x2") = (long)environ;
    register long x8 __asm__("x8") = SYS_execve;
    const volatile unsigned char *bad = mte_tagged(p, 0xd);
    /* The mismatching load, then execve, with no kernel entry between. */
    __asm__ volatile("ldrb w9, [%[bad]]\n\tsvc #0"
                     : "+r"(x0)
                     : [bad] "r"(bad), "r"(x1), "r"(x2), "r"(x8)
                     : "x9", "memory");
    CHECK(0, "execve returned %ld", x0);
    return 1;
}
