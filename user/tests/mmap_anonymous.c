/*
 * mmap_anonymous: anonymous mmap(2) as on Linux: private and shared
 * mappings read as zero; MAP_FIXED replaces an existing mapping (its
 * contents become zero); MAP_FIXED_NOREPLACE over an existing mapping is
 * EEXIST; MAP_POPULATE memory reads zero and takes writes (whether the
 * pages were mapped at once is not visible without mincore(2), and
 * sysinfo's freeram on Linux hides small allocations); a free address
 * hint is used exactly; PROT_EXEC anonymous memory can be mapped; so can
 * PROT_NONE (reading it faults: mmap_prot_none_read--sigsegv).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "refpage_test.h"

#define PAGE 4096

static void check_zero(const volatile unsigned char *p, size_t len, const char *what)
{
    for (size_t i = 0; i < len; i++)
        CHECK(p[i] == 0, "%s: byte %zu is 0x%02x, want 0", what, i, p[i]);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const int anon = MAP_PRIVATE | MAP_ANONYMOUS;

    volatile unsigned char *p = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, anon, -1, 0);
    CHECK(p != MAP_FAILED, "mmap private: errno %d", errno);
    check_zero(p, 4 * PAGE, "MAP_PRIVATE|MAP_ANONYMOUS");
    volatile unsigned char *s =
        mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(s != MAP_FAILED, "mmap shared: errno %d (%s)", errno, strerror(errno));
    check_zero(s, 4 * PAGE, "MAP_SHARED|MAP_ANONYMOUS");
    s[5] = 5;
    CHECK(s[5] == 5, "shared anonymous memory does not keep a write");
    printf("mmap_anonymous: private and shared anonymous memory reads zero\n");

    memset((void *)p, 0x5a, 4 * PAGE);
    void *q = mmap((void *)(p + PAGE), 2 * PAGE, PROT_READ | PROT_WRITE, anon | MAP_FIXED, -1, 0);
    CHECK(q == (void *)(p + PAGE), "MAP_FIXED at %p returned %p (errno %d)", (void *)(p + PAGE), q,
          errno);
    check_zero(p + PAGE, 2 * PAGE, "pages 1-2 replaced by MAP_FIXED");
    CHECK(p[0] == 0x5a && p[3 * PAGE] == 0x5a, "MAP_FIXED over pages 1-2 changed pages 0 or 3");
    printf("mmap_anonymous: MAP_FIXED over written pages 1-2 replaces them with zero pages\n");

    CHECK_ERRNO(mmap((void *)p, PAGE, PROT_READ, anon | MAP_FIXED_NOREPLACE, -1, 0), EEXIST);
    CHECK_ERRNO(mmap((void *)(p + 3 * PAGE), 2 * PAGE, PROT_READ, anon | MAP_FIXED_NOREPLACE, -1, 0),
                EEXIST);
    CHECK(p[0] == 0x5a, "a refused MAP_FIXED_NOREPLACE changed page 0");
    printf("mmap_anonymous: MAP_FIXED_NOREPLACE over a mapping (whole or partly) -> EEXIST\n");

    enum { POP = 64 };
    volatile unsigned char *pop =
        mmap(NULL, POP * PAGE, PROT_READ | PROT_WRITE, anon | MAP_POPULATE, -1, 0);
    CHECK(pop != MAP_FAILED, "mmap MAP_POPULATE: errno %d (%s)", errno, strerror(errno));
    check_zero(pop, POP * PAGE, "MAP_POPULATE");
    pop[POP * PAGE - 1] = 1;
    CHECK(pop[POP * PAGE - 1] == 1, "MAP_POPULATE memory does not keep a write");
    CHECK(munmap((void *)pop, POP * PAGE) == 0, "munmap: errno %d", errno);
    printf("mmap_anonymous: MAP_POPULATE of 64 pages: zero, writable\n");

    /* A hint known to be free: a range just unmapped. */
    unsigned char *r = mmap(NULL, 3 * PAGE, PROT_READ, anon, -1, 0);
    CHECK(r != MAP_FAILED, "mmap: errno %d", errno);
    CHECK(munmap(r, 3 * PAGE) == 0, "munmap: errno %d", errno);
    unsigned char *hint = r + PAGE;
    unsigned char *h = mmap(hint, PAGE, PROT_READ | PROT_WRITE, anon, -1, 0);
    CHECK(h == hint, "mmap with the free hint %p returned %p (errno %d)", (void *)hint, (void *)h,
          errno);
    CHECK(munmap(h, PAGE) == 0, "munmap: errno %d", errno);
    printf("mmap_anonymous: a free address hint is used exactly\n");

    volatile unsigned char *x = mmap(NULL, PAGE, PROT_READ | PROT_EXEC, anon, -1, 0);
    CHECK(x != MAP_FAILED, "mmap PROT_READ|PROT_EXEC anonymous: errno %d (%s)", errno,
          strerror(errno));
    check_zero(x, PAGE, "PROT_READ|PROT_EXEC anonymous");
    void *none = mmap(NULL, PAGE, PROT_NONE, anon, -1, 0);
    CHECK(none != MAP_FAILED, "mmap PROT_NONE anonymous: errno %d", errno);
    printf("mmap_anonymous: PROT_EXEC and PROT_NONE anonymous mappings succeed\n");

    CHECK(munmap((void *)p, 4 * PAGE) == 0 && munmap((void *)s, 4 * PAGE) == 0 &&
              munmap((void *)x, PAGE) == 0 && munmap(none, PAGE) == 0,
          "munmap: errno %d", errno);
    return 0;
}
