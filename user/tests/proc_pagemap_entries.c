/*
 * proc_pagemap_entries: /proc/self/pagemap as Linux 6.1 writes it
 * (fs/proc/task_mmu.c): 8 bytes per page; 0 where nothing is mapped; bit 63
 * present, with the frame number (root sees it); bit 56 for a private page
 * only this process maps; bit 61 for a file's page (a reference page);
 * the zero page present with neither. An offset or a length that is not a
 * multiple of 8 is EINVAL; past the end of the user half there is nothing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "proc_test.h"

#define PAGE 4096
#define PRESENT (1ULL << 63)
#define FILE_PAGE (1ULL << 61)
#define EXCLUSIVE (1ULL << 56)
#define PFN_MASK ((1ULL << 55) - 1)

static int fd;

static uint64_t entry(const void *p)
{
    uint64_t e;
    CHECK(pread(fd, &e, 8, (uintptr_t)p / PAGE * 8) == 8, "pread pagemap at %p: %m", p);
    return e;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!on_refpage_kernel()) {
        printf("qemu-user has no pagemap of the guest: only on this kernel\n");
        return 0;
    }
    fd = open("/proc/self/pagemap", O_RDONLY);
    CHECK(fd >= 0, "open pagemap: %m");
    volatile unsigned char *p = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED, "mmap: %m");
    (void)p[0];
    p[PAGE] = 1;
    uint64_t zero = entry((void *)p), own = entry((void *)(p + PAGE)), none = entry((void *)(p + 2 * PAGE));
    CHECK(none == 0, "an untouched page: %#llx", (unsigned long long)none);
    CHECK((zero & (PRESENT | FILE_PAGE | EXCLUSIVE)) == PRESENT && (zero & PFN_MASK) != 0,
          "the zero page: %#llx", (unsigned long long)zero);
    CHECK((own & (PRESENT | FILE_PAGE | EXCLUSIVE)) == (PRESENT | EXCLUSIVE) && (own & PFN_MASK) != (zero & PFN_MASK),
          "a written private page: %#llx", (unsigned long long)own);
    static const unsigned char content[16] = "0123456789abcdef";
    int rfd = refpage_create(content, sizeof content, 0);
    volatile unsigned char *r = mmap(NULL, 2 * PAGE, PROT_READ, MAP_PRIVATE, rfd, 0);
    CHECK(r != MAP_FAILED, "mmap refpage: %m");
    (void)r[0];
    (void)r[PAGE];
    uint64_t r0 = entry((void *)r), r1 = entry((void *)(r + PAGE));
    CHECK((r0 & (PRESENT | FILE_PAGE | EXCLUSIVE)) == (PRESENT | FILE_PAGE), "a reference page: %#llx",
          (unsigned long long)r0);
    CHECK((r0 & PFN_MASK) == (r1 & PFN_MASK), "two pages of a refpage mapping: frames %#llx and %#llx",
          (unsigned long long)(r0 & PFN_MASK), (unsigned long long)(r1 & PFN_MASK));
    uint64_t e[2];
    CHECK(pread(fd, e, 13, 0) == -1 && errno == EINVAL, "a 13-byte read: %m");
    CHECK(pread(fd, e, 8, 4) == -1 && errno == EINVAL, "a read at offset 4: %m");
    CHECK(pread(fd, e, 16, (1ULL << 48) / PAGE * 8 - 8) == 8, "the last entry: not 8 bytes");
    CHECK(pread(fd, e, 16, (1ULL << 48) / PAGE * 8) == 0, "past the user half: not 0");
    printf("pagemap: present, exclusive and file bits and frames as Linux; its read rules\n");
    return 0;
}
