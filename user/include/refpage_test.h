/*
 * refpage_test.h - what the C test programs in user/tests/ need beyond
 * glibc's headers: the refpage_create(2) system call number, the arm64 MTE
 * constants that glibc 2.36's headers lack (values from Linux's
 * include/uapi/linux/prctl.h, arch/arm64/include/uapi/asm/{mman,hwcap}.h
 * and include/uapi/asm-generic/siginfo.h), CHECK(), and for the refpage
 * tests refpage_create(), CHECK_ERRNO(), CHECK_PATTERN(), the EL0 tag
 * instructions mte_ldg(), mte_stg() and mte_irg(), and for the signal and
 * tag-check-fault tests a recording signal handler (catch_signal()) and
 * loads/stores whose address is known (load_byte_at(), store_byte_at()),
 * and range_is_free() for the tests that unmap or move mappings.
 *
 * Each is guarded by #ifndef, so a newer glibc that defines one wins.
 */
#ifndef REFPAGE_TEST_H
#define REFPAGE_TEST_H

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

/* refpage_create(2), the proposed call this kernel implements (the v5
 * series' number). Mainline Linux later gave 448 to process_mrelease. */
#ifndef SYS_refpage_create
#define SYS_refpage_create 448
#endif

/* mmap/mprotect: map as Normal-Tagged memory with allocation tags. */
#ifndef PROT_MTE
#define PROT_MTE 0x20
#endif

/* prctl(2): the tagged address ABI and the tag-check fault mode. */
#ifndef PR_SET_TAGGED_ADDR_CTRL
#define PR_SET_TAGGED_ADDR_CTRL 55
#endif
#ifndef PR_GET_TAGGED_ADDR_CTRL
#define PR_GET_TAGGED_ADDR_CTRL 56
#endif
#ifndef PR_TAGGED_ADDR_ENABLE
#define PR_TAGGED_ADDR_ENABLE (1UL << 0)
#endif
#ifndef PR_MTE_TCF_NONE
#define PR_MTE_TCF_NONE 0UL
#endif
#ifndef PR_MTE_TCF_SYNC
#define PR_MTE_TCF_SYNC (1UL << 1)
#endif
#ifndef PR_MTE_TCF_ASYNC
#define PR_MTE_TCF_ASYNC (2UL << 1)
#endif
#ifndef PR_MTE_TCF_MASK
#define PR_MTE_TCF_MASK (3UL << 1)
#endif
#ifndef PR_MTE_TAG_SHIFT
#define PR_MTE_TAG_SHIFT 3
#endif
#ifndef PR_MTE_TAG_MASK
#define PR_MTE_TAG_MASK (0xffffUL << PR_MTE_TAG_SHIFT)
#endif

/* getauxval(AT_HWCAP2): the CPU and kernel support MTE at EL0. */
#ifndef HWCAP2_MTE
#define HWCAP2_MTE (1 << 18)
#endif

/* si_code of a SIGSEGV from a tag-check fault. */
#ifndef SEGV_MTEAERR
#define SEGV_MTEAERR 8 /* asynchronous */
#endif
#ifndef SEGV_MTESERR
#define SEGV_MTESERR 9 /* synchronous */
#endif

/*
 * CHECK(cond, fmt, ...): unless cond holds, print
 *   file:line: check failed: cond: message
 * to stderr and exit 1. The message should say what was seen, e.g.
 *   CHECK(n == 8, "write returned %zd", n);
 */
#define CHECK(cond, ...)                                                        \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fflush(stdout);                                                     \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__,    \
                    #cond);                                                     \
            fprintf(stderr, __VA_ARGS__);                                       \
            fputc('\n', stderr);                                                \
            exit(1);                                                            \
        }                                                                       \
    } while (0)

/*
 * refpage_create(2) through syscall(2), as its man page calls it (glibc has
 * no wrapper): a descriptor, or -1 with errno set.
 */
static inline int refpage_create(const void *content, unsigned int size, unsigned long flags)
{
    return (int)syscall(SYS_refpage_create, content, size, flags);
}

