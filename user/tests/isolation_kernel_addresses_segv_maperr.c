/*
 * isolation_kernel_addresses_segv_maperr: EL0 can neither read, write nor
 * execute a kernel (TTBR1) address. Each access ends the process that made
 * it with SIGSEGV, si_code SEGV_MAPERR (no user area covers the address:
 * arch/arm64/mm/fault.c, do_translation_fault -> do_bad_area for TTBR1
 * addresses, do_page_fault -> VM_FAULT_BADMAP for a permission fault on a
 * kernel page), si_addr the address; and the kernel carries on. Checked in
 * forked children for the kernel image's link address, the linear map of
 * the first RAM page of `virt`, the top page of the address space, and an
 * address with a tag in its top byte, whose si_addr is untagged by sign
 * extension from bit 55 (arm64's untagged_addr) unless the handler asked
 * for SA_EXPOSE_TAGBITS.
 */
#include "refpage_test.h"

/* Kernel half addresses: the image where this kernel (and a Linux without
 * KASLR) links it, a page of its text, the last page of the address space. */
static const uintptr_t kernel_addresses[] = {
    0xffff800000000000UL,
    0xffff800000001000UL,
    0xfffffffffffff000UL,
};

/* Where qemu-user (make user-test-linux) is not Linux: for a data access to
 * the linear map or to a tagged TTBR1 address it reports si_addr 0, where
 * Linux reports the address (untagged). For these the test prints what it
 * saw, and tests/run.sh checks the line this kernel prints. */
static void check_maperr_print_addr(struct caught r, const char *what, uintptr_t want)
{
    CHECK(r.signo == SIGSEGV && r.code == SEGV_MAPERR, "%s: want SIGSEGV SEGV_MAPERR; saw signo %d si_code %d",
          what, r.signo, r.code);
    CHECK(r.addr == want || r.addr == 0, "%s: si_addr %#lx, want %#lx", what, (unsigned long)r.addr,
          (unsigned long)want);
    printf("isolation_kernel_addresses_segv_maperr: %s -> SIGSEGV SEGV_MAPERR, si_addr %#lx\n", what,
           (unsigned long)r.addr);
}

static void load(void *addr)
{
    uintptr_t pc;
    load_byte_at(addr, &pc);
}

static void store(void *addr)
{
    uintptr_t pc;
    store_byte_at(addr, 0x5a, &pc);
}

static void execute(void *addr)
{
    ((void (*)(void))addr)();
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    char what[96];

    for (unsigned i = 0; i < sizeof(kernel_addresses) / sizeof(kernel_addresses[0]); i++) {
        void *a = (void *)kernel_addresses[i];
        struct caught r;

        r = fault_in_child(load, a, 0);
        snprintf(what, sizeof(what), "load from %p", a);
        CHECK_CHILD_FAULT(r, SIGSEGV, SEGV_MAPERR, a, what);
        CHECK(r.fault_address == (uintptr_t)a, "%s: fault_address %#lx", what, (unsigned long)r.fault_address);

        r = fault_in_child(store, a, 0);
        snprintf(what, sizeof(what), "store to %p", a);
        CHECK_CHILD_FAULT(r, SIGSEGV, SEGV_MAPERR, a, what);

        r = fault_in_child(execute, a, 0);
        snprintf(what, sizeof(what), "branch to %p", a);
        CHECK_CHILD_FAULT(r, SIGSEGV, SEGV_MAPERR, a, what);
        CHECK(r.pc == (uintptr_t)a, "%s: pc %#lx in the handler, want the address", what, (unsigned long)r.pc);
        printf("isolation_kernel_addresses_segv_maperr: load, store, branch to %p -> SIGSEGV SEGV_MAPERR\n", a);
    }

    /* The linear map of the first RAM page of `virt`. */
    void *linear = (void *)0xffff000040000000UL;
    struct caught r = fault_in_child(load, linear, 0);
    check_maperr_print_addr(r, "load from the linear map 0xffff000040000000", (uintptr_t)linear);
    r = fault_in_child(store, linear, 0);
    check_maperr_print_addr(r, "store to the linear map 0xffff000040000000", (uintptr_t)linear);
    r = fault_in_child(execute, linear, 0);
    CHECK_CHILD_FAULT(r, SIGSEGV, SEGV_MAPERR, linear, "branch to the linear map");

    /* A tag in the top byte does not make a kernel address reachable. Its
     * si_addr keeps the tag even without SA_EXPOSE_TAGBITS: Linux 6.1's
     * untagged_addr clears the tag of TTBR0 (bit 55 clear) addresses only
     * (seen on Linux 6.1 under scripts/bench-linux.sh). */
    void *tagged = (void *)0x5aff800000000000UL;
    r = fault_in_child(load, tagged, 0);
    check_maperr_print_addr(r, "load from tagged 0x5aff800000000000", (uintptr_t)tagged);
    CHECK(r.fault_address == r.addr, "tagged load: fault_address %#lx, si_addr %#lx", (unsigned long)r.fault_address,
          (unsigned long)r.addr);
    r = fault_in_child(load, tagged, SA_EXPOSE_TAGBITS);
    check_maperr_print_addr(r, "load from tagged 0x5aff800000000000 with SA_EXPOSE_TAGBITS", (uintptr_t)tagged);
    return 0;
}
