/*
 * proc_status_stat_describe_the_process: /proc/self/status has Linux's
 * "Label:\tvalue" lines with the caller's Name, State, Tgid, Pid, PPid,
 * Threads, the signal masks set with sigprocmask and sigaction (SigBlk,
 * SigIgn, SigCgt, as 16 hex digits), VmSize/VmRSS in kB; /proc/self/stat
 * has the same pid, (comm), state R, ppid, thread count and vsize, 52
 * fields on this kernel. A second thread shows in Threads and in
 * /proc/self/task. (Under qemu-user, status is the host's view of qemu
 * itself and stat is emulated: there only the format and pids are checked.)
 */
#include <dirent.h>
#include <pthread.h>

#include "proc_test.h"

static void handler(int sig)
{
    (void)sig;
}

static volatile int release;

static void *thread_main(void *arg)
{
    (void)arg;
    while (!release)
        usleep(1000);
    return NULL;
}

static unsigned long status_hex(const char *text, const char *label)
{
    const char *v = line_value(text, label);
    CHECK(v != NULL && strlen(v) >= 16 && strspn(v, "0123456789abcdef") == 16, "%s is not 16 hex digits: %.20s",
          label, v ? v : "(none)");
    return strtoul(v, NULL, 16);
}

static long status_num(const char *text, const char *label)
{
    const char *v = line_value(text, label);
    CHECK(v != NULL, "status has no \"%s\" line", label);
    return strtol(v, NULL, 10);
}

int main(int argc, char **argv)
{
    static char buf[1 << 14];
    int kernel = on_refpage_kernel();
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR2);
    CHECK(sigprocmask(SIG_BLOCK, &block, NULL) == 0, "sigprocmask: %m");
    signal(SIGUSR1, handler);
    signal(SIGHUP, SIG_IGN);

    CHECK(read_file("/proc/self/status", buf, sizeof buf) > 0, "read status: %m");
    for (char *p = buf; *p; p = strchr(p, '\n') + 1) {
        size_t len = strcspn(p, "\n");
        CHECK(memchr(p, ':', len) && (memchr(p, '\t', len) || len == strcspn(p, ":") + 1),
              "status line not \"Label:\\tvalue\": %.*s", (int)len, p);
    }
    CHECK(status_num(buf, "Tgid:\t") == getpid() && status_num(buf, "Pid:\t") == getpid(), "Tgid/Pid");
    CHECK(status_num(buf, "PPid:\t") == getppid(), "PPid %ld, getppid %d", status_num(buf, "PPid:\t"), getppid());
    CHECK(line_value(buf, "State:\t") && strncmp(line_value(buf, "State:\t"), "R (running)", 11) == 0, "State");
    status_hex(buf, "SigPnd:\t");
    status_hex(buf, "ShdPnd:\t");
    if (kernel) {
        const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
        char want[16];
        snprintf(want, sizeof want, "%.15s", base);
        const char *name = line_value(buf, "Name:\t");
        CHECK(name && strncmp(name, want, strlen(want)) == 0 && name[strlen(want)] == '\n', "Name: %.20s, want %s",
              name ? name : "(none)", want);
        CHECK(status_hex(buf, "SigBlk:\t") == 1UL << (SIGUSR2 - 1), "SigBlk %016lx", status_hex(buf, "SigBlk:\t"));
        CHECK(status_hex(buf, "SigCgt:\t") == 1UL << (SIGUSR1 - 1), "SigCgt %016lx", status_hex(buf, "SigCgt:\t"));
        CHECK(status_hex(buf, "SigIgn:\t") == 1UL << (SIGHUP - 1), "SigIgn %016lx", status_hex(buf, "SigIgn:\t"));
        CHECK(status_num(buf, "Threads:\t") == 1, "Threads %ld", status_num(buf, "Threads:\t"));
        CHECK(status_num(buf, "VmRSS:\t") > 0 && status_num(buf, "VmSize:\t") >= status_num(buf, "VmRSS:\t"),
              "VmSize %ld, VmRSS %ld", status_num(buf, "VmSize:\t"), status_num(buf, "VmRSS:\t"));
    }
    long vmsize = kernel ? status_num(buf, "VmSize:\t") : 0;

    CHECK(read_file("/proc/self/stat", buf, sizeof buf) > 0, "read stat: %m");
    int pid, ppid;
    char comm[32], state;
    CHECK(sscanf(buf, "%d (%31[^)]) %c %d", &pid, comm, &state, &ppid) == 4, "stat: \"%.60s\"", buf);
    CHECK(pid == getpid() && ppid == getppid() && state == 'R', "stat pid %d ppid %d state %c", pid, ppid, state);
    int fields = 0;
    for (char *t = strtok(strchr(buf, ')') + 1, " \n"); t; t = strtok(NULL, " \n"))
        fields++;
    fields += 2; /* pid and (comm) */
    CHECK(kernel ? fields == 52 : fields >= 44, "stat has %d fields, want 52", fields);
    if (kernel) {
        CHECK(read_file("/proc/self/stat", buf, sizeof buf) > 0, "read stat: %m");
        unsigned long vsize;
        long threads;
        CHECK(sscanf(strchr(buf, ')') + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %ld %*d "
                                           "%*u %lu",
                     &threads, &vsize) == 2,
              "stat fields 20 and 23");
        CHECK(threads == 1 && vsize == (unsigned long)vmsize * 1024, "stat threads %ld vsize %lu, status VmSize %ld kB",
              threads, vsize, vmsize);
    }

    pthread_t t;
    CHECK(pthread_create(&t, NULL, thread_main, NULL) == 0, "pthread_create");
    CHECK(read_file("/proc/self/status", buf, sizeof buf) > 0, "read status: %m");
    if (kernel)
        CHECK(status_num(buf, "Threads:\t") == 2, "Threads with a second thread: %ld", status_num(buf, "Threads:\t"));
    DIR *d = opendir("/proc/self/task");
    CHECK(d != NULL, "opendir /proc/self/task: %m");
    int tasks = 0;
    for (struct dirent *e; (e = readdir(d));)
        tasks += e->d_name[0] != '.';
    closedir(d);
    CHECK(tasks == 2 || !kernel, "/proc/self/task lists %d tasks, want 2", tasks);
    release = 1;
    pthread_join(t, NULL);
    printf("status and stat agree: pid %d, ppid %d, %d stat fields, %d tasks\n", pid, ppid, fields, tasks);
    return 0;
}
