/*
 * signal_fault_while_blocked--sigsegv: a fault's signal is forced (Linux's
 * force_sig_fault): with SIGSEGV blocked by sigprocmask, a load from an
 * unmapped address does not wait for an unblock that would never come; the
 * handler is set aside, the default action applies and the program ends by
 * SIGSEGV, without the handler running.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "refpage_test.h"

static void handler(int sig)
{
    (void)sig;
    printf("signal_fault_while_blocked: FAIL: the handler ran for a blocked SIGSEGV\n");
    _exit(1);
}

static volatile unsigned char *volatile low = (volatile unsigned char *)0x20;

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGSEGV, &sa, NULL) == 0, "sigaction: errno %d", errno);
    sigset_t segv;
    sigemptyset(&segv);
    sigaddset(&segv, SIGSEGV);
    CHECK(sigprocmask(SIG_BLOCK, &segv, NULL) == 0, "sigprocmask: errno %d", errno);
    printf("signal_fault_while_blocked: SIGSEGV blocked, handler installed; loading from 0x20\n");
    unsigned char v = *low;
    printf("signal_fault_while_blocked: FAIL: the load returned %#x and the program goes on\n", v);
    return 1;
}
