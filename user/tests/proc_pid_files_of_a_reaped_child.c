/*
 * proc_pid_files_of_a_reaped_child: /proc/<pid> of a child. While it
 * lives, its status names it with the child's pid and the caller as PPid;
 * once it has exited and been reaped, the files opened before read as
 * Linux's do: status, stat and maps fail with ESRCH (get_proc_task finds
 * no task), and /proc/<pid> is gone (ENOENT).
 */
#include <sched.h>
#include <sys/wait.h>

#include "proc_test.h"

int main(void)
{
    static char buf[1 << 14];
    volatile int *flag = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(flag != MAP_FAILED, "mmap: %m");
    pid_t child = fork();
    CHECK(child >= 0, "fork: %m");
    if (child == 0) {
        while (!*flag)
            sched_yield();
        _exit(7);
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/status", child);
    int status = open(path, O_RDONLY);
    CHECK(status >= 0, "open %s: %m", path);
    snprintf(path, sizeof path, "/proc/%d/stat", child);
    int stat = open(path, O_RDONLY);
    snprintf(path, sizeof path, "/proc/%d/maps", child);
    int maps = open(path, O_RDONLY);
    CHECK(stat >= 0 && maps >= 0, "open stat, maps: %m");

    ssize_t n = read(status, buf, sizeof buf - 1);
    CHECK(n > 0, "read the live child's status: %m");
    buf[n] = 0;
    const char *pid = line_value(buf, "Pid:\t"), *ppid = line_value(buf, "PPid:\t");
    CHECK(pid && ppid && atoi(pid) == child && atoi(ppid) == getpid(), "child's status: Pid %d, PPid %d",
          pid ? atoi(pid) : -1, ppid ? atoi(ppid) : -1);

    *flag = 1;
    int st;
    CHECK(waitpid(child, &st, 0) == child && WIFEXITED(st) && WEXITSTATUS(st) == 7, "waitpid");
    CHECK(pread(status, buf, sizeof buf, 0) == -1 && errno == ESRCH, "status after reaping: %m");
    CHECK(read(stat, buf, sizeof buf) == -1 && errno == ESRCH, "stat after reaping: %m");
    CHECK(read(maps, buf, sizeof buf) == -1 && errno == ESRCH, "maps after reaping: %m");
    snprintf(path, sizeof path, "/proc/%d/status", child);
    CHECK(open(path, O_RDONLY) == -1 && errno == ENOENT, "opening %s after reaping: %m", path);
    close(status);
    close(stat);
    close(maps);
    printf("child %d: status read while alive; ESRCH, then ENOENT, once reaped\n", child);
    return 0;
}
