/*
 * vdso_clocks_agree_with_syscalls: what glibc's clock_gettime, gettimeofday
 * and clock_getres return through the vDSO agrees with the system calls:
 * for each clock, a vDSO reading lies between two system-call readings
 * around it (a coarse one within its resolution of them), every clock is
 * monotonic over many readings, tv_nsec stays below a second,
 * gettimeofday follows CLOCK_REALTIME and reports a zero time zone,
 * clock_getres gives the system call's answer, and an unknown clock is
 * EINVAL (the vDSO asks the kernel).
 */
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "refpage_test.h"

static int64_t ns_of(struct timespec t)
{
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static struct timespec sys_now(clockid_t c)
{
    struct timespec t;
    CHECK(syscall(SYS_clock_gettime, c, &t) == 0, "clock_gettime(%d) system call: errno %d", (int)c, errno);
    return t;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    static const struct { clockid_t id; const char *name; int coarse; } clocks[] = {
        { CLOCK_REALTIME, "REALTIME", 0 },
        { CLOCK_MONOTONIC, "MONOTONIC", 0 },
        { CLOCK_MONOTONIC_RAW, "MONOTONIC_RAW", 0 },
        { CLOCK_BOOTTIME, "BOOTTIME", 0 },
        { CLOCK_TAI, "TAI", 0 },
        { CLOCK_REALTIME_COARSE, "REALTIME_COARSE", 1 },
        { CLOCK_MONOTONIC_COARSE, "MONOTONIC_COARSE", 1 },
    };
    for (unsigned i = 0; i < sizeof(clocks) / sizeof(clocks[0]); i++) {
        clockid_t c = clocks[i].id;
        struct timespec res, sys_res;
        CHECK(clock_getres(c, &res) == 0, "clock_getres(%s): errno %d", clocks[i].name, errno);
        CHECK(syscall(SYS_clock_getres, c, &sys_res) == 0, "clock_getres system call: errno %d", errno);
        CHECK(res.tv_sec == sys_res.tv_sec && res.tv_nsec == sys_res.tv_nsec,
              "clock_getres(%s): %ld.%09ld, the system call %ld.%09ld", clocks[i].name, (long)res.tv_sec,
              res.tv_nsec, (long)sys_res.tv_sec, sys_res.tv_nsec);
        CHECK(clock_getres(c, NULL) == 0, "clock_getres(%s, NULL): errno %d", clocks[i].name, errno);
        int64_t slack = clocks[i].coarse ? ns_of(res) : 0;
        int64_t last = 0;
        for (int n = 0; n < 20000; n++) {
            struct timespec a = sys_now(c), b, d;
            CHECK(clock_gettime(c, &b) == 0, "clock_gettime(%s): errno %d", clocks[i].name, errno);
            d = sys_now(c);
            CHECK(b.tv_nsec >= 0 && b.tv_nsec < 1000000000, "%s: tv_nsec %ld", clocks[i].name, b.tv_nsec);
            CHECK(ns_of(b) + slack >= ns_of(a) && ns_of(b) <= ns_of(d) + slack && ns_of(b) >= last,
                  "%s: vDSO %lld ns, system call %lld before and %lld after, last vDSO %lld",
                  clocks[i].name, (long long)ns_of(b), (long long)ns_of(a), (long long)ns_of(d),
                  (long long)last);
            last = ns_of(b);
        }
        printf("vdso_clocks_agree_with_syscalls: %s: 20000 readings monotonic and between the system "
               "call's; resolution %ld ns\n",
               clocks[i].name, res.tv_nsec);
    }
    struct timeval tv;
    struct timezone tz = { 99, 99 };
    struct timespec a = sys_now(CLOCK_REALTIME);
    CHECK(gettimeofday(&tv, &tz) == 0, "gettimeofday: errno %d", errno);
    struct timespec d = sys_now(CLOCK_REALTIME);
    int64_t us = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
    CHECK(us >= ns_of(a) / 1000 && us <= ns_of(d) / 1000 && tv.tv_usec < 1000000,
          "gettimeofday %lld us, CLOCK_REALTIME %lld and %lld ns", (long long)us, (long long)ns_of(a),
          (long long)ns_of(d));
    CHECK(tz.tz_minuteswest == 0 && tz.tz_dsttime == 0, "time zone %d %d", tz.tz_minuteswest,
          tz.tz_dsttime);
    struct timespec t;
    errno = 0;
    CHECK(clock_gettime(1234, &t) == -1 && errno == EINVAL, "clock_gettime(1234): errno %d", errno);
    errno = 0;
    CHECK(clock_getres(99, &t) == -1 && errno == EINVAL, "clock_getres(99): errno %d", errno);
    CHECK(clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t) == 0, "clock_gettime(PROCESS_CPUTIME): errno %d",
          errno);
    printf("vdso_clocks_agree_with_syscalls: gettimeofday follows CLOCK_REALTIME, time zone 0; "
           "unknown clocks EINVAL\n");
    return 0;
}
