/*
 * munmap_of_a_huge_area_beside_cpus_in_syscalls_keeps_kernel_up: a
 * populated area of 384 MiB (or 3/4 of the free memory, if less: the EL0
 * suite's initramfs takes room), a fork and exit of a process with it,
 * then one munmap of it, while a thread on each other CPU makes system
 * calls in a loop (and so waits for the big kernel lock at each entry):
 * long kernel work for one call, which Linux does with cond_resched and
 * touch_softlockup_watchdog, and which must not end in a kernel panic.
 * Before, the lock's watchdog took any holding past 2 s for a stuck CPU:
 * on a loaded 2-core host at SMP=4 the munmap alone took 3 to 7 s (the
 * waiting CPUs spin on the host's cores too) and the kernel panicked
 * ("cpu 1 stuck: kernel lock held by cpu 0"). The long walks now tell the
 * watchdog they are moving on (kernel_lock.rs: touch_watchdog).
 *
 * On one CPU there is no waiter, and the calls only have to succeed.
 */
#define _GNU_SOURCE
#include <sys/sysinfo.h>
#include <time.h>

#include "smp_test.h"

enum { MAX_AREA_MIB = 384 };

static atomic_int stop;
static atomic_long calls;

static long long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

static void *caller(void *arg)
{
    int cpu = (int)(long)arg;
    CHECK(pin_to(cpu) == 0, "pin to CPU %d failed", cpu);
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        syscall(SYS_getppid);
        atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int cpus = test_cpus(argc, argv);
    struct sysinfo si;
    CHECK(sysinfo(&si) == 0, "sysinfo: errno %d", errno);
    unsigned long free_mib = (unsigned long)si.freeram * si.mem_unit >> 20;
    int area_mib = free_mib * 3 / 4 < MAX_AREA_MIB ? (int)(free_mib * 3 / 4) : MAX_AREA_MIB;
    size_t len = (size_t)area_mib << 20;
    CHECK(pin_to(0) == 0, "pin to CPU 0 failed");
    char *area = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    CHECK(area != MAP_FAILED, "mmap(%d MiB, MAP_POPULATE): errno %d", area_mib, errno);
    pthread_t t[SMP_TEST_MAX_CPUS];
    for (int cpu = 1; cpu < cpus; cpu++)
        CHECK(pthread_create(&t[cpu], NULL, caller, (void *)(long)cpu) == 0, "pthread_create failed");
    while (cpus > 1 && atomic_load(&calls) < 100)
        ;
    long long start = now_ms();
    pid_t pid = fork();
    CHECK(pid >= 0, "fork: errno %d", errno);
    if (pid == 0)
        _exit(7);
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 7,
          "the child's status is %#x", status);
    long long forked = now_ms();
    CHECK(munmap(area, len) == 0, "munmap: errno %d", errno);
    long long unmapped = now_ms();
    atomic_store(&stop, 1);
    for (int cpu = 1; cpu < cpus; cpu++)
        pthread_join(t[cpu], NULL);
    printf("%d MiB: fork, exit and wait %lld ms, munmap %lld ms; %ld system calls on the other CPUs meanwhile\n", area_mib,
           forked - start, unmapped - forked, atomic_load(&calls));
    return 0;
}
