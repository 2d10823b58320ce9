/*
 * syscall_fuzz: random system calls from EL0, every number 0-500, with
 * arguments drawn from pools of awkward values; the kernel must answer each
 * with a result or a -errno, never hang, panic or leak (the runner checks
 * frames and heap bytes after the program).
 *
 *   syscall_fuzz [SEED [CALLS [FIRST [PHASES]]]]   (default seed 1, calls 0-19999)
 *
 * runs calls FIRST to CALLS - 1 (FIRST replays part of a run), then two
 * phases that hunt for kernel hangs. PHASES picks among the three
 * (default "crf"), and b changes c:
 *   c  the random calls;
 *   r  ranges: RANGE_CALLS calls of mmap, munmap, mprotect, madvise, brk,
 *      msync, munlock and mincore (not mlock: like MAP_POPULATE it is real
 *      work over a huge range, each such call a second until its child is
 *      killed)
 *      with huge lengths (up to 2^64 - 1) over a
 *      4 TiB MAP_NORESERVE mapping holding a few pages, and MAP_POPULATE now
 *      and then: the kernel's work must follow what is mapped, or be
 *      interruptible where it is real (populating);
 *   b  (with c) bounded memory: no call populates memory ahead of use
 *      (MAP_POPULATE, MAP_LOCKED, mlock, mlockall, madvise WILLNEED and
 *      POPULATE_*), so that other programs running beside (make soak) are
 *      not starved; the fuzzer alone must stay unbounded;
 *   f  fork under memory pressure: a child holding half the memory in
 *      level-3 tables eats the rest (memfd files) down to about what fork's
 *      copy needs and forks
 *      FORK_STEPS times, giving back one frame before each: fork must
 *      succeed or fail, whatever is left for it.
 * In r and f each call is written to the console before it is made, so a
 * kernel hang (which no watchdog in here can see: nothing runs) is
 * named by the last line, and the host's hang detector (scripts/qemu-watch)
 * says where the kernel is stuck.
 *
 * Reproducible: call i's number and arguments depend only on (SEED, i), so
 * a finding is replayed with the same seed. The calls run in forked
 * children, a batch each, so a call that ends its process (a signal, exit,
 * munmap of the code) ends only that child: the parent notes how it ended
 * and starts the next child after that call. A call that has not returned
 * after a second (a sleep or a futex wait with a long timeout, which may
 * legitimately block; MAP_POPULATE of a huge mapping) is ended by killing
 * its child, counted as blocked.
 *
 * Numbers: half uniform over 0-500, half from the calls programs commonly
 * make (so that arguments, not the number, decide the answer).
 * Pools: 0, 1, -1, small and huge lengths; page-aligned and misaligned user
 * pointers to buffers of random bytes, a read-only page, an unmapped page,
 * kernel-half and tagged addresses; valid, closed and out-of-range
 * descriptors, refpage descriptors of random sizes; random flags. Calls that
 * would reach outside the child are tamed: kill-family calls target the
 * child itself, clone loses CLONE_VM and CLONE_THREAD (a grandchild exits
 * at once), ptrace never attaches (TRACEME, ATTACH and SEIZE become an
 * unknown request: a traced child would stop for its signals), and the console descriptors are replaced by a file in /dev/shm
 * so random writes do not reach the log.
 *
 * On any kernel but this one it refuses to run (under qemu-user it would
 * fuzz the host's kernel), and passes.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "refpage_test.h"

#define PAGE 4096
#define MAX_NR 500
#define BATCH 2000
#define RANGE_CALLS 600
#define RANGE_BATCH 200
#define FORK_STEPS 64
#define HUGE_MAP (1ULL << 42) /* the ranges phase's NORESERVE mapping */
#define CONSOLE_FD 1000       /* the console, kept for the call lines of r and f */

enum phase { CALLS, RANGES, FORK_PRESSURE };
static enum phase phase;
static int bounded; /* phase letter b: calls that populate memory are tamed */
/* Linux's largest errno (EHWPOISON). */
#define MAX_ERRNO_LINUX 133

