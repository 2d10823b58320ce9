/*
 * thread_main_pthread_exit: a process ends when its last thread does, not
 * when its main thread does. In a child the main thread starts a worker and
 * calls pthread_exit; the worker sleeps 50 ms, records that it ran, and
 * calls exit(4). The parent's waitpid must report exited 4, and only after
 * the worker has run (on Linux the main thread's exit leaves a zombie
 * leader that is reported once the whole thread group is gone).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "refpage_test.h"

#define MS 1000000ull

static volatile unsigned *shared;

static void *worker(void *arg)
{
    (void)arg;
    sleep_ns(50 * MS);
    shared[0] = 0xa11;
    exit(4);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(shared != MAP_FAILED, "mmap: errno %d", errno);
    uint64_t t0 = monotonic_ns();
    pid_t c = fork_checked();
    if (c == 0) {
        pthread_t t;
        if (pthread_create(&t, NULL, worker, NULL) != 0)
            _exit(100);
        pthread_exit(NULL);
    }
    int status = wait_for(c);
    uint64_t took = monotonic_ns() - t0;
    unsigned ran = shared[0];
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 4,
          "the child %s after %llu ms (worker had %s); want exited 4, reported once its last "
          "thread called exit(4)", wait_status_str(status), (unsigned long long)took / MS,
          ran == 0xa11 ? "run" : "not run yet");
    CHECK(ran == 0xa11, "the child was reaped before its worker thread ran");
    printf("thread_main_pthread_exit: main thread's pthread_exit left the process running; the "
           "worker's exit(4) ended it after %llu ms\n", (unsigned long long)took / MS);
    sleep_ns(5 * MS);
    return 0;
}
