/*
 * signal_frame_unwritable--sigsegv: when the kernel cannot write a signal
 * frame (here the SA_ONSTACK handler's alternate stack is a PROT_NONE
 * mapping) the handler does not run and the program gets SIGSEGV instead
 * (Linux's signal_setup_done -> force_sigsegv); with no SIGSEGV handler it
 * ends by SIGSEGV.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "refpage_test.h"

static void on_usr1(int sig)
{
    (void)sig;
    printf("signal_frame_unwritable: FAIL: the SIGUSR1 handler ran on an unwritable stack\n");
    _exit(1);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    void *alt = map_anonymous(64 * 1024, PROT_NONE);
    stack_t ss = {.ss_sp = alt, .ss_size = 64 * 1024, .ss_flags = 0};
    CHECK(sigaltstack(&ss, NULL) == 0, "sigaltstack: errno %d", errno);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction: errno %d", errno);
    printf("signal_frame_unwritable: raising SIGUSR1, whose handler's alternate stack is "
           "PROT_NONE\n");
    raise(SIGUSR1);
    printf("signal_frame_unwritable: FAIL: raise returned\n");
    return 1;
}
