/*
 * madvise_fork_advice_and_free: the advice fork honours, and MADV_FREE
 * (Linux 6.1's mm/madvise.c, kernel/fork.c dup_mmap):
 *   MADV_DONTFORK: the child has no mapping there (mincore: ENOMEM);
 *   MADV_DOFORK undoes it.
 *   MADV_WIPEONFORK: the child's mapping reads zeros, the parent keeps its
 *   data; EINVAL on shared memory and a refpage mapping (a file);
 *   MADV_KEEPONFORK undoes it. "dc" and "wf" show in VmFlags.
 *   MADV_FREE: private anonymous memory only (EINVAL on shared memory);
 *   the pages go at once here, so the range reads zeros and is not
 *   resident. MADV_DONTNEED_LOCKED drops locked pages, which
 *   MADV_DONTNEED refuses.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mm_test.h"

#ifndef MADV_DONTNEED_LOCKED
#define MADV_DONTNEED_LOCKED 24
#endif

/* Runs `f(arg)` in a child; its exit status. */
static int in_child(int (*f)(unsigned char *), unsigned char *arg)
{
    pid_t pid = fork();
    CHECK(pid >= 0, "fork: %m");
    if (pid == 0)
        _exit(f(arg));
    int status;
    CHECK(waitpid(pid, &status, 0) == pid, "waitpid: %m");
    CHECK(WIFEXITED(status), "child killed: status %#x", status);
    return WEXITSTATUS(status);
}

static int unmapped_in_child(unsigned char *p)
{
    unsigned char v;
    return mincore(p, PAGE, &v) == -1 && errno == ENOMEM ? 0 : 1;
}

static int zero_in_child(unsigned char *p)
{
    for (int i = 0; i < 4 * PAGE; i++)
        if (p[i] != 0)
            return 1;
    return 0;
}

static int data_in_child(unsigned char *p)
{
    return p[0] == 0x5a && p[3 * PAGE] == 0x5a ? 0 : 1;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    unsigned char *p = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED, "mmap: %m");
    memset(p, 0x5a, 4 * PAGE);

    CHECK(madvise(p, 4 * PAGE, MADV_DONTFORK) == 0, "MADV_DONTFORK: %m");
    CHECK(strstr(smaps_vmflags(p), " dc ") != NULL, "no dc in VmFlags:%s", smaps_vmflags(p));
    CHECK(in_child(unmapped_in_child, p) == 0, "MADV_DONTFORK: the child has the mapping");
    CHECK(madvise(p, 4 * PAGE, MADV_DOFORK) == 0, "MADV_DOFORK: %m");
    CHECK(in_child(data_in_child, p) == 0, "MADV_DOFORK: the child does not see the data");
    printf("MADV_DONTFORK: no mapping in the child; MADV_DOFORK: the data again\n");

    CHECK(madvise(p, 4 * PAGE, MADV_WIPEONFORK) == 0, "MADV_WIPEONFORK: %m");
    CHECK(strstr(smaps_vmflags(p), " wf ") != NULL, "no wf in VmFlags:%s", smaps_vmflags(p));
    CHECK(in_child(zero_in_child, p) == 0, "MADV_WIPEONFORK: the child reads data");
    CHECK(p[0] == 0x5a && p[4 * PAGE - 1] == 0x5a, "the parent lost its data");
    CHECK(madvise(p, 4 * PAGE, MADV_KEEPONFORK) == 0, "MADV_KEEPONFORK: %m");
    CHECK(in_child(data_in_child, p) == 0, "MADV_KEEPONFORK: the child does not see the data");
    unsigned char *sh = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK_ERRNO(madvise(sh, PAGE, MADV_WIPEONFORK), EINVAL);
    static const unsigned char content[16] = "0123456789abcdef";
    int fd = refpage_create(content, sizeof content, 0);
    unsigned char *r = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 0);
    CHECK(r != MAP_FAILED, "mmap refpage: %m");
    CHECK_ERRNO(madvise(r, PAGE, MADV_WIPEONFORK), EINVAL);
    printf("MADV_WIPEONFORK: zeros in the child, data in the parent; EINVAL on shared and refpage memory\n");

    CHECK(madvise(p, 2 * PAGE, MADV_FREE) == 0, "MADV_FREE: %m");
    CHECK(resident_pages(p, 4) == 2, "after MADV_FREE of 2 pages: %zu resident", resident_pages(p, 4));
    CHECK(p[0] == 0 && p[PAGE] == 0 && p[2 * PAGE] == 0x5a, "MADV_FREE: %#x %#x %#x", p[0], p[PAGE], p[2 * PAGE]);
    CHECK_ERRNO(madvise(sh, PAGE, MADV_FREE), EINVAL);
    CHECK_ERRNO(madvise(r, PAGE, MADV_FREE), EINVAL);
    printf("MADV_FREE: freed at once (zeros), EINVAL on shared memory and refpage mappings\n");

    CHECK(mlock(p, 4 * PAGE) == 0, "mlock: %m");
    p[0] = 1;
    CHECK_ERRNO(madvise(p, 4 * PAGE, MADV_DONTNEED), EINVAL);
    CHECK_ERRNO(madvise(p, 4 * PAGE, MADV_FREE), EINVAL);
    CHECK(p[0] == 1, "refused advice dropped a locked page");
    CHECK(madvise(p, 4 * PAGE, MADV_DONTNEED_LOCKED) == 0, "MADV_DONTNEED_LOCKED: %m");
    CHECK(p[0] == 0 && p[3 * PAGE] == 0, "MADV_DONTNEED_LOCKED kept the data");
    printf("locked memory: MADV_DONTNEED and MADV_FREE EINVAL, MADV_DONTNEED_LOCKED drops it\n");
    return 0;
}
