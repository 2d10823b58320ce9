/*
 * vdso_vvar_timens_page_sigbus: [vvar] is two pages below [vdso], as on
 * Linux 6.1: the data page, then the page kept for time namespaces, which
 * outside a time namespace has nothing behind it: a read of it is SIGBUS,
 * BUS_ADRERR at that address (Linux's vvar_fault returns VM_FAULT_SIGBUS).
 * The data page reads, with an even sequence count.
 */
#include <signal.h>
#include <stdio.h>

#include "refpage_test.h"
#include "vdso_test.h"

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct vdso v;
    vdso_open(&v);
    if (!vdso_is_linux(&v)) {
        printf("vdso_vvar_timens_page_sigbus: not Linux's vDSO (PT_LOAD flags %#x, qemu-user's?): "
               "no [vvar] to check\n", v.flags);
        return 0;
    }
    volatile unsigned *data = (volatile unsigned *)(v.base - 2 * 4096);
    volatile unsigned char *timens = (volatile unsigned char *)(v.base - 4096);
    unsigned seq = *data;
    CHECK(seq % 2 == 0, "the data page's sequence count is odd (%u) between updates", seq);
    catch_signal(SIGBUS, 0, 1);
    uintptr_t pc;
    load_byte_at(timens, &pc);
    CHECK(caught()->count == 1 && caught()->signo == SIGBUS && caught()->code == BUS_ADRERR &&
              caught()->addr == (uintptr_t)timens && caught()->pc == pc,
          "a read of [vvar]'s time-namespace page %p: want SIGBUS BUS_ADRERR there; saw %s",
          (void *)timens, caught_str());
    printf("vdso_vvar_timens_page_sigbus: data page seq %u; a read of the time-namespace page: "
           "SIGBUS BUS_ADRERR at %p\n", seq, (void *)timens);
    return 0;
}
