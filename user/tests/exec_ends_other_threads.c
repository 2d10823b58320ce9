/*
 * exec_ends_other_threads: execve in a multi-threaded process ends every
 * other thread first (Linux's de_thread), and an execve from a thread that
 * is not the leader takes over the leader's pid.
 *
 * Three times (the leader execs; a second thread execs while the leader
 * sleeps in pthread_join; a second thread execs after the leader has
 * ended with pthread_exit), a forked child starts a thread that spins incrementing
 * a counter in a /dev/shm file and one that sleeps, waits until the
 * counter moves, and execs this program again as a probe. The probe maps
 * the file and checks that the counter no longer moves over 50 ms (no
 * thread of the old program runs on), that getpid() is the child's pid,
 * gettid() == getpid() and getppid() is the test's pid, and exits 66; the
 * test waits for the child's pid and wants 66.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "refpage_test.h"

static atomic_ulong *counter;
static char *self_path, *shm_path;
static char pid_arg[16], ppid_arg[16];

static void *spin(void *arg)
{
    (void)arg;
    for (;;)
        atomic_fetch_add(counter, 1);
    return NULL;
}

static void *sleeper(void *arg)
{
    (void)arg;
    for (;;)
        sleep_ns(1000000000ull);
    return NULL;
}

static atomic_ulong *map_counter(const char *path)
{
    int fd = open(path, O_RDWR);
    CHECK(fd >= 0, "open(%s): errno %d (%s)", path, errno, strerror(errno));
    void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED, "mmap(%s): errno %d", path, errno);
    close(fd);
    return m;
}

static void exec_probe(void)
{
    char *const argv[] = {self_path, "probe", shm_path, pid_arg, ppid_arg, NULL};
    char *const envp[] = {NULL};
    execve(self_path, argv, envp);
    fprintf(stderr, "exec_ends_other_threads: execve(%s): errno %d (%s)\n", self_path, errno,
            strerror(errno));
    _exit(67);
}

static void *exec_thread(void *arg)
{
    (void)arg;
    exec_probe();
    return NULL;
}

/* Execs once the leader has had 30 ms to end. */
static void *exec_thread_later(void *arg)
{
    (void)arg;
    sleep_ns(30 * 1000000);
    exec_probe();
    return NULL;
}

static int probe(char **argv)
{
    atomic_ulong *c = map_counter(argv[2]);
    unsigned long before = atomic_load(c);
    sleep_ns(50 * 1000000);
    unsigned long after = atomic_load(c);
    CHECK(before == after, "probe: the old program's spinning thread still runs after execve: "
          "its counter went from %lu to %lu in 50 ms", before, after);
    int pid = atoi(argv[3]), ppid = atoi(argv[4]);
    CHECK(getpid() == pid, "probe: getpid() is %d after execve, want the process's pid %d",
          (int)getpid(), pid);
    long tid = syscall(SYS_gettid);
    CHECK(tid == getpid(), "probe: gettid() is %ld, want getpid() %d (the exec'ing thread takes "
          "the leader's pid)", tid, (int)getpid());
    CHECK(getppid() == ppid, "probe: getppid() is %d, want %d", (int)getppid(), ppid);
    return 66;
}

enum mode { FROM_LEADER, FROM_THREAD, FROM_THREAD_LEADER_GONE };

static void run(enum mode mode)
{
    const char *who = mode == FROM_LEADER ? "the leader"
                      : mode == FROM_THREAD ? "a second thread"
                                            : "a second thread after the leader's pthread_exit";
    atomic_store(counter, 0);
    int parent = getpid();
    pid_t child = fork_checked();
    if (child == 0) {
        snprintf(pid_arg, sizeof(pid_arg), "%d", (int)getpid());
        snprintf(ppid_arg, sizeof(ppid_arg), "%d", parent);
        pthread_t t;
        CHECK(pthread_create(&t, NULL, spin, NULL) == 0, "pthread_create(spin)");
        CHECK(pthread_create(&t, NULL, sleeper, NULL) == 0, "pthread_create(sleeper)");
        while (atomic_load(counter) == 0)
            sleep_ns(1000000);
        if (mode == FROM_LEADER)
            exec_probe();
        CHECK(pthread_create(&t, NULL, mode == FROM_THREAD ? exec_thread : exec_thread_later, NULL) == 0,
              "pthread_create(exec)");
        if (mode == FROM_THREAD_LEADER_GONE)
            pthread_exit(NULL);
        pthread_join(t, NULL);
        _exit(68);
    }
    int status = wait_for(child);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 66,
          "execve from %s: the child %s, want exited 66 (the probe's checks passed)", who,
          wait_status_str(status));
    printf("exec_ends_other_threads: execve from %s: no old thread ran on, the pid was kept, "
           "gettid() == getpid()\n", who);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 5 && strcmp(argv[1], "probe") == 0)
        return probe(argv);
    if (argc != 1) {
        fprintf(stderr, "usage: %s (no arguments)\n", argv[0]);
        return 2;
    }
    self_path = argv[0];
    static char path[] = "/dev/shm/execthrXXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "mkstemp: errno %d", errno);
    CHECK(ftruncate(fd, 4096) == 0, "ftruncate: errno %d", errno);
    close(fd);
    shm_path = path;
    counter = map_counter(path);
    run(FROM_LEADER);
    run(FROM_THREAD);
    run(FROM_THREAD_LEADER_GONE);
    CHECK(unlink(path) == 0, "unlink: errno %d", errno);
    return 0;
}
