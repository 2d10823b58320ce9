/*
 * clone_settid_fault_ignored: clone's CLONE_PARENT_SETTID and
 * CLONE_CHILD_SETTID stores are best effort: an unwritable address does not
 * fail the call, the child is made and runs (Linux 6.1's kernel_clone
 * ignores put_user's result for the parent's, and schedule_tail for the
 * child's). With CLONE_VM and without (fork).
 */
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "refpage_test.h"

#ifndef CLONE_PARENT_SETTID
#define CLONE_PARENT_SETTID 0x00100000
#define CLONE_CHILD_SETTID 0x01000000
#endif
#define CLONE_VFORK_VM (0x00004000 | 0x00000100)

int main(void)
{
    void *bad = (void *)8;
    /* A fork: the child has its own copy of the stack. */
    long pid = syscall(SYS_clone, SIGCHLD | CLONE_PARENT_SETTID | CLONE_CHILD_SETTID, 0, bad, 0, bad);
    if (pid == 0)
        syscall(SYS_exit, 42);
    CHECK(pid > 0, "fork-style clone with unwritable tid pointers: %ld (%m), want a child", pid);
    int status;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 42,
          "the child's status %#x, want exit 42", status);
    /* vfork-style (CLONE_VM | CLONE_VFORK): the parent sleeps until the
     * child exits, so they never run on the stack together. */
    pid = syscall(SYS_clone, SIGCHLD | CLONE_VFORK_VM | CLONE_PARENT_SETTID | CLONE_CHILD_SETTID, 0, bad, 0, bad);
    if (pid == 0)
        syscall(SYS_exit, 43);
    CHECK(pid > 0, "vfork-style clone with unwritable tid pointers: %ld (%m), want a child", pid);
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 43,
          "the vfork child's status %#x, want exit 43", status);
    printf("clone with unwritable SETTID pointers: children made and run\n");
    return 0;
}
