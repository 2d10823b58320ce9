/*
 * populate_ended_by_exit_group_unblocks_shared_space: a thread ended by
 * its group's exit_group while it is inside a long populate (mlock of a
 * large area, which gives the CPU away between pages) no longer holds off
 * the calls that change the areas. On Linux the killed thread leaves
 * __mm_populate and drops mmap_lock; here the populate was a counter in
 * the address space that only the thread's own return undid, so a process
 * sharing the space with CLONE_VM, outside the group, waited in its next
 * mmap until the time limit.
 *
 * The root process R makes C with clone(CLONE_VM) (the same address space,
 * another thread group); C starts a thread T that mlocks 128 MiB and, once
 * the first page is resident (the populate is under way), calls
 * exit_group. R waits for C, then maps, unmaps and mprotects: each must
 * return, and the area T was locking is still R's to use.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mm_test.h"

#define LEN (128UL << 20)
#define STACK (64 << 10)

static unsigned char *area;
static atomic_int locking;
static unsigned char stack_group[STACK] __attribute__((aligned(16)));
static unsigned char stack_thread[STACK] __attribute__((aligned(16)));

/* T: the long populate. Raw system calls only (no errno, no TLS). */
static int locker(void *arg)
{
    (void)arg;
    atomic_store(&locking, 1);
    syscall(SYS_mlock, area, LEN);
    syscall(SYS_exit, 0);
    return 0;
}

/* C: starts T, waits until T's populate is under way, ends the group. */
static int group(void *arg)
{
    (void)arg;
    int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM;
    if (clone(locker, stack_thread + STACK, flags, NULL) < 0)
        syscall(SYS_exit_group, 3);
    while (!atomic_load(&locking))
        syscall(SYS_sched_yield);
    unsigned char v = 0;
    while (!(v & 1)) {
        if (syscall(SYS_mincore, area, PAGE, &v) != 0)
            syscall(SYS_exit_group, 4);
    }
    syscall(SYS_exit_group, 0);
    return 0;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    area = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(area != MAP_FAILED, "mmap: %m");
    pid_t c = clone(group, stack_group + STACK, CLONE_VM | SIGCHLD, NULL);
    CHECK(c > 0, "clone(CLONE_VM): %m");
    int status;
    CHECK(waitpid(c, &status, 0) == c, "waitpid: %m");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the group ended with status %#x", status);
    /* The populate was cut short: not every page is resident. */
    size_t resident = resident_pages(area, LEN / PAGE);
    printf("populate_ended_by_exit_group: %zu of %lu pages resident when the group ended\n", resident, LEN / PAGE);
    /* Each of these takes the address space's write side (Linux's
     * mmap_write_lock_killable): before the fix each waited for the dead
     * thread's populate until the time limit. */
    void *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED, "mmap after the group ended: %m");
    CHECK(mprotect(area, LEN, PROT_READ) == 0, "mprotect: %m");
    CHECK(munmap(p, PAGE) == 0, "munmap: %m");
    CHECK(munmap(area, LEN) == 0, "munmap of the area: %m");
    puts("populate_ended_by_exit_group: mmap, mprotect and munmap returned");
    return 0;
}
