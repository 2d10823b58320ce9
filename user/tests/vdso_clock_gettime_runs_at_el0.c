/*
 * vdso_clock_gettime_runs_at_el0: glibc's clock_gettime and gettimeofday
 * do not enter the kernel for the clocks the vDSO serves; the vDSO falls
 * back to the system call for the others. Seen through MTE in synchronous
 * mode: a system call given a wrongly tagged buffer fails with EFAULT,
 * while a store at EL0 through it raises SIGSEGV/SEGV_MTESERR. So
 * clock_gettime(CLOCK_MONOTONIC, wrong tag) must fault inside the vDSO's
 * text, and clock_gettime(CLOCK_PROCESS_CPUTIME_ID, wrong tag) must return
 * EFAULT, untouched. Through the right tag both work: the vDSO keeps tag
 * checks as they are, for PROT_MTE programs too.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

#include "refpage_test.h"
#include "vdso_test.h"

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    MTE_SKIP_UNLESS_SUPPORTED("vdso_clock_gettime_runs_at_el0");
    struct vdso v;
    vdso_open(&v);
    mte_set_ctrl(MTE_CTRL(PR_MTE_TCF_SYNC));
    unsigned char *buf = map_anonymous(4096, PROT_READ | PROT_WRITE | PROT_MTE);
    struct timespec *good = mte_tagged(buf, 3);
    struct timespec *bad = mte_tagged(buf, 5);
    for (int g = 0; g < 4096; g += MTE_GRANULE)
        mte_stg(buf + g, 3);

    CHECK(clock_gettime(CLOCK_MONOTONIC, good) == 0 && good->tv_nsec < 1000000000,
          "clock_gettime(MONOTONIC, right tag): errno %d", errno);
    struct timeval *tv = (struct timeval *)good;
    CHECK(gettimeofday(tv, NULL) == 0, "gettimeofday(right tag): errno %d", errno);

    if (!vdso_is_linux(&v)) {
        printf("vdso_clock_gettime_runs_at_el0: not Linux's vDSO (PT_LOAD flags %#x): qemu-user's makes the "
               "system calls and checks no tags in them: where the calls run not checked\n", v.flags);
        return 0;
    }
    /* A clock the vDSO passes to the kernel: EFAULT, nothing written. */
    errno = 0;
    int r = clock_gettime(CLOCK_PROCESS_CPUTIME_ID, bad);
    CHECK(r == -1 && errno == EFAULT, "clock_gettime(PROCESS_CPUTIME_ID, wrong tag): %d, errno %d; "
          "want -1 EFAULT from the system call", r, errno);

    static const clockid_t served[] = { CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW,
                                        CLOCK_BOOTTIME, CLOCK_REALTIME_COARSE,
                                        CLOCK_MONOTONIC_COARSE };
    catch_signal(SIGSEGV, 0, 1);
    for (unsigned i = 0; i < sizeof(served) / sizeof(served[0]); i++) {
        int before = caught()->count;
        clock_gettime(served[i], bad);
        /* One fault per store the vDSO makes (Linux's coarse path makes two). */
        CHECK(caught()->count > before && caught()->code == SEGV_MTESERR &&
                  vdso_contains(&v, caught()->pc),
              "clock_gettime(%d, wrong tag): want a tag-check fault in the vDSO [%#lx, %#lx); saw %s",
              (int)served[i], (unsigned long)v.base, (unsigned long)(v.base + v.len), caught_str());
    }
    int before = caught()->count;
    gettimeofday((struct timeval *)bad, NULL);
    CHECK(caught()->count > before && caught()->code == SEGV_MTESERR && vdso_contains(&v, caught()->pc),
          "gettimeofday(wrong tag): want a tag-check fault in the vDSO; saw %s", caught_str());
    printf("vdso_clock_gettime_runs_at_el0: six clocks and gettimeofday faulted at EL0 in the vDSO "
           "(last pc %#lx); CLOCK_PROCESS_CPUTIME_ID went to the kernel (EFAULT)\n",
           (unsigned long)caught()->pc);
    return 0;
}
