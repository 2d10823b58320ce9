/*
 * syscalls_basic: the everyday system calls glibc programs make, each
 * checked for the result Linux gives. Run with stdout not a terminal (a
 * pipe, a file, or this kernel's console, which has no tty ioctls).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "refpage_test.h"

#define PROGRAM "syscalls_basic"
#define PAGE 4096

static int64_t ns(struct timespec t) { return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec; }

static void check_uname(void)
{
    struct utsname u;
    int ret = uname(&u);
    CHECK(ret == 0, "uname returned %d (%m)", ret);
    CHECK(strcmp(u.sysname, "Linux") == 0, "sysname is \"%s\", want \"Linux\"", u.sysname);
    CHECK(strcmp(u.machine, "aarch64") == 0, "machine is \"%s\", want \"aarch64\"", u.machine);
    printf("syscalls_basic: uname: %s %s %s\n", u.sysname, u.release, u.machine);
}

static void check_ids(void)
{
    pid_t pid = getpid(), ppid = getppid(), tid = gettid();
    CHECK(pid > 0, "getpid() is %d", pid);
    CHECK(ppid >= 0, "getppid() is %d", ppid);
    CHECK(tid == pid, "gettid() is %d but getpid() is %d in a single-threaded process", tid, pid);
    printf("syscalls_basic: pid %d, ppid %d, tid %d\n", pid, ppid, tid);
}

static void check_clocks(void)
{
    struct timespec t0, t1, res;
    CHECK(clock_gettime(CLOCK_MONOTONIC, &t0) == 0, "clock_gettime(CLOCK_MONOTONIC) failed: %m");
    struct timespec ten_ms = {.tv_sec = 0, .tv_nsec = 10 * 1000 * 1000};
    int ret = nanosleep(&ten_ms, NULL);
    CHECK(ret == 0, "nanosleep(10 ms) returned %d (%m)", ret);
    CHECK(clock_gettime(CLOCK_MONOTONIC, &t1) == 0, "clock_gettime(CLOCK_MONOTONIC) failed: %m");
    int64_t slept = ns(t1) - ns(t0);
    CHECK(slept >= 10 * 1000 * 1000, "CLOCK_MONOTONIC advanced %lld ns across a 10 ms nanosleep",
          (long long)slept);

    CHECK(clock_getres(CLOCK_MONOTONIC, &res) == 0, "clock_getres(CLOCK_MONOTONIC) failed: %m");
    CHECK(ns(res) > 0, "CLOCK_MONOTONIC resolution is %lld ns", (long long)ns(res));

    struct timeval tv;
    ret = gettimeofday(&tv, NULL);
    CHECK(ret == 0, "gettimeofday returned %d (%m)", ret);
    CHECK(tv.tv_usec >= 0 && tv.tv_usec < 1000000, "gettimeofday tv_usec is %ld", (long)tv.tv_usec);
    printf("syscalls_basic: 10 ms nanosleep took %lld us of CLOCK_MONOTONIC (resolution %lld ns); "
           "gettimeofday %lld s\n",
           (long long)(slept / 1000), (long long)ns(res), (long long)tv.tv_sec);
}

static void check_getrandom(void)
{
    unsigned char buf[32] = {0};
    ssize_t n = getrandom(buf, sizeof buf, 0);
    CHECK(n == (ssize_t)sizeof buf, "getrandom(32) returned %zd (%m)", n);
    int nonzero = 0;
    for (size_t i = 0; i < sizeof buf; i++)
        nonzero |= buf[i];
    CHECK(nonzero, "getrandom gave 32 zero bytes");
    printf("syscalls_basic: getrandom: 32 bytes, not all zero\n");
}

static void check_sched_yield(void)
{
    int ret = sched_yield();
    CHECK(ret == 0, "sched_yield returned %d (%m)", ret);
}

static void check_not_a_tty(void)
{
    struct termios t;
    errno = 0;
    int ret = ioctl(1, TCGETS, &t);
    int err = errno;
    CHECK(ret == -1 && err == ENOTTY, "ioctl(1, TCGETS) returned %d, errno %d (%s); want -1, ENOTTY",
          ret, err, strerror(err));
    printf("syscalls_basic: ioctl(1, TCGETS) -> -1, ENOTTY\n");
}

static void check_readlink_proc_self_exe(void)
{
    /* Without /proc (this kernel, or Linux before /proc is mounted) this
     * fails, with any errno; with /proc mounted (Linux, qemu-user) it names
     * this program. Either way it must not crash or return garbage. */
    char buf[256];
    errno = 0;
    ssize_t n = readlinkat(AT_FDCWD, "/proc/self/exe", buf, sizeof buf - 1);
    int err = errno;
    if (n < 0) {
        CHECK(n == -1 && err != 0, "readlinkat returned %zd with errno %d", n, err);
        printf("syscalls_basic: readlinkat(/proc/self/exe) -> -1, %s\n", strerror(err));
        return;
    }
    buf[n] = '\0';
    size_t len = strlen(buf), want = strlen(PROGRAM);
    CHECK((size_t)n == len && len >= want && strcmp(buf + len - want, PROGRAM) == 0,
          "readlinkat(/proc/self/exe) gave \"%s\" (%zd bytes); want -1, or a path ending in %s", buf, n,
          PROGRAM);
    printf("syscalls_basic: readlinkat(/proc/self/exe) -> \"%s\" (a /proc is mounted)\n", buf);
}

