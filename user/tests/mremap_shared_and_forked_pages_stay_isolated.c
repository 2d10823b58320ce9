/*
 * mremap_shared_and_forked_pages_stay_isolated: moves of pages that another
 * mapping or process also sees, as on Linux 6.1 (mm/mremap.c).
 *  - MREMAP_DONTUNMAP of a MAP_SHARED mapping (allowed since Linux 5.13:
 *    vma_to_resize refuses only VM_DONTEXPAND and VM_PFNMAP): the new
 *    range shows the pages, and the old one, refaulted, the same shared
 *    pages, so writes through either are seen through the other.
 *  - A page shared copy-on-write with a forked child, moved by the parent
 *    with MREMAP_DONTUNMAP: the child still reads and then writes its
 *    own copy, the parent's moved page keeps the old value, the parent's
 *    old range reads zeros.
 *  - mremap, then fork: the child sees the moved pages; a write by either
 *    after the fork is not seen by the other.
 * Every frame is given back (the runner checks).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mm_test.h"

static void sync_read(int fd)
{
    char b;
    CHECK(read(fd, &b, 1) == 1, "read: %m");
}

static void sync_write(int fd)
{
    CHECK(write(fd, "x", 1) == 1, "write: %m");
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* DONTUNMAP of shared memory. */
    unsigned char *s = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(s != MAP_FAILED, "mmap: %m");
    for (int i = 0; i < 4; i++)
        s[i * PAGE] = (unsigned char)(0x30 + i);
    unsigned char *sn = mremap(s, 4 * PAGE, 4 * PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL);
    CHECK(sn != MAP_FAILED, "MREMAP_DONTUNMAP of a shared mapping: %m");
    for (int i = 0; i < 4; i++) {
        CHECK(sn[i * PAGE] == 0x30 + i, "moved shared page %d reads %#x", i, sn[i * PAGE]);
        CHECK(s[i * PAGE] == 0x30 + i, "the old range of a shared mapping reads %#x at page %d, want %#x",
              s[i * PAGE], i, 0x30 + i);
    }
    s[PAGE] = 0x99;
    CHECK(sn[PAGE] == 0x99, "a write through the old range is not seen at the new one");
    sn[2 * PAGE] = 0x98;
    CHECK(s[2 * PAGE] == 0x98, "a write through the new range is not seen at the old one");
    CHECK(munmap(s, 4 * PAGE) == 0 && munmap(sn, 4 * PAGE) == 0, "munmap: %m");
    printf("MREMAP_DONTUNMAP of MAP_SHARED: old and new ranges show the same pages\n");

    /* DONTUNMAP of a copy-on-write page shared with a child. */
    int to_child[2], to_parent[2];
    CHECK(pipe(to_child) == 0 && pipe(to_parent) == 0, "pipe: %m");
    unsigned char *c = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(c != MAP_FAILED, "mmap: %m");
    c[0] = 0x11;
    c[PAGE] = 0x12;
    pid_t pid = fork_checked();
    if (pid == 0) {
        sync_read(to_child[0]);
        if (c[0] != 0x11 || c[PAGE] != 0x12)
            _exit(3);
        c[0] = 0x55;
        sync_write(to_parent[1]);
        sync_read(to_child[0]);
        _exit(c[0] == 0x55 && c[PAGE] == 0x12 ? 0 : 4);
    }
    unsigned char *cn = mremap(c, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL);
    CHECK(cn != MAP_FAILED, "mremap: %m");
    CHECK(c[0] == 0 && c[PAGE] == 0, "the parent's old range reads %#x %#x, want zeros", c[0], c[PAGE]);
    sync_write(to_child[1]);
    sync_read(to_parent[0]);
    CHECK(cn[0] == 0x11, "the child's write reached the parent's moved page: %#x", cn[0]);
    cn[PAGE] = 0x66;
    sync_write(to_child[1]);
    int status = wait_for(pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child: %s", wait_status_str(status));
    CHECK(munmap(c, 2 * PAGE) == 0 && munmap(cn, 2 * PAGE) == 0, "munmap: %m");
    printf("a copy-on-write page moved with MREMAP_DONTUNMAP: parent and child stay apart\n");

    /* Move, then fork. */
    unsigned char *m = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(m != MAP_FAILED, "mmap: %m");
    CHECK(mprotect(m + 2 * PAGE, PAGE, PROT_NONE) == 0, "mprotect: %m");
    m[0] = 0x21;
    m[PAGE] = 0x22;
    unsigned char *mm = mremap(m, 2 * PAGE, 6 * PAGE, MREMAP_MAYMOVE);
    CHECK(mm != MAP_FAILED && mm != m, "grow across a PROT_NONE guard: %p %m", mm);
    pid = fork_checked();
    if (pid == 0) {
        if (mm[0] != 0x21 || mm[PAGE] != 0x22 || mm[5 * PAGE] != 0)
            _exit(3);
        mm[0] = 0x77;
        mm[5 * PAGE] = 0x78;
        sync_write(to_parent[1]);
        sync_read(to_child[0]);
        _exit(mm[PAGE] == 0x22 ? 0 : 4);
    }
    sync_read(to_parent[0]);
    CHECK(mm[0] == 0x21 && mm[5 * PAGE] == 0, "the child's writes after fork reached the parent: %#x %#x", mm[0],
          mm[5 * PAGE]);
    mm[PAGE] = 0x44;
    sync_write(to_child[1]);
    status = wait_for(pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child after move then fork: %s", wait_status_str(status));
    CHECK(munmap(mm, 6 * PAGE) == 0 && munmap(m + 2 * PAGE, PAGE) == 0, "munmap: %m");
    printf("mremap then fork: the moved pages are copy-on-write in both\n");
    return 0;
}
