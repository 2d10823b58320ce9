/*
 * signal_sa_nodefer: with SA_NODEFER a signal raised inside its own
 * handler is delivered at once, nested (depth 2); without it the signal is
 * blocked while its handler runs, stays pending, and is delivered after the
 * handler returns (depth never above 1, two calls in all).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "refpage_test.h"

static volatile int depth, max_depth, calls, blocked_inside = -1;

static void handler(int sig)
{
    sigset_t now;
    calls++;
    depth++;
    if (depth > max_depth)
        max_depth = depth;
    if (sigprocmask(SIG_BLOCK, NULL, &now) == 0 && calls == 1)
        blocked_inside = sigismember(&now, sig);
    if (calls == 1)
        raise(sig);
    depth--;
}

static void install(int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = handler;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction: errno %d", errno);
    depth = max_depth = calls = 0;
    blocked_inside = -1;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);

    install(SA_NODEFER);
    raise(SIGUSR1);
    CHECK(calls == 2 && max_depth == 2 && blocked_inside == 0,
          "SA_NODEFER: %d calls, max depth %d, SIGUSR1 blocked in the handler: %d; want 2, 2, 0",
          calls, max_depth, blocked_inside);
    printf("signal_sa_nodefer: SA_NODEFER: raise inside the handler nests (depth 2)\n");

    install(0);
    raise(SIGUSR1);
    CHECK(calls == 2 && max_depth == 1 && blocked_inside == 1,
          "without SA_NODEFER: %d calls, max depth %d, SIGUSR1 blocked in the handler: %d; want "
          "2, 1, 1", calls, max_depth, blocked_inside);
    printf("signal_sa_nodefer: without it the second raise waits until the handler returns\n");
    return 0;
}
