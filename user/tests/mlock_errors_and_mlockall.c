/*
 * mlock_errors_and_mlockall: the mlock family's errors as Linux 6.1 gives
 * them (mm/mlock.c) and mlockall's flags.
 *   mlock2 with an unknown flag: EINVAL; mlockall(0), (MCL_ONFAULT) alone
 *   or an unknown bit: EINVAL.
 *   A range starting in a hole: ENOMEM, nothing locked; one that runs into
 *   a hole: ENOMEM, the part before the hole stays locked
 *   (apply_vma_lock_flags); munlock likewise.
 *   PROT_NONE memory: locked, but populating it fails: ENOMEM
 *   (__mlock_posix_error_return of -EFAULT).
 *   A length that wraps to zero after rounding: 0, nothing done.
 *   mlockall(MCL_CURRENT | MCL_FUTURE): every area locked, a new mmap and a
 *   grown heap locked and populated; MCL_ONFAULT: new memory locked, not
 *   populated; munlockall undoes all. A forked child inherits no lock
 *   (dup_mmap clears VM_LOCKED; def_flags are not copied).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mm_test.h"

static long vmlck(void)
{
    return proc_kb("/proc/self/status", "VmLck:");
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    unsigned char *p = mmap(NULL, 8 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED, "mmap: %m");
    CHECK(munmap(p + 4 * PAGE, PAGE) == 0, "munmap: %m"); /* a hole at page 4 */

    CHECK_ERRNO(syscall(SYS_mlock2, p, PAGE, 2), EINVAL);
    CHECK_ERRNO(mlockall(0), EINVAL);
    CHECK_ERRNO(mlockall(MCL_ONFAULT), EINVAL);
    CHECK_ERRNO(mlockall(MCL_CURRENT | 8), EINVAL);
    printf("unknown flags: EINVAL\n");

    CHECK_ERRNO(mlock(p + 4 * PAGE, 2 * PAGE), ENOMEM);
    CHECK(vmlck() == 0, "a refused mlock locked %ld kB", vmlck());
    CHECK_ERRNO(mlock(p + 2 * PAGE, 4 * PAGE), ENOMEM);
    CHECK(vmlck() == 8, "mlock into a hole: VmLck %ld kB, want the 8 kB before the hole", vmlck());
    CHECK(resident_pages(p + 2 * PAGE, 2) == 0, "mlock that failed on a hole populated the pages before it");
    CHECK_ERRNO(munlock(p + 2 * PAGE, 4 * PAGE), ENOMEM);
    CHECK(vmlck() == 0, "munlock into a hole left %ld kB locked", vmlck());
    printf("a hole: ENOMEM, the part before it changed, as Linux\n");

    CHECK(mlock(p, 0) == 0 && mlock(p, (size_t)-1) == 0, "a length wrapping to 0: %m");
    CHECK(vmlck() == 0, "a wrapped length locked %ld kB", vmlck());

    unsigned char *none = mmap(NULL, 2 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(none != MAP_FAILED, "mmap: %m");
    CHECK_ERRNO(mlock(none, 2 * PAGE), ENOMEM);
    CHECK(strstr(smaps_vmflags(none), " lo ") != NULL, "PROT_NONE area not marked lo after the failed populate");
    CHECK(munlock(none, 2 * PAGE) == 0, "munlock: %m");
    printf("PROT_NONE: ENOMEM, yet locked\n");

    CHECK(mlockall(MCL_CURRENT | MCL_FUTURE) == 0, "mlockall: %m");
    CHECK(strstr(smaps_vmflags(p), " lo ") != NULL, "mlockall(MCL_CURRENT) left an area unlocked");
    CHECK(resident_pages(p, 4) == 4, "mlockall did not populate");
    unsigned char *n = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(n != MAP_FAILED, "mmap: %m");
    CHECK(strstr(smaps_vmflags(n), " lo ") != NULL, "MCL_FUTURE: a new mapping is not locked");
    CHECK(resident_pages(n, 16) == 16, "MCL_FUTURE: a new mapping has %zu of 16 pages", resident_pages(n, 16));
    void *brk0 = sbrk(0);
    CHECK(sbrk(8 * PAGE) != (void *)-1, "sbrk: %m");
    unsigned char *heap = (unsigned char *)(((uintptr_t)brk0 + PAGE - 1) & ~(uintptr_t)(PAGE - 1));
    CHECK(resident_pages(heap, 4) == 4, "MCL_FUTURE: the grown heap was not populated");

    pid_t child = fork();
    CHECK(child >= 0, "fork: %m");
    if (child == 0) {
        /* Locks are not inherited, nor is MCL_FUTURE. */
        if (vmlck() != 0 || strstr(smaps_vmflags(n), " lo ") != NULL)
            _exit(1);
        void *c = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        _exit(strstr(smaps_vmflags(c), " lo ") != NULL ? 2 : 0);
    }
    int status;
    CHECK(waitpid(child, &status, 0) == child, "waitpid: %m");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child inherited a lock (status %#x)", status);
    printf("mlockall(MCL_CURRENT | MCL_FUTURE): all locked, new memory populated; fork inherits none\n");

    CHECK(mlockall(MCL_FUTURE | MCL_ONFAULT) == 0, "mlockall: %m");
    unsigned char *o = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(o != MAP_FAILED, "mmap: %m");
    CHECK(strstr(smaps_vmflags(o), " lo ") != NULL, "MCL_ONFAULT: a new mapping is not locked");
    CHECK(resident_pages(o, 16) == 0, "MCL_ONFAULT: a new mapping was populated");

    CHECK(munlockall() == 0, "munlockall: %m");
    CHECK(vmlck() == 0, "munlockall left %ld kB locked", vmlck());
    unsigned char *u = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(resident_pages(u, 4) == 0 && strstr(smaps_vmflags(u), " lo ") == NULL, "munlockall kept MCL_FUTURE");

    /* MAP_LOCKED: locked and populated, as mlock. */
    unsigned char *m = mmap(NULL, 8 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
    CHECK(m != MAP_FAILED, "mmap MAP_LOCKED: %m");
    CHECK(strstr(smaps_vmflags(m), " lo ") != NULL && resident_pages(m, 8) == 8, "MAP_LOCKED: not locked and populated");
    CHECK(vmlck() == 32, "MAP_LOCKED: VmLck %ld kB", vmlck());
    printf("MCL_ONFAULT, munlockall and MAP_LOCKED as Linux\n");
    return 0;
}