/*
 * CHECK_ERRNO(call, E): call must fail with errno E, returning -1 (or
 * MAP_FAILED, which is -1 as a long). Otherwise, like CHECK, prints
 *   file:line: check failed: close(999) -> -1, EBADF: returned 0, errno 0 (Success)
 * to stderr and exits 1.
 */
#define CHECK_ERRNO(call, want)                                                 \
    do {                                                                        \
        errno = 0;                                                              \
        long check_ret_ = (long)(call);                                         \
        int check_err_ = errno;                                                 \
        if (!(check_ret_ == -1 && check_err_ == (want))) {                      \
            fflush(stdout);                                                     \
            fprintf(stderr,                                                     \
                    "%s:%d: check failed: %s -> -1, %s: returned %ld, errno %d (%s)\n", \
                    __FILE__, __LINE__, #call, #want, check_ret_, check_err_,   \
                    strerror(check_err_));                                      \
            exit(1);                                                            \
        }                                                                       \
    } while (0)

/*
 * The first i in [0, len) where p[i] is not content[i % size] (a mapping
 * of a refpage at a page-aligned offset, size dividing the page size), or
 * len if there is none.
 */
static inline size_t refpage_mismatch(const volatile unsigned char *p, size_t len,
                                      const unsigned char *content, unsigned int size)
{
    for (size_t i = 0; i < len; i++) {
        if (p[i] != content[i % size])
            return i;
    }
    return len;
}

/*
 * CHECK_PATTERN(p, len, content, size, what): every byte of p[0, len) is
 * content[i % size]; otherwise prints the first byte that is not.
 */
#define CHECK_PATTERN(p, len, content, size, what)                              \
    do {                                                                        \
        const volatile unsigned char *check_p_ = (const volatile unsigned char *)(p); \
        size_t check_len_ = (len);                                              \
        size_t check_i_ = refpage_mismatch(check_p_, check_len_, (content), (size)); \
        CHECK(check_i_ == check_len_,                                           \
              "%s: byte %zu of %zu (at %p) is 0x%02x, want 0x%02x (pattern "   \
              "byte %zu of %u)",                                                \
              (what), check_i_, check_len_, (void *)(check_p_ + check_i_),      \
              check_p_[check_i_], (content)[check_i_ % (size)],                 \
              check_i_ % (size), (unsigned)(size));                             \
    } while (0)

/*
 * MTE from EL0 (Arm ARM (DDI 0487K.a), "The Memory Tagging Extension"). Only for
 * PROT_MTE memory on a CPU with HWCAP2_MTE; elsewhere LDG/STG are undefined
 * instructions (SIGILL). The `.arch armv8.5-a+memtag` directive is needed
 * because binutils 2.40 rejects `.arch_extension memtag` on the default
 * armv8-a base; it only widens what the assembler accepts for the rest of
 * the file.
 *
 * mte_ldg(addr): the allocation tag of the 16-byte granule holding addr.
 * LDG Xt, [Xn] copies that tag into bits 59:56 of Xt and leaves its other
 * bits; here Xt = Xn, the one in/out operand, so nothing else is clobbered.
 */
static inline unsigned mte_ldg(const volatile void *addr)
{
    uint64_t p = (uint64_t)(uintptr_t)addr;
    __asm__ volatile(".arch armv8.5-a+memtag\n\tldg %0, [%0]" : "+r"(p) : : "memory");
    return (unsigned)(p >> 56) & 0xf;
}

/*
 * mte_stg(addr, tag): sets the allocation tag of the granule at addr (16-byte
 * aligned) to tag. STG Xt, [Xn] stores bits 59:56 of Xt as the tag; with
 * Xt = Xn = addr carrying the tag in its top byte (TBI0 makes the MMU ignore
 * it). Reads one input register; clobbers none; writes tag memory only.
 */
static inline void mte_stg(volatile void *addr, unsigned tag)
{
    uint64_t p = ((uint64_t)(uintptr_t)addr & ~(0xffULL << 56)) | ((uint64_t)(tag & 0xf) << 56);
    __asm__ volatile(".arch armv8.5-a+memtag\n\tstg %0, [%0]" : : "r"(p) : "memory");
}

