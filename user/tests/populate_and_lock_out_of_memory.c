/*
 * populate_and_lock_out_of_memory: populating or locking more than there
 * is ends with Linux's error and leaves nothing behind. With most memory
 * held by a memfd file, over a private mapping larger than RAM:
 *   MADV_POPULATE_WRITE: ENOMEM;
 *   mlock: EAGAIN (__mlock_posix_error_return of -ENOMEM), the area
 *   locked and what was populated kept, as Linux;
 *   mmap with MAP_POPULATE: the mapping (vm_mmap_pgoff ignores
 *   mm_populate's errors);
 *   mlockall(MCL_CURRENT): 0 (mm_populate ignores errors).
 * The program keeps running after each (no OOM kill: populating is not a
 * program's fault), and after munmap every frame is free again.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mm_test.h"

static long mem_free(void)
{
    return proc_kb("/proc/meminfo", "MemFree:");
}

static void check_all_free(long before, const char *after_what)
{
    long now = mem_free();
    CHECK(now >= before - 64, "MemFree %ld kB before, %ld kB after %s", before, now, after_what);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    long total = proc_kb("/proc/meminfo", "MemTotal:");
    size_t big = ((size_t)total * 1024 + (64 << 20)) & ~(size_t)(PAGE - 1); /* RAM and 64 MiB more */
    const int prw = PROT_READ | PROT_WRITE, flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;

    /* All but 24 MiB into a memfd file (/dev/shm holds at most half of
     * RAM; memfd's internal mount has no limit). */
    int fd = (int)syscall(SYS_memfd_create, "oom_hog", 0);
    CHECK(fd >= 0, "memfd_create: %m");
    size_t hog = ((size_t)mem_free() * 1024 - (24 << 20)) & ~(size_t)(PAGE - 1);
    CHECK(ftruncate(fd, hog) == 0, "ftruncate: %m");
    unsigned char *h = mmap(NULL, hog, prw, MAP_SHARED, fd, 0);
    CHECK(h != MAP_FAILED, "mmap hog: %m");
    CHECK(madvise(h, hog, MADV_POPULATE_WRITE) == 0, "filling %zu MiB of a memfd file: %m", hog >> 20);
    CHECK(munmap(h, hog) == 0, "munmap: %m");
    long before = mem_free();
    printf("%zu MiB of %ld MiB held by a memfd file, %ld kB free\n", hog >> 20, total >> 10, before);

    unsigned char *p = mmap(NULL, big, prw, flags, -1, 0);
    CHECK(p != MAP_FAILED, "mmap %zu MiB: %m", big >> 20);
    CHECK_ERRNO(madvise(p, big, MADV_POPULATE_WRITE), ENOMEM);
    CHECK(munmap(p, big) == 0, "munmap: %m");
    check_all_free(before, "MADV_POPULATE_WRITE and munmap");
    printf("MADV_POPULATE_WRITE of %zu MiB: ENOMEM, all freed\n", big >> 20);

    p = mmap(NULL, big, prw, flags, -1, 0);
    CHECK(p != MAP_FAILED, "mmap: %m");
    CHECK_ERRNO(mlock(p, big), EAGAIN);
    /* Locked all the same (no /proc here: reading it needs memory). */
    CHECK_ERRNO(madvise(p, big, MADV_DONTNEED), EINVAL);
    CHECK(munmap(p, big) == 0, "munmap: %m");
    check_all_free(before, "mlock and munmap");
    printf("mlock of it: EAGAIN, all freed\n");

    p = mmap(NULL, big, prw, flags | MAP_POPULATE, -1, 0);
    CHECK(p != MAP_FAILED, "mmap MAP_POPULATE larger than RAM: %m");
    CHECK(munmap(p, big) == 0, "munmap: %m");
    check_all_free(before, "MAP_POPULATE and munmap");
    printf("MAP_POPULATE of it: the mapping, as Linux; all freed\n");

    p = mmap(NULL, big, prw, flags, -1, 0);
    CHECK(p != MAP_FAILED, "mmap: %m");
    pid_t child = fork();
    CHECK(child >= 0, "fork: %m");
    if (child == 0)
        _exit(mlockall(MCL_CURRENT) == 0 ? 0 : 1);
    int status;
    CHECK(waitpid(child, &status, 0) == child, "waitpid: %m");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "mlockall with memory gone: status %#x", status);
    CHECK(munmap(p, big) == 0, "munmap: %m");
    check_all_free(before, "a child's mlockall");
    printf("mlockall(MCL_CURRENT) over it in a child: 0; all freed\n");

    CHECK(close(fd) == 0, "close: %m");
    return 0;
}
