/*
 * mremap_shared_memory_keeps_file_offsets: mremap of /dev/shm files,
 * memfd_create files and MAP_SHARED | MAP_ANONYMOUS memory. A moved or
 * grown mapping shows the file from the same offset on (writes through it
 * reach the file where pread finds them); a private mapping's copied page
 * moves as it is while its other pages keep showing the file; an old
 * length of 0 maps the same shared memory a second time (Linux's
 * "duplicate"); after MREMAP_DONTUNMAP the old range shows the file again.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mman.h>

#include "refpage_test.h"

#define PAGE 4096UL
#define NAME "/dev/shm/mremap_shared_memory_keeps_file_offsets"

/* A mapping of `pages` pages with growth in place blocked right after it. */
static unsigned char *map_blocked(size_t pages, int flags, int fd, off_t off)
{
    unsigned char *m = mmap(NULL, (pages + 1) * PAGE, PROT_READ | PROT_WRITE, flags, fd, off);
    CHECK(m != MAP_FAILED, "mmap: %m");
    CHECK(mprotect(m + pages * PAGE, PAGE, PROT_READ) == 0, "mprotect: %m");
    return m;
}

static unsigned char at_file(int fd, off_t off)
{
    unsigned char b = 0;
    CHECK(pread(fd, &b, 1, off) == 1, "pread at %ld: %m", (long)off);
    return b;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    unlink(NAME);
    int fd = open(NAME, O_CREAT | O_EXCL | O_RDWR, 0600);
    CHECK(fd >= 0, "open %s: %m", NAME);
    CHECK(ftruncate(fd, 16 * PAGE) == 0, "ftruncate: %m");

    /* MAP_SHARED at file page 2: moved and grown, still file page 2 on. */
    unsigned char *s = map_blocked(4, MAP_SHARED, fd, 2 * PAGE);
    for (int i = 0; i < 4; i++)
        s[i * PAGE] = (unsigned char)(0x20 + i);
    unsigned char *t = mremap(s, 4 * PAGE, 6 * PAGE, MREMAP_MAYMOVE);
    CHECK(t != MAP_FAILED && t != s, "mremap(MAYMOVE) of a shared file mapping: %p, %m", (void *)t);
    for (int i = 0; i < 4; i++)
        CHECK(t[i * PAGE] == 0x20 + i, "moved page %d reads 0x%02x, want 0x%02x", i, t[i * PAGE], 0x20 + i);
    t[5 * PAGE] = 0x77;
    CHECK(at_file(fd, 7 * PAGE) == 0x77, "a write to the grown part's last page is not at file page 7");
    CHECK(at_file(fd, 3 * PAGE) == 0x21, "file page 3 reads 0x%02x", at_file(fd, 3 * PAGE));
    printf("mremap_shared_memory: a moved and grown MAP_SHARED mapping of a /dev/shm file keeps its offsets\n");

    /* MREMAP_DONTUNMAP of the shared mapping: the old range shows the file. */
    unsigned char *d = mremap(t, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL);
    CHECK(d != MAP_FAILED, "MREMAP_DONTUNMAP of a shared mapping: %m");
    CHECK(d[PAGE] == 0x21 && t[PAGE] == 0x21, "after MREMAP_DONTUNMAP new 0x%02x, old 0x%02x; want 0x21 both",
          d[PAGE], t[PAGE]);
    printf("mremap_shared_memory: after MREMAP_DONTUNMAP both ranges show the same file pages\n");

    /* MAP_PRIVATE: the copied page moves, the others still show the file. */
    unsigned char *p = map_blocked(4, MAP_PRIVATE, fd, 2 * PAGE);
    p[0] = 0xee;
    CHECK(at_file(fd, 2 * PAGE) == 0x20, "a private write reached the file");
    unsigned char *q = mremap(p, 4 * PAGE, 5 * PAGE, MREMAP_MAYMOVE);
    CHECK(q != MAP_FAILED && q != p, "mremap(MAYMOVE) of a private file mapping: %p, %m", (void *)q);
    CHECK(q[0] == 0xee, "the private copy reads 0x%02x after the move", q[0]);
    unsigned char b = 0x99;
    CHECK(pwrite(fd, &b, 1, 3 * PAGE + 1) == 1, "pwrite: %m");
    CHECK(q[PAGE + 1] == 0x99, "an unwritten private page does not show the file's new byte (0x%02x)", q[PAGE + 1]);
    CHECK(q[4 * PAGE] == 0, "the grown part (file page 6) reads 0x%02x", q[4 * PAGE]);
    printf("mremap_shared_memory: a private file mapping moved: the copy kept, the other pages show the file\n");

    /* MAP_SHARED | MAP_ANONYMOUS: old length 0 duplicates the mapping. */
    unsigned char *a = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(a != MAP_FAILED, "mmap shared anonymous: %m");
    a[PAGE] = 0x31;
    unsigned char *dup = mremap(a, 0, 2 * PAGE, MREMAP_MAYMOVE);
    CHECK(dup != MAP_FAILED && dup != a, "mremap(old_len 0) of shared memory: %p, %m", (void *)dup);
    CHECK(dup[PAGE] == 0x31, "the duplicate reads 0x%02x, want 0x31", dup[PAGE]);
    dup[0] = 0x32;
    CHECK(a[0] == 0x32, "a write through the duplicate is not seen by the original (0x%02x)", a[0]);
    printf("mremap_shared_memory: old length 0 mapped the same shared memory again\n");

    /* memfd_create: an unnamed file, moved like any other. */
    int mfd = memfd_create("mremap", MFD_CLOEXEC);
    CHECK(mfd >= 0, "memfd_create: %m");
    CHECK(ftruncate(mfd, 4 * PAGE) == 0, "ftruncate memfd: %m");
    unsigned char *f = map_blocked(2, MAP_SHARED, mfd, 0);
    f[PAGE] = 0x41;
    unsigned char *g = mremap(f, 2 * PAGE, 3 * PAGE, MREMAP_MAYMOVE);
    CHECK(g != MAP_FAILED && g[PAGE] == 0x41, "memfd mapping moved: %p reads 0x%02x", (void *)g,
          g == MAP_FAILED ? 0 : g[PAGE]);
    CHECK(at_file(mfd, PAGE) == 0x41, "memfd file page 1 reads 0x%02x", at_file(mfd, PAGE));
    printf("mremap_shared_memory: a memfd mapping moved and grown\n");

    CHECK(unlink(NAME) == 0, "unlink: %m");
    return 0;
}
