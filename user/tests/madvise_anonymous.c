/*
 * madvise_anonymous: madvise(MADV_DONTNEED) with Linux's semantics for
 * anonymous memory: a written private page reads zeros again, while
 * MAP_SHARED | MAP_ANONYMOUS memory keeps its contents (it is shared
 * memory; DONTNEED only drops this process's page table entries).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "refpage_test.h"

#define PAGE 4096

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);

    volatile unsigned char *p =
        mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED, "mmap private: errno %d", errno);
    memset((void *)p, 0x5a, 2 * PAGE);
    CHECK(madvise((void *)p, PAGE, MADV_DONTNEED) == 0, "madvise private: errno %d (%s)", errno,
          strerror(errno));
    for (int i = 0; i < PAGE; i++)
        CHECK(p[i] == 0, "private page byte %d is 0x%02x after MADV_DONTNEED; want 0", i, p[i]);
    for (int i = PAGE; i < 2 * PAGE; i++)
        CHECK(p[i] == 0x5a, "private page 1 (outside the range) byte %d is 0x%02x; want 0x5a", i,
              p[i]);
    printf("madvise_anonymous: a written private anonymous page is zero after MADV_DONTNEED; the "
           "next page keeps its data\n");

    volatile unsigned char *s =
        mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(s != MAP_FAILED, "mmap shared: errno %d", errno);
    for (int i = 0; i < 2 * PAGE; i++)
        s[i] = (unsigned char)(i * 7);
    CHECK(madvise((void *)s, 2 * PAGE, MADV_DONTNEED) == 0, "madvise shared: errno %d (%s)", errno,
          strerror(errno));
    for (int i = 0; i < 2 * PAGE; i++)
        CHECK(s[i] == (unsigned char)(i * 7),
              "shared anonymous byte %d is 0x%02x after MADV_DONTNEED; want 0x%02x (kept)", i, s[i],
              (unsigned char)(i * 7));
    printf("madvise_anonymous: MAP_SHARED|MAP_ANONYMOUS memory keeps its data after "
           "MADV_DONTNEED\n");

    CHECK(munmap((void *)p, 2 * PAGE) == 0 && munmap((void *)s, 2 * PAGE) == 0, "munmap: errno %d",
          errno);
    return 0;
}