/* addr with logical tag `tag` in bits 59:56, for accesses through it. */
static inline void *mte_tagged(const volatile void *addr, unsigned tag)
{
    return (void *)(((uintptr_t)addr & ~(0xffULL << 56)) | ((uint64_t)(tag & 0xf) << 56));
}

/* ------------------------------------------------------------------------
 * Signals and tag-check faults. glibc's <signal.h> brings the arm64
 * sigcontext records (<asm/sigcontext.h>: struct _aarch64_ctx,
 * FPSIMD_MAGIC, ESR_MAGIC).
 */

/* sa_flags (include/uapi/asm-generic/signal-defs.h, Linux 5.11): a handler
 * with SA_EXPOSE_TAGBITS sees the tag bits of si_addr; SA_UNSUPPORTED is
 * never supported, so its absence on read-back shows that the kernel clears
 * unknown bits. */
#ifndef SA_UNSUPPORTED
#define SA_UNSUPPORTED 0x00000400
#endif
#ifndef SA_EXPOSE_TAGBITS
#define SA_EXPOSE_TAGBITS 0x00000800
#endif

/* PROT_MTE memory, with the architecture's 16-byte tag granule. */
#define MTE_GRANULE 16

/* HWCAP2_MTE is in AT_HWCAP2: tag storage exists and EL0 may use it. */
static inline int mte_supported(void)
{
    return (getauxval(AT_HWCAP2) & HWCAP2_MTE) != 0;
}

/* MTE_SKIP_UNLESS_SUPPORTED(name): without HWCAP2_MTE, print why and exit 0. */
#define MTE_SKIP_UNLESS_SUPPORTED(name)                                         \
    do {                                                                        \
        if (!mte_supported()) {                                                 \
            printf("%s: SKIP: AT_HWCAP2 %#lx lacks HWCAP2_MTE\n", (name),       \
                   getauxval(AT_HWCAP2));                                       \
            exit(0);                                                            \
        }                                                                       \
    } while (0)

/* The PR_SET_TAGGED_ADDR_CTRL argument for tag-check mode `tcf`
 * (PR_MTE_TCF_*), with the tagged-address ABI on and IRG allowed every
 * tag but 0. */
#define MTE_CTRL(tcf) (PR_TAGGED_ADDR_ENABLE | (tcf) | (0xfffeUL << PR_MTE_TAG_SHIFT))

/* prctl(PR_SET_TAGGED_ADDR_CTRL, ctrl, 0, 0, 0), which must succeed. */
static inline void mte_set_ctrl(unsigned long ctrl)
{
    int r = prctl(PR_SET_TAGGED_ADDR_CTRL, ctrl, 0, 0, 0);
    CHECK(r == 0, "prctl(PR_SET_TAGGED_ADDR_CTRL, %#lx, 0, 0, 0) returned %d, errno %d (%s)", ctrl,
          r, errno, strerror(errno));
}

/* `len` bytes of private anonymous memory with `prot` (which may include
 * PROT_MTE), which must be granted. */
static inline void *map_anonymous(size_t len, int prot)
{
    void *p = mmap(NULL, len, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED, "mmap(%zu bytes, prot %#x, anonymous): errno %d (%s)", len, prot, errno,
          strerror(errno));
    return p;
}

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

/* Whether [p, p + len) holds no mapping: MAP_FIXED_NOREPLACE succeeds
 * there (the probe is unmapped again). */
