/*
 * exec_from_thread_while_siblings_spin_on_other_cpus: execve in one thread
 * while the others run at EL0 on other CPUs ends them first (Linux's
 * de_thread: they are killed, their CPUs kicked, and the exec waits until
 * they are gone), and the new program is the process's only thread, with
 * the process's pid. A forked child pins one thread per CPU (three on CPU
 * 0 when there is one CPU), each spinning without a system call; once
 * every counter moves, the thread on CPU 1 execs this program as a probe
 * (smp_test.h: spin_group), which checks that it has one thread
 * (/proc/self/status) and the child's pid, and exits 66. Five rounds; the
 * parent wants 66 within 2 s each time. (smp_test.h: `SMP=4 ... NAME 4`.)
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>

#include "smp_test.h"

#define ROUNDS 5

static int cpus;
static char *self_path;
static char pid_arg[16];

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

static void exec_probe(void)
{
    char *const av[] = {self_path, "probe", pid_arg, NULL};
    char *const ev[] = {NULL};
    execve(self_path, av, ev);
    fprintf(stderr, "execve(%s): errno %d\n", self_path, errno);
    _exit(67);
}

static void child(void)
{
    snprintf(pid_arg, sizeof(pid_arg), "%d", getpid());
    spin_group(cpus, exec_probe);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "probe") == 0)
        return probe(argv[2]);
    setvbuf(stdout, NULL, _IOLBF, 0);
    self_path = argv[0];
    cpus = test_cpus(argc, argv);
    unsigned long long ms = wait_rounds(ROUNDS, child, 66, "from the probe exec'd by the thread on CPU 1");
    printf("exec_from_thread_while_siblings_spin_on_other_cpus: %d rounds of threads spinning on %d CPU(s); the "
           "exec in the one on CPU 1 ended the others, the probe ran alone with the pid (first round %llu ms)\n",
           ROUNDS, cpus, ms);
    return 0;
}
