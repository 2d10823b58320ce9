/*
 * getrandom_large_length_stops_only_at_a_signal: Linux 6.1's getrandom
 * fills any length up to MAX_RW_COUNT in one call (get_random_bytes_user
 * has no other limit), stops at a page boundary when a signal is pending
 * (signal_pending: any unblocked signal, not only SIGKILL) and returns what
 * it copied; a range past the user half is EFAULT before anything is
 * copied (import_single_range's access_ok); a fault part-way returns the
 * bytes before it.
 */
#include "refpage_test.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/syscall.h>

#define BIG (33UL << 20)

static atomic_int calling;
static pid_t main_tid;
static volatile sig_atomic_t handled;

static void on_usr1(int sig)
{
    (void)sig;
    handled = 1;
}

/* Waits until main is about to call getrandom, lets it get going, then
 * sends it SIGUSR1. */
static void *interrupter(void *arg)
{
    (void)arg;
    while (!atomic_load(&calling))
        ;
    sleep_ns(20 * 1000 * 1000);
    CHECK(syscall(SYS_tgkill, getpid(), main_tid, SIGUSR1) == 0, "tgkill: errno %d (%s)", errno, strerror(errno));
    return NULL;
}

/* Whether the page at `p` holds anything but zeros. */
static int page_written(const unsigned char *p)
{
    for (int i = 0; i < 4096; i++)
        if (p[i])
            return 1;
    return 0;
}

int main(void)
{
    unsigned char *buf = map_anonymous(BIG + 8192, PROT_READ | PROT_WRITE);
    CHECK(mprotect(buf + BIG, 8192, PROT_NONE) == 0, "mprotect: errno %d (%s)", errno, strerror(errno));

    /* 33 MiB in one call (this kernel gave 32 MiB at most), up to a guard
     * page the length runs into: the bytes before it. */
    ssize_t got = getrandom(buf, BIG + 8192, 0);
    CHECK(got == (ssize_t)BIG, "getrandom(%lu) into a guard page at %lu returned %zd, errno %d", BIG + 8192, BIG,
          got, errno);
    CHECK(page_written(buf + BIG - 4096), "the last page of the 33 MiB is all zeros");

    /* Past the user half: EFAULT, nothing copied. */
    void *top = (void *)((1UL << 48) - 4096);
    CHECK_ERRNO(getrandom(top, 8192, 0), EFAULT);

    /* A signal stops a long call at a page, with what it copied. */
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction: errno %d (%s)", errno, strerror(errno));
    main_tid = (pid_t)syscall(SYS_gettid);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, interrupter, NULL) == 0, "pthread_create failed");
    memset(buf, 0, BIG);
    uint64_t start = monotonic_ns();
    atomic_store(&calling, 1);
    got = getrandom(buf, BIG, 0);
    uint64_t took = monotonic_ns() - start;
    CHECK(pthread_join(t, NULL) == 0, "pthread_join failed");
    CHECK(handled, "SIGUSR1 was not handled");
    CHECK(got > 0 && got < (ssize_t)BIG && got % 4096 == 0,
          "getrandom(%lu) with SIGUSR1 sent 20 ms in returned %zd (errno %d) after %llu ms, want a page multiple "
          "short of the length",
          BIG, got, errno, (unsigned long long)(took / 1000000));
    CHECK(page_written(buf + got - 4096) && !page_written(buf + got), "the copy did not end at byte %zd", got);
    printf("getrandom_large_length_stops_only_at_a_signal: %zd of %lu bytes before SIGUSR1 (%llu ms)\n", got, BIG,
           (unsigned long long)(took / 1000000));
    return 0;
}
