/*
 * user_faults - what a page fault costs a program, measured from user space:
 * the same static binary on this kernel and on Linux 6.1 (`make bench` and
 * `make bench-linux`), counted in instructions.
 *
 *   user_faults
 *
 * For each path: a fresh mapping of PAGES pages, then one access per page,
 * each the first of its kind there, timed with clock_gettime(CLOCK_MONOTONIC)
 * around the whole loop. Under QEMU's `-icount shift=0,align=off,sleep=off`
 * with a 1 GHz counter a nanosecond is one guest instruction, so the time
 * over PAGES is the instructions one fault costs the program: the exception
 * entry and return, the kernel's work, the retried access and the loop's own
 * few instructions, kernel and user together.
 *
 *   zero-read        read of fresh anonymous memory (the zero page is mapped)
 *   write-after-read write to each page just read (a zeroed page replaces
 *                    the zero page)
 *   zero-fill        first write to fresh anonymous memory
 *   zero-fill-mte    the same in a PROT_MTE mapping (tags cleared too)
 *   cow-copy         write in a forked child to every page its parent wrote
 *   cow-reuse        the parent forks again, the child exits at once, and the
 *                    parent, now the pages' last owner, writes them (on Linux
 *                    the first child's copies leave the parent's entries
 *                    writable again: without the second fork it takes no
 *                    fault at all)
 *   refpage-read     read of a refpage_create(&0xaa, 1, 0) mapping (the
 *                    reference page is mapped)
 *   refpage-write    first write to such a mapping (a private page filled
 *                    with the pattern)
 *
 * Output, one line per path:
 *
 *   bench fault path=zero-read pages=2048 ns_total=N insns_per_fault=M
 *   bench fault path=refpage-read unavailable reason=...
 *
 * On Linux, system call 448 is process_mrelease: the refpage paths say
 * unavailable (and are compared with zero-read and zero-fill there). As
 * Linux's /init it exits, and scripts/bench-linux.sh reads its status from
 * the panic that follows.
 *
 * Build: aarch64-linux-gnu-gcc -static -O2 -Wall -Werror -Iuser/include
 */
#include <stdint.h>
#include <sys/wait.h>

#include "bench_time.h"

#define PAGES 2048
#define PAGE 4096UL

static unsigned char *map(int prot, int flags, int fd)
{
    void *p = mmap(NULL, PAGES * PAGE, prot, flags, fd, 0);
    CHECK(p != MAP_FAILED, "mmap of %d pages: %s", PAGES, strerror(errno));
    return p;
}

/* One load or store per page, timed: nanoseconds for the PAGES accesses. */
static uint64_t touch(unsigned char *p, int write)
{
    uint64_t start = now_ns();
    if (write) {
        for (unsigned long i = 0; i < PAGES; i++)
            *(volatile unsigned char *)(p + i * PAGE) = 1;
    } else {
        for (unsigned long i = 0; i < PAGES; i++)
            (void)*(volatile unsigned char *)(p + i * PAGE);
    }
    return now_ns() - start;
}

static void report(const char *path, uint64_t ns)
{
    printf("bench fault path=%s pages=%d ns_total=%llu insns_per_fault=%llu\n", path, PAGES, (unsigned long long)ns,
           (unsigned long long)(ns / PAGES));
}

/* The page at index i holds `want` (the first byte). */
static void expect(const unsigned char *p, unsigned char want, const char *path)
{
    for (unsigned long i = 0; i < PAGES; i++)
        CHECK(p[i * PAGE] == want, "%s: page %lu holds 0x%02x, not 0x%02x", path, i, p[i * PAGE], want);
}

int main(void)
{
    int mte = (getauxval(AT_HWCAP2) & HWCAP2_MTE) != 0;
    int anon = MAP_PRIVATE | MAP_ANONYMOUS;

    unsigned char *p = map(PROT_READ | PROT_WRITE, anon, -1);
    report("zero-read", touch(p, 0));
    report("write-after-read", touch(p, 1));
    expect(p, 1, "write-after-read");
    munmap(p, PAGES * PAGE);

    p = map(PROT_READ | PROT_WRITE, anon, -1);
    report("zero-fill", touch(p, 1));
    munmap(p, PAGES * PAGE);

    if (mte) {
        p = map(PROT_READ | PROT_WRITE | PROT_MTE, anon, -1);
        report("zero-fill-mte", touch(p, 1));
        munmap(p, PAGES * PAGE);
    } else {
        printf("bench fault path=zero-fill-mte unavailable reason=no-MTE\n");
    }

    /* Copy-on-write: the parent writes every page, the child writes them
     * again and reports through a shared page; then a second child exits
     * without touching them and the parent, their last owner, writes them. */
    uint64_t *shared = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(shared != MAP_FAILED, "mmap MAP_SHARED: %s", strerror(errno));
    p = map(PROT_READ | PROT_WRITE, anon, -1);
    for (unsigned long i = 0; i < PAGES; i++)
        p[i * PAGE] = 3;
    fflush(NULL);
    pid_t child = fork();
    CHECK(child >= 0, "fork: %s", strerror(errno));
    if (child == 0) {
        shared[0] = touch(p, 1);
        for (unsigned long i = 0; i < PAGES; i++)
            if (p[i * PAGE] != 1)
                _exit(2);
        _exit(0);
    }
    int status;
    CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "the child failed (status %#x)", status);
    expect(p, 3, "cow-copy (the parent's pages)");
    report("cow-copy", shared[0]);
    child = fork();
    CHECK(child >= 0, "fork: %s", strerror(errno));
    if (child == 0)
        _exit(0);
    CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status), "the second child failed (status %#x)", status);
    report("cow-reuse", touch(p, 1));
    expect(p, 1, "cow-reuse");
    munmap(p, PAGES * PAGE);

    static const unsigned char pattern = 0xaa;
    int fd = syscall(SYS_refpage_create, &pattern, 1, 0);
    if (fd >= 0) {
        p = map(PROT_READ | PROT_WRITE, MAP_PRIVATE, fd);
        report("refpage-read", touch(p, 0));
        expect(p, 0xaa, "refpage-read");
        munmap(p, PAGES * PAGE);
        p = map(PROT_READ | PROT_WRITE, MAP_PRIVATE, fd);
        report("refpage-write", touch(p, 1));
        expect(p, 1, "refpage-write");
        munmap(p, PAGES * PAGE);
        close(fd);
    } else {
        const char *reason = errno == ENOSYS ? "ENOSYS" : "448-is-not-refpage_create";
        printf("bench fault path=refpage-read unavailable reason=%s\n", reason);
        printf("bench fault path=refpage-write unavailable reason=%s\n", reason);
    }
    printf("bench faults done\n");
    return 0;
}