/* What parent and children share: progress and the call in flight. */
struct shared {
    volatile uint64_t next;    /* index of the call in flight (or next) */
    volatile uint64_t nr;      /* its number */
    volatile uint64_t args[6];
    volatile uint64_t in_call;  /* 1 while call `next` is in the kernel */
    volatile uint64_t nonce;    /* the parent's mark for the current child */
    volatile uint64_t answered, skipped;
    volatile uint64_t ok, errors, bad_errno, enosys_missing;
    volatile uint64_t bad_nr, bad_value;
    volatile uint64_t errno_count[MAX_ERRNO_LINUX + 1];
};

static uint64_t seed;

/* splitmix64 of (seed, i, k): the k-th random word of call i. */
static uint64_t rnd(uint64_t i, uint64_t k)
{
    uint64_t z = seed * 0x9e3779b97f4a7c15ULL + i * 0xbf58476d1ce4e5b9ULL + k * 0x94d049bb133111ebULL + 1;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* The child's memory the pointer pools point into. */
static unsigned char *buf;      /* 4 pages RW, random bytes */
static unsigned char *ro_page;  /* read-only */
static unsigned char *hole;     /* unmapped */
static int valid_fd[4];
static int nvalid_fd;

static uint64_t pointer(uint64_t r)
{
    switch (r % 10) {
    case 0: return (uint64_t)buf;
    case 1: return (uint64_t)buf + 1 + (r >> 8) % 63;      /* misaligned */
    case 2: return (uint64_t)buf + PAGE * ((r >> 8) % 4);  /* page-aligned */
    case 3: return (uint64_t)ro_page;
    case 4: return (uint64_t)hole;
    case 5: return 0xffff800000000000ULL + ((r >> 8) & 0xfffff000);  /* kernel half */
    case 6: return 0xffff000000000000ULL;
    case 7: return (uint64_t)buf | ((r >> 8) % 16) << 56;  /* tagged */
    case 8: return 1ULL << 47;                               /* just past user space */
    default: return r >> 16;                                 /* anywhere */
    }
}

static uint64_t length(uint64_t r)
{
    static const uint64_t huge[] = {
        PAGE, 2 * PAGE, 0x7fffffff, 0x80000000, 1ULL << 40, 1ULL << 47, ~0ULL, ~0ULL - PAGE + 1, (uint64_t)-16,
    };
    if (r % 3 == 0)
        return (r >> 8) % 65;
    return huge[(r >> 8) % (sizeof huge / sizeof huge[0])];
}

static uint64_t descriptor(uint64_t r)
{
    switch (r % 6) {
    case 0:
    case 1: return nvalid_fd ? (uint64_t)valid_fd[(r >> 8) % nvalid_fd] : 3;
    case 2: return 3 + (r >> 8) % 61;                     /* likely closed */
    case 3: return (uint64_t)(int64_t)-1;
    case 4: return 1 << 20;                                /* out of range */
    default: return (uint64_t)(int64_t)(int32_t)(r >> 8);  /* any int */
    }
}

static uint64_t flags(uint64_t r)
{
    switch (r % 4) {
    case 0: return (r >> 8) & 0xff;
    case 1: return 1ULL << ((r >> 8) % 64);
    case 2: return (r >> 8) & 0xffffffff;
    default: return r;
    }
}

static uint64_t argument(uint64_t i, int k)
{
    uint64_t r = rnd(i, k + 1);
    switch (r % 8) {
    case 0: return 0;
    case 1: return 1;
    case 2: return ~0ULL;
    case 3: return length(r >> 3);
    case 4: return pointer(r >> 3);
    case 5: return descriptor(r >> 3);
    case 6: return flags(r >> 3);
    default: return r;
    }
}

/* Half the calls use numbers a static glibc program and refpage users
 * actually make (Linux arm64 numbers), so that most of them reach code
 * behind the number rather than ENOSYS; the other half any number 0-500. */
static const uint16_t common_nr[] = {
    17,  23,  24,  25,  29,  35,  46,  56,  57,  62,  63,  64,  65,  66,  67,  68,  78,  79,
    80,  95,  96,  98,  99,  101, 113, 114, 115, 124, 129, 130, 131, 132, 133, 134, 135, 136,
    137, 139, 160, 167, 169, 172, 173, 174, 178, 179, 214, 215, 216, 220, 221, 222, 226, 227,
    232, 233, 260, 261, 278, 293, 435, 448,
};

/* The ranges phase: the memory calls that take a range, over the huge
 * mapping. */
static const uint16_t range_nr[] = {
    222, /* mmap */ 215, /* munmap */ 226, /* mprotect */ 226, 233, /* madvise */ 233, 214, /* brk */
    227, /* msync */ 229, /* munlock */ 232, /* mincore */ 216, /* mremap */
};
static unsigned char *huge; /* HUGE_MAP bytes, PROT_NONE, a few pages present */

/* Call i of the ranges phase draws from its own words. */
static uint64_t range_rnd(uint64_t i, uint64_t k)
{
    return rnd(i | 1ULL << 62, k);
}

static uint64_t range_pointer(uint64_t r)
{
    switch (r % 6) {
    case 0: return (uint64_t)huge;
    case 1: return (uint64_t)huge + ((r >> 8) % (HUGE_MAP / PAGE)) * PAGE; /* inside */
    case 2: return (uint64_t)huge + HUGE_MAP / 2;
    case 3: return 0x10000;                                                 /* the lowest user page */
    case 4: return ((r >> 8) % ((1ULL << 47) / PAGE)) * PAGE;               /* anywhere below 2^47 */
    default: return (uint64_t)huge - ((r >> 8) % 1024) * PAGE;
    }
}

static uint64_t range_length(uint64_t r, uint64_t addr)
{
    switch (r % 8) {
    case 0: return HUGE_MAP;
    case 1: return 1ULL << 47;
    case 2: return (1ULL << 47) - addr; /* to the top of user space */
    case 3: return 1ULL << 40;
    case 4: return ~0ULL - PAGE + 1;
    case 5: return ~0ULL;
    case 6: return (uint64_t)huge + HUGE_MAP - addr;
    default: return ((r >> 8) % 64 + 1) * PAGE;
    }
}

static void range_arguments(uint64_t i, uint64_t nr, uint64_t a[6])
{
    uint64_t r[6];
    for (int k = 0; k < 6; k++)
        r[k] = range_rnd(i, k + 1);
    a[0] = range_pointer(r[0]);
    a[1] = range_length(r[1], a[0]);
    if (nr == 233) { /* madvise */
        static const uint64_t advice[] = { MADV_DONTNEED, MADV_FREE, MADV_WILLNEED, MADV_NORMAL, MADV_COLD,
                                           MADV_PAGEOUT, MADV_DONTFORK, 1234 };
        a[2] = advice[r[2] % 8];
    } else {
        a[2] = r[2] % 8 | (r[2] % 5 == 0 ? PROT_MTE : 0); /* PROT_READ/WRITE/EXEC, sometimes MTE */
    }
    /* mmap's flags: private, anonymous, no reserve; now and then fixed or
     * populating (real work: stopped by the watchdog's SIGKILL). */
    a[3] = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
    if (r[3] % 4 == 0)
        a[3] |= MAP_FIXED_NOREPLACE;
    if (r[3] % 64 == 1)
        a[3] |= MAP_POPULATE;
    a[4] = (uint64_t)-1;
    a[5] = 0;
    if (nr == 216) { /* mremap: a new length, its flags, a new address in or near the huge mapping */
        /* MREMAP_MAYMOVE 1, MREMAP_FIXED 2, MREMAP_DONTUNMAP 4 (linux/mman.h); 8 is unknown. */
        static const uint64_t how[] = { 0, 1, 1 | 2, 1 | 4, 2, 8 };
        a[2] = range_length(r[2], a[0]);
        a[3] = how[r[3] % 6];
        a[4] = range_pointer(r[4]);
    }
}

static uint64_t number(uint64_t i)
{
    if (phase == RANGES)
        return range_nr[range_rnd(i, 0) % (sizeof range_nr / sizeof range_nr[0])];
    if (phase == FORK_PRESSURE)
        return 220; /* clone */
    uint64_t r = rnd(i, 0);
    if (r & 1)
        return common_nr[(r >> 1) % (sizeof common_nr / sizeof common_nr[0])];
    return (r >> 1) % (MAX_NR + 1);
}

static long raw_syscall(uint64_t nr, const uint64_t a[6])
{
    register uint64_t x8 __asm__("x8") = nr;
    register uint64_t x0 __asm__("x0") = a[0];
    register uint64_t x1 __asm__("x1") = a[1];
    register uint64_t x2 __asm__("x2") = a[2];
    register uint64_t x3 __asm__("x3") = a[3];
    register uint64_t x4 __asm__("x4") = a[4];
    register uint64_t x5 __asm__("x5") = a[5];
    __asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5) : "memory");
    return (long)x0;
}

