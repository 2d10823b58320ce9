/*
 * The vDSO's clocks: Linux 6.1's lib/vdso/gettimeofday.c for arm64
 * (arch/arm64/kernel/vdso/vgettimeofday.c and
 * arch/arm64/include/asm/vdso/gettimeofday.h), reduced to what this kernel
 * publishes. Time is read from the data page the kernel keeps current
 * (kernel/src/vdso/data.rs writes it) and the virtual counter CNTVCT_EL0,
 * which CNTKCTL_EL1.EL0VCTEN lets EL0 read. A clock the data page does not
 * cover (the CPU-time clocks, bad ids), or a data page that says the
 * counter is not to be used, falls back to the system call, as Linux's
 * vDSO does.
 *
 * No libc, no relocations: everything is PC-relative (-fPIC with hidden
 * symbols). Built by kernel/build.rs.
 */
typedef unsigned int u32;
typedef int s32;
typedef unsigned long u64;
typedef long s64;

#define NSEC_PER_SEC 1000000000UL
#define NSEC_PER_USEC 1000UL

#define CLOCK_REALTIME 0
#define CLOCK_MONOTONIC 1
#define CLOCK_MONOTONIC_RAW 4
#define CLOCK_REALTIME_COARSE 5
#define CLOCK_MONOTONIC_COARSE 6
#define CLOCK_BOOTTIME 7
#define CLOCK_TAI 11
#define MAX_CLOCKS 16

#define BIT(n) (1U << (n))
#define VDSO_HRES (BIT(CLOCK_REALTIME) | BIT(CLOCK_MONOTONIC) | BIT(CLOCK_BOOTTIME) | BIT(CLOCK_TAI))
#define VDSO_COARSE (BIT(CLOCK_REALTIME_COARSE) | BIT(CLOCK_MONOTONIC_COARSE))
#define VDSO_RAW BIT(CLOCK_MONOTONIC_RAW)

#define __NR_gettimeofday 169
#define __NR_clock_gettime 113
#define __NR_clock_getres 114

/* include/vdso/datapage.h: two of these, [CS_HRES_COARSE] and [CS_RAW]. */
#define CS_HRES_COARSE 0
#define CS_RAW 1
#define CS_BASES 2
#define VDSO_BASES (CLOCK_TAI + 1)
#define VDSO_CLOCKMODE_NONE 0

struct vdso_timestamp {
    u64 sec;
    u64 nsec;
};

struct vdso_data {
    u32 seq;
    s32 clock_mode;
    u64 cycle_last;
    u64 mask;
    u32 mult;
    u32 shift;
    struct vdso_timestamp basetime[VDSO_BASES];
    s32 tz_minuteswest;
    s32 tz_dsttime;
    u32 hrtimer_res;
    u32 __unused;
};

/* The kernel's side (kernel/src/vdso/data.rs) asserts the same offsets. */
_Static_assert(__builtin_offsetof(struct vdso_data, cycle_last) == 8, "vdso_data layout");
_Static_assert(__builtin_offsetof(struct vdso_data, basetime) == 32, "vdso_data layout");
_Static_assert(__builtin_offsetof(struct vdso_data, tz_minuteswest) == 224, "vdso_data layout");
_Static_assert(sizeof(struct vdso_data) == 240, "vdso_data layout");

struct __kernel_timespec {
    s64 tv_sec;
    s64 tv_nsec;
};

struct __kernel_old_timeval {
    s64 tv_sec;
    s64 tv_usec;
};

struct timezone {
    int tz_minuteswest;
    int tz_dsttime;
};

/* Placed by vdso.lds two pages below the text: the [vvar] mapping. */
extern const struct vdso_data _vdso_data[CS_BASES] __attribute__((visibility("hidden")));

#define READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))

/* smp_rmb() of arch/arm64/include/asm/barrier.h. */
static inline void smp_rmb(void)
{
    __asm__ volatile("dmb ishld" ::: "memory");
}

static inline u32 vdso_read_begin(const struct vdso_data *vd)
{
    u32 seq;

    while ((seq = READ_ONCE(vd->seq)) & 1)
        __asm__ volatile("yield" ::: "memory");
    smp_rmb();
    return seq;
}

static inline u32 vdso_read_retry(const struct vdso_data *vd, u32 start)
{
    smp_rmb();
    return READ_ONCE(vd->seq) != start;
}

/*
 * __arch_get_hw_counter: the ISB keeps the counter from being read ahead of
 * the loads before it; arch_counter_enforce_ordering makes later loads wait
 * for the value (a load whose address depends on it).
 */
static inline u64 arch_get_hw_counter(void)
{
    u64 res, tmp;

    __asm__ volatile("isb\n\tmrs %0, cntvct_el0" : "=r"(res) : : "memory");
    __asm__ volatile("eor %0, %1, %1\n\t"
                     "add %0, sp, %0\n\t"
                     "ldr xzr, [%0]"
                     : "=r"(tmp)
                     : "r"(res));
    return res;
}

