/*
 * isolation_execute_needs_prot_exec: EL0 executes only what it mapped
 * PROT_EXEC. A branch into a PROT_READ | PROT_WRITE page (touched or not)
 * or a PROT_NONE page ends the process with SIGSEGV, si_code SEGV_ACCERR
 * (the area exists but lacks VM_EXEC: arch/arm64/mm/fault.c,
 * do_page_fault -> VM_FAULT_BADACCESS), si_addr and pc the branch target.
 * A PROT_READ | PROT_WRITE | PROT_EXEC page runs the code written into it,
 * and again after it is rewritten, as on Linux (which does not set
 * SCTLR_EL1.WXN); the page is writable and executable at once.
 * mprotect adding PROT_EXEC
 * to a written page makes it run too.
 */
#include "refpage_test.h"

#define PAGE 4096

/* A64: MOVZ W0, #imm16; RET. */
static void write_return_constant(volatile uint32_t *code, uint16_t value)
{
    code[0] = 0x52800000u | ((uint32_t)value << 5);
    code[1] = 0xd65f03c0u;
    __builtin___clear_cache((char *)code, (char *)(code + 2));
}

static void execute(void *addr)
{
    ((void (*)(void))addr)();
}

static int call(volatile uint32_t *code)
{
    return ((int (*)(void))(uintptr_t)code)();
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct caught r;

    volatile uint32_t *rw = map_anonymous(2 * PAGE, PROT_READ | PROT_WRITE);
    write_return_constant(rw, 1);
    r = fault_in_child(execute, (void *)rw, 0);
    CHECK_CHILD_FAULT(r, SIGSEGV, SEGV_ACCERR, rw, "branch to a written PROT_READ|PROT_WRITE page");
    CHECK(r.pc == (uintptr_t)rw, "pc %#lx in the handler, want %p", (unsigned long)r.pc, (void *)rw);
    void *untouched = (char *)rw + PAGE + 64;
    r = fault_in_child(execute, untouched, 0);
    CHECK_CHILD_FAULT(r, SIGSEGV, SEGV_ACCERR, untouched, "branch to an untouched PROT_READ|PROT_WRITE page");
    printf("isolation_execute_needs_prot_exec: branch to a PROT_READ|PROT_WRITE page -> SIGSEGV SEGV_ACCERR\n");

    void *none = map_anonymous(PAGE, PROT_NONE);
    r = fault_in_child(execute, none, 0);
    CHECK_CHILD_FAULT(r, SIGSEGV, SEGV_ACCERR, none, "branch to a PROT_NONE page");
    printf("isolation_execute_needs_prot_exec: branch to a PROT_NONE page -> SIGSEGV SEGV_ACCERR\n");

    volatile uint32_t *rwx = map_anonymous(PAGE, PROT_READ | PROT_WRITE | PROT_EXEC);
    write_return_constant(rwx, 0x1234);
    int got = call(rwx);
    CHECK(got == 0x1234, "code written to a PROT_READ|PROT_WRITE|PROT_EXEC page returned %#x", got);
    write_return_constant(rwx, 0x4321);
    got = call(rwx);
    CHECK(got == 0x4321, "rewritten code returned %#x, want 0x4321", got);
    CHECK(rwx[1] == 0xd65f03c0u, "the page reads %#x after running", rwx[1]);
    printf("isolation_execute_needs_prot_exec: a PROT_READ|PROT_WRITE|PROT_EXEC page runs, is rewritten, runs again\n");

    CHECK(mprotect((void *)rw, PAGE, PROT_READ | PROT_EXEC) == 0, "mprotect PROT_READ|PROT_EXEC: errno %d", errno);
    got = call(rw);
    CHECK(got == 1, "code in a page made PROT_READ|PROT_EXEC returned %#x, want 1", got);
    printf("isolation_execute_needs_prot_exec: mprotect(PROT_READ|PROT_EXEC) on a written page runs it\n");
    return 0;
}
