/*
 * tagged_addr_abi_syscalls: every system call that takes a user address
 * follows Linux 6.1's tagged-address ABI
 * (Documentation/arm64/tagged-address-abi.rst). A tagged pointer has a
 * non-zero top byte, which TBI0 lets the program itself use freely.
 *
 *  1. Calls through which the kernel reads or writes memory (read, write,
 *     readv, writev, pread, pwrite, fstat, newfstatat (its empty path too), openat's path,
 *     clock_gettime, gettimeofday, nanosleep, rt_sigaction,
 *     rt_sigprocmask, rt_sigpending, sigaltstack, futex, wait4, prctl
 *     PR_SET_NAME/PR_GET_NAME, getrandom, uname, sysinfo, prlimit64,
 *     sched_getaffinity, getcpu): with untagged pointers they work; with
 *     tagged ones they fail with EFAULT until
 *     prctl(PR_SET_TAGGED_ADDR_CTRL, PR_TAGGED_ADDR_ENABLE), then work the
 *     same (the same bytes read and written), and fail again once it is
 *     turned off. Each call is one row of a table, run three times.
 *  2. munmap, mprotect and madvise untag their address whether the ABI is
 *     on or off (6.1's untagged_addr is unconditional).
 *  3. brk and mmap never untag (since 5.6): a tagged MAP_FIXED address is
 *     ENOMEM, a tagged hint is ignored, a tagged brk leaves the break
 *     where it was, ABI on or off.
 *  4. A private futex is keyed by the address as passed, tag included: a
 *     wake through another tag does not find a waiter (Linux's
 *     get_futex_key does not untag).
 *  5. With MTE: refpage_create from a tagged pointer to tagged (PROT_MTE)
 *     content carries the content's allocation tags into the reference
 *     page in each tag-check mode (none, sync, async), read back with LDG
 *     through a PROT_MTE mapping of the descriptor; in sync mode a pointer
 *     whose tag is not the memory's gets EFAULT, as any user access does.
 *     Skipped where refpage_create does not exist (Linux).
 *
 * Checked on Linux 6.1 itself (scripts/bench-linux.sh
 * build/user/tests/tagged_addr_abi_syscalls: every part passes but 5,
 * skipped). qemu-user (make user-test-linux) is not Linux here and fails
 * three checks: with the ABI off it refuses tagged munmap/mprotect/madvise
 * addresses (it untags only with the ABI on), its madvise(MADV_DONTNEED)
 * leaves private anonymous memory as it was, and its futex hands the host
 * the untagged address, so a wake through another tag finds the waiter.
 * Every check failure is reported (EXPECT), then the exit status is 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "refpage_test.h"

#define NAME "tagged_addr_abi_syscalls"
#define PAGE 4096UL
#define FILE_PATH "/dev/shm/tagged_addr_abi_syscalls"

/* The top byte every pointer of a row gets (0: untagged). */
static unsigned long tag;

static void *tp(const void *p)
{
    return (void *)(((uintptr_t)p & ~(0xffUL << 56)) | (tag << 56));
}

/* A raw system call: its result, or -errno. */
static long sys(long r)
{
    return r < 0 ? -errno : r;
}

/* ---- the rows: each makes its call(s) through tp() pointers and returns
 * 0 when the call worked and did what it should, -errno when it failed
 * (the first error), or 1 when it returned success but did the wrong thing
 * (printing what). */

