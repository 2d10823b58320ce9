/*
 * ptrace_fuzz_stopped_tracee: random ptrace requests at a stopped tracee,
 * from pools of awkward arguments (every request number this kernel knows
 * and some it does not; note types; addresses unmapped, kernel-half,
 * tagged, misaligned, at the end of a mapping, of PROT_MTE and plain
 * memory; the register sets this kernel has and unknown ones; iovecs with huge, odd and zero lengths, bad bases, bad iovec
 * pointers). Every call must return 0 or -1 with an errno Linux gives for
 * ptrace (EIO, EFAULT, EINVAL, ESRCH, EPERM; E2BIG from SETSIGINFO of a
 * siginfo with an unknown layout and bytes past the 48 Linux keeps), and the kernel must not hang,
 * panic or leak (the runner checks). Requests that let the tracee run
 * (CONT, SYSCALL, SINGLESTEP, DETACH, KILL) are left out; the tracee, whose memory
 * and registers are now random, is killed at the end.
 *
 *   ptrace_fuzz_stopped_tracee [SEED [CALLS [v]]]   (default seed 1, 3000 calls)
 *
 * With "v", each call's request, result and errno is printed: the same run
 * on Linux (scripts/bench-linux.sh) gives a list to diff against.
 */
#include <string.h>
#include <sys/syscall.h>

#include "refpage_test.h"
#include "ptrace_test.h"

#define PAGE 4096

static uint64_t state;
static uint64_t rnd(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

static int sleeper(void)
{
    for (;;)
        pause();
    return 0;
}

int main(int argc, char **argv)
{
    state = argc > 1 ? strtoull(argv[1], NULL, 0) * 0x9e3779b97f4a7c15ULL + 1 : 0x1234567;
    long calls = argc > 2 ? strtol(argv[2], NULL, 0) : 3000;
    int verbose = argc > 3 && argv[3][0] == 'v';
    unsigned char *mte = MAP_FAILED;
    if (mte_supported())
        mte = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE | PROT_MTE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    unsigned char *buf = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(buf != MAP_FAILED && munmap(buf + 2 * PAGE, PAGE) == 0, "mmap: errno %d", errno);
    unsigned char *ro = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(ro != MAP_FAILED, "mmap: errno %d", errno);
    pid_t pid = start_tracee(sleeper);

    const unsigned long requests[] = { 1,  2,  3,  4,  5,  6,  12, 13, 14, 15, 33, 34,     0x4200, 0x4201,
                                       0x4202, 0x4203, 0x4204, 0x4205, 0x4207, 0x4208, 0x4209, 0x420a, 0x7777,
                                       ~0UL };
    /* The sets this kernel has, and numbers no Linux set has (the sets
     * only Linux has, such as hardware breakpoints, answer differently). */
    const unsigned long notes[] = { 1, 2, 0x401, 0x404, 0x409, 0x4ff, 0x12345, 0, ~0UL };
    unsigned long addrs[] = {
        0,
        8,
        (unsigned long)buf,
        (unsigned long)buf + 3,
        (unsigned long)buf + 2 * PAGE - 5,
        (unsigned long)buf + 2 * PAGE,
        (unsigned long)ro,
        (unsigned long)main,
        0xffff000000001000UL,
        0x00ffffffffffff00UL,
        (unsigned long)buf | (0x7UL << 56),
        (unsigned long)(mte == MAP_FAILED ? buf : mte),
        (unsigned long)(mte == MAP_FAILED ? buf : mte) + 4 * PAGE - 17,
        (1UL << 48) - 8,
        ~0UL,
    };
    const unsigned long lens[] = { 0, 1, 7, 8, 12, 16, 272, 528, 4096, 5000, 1UL << 20, 1UL << 40, ~0UL };
    struct iovec *iov = (struct iovec *)(buf + PAGE - sizeof(struct iovec));
    long ok = 0, failed = 0;
    for (long i = 0; i < calls; i++) {
        unsigned long req = requests[rnd() % (sizeof(requests) / sizeof(requests[0]))];
        unsigned ai = rnd() % (sizeof(addrs) / sizeof(addrs[0]));
        unsigned di = rnd() % (sizeof(addrs) / sizeof(addrs[0]));
        unsigned long addr = addrs[ai], data = addrs[di];
        if (req == 0x4204 || req == 0x4205)
            addr = notes[rnd() % (sizeof(notes) / sizeof(notes[0]))];
        unsigned bi = 99, li = 99;
        if (rnd() % 2) {
            /* data is an iovec over part of the buffer, or a bad one */
            bi = rnd() % (sizeof(addrs) / sizeof(addrs[0]));
            li = rnd() % (sizeof(lens) / sizeof(lens[0]));
            iov->iov_base = (void *)addrs[bi];
            iov->iov_len = lens[li];
            data = (unsigned long)iov;
        }
        if (req == 4 || req == 5 || req == 0x4200 || req == 6)
            data = rnd();
        for (int j = 0; j < 64; j++)
            ((uint64_t *)buf)[j] = rnd();
        errno = 0;
        long r = ptrace_raw((long)req, pid, addr, data);
        int e = errno;
        CHECK(r == 0 ||
                  (r == -1 && (e == EIO || e == EFAULT || e == EINVAL || e == ESRCH || e == EPERM || e == E2BIG)),
              "call %ld: ptrace(%#lx, pid, %#lx, %#lx) returned %ld, errno %d", i, req, addr, data, r, e);
        if (verbose)
            printf("%ld req %#lx addr %u data %u iov %u %u: %ld %d\n", i, req, ai, di, bi, li, r, r ? e : 0);
        if (r == 0)
            ok++;
        else
            failed++;
    }
    printf("ptrace_fuzz: %ld calls: %ld succeeded, %ld failed with a ptrace errno\n", calls, ok, failed);
    CHECK(kill(pid, SIGKILL) == 0, "kill: errno %d", errno);
    int status = wait_end(pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "the tracee ended with status %#x", status);
    return 0;
}
