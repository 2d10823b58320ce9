/*
 * signal_segv_accerr: an access the area's protection forbids raises
 * SIGSEGV with si_code SEGV_ACCERR and si_addr the exact address: a store
 * to a PROT_READ page (read first, so a page is mapped, and untouched), a
 * store to a PROT_READ page never touched, a load from a PROT_NONE page,
 * and a store into the program's own code. The handler skips the access.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "refpage_test.h"

#define PAGE 4096

static void expect_accerr(int n, uintptr_t addr, uintptr_t pc, const char *what)
{
    struct caught *c = caught();
    CHECK(c->count == n && c->signo == SIGSEGV && c->code == SEGV_ACCERR && c->addr == addr &&
              c->pc == pc,
          "%s: want SIGSEGV SEGV_ACCERR at %#lx, pc %#lx; saw %s", what, (unsigned long)addr,
          (unsigned long)pc, caught_str());
    printf("signal_segv_accerr: %s -> SIGSEGV SEGV_ACCERR, si_addr %#lx\n", what,
           (unsigned long)addr);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    catch_signal(SIGSEGV, 0, 1);
    uintptr_t pc;

    volatile unsigned char *ro = map_anonymous(2 * PAGE, PROT_READ);
    CHECK(ro[123] == 0, "a new PROT_READ page reads %#x", ro[123]);
    store_byte_at(ro + 123, 1, &pc);
    expect_accerr(1, (uintptr_t)(ro + 123), pc, "store to a read PROT_READ page");
    CHECK(ro[123] == 0, "the refused store wrote %#x", ro[123]);

    store_byte_at(ro + PAGE + 7, 1, &pc);
    expect_accerr(2, (uintptr_t)(ro + PAGE + 7), pc, "store to an untouched PROT_READ page");

    volatile unsigned char *none = map_anonymous(PAGE, PROT_NONE);
    load_byte_at(none + 4000, &pc);
    expect_accerr(3, (uintptr_t)(none + 4000), pc, "load from a PROT_NONE page");

    volatile unsigned char *code = (volatile unsigned char *)(uintptr_t)&main;
    store_byte_at(code, 0, &pc);
    expect_accerr(4, (uintptr_t)code, pc, "store into the program's code");
    return 0;
}
