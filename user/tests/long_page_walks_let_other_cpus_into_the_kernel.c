/*
 * long_page_walks_let_other_cpus_into_the_kernel: the page walks of
 * munmap, mprotect, an exit and an exec over a populated area of 256 MiB
 * (16 MiB without `icount`, below; or 3/4 of the free memory, if less;
 * the exit's and the exec's in a child that populated its own, freed at
 * its exit or its exec) let other tasks into the kernel while they
 * run, as Linux's cond_resched() in zap_pte_range, change_pte_range and
 * exit_mmap's unmap_vmas does (exec's mmput of the old space included).
 * A thread pinned to each other CPU (to CPU 0 itself with one CPU)
 * makes getppid() in a loop and stamps each call;
 * inside each of those calls, the longest time in which none of them
 * ends a call is printed. Before, each walk held the big kernel lock from
 * its start to its end (it only told the lock's watchdog it was moving
 * on): every other CPU's next system call waited for the whole walk.
 *
 * Given `icount` after the CPU count (tests/run.sh runs it so under
 * QEMU's -icount, where time is instructions and a loaded host cannot
 * stall a vCPU for a host time slice), each of those calls that takes 30
 * ms or more must leave no such gap of half its time or more. The
 * mprotect that adds PROT_MTE gives every page valid tags on its way, so
 * that its walk is long enough to measure there.
 *
 * fork's copy is timed too but not held to the rule: it still holds the
 * lock throughout (mm/long_walk.rs says why), and the line printed shows
 * it.
 */
#define _GNU_SOURCE
#include <sys/sysinfo.h>
#include <time.h>

#include "smp_test.h"

/* Under -icount, where the rule is checked; 16 MiB in the EL0 suites,
 * whose loaded host and 10 s limit it shares with every other program. */
enum { MAX_AREA_MIB = 256, SUITE_AREA_MIB = 16 };
/* A call shorter than this says little about yielding: a slice is 10 ms. */
#define MIN_MEASURED_NS (30ULL * 1000000)
/* argv[1] of the program the exec-ing child becomes: it exits with 7. */
#define EXEC_TARGET "exec-target"
#ifndef PROT_MTE
#define PROT_MTE 0x20
#endif

/* Whether the gaps are held to the rule (under -icount only). */
static int ruling;

static atomic_int stop, started;
/* When the call in flight began (ns); 0 between calls. */
static atomic_ullong window;
/* The last end of a getppid() that began inside it, on any thread. */
static atomic_ullong last_end;
static atomic_ullong max_gap, calls_inside;

static unsigned long long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (unsigned long long)t.tv_sec * 1000000000ULL + (unsigned long long)t.tv_nsec;
}

static void note_max(atomic_ullong *max, unsigned long long v)
{
    unsigned long long m = atomic_load(max);
    while (v > m && !atomic_compare_exchange_weak(max, &m, v))
        ;
}

/* Each getppid() that began inside the call in flight: the longest time
 * in which no thread ended one (from the call's start on) is the longest
 * the kernel was shut to them all. A thread its vCPU's host thread did
 * not run meanwhile does not count: the others' calls end the gap. */
static void *caller(void *arg)
{
    int cpu = (int)(long)arg;
    CHECK(pin_to(cpu) == 0, "pin to CPU %d failed", cpu);
    atomic_fetch_add(&started, 1);
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        unsigned long long t0 = now_ns();
        syscall(SYS_getppid);
        unsigned long long t1 = now_ns();
        unsigned long long from = atomic_load(&window);
        if (from && t0 >= from) {
            unsigned long long prev = atomic_load(&last_end);
            while (t1 > prev && !atomic_compare_exchange_weak(&last_end, &prev, t1))
                ;
            if (t1 > prev)
                note_max(&max_gap, t1 - (prev > from ? prev : from));
            atomic_fetch_add(&calls_inside, 1);
        }
    }
    return NULL;
}

static void open_window(void)
{
    atomic_store(&max_gap, 0);
    atomic_store(&calls_inside, 0);
    atomic_store(&last_end, 0);
    atomic_store(&window, now_ns());
}

/* Closes the window of `what`, says what was seen, and holds it to the
 * rule unless `ruled` is 0. */
static void close_window(const char *what, int mib, int ruled)
{
    unsigned long long end = now_ns(), from = atomic_load(&window), took = end - from;
    atomic_store(&window, 0);
    /* From the last call that ended inside (or the start) to the end. */
    unsigned long long last = atomic_load(&last_end);
    /* (A call that began inside may have ended after `end`.) */
    if (last < end)
        note_max(&max_gap, end - (last > from ? last : from));
    unsigned long long gap = atomic_load(&max_gap), inside = atomic_load(&calls_inside);
    printf("%s of %d MiB: %llu ms; other threads made %llu calls meanwhile, the longest wait %llu ms\n", what, mib,
           took / 1000000, inside, gap / 1000000);
    if (ruling && ruled && took >= MIN_MEASURED_NS)
        CHECK(gap < took / 2, "%s kept the other CPUs out of the kernel for %llu ms of its %llu ms (%llu calls inside)",
              what, gap / 1000000, took / 1000000, inside);
}

