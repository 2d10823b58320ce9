/*
 * kill_and_exit_cost_the_same_with_many_processes: a kill, the child's
 * exit and its reaping cost the same whether few or many processes live.
 * The parent keeps FEW, then MANY, children blocked in read() on a pipe
 * (no timer, no spinning); with each crowd alive it times ROUNDS rounds
 * of: kill(SIGKILL) one more child, blocked in read() on another pipe,
 * and waitpid() it.
 * Under QEMU's -icount (one counter tick per instruction: tests/run.sh
 * runs it so) a round with 1,000 processes alive must cost at most 1.3
 * times one with 20: before, a kill and an exit walked the whole process
 * table about ten times (signal_process, group_alive, process_ended,
 * wake_waiters, ptrace's tracer_exiting and wait_tracees, exit_mmap), and
 * a round cost 5.5 times as much with 1,000 processes as with 20
 * (process/pid_table.rs keeps the indices they use now). Without -icount
 * (the EL0 suite's boots) the host's load blurs the clock, and the
 * figures are only printed.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "refpage_test.h"

#define FEW 20
#define MANY 1000
/* Without -icount, fewer: a loaded host keeps the run inside its limit. */
#define MANY_PLAIN 100
#define ROUNDS 20

static pid_t crowd[MANY];

/* A child blocked in read() on `fd` until killed (or the pipe's end). */
static pid_t blocked_child(int fd, int ready)
{
    pid_t pid = fork();
    if (pid == 0) {
        char c = 1;
        (void)write(ready, &c, 1);
        (void)read(fd, &c, 1);
        _exit(0);
    }
    CHECK(pid > 0, "fork: errno %d (%s)", errno, strerror(errno));
    return pid;
}

/* Grows the crowd of blocked children to `n`; each has told it is about
 * to block before the next fork. */
static void grow_crowd(int *alive, int n, int fd, int ready_r, int ready_w)
{
    for (; *alive < n; (*alive)++) {
        crowd[*alive] = blocked_child(fd, ready_w);
        char c;
        CHECK(read(ready_r, &c, 1) == 1, "ready pipe: errno %d (%s)", errno, strerror(errno));
    }
}

/* Instructions (under -icount) of ROUNDS kill+waitpid rounds, each of one
 * fresh child blocked in read(). */
static uint64_t kill_and_reap_rounds(int fd, int ready_r, int ready_w)
{
    uint64_t total = 0;
    for (int i = 0; i < ROUNDS; i++) {
        pid_t pid = blocked_child(fd, ready_w);
        char c;
        CHECK(read(ready_r, &c, 1) == 1, "ready pipe: errno %d (%s)", errno, strerror(errno));
        /* Let it reach its read(): it runs until it blocks there. */
        sched_yield();
        uint64_t t0 = monotonic_ns();
        CHECK(kill(pid, SIGKILL) == 0, "kill(%d, SIGKILL): errno %d (%s)", pid, errno, strerror(errno));
        int status;
        pid_t r = waitpid(pid, &status, 0);
        total += monotonic_ns() - t0;
        CHECK(r == pid, "waitpid(%d): %d, errno %d (%s)", pid, r, errno, strerror(errno));
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child %d: %s", pid, wait_status_str(status));
    }
    return total / ROUNDS;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    int icount = under_icount();
    int many = icount ? MANY : MANY_PLAIN;
    /* The crowd blocks on one pipe, each killed child on another: a wait
     * queue of 1,000 readers is another cost (the victim leaves it). */
    int p[2], q[2], ready[2];
    CHECK(pipe(p) == 0 && pipe(q) == 0 && pipe(ready) == 0, "pipe: errno %d (%s)", errno, strerror(errno));
    int alive = 0;
    grow_crowd(&alive, FEW, p[0], ready[0], ready[1]);
    uint64_t few_cost = kill_and_reap_rounds(q[0], ready[0], ready[1]);
    grow_crowd(&alive, many, p[0], ready[0], ready[1]);
    uint64_t many_cost = kill_and_reap_rounds(q[0], ready[0], ready[1]);
    const char *unit = icount ? "instructions" : "ns";
    printf("kill_and_exit_cost_the_same_with_many_processes: %s per kill and reap of a child: %llu with %d "
           "processes alive, %llu with %d%s\n",
           unit, (unsigned long long)few_cost, FEW + 1, (unsigned long long)many_cost, many + 1,
           icount ? "" : " (not under -icount: not checked)");
    /* The crowd: killed and reaped. */
    for (int i = 0; i < alive; i++)
        CHECK(kill(crowd[i], SIGKILL) == 0, "kill(%d, SIGKILL): errno %d (%s)", crowd[i], errno, strerror(errno));
    int reaped = 0;
    while (waitpid(-1, NULL, 0) > 0)
        reaped++;
    CHECK(errno == ECHILD && reaped == alive, "reaped %d of %d: errno %d (%s)", reaped, alive, errno, strerror(errno));
    if (icount) {
        CHECK(many_cost * 10 <= few_cost * 13,
              "a kill and reap with %d processes alive cost %llu instructions, with %d %llu: more than 1.3 times",
              many + 1, (unsigned long long)many_cost, FEW + 1, (unsigned long long)few_cost);
        printf("kill_and_exit_cost_the_same_with_many_processes: with %d processes a kill and reap costs %.2f times "
               "what it costs with %d\n",
               many + 1, (double)many_cost / (double)few_cost, FEW + 1);
    }
    return 0;
}
