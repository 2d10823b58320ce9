/*
 * refpage_memory_accounting: what a refpage mapping costs, as sysinfo(2)'s
 * freeram (x mem_unit) shows it:
 *  - reading a 1 GiB MAP_PRIVATE mapping, one load per 4 KiB page, maps
 *    the one reference page everywhere: no data frames, so freeram drops
 *    by no more than the page tables (at most 4 MiB; 2 MiB of level-3
 *    tables map 1 GiB);
 *  - writing N = 256 of those pages takes at least N pages (one private
 *    copy each) and at most N pages + 1 MiB;
 *  - munmap gives it all back: freeram ends within 64 KiB of where it was
 *    before the mmap.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "refpage_test.h"

#define PAGE 4096L
#define KIB 1024L
#define MIB (1024L * 1024)
#define LEN (1024 * MIB)
#define PAGES (LEN / PAGE)
#define N 256
#define SIZE 16

static unsigned char content[SIZE] __attribute__((aligned(SIZE))) = {
    0x01, 0x12, 0x23, 0x34, 0x45, 0x56, 0x67, 0x78, 0x89, 0x9a, 0xab, 0xbc, 0xcd, 0xde, 0xef, 0xf0};

static long long free_bytes(void)
{
    struct sysinfo si;
    CHECK(sysinfo(&si) == 0, "sysinfo: errno %d", errno);
    return (long long)si.freeram * si.mem_unit;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    int fd = refpage_create(content, SIZE, 0);
    CHECK(fd >= 0, "refpage_create: errno %d (%s)", errno, strerror(errno));

    long long start = free_bytes();
    volatile unsigned char *p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(p != MAP_FAILED, "mmap of 1 GiB: errno %d (%s)", errno, strerror(errno));

    for (long i = 0; i < PAGES; i++) {
        long at = i * PAGE + (i % SIZE);
        unsigned char v = p[at];
        CHECK(v == content[at % SIZE], "page %ld: byte %ld reads 0x%02x, want 0x%02x", i, at, v,
              content[at % SIZE]);
    }
    long long after_read = free_bytes();
    long long read_cost = start - after_read;
    printf("refpage_memory_accounting: read 262144 pages (1 GiB): freeram dropped by %lld KiB\n",
           read_cost / KIB);
    CHECK(read_cost <= 4 * MIB, "reading 1 GiB of a refpage mapping took %lld KiB of free memory; "
                                "want at most 4096 KiB (page tables only, no data frames)",
          read_cost / KIB);

    /* One write in each of N pages spread over the mapping. */
    const long stride = PAGES / N;
    for (long k = 0; k < N; k++)
        p[k * stride * PAGE + 8] = (unsigned char)~content[8];
    long long after_write = free_bytes();
    long long write_cost = after_read - after_write;
    printf("refpage_memory_accounting: wrote 1 byte in each of %d pages: freeram dropped by %lld "
           "KiB (%lld pages)\n", N, write_cost / KIB, write_cost / PAGE);
    CHECK(write_cost >= N * PAGE, "writing %d pages took %lld bytes; want at least %ld (a frame "
                                  "per written page)",
          N, write_cost, N * PAGE);
    CHECK(write_cost <= N * PAGE + MIB, "writing %d pages took %lld KiB; want at most %ld KiB", N,
          write_cost / KIB, (N * PAGE + MIB) / KIB);
    for (long k = 0; k < N; k++) {
        volatile unsigned char *pg = p + k * stride * PAGE;
        CHECK(pg[8] == (unsigned char)~content[8], "written page %ld byte 8 reads 0x%02x", k * stride,
              pg[8]);
        CHECK(pg[7] == content[7] && pg[9] == content[9] && pg[PAGE - 1] == content[SIZE - 1],
              "written page %ld lost the pattern around the written byte", k * stride);
    }

    CHECK(munmap((void *)p, LEN) == 0, "munmap: errno %d", errno);
    long long end = free_bytes();
    long long diff = end - start;
    printf("refpage_memory_accounting: after munmap freeram is %+lld KiB from before the mmap\n",
           diff / KIB);
    CHECK(diff >= -64 * KIB && diff <= 64 * KIB,
          "after munmap freeram is %+lld KiB from its value before the mmap; want within 64 KiB "
          "(the read pass alone, page tables, took %lld KiB; the writes %lld KiB)",
          diff / KIB, read_cost / KIB, write_cost / KIB);
    CHECK(close(fd) == 0, "close: errno %d", errno);
    return 0;
}
