/*
 * ptrace_seize_detach_leaves_sleep_alone: PTRACE_SEIZE attaches without
 * stopping the tracee (no SIGSTOP), with Linux's argument checks (an
 * address or an unknown option: EIO); and when the tracer exits, a tracee
 * that is not stopped (here, asleep in nanosleep) is detached without
 * being woken: its 300 ms sleep lasts 300 ms.
 */
#include <sched.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>

#include "refpage_test.h"
#include "ptrace_test.h"

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(void)
{
    pid_t t = fork();
    CHECK(t >= 0, "fork: errno %d", errno);
    if (t == 0) {
        long start = now_ms();
        struct timespec ts = { 0, 300 * 1000000L };
        int r = nanosleep(&ts, NULL);
        long slept = now_ms() - start;
        if (r != 0 || slept < 300) {
            fprintf(stderr, "the tracee's nanosleep returned %d after %ld ms of 300\n", r, slept);
            _exit(1);
        }
        _exit(0);
    }
    pid_t p = fork();
    CHECK(p >= 0, "fork: errno %d", errno);
    if (p == 0) {
        struct timespec ts = { 0, 50 * 1000000L };
        nanosleep(&ts, NULL); /* let t fall asleep */
        errno = 0;
        if (ptrace(PTRACE_SEIZE, t, 1, 0) != -1 || errno != EIO)
            _exit(20);
        errno = 0;
        if (ptrace(PTRACE_SEIZE, t, 0, 0x80000000UL) != -1 || errno != EIO)
            _exit(21);
        if (ptrace(PTRACE_SEIZE, t, 0, 0) != 0)
            _exit(22);
        /* Seized, not stopped: a request that needs a stop is ESRCH. */
        errno = 0;
        if (ptrace(PTRACE_CONT, t, 0, 0) != -1 || errno != ESRCH)
            _exit(23);
        _exit(0); /* t is detached as its tracer exits */
    }
    int status = wait_end(p);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the tracer ended with status %#x (20-23: its step)",
          status);
    printf("ptrace_seize: SEIZE with an address or unknown option EIO; seized, not stopped: CONT ESRCH\n");
    status = wait_end(t);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the sleeping tracee ended with status %#x", status);
    printf("ptrace_seize: the tracer's exit left the tracee's 300 ms sleep alone\n");
    return 0;
}