static int fd = -1;
static const char content[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!?";

static int bad(const char *what)
{
    printf(NAME ": %s\n", what);
    return 1;
}

static int row_write_pwrite(void)
{
    static char buf[64];
    memcpy(buf, content, 64);
    long r = sys(pwrite(fd, tp(buf), 32, 0));
    if (r < 0)
        return r;
    r = sys(lseek(fd, 32, SEEK_SET));
    if (r < 0)
        return r;
    r = sys(write(fd, tp(buf + 32), 32));
    if (r < 0)
        return r;
    return r == 32 ? 0 : bad("write wrote short");
}

static int row_read_pread(void)
{
    static char buf[64];
    memset(buf, 0, sizeof buf);
    long r = sys(pread(fd, tp(buf), 16, 8));
    if (r < 0)
        return r;
    if (r != 16 || memcmp(buf, content + 8, 16))
        return bad("pread read the wrong bytes");
    lseek(fd, 40, SEEK_SET);
    r = sys(read(fd, tp(buf), 8));
    if (r < 0)
        return r;
    return r == 8 && !memcmp(buf, content + 40, 8) ? 0 : bad("read read the wrong bytes");
}

static int row_readv_writev(void)
{
    static char a[8], b[8];
    static struct iovec iov[2];
    memcpy(a, "ABCDEFGH", 8);
    memcpy(b, "abcdefgh", 8);
    iov[0] = (struct iovec){tp(a), 8};
    iov[1] = (struct iovec){tp(b), 8};
    lseek(fd, 64, SEEK_SET);
    long r = sys(writev(fd, tp(iov), 2));
    if (r < 0)
        return r;
    memset(a, 0, 8);
    memset(b, 0, 8);
    lseek(fd, 64, SEEK_SET);
    iov[0] = (struct iovec){tp(b), 8}; /* read back swapped */
    iov[1] = (struct iovec){tp(a), 8};
    r = sys(readv(fd, tp(iov), 2));
    if (r < 0)
        return r;
    return r == 16 && !memcmp(b, "ABCDEFGH", 8) && !memcmp(a, "abcdefgh", 8) ? 0
                                                                          : bad("readv/writev bytes");
}

static int row_fstat_newfstatat_openat(void)
{
    static struct stat st;
    static char path[] = FILE_PATH, empty[] = "";
    memset(&st, 0, sizeof st);
    long r = sys(fstat(fd, tp(&st)));
    if (r < 0)
        return r;
    if (st.st_size != 80)
        return bad("fstat: st_size is not 80");
    memset(&st, 0, sizeof st);
    r = sys(syscall(SYS_newfstatat, fd, tp(empty), tp(&st), AT_EMPTY_PATH));
    if (r < 0)
        return r;
    if (st.st_size != 80)
        return bad("newfstatat: st_size is not 80");
    r = sys(syscall(SYS_openat, AT_FDCWD, tp(path), O_RDONLY, 0));
    if (r < 0)
        return r;
    close((int)r);
    return 0;
}

static int row_clocks(void)
{
    static struct timespec ts, req, rem;
    static struct timeval tv;
    ts.tv_sec = -1;
    long r = sys(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, tp(&ts)));
    if (r < 0)
        return r;
    if (ts.tv_sec < 0)
        return bad("clock_gettime did not fill the timespec");
    r = sys(syscall(SYS_clock_getres, CLOCK_MONOTONIC, tp(&ts)));
    if (r < 0)
        return r;
    tv.tv_sec = -1;
    r = sys(syscall(SYS_gettimeofday, tp(&tv), NULL));
    if (r < 0)
        return r;
    if (tv.tv_sec < 0)
        return bad("gettimeofday did not fill the timeval");
    req = (struct timespec){0, 1000};
    return sys(syscall(SYS_nanosleep, tp(&req), tp(&rem)));
}

/* The kernel's struct sigaction on arm64 (glibc's is another layout). */
struct ksigaction {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)(void);
    unsigned long mask;
};

static void on_usr1(int sig)
{
    (void)sig;
}

