/*
 * proc_exe_of_a_zombie_enoent: a zombie has no memory left, so
 * readlink("/proc/<pid>/exe") of one is ENOENT (Linux's proc_exe_link:
 * get_task_exe_file finds no mm), while its status still reads "Z".
 */
#include <sys/wait.h>

#include "proc_test.h"

int main(void)
{
    char path[64], link[256], status[4096];
    pid_t child = fork();
    CHECK(child >= 0, "fork: %m");
    if (child == 0)
        _exit(3);
    /* A zombie until reaped: wait for it without reaping. */
    siginfo_t si;
    CHECK(waitid(P_PID, child, &si, WEXITED | WNOWAIT) == 0, "waitid WNOWAIT: %m");
    snprintf(path, sizeof path, "/proc/%d/status", child);
    CHECK(read_file(path, status, sizeof status) > 0, "read %s: %m", path);
    const char *state = line_value(status, "State:");
    while (state && (*state == ' ' || *state == '\t'))
        state++;
    CHECK(state && state[0] == 'Z', "the child's state is \"%.12s\", want Z", state ? state : "(none)");
    snprintf(path, sizeof path, "/proc/%d/exe", child);
    errno = 0;
    ssize_t n = readlink(path, link, sizeof link);
    CHECK(n == -1 && errno == ENOENT, "readlink %s of a zombie: %zd \"%.*s\" (%m), want ENOENT", path, n,
          (int)(n > 0 ? n : 0), link);
    waitpid(child, NULL, 0);
    printf("a zombie's exe: ENOENT\n");
    return 0;
}
