/*
 * mremap_gives_back_every_frame: moves, growths, shrinks, MREMAP_DONTUNMAP,
 * MREMAP_FIXED over touched memory, refused moves, whole-table moves and
 * moves of copy-on-write pages in a child, 100 times over, leave no frame
 * and no page table behind: on this kernel MemFree is back where it was
 * after the first round (the runner also checks the frames and heap in
 * use after the program). On Linux only the calls' results are checked.
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <sys/wait.h>

#include "proc_test.h"

#define PAGE 4096UL
#define MB2 (2UL << 20)

static long mem_free_kb(void)
{
    static char text[1 << 14];
    CHECK(read_file("/proc/meminfo", text, sizeof text) > 0, "read /proc/meminfo: %m");
    const char *v = line_value(text, "MemFree:");
    CHECK(v != NULL, "no MemFree line");
    return strtol(v, NULL, 10);
}

static void touch(unsigned char *p, size_t len)
{
    for (size_t i = 0; i < len; i += PAGE)
        p[i] = (unsigned char)(i / PAGE + 1);
}

static void round_of_moves(int refpage_fd)
{
    /* Move with growth, then unmap. */
    unsigned char *a = map_anonymous(5 * PAGE, PROT_READ | PROT_WRITE);
    CHECK(mprotect(a + 4 * PAGE, PAGE, PROT_READ) == 0, "mprotect: %m");
    touch(a, 4 * PAGE);
    unsigned char *b = mremap(a, 4 * PAGE, 8 * PAGE, MREMAP_MAYMOVE);
    CHECK(b != MAP_FAILED && b[3 * PAGE] == 4, "move: %p", (void *)b);
    touch(b, 8 * PAGE);
    CHECK(mremap(b, 8 * PAGE, 2 * PAGE, 0) == b, "shrink: %m");
    CHECK(munmap(b, 2 * PAGE) == 0 && munmap(a + 4 * PAGE, PAGE) == 0, "munmap: %m");

    /* MREMAP_DONTUNMAP, then both ranges touched. */
    unsigned char *c = map_anonymous(2 * PAGE, PROT_READ | PROT_WRITE);
    touch(c, 2 * PAGE);
    unsigned char *d = mremap(c, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL);
    CHECK(d != MAP_FAILED, "DONTUNMAP: %m");
    touch(c, 2 * PAGE);
    /* MREMAP_FIXED over touched memory: its frames are freed. */
    CHECK(mremap(d, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, c) == c, "FIXED: %m");
    /* A refused move (EFAULT: two areas) after unmapping its destination. */
    unsigned char *e = map_anonymous(2 * PAGE, PROT_READ | PROT_WRITE);
    touch(e, 2 * PAGE);
    CHECK(mprotect(c + PAGE, PAGE, PROT_READ) == 0, "mprotect: %m");
    CHECK(mremap(c, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, e) == MAP_FAILED && errno == EFAULT,
          "a move across two areas: %m");
    CHECK(munmap(c, 2 * PAGE) == 0, "munmap: %m");

    /* Whole tables: 2 MiB-aligned source and destination. */
    unsigned char *r = map_anonymous(3 * MB2, PROT_READ | PROT_WRITE);
    unsigned char *s = (unsigned char *)(((uintptr_t)r + MB2 - 1) & ~(MB2 - 1));
    unsigned char *t = map_anonymous(3 * MB2, PROT_NONE);
    unsigned char *u = (unsigned char *)(((uintptr_t)t + MB2 - 1) & ~(MB2 - 1));
    touch(s, MB2);
    CHECK(mremap(s, MB2, MB2, MREMAP_MAYMOVE | MREMAP_FIXED, u) == u && u[PAGE] == 2, "aligned move: %m");
    CHECK(munmap(r, 3 * MB2) == 0 && munmap(t, 3 * MB2) == 0, "munmap: %m");

    /* Copy-on-write pages moved in a child. */
    unsigned char *f = map_anonymous(4 * PAGE, PROT_READ | PROT_WRITE);
    touch(f, 4 * PAGE);
    pid_t pid = fork();
    CHECK(pid >= 0, "fork: %m");
    if (pid == 0) {
        unsigned char *g = mremap(f, 4 * PAGE, 4 * PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL);
        if (g == MAP_FAILED || g[PAGE] != 2)
            _exit(1);
        g[0] = 9;
        _exit(0);
    }
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0, "child: status %#x", st);
    f[0] = 7;
    CHECK(munmap(f, 4 * PAGE) == 0, "munmap: %m");

    /* Shared memory and a refpage mapping, moved and unmapped. */
    unsigned char *h = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(h != MAP_FAILED, "mmap shared: %m");
    touch(h, 2 * PAGE);
    unsigned char *i = mremap(h, 2 * PAGE, 4 * PAGE, MREMAP_MAYMOVE);
    CHECK(i != MAP_FAILED && munmap(i, 4 * PAGE) == 0, "shared: %m");
    if (refpage_fd >= 0) {
        unsigned char *j = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, refpage_fd, 0);
        CHECK(j != MAP_FAILED, "mmap refpage: %m");
        (void)*(volatile unsigned char *)j;
        j[PAGE] = 1;
        unsigned char *k = mremap(j, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL);
        CHECK(k != MAP_FAILED && munmap(k, 2 * PAGE) == 0 && munmap(j, 2 * PAGE) == 0, "refpage: %m");
    }
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    int here = on_refpage_kernel();
    static const unsigned char content[16] = "0123456789abcdef";
    int fd = here ? refpage_create(content, sizeof content, 0) : -1;
    round_of_moves(fd);
    long before = mem_free_kb();
    for (int n = 0; n < 100; n++)
        round_of_moves(fd);
    long after = mem_free_kb();
    printf("mremap_frames: MemFree %ld kB before 100 rounds, %ld kB after\n", before, after);
    if (here)
        CHECK(after == before, "100 rounds of mremap kept %ld kB", before - after);
    return 0;
}
