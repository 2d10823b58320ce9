/*
 * mremap_vdso_moves_whole_and_never_splits: the vDSO's special mappings
 * under mremap and munmap, as on Linux 6.1 (mm/mmap.c's special mappings:
 * VM_DONTEXPAND, special_mapping_split, arm64's vdso_mremap). Growing
 * [vdso] is EFAULT, MREMAP_DONTUNMAP of it EINVAL, shrinking or unmapping
 * part of [vvar] EINVAL (it may not be split); [vdso] moved whole works,
 * and a signal handler then still returns through its sigreturn
 * trampoline at the new place.
 */
#define _GNU_SOURCE
#include <sys/mman.h>

#include "proc_test.h"

#define PAGE 4096UL

static volatile int handled;
static void on_usr1(int sig)
{
    (void)sig;
    handled++;
}

/* The range of the maps line named `name`. */
static void find(const char *name, unsigned long *lo, unsigned long *hi)
{
    static char buf[1 << 16];
    CHECK(read_file("/proc/self/maps", buf, sizeof buf) > 0, "read maps: %m");
    for (char *p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        size_t len = strcspn(p, "\n");
        char line[256];
        snprintf(line, sizeof line, "%.*s", (int)len, p);
        if (strstr(line, name) && sscanf(line, "%lx-%lx", lo, hi) == 2)
            return;
    }
    CHECK(0, "no %s line in /proc/self/maps", name);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    unsigned long vdso_lo, vdso_hi, vvar_lo, vvar_hi;
    find("[vdso]", &vdso_lo, &vdso_hi);
    find("[vvar]", &vvar_lo, &vvar_hi);
    void *vdso = (void *)vdso_lo, *vvar = (void *)vvar_lo;
    size_t vdso_len = vdso_hi - vdso_lo, vvar_len = vvar_hi - vvar_lo;
    CHECK(vvar_len >= 2 * PAGE, "[vvar] is %zu bytes; this test cuts it in two", vvar_len);

    CHECK_ERRNO(mremap(vdso, vdso_len, vdso_len + PAGE, 0), EFAULT);
    CHECK_ERRNO(mremap(vdso, vdso_len, vdso_len + PAGE, MREMAP_MAYMOVE), EFAULT);
    CHECK_ERRNO(mremap(vdso, vdso_len, vdso_len, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL), EINVAL);
    CHECK_ERRNO(mremap(vvar, vvar_len, PAGE, 0), EINVAL);
    CHECK_ERRNO(munmap((char *)vvar + PAGE, PAGE), EINVAL);
    void *dst = map_anonymous(4 * PAGE, PROT_NONE);
    CHECK_ERRNO(mremap(vvar, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, dst), EINVAL);
    printf("mremap_vdso: growing [vdso] EFAULT, DONTUNMAP of it EINVAL, splitting [vvar] EINVAL\n");

    void *moved = mremap(vdso, vdso_len, vdso_len, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
    CHECK(moved == dst, "moving [vdso] whole: %p, %m", moved);
    unsigned long lo, hi;
    find("[vdso]", &lo, &hi);
    CHECK(lo == (uintptr_t)dst && hi - lo == vdso_len, "[vdso] is now at %#lx-%#lx, want %p", lo, hi, dst);
    signal(SIGUSR1, on_usr1);
    raise(SIGUSR1);
    CHECK(handled == 1, "the handler ran %d times", handled);
    printf("mremap_vdso: [vdso] moved whole; a signal handler returned through it at its new place\n");
    return 0;
}