static inline int range_is_free(void *p, size_t len)
{
    void *q = mmap(p, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (q == MAP_FAILED)
        return 0;
    munmap(q, len);
    return q == p;
}

/* addr without its top byte: what si_addr holds without SA_EXPOSE_TAGBITS. */
static inline uintptr_t untagged(const volatile void *addr)
{
    return (uintptr_t)addr & ((1ULL << 56) - 1);
}

/*
 * mte_irg(addr): addr with a random logical tag from IRG Xd, Xn, never one
 * that GCR_EL1.Exclude (the complement of the prctl include mask) excludes;
 * tag 0 if every tag is excluded. Reads and writes only its operands.
 */
static inline void *mte_irg(const volatile void *addr)
{
    uint64_t p = (uint64_t)(uintptr_t)addr;
    __asm__ volatile(".arch armv8.5-a+memtag\n\tirg %0, %0" : "+r"(p));
    return (void *)(uintptr_t)p;
}

/* The logical tag of a pointer (bits 59:56). */
static inline unsigned tag_of(const volatile void *addr)
{
    return (unsigned)((uintptr_t)addr >> 56) & 0xf;
}

/*
 * load_byte_at(addr, &pc): one LDRB from addr, and the address of that
 * instruction (ADR of its label), so that a handler's view of the fault can
 * be compared with it. If a handler skips the load (pc += 4) the result is
 * LOAD_SKIPPED, the value the destination register held before. Clobbers
 * only its two outputs.
 */
#define LOAD_SKIPPED 0xdead
static inline uint64_t load_byte_at(const volatile void *addr, uintptr_t *pc)
{
    uint64_t v = LOAD_SKIPPED;
    uintptr_t at;
    __asm__ volatile("adr %1, 1f\n1:\tldrb %w0, [%2]" : "+r"(v), "=&r"(at) : "r"(addr) : "memory");
    *pc = at;
    return v;
}

/* store_byte_at(addr, value, &pc): one STRB, and its address, as above. */
static inline void store_byte_at(volatile void *addr, unsigned char value, uintptr_t *pc)
{
    uintptr_t at;
    __asm__ volatile("adr %0, 1f\n1:\tstrb %w1, [%2]" : "=&r"(at) : "r"(value), "r"(addr) : "memory");
    *pc = at;
}

/* What the last signal caught by catch_signal()'s handler looked like. */
struct caught {
    volatile int count;     /* deliveries since catch_signal() */
    volatile int signo;     /* si_signo */
    volatile int code;      /* si_code */
    volatile uintptr_t addr; /* si_addr */
    volatile pid_t pid;     /* si_pid */
    volatile uid_t uid;     /* si_uid */
    volatile uintptr_t pc;  /* uc_mcontext.pc as delivered */
    volatile uint64_t fault_address; /* uc_mcontext.fault_address */
    volatile uint64_t pstate; /* uc_mcontext.pstate */
    volatile uint64_t esr;  /* the ESR_MAGIC record's value, 0 if none */
    volatile int skip;      /* the handler advances pc past the instruction */
    volatile int skip_code; /* ... only for this si_code, if not 0 */
};

static inline struct caught *caught(void)
{
    static struct caught c;
    return &c;
}

/* The ESR_EL1 value in uc's esr_context record, or 0 if there is none. */
static inline uint64_t ucontext_esr(const ucontext_t *uc)
{
    const unsigned char *r = uc->uc_mcontext.__reserved;
    const unsigned char *end = r + sizeof(uc->uc_mcontext.__reserved);
    while (r + sizeof(struct _aarch64_ctx) <= end) {
        const struct _aarch64_ctx *h = (const struct _aarch64_ctx *)r;
        if (h->magic == 0 || h->size < sizeof(*h))
            break;
        if (h->magic == ESR_MAGIC)
            return ((const struct esr_context *)r)->esr;
        r += h->size;
    }
    return 0;
}

/* The fpsimd_context record of uc, or NULL if there is none. */
static inline const struct fpsimd_context *ucontext_fpsimd(const ucontext_t *uc)
{
    const unsigned char *r = uc->uc_mcontext.__reserved;
    const unsigned char *end = r + sizeof(uc->uc_mcontext.__reserved);
    while (r + sizeof(struct _aarch64_ctx) <= end) {
        const struct _aarch64_ctx *h = (const struct _aarch64_ctx *)r;
        if (h->magic == 0 || h->size < sizeof(*h))
            break;
        if (h->magic == FPSIMD_MAGIC)
            return (const struct fpsimd_context *)r;
        r += h->size;
    }
    return NULL;
}

/* Records the signal in caught() and, if asked, resumes after the faulting
 * instruction (every A64 instruction is 4 bytes). */
static inline void caught_record(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    struct caught *c = caught();
    c->signo = si->si_signo;
    c->code = si->si_code;
    c->addr = (uintptr_t)si->si_addr;
    c->pid = si->si_pid;
    c->uid = si->si_uid;
    c->pc = uc->uc_mcontext.pc;
    c->fault_address = uc->uc_mcontext.fault_address;
    c->pstate = uc->uc_mcontext.pstate;
    c->esr = ucontext_esr(uc);
    c->count++;
    (void)sig;
    if (c->skip && (c->skip_code == 0 || c->skip_code == si->si_code))
        uc->uc_mcontext.pc += 4;
}

/*
 * catch_signal(sig, flags, skip): an SA_SIGINFO | flags handler for sig that
 * records each delivery in caught() (count reset to 0) and, with skip,
 * resumes after the instruction that raised it.
 */
static inline void catch_signal(int sig, int flags, int skip)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = caught_record;
    sa.sa_flags = SA_SIGINFO | flags;
    sigemptyset(&sa.sa_mask);
    memset((void *)caught(), 0, sizeof(struct caught));
    caught()->skip = skip;
    CHECK(sigaction(sig, &sa, NULL) == 0, "sigaction(%d): errno %d (%s)", sig, errno,
          strerror(errno));
}

