/*
 * signal_sa_resethand: an SA_RESETHAND handler runs once and the
 * disposition goes back to SIG_DFL when the signal is delivered: inside
 * the handler and after it, sigaction(sig, NULL, &old) reads SIG_DFL. (A
 * second raise would now kill the program: SIGUSR1's default action is to
 * terminate, so the test only reads the disposition.) Without the flag the
 * handler stays.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "refpage_test.h"

static volatile int calls;
static volatile int dfl_inside = -1;

static void handler(int sig)
{
    struct sigaction now;
    calls++;
    if (sigaction(sig, NULL, &now) == 0)
        dfl_inside = now.sa_handler == SIG_DFL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct sigaction sa, old;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = handler;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction: errno %d", errno);
    CHECK(sigaction(SIGUSR1, NULL, &old) == 0 && old.sa_handler == handler,
          "before delivery the disposition reads %p, want the handler %p", (void *)old.sa_handler,
          (void *)handler);

    raise(SIGUSR1);
    CHECK(calls == 1, "the handler ran %d times", calls);
    CHECK(dfl_inside == 1, "inside the SA_RESETHAND handler the disposition was %s",
          dfl_inside == 0 ? "still the handler" : "unreadable");
    CHECK(sigaction(SIGUSR1, NULL, &old) == 0 && old.sa_handler == SIG_DFL,
          "after delivery the disposition reads %p, want SIG_DFL", (void *)old.sa_handler);
    printf("signal_sa_resethand: SA_RESETHAND: handler ran once; disposition is SIG_DFL inside it "
           "and after\n");

    sa.sa_flags = 0;
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction: errno %d", errno);
    raise(SIGUSR1);
    raise(SIGUSR1);
    CHECK(calls == 3 && sigaction(SIGUSR1, NULL, &old) == 0 && old.sa_handler == handler,
          "without SA_RESETHAND: %d calls, disposition %p", calls, (void *)old.sa_handler);
    printf("signal_sa_resethand: without the flag the handler stays for every delivery\n");
    return 0;
}
