/*
 * ptrace_peek_poke_vvar_is_eio: PTRACE_PEEKDATA and POKEDATA of the
 * tracee's [vvar] fail with EIO. Linux 6.1 maps [vvar] VM_PFNMAP:
 * get_user_pages refuses it (check_vma_flags) and the special mapping has
 * no `access` operation for __access_remote_vm to fall back on, so nothing
 * is read or written. [vdso] just above it is an ordinary private mapping
 * a debugger may read (and write, copy-on-write: gdb's breakpoints).
 */
#include "refpage_test.h"
#include "ptrace_test.h"

static int body(void)
{
    return 0;
}

int main(void)
{
    unsigned long vdso = getauxval(AT_SYSINFO_EHDR);
    CHECK(vdso != 0, "no AT_SYSINFO_EHDR");
    unsigned long vvar = vdso - 2 * 4096; /* VVAR_NR_PAGES = 2, right below */
    pid_t c = start_tracee(body);
    unsigned long word = 0x1234;
    errno = 0;
    long r = ptrace_raw(PTRACE_PEEKDATA, c, vvar, (unsigned long)&word);
    CHECK(r == -1 && errno == EIO, "PEEKDATA of [vvar] %#lx: %ld errno %d (word %#lx); want EIO", vvar, r, errno, word);
    errno = 0;
    r = ptrace_raw(PTRACE_POKEDATA, c, vvar, 0);
    CHECK(r == -1 && errno == EIO, "POKEDATA of [vvar]: %ld errno %d; want EIO", r, errno);
    r = ptrace_raw(PTRACE_PEEKDATA, c, vdso, (unsigned long)&word);
    CHECK(r == 0 && word == *(unsigned long *)vdso, "PEEKDATA of [vdso]: %ld errno %d word %#lx", r, errno, word);
    r = ptrace_raw(PTRACE_POKEDATA, c, vdso + 8, *(unsigned long *)(vdso + 8));
    CHECK(r == 0, "POKEDATA of [vdso] (same word back): errno %d", errno);
    CHECK(ptrace(PTRACE_CONT, c, 0, 0) == 0, "PTRACE_CONT: errno %d", errno);
    int status = wait_end(c);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "tracee status %#x", status);
    return 0;
}