/* A one-line description of caught(), for failure messages. */
static inline const char *caught_str(void)
{
    static char buf[200];
    struct caught *c = caught();
    snprintf(buf, sizeof(buf), "%d signal(s); last: signo %d, si_code %d, si_addr %#lx, pc %#lx",
             c->count, c->signo, c->code, (unsigned long)c->addr, (unsigned long)c->pc);
    return buf;
}


/* ------------------------------------------------------------------------
 * Processes and threads (the fork_*, exec_*, wait_* and thread_* tests).
 */
#include <sys/wait.h>
#include <time.h>

/* CLOCK_MONOTONIC in nanoseconds. */
static inline uint64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Nanoseconds a loop of 1,000,000 turns of two single-cycle instructions
 * takes: about 2,000,000 under QEMU's -icount shift=0 (one counter tick,
 * one nanosecond, per instruction), far less on a plain run. */
static inline uint64_t icount_calibration_ns(void)
{
    uint64_t n = 1000000, start = monotonic_ns();
    __asm__ volatile("1: subs %0, %0, #1\n\tb.ne 1b" : "+r"(n) : : "cc");
    return monotonic_ns() - start;
}

/* Whether a calibration says this runs under -icount: the *_cost_the_same_*
 * tests and the soak check instruction counts only then. */
static inline int icount_calibrated(uint64_t calibration_ns)
{
    return calibration_ns > 1980000 && calibration_ns < 2100000;
}

static inline int under_icount(void)
{
    return icount_calibrated(icount_calibration_ns());
}

/* Sleeps `ns` nanoseconds with nanosleep(2), resuming after a handler. */
static inline void sleep_ns(uint64_t ns)
{
    struct timespec ts = { (time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull) };
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
        ;
}

/* A wait status in words: "exited 3", "killed by signal 11 (...)". One of
 * two static buffers, so two may appear in one message. */
static inline const char *wait_status_str(int status)
{
    static char bufs[2][80];
    static int next;
    char *b = bufs[next++ & 1];
    if (WIFEXITED(status))
        snprintf(b, sizeof(bufs[0]), "exited %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(b, sizeof(bufs[0]), "killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(b, sizeof(bufs[0]), "wait status %#x", status);
    return b;
}

/* waitpid(pid, &status, 0), retried after EINTR, which must return pid;
 * returns the status. */
static inline int wait_for(pid_t pid)
{
    int status = 0;
    pid_t r;
    do {
        r = waitpid(pid, &status, 0);
    } while (r == -1 && errno == EINTR);
    CHECK(r == pid, "waitpid(%d) returned %d, errno %d (%s)", (int)pid, (int)r, errno,
          strerror(errno));
    return status;
}

/* fork(), which must succeed. */
static inline pid_t fork_checked(void)
{
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0, "fork: errno %d (%s)", errno, strerror(errno));
    return pid;
}

