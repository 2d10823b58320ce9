/*
 * ptrace_nonchild_exit_seen_by_tracer_first: when a process traced by
 * another that is not its parent ends, its tracer's wait reports the end
 * first; the parent's wait sees it only after that (Linux's
 * wait_consider_task: "a zombie ptracee is only visible to its ptracer";
 * the tracer's wait then releases it to its parent).
 *
 * T sleeps 100 ms and exits 7. The tracer P attaches (the SIGSTOP stop),
 * continues it, and waits: exit 7. The parent, blocked in waitpid(T) all
 * along, gets exit 7 too, after that (it must not reap T first: the
 * tracer's waitpid would then fail with ECHILD).
 */
#include <string.h>
#include <sys/syscall.h>
#include <sched.h>
#include <time.h>

#include "refpage_test.h"
#include "ptrace_test.h"

struct shared {
    volatile int attached;
};

int main(void)
{
    struct shared *s = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(s != MAP_FAILED, "mmap shared: errno %d", errno);
    pid_t t = fork();
    CHECK(t >= 0, "fork: errno %d", errno);
    if (t == 0) {
        while (!s->attached)
            sched_yield();
        struct timespec ts = { 0, 100 * 1000000L };
        nanosleep(&ts, NULL);
        _exit(7);
    }
    pid_t p = fork();
    CHECK(p >= 0, "fork: errno %d", errno);
    if (p == 0) {
        if (ptrace(PTRACE_ATTACH, t, 0, 0) != 0)
            _exit(20);
        int status = 0;
        if (waitpid(t, &status, 0) != t || !WIFSTOPPED(status))
            _exit(21);
        s->attached = 1;
        if (ptrace(PTRACE_CONT, t, 0, 0) != 0)
            _exit(22);
        pid_t got = waitpid(t, &status, 0);
        if (got != t || !WIFEXITED(status) || WEXITSTATUS(status) != 7) {
            fprintf(stderr, "tracer: waitpid(T) returned %d (errno %d), status %#x\n", got, errno, status);
            _exit(23);
        }
        _exit(0);
    }
    int status = 0;
    pid_t got = waitpid(t, &status, 0);
    CHECK(got == t && WIFEXITED(status) && WEXITSTATUS(status) == 7, "parent: waitpid(T) returned %d, status %#x",
          got, status);
    status = wait_end(p);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "the tracer ended with status %#x (20-22: its step; 23: its waitpid(T) did not see the exit)", status);
    printf("ptrace_nonchild_exit: the tracer saw T exit 7 first, then the parent reaped it\n");
    return 0;
}
