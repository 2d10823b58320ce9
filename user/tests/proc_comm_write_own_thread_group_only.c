/*
 * proc_comm_write_own_thread_group_only: writing /proc/<pid>/comm renames
 * the task only when it is in the writer's thread group (Linux's
 * comm_write: same_thread_group, else EINVAL, even for root); a thread of
 * the writer's own group is renamed through /proc/self/task/<tid>/comm.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "proc_test.h"

static volatile long thread_tid;
static volatile int thread_stop;

static void *thread_main(void *arg)
{
    (void)arg;
    thread_tid = syscall(SYS_gettid);
    while (!thread_stop)
        usleep(1000);
    return NULL;
}

int main(void)
{
    char path[64], buf[64];
    pid_t child = fork();
    CHECK(child >= 0, "fork: %m");
    if (child == 0) {
        pause();
        _exit(0);
    }
    snprintf(path, sizeof path, "/proc/%d/comm", child);
    int fd = open(path, O_WRONLY);
    CHECK(fd >= 0, "open %s for writing: %m", path);
    errno = 0;
    long n = write(fd, "renamed", 7);
    CHECK(n == -1 && errno == EINVAL, "write to another process's comm: %ld (%m), want EINVAL", n);
    close(fd);
    read_file(path, buf, sizeof buf);
    CHECK(strcmp(buf, "renamed\n") != 0, "another process's comm was renamed to \"%s\"", buf);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);

    pthread_t t;
    CHECK(pthread_create(&t, NULL, thread_main, NULL) == 0, "pthread_create");
    while (!thread_tid)
        usleep(1000);
    snprintf(path, sizeof path, "/proc/self/task/%ld/comm", thread_tid);
    fd = open(path, O_WRONLY);
    CHECK(fd >= 0, "open %s for writing: %m", path);
    n = write(fd, "worker", 6);
    CHECK(n == 6, "write to a thread's comm: %ld (%m), want 6", n);
    close(fd);
    read_file(path, buf, sizeof buf);
    CHECK(strcmp(buf, "worker\n") == 0, "the thread's comm is \"%s\", want \"worker\\n\"", buf);
    thread_stop = 1;
    pthread_join(t, NULL);
    printf("comm writes: EINVAL for another process, a thread of ours renamed\n");
    return 0;
}