/* Forks a child that sleeps `ms` milliseconds, sends its parent `sig`,
 * sleeps `then_ms` more and exits with `status`: something to interrupt
 * the parent while it blocks. Returns the child's pid. */
static inline pid_t child_signals_parent(int sig, uint64_t ms, uint64_t then_ms, int status)
{
    pid_t pid = fork_checked();
    if (pid == 0) {
        sleep_ns(ms * 1000000);
        kill(getppid(), sig);
        sleep_ns(then_ms * 1000000);
        _exit(status);
    }
    return pid;
}

/* refpage_create content with tags: a new PROT_MTE page whose granule g
 * has tag tags[g] for g < granules, and whose byte i (written through a
 * pointer with the right tag) is first + i, also kept in data[i]. */
static inline volatile unsigned char *tagged_content(int granules, const unsigned *tags,
                                                     unsigned char first, unsigned char *data)
{
    volatile unsigned char *c = map_anonymous(4096, PROT_READ | PROT_WRITE | PROT_MTE);
    for (int g = 0; g < granules; g++)
        mte_stg(c + g * MTE_GRANULE, tags[g]);
    for (int i = 0; i < granules * MTE_GRANULE; i++)
        data[i] = *(volatile unsigned char *)mte_tagged(c + i, tags[i / MTE_GRANULE]) =
            (unsigned char)(first + i);
    return c;
}

/* After execve, a process's MTE control is Linux's default whatever the
 * old image set (arch/arm64 flush_thread -> mte_thread_init_user): the
 * tagged-address ABI is off, the IRG include mask is reset so IRG gives
 * tag 0, and loads are not tag-checked. CHECKs each of the three. */
static inline void check_mte_control_after_exec(void)
{
    long got = prctl(PR_GET_TAGGED_ADDR_CTRL, 0, 0, 0, 0);
    CHECK(got == 0, "after execve: GET returned %#lx, want 0", got);
    for (int i = 0; i < 64; i++) {
        static char base[16];
        unsigned t = tag_of(mte_irg(base));
        CHECK(t == 0, "after execve: IRG gave tag %#x, want 0 (include mask reset)", t);
    }
    volatile unsigned char *p = map_anonymous(4096, PROT_READ | PROT_WRITE | PROT_MTE);
    mte_stg(p, 0x6);
    catch_signal(SIGSEGV, 0, 1);
    caught()->skip_code = SEGV_MTESERR;
    uintptr_t pc;
    load_byte_at(mte_tagged(p, 0x9), &pc);
    syscall(SYS_getpid);
    CHECK(caught()->count == 0, "after execve: a wrong-tag load was checked: %s", caught_str());
}

/* EXPECT(cond, fmt, ...): like CHECK, but the program goes on; the failure
 * is counted in expect_failures() for the exit status. */
static inline int *expect_failures(void)
{
    static int n;
    return &n;
}
#define EXPECT(cond, ...)                                                       \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fflush(stdout);                                                     \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__,    \
                    #cond);                                                     \
            fprintf(stderr, __VA_ARGS__);                                       \
            fputc('\n', stderr);                                                \
            (*expect_failures())++;                                             \
        }                                                                       \
    } while (0)

/* ------------------------------------------------------------------------
 * Faults in a child (the isolation_* tests): run a function that must
 * fault in a forked child, and read back the siginfo it got.
 */


/* The status a child exits with once its handler has written the report. */
#define CHILD_FAULT_REPORTED 77

/* Where the child's handler copies its caught() record: a MAP_SHARED
 * page, so the parent reads it. */
