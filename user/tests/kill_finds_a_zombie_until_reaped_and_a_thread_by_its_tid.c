/*
 * kill_finds_a_zombie_until_reaped_and_a_thread_by_its_tid: kill(pid, sig)
 * finds its target as Linux 6.1's kill_pid_info does, by the task's pid
 * (PIDTYPE_PID), then signals the task's whole process:
 *
 * - a child that exited and is not reaped yet (held by waitid's WNOWAIT)
 *   still exists: kill(child, 0) and kill(child, SIGTERM) both return 0;
 *   once it is reaped, both fail with ESRCH;
 * - the thread ID of a thread that is not the leader reaches its
 *   process: kill(tid, 0) returns 0, and kill(tid, SIGUSR1) runs the
 *   process's handler;
 * - a thread that has ended is gone (Linux releases it at its exit):
 *   kill(its tid, 0) fails with ESRCH after pthread_join, and so does
 *   rt_sigqueueinfo, which finds its target the same way.
 *
 * Before, signal 0 asked whether a live task of process `pid` existed
 * (ESRCH for an unreaped zombie, which kill(zombie, SIGTERM) found), and
 * every kill took `pid` for a process ID (ESRCH for a thread's ID).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "refpage_test.h"

static atomic_int thread_tid, stop, handled;

static void on_usr1(int sig)
{
    (void)sig;
    atomic_store(&handled, 1);
}

static void *body(void *arg)
{
    (void)arg;
    atomic_store(&thread_tid, (int)syscall(SYS_gettid));
    while (!atomic_load(&stop))
        usleep(1000);
    return NULL;
}

int main(void)
{
    pid_t child = fork();
    CHECK(child >= 0, "fork: errno %d", errno);
    if (child == 0)
        _exit(7);
    siginfo_t si;
    CHECK(waitid(P_PID, child, &si, WEXITED | WNOWAIT) == 0, "waitid(WNOWAIT): errno %d", errno);
    CHECK(kill(child, 0) == 0, "kill(unreaped zombie, 0): errno %d (Linux: 0)", errno);
    CHECK(kill(child, SIGTERM) == 0, "kill(unreaped zombie, SIGTERM): errno %d (Linux: 0)", errno);
    int status = 0;
    CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 7,
          "the child's status is %#x", status);
    errno = 0;
    CHECK(kill(child, 0) == -1 && errno == ESRCH, "kill(reaped child, 0): errno %d, want ESRCH", errno);
    errno = 0;
    CHECK(kill(child, SIGTERM) == -1 && errno == ESRCH, "kill(reaped child, SIGTERM): errno %d, want ESRCH",
          errno);

    struct sigaction sa = {.sa_handler = on_usr1};
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction: errno %d", errno);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, body, NULL) == 0, "pthread_create failed");
    while (!atomic_load(&thread_tid))
        usleep(1000);
    int tid = atomic_load(&thread_tid);
    CHECK(tid != getpid(), "the thread's ID %d is the process's", tid);
    CHECK(kill(tid, 0) == 0, "kill(thread %d, 0): errno %d (Linux: 0)", tid, errno);
    CHECK(kill(tid, SIGUSR1) == 0, "kill(thread %d, SIGUSR1): errno %d (Linux: 0)", tid, errno);
    for (int i = 0; i < 5000 && !atomic_load(&handled); i++)
        usleep(1000);
    CHECK(atomic_load(&handled), "kill(thread %d, SIGUSR1) ran no handler within 5 s", tid);
    atomic_store(&stop, 1);
    CHECK(pthread_join(t, NULL) == 0, "pthread_join failed");
    /* pthread_join returns at the thread's clear_child_tid wake, which
     * Linux makes in do_exit before the thread is released: there the tid
     * goes a moment later. */
    int gone = 0;
    for (int i = 0; i < 1000 && !gone; i++) {
        errno = 0;
        gone = kill(tid, 0) == -1 && errno == ESRCH;
        if (!gone)
            usleep(1000);
    }
    CHECK(gone, "kill(ended thread %d, 0) still finds it 1 s after pthread_join: errno %d", tid, errno);
    /* rt_sigqueueinfo finds its target the same way. */
    siginfo_t queued = {.si_code = SI_QUEUE};
    errno = 0;
    CHECK(syscall(SYS_rt_sigqueueinfo, tid, 0, &queued) == -1 && errno == ESRCH,
          "rt_sigqueueinfo(ended thread %d, 0): errno %d, want ESRCH", tid, errno);
    printf("ok\n");
    return 0;
}
