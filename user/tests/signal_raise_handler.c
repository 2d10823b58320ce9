/*
 * signal_raise_handler: raise(SIGUSR1) with a handler installed by
 * sigaction runs the handler once, before raise returns, with signal
 * number SIGUSR1; glibc's raise is tgkill(getpid(), gettid(), sig), so
 * si_code is SI_TKILL and si_pid the program's pid. A plain (non
 * SA_SIGINFO) handler gets the signal number. Afterwards the program goes
 * on normally.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "refpage_test.h"

static volatile int plain_calls, plain_sig;

static void plain(int sig)
{
    plain_calls++;
    plain_sig = sig;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    catch_signal(SIGUSR1, 0, 0);
    CHECK(raise(SIGUSR1) == 0, "raise: errno %d", errno);
    struct caught *c = caught();
    CHECK(c->count == 1 && c->signo == SIGUSR1 && c->code == SI_TKILL && c->pid == getpid(),
          "raise(SIGUSR1): want one SIGUSR1, si_code SI_TKILL (%d), si_pid %d; saw %s, si_pid %d",
          SI_TKILL, getpid(), caught_str(), c->pid);
    printf("signal_raise_handler: raise(SIGUSR1): handler ran once, si_code SI_TKILL, si_pid %d\n",
           c->pid);

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = plain;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction: errno %d", errno);
    CHECK(raise(SIGUSR1) == 0 && raise(SIGUSR1) == 0, "raise: errno %d", errno);
    CHECK(plain_calls == 2 && plain_sig == SIGUSR1, "plain handler: %d calls, last signal %d",
          plain_calls, plain_sig);
    printf("signal_raise_handler: a plain sa_handler runs once per raise, with sig = SIGUSR1\n");
    return 0;
}
