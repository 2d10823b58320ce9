/*
 * mte_tco_is_the_tasks_after_blocking: PSTATE.TCO belongs to the task
 * (Linux's mte_thread_switch), and the kernel's own accesses to an
 * async-mode task's memory never come back to it as SEGV_MTEAERR (Linux's
 * clear_mte_async_tcf). Each case: the task blocks in wait4 until a child
 * in another mode exits, so it resumes in the kernel after that child, and
 * wait4 then writes the status through a pointer tagged 5 to memory
 * tagged 3.
 * - sync, after a child with checks off: EFAULT, no signal. (Before the
 *   fix the task ran on with the TCO the child left, checks off, and got
 *   the pid back.)
 * - async, after a sync-mode child (whose kernel entries clear TCO): the
 *   pid, the status written, and no signal at the next system calls.
 *   (Before: SEGV_MTEAERR at the next system call.)
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

static volatile unsigned char *buf;

/* In mode `mine`, waits with wait4 for a child in mode `childs` that
 * sleeps 50 ms (the parent blocks meanwhile) and exits 7, with the status
 * pointer's tag wrong. Returns wait4's result, errno in *err. */
static pid_t wait_blocked_through_wrong_tag(unsigned long mine, unsigned long childs, pid_t *child, int *err)
{
    mte_set_ctrl(MTE_CTRL(mine));
    pid_t pid = fork_checked();
    if (pid == 0) {
        mte_set_ctrl(MTE_CTRL(childs));
        sleep_ns(50 * 1000 * 1000);
        _exit(7);
    }
    *child = pid;
    errno = 0;
    pid_t r = wait4(pid, mte_tagged(buf, 5), 0, NULL);
    *err = errno;
    return r;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    MTE_SKIP_UNLESS_SUPPORTED("mte_tco_is_the_tasks_after_blocking");
    buf = map_anonymous(4096, PROT_READ | PROT_WRITE | PROT_MTE);
    mte_stg(buf, 3);
    catch_signal(SIGSEGV, 0, 1);
    caught()->skip_code = SEGV_MTESERR;
    pid_t child;
    int e;

    pid_t r = wait_blocked_through_wrong_tag(PR_MTE_TCF_SYNC, PR_MTE_TCF_NONE, &child, &e);
    CHECK(r == -1 && e == EFAULT, "sync, resumed after a child with checks off: wait4 returned %d, errno %d (%s); "
          "Linux gives -1, EFAULT", (int)r, e, strerror(e));
    CHECK(caught()->count == 0, "sync: wait4's tag-check fault raised a signal: %s", caught_str());
    /* Linux reaps the child before writing the status; either way it is gone after this. */
    int status;
    r = waitpid(child, &status, 0);
    CHECK(r == child || (r == -1 && errno == ECHILD), "second waitpid: %d, errno %d", (int)r, errno);
    printf("mte_tco_is_the_tasks_after_blocking: sync after checks-off child: wait4 -> EFAULT, no signal\n");

    r = wait_blocked_through_wrong_tag(PR_MTE_TCF_ASYNC, PR_MTE_TCF_SYNC, &child, &e);
    CHECK(r == child, "async, resumed after a sync-mode child: wait4 returned %d, errno %d (%s); want %d", (int)r, e,
          strerror(e), (int)child);
    status = *(volatile int *)mte_tagged(buf, 3);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 7, "async: status written: %s", wait_status_str(status));
    for (int i = 0; i < 3; i++)
        getppid();
    CHECK(caught()->count == 0, "async: the kernel's access through a mismatched tag came back as a signal: %s",
          caught_str());
    printf("mte_tco_is_the_tasks_after_blocking: async after sync child: wait4 -> pid, status written, no signal\n");
    return 0;
}