static inline struct caught *child_fault_page(void)
{
    static struct caught *page;
    if (!page)
        page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(page != MAP_FAILED, "mmap MAP_SHARED: errno %d (%s)", errno, strerror(errno));
    return page;
}

static inline void child_fault_handler(int sig, siginfo_t *si, void *ucv)
{
    caught_record(sig, si, ucv);
    *child_fault_page() = *caught();
    _exit(CHILD_FAULT_REPORTED);
}

/*
 * fault_in_child(fn, arg, flags): runs fn(arg) in a forked child whose
 * SIGSEGV, SIGBUS and SIGILL handler (SA_SIGINFO | SA_ONSTACK | flags, on
 * an alternate stack, so that a stack overflow can be reported too)
 * records the siginfo (caught_record) and exits CHILD_FAULT_REPORTED. CHECKs that the child
 * ended that way (fn returning is a failure) and returns the record.
 */
static inline struct caught fault_in_child(void (*fn)(void *), void *arg, int flags)
{
    struct caught *r = child_fault_page();
    memset(r, 0, sizeof(*r));
    pid_t pid = fork_checked();
    if (pid == 0) {
        static char altstack[64 * 1024];
        stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack), .ss_flags = 0 };
        CHECK(sigaltstack(&ss, NULL) == 0, "sigaltstack: errno %d (%s)", errno, strerror(errno));
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_sigaction = child_fault_handler;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK | flags;
        sigemptyset(&sa.sa_mask);
        int sigs[] = { SIGSEGV, SIGBUS, SIGILL };
        for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
            CHECK(sigaction(sigs[i], &sa, NULL) == 0, "sigaction: errno %d (%s)", errno, strerror(errno));
        fn(arg);
        _exit(0);
    }
    int status = wait_for(pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == CHILD_FAULT_REPORTED,
          "the child %s, want a fault reported by its handler (exit %d)", wait_status_str(status),
          CHILD_FAULT_REPORTED);
    return *r;
}

/* CHECK_CHILD_FAULT(r, sig, code, addr, what): r is sig with si_code code at
 * si_addr addr, or prints what was seen. */
#define CHECK_CHILD_FAULT(r, sig, code_, addr_, what)                           \
    CHECK((r).signo == (sig) && (r).code == (code_) && (r).addr == (uintptr_t)(addr_), \
          "%s: want signo %d si_code %d si_addr %#lx; saw signo %d si_code %d si_addr %#lx, " \
          "pc %#lx", (what), (sig), (code_), (unsigned long)(addr_), (r).signo, (r).code, \
          (unsigned long)(r).addr, (unsigned long)(r).pc)

/* ------------------------------------------------------------------------
 * Memory pressure, frame by frame (fork_near_memory_exhaustion_fails_cleanly
 * and syscall_fuzz's fork phase). Only on this kernel, whose sysinfo gives
 * free RAM exactly: elsewhere these would eat the machine's memory.
 */
#include <fcntl.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>

/* 1 on this kernel (uname's version says so). */
static inline int is_refpage_kernel(void)
{
    struct utsname u;
    return uname(&u) == 0 && strstr(u.version, "refpage kernel") != NULL;
}

/* Free RAM in 4 KiB frames, as sysinfo reports it. */
static inline long free_frames(void)
{
    struct sysinfo si;
    CHECK(sysinfo(&si) == 0, "sysinfo: errno %d (%s)", errno, strerror(errno));
    return (long)(si.freeram * si.mem_unit / 4096);
}

/* Gives the process about half of the free memory as level-3 page tables,
 * which fork's copy of the page tables must duplicate: reads one page every
 * 2 MiB of a MAP_NORESERVE mapping (each read maps the zero page, with a
 * new table). Returns the number of tables made: a level-3 table for each
 * page read, and the level-2 and level-1 tables above them. *len gets the
 * mapping's length. */
