/*
 * signal_tgkill_si_tkill: tgkill(getpid(), gettid(), sig) and
 * tkill(gettid(), sig) deliver siginfo with si_code SI_TKILL (-6) and
 * si_pid the sender. tgkill with a thread group that is not the caller's
 * gives ESRCH, with tgid or tid <= 0 EINVAL.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "refpage_test.h"

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    catch_signal(SIGUSR1, 0, 0);
    struct caught *c = caught();
    long pid = syscall(SYS_getpid), tid = syscall(SYS_gettid);

    CHECK(syscall(SYS_tgkill, pid, tid, SIGUSR1) == 0, "tgkill: errno %d", errno);
    CHECK(c->count == 1 && c->signo == SIGUSR1 && c->code == SI_TKILL && c->pid == pid,
          "tgkill(%ld, %ld, SIGUSR1): want si_code SI_TKILL (%d), si_pid %ld; saw %s, si_pid %d",
          pid, tid, SI_TKILL, pid, caught_str(), c->pid);
    printf("signal_tgkill_si_tkill: tgkill(getpid(), gettid(), SIGUSR1): si_code SI_TKILL, "
           "si_pid %d\n", c->pid);

    CHECK(syscall(SYS_tkill, tid, SIGUSR1) == 0, "tkill: errno %d", errno);
    CHECK(c->count == 2 && c->code == SI_TKILL && c->pid == pid, "tkill(%ld, SIGUSR1): saw %s",
          tid, caught_str());
    printf("signal_tgkill_si_tkill: tkill(gettid(), SIGUSR1): si_code SI_TKILL\n");

    CHECK_ERRNO(syscall(SYS_tgkill, 999999, tid, SIGUSR1), ESRCH);
    CHECK_ERRNO(syscall(SYS_tgkill, 0, tid, SIGUSR1), EINVAL);
    CHECK_ERRNO(syscall(SYS_tgkill, pid, 0, SIGUSR1), EINVAL);
    CHECK(c->count == 2, "after the failed calls: %s", caught_str());
    printf("signal_tgkill_si_tkill: tgkill to another group ESRCH, tgid/tid 0 EINVAL\n");
    return 0;
}
