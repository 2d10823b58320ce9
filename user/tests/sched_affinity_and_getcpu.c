/*
 * sched_affinity_and_getcpu: sched_getaffinity, sched_setaffinity and
 * getcpu follow Linux's rules and tell the truth about the CPUs:
 *  - glibc's sched_getaffinity names as many CPUs as are online (the count
 *    in /sys/devices/system/cpu/online where it exists; this kernel has no
 *    sysfs, and /proc/cpuinfo's processor blocks say it), CPU 0 among
 *    them; for another thread (by its tid) the same;
 *  - the raw system call returns the bytes it copied, min(len,
 *    cpumask_size()); EINVAL for a length that is not a multiple of 8 or
 *    is 0; EFAULT for a bad buffer; ESRCH for a pid that does not exist;
 *  - sched_setaffinity: the CPUs from getaffinity: 0; an empty mask, or
 *    only CPUs that do not exist (CPU 255 beyond the online count): EINVAL;
 *    a mask naming every possible CPU: 0, and getaffinity still names only
 *    the online ones; a 1-byte mask is enough;
 *  - getcpu: a CPU in the affinity mask and node 0; NULL pointers are
 *    skipped, a bad one is EFAULT.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "refpage_test.h"
#include "smp_test.h"

/* CPUs online: sysfs where it exists ("0" or "0-N"), else /proc/cpuinfo. */
static int online_cpus(void)
{
    int fd = open("/sys/devices/system/cpu/online", O_RDONLY);
    if (fd < 0)
        return cpuinfo_processors();
    char buf[64] = {0};
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    char *dash = n > 0 ? strchr(buf, '-') : NULL;
    return dash && !strchr(buf, ',') ? atoi(dash + 1) + 1 : 1;
}

static long getaffinity(pid_t pid, size_t len, void *mask)
{
    return syscall(SYS_sched_getaffinity, pid, len, mask);
}

static long setaffinity(pid_t pid, size_t len, const void *mask)
{
    return syscall(SYS_sched_setaffinity, pid, len, mask);
}

static volatile long thread_tid;

static void *idle_thread(void *arg)
{
    (void)arg;
    thread_tid = syscall(SYS_gettid);
    sleep_ns(200 * 1000000);
    return NULL;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    int cpus = online_cpus();

    cpu_set_t set;
    CPU_ZERO(&set);
    CHECK(sched_getaffinity(0, sizeof(set), &set) == 0, "sched_getaffinity: errno %d", errno);
    CHECK(CPU_COUNT(&set) == cpus && CPU_ISSET(0, &set),
          "sched_getaffinity names %d CPUs (CPU 0 %s), want the %d online with CPU 0",
          CPU_COUNT(&set), CPU_ISSET(0, &set) ? "in" : "missing", cpus);
    printf("sched_affinity_and_getcpu: sched_getaffinity names %d CPU(s), CPU 0 among them\n",
           CPU_COUNT(&set));

    unsigned char big[4096];
    long size = getaffinity(0, sizeof(big), big);
    CHECK(size >= 8 && size % 8 == 0 && size <= (long)sizeof(big),
          "getaffinity(len 4096) returned %ld (errno %d), want cpumask_size(), a multiple of 8",
          size, errno);
    long r = getaffinity(0, 128, big);
    CHECK(r == (size < 128 ? size : 128), "getaffinity(len 128) returned %ld, want %ld", r,
          size < 128 ? size : 128);
    r = getaffinity(0, 8, big);
    CHECK(r == 8, "getaffinity(len 8) returned %ld (errno %d), want 8", r, errno);
    CHECK_ERRNO(getaffinity(0, 0, big), EINVAL);
    CHECK_ERRNO(getaffinity(0, 4, big), EINVAL);
    CHECK_ERRNO(getaffinity(0, 12, big), EINVAL);
    CHECK_ERRNO(getaffinity(0, 128, (void *)8), EFAULT);
    CHECK_ERRNO(getaffinity(0x3ffffff0, 128, big), ESRCH);
    CHECK_ERRNO(getaffinity(-1, 128, big), ESRCH);
    printf("sched_affinity_and_getcpu: the raw call returns the bytes copied (%ld at most); "
           "EINVAL, EFAULT and ESRCH as on Linux\n", size);

    pthread_t t;
    CHECK(pthread_create(&t, NULL, idle_thread, NULL) == 0, "pthread_create");
    while (thread_tid == 0)
        sleep_ns(1000000);
    cpu_set_t other;
    CPU_ZERO(&other);
    CHECK(sched_getaffinity((pid_t)thread_tid, sizeof(other), &other) == 0 &&
              CPU_EQUAL(&other, &set),
          "sched_getaffinity(thread %ld): errno %d, %d CPUs", thread_tid, errno, CPU_COUNT(&other));

    CHECK(sched_setaffinity(0, sizeof(set), &set) == 0, "sched_setaffinity(the current set): "
          "errno %d", errno);
    CHECK(sched_setaffinity((pid_t)thread_tid, sizeof(set), &set) == 0,
          "sched_setaffinity(thread): errno %d", errno);
    cpu_set_t none;
    CPU_ZERO(&none);
    CHECK_ERRNO(sched_setaffinity(0, sizeof(none), &none), EINVAL);
    CHECK_ERRNO(setaffinity(0, 0, big), EINVAL);
    if (cpus < 255) {
        cpu_set_t absent;
        CPU_ZERO(&absent);
        CPU_SET(255, &absent);
        CHECK_ERRNO(sched_setaffinity(0, sizeof(absent), &absent), EINVAL);
    }
    CHECK_ERRNO(setaffinity(0, 128, (void *)8), EFAULT);
    CHECK_ERRNO(sched_setaffinity(0x3ffffff0, sizeof(set), &set), ESRCH);
    unsigned char one = 1;
    CHECK(setaffinity(0, 1, &one) == 0, "setaffinity(len 1, CPU 0): errno %d", errno);
    cpu_set_t all;
    memset(&all, 0xff, sizeof(all));
    CHECK(sched_setaffinity(0, sizeof(all), &all) == 0, "sched_setaffinity(every CPU): errno %d",
          errno);
    CPU_ZERO(&other);
    CHECK(sched_getaffinity(0, sizeof(other), &other) == 0 && CPU_COUNT(&other) == cpus,
          "after asking for every CPU getaffinity names %d, want the %d online",
          CPU_COUNT(&other), cpus);
    printf("sched_affinity_and_getcpu: setaffinity takes existing CPUs, refuses an empty mask or "
           "only absent CPUs (EINVAL)\n");

    unsigned cpu = 99, node = 99;
    CHECK(syscall(SYS_getcpu, &cpu, &node, NULL) == 0, "getcpu: errno %d", errno);
    CHECK(CPU_ISSET(cpu, &set) && node == 0, "getcpu: CPU %u node %u, want a CPU in the mask, "
          "node 0", cpu, node);
    CHECK(syscall(SYS_getcpu, NULL, NULL, NULL) == 0, "getcpu(NULL, NULL): errno %d", errno);
    CHECK_ERRNO(syscall(SYS_getcpu, (void *)8, NULL, NULL), EFAULT);
    int c = sched_getcpu();
    CHECK(c >= 0 && CPU_ISSET(c, &set), "sched_getcpu() is %d (errno %d)", c, errno);
    printf("sched_affinity_and_getcpu: getcpu: CPU %u, node %u; sched_getcpu() %d\n", cpu, node,
           c);
    pthread_join(t, NULL);
    return 0;
}
