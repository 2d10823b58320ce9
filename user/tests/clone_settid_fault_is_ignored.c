/*
 * clone_settid_fault_is_ignored: clone(2) with CLONE_PARENT_SETTID or
 * CLONE_CHILD_SETTID and a tid pointer the kernel cannot write still
 * makes the child. Linux 6.1's kernel_clone calls put_user(nr,
 * parent_tid) and schedule_tail put_user(pid, set_child_tid), and neither
 * looks at the result. Pointers tried: unmapped, and tagged with the
 * tagged-address ABI off (access_ok refuses them); with the ABI on the
 * tagged pointer is written.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <sys/wait.h>

#include "refpage_test.h"

#define TAGGED(p) ((void *)((unsigned long)(p) | (0x5aUL << 56)))

static char stack[16384];

static int child(void *arg)
{
    (void)arg;
    return 7;
}

static void try_clone(const char *what, int flags, void *ptid, void *ctid, int *written)
{
    errno = 0;
    int pid = clone(child, stack + sizeof(stack), flags | SIGCHLD, NULL, ptid, NULL, ctid);
    CHECK(pid > 0, "%s: clone returned %d errno %d; Linux ignores the failed tid write", what, pid, errno);
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid, "%s: waitpid errno %d", what, errno);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 7, "%s: child status %#x", what, status);
    if (written)
        CHECK(*written == pid, "%s: tid word %d, want %d", what, *written, pid);
}

int main(void)
{
    void *unmapped = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(unmapped != MAP_FAILED && munmap(unmapped, 4096) == 0, "mmap/munmap: errno %d", errno);
    int ptid = 0, ctid = 0;
    try_clone("PARENT_SETTID unmapped", CLONE_PARENT_SETTID, unmapped, NULL, NULL);
    try_clone("CHILD_SETTID unmapped (fork)", CLONE_CHILD_SETTID, NULL, unmapped, NULL);
    try_clone("CHILD_SETTID unmapped (CLONE_VM)", CLONE_VM | CLONE_CHILD_SETTID, NULL, unmapped, NULL);
    try_clone("PARENT_SETTID tagged, ABI off", CLONE_PARENT_SETTID, TAGGED(&ptid), NULL, NULL);
    CHECK(ptid == 0, "a tagged parent_tid with the ABI off was written: %d", ptid);
    try_clone("CHILD_SETTID tagged, ABI off", CLONE_VM | CLONE_CHILD_SETTID, NULL, TAGGED(&ctid), NULL);
    CHECK(ctid == 0, "a tagged child_tid with the ABI off was written: %d", ctid);
    if (prctl(PR_SET_TAGGED_ADDR_CTRL, PR_TAGGED_ADDR_ENABLE, 0, 0, 0) == 0) {
        try_clone("PARENT_SETTID tagged, ABI on", CLONE_PARENT_SETTID, TAGGED(&ptid), NULL, &ptid);
        try_clone("CHILD_SETTID tagged, ABI on", CLONE_VM | CLONE_CHILD_SETTID, NULL, TAGGED(&ctid), &ctid);
    }
    return 0;
}
