/*
 * signal_frame_unwritable_sigsegv_handled: when the frame for a SIGUSR1
 * handler cannot be written (its SA_ONSTACK alternate stack is PROT_NONE),
 * Linux raises SIGSEGV with force_sig(SIGSEGV) (signal_setup_done ->
 * force_sigsegv(SIGUSR1)): a SIGSEGV handler that runs on the normal stack
 * still gets it, with si_code SI_KERNEL, and the program goes on after the
 * raise. Only a failure to set up a SIGSEGV handler's own frame makes
 * SIGSEGV fatal.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "refpage_test.h"

static volatile int usr1_calls;

static void on_usr1(int sig)
{
    (void)sig;
    usr1_calls++;
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
    catch_signal(SIGSEGV, 0, 0);

    raise(SIGUSR1);
    struct caught *c = caught();
    CHECK(usr1_calls == 0, "the SIGUSR1 handler ran %d times on an unwritable stack", usr1_calls);
    CHECK(c->count == 1 && c->signo == SIGSEGV && c->code == SI_KERNEL,
          "want one SIGSEGV with si_code SI_KERNEL (%d) for the failed frame; saw %s", SI_KERNEL,
          caught_str());
    printf("signal_frame_unwritable_sigsegv_handled: SIGUSR1's frame could not be written: the "
           "SIGSEGV handler ran (si_code SI_KERNEL), the program goes on\n");
    return 0;
}
