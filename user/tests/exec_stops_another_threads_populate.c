/*
 * exec_stops_another_threads_populate: a thread inside a long
 * MAP_POPULATE when another thread execs stops its work at its next check
 * (Linux's __get_user_pages sees the fatal signal de_thread sent) rather
 * than finishing it first: exec waits for it to unwind, so the new
 * program starts promptly.
 *
 * A forked child starts a thread that maps 64 GiB read-only with
 * MAP_POPULATE (every page gets the zero page: seconds of work, no
 * memory); once it is under way the main thread execs this program as a
 * probe, which exits 66 at once. The test wants the child ended within
 * 1 s of the exec.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "refpage_test.h"

static atomic_int started;

static void *populator(void *arg)
{
    (void)arg;
    atomic_store(&started, 1);
    mmap(NULL, 64ul << 30, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE | MAP_NORESERVE, -1, 0);
    return NULL;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 2 && strcmp(argv[1], "probe") == 0)
        return 66;
    int ready[2];
    CHECK(pipe(ready) == 0, "pipe: errno %d", errno);
    pid_t child = fork_checked();
    if (child == 0) {
        pthread_t t;
        CHECK(pthread_create(&t, NULL, populator, NULL) == 0, "pthread_create");
        while (!atomic_load(&started))
            sched_yield();
        /* Well into the populate. */
        sleep_ns(100 * 1000000);
        char *const args[] = {argv[0], "probe", NULL};
        char *const envp[] = {NULL};
        (void)!write(ready[1], "e", 1);
        execve(argv[0], args, envp);
        _exit(67);
    }
    char c;
    CHECK(read(ready[0], &c, 1) == 1, "the child did not get to its execve");
    uint64_t start = monotonic_ns();
    int status = wait_for(child);
    double took = (monotonic_ns() - start) / 1e9;
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 66, "the child %s, want exited 66 (the probe)",
          wait_status_str(status));
    CHECK(took < 1.0, "the exec'd program ended %.3f s after the exec: exec waited for the other thread's "
          "MAP_POPULATE to finish", took);
    printf("exec_stops_another_threads_populate: the probe ended %.3f s after the exec\n", took);
    return 0;
}
