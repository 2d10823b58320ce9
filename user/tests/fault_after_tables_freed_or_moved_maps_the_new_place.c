/*
 * fault_after_tables_freed_or_moved_maps_the_new_place: the fault path
 * remembers the last level-3 table it reached; every change that frees or
 * moves tables must make it forget it. Faults right next to the last one
 * after: munmap of a whole 2 MiB span and a fresh mmap there; mremap of a
 * whole 2 MiB table (fault at the new place, the old one must be gone;
 * with MREMAP_DONTUNMAP a fault at the old place maps a page there);
 * fork (the child and the parent each write next to their last fault);
 * and munmap of an area between two others one page apart across a 1 GiB
 * boundary (the neighbours keep their contents: no shared table freed).
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <sys/wait.h>
#include <setjmp.h>
#include <signal.h>
#include "refpage_test.h"

#define PAGE 4096UL
#define MIB (1024UL * 1024)
#define GIB (1024UL * MIB)

static sigjmp_buf env;
static void on_segv(int sig)
{
    (void)sig;
    siglongjmp(env, 1);
}

static int faults_at(volatile unsigned char *p)
{
    if (sigsetjmp(env, 1))
        return 1;
    (void)*p;
    return 0;
}

static unsigned char *aligned_2m(void)
{
    unsigned char *raw = mmap(NULL, 6 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(raw != MAP_FAILED, "mmap: %m");
    unsigned char *b = (unsigned char *)(((unsigned long)raw + 2 * MIB - 1) & ~(2 * MIB - 1));
    return b;
}

int main(void)
{
    struct sigaction sa = { .sa_handler = on_segv, .sa_flags = SA_NODEFER };
    CHECK(sigaction(SIGSEGV, &sa, NULL) == 0, "sigaction: %m");

    /* munmap a whole 2 MiB span, map it again, fault next to the last. */
    unsigned char *b = aligned_2m();
    for (int round = 0; round < 50; round++) {
        b[round * PAGE] = (unsigned char)(round + 1);
        CHECK(munmap(b, 2 * MIB) == 0, "munmap: %m");
        CHECK(mmap(b, 2 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == b,
              "mmap again: %m");
        b[round * PAGE + PAGE] = 7;
        CHECK(b[round * PAGE] == 0 && b[round * PAGE + PAGE] == 7, "round %d: old %u new %u", round,
              b[round * PAGE], b[round * PAGE + PAGE]);
    }

    /* mremap a whole 2 MiB table elsewhere, fault at both places. */
    unsigned char *src = aligned_2m();
    unsigned char *dst = aligned_2m();
    for (unsigned long i = 0; i < 2 * MIB; i += PAGE)
        src[i] = (unsigned char)(i / PAGE + 1);
    CHECK(mremap(src, 2 * MIB, 2 * MIB, MREMAP_MAYMOVE | MREMAP_FIXED, dst) == dst, "mremap: %m");
    dst[PAGE / 2] = 0xaa; /* next to the first moved page */
    CHECK(dst[0] == 1 && dst[2 * MIB - PAGE] == (unsigned char)(2 * MIB / PAGE), "moved contents: %u %u", dst[0],
          dst[2 * MIB - PAGE]);
    CHECK(faults_at(src + PAGE), "the old place still reads after the move");
    dst[3 * PAGE] = 0x55;
    CHECK(dst[3 * PAGE] == 0x55 && dst[4 * PAGE] == 5, "after the old place's fault: %u %u", dst[3 * PAGE],
          dst[4 * PAGE]);

    /* MREMAP_DONTUNMAP keeps the old place: a fault there right after the
     * move (next to the last fault, in the table that moved) maps a new
     * page at the old place, not in the moved table. */
    unsigned char *keep = aligned_2m();
    unsigned char *to = aligned_2m();
    for (unsigned long i = 0; i < 2 * MIB; i += PAGE)
        keep[i] = 0x77;
    CHECK(mremap(keep, 2 * MIB, 2 * MIB, MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP, to) == to,
          "mremap DONTUNMAP: %m");
    keep[PAGE] = 0x10;
    CHECK(to[PAGE] == 0x77 && keep[PAGE] == 0x10 && keep[2 * PAGE] == 0, "after DONTUNMAP: new %#x old %#x, %#x",
          to[PAGE], keep[PAGE], keep[2 * PAGE]);

    /* fork: both write next to their last fault. */
    dst[5 * PAGE] = 1;
    pid_t c = fork();
    CHECK(c >= 0, "fork: %m");
    if (c == 0) {
        dst[6 * PAGE] = 0xc1;
        dst[5 * PAGE] = 0xc2;
        _exit(dst[6 * PAGE] == 0xc1 && dst[5 * PAGE] == 0xc2 && dst[7 * PAGE] == 8 ? 0 : 1);
    }
    dst[6 * PAGE] = 0x91;
    int status;
    CHECK(waitpid(c, &status, 0) == c && WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
    CHECK(dst[6 * PAGE] == 0x91 && dst[5 * PAGE] == 1, "parent after fork: %u %u", dst[6 * PAGE], dst[5 * PAGE]);

    /* Three areas one page apart across a 1 GiB boundary; unmap the middle. */
    unsigned char *hint = (unsigned char *)(256 * GIB);
    unsigned char *g = mmap(hint - 2 * PAGE, 5 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
                            -1, 0);
    CHECK(g == hint - 2 * PAGE, "mmap at %p: %p %m", (void *)(hint - 2 * PAGE), (void *)g);
    CHECK(mprotect(g, PAGE, PROT_READ | PROT_WRITE) == 0, "mprotect: %m");
    CHECK(mprotect(g + 2 * PAGE, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC) == 0, "mprotect: %m");
    CHECK(mprotect(g + 4 * PAGE, PAGE, PROT_READ | PROT_WRITE) == 0, "mprotect: %m");
    g[0] = 0x11;
    g[2 * PAGE] = 0x22;
    g[4 * PAGE] = 0x33;
    CHECK(munmap(g + 2 * PAGE, PAGE) == 0, "munmap: %m");
    CHECK(g[0] == 0x11 && g[4 * PAGE] == 0x33, "neighbours after munmap: %#x %#x", g[0], g[4 * PAGE]);
    g[4 * PAGE + 8] = 0x44;
    CHECK(munmap(g, 2 * PAGE) == 0 && munmap(g + 3 * PAGE, 2 * PAGE) == 0, "munmap: %m");
    CHECK(faults_at(g) && faults_at(g + 4 * PAGE), "pages left after munmap");
    return 0;
}
