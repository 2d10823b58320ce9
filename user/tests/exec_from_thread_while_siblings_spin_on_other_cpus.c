/*
 * exec_from_thread_while_siblings_spin_on_other_cpus: execve in one thread
 * while the others run at EL0 on other CPUs ends them first (Linux's
 * de_thread: they are killed, their CPUs kicked, and the exec waits until
 * they are gone), and the new program is the process's only thread, with
 * the process's pid. A forked child pins one thread per CPU (two on CPU 0
 * when there is one CPU), each spinning without a system call; once every
 * counter moves, the thread on CPU 1 execs this program as a probe, which
 * checks that it has one thread (/proc/self/status) and the child's pid,
 * and exits 66. Five rounds; the parent wants 66 within 2 s each time.
 * (smp_test.h: `SMP=4 ... NAME 4`.)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/wait.h>

#include "smp_test.h"

#define ROUNDS 5

static int cpus, threads;
static atomic_ulong spins[SMP_TEST_MAX_CPUS + 1];
static char *self_path;
static char pid_arg[16];

static int cpu_of(long k)
{
    return cpus == 1 ? 0 : (int)(k % cpus);
}

static int threads_of_self(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    int n = -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "Threads: %d", &n) == 1)
            break;
    fclose(f);
    return n;
}

static int probe(const char *pid)
{
    int n = threads_of_self();
    if (n != 1) {
        fprintf(stderr, "probe: %d threads after execve, want 1\n", n);
        return 3;
    }
    if (getpid() != atoi(pid) || syscall(SYS_gettid) != getpid()) {
        fprintf(stderr, "probe: pid %d tid %ld, want the process's pid %s\n", getpid(), syscall(SYS_gettid), pid);
        return 4;
    }
    return 66;
}

static void *spinner(void *arg)
{
    long k = (long)arg;
    int e = pin_to(cpu_of(k));
    if (e) {
        fprintf(stderr, "thread %ld: sched_setaffinity(CPU %d): errno %d\n", k, cpu_of(k), e);
        _exit(1);
    }
    if (k == 1) {
        for (int j = 0; j < threads; j++)
            while (atomic_load(&spins[j]) == 0)
                ;
        char *const av[] = {self_path, "probe", pid_arg, NULL};
        char *const ev[] = {NULL};
        execve(self_path, av, ev);
        fprintf(stderr, "execve(%s): errno %d\n", self_path, errno);
        _exit(67);
    }
    for (;;)
        atomic_fetch_add(&spins[k], 1);
    return NULL;
}

static void child(void)
{
    snprintf(pid_arg, sizeof(pid_arg), "%d", getpid());
    pthread_t t;
    for (long k = 1; k < threads; k++)
        if (pthread_create(&t, NULL, spinner, (void *)k) != 0)
            _exit(2);
    int e = pin_to(0);
    if (e) {
        fprintf(stderr, "leader: sched_setaffinity(CPU 0): errno %d\n", e);
        _exit(1);
    }
    atomic_store(&spins[1], 1);
    for (;;)
        atomic_fetch_add(&spins[0], 1);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "probe") == 0)
        return probe(argv[2]);
    setvbuf(stdout, NULL, _IOLBF, 0);
    self_path = argv[0];
    cpus = test_cpus(argc, argv);
    threads = cpus < 2 ? 3 : cpus;
    for (int round = 0; round < ROUNDS; round++) {
        uint64_t t0 = monotonic_ns();
        pid_t pid = fork();
        CHECK(pid >= 0, "fork: errno %d", errno);
        if (pid == 0)
            child();
        int status = 0;
        CHECK(waitpid(pid, &status, 0) == pid, "waitpid: errno %d", errno);
        uint64_t ms = (monotonic_ns() - t0) / 1000000;
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 66,
              "round %d: the child ended with status %#x, want 66 from the exec'd probe", round, status);
        CHECK(ms < 2000, "round %d: took %llu ms", round, (unsigned long long)ms);
        if (round == 0)
            printf("exec_from_thread_while_siblings_spin_on_other_cpus: %d threads on %d CPU(s); the exec in "
                   "the one on CPU 1 ended the others, the probe ran alone with the pid (%llu ms)\n",
                   threads, cpus, (unsigned long long)ms);
    }
    return 0;
}
