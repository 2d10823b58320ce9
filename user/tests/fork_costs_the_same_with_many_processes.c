/*
 * fork_costs_the_same_with_many_processes: a fork costs the same whether
 * few or many processes live. The parent forks CHILDREN children, each
 * blocked in read() on a pipe (no timer, no spinning), and times each of
 * BATCHES batches of forks; then it kills them all with SIGKILL and reaps them,
 * timing those too. Under QEMU's -icount (one counter tick per
 * instruction: tests/run.sh runs it so) the last batch of forks, with
 * 1,000 processes alive, must cost at most 1.25 times the first,
 * with almost none: before, the test runner on CPU 0 walked the whole
 * process table at every task switch, looking for zombies to reap, and a
 * fork cost about 100,000 instructions plus 35 for every process alive
 * (scheduler.rs: `ZOMBIES_TO_REAP`). Without -icount (the EL0 suite's
 * boots) the host's load blurs the clock, and the figures are only
 * printed.
 *
 * The kill and reap figures are printed for the record (their own rule:
 * kill_and_exit_cost_the_same_with_many_processes).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "refpage_test.h"

/* Children under -icount; without it (the EL0 suite's boots, where nothing
 * is checked) fewer, so that a loaded host keeps the run well inside the
 * time limit. */
#define CHILDREN 1200
#define CHILDREN_PLAIN 120
#define BATCHES 6

static pid_t kids[CHILDREN];

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    int icount = under_icount();
    int p[2];
    CHECK(pipe(p) == 0, "pipe: errno %d (%s)", errno, strerror(errno));
    int children = icount ? CHILDREN : CHILDREN_PLAIN, per_batch = children / BATCHES;
    uint64_t batch[BATCHES];
    uint64_t t = monotonic_ns();
    for (int i = 0; i < children; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            char c;
            (void)read(p[0], &c, 1);
            _exit(0);
        }
        CHECK(pid > 0, "fork %d: errno %d (%s)", i, errno, strerror(errno));
        kids[i] = pid;
        if ((i + 1) % per_batch == 0) {
            uint64_t now = monotonic_ns();
            batch[i / per_batch] = now - t;
            t = now;
        }
    }
    uint64_t k0 = monotonic_ns();
    for (int i = 0; i < children; i++)
        CHECK(kill(kids[i], SIGKILL) == 0, "kill(%d, SIGKILL): errno %d (%s)", kids[i], errno, strerror(errno));
    uint64_t k1 = monotonic_ns();
    int reaped = 0;
    for (;;) {
        int status;
        pid_t r = waitpid(-1, &status, 0);
        if (r < 0) {
            CHECK(errno == ECHILD, "waitpid: errno %d (%s)", errno, strerror(errno));
            break;
        }
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child %d: %s", r, wait_status_str(status));
        reaped++;
    }
    uint64_t k2 = monotonic_ns();
    CHECK(reaped == children, "reaped %d of %d children", reaped, children);
    const char *unit = icount ? "instructions" : "ns";
    printf("fork_costs_the_same_with_many_processes: %s per fork, by batch of %d as processes grow to %d:", unit,
           per_batch, children);
    for (int b = 0; b < BATCHES; b++)
        printf(" %llu", (unsigned long long)(batch[b] / per_batch));
    printf("; per kill %llu, per reap %llu%s\n", (unsigned long long)((k1 - k0) / children),
           (unsigned long long)((k2 - k1) / children), icount ? "" : " (not under -icount: not checked)");
    if (icount) {
        uint64_t first = batch[0], last = batch[BATCHES - 1];
        CHECK(last * 4 <= first * 5,
              "the last %d forks (with %d processes alive) cost %llu instructions each, the first %d %llu: more "
              "than 1.25 times",
              per_batch, children - per_batch, (unsigned long long)(last / per_batch), per_batch,
              (unsigned long long)(first / per_batch));
        printf("fork_costs_the_same_with_many_processes: the last forks cost %.2f times the first\n",
               (double)last / (double)first);
    }
    close(p[0]);
    close(p[1]);
    return 0;
}
