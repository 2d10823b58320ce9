/*
 * signal_rt_queue_limit: queued real-time signals are bounded (Linux's
 * RLIMIT_SIGPENDING). With SIGRTMIN blocked, tgkill() to oneself succeeds
 * until the queue is full and then fails with EAGAIN; kill() is never
 * refused (Linux loses the signal's information instead); once unblocked,
 * every queued instance is delivered, and the process goes on.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "refpage_test.h"

#define MOST 1000000

static volatile unsigned long delivered;

static void on_rt(int sig)
{
    (void)sig;
    delivered++;
}

int main(void)
{
    struct sigaction sa = {0};
    sa.sa_handler = on_rt;
    CHECK(sigaction(SIGRTMIN, &sa, NULL) == 0, "sigaction: %s", strerror(errno));
    sigset_t rt;
    sigemptyset(&rt);
    sigaddset(&rt, SIGRTMIN);
    CHECK(sigprocmask(SIG_BLOCK, &rt, NULL) == 0, "sigprocmask: %s", strerror(errno));

    pid_t pid = getpid(), tid = (pid_t)syscall(SYS_gettid);
    unsigned long queued = 0;
    while (queued < MOST && syscall(SYS_tgkill, pid, tid, SIGRTMIN) == 0)
        queued++;
    CHECK(queued < MOST, "%lu tgkill()s queued and none refused", queued);
    CHECK(errno == EAGAIN, "tgkill #%lu: want EAGAIN, got %s", queued + 1, strerror(errno));
    CHECK(kill(pid, SIGRTMIN) == 0, "kill() with the queue full: %s", strerror(errno));
    printf("signal_rt_queue_limit: %lu queued, then EAGAIN\n", queued);

    CHECK(sigprocmask(SIG_UNBLOCK, &rt, NULL) == 0, "sigprocmask: %s", strerror(errno));
    CHECK(delivered >= queued, "%lu of %lu queued signals delivered", delivered, queued);
    printf("signal_rt_queue_limit: %lu delivered\n", delivered);
    return 0;
}