static int row_signals(void)
{
    static struct ksigaction act, old;
    static unsigned long set, oldset;
    static stack_t ss;
    act = (struct ksigaction){on_usr1, 0, NULL, 1UL << (SIGUSR2 - 1)};
    long r = sys(syscall(SYS_rt_sigaction, SIGUSR1, tp(&act), NULL, 8));
    if (r < 0)
        return r;
    memset(&old, 0, sizeof old);
    r = sys(syscall(SYS_rt_sigaction, SIGUSR1, NULL, tp(&old), 8));
    if (r < 0)
        return r;
    if (old.handler != on_usr1 || old.mask != 1UL << (SIGUSR2 - 1))
        return bad("rt_sigaction read back another action");
    set = 1UL << (SIGUSR2 - 1);
    r = sys(syscall(SYS_rt_sigprocmask, SIG_BLOCK, tp(&set), tp(&oldset), 8));
    if (r < 0)
        return r;
    r = sys(syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, tp(&set), NULL, 8));
    if (r < 0)
        return r;
    r = sys(syscall(SYS_rt_sigpending, tp(&set), 8));
    if (r < 0)
        return r;
    ss.ss_flags = -1;
    r = sys(syscall(SYS_sigaltstack, NULL, tp(&ss)));
    if (r < 0)
        return r;
    return ss.ss_flags == SS_DISABLE ? 0 : bad("sigaltstack: ss_flags is not SS_DISABLE");
}

static int row_futex(void)
{
    static uint32_t word = 5;
    /* The word is read: 5 is not 6, EAGAIN. A wake finds no one. */
    long r = sys(syscall(SYS_futex, tp(&word), FUTEX_WAIT_PRIVATE, 6, NULL, NULL, 0));
    if (r != -EAGAIN)
        return r < 0 ? r : bad("FUTEX_WAIT on a word that differs slept");
    r = sys(syscall(SYS_futex, tp(&word), FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0));
    if (r < 0)
        return r;
    r = sys(syscall(SYS_futex, tp(&word), FUTEX_WAKE, 1, NULL, NULL, 0));
    return r < 0 ? r : 0;
}

static int row_futex_wake(void)
{
    static uint32_t word;
    /* A wake must pass access_ok too (get_futex_key), though it reads nothing. */
    long r = sys(syscall(SYS_futex, tp(&word), FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0));
    return r < 0 ? r : 0;
}

static int row_wait4(void)
{
    static int status;
    pid_t pid = fork_checked();
    if (pid == 0)
        _exit(7);
    status = 0;
    long r = sys(syscall(SYS_wait4, pid, tp(&status), 0, NULL));
    if (r == -EFAULT) {
        /* As Linux's kernel_wait4: the child was reaped before the status
         * could not be written. */
        CHECK(waitpid(pid, NULL, WNOHANG) == -1 && errno == ECHILD,
              "wait4 with an unwritable status left pid %d waitable", pid);
        return r;
    }
    if (r < 0)
        return r;
    return r == pid && WIFEXITED(status) && WEXITSTATUS(status) == 7 ? 0 : bad("wait4 status");
}

static int row_prctl_name(void)
{
    static char name[16] = "tagged-name", got[16];
    long r = sys(prctl(PR_SET_NAME, tp(name), 0, 0, 0));
    if (r < 0)
        return r;
    memset(got, 0, sizeof got);
    r = sys(prctl(PR_GET_NAME, tp(got), 0, 0, 0));
    if (r < 0)
        return r;
    return strcmp(got, "tagged-name") ? bad("PR_GET_NAME read back another name") : 0;
}

static int row_info(void)
{
    static unsigned char rnd[32];
    static struct utsname uts;
    static struct sysinfo si;
    static struct rlimit rl;
    static unsigned long mask;
    static unsigned cpu;
    memset(rnd, 0, sizeof rnd);
    long r = sys(syscall(SYS_getrandom, tp(rnd), sizeof rnd, GRND_INSECURE));
    if (r < 0)
        return r;
    memset(&uts, 0, sizeof uts);
    r = sys(syscall(SYS_uname, tp(&uts)));
    if (r < 0)
        return r;
    if (strcmp(uts.sysname, "Linux"))
        return bad("uname: sysname is not Linux");
    r = sys(syscall(SYS_sysinfo, tp(&si)));
    if (r < 0)
        return r;
    rl.rlim_cur = 0;
    r = sys(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, tp(&rl)));
    if (r < 0)
        return r;
    if (rl.rlim_cur == 0)
        return bad("prlimit64: RLIMIT_NOFILE read back 0");
    mask = 0;
    r = sys(syscall(SYS_sched_getaffinity, 0, sizeof mask, tp(&mask)));
    if (r < 0)
        return r;
    if (!mask)
        return bad("sched_getaffinity: empty mask");
    r = sys(syscall(SYS_getcpu, tp(&cpu), NULL, NULL));
    return r < 0 ? r : 0;
}

