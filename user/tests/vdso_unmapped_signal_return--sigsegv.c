/*
 * vdso_unmapped_signal_return--sigsegv: a handler without SA_RESTORER
 * returns to __kernel_rt_sigreturn in the vDSO mapped at exec (Linux's
 * setup_return uses mm->context.vdso, which munmap does not change): with
 * the vDSO unmapped, the handler runs, its return jumps to the unmapped
 * address, and the program is killed by SIGSEGV, as on Linux.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vdso_test.h"

static volatile int handled;

static void handler(int sig)
{
    (void)sig;
    handled = 1;
    static const char msg[] = "vdso_unmapped_signal_return: handler ran; returning to the unmapped vDSO\n";
    write(1, msg, sizeof(msg) - 1);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct vdso v;
    vdso_open(&v);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = handler;
    if (sigaction(SIGUSR1, &sa, NULL) != 0)
        return 1;
    /* [vvar] (two pages) and [vdso]. */
    if (munmap((void *)(v.base - 2 * 4096), 2 * 4096 + v.len) != 0) {
        perror("munmap");
        return 1;
    }
    printf("vdso_unmapped_signal_return: unmapped [vvar] and [vdso] at %#lx; raising SIGUSR1\n", (unsigned long)v.base);
    raise(SIGUSR1);
    printf("vdso_unmapped_signal_return: raise returned (handled %d): want SIGSEGV\n", handled);
    return 0;
}