static void check_rlimit_stack(void)
{
    struct rlimit r;
    int ret = getrlimit(RLIMIT_STACK, &r);
    CHECK(ret == 0, "getrlimit(RLIMIT_STACK) returned %d (%m)", ret);
    CHECK(r.rlim_cur > 0 && r.rlim_cur <= r.rlim_max, "RLIMIT_STACK is cur %llu, max %llu",
          (unsigned long long)r.rlim_cur, (unsigned long long)r.rlim_max);
    printf("syscalls_basic: RLIMIT_STACK cur %llu, max %llu\n", (unsigned long long)r.rlim_cur,
           (unsigned long long)r.rlim_max);
}

static void check_unknown_syscall(void)
{
    errno = 0;
    long ret = syscall(1000);
    int err = errno;
    CHECK(ret == -1 && err == ENOSYS, "syscall(1000) returned %ld, errno %d (%s); want -1, ENOSYS",
          ret, err, strerror(err));
    printf("syscalls_basic: syscall(1000) -> -1, ENOSYS\n");
}

static void check_mmap_mprotect_munmap(void)
{
    unsigned char *p = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED, "mmap of 3 anonymous pages failed: %m");
    CHECK((uintptr_t)p % PAGE == 0, "mmap returned unaligned %p", (void *)p);
    for (int i = 0; i < 3; i++) {
        CHECK(p[i * PAGE] == 0, "fresh anonymous page %d reads 0x%02x, not 0", i, p[i * PAGE]);
        p[i * PAGE] = (unsigned char)(0xa0 + i);
    }
    int ret = mprotect(p + PAGE, PAGE, PROT_READ);
    CHECK(ret == 0, "mprotect(middle page, PROT_READ) returned %d (%m)", ret);
    for (int i = 0; i < 3; i++)
        CHECK(p[i * PAGE] == 0xa0 + i, "page %d reads 0x%02x after mprotect, wrote 0x%02x", i,
              p[i * PAGE], 0xa0 + i);
    ret = munmap(p, 3 * PAGE);
    CHECK(ret == 0, "munmap of the 3 pages returned %d (%m)", ret);
    printf("syscalls_basic: mmap 3 pages, mprotect the middle one read-only, munmap: all 0\n");
}

int main(void)
{
    check_uname();
    check_ids();
    check_clocks();
    check_getrandom();
    check_sched_yield();
    check_not_a_tty();
    check_readlink_proc_self_exe();
    check_rlimit_stack();
    check_unknown_syscall();
    check_mmap_mprotect_munmap();
    return 0;
}
