/*
 * mmap_populate_ended_by_sigkill: a MAP_POPULATE mapping of 1 TiB (real work:
 * every page gets the zero page, until the page tables use up memory) is
 * long, and must neither keep the CPU from other processes nor outlast a
 * SIGKILL. Linux's populate loop checks fatal_signal_pending() and calls
 * cond_resched() (mm/gup.c, __get_user_pages).
 *
 * Before: the kernel populated page after page with interrupts masked: the
 * parent below never ran again, and the run's time limit could not end it.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "refpage_test.h"

#define SIZE (1ULL << 40)

int main(void)
{
    volatile int *started = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(started != MAP_FAILED, "a shared page: %s", strerror(errno));
    pid_t pid = fork_checked();
    if (pid == 0) {
        *started = 1;
        void *p = mmap(NULL, SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_POPULATE, -1, 0);
        /* Populating 2^28 pages cannot be done in the parent's 200 ms. */
        printf("child: mmap returned %p before the SIGKILL\n", p);
        _exit(3);
    }
    while (!*started)
        sleep_ns(1000000);
    sleep_ns(200000000); /* the child is populating now */
    uint64_t t = monotonic_ns();
    CHECK(kill(pid, SIGKILL) == 0, "kill: %s", strerror(errno));
    int st = wait_for(pid);
    uint64_t ms = (monotonic_ns() - t) / 1000000;
    printf("SIGKILL to a child in MAP_POPULATE of 1 TiB: %s after %llu ms\n", wait_status_str(st),
           (unsigned long long)ms);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "the child %s, want killed by SIGKILL", wait_status_str(st));
    CHECK(ms < 2000, "the child took %llu ms to die", (unsigned long long)ms);
    printf("mmap_populate_ended_by_sigkill: ok\n");
    return 0;
}
