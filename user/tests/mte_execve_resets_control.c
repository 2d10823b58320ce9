/*
 * mte_execve_resets_control: execve() resets the tag-check state (Linux's
 * flush_thread: mte_thread_init_user and flush_tagged_addr_state): the new
 * image reads PR_GET_TAGGED_ADDR_CTRL 0, IRG gives tag 0 (include mask 0),
 * wrong-tag accesses to PROT_MTE memory are not checked. The program sets
 * sync checking with a non-zero include mask, then runs itself again with
 * the argument "after-exec". Skipped (exit 0) without HWCAP2_MTE.
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
    printf("mte_execve_resets_control: new image: GET 0, IRG tag 0, no tag checks\n");
    return 0;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    MTE_SKIP_UNLESS_SUPPORTED("mte_execve_resets_control");
    if (argc > 1 && strcmp(argv[1], "after-exec") == 0)
        return after_exec();

    mte_set_ctrl(MTE_CTRL(PR_MTE_TCF_SYNC));
    printf("mte_execve_resets_control: sync mode, include all but 0; execve(%s, after-exec)\n",
           argv[0]);
    fflush(stdout);
    char *args[] = {argv[0], "after-exec", NULL};
    execve(argv[0], args, environ);
    CHECK(0, "execve returned: errno %d (%s)", errno, strerror(errno));
    return 1;
}
