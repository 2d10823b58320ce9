/*
 * signal_sa_flags_unknown_cleared: rt_sigaction keeps only the sa_flags
 * bits the kernel knows (Linux 5.11's UAPI_SA_FLAGS: SA_NOCLDSTOP,
 * SA_NOCLDWAIT, SA_SIGINFO, SA_ONSTACK, SA_RESTART, SA_NODEFER,
 * SA_RESETHAND, SA_EXPOSE_TAGBITS and, on arm64, SA_RESTORER) and clears
 * the rest, so that reading the action back tells a program which flags
 * are supported. That is how a program learns that SA_EXPOSE_TAGBITS
 * works: set it with SA_UNSUPPORTED (a bit that will never be supported),
 * read back, and see SA_EXPOSE_TAGBITS without SA_UNSUPPORTED
 * (sigaction(2), "Dynamically probing for flag bit support").
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "refpage_test.h"

static void handler(int sig)
{
    (void)sig;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct sigaction sa, old;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = handler;
    sa.sa_flags = SA_UNSUPPORTED | SA_EXPOSE_TAGBITS | SA_RESTART | SA_ONSTACK | 0x00100000;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction: errno %d", errno);
    CHECK(sigaction(SIGUSR1, NULL, &old) == 0, "sigaction (read back): errno %d", errno);
    int known = SA_EXPOSE_TAGBITS | SA_RESTART | SA_ONSTACK;
    CHECK((old.sa_flags & known) == known,
          "read back sa_flags %#x: a known flag was dropped (want %#x kept)", old.sa_flags, known);
    CHECK(!(old.sa_flags & SA_UNSUPPORTED) && !(old.sa_flags & 0x00100000),
          "read back sa_flags %#x: SA_UNSUPPORTED (0x400) or the unknown bit 0x100000 was kept",
          old.sa_flags);
    printf("signal_sa_flags_unknown_cleared: set %#x, read back %#x: SA_UNSUPPORTED and 0x100000 "
           "cleared, SA_EXPOSE_TAGBITS kept (supported)\n", sa.sa_flags, old.sa_flags);
    return 0;
}
