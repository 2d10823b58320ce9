/*
 * refpage_write_readonly--sigsegv: a write to a page of a MAP_PRIVATE
 * refpage mapping made PROT_READ by mprotect(2) is a SIGSEGV (the page
 * table entry maps the reference page read-only; the area forbids the
 * write, so it is not a copy-on-write fault). Expected end: killed by
 * SIGSEGV.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "refpage_test.h"

#define PAGE 4096

static unsigned char content[2] __attribute__((aligned(2))) = {0x12, 0x34};

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    int fd = refpage_create(content, sizeof(content), 0);
    CHECK(fd >= 0, "refpage_create: errno %d (%s)", errno, strerror(errno));
    volatile unsigned char *p = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(p != MAP_FAILED, "mmap: errno %d (%s)", errno, strerror(errno));
    CHECK(mprotect((void *)(p + 2 * PAGE), PAGE, PROT_READ) == 0, "mprotect page 2 PROT_READ: "
                                                                 "errno %d (%s)", errno,
          strerror(errno));
    CHECK_PATTERN(p + 2 * PAGE, PAGE, content, sizeof(content), "page 2 after mprotect PROT_READ");
    printf("refpage_write_readonly: page 2 of the refpage mapping is PROT_READ and reads the "
           "pattern; writing to it at %p, SIGSEGV expected\n", (void *)(p + 2 * PAGE));
    fflush(stdout);

    p[2 * PAGE] = 0xff;

    fprintf(stderr, "refpage_write_readonly: FAIL: the write to the PROT_READ page did not fault "
                    "(byte now 0x%02x)\n", p[2 * PAGE]);
    return 1;
}
