/*
 * mte_async_task_resumed_after_block_no_uaccess_fault: an async-mode task
 * is never sent SEGV_MTEAERR for the kernel's own accesses to its memory
 * (Linux discards them: clear_mte_async_tcf clears TFSRE0_EL1 on the way
 * back to EL0, and mte_thread_switch sets the task's PSTATE.TCO). Here the
 * task blocks in wait4 and is resumed after a sync-mode task (whose kernel
 * entries clear TCO); wait4 then writes the status through a pointer whose
 * tag does not match. As on Linux it returns the pid, the status is
 * written, and no signal follows at the next system calls. Skipped (exit
 * 0) without HWCAP2_MTE.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "refpage_test.h"

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    MTE_SKIP_UNLESS_SUPPORTED("mte_async_task_resumed_after_block_no_uaccess_fault");
    volatile unsigned char *buf = map_anonymous(4096, PROT_READ | PROT_WRITE | PROT_MTE);
    mte_stg(buf, 3);
    int *wrong = mte_tagged(buf, 5); /* memory has tag 3 */
    catch_signal(SIGSEGV, 0, 0);
    mte_set_ctrl(MTE_CTRL(PR_MTE_TCF_ASYNC));

    pid_t pid = fork_checked();
    if (pid == 0) {
        /* Sync mode: each kernel entry of this task clears TCO. */
        mte_set_ctrl(MTE_CTRL(PR_MTE_TCF_SYNC));
        sleep_ns(50 * 1000 * 1000); /* the parent blocks in wait4 meanwhile */
        _exit(7);
    }
    errno = 0;
    pid_t r = wait4(pid, wrong, 0, NULL);
    int e = errno;
    CHECK(r == pid, "async mode: wait4 through a mismatched tag returned %d, errno %d (%s); want %d",
          (int)r, e, strerror(e), (int)pid);
    int status = *(volatile int *)mte_tagged(buf, 3);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 7, "status written: %s",
          wait_status_str(status));
    for (int i = 0; i < 3; i++)
        getppid();
    CHECK(caught()->count == 0, "the kernel's access to a mismatched tag came back as a signal: %s",
          caught_str());
    printf("mte_async_task_resumed_after_block_no_uaccess_fault: wait4 -> pid, status written, no signal\n");
    return 0;
}
