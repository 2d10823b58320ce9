/*
 * oom_touch_more_than_ram--sigkill: a program that writes to more memory
 * than the machine has is killed by the kernel with SIGKILL (Linux's OOM
 * killer), with an out-of-memory report; the runner then checks that every
 * frame came back and goes on with the next program.
 *
 * The mapping itself succeeds (pages come on first touch, as with Linux's
 * overcommit): 4 GiB of address space on a machine of 512 MiB. Each page is
 * written once; somewhere past the machine's RAM no frame is left.
 */
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "refpage_test.h"

#define PAGE 4096UL
#define LEN (4UL << 30)

int main(void)
{
    volatile unsigned char *p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    CHECK(p != MAP_FAILED, "mmap of 4 GiB failed");
    for (unsigned long off = 0; off < LEN; off += PAGE)
        p[off] = 1;
    printf("oom_touch_more_than_ram: wrote 4 GiB and was not killed\n");
    return 1;
}
