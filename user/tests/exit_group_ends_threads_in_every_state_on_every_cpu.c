/*
 * exit_group_ends_threads_in_every_state_on_every_cpu: a process whose
 * threads are spread over every CPU, each in another state (spinning at
 * EL0, making system calls in a loop, in timed futex waits, in
 * nanosleep, blocked reading a pipe), ends with exit_group from its main
 * thread, round after round; the parent, waiting in wait4 on its own CPU,
 * gets each child's status exactly once, with the child's exit code, and
 * the kernel survives every round (a task freed while still on a CPU, a
 * sibling ended in its place or a lost wake of the parent shows as a
 * panic, a hang or a wrong status).
 *
 * Each thread takes up its state once every thread is on its CPU, and
 * until then waits in a futex wait, as the main thread does while it
 * waits for them: a thread that spins (at EL0 or in getppid) from its
 * start holds its CPU for a whole time slice (10 ms) while a sibling
 * pinned there waits to count itself, and on a loaded 2-core host (load
 * average 6 to 11), where the busy vCPUs compete for the host's cores,
 * the start of a round took 20 to 570 ms, and the 60 rounds of four CPUs
 * ran into the 10 s limit (a round now takes 10 to 100 ms). 120 threads'
 * lives (30 rounds on four CPUs): the odd rounds end once the threads
 * have settled in their states, the even ones as they take them up.
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <time.h>

#include "smp_test.h"

/* 120 threads' lives in all: 30 rounds on four CPUs, 15 on eight; 20
 * on one, where the spinners share the CPU 10 ms at a time. */
enum { THREAD_LIVES = 120, KINDS = 5 };

static int cpus;
static int threads;
static atomic_int started;
static atomic_int never;
static int pipefd[2];

/* Waits, in futex waits, until every thread has counted itself in
 * `started`; the last to count wakes the others and the main thread. */
static void all_started(void)
{
    int seen;
    while ((seen = atomic_load(&started)) < threads)
        syscall(SYS_futex, &started, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, seen, NULL, NULL, 0);
}

static void *worker(void *arg)
{
    int i = (int)(long)arg;
    if (pin_to(i % cpus) != 0)
        _exit(100);
    if (atomic_fetch_add(&started, 1) + 1 == threads)
        syscall(SYS_futex, &started, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, threads + 1, NULL, NULL, 0);
    all_started();
    for (;;) {
        switch (i % KINDS) {
        case 0:
            break; /* spin at EL0 */
        case 1:
            syscall(SYS_getppid);
            break;
        case 2: {
            struct timespec us = {0, 200000};
            syscall(SYS_futex, &never, FUTEX_WAIT | FUTEX_PRIVATE_FLAG, 0, &us, NULL, 0);
            break;
        }
        case 3: {
            struct timespec us = {0, 100000};
            nanosleep(&us, NULL);
            break;
        }
        case 4: {
            char c;
            if (read(pipefd[0], &c, 1) >= 0)
                _exit(101);
            break;
        }
        }
    }
    return NULL;
}

static void child(int round)
{
    if (pipe(pipefd) != 0)
        _exit(102);
    threads = cpus * 2 < KINDS ? KINDS : cpus * 2;
    for (int i = 0; i < threads; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, worker, (void *)(long)i) != 0)
            _exit(103);
    }
    all_started();
    /* Some rounds end at once, some once the threads have settled. */
    if (round % 2) {
        struct timespec ms = {0, 2000000};
        nanosleep(&ms, NULL);
    }
    exit(round % 90);
}

int main(int argc, char **argv)
{
    cpus = test_cpus(argc, argv);
    const int ROUNDS = cpus == 1 ? 20 : THREAD_LIVES / cpus;
    for (int round = 0; round < ROUNDS; round++) {
        pid_t pid = fork();
        CHECK(pid >= 0, "round %d: fork: errno %d", round, errno);
        if (pid == 0)
            child(round);
        int status = 0;
        pid_t got = waitpid(pid, &status, 0);
        CHECK(got == pid, "round %d: waitpid returned %d (errno %d)", round, got, errno);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == round % 90, "round %d: status %#x, want exit %d", round,
              status, round % 90);
        got = waitpid(-1, &status, WNOHANG);
        CHECK(got == -1 && errno == ECHILD, "round %d: a second status (waitpid gave %d, errno %d)", round, got,
              errno);
    }
    printf("%d processes with threads on %d CPUs ended by exit_group, each reported once\n", ROUNDS, cpus);
    return 0;
}
