/*
 * heap_exhaustion_by_fd_tables_and_signal_queues_is_enomem: a program that
 * fills the kernel heap gets errors, never a kernel panic.
 *  1. Descriptor tables (Linux's expand_files: ENOMEM). With RLIMIT_NOFILE
 *     at 2^20, each of six children dup2()s to fd 524287 (a table of 2^19
 *     slots, 8 MiB) and then to 524288, which doubles it: a new 16 MiB
 *     buffer while the old one is held. Each call succeeds or fails with
 *     ENOMEM; the kernel once checked only the slots added and panicked
 *     when the 16 MiB could not be allocated.
 *  2. Real-time signal queues (a failed sigqueue allocation is EAGAIN):
 *     with the heap that full, children each queue SIGRTMIN to themselves
 *     with sigqueue until it fails; it must fail with EAGAIN (at the
 *     4096-per-queue limit or earlier, for lack of heap).
 * Every child then exits 0, and the runner finds nothing leaked.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "refpage_test.h"

#define TABLE_CHILDREN 6
#define QUEUE_CHILDREN 12

static int gate[2];

/* Forks a child that runs `body`, then waits for the gate to close. */
static pid_t spawn(int (*body)(int), int n)
{
    pid_t c = fork();
    CHECK(c >= 0, "fork %d: errno %d", n, errno);
    if (c == 0) {
        close(gate[1]);
        int r = body(n);
        char x;
        read(gate[0], &x, 1);
        _exit(r);
    }
    return c;
}

static int grow_table(int n)
{
    for (int fd = 524287; fd <= 524288; fd++) {
        errno = 0;
        int r = dup2(0, fd);
        if (r != fd && !(r == -1 && errno == ENOMEM)) {
            printf("child %d: dup2(0, %d) returned %d errno %d; want %d or ENOMEM\n", n, fd, r, errno, fd);
            return 1;
        }
    }
    return 0;
}

static int fill_queue(int n)
{
    union sigval v = { 0 };
    long queued = 0;
    while (sigqueue(getpid(), SIGRTMIN, v) == 0 && queued <= 4096)
        queued++;
    if (queued > 4096 || errno != EAGAIN) {
        printf("child %d: queued %ld, then errno %d; want EAGAIN by 4096\n", n, queued, errno);
        return 1;
    }
    return 0;
}

int main(void)
{
    struct rlimit rl = { 1 << 20, 1 << 20 };
    CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0, "setrlimit: errno %d", errno);
    sigset_t rt;
    sigemptyset(&rt);
    sigaddset(&rt, SIGRTMIN);
    CHECK(sigprocmask(SIG_BLOCK, &rt, NULL) == 0, "sigprocmask: errno %d", errno);
    CHECK(pipe(gate) == 0, "pipe: errno %d", errno);
    pid_t kids[TABLE_CHILDREN + QUEUE_CHILDREN];
    int n = 0;
    /* One at a time, so that each finds the heap the last one left. */
    for (int i = 0; i < TABLE_CHILDREN; i++, n++) {
        kids[n] = spawn(grow_table, n);
        usleep(100000);
    }
    for (int i = 0; i < QUEUE_CHILDREN; i++, n++) {
        kids[n] = spawn(fill_queue, n);
        usleep(100000);
    }
    close(gate[1]);
    int failed = 0;
    for (int i = 0; i < n; i++) {
        int status = 0;
        CHECK(waitpid(kids[i], &status, 0) == kids[i], "waitpid: errno %d", errno);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            printf("child %d: status %#x\n", i, status);
            failed = 1;
        }
    }
    CHECK(!failed, "a child saw the wrong error (above)");
    return 0;
}