/* A child maps and populates `len` bytes of its own, then, told to,
 * exits (`self` NULL) or execs `self` as EXEC_TARGET, which exits at
 * once: the window covers the end of its space and the parent's wait. */
static void child_frees_its_area(size_t len, int mib, const char *self)
{
    int ready[2], go[2];
    CHECK(pipe(ready) == 0 && pipe(go) == 0, "pipe: errno %d", errno);
    pid_t pid = fork();
    CHECK(pid >= 0, "fork: errno %d", errno);
    if (pid == 0) {
        char c = 0;
        char *own = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        if (own == MAP_FAILED || write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
            _exit(1);
        if (self)
            execl(self, self, EXEC_TARGET, (char *)NULL);
        _exit(self ? 2 : 7);
    }
    char c = 0;
    CHECK(read(ready[0], &c, 1) == 1, "the child did not map its area");
    open_window();
    CHECK(write(go[1], &c, 1) == 1, "write: errno %d", errno);
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 7,
          "the %s child's status is %#x", self ? "exec-ing" : "exiting", status);
    close_window(self ? "exec and wait" : "exit and wait", mib, 1);
    close(ready[0]);
    close(ready[1]);
    close(go[0]);
    close(go[1]);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], EXEC_TARGET) == 0)
        _exit(7);
    int cpus = test_cpus(argc, argv);
    ruling = argc > 2 && strcmp(argv[2], "icount") == 0;
    struct sysinfo si;
    CHECK(sysinfo(&si) == 0, "sysinfo: errno %d", errno);
    unsigned long free_mib = (unsigned long)si.freeram * si.mem_unit >> 20;
    int max = ruling ? MAX_AREA_MIB : SUITE_AREA_MIB;
    int mib = free_mib * 3 / 4 < (unsigned long)max ? (int)(free_mib * 3 / 4) : max;
    size_t len = (size_t)mib << 20;
    CHECK(pin_to(0) == 0, "pin to CPU 0 failed");
    char *area = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    CHECK(area != MAP_FAILED, "mmap(%d MiB, MAP_POPULATE): errno %d", mib, errno);
    pthread_t t[SMP_TEST_MAX_CPUS];
    int callers = cpus > 1 ? cpus - 1 : 1;
    for (int i = 0; i < callers; i++)
        CHECK(pthread_create(&t[i], NULL, caller, (void *)(long)(cpus > 1 ? i + 1 : 0)) == 0, "pthread_create failed");
    while (atomic_load(&started) < callers)
        sched_yield();

    open_window();
    CHECK(mprotect(area, len, PROT_READ) == 0, "mprotect(PROT_READ): errno %d", errno);
    close_window("mprotect to read-only", mib, 1);
    open_window();
    CHECK(mprotect(area, len, PROT_READ | PROT_WRITE) == 0, "mprotect(PROT_READ | PROT_WRITE): errno %d", errno);
    close_window("mprotect to read-write", mib, 1);
    /* Tagging every page is slow under QEMU without -icount: there only
     * where the rule is checked. */
    if (ruling) {
        open_window();
        int mte = mprotect(area, len, PROT_READ | PROT_WRITE | PROT_MTE) == 0;
        CHECK(mte || errno == EINVAL, "mprotect(PROT_MTE): errno %d", errno);
        if (mte)
            close_window("mprotect adding PROT_MTE", mib, 1);
        else
            printf("no PROT_MTE here: that mprotect is left out\n");
    }
    for (size_t off = 0; off < len; off += 4096)
        CHECK(area[off] == 0, "byte %zu reads %d after mprotect", off, area[off]);

    open_window();
    pid_t pid = fork();
    CHECK(pid >= 0, "fork: errno %d", errno);
    if (pid == 0)
        _exit(7);
    close_window("fork", mib, 0);
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 7,
          "the forked child's status is %#x", status);

    open_window();
    CHECK(munmap(area, len) == 0, "munmap: errno %d", errno);
    close_window("munmap", mib, 1);

    /* A child that populates an area of its own, then exits: its exit
     * frees every frame. Then one that execs: the old space's last
     * reference goes at the exec, which frees every frame (Linux's
     * exec_mmap -> mmput); the new program exits at once. */
    child_frees_its_area(len, mib, NULL);
    child_frees_its_area(len, mib, argv[0]);
    atomic_store(&stop, 1);
    for (int i = 0; i < callers; i++)
        pthread_join(t[i], NULL);
    printf("ok\n");
    return 0;
}
