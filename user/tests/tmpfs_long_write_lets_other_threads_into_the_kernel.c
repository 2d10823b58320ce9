/*
 * tmpfs_long_write_lets_other_threads_into_the_kernel: a write or pwrite
 * of 64 MiB to a tmpfs file, from memory mapped on demand (each source
 * page faults in the copy), lets another thread on the same CPU run and
 * make system calls while it runs, and moves every byte. Linux's
 * generic_perform_write calls cond_resched() per page; here the copy ran
 * under the kernel lock from start to end (syscall_fuzz seed 77 under
 * make soak: a 2 GiB write to a /dev/shm file held it past the lock's
 * 2 s watchdog, which panicked the kernel; with two CPUs this test did).
 *
 * Both threads are pinned to CPU 0, so the other thread gets in through
 * the run queue at the writer's slice ends, not by catching the kernel
 * lock between two of its holdings (on a loaded host QEMU's CPUs stall
 * for whole host time slices). It loops on getppid(), stamping each call;
 * its longest wait inside the write must be a small part of the write.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "refpage_test.h"
#include "smp_test.h"

#define LEN (64ULL << 20)

static volatile int stop, started;
static volatile uint64_t window_start; /* when the write in flight began; 0 between writes */
static volatile uint64_t max_gap, calls_inside;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Notes each getppid() that began inside the current write, and the
 * longest time between two of them (or from the write's start). One
 * thread for both writes: it is pinned and started once. */
static void *caller(void *arg)
{
    (void)arg;
    CHECK(pin_to(0) == 0, "pin the caller to CPU 0");
    started = 1;
    uint64_t last = 0, seen = 0;
    while (!stop) {
        uint64_t t0 = now_ns();
        syscall(SYS_getppid);
        uint64_t t1 = now_ns();
        uint64_t from = window_start;
        if (from != seen) {
            seen = from;
            last = from;
        }
        if (from && t0 >= from) {
            if (t1 - last > max_gap)
                max_gap = t1 - last;
            last = t1;
            calls_inside++;
        }
    }
    return NULL;
}

static void one(const char *what, int fd, const unsigned char *src, int positioned)
{
    max_gap = 0;
    calls_inside = 0;
    window_start = now_ns();
    ssize_t n = positioned ? pwrite(fd, src, LEN, 0) : write(fd, src, LEN);
    uint64_t took = now_ns() - window_start;
    /* Calls the other thread makes after the write returned are not in
     * it: its count and longest wait are as they are here. */
    uint64_t inside = calls_inside, gap = max_gap;
    window_start = 0;
    printf("%s of %llu MiB: %zd bytes in %llu ms; the other thread made %llu calls meanwhile, its longest wait %llu "
           "ms\n",
           what, LEN >> 20, n, (unsigned long long)(took / 1000000), (unsigned long long)inside,
           (unsigned long long)(gap / 1000000));
    CHECK(n == (ssize_t)LEN, "%s moved %zd bytes of %llu (%s)", what, n, LEN, n < 0 ? strerror(errno) : "short");
    CHECK(inside > 0 && gap < took / 2, "%s kept the other thread out for %llu ms of its %llu ms (%llu calls inside)",
          what, (unsigned long long)(gap / 1000000), (unsigned long long)(took / 1000000), (unsigned long long)inside);
}

int main(void)
{
    CHECK(pin_to(0) == 0, "pin the writer to CPU 0");
    /* Read-only, never touched: every source page faults (the zero page). */
    unsigned char *src = mmap(NULL, LEN, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    CHECK(src != MAP_FAILED, "mmap: %s", strerror(errno));
    int fd = open("/dev/shm/long-write", O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0, "open: %s", strerror(errno));
    unlink("/dev/shm/long-write");
    pthread_t t;
    int e = pthread_create(&t, NULL, caller, NULL);
    CHECK(e == 0, "pthread_create: %s", strerror(e));
    while (!started)
        sched_yield();
    one("write", fd, src, 0);
    /* Over the file's pages again, whose frames now exist: only the
     * source faults. */
    one("pwrite", fd, src, 1);
    stop = 1;
    pthread_join(t, NULL);
    close(fd);
    printf("ok\n");
    return 0;
}
