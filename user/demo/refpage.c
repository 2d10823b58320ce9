/*
 * refpage demo for `make qemu`: what refpage_create(2) is for, in numbers.
 * A 16 MiB mapping of a 1-byte 0xAA pattern is read page by page (each read
 * maps the one shared reference page: no memory), then 64 pages are written
 * (each write gets a private page filled with the pattern).
 */
#include <stdint.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>

#include "refpage_test.h"

static long free_kib(void)
{
    struct sysinfo si;
    sysinfo(&si);
    return (long)(si.freeram * si.mem_unit / 1024);
}

int main(void)
{
    static const unsigned char pattern = 0xaa;
    const size_t len = 16 << 20, page = 4096;

    int fd = syscall(SYS_refpage_create, &pattern, 1, 0);
    CHECK(fd >= 0, "refpage_create: %s", strerror(errno));
    printf("refpage demo: refpage_create(&0xaa, 1, 0) = %d\n", fd);

    long before = free_kib();
    volatile unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(p != MAP_FAILED, "mmap: %s", strerror(errno));
    unsigned sum = 0;
    for (size_t off = 0; off < len; off += page)
        sum += p[off];
    printf("refpage demo: read %zu pages of a %zu MiB mapping: every byte 0x%02x (sum %u), free memory -%ld KiB (page tables)\n",
           len / page, len >> 20, p[len - 1], sum, before - free_kib());

    before = free_kib();
    for (size_t i = 0; i < 64; i++)
        p[i * page] = (unsigned char)i;
    printf("refpage demo: wrote 64 pages: free memory -%ld KiB; page 1 starts %02x %02x, page 100 still %02x\n",
           before - free_kib(), p[page], p[page + 1], p[100 * page]);

    munmap((void *)p, len);
    close(fd);
    return 0;
}
