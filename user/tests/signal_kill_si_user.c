/*
 * signal_kill_si_user: kill(getpid(), SIGUSR2) to an SA_SIGINFO handler
 * delivers siginfo with si_code SI_USER, si_pid the sender (this program)
 * and si_uid its uid, before kill returns, once per kill. Signal 0 only
 * checks; an unknown pid gives ESRCH and a bad signal number EINVAL.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "refpage_test.h"

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    catch_signal(SIGUSR2, 0, 0);
    struct caught *c = caught();
    pid_t me = getpid();

    CHECK(kill(me, SIGUSR2) == 0, "kill(getpid(), SIGUSR2): errno %d", errno);
    CHECK(c->count == 1 && c->signo == SIGUSR2 && c->code == SI_USER && c->pid == me &&
              c->uid == getuid(),
          "kill(%d, SIGUSR2): want SIGUSR2, si_code SI_USER (0), si_pid %d, si_uid %d; saw %s, "
          "si_pid %d, si_uid %d", me, me, getuid(), caught_str(), c->pid, c->uid);
    printf("signal_kill_si_user: kill(getpid(), SIGUSR2): si_code SI_USER, si_pid %d, si_uid %d\n",
           c->pid, c->uid);

    CHECK(kill(me, SIGUSR2) == 0, "kill(getpid(), SIGUSR2): errno %d", errno);
    CHECK(c->count == 2 && c->code == SI_USER && c->pid == me, "second kill: saw %s",
          caught_str());

    CHECK(kill(me, 0) == 0 && c->count == 2, "kill(getpid(), 0): errno %d, %s", errno,
          caught_str());
    CHECK_ERRNO(kill(999999, SIGUSR2), ESRCH);
    CHECK_ERRNO(kill(me, 65), EINVAL);
    CHECK_ERRNO(kill(me, -1), EINVAL);
    CHECK(c->count == 2, "after the failed calls: %s", caught_str());
    printf("signal_kill_si_user: kill(pid, 0) delivers nothing; unknown pid ESRCH; signal 65 "
           "EINVAL\n");
    return 0;
}