static inline unsigned long spread_page_tables(unsigned char **map, size_t *len)
{
    unsigned long pages = (unsigned long)(free_frames() - 1024) / 2;
    *len = pages << 21;
    volatile unsigned char *s = mmap(NULL, *len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    CHECK(s != MAP_FAILED, "mmap %zu bytes: errno %d (%s)", *len, errno, strerror(errno));
    for (unsigned long i = 0; i < pages; i++)
        (void)s[i << 21];
    *map = (unsigned char *)s;
    return pages + (pages + 511) / 512 + 1;
}

/* Memory eaten by /dev/shm files, which fork does not copy: one large
 * file, and one-page files given back one at a time (one frame each). */
#define EATER_PAGES 256
struct eater {
    int big;
    int page_fd[EATER_PAGES];
    int pages;
};

/* Eats memory until `free_frames() == target`, then `extra` frames more
 * held in one-page files. The large file is filled through a shared
 * mapping, unmapped again (faults are far cheaper than write()'s copy).
 * memfd files: /dev/shm holds at most half of RAM (tmpfs's default size),
 * memfd's internal mount has no limit, on Linux as here. */
static inline void eat_down_to(struct eater *e, long target, int extra)
{
    static char page[4096] = { 1 };
    e->big = (int)syscall(SYS_memfd_create, "eater-big", 0);
    CHECK(e->big >= 0, "memfd_create: errno %d (%s)", errno, strerror(errno));
    e->pages = 0;
    off_t size = 0;
    long f;
    while ((f = free_frames()) > target + extra + 64) {
        /* Half of what is left at a time: the mapping's own tables come
         * and go as well. */
        size_t n = (size_t)(f - target - extra) / 2 * 4096;
        CHECK(ftruncate(e->big, size + (off_t)n) == 0, "ftruncate: errno %d (%s)", errno, strerror(errno));
        volatile char *m = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED, e->big, size);
        CHECK(m != MAP_FAILED, "mmap memfd: errno %d (%s)", errno, strerror(errno));
        for (size_t i = 0; i < n; i += 4096)
            m[i] = 1;
        munmap((void *)m, n);
        size += (off_t)n;
    }
    while (free_frames() > target + extra) {
        CHECK(pwrite(e->big, page, 4096, size) == 4096, "eating a page: errno %d (%s)", errno, strerror(errno));
        size += 4096;
    }
    for (int i = 0; i < extra && e->pages < EATER_PAGES; i++) {
        int fd = (int)syscall(SYS_memfd_create, "eater-page", 0);
        CHECK(fd >= 0, "memfd_create: errno %d (%s)", errno, strerror(errno));
        CHECK(write(fd, page, 4096) == 4096, "write a page: errno %d (%s)", errno, strerror(errno));
        e->page_fd[e->pages++] = fd;
    }
}

/* Gives one frame back; 0 when none is left to give. */
static inline int eater_give_one(struct eater *e)
{
    if (e->pages == 0)
        return 0;
    close(e->page_fd[--e->pages]);
    return 1;
}

/* Gives everything back. */
static inline void eater_release(struct eater *e)
{
    while (eater_give_one(e))
        ;
    close(e->big);
}

/* ------------------------------------------------------------------------
 * Pipes and blocking calls (the pipe_* and poll_* tests).
 */
#include <sys/ioctl.h>

/* The bytes the pipe `fd` holds (FIONREAD), which must be answered. */
static inline int pipe_held(int fd)
{
    int n = -1;
    CHECK(ioctl(fd, FIONREAD, &n) == 0, "FIONREAD on %d: errno %d (%s)", fd, errno, strerror(errno));
    return n;
}

/* Deliveries of the signal count_signal() set up. */
static inline volatile int *signals_counted(void)
{
    static volatile int n;
    return &n;
}

static inline void count_delivery(int sig)
{
    (void)sig;
    (*signals_counted())++;
}

/* A handler for sig that counts deliveries in signals_counted(), without
 * SA_RESTART: a blocking call it interrupts fails with EINTR. */
static inline void count_signal(int sig)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = count_delivery;
    CHECK(sigaction(sig, &sa, NULL) == 0, "sigaction(%d): errno %d (%s)", sig, errno, strerror(errno));
}

#endif /* REFPAGE_TEST_H */
