/*
 * vdso_symbols_linux_2_6_39: every process has a vDSO at AT_SYSINFO_EHDR,
 * an ELF shared object whose dynamic symbol table defines Linux's arm64
 * symbols __kernel_clock_gettime, __kernel_gettimeofday,
 * __kernel_clock_getres and __kernel_rt_sigreturn at version LINUX_2.6.39
 * (what glibc's dl_vdso_vsym looks up), with no relocations, one R+X
 * PT_LOAD; __kernel_rt_sigreturn is `mov x8, #139; svc #0`. Called
 * directly, the clock functions answer as the system calls do. [vdso] is
 * read + execute (a store faults with SEGV_ACCERR; mprotect may make it
 * writable, as Linux allows for debuggers), and [vvar] below it is
 * readable and read-only (a store faults, mprotect(PROT_WRITE) is EACCES);
 * neither takes PROT_MTE (EINVAL).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "refpage_test.h"
#include "vdso_test.h"

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);
typedef int (*gettimeofday_fn)(struct timeval *, void *);
typedef int (*clock_getres_fn)(clockid_t, struct timespec *);

static int64_t ns_of(struct timespec t)
{
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct vdso v;
    vdso_open(&v);
    static const char *const names[] = { "__kernel_clock_gettime", "__kernel_gettimeofday",
                                         "__kernel_clock_getres", "__kernel_rt_sigreturn" };
    void *sym[4];
    for (int i = 0; i < 4; i++) {
        sym[i] = vdso_sym(&v, "LINUX_2.6.39", names[i]);
        CHECK(sym[i] != NULL && vdso_contains(&v, (uintptr_t)sym[i]),
              "%s@LINUX_2.6.39: %p, not in the vDSO [%#lx, %#lx)", names[i], sym[i],
              (unsigned long)v.base, (unsigned long)(v.base + v.len));
        CHECK(vdso_sym(&v, "LINUX_2.6.15", names[i]) == NULL, "%s found at another version",
              names[i]);
    }
    const uint32_t *sigreturn = sym[3];
    CHECK(sigreturn[0] == 0xd2801168 && sigreturn[1] == 0xd4000001,
          "__kernel_rt_sigreturn is %#x %#x, want mov x8, #139; svc #0", sigreturn[0], sigreturn[1]);
    printf("vdso_symbols_linux_2_6_39: vDSO at %#lx, %zu bytes; the four symbols at LINUX_2.6.39\n",
           (unsigned long)v.base, v.len);

    struct timespec before, mid, after;
    CHECK(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &before) == 0, "clock_gettime: errno %d", errno);
    CHECK(((clock_gettime_fn)sym[0])(CLOCK_MONOTONIC, &mid) == 0, "__kernel_clock_gettime failed");
    CHECK(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &after) == 0, "clock_gettime: errno %d", errno);
    CHECK(ns_of(before) <= ns_of(mid) && ns_of(mid) <= ns_of(after) && mid.tv_nsec < 1000000000,
          "__kernel_clock_gettime(MONOTONIC) %lld.%09ld not between the system call's %lld.%09ld "
          "and %lld.%09ld",
          (long long)mid.tv_sec, mid.tv_nsec, (long long)before.tv_sec, before.tv_nsec,
          (long long)after.tv_sec, after.tv_nsec);
    struct timeval tv;
    struct { int minuteswest, dsttime; } tz = { 77, 77 };
    CHECK(((gettimeofday_fn)sym[1])(&tv, &tz) == 0 && tz.minuteswest == 0 && tz.dsttime == 0,
          "__kernel_gettimeofday: tz %d %d", tz.minuteswest, tz.dsttime);
    struct timespec res = { 9, 9 }, sys_res;
    CHECK(((clock_getres_fn)sym[2])(CLOCK_MONOTONIC, &res) == 0, "__kernel_clock_getres failed");
    CHECK(syscall(SYS_clock_getres, CLOCK_MONOTONIC, &sys_res) == 0, "clock_getres: errno %d", errno);
    CHECK(res.tv_sec == sys_res.tv_sec && res.tv_nsec == sys_res.tv_nsec,
          "__kernel_clock_getres(MONOTONIC) %ld.%09ld, the system call %ld.%09ld", (long)res.tv_sec,
          res.tv_nsec, (long)sys_res.tv_sec, sys_res.tv_nsec);
    printf("vdso_symbols_linux_2_6_39: called directly, the clocks agree with the system calls\n");

    if (!vdso_is_linux(&v)) {
        printf("vdso_symbols_linux_2_6_39: not Linux's vDSO (PT_LOAD flags %#x, qemu-user's?): "
               "[vdso] and [vvar] protections not checked\n", v.flags);
        return 0;
    }
    /* [vdso] is not writable; [vvar] (the pages below) is readable only. */
    volatile unsigned *vvar = (volatile unsigned *)(v.base - 2 * 4096);
    unsigned seq = *vvar;
    CHECK((seq & 1) == 0 && seq != 0, "the vvar data page's sequence count is %u", seq);
    catch_signal(SIGSEGV, 0, 1);
    uintptr_t pc;
    store_byte_at((void *)vvar, 1, &pc);
    CHECK(caught()->count == 1 && caught()->code == SEGV_ACCERR && caught()->addr == (uintptr_t)vvar,
          "a store to [vvar] %p: want SIGSEGV SEGV_ACCERR there; saw %s", (void *)vvar, caught_str());
    store_byte_at((void *)v.base, 1, &pc);
    CHECK(caught()->count == 2 && caught()->code == SEGV_ACCERR,
          "a store to [vdso]: want SIGSEGV SEGV_ACCERR; saw %s", caught_str());
    errno = 0;
    CHECK(mprotect((void *)vvar, 4096, PROT_READ | PROT_WRITE) == -1 && errno == EACCES,
          "mprotect([vvar], PROT_WRITE): %d, want EACCES", errno);
    if (mte_supported()) {
        errno = 0;
        CHECK(mprotect((void *)vvar, 4096, PROT_READ | PROT_MTE) == -1 && errno == EINVAL,
              "mprotect([vvar], PROT_MTE): %d, want EINVAL", errno);
        errno = 0;
        CHECK(mprotect((void *)v.base, 4096, PROT_READ | PROT_EXEC | PROT_MTE) == -1 && errno == EINVAL,
              "mprotect([vdso], PROT_MTE): %d, want EINVAL", errno);
    }
    /* A debugger's way: [vdso] made writable gets a private copy. */
    CHECK(mprotect((void *)v.base, 4096, PROT_READ | PROT_WRITE | PROT_EXEC) == 0,
          "mprotect([vdso], RWX): errno %d", errno);
    ((volatile unsigned char *)v.base)[EI_PAD] = 0x5a;
    CHECK(((volatile unsigned char *)v.base)[EI_PAD] == 0x5a, "the write to [vdso] did not stick");
    CHECK(mprotect((void *)v.base, 4096, PROT_READ | PROT_EXEC) == 0, "mprotect([vdso], R-X): errno %d",
          errno);
    CHECK(((clock_gettime_fn)sym[0])(CLOCK_MONOTONIC, &mid) == 0, "__kernel_clock_gettime failed");
    printf("vdso_symbols_linux_2_6_39: [vdso] r-x and [vvar] r--: stores get SEGV_ACCERR; "
           "mprotect(PROT_WRITE) of [vvar] EACCES, PROT_MTE EINVAL; [vdso] made writable copies\n");
    return 0;
}
