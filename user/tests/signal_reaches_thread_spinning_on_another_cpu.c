/*
 * signal_reaches_thread_spinning_on_another_cpu: tgkill to a thread that
 * runs at EL0 on another CPU, in a loop without system calls, is delivered
 * promptly: the kernel makes it enter (Linux's kick_process, an IPI; at
 * the latest its timer tick) and it takes the signal on the way back. The
 * target pins itself to CPU 1 (CPU 0 with one CPU) and spins; the sender,
 * on CPU 0, waits until the counter moves, sends SIGUSR1 and waits for the
 * handler, which notes where it ran. Twenty times; each must arrive within
 * 1 s (a time slice is 10 ms; with the IPI it takes well under one, and
 * the slowest is printed with how many loop turns the target made
 * meanwhile). (smp_test.h: `SMP=4 ... NAME 4`.)
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>

#include "smp_test.h"

#define ROUNDS 20
#define BOUND_NS (1000 * 1000000ull)

static int target_cpu;
static atomic_ulong spins;
static atomic_int handled, handler_cpu = -2;
static atomic_long target_tid;

static void on_usr1(int sig)
{
    (void)sig;
    atomic_store(&handler_cpu, current_cpu());
    atomic_fetch_add(&handled, 1);
}

static void *target(void *arg)
{
    (void)arg;
    int e = pin_to(target_cpu);
    if (e) {
        fprintf(stderr, "target: sched_setaffinity(CPU %d): errno %d (%s)\n", target_cpu, e, strerror(e));
        _exit(1);
    }
    atomic_store(&target_tid, syscall(SYS_gettid));
    for (;;)
        atomic_fetch_add(&spins, 1);
    return NULL;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    int cpus = test_cpus(argc, argv);
    target_cpu = cpus > 1 ? 1 : 0;
    signal(SIGUSR1, on_usr1);
    CHECK(pin_to(0) == 0, "main: sched_setaffinity(CPU 0): errno %d", errno);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, target, NULL) == 0, "pthread_create");
    while (atomic_load(&target_tid) == 0)
        ;
    uint64_t worst = 0;
    unsigned long worst_spins = 0;
    for (int round = 0; round < ROUNDS; round++) {
        unsigned long before = atomic_load(&spins);
        while (atomic_load(&spins) == before)
            ;
        uint64_t t0 = monotonic_ns();
        unsigned long at_send = atomic_load(&spins);
        CHECK(syscall(SYS_tgkill, getpid(), (pid_t)target_tid, SIGUSR1) == 0, "tgkill: errno %d", errno);
        while (atomic_load(&handled) == round && monotonic_ns() - t0 < BOUND_NS)
            ;
        uint64_t ns = monotonic_ns() - t0;
        CHECK(atomic_load(&handled) == round + 1, "round %d: SIGUSR1 not handled within %llu ms", round,
              (unsigned long long)(BOUND_NS / 1000000));
        CHECK(atomic_load(&handler_cpu) == target_cpu, "round %d: the handler ran on CPU %d, not the target's %d",
              round, atomic_load(&handler_cpu), target_cpu);
        if (ns > worst) {
            worst = ns;
            worst_spins = atomic_load(&spins) - at_send;
        }
    }
    printf("signal_reaches_thread_spinning_on_another_cpu: %d signals to a thread spinning on CPU %d, each "
           "handled there; slowest %llu us (%lu of its loop turns)\n",
           ROUNDS, target_cpu, (unsigned long long)(worst / 1000), worst_spins);
    return 0;
}
