/*
 * wait_status_and_sigchld: what waitpid reports and what SIGCHLD brings.
 *  - a child that exits 7: WIFEXITED, WEXITSTATUS 7; the parent's SA_SIGINFO
 *    SIGCHLD handler runs with si_code CLD_EXITED, si_pid the child,
 *    si_status 7;
 *  - a child that raises SIGUSR1 (default action) and one that writes to a
 *    PROT_READ page: WIFSIGNALED with WTERMSIG SIGUSR1 / SIGSEGV; SIGCHLD
 *    with si_code CLD_KILLED (CLD_DUMPED also accepted for SIGSEGV) and
 *    si_status the signal;
 *  - waitpid(-1, WNOHANG) and waitpid(pid, WNOHANG) return 0 while the child
 *    (sleeping 50 ms) runs, then a blocking waitpid reaps it;
 *  - ECHILD without children, blocking or WNOHANG, and for a pid that is
 *    not a child;
 *  - an orphan: a child forks a grandchild and exits at once; the
 *    grandchild, reparented, runs on to completion (its writes to a shared
 *    mapping appear after the parent has reaped the child) and is not the
 *    parent's to wait for.
 * Each check says what it saw; all are made, then the status is 1 if any
 * failed.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "refpage_test.h"

/* The SIGCHLD deliveries the handler saw. */
#define MAX_SEEN 16
static volatile int nseen;
static volatile struct { int signo, code, pid, status; } seen[MAX_SEEN];

static void on_sigchld(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    int i = nseen;
    if (i < MAX_SEEN) {
        seen[i].signo = si->si_signo;
        seen[i].code = si->si_code;
        seen[i].pid = si->si_pid;
        seen[i].status = si->si_status;
    }
    nseen = i + 1;
}

/* The handler's record for `pid`, or -1. */
static int seen_for(pid_t pid)
{
    for (int i = 0; i < nseen && i < MAX_SEEN; i++)
        if (seen[i].pid == pid)
            return i;
    return -1;
}