/* Numbers that are no system call on arm64 Linux 6.1, whose ABI this kernel
 * follows: the architecture-specific range asm-generic leaves to others
 * (244-259), the 32-bit-only time64 calls (403-423) and everything after
 * set_mempolicy_home_node (450). Every kernel must say ENOSYS there. */
static int unassigned(uint64_t nr)
{
    return (nr >= 244 && nr <= 259) || (nr >= 403 && nr <= 423) || nr > 450;
}

/* Keeps call i inside its child (see the header comment). */
static void tame(uint64_t nr, uint64_t a[6], pid_t self)
{
    switch (nr) {
    case 129: /* kill */
    case 130: /* tkill */
    case 240: /* rt_tgsigqueueinfo */
    case 138: /* rt_sigqueueinfo */
    case 424: /* pidfd_send_signal: pidfds are not pids, but be safe */
        a[0] = (uint64_t)self;
        break;
    case 131: /* tgkill */
        a[0] = a[1] = (uint64_t)self;
        break;
    case 220: /* clone: a process, never a thread sharing this stack */
        a[0] &= ~(uint64_t)(0x100 | 0x800 | 0x4000 | 0x10000); /* CLONE_VM, _SIGHAND, _VFORK, _THREAD */
        a[1] = 0;
        break;
    case 435: /* clone3: its arguments are a structure; keep it refused */
        a[1] = 0;
        break;
    case 142: /* reboot */
        a[0] = a[1] = 0;
        break;
    case 436: /* close_range: never the console lines and results go to */
        a[0] = CONSOLE_FD + 1 + a[0] % 4096;
        break;
    case 117: /* ptrace: never become a tracee (stops nobody waits for), nor trace */
        if (a[0] == 0 || a[0] == 16 || a[0] == 0x4206) /* TRACEME, ATTACH, SEIZE */
            a[0] = 0x7777;                           /* unknown: ESRCH or EIO */
        break;
    }
    if (!bounded)
        return;
    /* Phase letter b: nothing fills memory ahead of use, so the child
     * holds only what it touches (make soak runs other programs beside). */
    switch (nr) {
    case 222: /* mmap: neither MAP_POPULATE nor MAP_LOCKED */
        a[3] &= ~(uint64_t)(MAP_POPULATE | MAP_LOCKED);
        break;
    case 228: /* mlock */
    case 284: /* mlock2 */
        a[1] = 0;
        break;
    case 230: /* mlockall: flags 0 are EINVAL */
        a[0] = 0;
        break;
    case 233: /* madvise: no WILLNEED or POPULATE_(READ|WRITE) */
        if (a[2] == MADV_WILLNEED || a[2] == 22 || a[2] == 23)
            a[2] = MADV_NORMAL;
        break;
    }
}

