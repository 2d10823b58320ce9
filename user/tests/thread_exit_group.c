/*
 * thread_exit_group: exit() from any thread ends the whole process
 * (exit_group), whatever the other threads are doing.
 *  1. In a child, threads sleep in nanosleep, spin, and block in
 *     pthread_cond_wait, and the main thread blocks in pthread_join; another
 *     thread calls exit(3). The parent's waitpid sees the child exited with
 *     3, promptly.
 *  2. The same, but the main thread returns 5 from main (exit from the
 *     first thread) while the others sleep, spin and wait.
 *  3. A thread calls _exit(9) (the exit_group system call directly) while
 *     the main thread spins.
 * In each case the process ends as a whole: its shared-memory heartbeat
 * stops after the parent has reaped it. The parent polls waitpid(WNOHANG)
 * (3 s at most), so a case whose status is lost fails without hanging the
 * others; every case runs, then the status is 1 if any failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "refpage_test.h"

#define MS 1000000ull

static volatile unsigned long *heartbeat; /* shared with the parent */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;

static void *sleeper(void *arg)
{
    (void)arg;
    for (;;) {
        sleep_ns(2 * MS);
        heartbeat[0]++;
    }
    return NULL;
}

static void *spinner(void *arg)
{
    (void)arg;
    for (;;)
        heartbeat[1]++;
    return NULL;
}

static void *cond_waiter(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&lock);
    for (;;)
        pthread_cond_wait(&never, &lock);
    return NULL;
}

/* Waits until the sleeping and spinning threads have both run, so that
 * the exit meets them running whatever the host's load (a fixed delay
 * made the "never ran" check depend on it). */
static void until_others_ran(void)
{
    sleep_ns(20 * MS);
    while (heartbeat[0] == 0 || heartbeat[1] == 0)
        sleep_ns(1 * MS);
}

static void *exiter(void *arg)
{
    int how = (int)(intptr_t)arg;
    until_others_ran();
    if (how == 1)
        exit(3);
    _exit(9);
}

static void start(void *(*fn)(void *), void *arg)
{
    pthread_t t;
    int r = pthread_create(&t, NULL, fn, arg);
    if (r != 0) {
        fprintf(stderr, "thread_exit_group: child: pthread_create: %d (%s)\n", r, strerror(r));
        _exit(100);
    }
}

static void case_child(int which)
{
    start(sleeper, NULL);
    start(spinner, NULL);
    start(cond_waiter, NULL);
    if (which == 1) {
        pthread_t t;
        if (pthread_create(&t, NULL, exiter, (void *)1) != 0)
            _exit(101);
        pthread_join(t, NULL); /* never returns: exit(3) ends the process */
        _exit(102);
    }
    if (which == 2) {
        until_others_ran();
        exit(5); /* as a return from main */
    }
    start(exiter, (void *)3);
    for (;;)
        heartbeat[2]++;
}

/* Waits up to 3 s for the child by polling waitpid(WNOHANG) (a kernel
 * that loses the child's status must not hang the remaining cases).
 * Returns 1 with its status, or 0 after printing what waitpid said. */
static int wait_polling(pid_t c, int *status, const char *what)
{
    for (int i = 0; i < 3000; i++) {
        pid_t r = waitpid(c, status, WNOHANG);
        if (r == c)
            return 1;
        if (r != 0) {
            EXPECT(r == c, "%s: waitpid(%d, WNOHANG) returned %d, errno %d (%s), before any "
                   "status was collected", what, (int)c, (int)r, errno, strerror(errno));
            return 0;
        }
        sleep_ns(1 * MS);
    }
    EXPECT(0, "%s: the child was not waitable within 3 s", what);
    return 0;
}

static void run_case(int which, int want, const char *what)
{
    heartbeat[0] = heartbeat[1] = heartbeat[2] = 0;
    uint64_t t0 = monotonic_ns();
    pid_t c = fork_checked();
    if (c == 0)
        case_child(which);
    int status = 0;
    if (!wait_polling(c, &status, what))
        return;
    uint64_t took = monotonic_ns() - t0;
    EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == want, "%s: the child %s, want exited %d",
           what, wait_status_str(status), want);
    EXPECT(took < 2000 * MS, "%s: the child took %llu ms to end", what,
           (unsigned long long)took / MS);
    unsigned long h0 = heartbeat[0], h1 = heartbeat[1], h2 = heartbeat[2];
    sleep_ns(30 * MS);
    EXPECT(heartbeat[0] == h0 && heartbeat[1] == h1 && heartbeat[2] == h2,
           "%s: threads of the reaped child still run (heartbeats %lu/%lu/%lu -> %lu/%lu/%lu)",
           what, h0, h1, h2, heartbeat[0], heartbeat[1], heartbeat[2]);
    EXPECT(h0 > 0 && h1 > 0, "%s: the sleeping (%lu) and spinning (%lu) threads never ran", what,
           h0, h1);
    printf("thread_exit_group: %s: the process %s after %llu ms, its other threads stopped "
           "(sleeper woke %lu times, spinner %lu spins)\n", what, wait_status_str(status),
           (unsigned long long)took / MS, h0, h1);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    heartbeat = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(heartbeat != MAP_FAILED, "mmap: errno %d", errno);
    run_case(1, 3, "exit(3) in a thread while main is in pthread_join");
    run_case(2, 5, "exit(5) in the main thread");
    run_case(3, 9, "_exit(9) in a thread while main spins");
    return *expect_failures() ? 1 : 0;
}