static const struct row {
    const char *name;
    int (*run)(void);
} rows[] = {
    {"write, pwrite", row_write_pwrite},
    {"read, pread", row_read_pread},
    {"readv, writev (iovec array and bases tagged)", row_readv_writev},
    {"fstat, newfstatat, openat (path)", row_fstat_newfstatat_openat},
    {"clock_gettime, clock_getres, gettimeofday, nanosleep", row_clocks},
    {"rt_sigaction, rt_sigprocmask, rt_sigpending, sigaltstack", row_signals},
    {"futex WAIT (word read), WAKE private and shared", row_futex},
    {"futex WAKE private alone", row_futex_wake},
    {"wait4 status", row_wait4},
    {"prctl PR_SET_NAME, PR_GET_NAME", row_prctl_name},
    {"getrandom, uname, sysinfo, prlimit64, sched_getaffinity, getcpu", row_info},
};
#define NROWS (sizeof rows / sizeof rows[0])

/* Every row with top byte `t`; each must give `want` (0 or -EFAULT). */
static void run_rows(unsigned long t, int want, const char *abi)
{
    int before = *expect_failures();
    tag = t;
    for (unsigned i = 0; i < NROWS; i++) {
        int got = rows[i].run();
        EXPECT(got == want, "ABI %s, top byte %#lx: %s: got %d (%s), want %d (%s)", abi, t,
              rows[i].name, got, got < 0 ? strerror(-got) : got ? "wrong result" : "ok", want,
              want ? strerror(-want) : "ok");
    }
    if (*expect_failures() == before)
        printf(NAME ": ABI %s, top byte %#lx: %zu rows -> %s\n", abi, t, NROWS,
               want ? strerror(-want) : "all worked");
    tag = 0;
}

/* ---- 2 and 3: the address-space calls. */

