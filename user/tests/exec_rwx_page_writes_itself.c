/*
 * exec_rwx_page_writes_itself: code in a PROT_READ | PROT_WRITE | PROT_EXEC
 * mapping that stores into its own page runs, as on Linux (a JIT's inline
 * cache does this). With SCTLR_EL1.WXN the kernel mapped such a page either
 * executable or writable and the store and the next fetch faulted in turn
 * forever (the program never finished). The code is a function that
 * counts its calls in a word of its own page.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "refpage_test.h"

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    uint32_t *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(page != MAP_FAILED, "mmap RWX: errno %d (%s)", errno, strerror(errno));
    /* x0 = the page: ldr w1, [x0, #2048]; add w1, w1, #1; str w1, [x0, #2048]; mov w0, w1; ret */
    static const uint32_t code[] = { 0xb9480001, 0x11000421, 0xb9080001, 0x2a0103e0, 0xd65f03c0 };
    memcpy(page, code, sizeof(code));
    __builtin___clear_cache((char *)page, (char *)page + sizeof(code));
    int (*bump)(void *) = (int (*)(void *))page;
    int n = 0;
    for (int i = 0; i < 1000; i++)
        n = bump(page);
    CHECK(n == 1000 && page[512] == 1000, "the function counted %d calls, its word holds %u", n, page[512]);
    printf("exec_rwx_page_writes_itself: 1000 calls of code that writes its own page\n");
    return 0;
}
