/*
 * mremap_anonymous_moves_entries_not_contents: mremap of private anonymous
 * memory as Linux 6.1 does it (mm/mremap.c). A move takes the pages
 * themselves along: they are resident at the new place before any touch
 * (smaps Rss), the old addresses fault SEGV_MAPERR at once (their TLB
 * entries went with them), a page shared copy-on-write with a child stays
 * shared until written; growth in place keeps the data and adds zero
 * pages, a shrink unmaps the tail, MREMAP_DONTUNMAP leaves the old range
 * mapped and empty (it reads zeros, not the stale data).
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "refpage_test.h"
#include "proc_test.h"

#define PAGE 4096UL

static void fill(volatile unsigned char *p, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++)
        p[i] = (unsigned char)(i * 13 + seed);
}

static void check_fill(const volatile unsigned char *p, size_t len, unsigned seed, const char *what)
{
    for (size_t i = 0; i < len; i++)
        CHECK(p[i] == (unsigned char)(i * 13 + seed), "%s: byte %zu at %p is 0x%02x, want 0x%02x", what, i,
              (void *)(p + i), p[i], (unsigned char)(i * 13 + seed));
}

/* A read of p must raise SIGSEGV with SEGV_MAPERR at p. */
static void check_unmapped(const volatile void *p, const char *what)
{
    uintptr_t pc;
    catch_signal(SIGSEGV, 0, 1);
    uint64_t v = load_byte_at(p, &pc);
    CHECK(caught()->count == 1 && caught()->code == SEGV_MAPERR && caught()->addr == (uintptr_t)p,
          "%s: a read of %p gave 0x%lx and %s; want one SIGSEGV, SEGV_MAPERR at it", what, (void *)p,
          (unsigned long)v, caught_str());
    signal(SIGSEGV, SIG_DFL);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);

    /* A move: 8 written pages, growth blocked by a read-only page. */
    unsigned char *p = map_anonymous(9 * PAGE, PROT_READ | PROT_WRITE);
    CHECK(mprotect(p + 8 * PAGE, PAGE, PROT_READ) == 0, "mprotect: %m");
    fill(p, 8 * PAGE, 1);
    CHECK_ERRNO(mremap(p, 8 * PAGE, 16 * PAGE, 0), ENOMEM);
    unsigned char *q = mremap(p, 8 * PAGE, 16 * PAGE, MREMAP_MAYMOVE);
    CHECK(q != MAP_FAILED && q != p, "mremap(MAYMOVE) with growth blocked returned %p (from %p): %m", q, p);
    check_unmapped(p, "the old first page right after the move");
    long rss = smaps_field(q, "Rss:");
    CHECK(rss == 32, "the moved area's Rss before any touch is %ld kB; want 32 (8 pages moved, none copied)", rss);
    check_fill(q, 8 * PAGE, 1, "moved data");
    for (size_t i = 8 * PAGE; i < 16 * PAGE; i++)
        CHECK(q[i] == 0, "the grown part reads 0x%02x at byte %zu; want 0", q[i], i);
    check_unmapped(p, "the old first page after the move");
    check_unmapped(p + 7 * PAGE, "the old last page after the move");
    CHECK(range_is_free(p, 8 * PAGE), "the old range is not free after the move");
    printf("mremap_anonymous: 8 pages moved with their entries (Rss 32 kB before a touch), old range unmapped\n");

    /* 2 MiB-aligned source and destination: the whole level-3 table moves
     * (one entry), and the old addresses must fault at once all the same. */
    const size_t mb2 = 2UL << 20;
    unsigned char *rs = map_anonymous(2 * mb2, PROT_READ | PROT_WRITE);
    unsigned char *rd = map_anonymous(2 * mb2, PROT_NONE);
    unsigned char *as = (unsigned char *)(((uintptr_t)rs + mb2 - 1) & ~(mb2 - 1));
    unsigned char *ad = (unsigned char *)(((uintptr_t)rd + mb2 - 1) & ~(mb2 - 1));
    for (size_t i = 0; i < mb2; i += 64 * PAGE)
        as[i] = (unsigned char)(i / (64 * PAGE) + 1);
    /* The handler first: the load must follow mremap with no system call
     * between, or the TLB entries might go for another reason. */
    uintptr_t pc;
    catch_signal(SIGSEGV, 0, 1);
    unsigned char *moved = mremap(as, mb2, mb2, MREMAP_MAYMOVE | MREMAP_FIXED, ad);
    uint64_t stale = load_byte_at(as, &pc);
    CHECK(moved == ad, "2 MiB-aligned move: %m");
    CHECK(caught()->count == 1 && caught()->code == SEGV_MAPERR,
          "a read of the old first page right after a 2 MiB-aligned move gave 0x%lx and %s; want SEGV_MAPERR",
          (unsigned long)stale, caught_str());
    signal(SIGSEGV, SIG_DFL);
    check_unmapped(as + mb2 - 64 * PAGE, "an old page right after a 2 MiB-aligned move");
    for (size_t i = 0; i < mb2; i += 64 * PAGE)
        CHECK(ad[i] == (unsigned char)(i / (64 * PAGE) + 1), "2 MiB-aligned move: byte %zu reads 0x%02x", i, ad[i]);
    CHECK(munmap(rs, 2 * mb2) == 0 && munmap(rd, 2 * mb2) == 0, "munmap: %m");
    printf("mremap_anonymous: a 2 MiB-aligned move, old addresses unmapped at once\n");

    /* Growth in place and shrink. */
    unsigned char *g = map_anonymous(4 * PAGE, PROT_READ | PROT_WRITE);
    CHECK(munmap(g + 2 * PAGE, 2 * PAGE) == 0, "munmap: %m");
    fill(g, 2 * PAGE, 2);
    CHECK(mremap(g, 2 * PAGE, 4 * PAGE, 0) == g, "grow in place: %m");
    check_fill(g, 2 * PAGE, 2, "grown in place");
    for (size_t i = 2 * PAGE; i < 4 * PAGE; i++)
        CHECK(g[i] == 0, "grown part byte %zu is 0x%02x; want 0", i, g[i]);
    char first[512];
    snprintf(first, sizeof first, "%s", maps_line(g) ? maps_line(g) : "(none)");
    const char *last = maps_line(g + 4 * PAGE - 1);
    CHECK(last && strcmp(first, last) == 0, "one area holds the 4 pages after growth: %s, then %s", first,
          last ? last : "(none)");
    CHECK(mremap(g, 4 * PAGE, PAGE, 0) == g, "shrink: %m");
    check_fill(g, PAGE, 2, "after the shrink");
    check_unmapped(g + PAGE, "the page after a shrink");
    printf("mremap_anonymous: grown in place (data kept, zeros after, one area), shrunk (tail unmapped)\n");

    /* MREMAP_DONTUNMAP: the old range stays mapped and reads zeros. */
    /* Between two PROT_NONE pages, so no neighbour merges with it. */
    unsigned char *d = map_anonymous(6 * PAGE, PROT_NONE) + PAGE;
    CHECK(mprotect(d, 4 * PAGE, PROT_READ | PROT_WRITE) == 0, "mprotect: %m");
    fill(d, 4 * PAGE, 3);
    unsigned char *dn = mremap(d, 4 * PAGE, 4 * PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL);
    /* Read at once, before any other system call: a TLB entry left for
     * the old address would still show the moved page's data. */
    unsigned char old_first = *(volatile unsigned char *)d;
    CHECK(dn != MAP_FAILED && dn != d, "MREMAP_DONTUNMAP returned %p: %m", dn);
    CHECK(old_first == 0, "the old range read 0x%02x right after MREMAP_DONTUNMAP (a stale TLB entry?); want 0", old_first);
    CHECK(smaps_field(d, "Rss:") == 0, "the old range's Rss is %ld kB after MREMAP_DONTUNMAP; want 0",
          smaps_field(d, "Rss:"));
    check_fill(dn, 4 * PAGE, 3, "MREMAP_DONTUNMAP destination");
    for (size_t i = 0; i < 4 * PAGE; i++)
        CHECK(d[i] == 0, "the old range reads 0x%02x at byte %zu after MREMAP_DONTUNMAP; want 0", d[i], i);
    d[5] = 0x77;
    CHECK(dn[5] == (unsigned char)(5 * 13 + 3), "a write to the old range changed the new one");
    printf("mremap_anonymous: MREMAP_DONTUNMAP moved the pages and left the old range mapped, reading zeros\n");

    /* A copy-on-write page after fork moves and stays shared until written. */
    unsigned char *c = map_anonymous(PAGE, PROT_READ | PROT_WRITE);
    c[0] = 0x11;
    int to_child[2], to_parent[2];
    CHECK(pipe(to_child) == 0 && pipe(to_parent) == 0, "pipe: %m");
    pid_t pid = fork();
    CHECK(pid >= 0, "fork: %m");
    if (pid == 0) {
        char b;
        if (read(to_child[0], &b, 1) != 1)
            _exit(2);
        _exit(c[0] == 0x11 ? 0 : 3);
    }
    unsigned char *cm = mremap(c, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, p);
    CHECK(cm == p, "mremap(FIXED) of a copy-on-write page returned %p, want %p: %m", cm, p);
    CHECK(cm[0] == 0x11, "moved copy-on-write page reads 0x%02x", cm[0]);
    cm[0] = 0x22;
    CHECK(write(to_child[1], "x", 1) == 1, "write: %m");
    int status;
    CHECK(waitpid(pid, &status, 0) == pid, "waitpid: %m");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "the child saw its page change after the parent moved and wrote its copy (status %#x)", status);
    CHECK(cm[0] == 0x22, "the parent's moved page reads 0x%02x after its write", cm[0]);
    printf("mremap_anonymous: a copy-on-write page moved and written by the parent left the child's alone\n");
    return 0;
}
