/*
 * signal_sigaction_rules: rt_sigaction refuses to change SIGKILL and
 * SIGSTOP (EINVAL) but reads them (SIG_DFL); refuses signal 0 and 65 and a
 * sigset size other than 8; drops SIGKILL and SIGSTOP from sa_mask; reads
 * back handler, flags and mask as set. Setting SIG_IGN discards a pending
 * (blocked) instance (POSIX); a signal sent while ignored is dropped unless
 * it is blocked (Linux's sig_ignored: the handler may change before it is
 * unblocked), in which case it stays pending and reaches a later handler.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

#include "refpage_test.h"

static volatile int calls;

static void handler(int sig)
{
    (void)sig;
    calls++;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct sigaction sa, old;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);

    CHECK_ERRNO(sigaction(SIGKILL, &sa, NULL), EINVAL);
    CHECK_ERRNO(sigaction(SIGSTOP, &sa, NULL), EINVAL);
    CHECK(sigaction(SIGKILL, NULL, &old) == 0 && old.sa_handler == SIG_DFL,
          "reading SIGKILL's action: errno %d, handler %p", errno, (void *)old.sa_handler);
    CHECK_ERRNO(sigaction(0, &sa, NULL), EINVAL);
    CHECK_ERRNO(syscall(SYS_rt_sigaction, 65, NULL, NULL, 8), EINVAL);
    CHECK_ERRNO(syscall(SYS_rt_sigaction, SIGUSR1, NULL, NULL, 16), EINVAL);
    printf("signal_sigaction_rules: SIGKILL/SIGSTOP cannot be changed (read: SIG_DFL); signals 0 "
           "and 65 and sigsetsize 16 -> EINVAL\n");

    sa.sa_flags = SA_RESTART | SA_NODEFER;
    sigaddset(&sa.sa_mask, SIGKILL);
    sigaddset(&sa.sa_mask, SIGSTOP);
    sigaddset(&sa.sa_mask, SIGUSR2);
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction(SIGUSR1): errno %d", errno);
    CHECK(sigaction(SIGUSR1, NULL, &old) == 0, "read back: errno %d", errno);
    CHECK(old.sa_handler == handler && (old.sa_flags & (SA_RESTART | SA_NODEFER)) ==
              (SA_RESTART | SA_NODEFER),
          "read back handler %p flags %#x", (void *)old.sa_handler, old.sa_flags);
    CHECK(sigismember(&old.sa_mask, SIGUSR2) && !sigismember(&old.sa_mask, SIGKILL) &&
              !sigismember(&old.sa_mask, SIGSTOP),
          "read back sa_mask: SIGUSR2 %d, SIGKILL %d, SIGSTOP %d; want 1, 0, 0",
          sigismember(&old.sa_mask, SIGUSR2), sigismember(&old.sa_mask, SIGKILL),
          sigismember(&old.sa_mask, SIGSTOP));
    printf("signal_sigaction_rules: handler, flags and sa_mask read back; SIGKILL/SIGSTOP dropped "
           "from sa_mask\n");

    sigset_t usr1, pending;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigprocmask(SIG_BLOCK, &usr1, NULL);
    raise(SIGUSR1);
    CHECK(sigpending(&pending) == 0 && sigismember(&pending, SIGUSR1), "SIGUSR1 not pending");
    signal(SIGUSR1, SIG_IGN);
    CHECK(sigpending(&pending) == 0 && !sigismember(&pending, SIGUSR1),
          "SIGUSR1 still pending after SIG_IGN");
    raise(SIGUSR1);
    CHECK(sigpending(&pending) == 0 && sigismember(&pending, SIGUSR1),
          "a blocked SIGUSR1 sent while ignored was dropped (Linux keeps it pending)");
    signal(SIGUSR1, handler);
    sigprocmask(SIG_UNBLOCK, &usr1, NULL);
    CHECK(calls == 1, "the handler ran %d times for the one SIGUSR1 kept pending", calls);
    signal(SIGUSR1, SIG_IGN);
    raise(SIGUSR1);
    CHECK(sigpending(&pending) == 0 && !sigismember(&pending, SIGUSR1), "an ignored, unblocked SIGUSR1 is pending");
    signal(SIGUSR1, handler);
    CHECK(calls == 1, "the handler ran %d times: an ignored, unblocked SIGUSR1 was not dropped", calls);
    printf("signal_sigaction_rules: SIG_IGN discards the pending SIGUSR1; new ones are dropped unless blocked\n");
    return 0;
}