static void address_space_calls(const char *abi)
{
    int before = *expect_failures();
    tag = 0x2e;
    /* munmap, mprotect, madvise: untagged whatever the ABI says. */
    unsigned char *p = map_anonymous(3 * PAGE, PROT_READ | PROT_WRITE);
    p[PAGE] = 0x77;
    long r = sys(madvise(tp(p + PAGE), PAGE, MADV_DONTNEED));
    EXPECT(r == 0 && p[PAGE] == 0, "ABI %s: madvise(%p, MADV_DONTNEED) returned %ld, byte now %#x", abi,
          tp(p + PAGE), r, p[PAGE]);
    r = sys(mprotect(tp(p + PAGE), PAGE, PROT_READ));
    EXPECT(r == 0, "ABI %s: mprotect(%p, PROT_READ) returned %ld (%s)", abi, tp(p + PAGE), r,
          r ? strerror(-r) : "");
    r = sys(munmap(tp(p), PAGE));
    EXPECT(r == 0, "ABI %s: munmap(%p) returned %ld (%s)", abi, tp(p), r, r ? strerror(-r) : "");
    void *again = mmap(p, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    EXPECT(again == p, "ABI %s: after munmap(%p) the page at %p is still mapped (%p, errno %d)", abi,
          tp(p), p, again, errno);
    munmap(p, 3 * PAGE);

    /* mmap: a tagged MAP_FIXED address is ENOMEM; a tagged hint is not
     * taken (the result is untagged and elsewhere). */
    void *hint = (void *)0x200000000UL;
    void *m = mmap(tp(hint), PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    EXPECT(m == MAP_FAILED && errno == ENOMEM, "ABI %s: mmap(%p, MAP_FIXED) returned %p (errno %d), want ENOMEM",
          abi, tp(hint), m, errno);
    m = mmap(tp(hint), PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    EXPECT(m != MAP_FAILED && m != hint && (uintptr_t)m >> 56 == 0,
          "ABI %s: mmap(hint %p) returned %p (errno %d), want an untagged address other than %p", abi,
          tp(hint), m, errno, hint);
    if (m != MAP_FAILED)
        munmap(m, PAGE);

    /* brk: a tagged break is not taken. */
    unsigned long cur = syscall(SYS_brk, 0);
    unsigned long got = syscall(SYS_brk, (unsigned long)tp((void *)(cur + PAGE)));
    EXPECT(got == cur, "ABI %s: brk(%p) moved the break from %#lx to %#lx", abi, tp((void *)(cur + PAGE)),
          cur, got);
    syscall(SYS_brk, cur);
    tag = 0;
    if (*expect_failures() == before)
        printf(NAME ": ABI %s: munmap, mprotect, madvise untag; mmap MAP_FIXED -> ENOMEM, mmap hint and brk "
           "not taken\n", abi);
}

/* ---- 4: a private futex is keyed with its tag. */

static uint32_t fword;

static void *futex_waiter(void *arg)
{
    struct timespec two_s = {2, 0};
    long r = syscall(SYS_futex, arg, FUTEX_WAIT_PRIVATE, 0, &two_s, NULL, 0);
    return (void *)(r == 0 ? 0L : (long)errno);
}

static void futex_key_has_the_tag(void)
{
    void *a = (void *)((uintptr_t)&fword | (0x1aUL << 56));
    void *b = (void *)((uintptr_t)&fword | (0x2bUL << 56));
    pthread_t th;
    CHECK(pthread_create(&th, NULL, futex_waiter, a) == 0, "pthread_create failed");
    long woken = 0;
    for (int i = 0; i < 400 && !woken; i++) {
        long other = syscall(SYS_futex, b, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
        EXPECT(other == 0, "FUTEX_WAKE through %p woke %ld waiter(s) of %p (errno %d); Linux keys the tag", b,
               other, a, errno);
        if (other == 1)
            break;
        woken = syscall(SYS_futex, a, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
        if (!woken)
            usleep(5000);
    }
    void *res;
    pthread_join(th, &res);
    EXPECT(*expect_failures() || (woken == 1 && res == 0), "FUTEX_WAKE through %p: woke %ld, waiter ended with errno %ld", a, woken,
          (long)res);
    if (!*expect_failures())
        printf(NAME ": a private futex waiting through %p: a wake through %p finds no one, one through %p wakes it\n",
           a, b, a);
}

/* ---- 5: refpage_create through tagged pointers, with MTE. */

static const unsigned TAGS[4] = {0x3, 0x7, 0xa, 0xd};

/* Creates a refpage of `granules` 16-byte granules from `ptr` and checks
 * that every granule of a PROT_MTE mapping of it has tags[g % granules]. */
static void refpage_has_tags(const void *ptr, int granules, const unsigned *tags, const char *mode)
{
    int rfd = refpage_create(ptr, granules * MTE_GRANULE, 0);
    CHECK(rfd >= 0, "%s: refpage_create(%p, %d): errno %d (%s)", mode, ptr, granules * MTE_GRANULE, errno,
          strerror(errno));
    volatile unsigned char *m = mmap(NULL, PAGE, PROT_READ | PROT_MTE, MAP_PRIVATE, rfd, 0);
    CHECK(m != MAP_FAILED, "%s: mmap(PROT_MTE) of the refpage: errno %d", mode, errno);
    for (unsigned g = 0; g < PAGE / MTE_GRANULE; g++) {
        unsigned t = mte_ldg(m + g * MTE_GRANULE);
        if (t != tags[g % granules]) {
            EXPECT(t == tags[g % granules], "%s: refpage from %p: granule %u has tag %#x, want %#x (the content's)",
                   mode, ptr, g, t, tags[g % granules]);
            break;
        }
    }
    munmap((void *)m, PAGE);
    close(rfd);
}

static void refpage_from_tagged_pointers(void)
{
    if (!mte_supported()) {
        printf(NAME ": refpage_create part: SKIP: no HWCAP2_MTE\n");
        return;
    }
    /* On Linux 6.1 number 448 is process_mrelease, which refuses flags 16. */
    static char probe[16] __attribute__((aligned(16)));
    int pfd = refpage_create(probe, sizeof probe, 0);
    if (pfd < 0) {
        printf(NAME ": refpage_create part: SKIP: refpage_create(probe, 16, 0) failed, errno %d (not this "
               "kernel: on Linux 6.1 syscall 448 is process_mrelease)\n", errno);
        return;
    }
    close(pfd);
    volatile unsigned char *c = map_anonymous(PAGE, PROT_READ | PROT_WRITE | PROT_MTE);
    for (int i = 0; i < 64; i++)
        c[i] = (unsigned char)(0x40 + i);
    static const unsigned same[4] = {0x9, 0x9, 0x9, 0x9};

    /* ABI off: a tagged content pointer is EFAULT. */
    mte_set_ctrl(0);
    CHECK_ERRNO(refpage_create(mte_tagged(c, 0x9), 64, 0), EFAULT);

    /* none: no checks, so granules of different tags through one pointer. */
    for (int g = 0; g < 4; g++)
        mte_stg(c + g * MTE_GRANULE, TAGS[g]);
    mte_set_ctrl(MTE_CTRL(PR_MTE_TCF_NONE));
    refpage_has_tags(mte_tagged(c, TAGS[0]), 4, TAGS, "TCF none");
    refpage_has_tags(mte_tagged(c + 16, 0x5), 1, &TAGS[1], "TCF none, pointer tag not the memory's");

    /* sync and async: the pointer's tag is the memory's. */
    for (int g = 0; g < 4; g++)
        mte_stg(c + g * MTE_GRANULE, 0x9);
    mte_set_ctrl(MTE_CTRL(PR_MTE_TCF_SYNC));
    refpage_has_tags(mte_tagged(c, 0x9), 4, same, "TCF sync");
    CHECK_ERRNO(refpage_create(mte_tagged(c, 0x4), 64, 0), EFAULT);
    mte_set_ctrl(MTE_CTRL(PR_MTE_TCF_ASYNC));
    refpage_has_tags(mte_tagged(c, 0x9), 4, same, "TCF async");
    mte_set_ctrl(MTE_CTRL(PR_MTE_TCF_NONE));
    if (!*expect_failures())
        printf(NAME ": refpage_create through a tagged pointer copies the content's tags (none, sync, async); "
           "sync with a mismatched tag -> EFAULT; ABI off -> EFAULT\n");
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    long got = prctl(PR_GET_TAGGED_ADDR_CTRL, 0, 0, 0, 0);
    CHECK(got == 0, "GET at program start: %ld (errno %d), want 0", got, errno);

    /* Linux's initramfs has no /dev/shm: make it (here mkdir may be
     * missing, and /dev/shm is always there). */
    mkdir("/dev", 0755);
    mkdir("/dev/shm", 01777);
    fd = open(FILE_PATH, O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0, "open(%s): errno %d (%s)", FILE_PATH, errno, strerror(errno));

    run_rows(0, 0, "off");
    run_rows(0x3c, -EFAULT, "off");
    address_space_calls("off");

    int r = prctl(PR_SET_TAGGED_ADDR_CTRL, PR_TAGGED_ADDR_ENABLE, 0, 0, 0);
    CHECK(r == 0, "prctl(PR_SET_TAGGED_ADDR_CTRL, PR_TAGGED_ADDR_ENABLE): %d, errno %d (%s)", r, errno,
          strerror(errno));
    run_rows(0x3c, 0, "on");
    run_rows(0x71, 0, "on");
    address_space_calls("on");
    futex_key_has_the_tag();

    r = prctl(PR_SET_TAGGED_ADDR_CTRL, 0, 0, 0, 0);
    CHECK(r == 0, "prctl(PR_SET_TAGGED_ADDR_CTRL, 0): %d, errno %d", r, errno);
    run_rows(0x3c, -EFAULT, "off again");

    refpage_from_tagged_pointers();
    unlink(FILE_PATH);
    if (*expect_failures()) {
        printf(NAME ": %d check(s) failed\n", *expect_failures());
        return 1;
    }
    printf(NAME ": done\n");
    return 0;
}