static void check_sigchld(pid_t pid, int code, int status, const char *what)
{
    int i = seen_for(pid);
    EXPECT(i >= 0, "%s: no SIGCHLD with si_pid %d reached the handler (%d deliveries; last "
           "si_pid %d)", what, (int)pid, nseen, nseen ? seen[(nseen - 1) % MAX_SEEN].pid : 0);
    if (i < 0)
        return;
    EXPECT(seen[i].signo == SIGCHLD, "%s: si_signo %d, want SIGCHLD (%d)", what, seen[i].signo,
           SIGCHLD);
    /* A core-dumping signal gives CLD_DUMPED on Linux if a core was written. */
    int dumped_ok = code == CLD_KILLED && status == SIGSEGV && seen[i].code == CLD_DUMPED;
    EXPECT(seen[i].code == code || dumped_ok, "%s: SIGCHLD si_code %d, want %d (%s)", what,
           seen[i].code, code, code == CLD_EXITED ? "CLD_EXITED" : "CLD_KILLED");
    EXPECT(seen[i].status == status, "%s: SIGCHLD si_status %d, want %d", what, seen[i].status,
           status);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_sigchld;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    CHECK(sigaction(SIGCHLD, &sa, NULL) == 0, "sigaction(SIGCHLD): errno %d", errno);

    /* No children yet. */
    int status = 0;
    CHECK_ERRNO(waitpid(-1, &status, 0), ECHILD);
    CHECK_ERRNO(waitpid(-1, &status, WNOHANG), ECHILD);
    printf("wait_status_and_sigchld: waitpid with no children: ECHILD (blocking and WNOHANG)\n");

    /* 1. Exit status 7. */
    pid_t c = fork_checked();
    if (c == 0)
        _exit(7);
    status = wait_for(c);
    EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 7, "exit(7): the child %s (status %#x)",
           wait_status_str(status), status);
    check_sigchld(c, CLD_EXITED, 7, "exit(7)");
    printf("wait_status_and_sigchld: _exit(7): WIFEXITED, WEXITSTATUS 7; SIGCHLD handler ran "
           "(si_pid %d, si_code %d, si_status %d)\n", (int)c,
           seen_for(c) >= 0 ? seen[seen_for(c)].code : -1,
           seen_for(c) >= 0 ? seen[seen_for(c)].status : -1);

    /* 2. Killed by a signal's default action: raise(SIGUSR1). */
    c = fork_checked();
    if (c == 0) {
        signal(SIGUSR1, SIG_DFL);
        raise(SIGUSR1);
        _exit(60); /* SIGUSR1 did not end it */
    }
    status = wait_for(c);
    EXPECT(WIFSIGNALED(status) && WTERMSIG(status) == SIGUSR1,
           "raise(SIGUSR1): the child %s (status %#x), want killed by SIGUSR1 (%d)",
           wait_status_str(status), status, SIGUSR1);
    EXPECT(!WIFEXITED(status), "raise(SIGUSR1): WIFEXITED is true for status %#x", status);
    check_sigchld(c, CLD_KILLED, SIGUSR1, "raise(SIGUSR1)");
    printf("wait_status_and_sigchld: raise(SIGUSR1): WIFSIGNALED, WTERMSIG %d\n", WTERMSIG(status));

    /* 3. Killed by a fault: a write to a PROT_READ page. */
    volatile char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(ro != MAP_FAILED, "mmap(PROT_READ): errno %d", errno);
    c = fork_checked();
    if (c == 0) {
        *ro = 1;
        _exit(61);
    }
    status = wait_for(c);
    EXPECT(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV,
           "write to PROT_READ: the child %s (status %#x), want killed by SIGSEGV (11)",
           wait_status_str(status), status);
    check_sigchld(c, CLD_KILLED, SIGSEGV, "write to PROT_READ");
    printf("wait_status_and_sigchld: write to a PROT_READ page: WIFSIGNALED, WTERMSIG %d\n",
           WTERMSIG(status));

    /* 4. WNOHANG while the child runs. */
    c = fork_checked();
    if (c == 0) {
        sleep_ns(50 * 1000000);
        _exit(3);
    }
    uint64_t t0 = monotonic_ns();
    pid_t r = waitpid(-1, &status, WNOHANG);
    EXPECT(r == 0, "waitpid(-1, WNOHANG) with a child sleeping 50 ms returned %d (errno %d)",
           (int)r, errno);
    r = waitpid(c, &status, WNOHANG);
    EXPECT(r == 0, "waitpid(%d, WNOHANG) with the child sleeping returned %d (errno %d)", (int)c,
           (int)r, errno);
    uint64_t t1 = monotonic_ns();
    EXPECT(t1 - t0 < 40 * 1000000ull, "the two WNOHANG calls took %llu us",
           (unsigned long long)(t1 - t0) / 1000);
    if (r != c) {
        status = wait_for(c);
        uint64_t t2 = monotonic_ns();
        EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 3, "sleeping child: %s, want exited 3",
               wait_status_str(status));
        EXPECT(t2 - t0 >= 40 * 1000000ull, "blocking waitpid returned %llu us after the fork of "
               "a child that sleeps 50 ms", (unsigned long long)(t2 - t0) / 1000);
        printf("wait_status_and_sigchld: WNOHANG returned 0 while the child slept; blocking "
               "waitpid returned after %llu ms with exit 3\n",
               (unsigned long long)(t2 - t0) / 1000000);
    }
    CHECK_ERRNO(waitpid(c, &status, WNOHANG), ECHILD);
    CHECK_ERRNO(waitpid(getpid(), &status, 0), ECHILD);
    printf("wait_status_and_sigchld: a reaped child and a non-child pid: ECHILD\n");

    /* 5. An orphan: the child exits at once, the grandchild runs on. */
    volatile unsigned *shared =
        mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(shared != MAP_FAILED, "mmap(MAP_SHARED|MAP_ANONYMOUS): errno %d", errno);
    /* shared[0]: the grandchild's pid; [1]: its getppid() before, [2]:
     * after the child died; [3]: 0xd0e when it finished. */
    c = fork_checked();
    if (c == 0) {
        pid_t g = fork();
        if (g < 0)
            _exit(62);
        if (g == 0) {
            shared[0] = (unsigned)getpid();
            shared[1] = (unsigned)getppid();
            sleep_ns(100 * 1000000); /* the child is long gone */
            shared[2] = (unsigned)getppid();
            /* Some work after the reparenting. */
            unsigned sum = 0;
            for (unsigned i = 0; i < 100000; i++)
                sum += i;
            shared[4] = sum;
            shared[3] = 0xd0e;
            _exit(0);
        }
        /* Exit once the grandchild has seen this process as its parent. */
        for (int i = 0; i < 2000 && shared[1] == 0; i++)
            sleep_ns(1000000);
        _exit(0);
    }
    status = wait_for(c);
    EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "orphaning child: %s, want exited 0",
           wait_status_str(status));
    EXPECT(shared[3] == 0, "the grandchild finished before its parent was reaped (it should "
           "still be sleeping)");
    for (int i = 0; i < 2000 && shared[3] != 0xd0e; i++)
        sleep_ns(1000000);
    EXPECT(shared[3] == 0xd0e, "the orphaned grandchild did not finish within 2 s (marks %#x %#x "
           "%#x %#x)", shared[0], shared[1], shared[2], shared[3]);
    EXPECT(shared[4] == 100000u * 99999u / 2, "the grandchild's sum is %u", shared[4]);
    EXPECT(shared[1] == (unsigned)c, "the grandchild's getppid() before the orphaning is %u, "
           "want the child %d", shared[1], (int)c);
    EXPECT(shared[2] != (unsigned)c, "the grandchild's getppid() after its parent died is still "
           "the dead child's pid %u", shared[2]);
    CHECK_ERRNO(waitpid((pid_t)shared[0], &status, WNOHANG), ECHILD);
    CHECK_ERRNO(waitpid(-1, &status, 0), ECHILD);
    printf("wait_status_and_sigchld: orphaned grandchild %u (getppid %u -> %u) ran to completion "
           "after its parent was reaped; it is not ours to wait for\n", shared[0], shared[1],
           shared[2]);
    /* Give the runner time to reap the grandchild: nothing of this run may
     * be left once the parent exits. */
    sleep_ns(5 * 1000000);

    printf("wait_status_and_sigchld: %d SIGCHLD deliveries seen\n", nseen);
    return *expect_failures() ? 1 : 0;
}
