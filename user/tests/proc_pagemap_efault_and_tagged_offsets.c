/*
 * proc_pagemap_efault_and_tagged_offsets: Linux 6.1's pagemap_read rules
 * at the edges:
 * - a read whose buffer faults part-way is EFAULT, though the entries of
 *   the first 2 MiB walk went in (copy_to_user failing: "ret = -EFAULT;
 *   goto out_free", nothing counted), and the file position stays;
 * - the offset names a virtual page after untagged_addr: an offset whose
 *   address has a top byte (bit 55 clear) reads the untagged page's entry;
 * - a read across the end of the user half stops there; at or past it,
 *   or with the page number beyond 2^52, it reads nothing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "refpage_test.h"

#define PAGE 4096UL

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    int fd = open("/proc/self/pagemap", O_RDONLY);
    CHECK(fd >= 0, "open pagemap: %m");

    /* A buffer whose second page is gone: 1024 entries from address 0. */
    char *buf = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(buf != MAP_FAILED, "mmap: %m");
    CHECK(munmap(buf + PAGE, PAGE) == 0, "munmap: %m");
    errno = 0;
    ssize_t n = read(fd, buf, 2 * PAGE);
    CHECK(n == -1 && errno == EFAULT, "read into a buffer unmapped after 4 KiB: %zd (%m), want EFAULT", n);
    CHECK(lseek(fd, 0, SEEK_CUR) == 0, "the position moved to %lld", (long long)lseek(fd, 0, SEEK_CUR));

    /* A touched page, named with a tag in the offset's address. */
    volatile char *p = buf;
    *p = 1;
    uint64_t plain = 0, tagged = 0;
    CHECK(pread(fd, &plain, 8, ((uintptr_t)p / PAGE) * 8) == 8, "pread: %m");
    CHECK(plain >> 63, "the touched page is not present: %#llx", (unsigned long long)plain);
    uint64_t with_tag = (uintptr_t)p | (0x2aUL << 56);
    n = pread(fd, &tagged, 8, (with_tag / PAGE) * 8);
    CHECK(n == 8 && tagged == plain, "offset of %#llx: %zd bytes, entry %#llx, want the untagged page's %#llx",
          (unsigned long long)with_tag, n, (unsigned long long)tagged, (unsigned long long)plain);

    /* Across the end of the user half (2^48 here and on Linux's 48-bit VA). */
    uint64_t e[4];
    off_t last = ((1UL << 48) / PAGE - 1) * 8;
    CHECK(pread(fd, e, sizeof e, last) == 8, "read across the end: not one entry");
    CHECK(pread(fd, e, sizeof e, last + 8) == 0, "read at the end: not empty");
    CHECK(pread(fd, e, sizeof e, (off_t)(1UL << 52) * 8) == 0, "read of page 2^52: not empty");
    CHECK(pread(fd, e, 7, 0) == -1 && errno == EINVAL, "odd count: %m");
    CHECK(pread(fd, e, 8, 4) == -1 && errno == EINVAL, "odd offset: %m");
    printf("proc_pagemap_efault_and_tagged_offsets: ok\n");
    return 0;
}
