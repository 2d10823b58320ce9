/*
 * mte_sync_task_resumed_after_block_checks_tags: PSTATE.TCO belongs to the
 * task (Linux's mte_thread_switch). A sync-mode task whose wait4 blocks and
 * is resumed after a task with tag checking off must still have its
 * system call's user accesses tag-checked: wait4 writing the status through
 * a pointer whose tag does not match the memory fails with EFAULT, as on
 * Linux, and raises no signal. (Before the fix the kernel resumed the task
 * with the TCO the child left, checks off, and wait4 returned the pid.)
 * Skipped (exit 0) without HWCAP2_MTE.
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
    MTE_SKIP_UNLESS_SUPPORTED("mte_sync_task_resumed_after_block_checks_tags");
    volatile unsigned char *buf = map_anonymous(4096, PROT_READ | PROT_WRITE | PROT_MTE);
    mte_stg(buf, 3);
    int *wrong = mte_tagged(buf, 5); /* memory has tag 3 */
    catch_signal(SIGSEGV, 0, 1);
    mte_set_ctrl(MTE_CTRL(PR_MTE_TCF_SYNC));

    pid_t pid = fork_checked();
    if (pid == 0) {
        /* Checks off here: every kernel entry of this task leaves TCO set. */
        mte_set_ctrl(MTE_CTRL(PR_MTE_TCF_NONE));
        sleep_ns(50 * 1000 * 1000); /* the parent blocks in wait4 meanwhile */
        _exit(7);
    }
    errno = 0;
    pid_t r = wait4(pid, wrong, 0, NULL);
    int e = errno;
    CHECK(r == -1 && e == EFAULT,
          "wait4 blocked, then wrote the status through a pointer tagged 5 to memory tagged 3: "
          "returned %d, errno %d (%s); Linux gives -1, EFAULT",
          (int)r, e, strerror(e));
    CHECK(caught()->count == 0, "wait4's own tag-check fault raised a signal: %s", caught_str());
    /* Linux reaps the child before writing the status; either way it is gone after this. */
    int status;
    r = waitpid(pid, &status, 0);
    CHECK(r == pid || (r == -1 && errno == ECHILD), "second waitpid: %d, errno %d", (int)r, errno);
    printf("mte_sync_task_resumed_after_block_checks_tags: wait4 after blocking -> EFAULT, no signal\n");
    return 0;
}
