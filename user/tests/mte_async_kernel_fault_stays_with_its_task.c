/*
 * mte_async_kernel_fault_stays_with_its_task: an asynchronous tag check
 * fault that the kernel's own copy records (TFSRE0_EL1.TF0) while it works
 * for an async-mode task is not that task's (Linux drops it on the way
 * out: clear_mte_async_tcf), and never another task's. Here a child in
 * async mode writes a buffer whose pointer tag mismatches its memory into
 * a pipe with room for one page: the kernel copies that page (recording the
 * mismatch) and the child blocks. The parent, in sync mode, then makes
 * system calls: it must get no SIGSEGV (SEGV_MTEAERR), since the record
 * does not leave the child's kernel work (Linux clears TFSRE0_EL1 at every
 * kernel exit). The child completes its write and exits without a signal,
 * as on Linux. Skipped (exit 0) without HWCAP2_MTE.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "refpage_test.h"

#define PAGE 4096

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    MTE_SKIP_UNLESS_SUPPORTED("mte_async_kernel_fault_stays_with_its_task");

    int fds[2];
    CHECK(pipe(fds) == 0, "pipe: %s", strerror(errno));
    int size = fcntl(fds[1], F_GETPIPE_SZ);
    CHECK(size >= 2 * PAGE, "F_GETPIPE_SZ: %d", size);
    /* All but one page full. */
    static char fill[PAGE];
    for (int n = 0; n < size - PAGE; n += PAGE)
        CHECK(write(fds[1], fill, PAGE) == PAGE, "filling the pipe: %s", strerror(errno));

    mte_set_ctrl(MTE_CTRL(PR_MTE_TCF_SYNC));
    catch_signal(SIGSEGV, 0, 0);

    pid_t child = fork();
    CHECK(child >= 0, "fork: %s", strerror(errno));
    if (child == 0) {
        mte_set_ctrl(MTE_CTRL(PR_MTE_TCF_ASYNC));
        unsigned char *buf = map_anonymous(2 * PAGE, PROT_READ | PROT_WRITE | PROT_MTE);
        for (int g = 0; g < 2 * PAGE; g += 16)
            mte_stg(buf + g, 3);
        /* Tag 5 against memory tagged 3: every granule mismatches. */
        ssize_t w = write(fds[1], mte_tagged(buf, 5), 2 * PAGE);
        _exit(w == 2 * PAGE ? 0 : 10);
    }
    /* Let the child copy its first page and block on the full pipe. */
    struct timespec ts = {0, 100 * 1000 * 1000};
    nanosleep(&ts, NULL);
    for (int i = 0; i < 3; i++)
        syscall(SYS_getpid);
    CHECK(caught()->count == 0,
          "the sync-mode parent got a signal after the async child's system call copied a "
          "mismatching buffer and blocked: %s", caught_str());
    /* Drain the pipe so that the child's write completes. */
    static char sink[PAGE];
    for (int n = 0; n < size + PAGE; n += PAGE)
        CHECK(read(fds[0], sink, PAGE) == PAGE, "draining the pipe: %s", strerror(errno));
    int status;
    CHECK(waitpid(child, &status, 0) == child, "waitpid: %s", strerror(errno));
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "the child's write of two mismatching pages: status %#x (want exit 0, no signal)", status);
    CHECK(caught()->count == 0, "the parent got a signal: %s", caught_str());
    printf("mte_async_kernel_fault_stays_with_its_task: no signal to the sync-mode parent or the "
           "async child for the kernel's copy\n");
    return 0;
}
