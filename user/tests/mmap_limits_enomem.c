/*
 * mmap_limits_enomem: mappings the address space cannot hold fail with
 * ENOMEM, and the process goes on:
 * - a mapping larger than the address space (2^48 bytes and more);
 * - the 65531st area: Linux's vm.max_map_count is 65530 by default. Areas
 *   alternate PROT_READ and PROT_NONE so that Linux cannot merge them;
 *   then a munmap that would split an area in two fails too, and after
 *   everything is unmapped mmap works again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "refpage_test.h"

#define PAGE 4096UL
#define MAX_MAP_COUNT 65530

static void *map(unsigned long len, int prot)
{
    return mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
}

int main(void)
{
    CHECK(map(1UL << 48, PROT_READ) == MAP_FAILED && errno == ENOMEM, "2^48 bytes: want ENOMEM, got %s", strerror(errno));
    CHECK(map(~0UL - PAGE, PROT_READ) == MAP_FAILED && errno == ENOMEM, "2^64 bytes: want ENOMEM, got %s",
          strerror(errno));

    static void *areas[MAX_MAP_COUNT + 1];
    unsigned long n = 0;
    for (; n <= MAX_MAP_COUNT; n++) {
        /* Three pages, so that unmapping the middle one would split. */
        void *a = map(3 * PAGE, n % 2 ? PROT_NONE : PROT_READ);
        if (a == MAP_FAILED)
            break;
        areas[n] = a;
    }
    CHECK(n <= MAX_MAP_COUNT, "%lu areas and no ENOMEM", n);
    CHECK(errno == ENOMEM, "area %lu: want ENOMEM, got %s", n, strerror(errno));
    CHECK(n > MAX_MAP_COUNT - 64, "only %lu areas before ENOMEM", n);
    printf("mmap_limits_enomem: ENOMEM after %lu areas (the program's own and these: %d)\n", n, MAX_MAP_COUNT);

    /* At the limit, cutting a hole in an area would make one more. */
    CHECK(munmap((char *)areas[0] + PAGE, PAGE) == -1 && errno == ENOMEM, "munmap splitting at the limit: want ENOMEM, got %s",
          strerror(errno));
    for (unsigned long i = 0; i < n; i++)
        CHECK(munmap(areas[i], 3 * PAGE) == 0, "munmap area %lu: %s", i, strerror(errno));
    void *again = map(PAGE, PROT_READ | PROT_WRITE);
    CHECK(again != MAP_FAILED, "mmap after unmapping everything: %s", strerror(errno));
    *(volatile char *)again = 1;
    printf("mmap_limits_enomem: ok\n");
    return 0;
}