static inline long syscall2(long nr, long a, long b)
{
    register long x8 __asm__("x8") = nr;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;

    __asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1) : "memory");
    return x0;
}

/* __iter_div_u64_rem: the quotient is 0 or 1 nearly always. */
static inline u32 iter_div_u64_rem(u64 dividend, u64 divisor, u64 *remainder)
{
    u32 ret = 0;

    while (dividend >= divisor) {
        __asm__("" : "+rm"(dividend));
        dividend -= divisor;
        ret++;
    }
    *remainder = dividend;
    return ret;
}

static inline __attribute__((always_inline)) int do_hres(const struct vdso_data *vd, int clk, struct __kernel_timespec *ts)
{
    const struct vdso_timestamp *vdso_ts = &vd->basetime[clk];
    u64 cycles, sec, ns;
    u32 seq;

    do {
        seq = vdso_read_begin(vd);
        if (READ_ONCE(vd->clock_mode) == VDSO_CLOCKMODE_NONE)
            return -1;
        cycles = arch_get_hw_counter();
        ns = vdso_ts->nsec;
        ns += ((cycles - vd->cycle_last) & vd->mask) * vd->mult;
        ns >>= vd->shift;
        sec = vdso_ts->sec;
    } while (vdso_read_retry(vd, seq));

    ts->tv_sec = sec + iter_div_u64_rem(ns, NSEC_PER_SEC, &ns);
    ts->tv_nsec = ns;
    return 0;
}

static inline __attribute__((always_inline)) int do_coarse(const struct vdso_data *vd, int clk, struct __kernel_timespec *ts)
{
    const struct vdso_timestamp *vdso_ts = &vd->basetime[clk];
    u64 sec, nsec;
    u32 seq;

    do {
        seq = vdso_read_begin(vd);
        sec = vdso_ts->sec;
        nsec = vdso_ts->nsec;
    } while (vdso_read_retry(vd, seq));

    ts->tv_sec = sec;
    ts->tv_nsec = nsec;
    return 0;
}

/* __cvdso_clock_gettime_common: -1 means "ask the kernel". */
static inline __attribute__((always_inline)) int clock_gettime_common(int clock, struct __kernel_timespec *ts)
{
    const struct vdso_data *vd = _vdso_data;
    u32 msk;

    if ((u32)clock >= MAX_CLOCKS)
        return -1;
    msk = BIT(clock);
    if (msk & VDSO_HRES)
        vd = &vd[CS_HRES_COARSE];
    else if (msk & VDSO_COARSE)
        return do_coarse(&vd[CS_HRES_COARSE], clock, ts);
    else if (msk & VDSO_RAW)
        vd = &vd[CS_RAW];
    else
        return -1;
    return do_hres(vd, clock, ts);
}

int __kernel_clock_gettime(int clock, struct __kernel_timespec *ts)
{
    if (clock_gettime_common(clock, ts))
        return syscall2(__NR_clock_gettime, clock, (long)ts);
    return 0;
}

int __kernel_gettimeofday(struct __kernel_old_timeval *tv, struct timezone *tz)
{
    const struct vdso_data *vd = &_vdso_data[CS_HRES_COARSE];

    if (tv) {
        struct __kernel_timespec ts;

        if (do_hres(vd, CLOCK_REALTIME, &ts))
            return syscall2(__NR_gettimeofday, (long)tv, (long)tz);
        tv->tv_sec = ts.tv_sec;
        tv->tv_usec = (u32)ts.tv_nsec / NSEC_PER_USEC;
    }
    if (tz) {
        tz->tz_minuteswest = vd->tz_minuteswest;
        tz->tz_dsttime = vd->tz_dsttime;
    }
    return 0;
}

/*
 * __cvdso_clock_getres_common: the high-resolution clocks report the data
 * page's hrtimer_res, the coarse ones how often the kernel updates the page.
 * The kernel's clock_getres(2) reports the same (kernel/src/vdso/data.rs).
 */
#define LOW_RES_NSEC 10000000UL

int __kernel_clock_getres(int clock, struct __kernel_timespec *res)
{
    const struct vdso_data *vd = _vdso_data;
    u64 ns;
    u32 msk;

    if ((u32)clock >= MAX_CLOCKS)
        return syscall2(__NR_clock_getres, clock, (long)res);
    msk = BIT(clock);
    if (msk & (VDSO_HRES | VDSO_RAW))
        ns = READ_ONCE(vd[CS_HRES_COARSE].hrtimer_res);
    else if (msk & VDSO_COARSE)
        ns = LOW_RES_NSEC;
    else
        return syscall2(__NR_clock_getres, clock, (long)res);
    if (res) {
        res->tv_sec = 0;
        res->tv_nsec = ns;
    }
    return 0;
}
