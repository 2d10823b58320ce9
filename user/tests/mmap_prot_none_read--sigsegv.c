/*
 * mmap_prot_none_read--sigsegv: reading a PROT_NONE anonymous mapping is a
 * SIGSEGV (the area exists but forbids the access: SEGV_ACCERR on Linux).
 * Expected end: killed by SIGSEGV.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "refpage_test.h"

#define PAGE 4096

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    volatile unsigned char *p = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED, "mmap PROT_NONE: errno %d", errno);
    printf("mmap_prot_none_read: reading the PROT_NONE page at %p, SIGSEGV expected\n", (void *)p);
    fflush(stdout);

    unsigned char v = p[0];

    fprintf(stderr, "mmap_prot_none_read: FAIL: the read of a PROT_NONE page did not fault (read "
                    "0x%02x)\n", v);
    return 1;
}