static struct eater eater; /* the fork phase's eaten memory */

/* What the hang-hunting phases need in the child: the huge mapping with a
 * page present at its start, middle and end; or the page tables and the
 * eaten memory, down to a start drawn from the seed, just below where
 * fork's copy needs everything that is left. */
static void setup_phase(uint64_t first, uint64_t end)
{
    if (phase == RANGES) {
        huge = mmap(NULL, HUGE_MAP, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (huge == MAP_FAILED)
            _exit(4);
        unsigned char *present[3] = { huge, huge + HUGE_MAP / 2, huge + HUGE_MAP - PAGE };
        for (int j = 0; j < 3; j++) {
            mprotect(present[j], PAGE, PROT_READ | PROT_WRITE);
            *present[j] = 1;
        }
    } else if (phase == FORK_PRESSURE) {
        unsigned char *spread;
        size_t len;
        unsigned long tables = spread_page_tables(&spread, &len);
        eat_down_to(&eater, (long)(tables - 40 + rnd(first, 77) % 16), (int)(end - first));
    }
}

static void setup_child(uint64_t first)
{
    /* The console stays reachable for the call lines of r and f. */
    dup2(1, CONSOLE_FD);
    /* Random writes go to a file, not to the console the log is read from. */
    char name[64];
    snprintf(name, sizeof name, "/dev/shm/fuzz-%llu", (unsigned long long)first);
    int junk = open(name, O_RDWR | O_CREAT | O_TRUNC, 0600);
    unlink(name);
    if (junk >= 0) {
        dup2(junk, 0);
        dup2(junk, 1);
        dup2(junk, 2);
        close(junk);
    }
    /* Unmapped pages either side of the buffer: a call given a huge length
     * stops at them instead of running on into other memory (the shared
     * page above all). */
    unsigned char *region = mmap(NULL, 6 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(region, PAGE);
    munmap(region + 5 * PAGE, PAGE);
    buf = region + PAGE;
    ro_page = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    hole = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(hole, PAGE);
    for (int j = 0; j < 4 * PAGE; j++)
        buf[j] = (unsigned char)rnd(first, 1000 + j);
    nvalid_fd = 0;
    valid_fd[nvalid_fd++] = 0;
    unsigned char content[PAGE];
    for (int j = 0; j < 3; j++) {
        memcpy(content, buf, PAGE);
        int fd = refpage_create(content, 1u << (rnd(first, 900 + j) % 13), 0);
        if (fd >= 0)
            valid_fd[nvalid_fd++] = fd;
    }
}

/* Runs calls [first, end) in this (child) process; exits when done. */
static void child(struct shared *sh, uint64_t first, uint64_t end)
{
    setup_child(first);
    setup_phase(first, end);
    pid_t self = getpid();
    uint64_t nonce = sh->nonce;
    for (uint64_t i = first; i < end; i++) {
        uint64_t nr = number(i);
        uint64_t a[6];
        for (int k = 0; k < 6; k++)
            a[k] = argument(i, k);
        if (phase == RANGES)
            range_arguments(i, nr, a);
        if (phase == FORK_PRESSURE) {
            eater_give_one(&eater);
            memset(a, 0, sizeof a);
            a[0] = SIGCHLD;
        }
        if (phase != CALLS) {
            /* Named before it is made: if the kernel hangs, this is the
             * last line of the log. */
            char line[200];
            int n = snprintf(line, sizeof line, "syscall_fuzz: %s call %llu: nr %llu (%#llx, %#llx, %#llx, %#llx)",
                             phase == RANGES ? "ranges" : "fork", (unsigned long long)i, (unsigned long long)nr,
                             (unsigned long long)a[0], (unsigned long long)a[1], (unsigned long long)a[2],
                             (unsigned long long)a[3]);
            if (phase == FORK_PRESSURE)
                n += snprintf(line + n, sizeof line - (size_t)n, " with %ld frames free", free_frames());
            n += snprintf(line + n, sizeof line - (size_t)n, "\n");
            if (write(CONSOLE_FD, line, (size_t)n) < 0)
                _exit(5);
        }
        if (nr == 93 || nr == 94) { /* exit, exit_group: nothing to learn */
            sh->skipped++;
            sh->next = i + 1;
            continue;
        }
        tame(nr, a, self);
        sh->nr = nr;
        for (int k = 0; k < 6; k++)
            sh->args[k] = a[k];
        sh->next = i;
        sh->in_call = 1;
        long r = raw_syscall(nr, a);
        if (getpid() != self)
            _exit(0); /* a grandchild from clone: not ours to run */
        if (phase == FORK_PRESSURE && r > 0)
            waitpid((pid_t)r, NULL, 0);
        /* A call that mapped over the shared page (MAP_FIXED, mremap) cut
         * this child off from the parent: stop, leaving the call in flight
         * as the one that ended the child. */
        if (sh->nonce != nonce)
            _exit(2);
        sh->in_call = 0;
        sh->answered++;
        if (r < 0 && r >= -4095) {
            long e = -r;
            if (e > MAX_ERRNO_LINUX) {
                sh->bad_errno++;
                sh->bad_nr = nr;
                sh->bad_value = (uint64_t)r;
            } else {
                sh->errors++;
                sh->errno_count[e]++;
            }
            if (unassigned(nr) && e != ENOSYS) {
                sh->enosys_missing++;
                sh->bad_nr = nr;
                sh->bad_value = (uint64_t)r;
            }
        } else {
            sh->ok++;
            if (unassigned(nr)) {
                sh->enosys_missing++;
                sh->bad_nr = nr;
                sh->bad_value = (uint64_t)r;
            }
        }
        sh->next = i + 1;
    }
    _exit(0);
}

/* How the children of all phases ended. */
struct tally {
    uint64_t nonce, children, signalled, ended_in_call, blocked;
    uint64_t by_signal[65];
};

/* Runs calls [first, calls) of phase `which` in children of `batch` calls
 * each, one after another, watching each: a child making no progress for a
 * second is killed. */
static void run_calls(struct shared *sh, enum phase which, uint64_t first, uint64_t calls, uint64_t batch,
                      struct tally *t)
{
    phase = which;
    uint64_t i = first;
    while (i < calls) {
        uint64_t end = i + batch < calls ? i + batch : calls;
        sh->next = i;
        sh->in_call = 0;
        sh->nonce = ++t->nonce;
        /* The indices the child accounts for (answered or skipped) from
         * here: see below. */
        uint64_t counted_before = sh->answered + sh->skipped;
        fflush(stdout); /* or the child inherits what is buffered */
        pid_t pid = fork();
        CHECK(pid >= 0, "fork: %s", strerror(errno));
        if (pid == 0)
            child(sh, i, end);
        t->children++;
        int status = 0;
        /* Progress is judged by the clock: while a call works in the
         * kernel (MAP_POPULATE) this loop runs once per time slice. */
        uint64_t last = sh->next, since = monotonic_ns(), killed = 0;
        for (int ended = 0; !ended;) {
            /* Reap whatever has ended: the child, and grandchildren made
             * children of this process by clone(CLONE_PARENT). */
            pid_t w;
            int st;
            while ((w = waitpid(-1, &st, WNOHANG)) > 0) {
                if (w == pid) {
                    status = st;
                    ended = 1;
                }
            }
            if (ended)
                break;
            CHECK(w == 0, "waitpid: the child %d vanished (%s)", (int)pid, strerror(errno));
            sleep_ns(1000000);
            if (sh->next != last || !sh->in_call) {
                /* Progress, or the child's own code (setting up the fork
                 * phase takes seconds): only a call is watched. */
                last = sh->next;
                since = monotonic_ns();
            } else if (!killed && monotonic_ns() - since >= 1000000000ULL) {
                killed = 1;
                printf("syscall_fuzz: call %llu (nr %llu) blocked for 1 s: killing the child\n",
                       (unsigned long long)sh->next, (unsigned long long)sh->nr);
                kill(pid, SIGKILL);
                t->blocked++;
            }
        }
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
        if (WIFSIGNALED(status)) {
            t->signalled++;
            t->by_signal[WTERMSIG(status) < 65 ? WTERMSIG(status) : 0]++;
        }
        /* Where the child stopped is judged by what it counted, not by
         * `next`: the child counts a call (answered++ or skipped++) and
         * only then moves `next` on, two stores, and it can die between
         * them (the 1 s watchdog's SIGKILL landing just after the call
         * returned, an alarm or timer signal an earlier call set up). With
         * `next` still on a counted call, the old "died between calls"
         * branch made that call again and counted it twice, and the "no
         * call made" branch counted it as ended too (soak, seed 53: 2938
         * + 56 + 8 = 3002 for 3000 calls; alone the timing differs). One
         * child accounts for its indices in order, each once, so the
         * calls it counted are exactly [i, at). */
        uint64_t at = i + (sh->answered + sh->skipped - counted_before);
        if (at >= end) {
            i = end;
        } else if (sh->in_call && sh->next == at) {
            /* Call `at` ended the child (a signal, exit, the watchdog):
             * that was its answer. Go on after it. */
            t->ended_in_call++;
            i = at + 1;
        } else if (at > i) {
            /* The child died between calls (its own memory unmapped by an
             * earlier call), or after call `at` returned but before it was
             * counted: resume at the first call not counted. */
            i = at;
        } else {
            /* Nothing counted and no call in flight: setting up failed, or
             * the first call returned and the child died before counting
             * it; counted here once, as ended, and skipped. */
            t->ended_in_call++;
            i++;
        }
        sh->in_call = 0;
    }
    while (waitpid(-1, NULL, 0) > 0)
        ;
    sh->in_call = 0;

}

int main(int argc, char **argv)
{
    seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 1;
    uint64_t calls = argc > 2 ? strtoull(argv[2], NULL, 0) : 20000;
    uint64_t first = argc > 3 ? strtoull(argv[3], NULL, 0) : 0; /* replay from here */
    const char *phases = argc > 4 ? argv[4] : "crf";
    bounded = strchr(phases, 'b') != NULL;
    if (!is_refpage_kernel()) {
        printf("syscall_fuzz: not the refpage kernel: not fuzzing this machine's kernel\n");
        return 0;
    }
    printf("syscall_fuzz: seed %llu, %llu calls, phases %s (replay: syscall_fuzz %llu %llu %llu %s)\n",
           (unsigned long long)seed, (unsigned long long)calls, phases, (unsigned long long)seed,
           (unsigned long long)calls, (unsigned long long)first, phases);
    /* Where no pool points (a hint: not near the other mappings, and not a
     * power of two, which the flag pool produces). */
    struct shared *sh =
        mmap((void *)0x3c5a9d2e7000ULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(sh != MAP_FAILED, "mmap shared: %s", strerror(errno));
    memset((void *)sh, 0, sizeof *sh);

    struct tally t = {0};
    uint64_t total = 0;
    if (strchr(phases, 'c') && first < calls) {
        run_calls(sh, CALLS, first, calls, BATCH, &t);
        total += calls - first;
    }
    if (strchr(phases, 'r')) {
        printf("syscall_fuzz: ranges: %d calls with huge lengths over a %llu GiB MAP_NORESERVE mapping\n",
               RANGE_CALLS, HUGE_MAP >> 30);
        run_calls(sh, RANGES, 0, RANGE_CALLS, RANGE_BATCH, &t);
        total += RANGE_CALLS;
    }
    if (strchr(phases, 'f')) {
        printf("syscall_fuzz: fork: %d forks with half the memory in page tables, free memory stepped up a frame at a "
               "time\n",
               FORK_STEPS);
        run_calls(sh, FORK_PRESSURE, 0, FORK_STEPS, FORK_STEPS, &t);
        total += FORK_STEPS;
    }
    uint64_t children = t.children, signalled = t.signalled, ended_in_call = t.ended_in_call, blocked = t.blocked;
    uint64_t *by_signal = t.by_signal;

    printf("syscall_fuzz: %llu calls returned (%llu results, %llu errors), %llu ended their child, "
           "%llu exits skipped; %llu children, %llu ended by a signal, %llu blocked and killed\n",
           (unsigned long long)sh->answered, (unsigned long long)sh->ok, (unsigned long long)sh->errors,
           (unsigned long long)ended_in_call, (unsigned long long)sh->skipped, (unsigned long long)children,
           (unsigned long long)signalled, (unsigned long long)blocked);
    printf("syscall_fuzz: signals:");
    for (int s = 1; s < 65; s++)
        if (by_signal[s])
            printf(" %s %llu", strsignal(s), (unsigned long long)by_signal[s]);
    printf("\nsyscall_fuzz: errnos:");
    for (int e = 1; e <= MAX_ERRNO_LINUX; e++)
        if (sh->errno_count[e])
            printf(" %d:%llu", e, (unsigned long long)sh->errno_count[e]);
    printf("\n");
    CHECK(sh->bad_errno == 0, "%llu answers were -errno beyond Linux's errnos (last: nr %llu gave %lld)",
          (unsigned long long)sh->bad_errno, (unsigned long long)sh->bad_nr, (long long)sh->bad_value);
    CHECK(sh->enosys_missing == 0, "%llu calls to unassigned numbers did not get ENOSYS (last: nr %llu gave %lld)",
          (unsigned long long)sh->enosys_missing, (unsigned long long)sh->bad_nr, (long long)sh->bad_value);
    /* Each index is accounted for once: its call returned, or ended its
     * child, or was an exit and skipped. */
    CHECK(sh->answered + ended_in_call + sh->skipped == total, "%llu returned + %llu ended + %llu skipped != %llu calls",
          (unsigned long long)sh->answered, (unsigned long long)ended_in_call, (unsigned long long)sh->skipped,
          (unsigned long long)total);
    printf("syscall_fuzz: ok\n");
    return 0;
}
