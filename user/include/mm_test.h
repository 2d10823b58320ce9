/*
 * mm_test.h - what the populate, lock and residency tests share: how many
 * pages of a range mincore(2) calls resident, and a kB figure from
 * /proc/self/status or /proc/meminfo.
 */
#ifndef MM_TEST_H
#define MM_TEST_H

#include <sys/mman.h>

#include "proc_test.h"

#define PAGE 4096

/* Pages of [p, p + pages * PAGE) that mincore reports resident. */
static inline size_t resident_pages(const void *p, size_t pages)
{
    static unsigned char vec[1 << 16];
    CHECK(pages <= sizeof vec, "%zu pages: more than the test's vector", pages);
    CHECK(mincore((void *)p, pages * PAGE, vec) == 0, "mincore(%p, %zu pages): %m", p, pages);
    size_t n = 0;
    for (size_t i = 0; i < pages; i++)
        n += vec[i] & 1;
    return n;
}

/* The number after "label" in `path` (e.g. "VmLck:" in /proc/self/status),
 * in kB; -1 if there is no such line. */
static inline long proc_kb(const char *path, const char *label)
{
    static char buf[1 << 16];
    CHECK(read_file(path, buf, sizeof buf) > 0, "read %s: %m", path);
    const char *v = line_value(buf, label);
    return v ? strtol(v, NULL, 10) : -1;
}

#endif
