/*
 * ptrace_regsets: PTRACE_GETREGSET / SETREGSET as Linux's ptrace_regset and
 * arm64's regsets:
 * - iov_len must be a multiple of the set's element size (EINVAL), a short
 *   one gets that many bytes and a long one is cut to the set's size, and
 *   iov_len is written back; unknown note types are EINVAL; a bad iovec or
 *   buffer EFAULT;
 * - NT_PRSTATUS (struct user_pt_regs) round-trips; a PSTATE that is not
 *   EL0 AArch64 with D, A, I, F clear is EINVAL (valid_user_regs), RES0
 *   bits are dropped;
 * - NT_FPREGSET (struct user_fpsimd_state) round-trips;
 * - NT_ARM_SYSTEM_CALL in a signal-delivery-stop is -1 (Linux's do_signal
 *   forgets the system call before the stop), and can be set;
 * - NT_ARM_TAGGED_ADDR_CTRL reads and sets what prctl does (EINVAL for an
 *   invalid value), and the tracee's own PR_GET_TAGGED_ADDR_CTRL agrees.
 */
#include <string.h>
#include <sys/syscall.h>

#include "refpage_test.h"
#include "ptrace_test.h"

static unsigned long want_ctrl;

static int tracee(void)
{
    long got = prctl(PR_GET_TAGGED_ADDR_CTRL, 0, 0, 0, 0);
    return got == (long)want_ctrl ? 0 : 10;
}

static long regset(long req, pid_t pid, long note, void *buf, size_t len, size_t *out_len)
{
    struct iovec iov = { buf, len };
    long r = ptrace(req, pid, note, &iov);
    *out_len = iov.iov_len;
    return r;
}

int main(void)
{
    want_ctrl = PR_TAGGED_ADDR_ENABLE;
    if (mte_supported())
        want_ctrl |= PR_MTE_TCF_SYNC | (0x1234UL << PR_MTE_TAG_SHIFT);
    pid_t pid = start_tracee(tracee);
    size_t len;
    unsigned char buf[1024];

    struct user_pt_regs regs = get_regs(pid);
    CHECK(regset(PTRACE_GETREGSET, pid, NT_PRSTATUS, buf, 16, &len) == 0 && len == 16,
          "short NT_PRSTATUS: errno %d, iov_len %zu", errno, len);
    CHECK(memcmp(buf, &regs, 16) == 0, "short NT_PRSTATUS is not the first 16 bytes");
    CHECK(regset(PTRACE_GETREGSET, pid, NT_PRSTATUS, buf, sizeof(buf), &len) == 0 && len == sizeof(regs),
          "long NT_PRSTATUS: errno %d, iov_len %zu, expected %zu", errno, len, sizeof(regs));
    errno = 0;
    CHECK(regset(PTRACE_GETREGSET, pid, NT_PRSTATUS, buf, 12, &len) == -1 && errno == EINVAL && len == 12,
          "iov_len 12: errno %d, iov_len %zu", errno, len);
    CHECK_ERRNO(regset(PTRACE_GETREGSET, pid, 0x12345, buf, 8, &len), EINVAL);
    CHECK_ERRNO(ptrace(PTRACE_GETREGSET, pid, NT_PRSTATUS, (void *)8), EFAULT);
    CHECK_ERRNO(regset(PTRACE_GETREGSET, pid, NT_PRSTATUS, (void *)8, 16, &len), EFAULT);
    CHECK((regs.pstate & 0xf) == 0, "pstate %#llx is not EL0t", regs.pstate);
    printf("ptrace_regsets: iov_len rules: short 16, long cut to %zu, 12 EINVAL; unknown note EINVAL; EFAULT\n",
           sizeof(regs));

    struct user_pt_regs bad = regs;
    bad.pstate = (regs.pstate & ~0xfULL) | 0x5; /* EL1h */
    CHECK_ERRNO(regset(PTRACE_SETREGSET, pid, NT_PRSTATUS, &bad, sizeof(bad), &len), EINVAL);
    bad.pstate = regs.pstate | 0x80; /* PSTATE.I */
    CHECK_ERRNO(regset(PTRACE_SETREGSET, pid, NT_PRSTATUS, &bad, sizeof(bad), &len), EINVAL);
    struct user_pt_regs set = regs;
    set.regs[19] = 0x1919191919191919ULL;
    set.pstate = regs.pstate | (1ULL << 22) | (1ULL << 40); /* PAN and a high bit: RES0 */
    CHECK(regset(PTRACE_SETREGSET, pid, NT_PRSTATUS, &set, sizeof(set), &len) == 0 && len == sizeof(set),
          "SETREGSET NT_PRSTATUS: errno %d", errno);
    struct user_pt_regs back = get_regs(pid);
    CHECK(back.regs[19] == set.regs[19], "x19 reads back %#llx", back.regs[19]);
    CHECK(back.pstate == regs.pstate, "pstate reads back %#llx, expected the RES0 bits dropped: %#llx",
          back.pstate, regs.pstate);
    back.regs[19] = regs.regs[19];
    CHECK(regset(PTRACE_SETREGSET, pid, NT_PRSTATUS, &back, sizeof(back), &len) == 0, "restore: errno %d", errno);
    printf("ptrace_regsets: NT_PRSTATUS: EL1h and PSTATE.I EINVAL, RES0 bits dropped, x19 round-trips\n");

    struct user_fpsimd_state fp;
    CHECK(regset(PTRACE_GETREGSET, pid, NT_PRFPREG, &fp, sizeof(fp), &len) == 0 && len == sizeof(fp),
          "NT_PRFPREG: errno %d, iov_len %zu", errno, len);
    struct user_fpsimd_state fp2 = fp;
    fp2.vregs[31] = ((__uint128_t)0x0123456789abcdefULL << 64) | 0xfedcba9876543210ULL;
    fp2.fpsr = 0x8000000f & 0xf800009f;
    CHECK(regset(PTRACE_SETREGSET, pid, NT_PRFPREG, &fp2, sizeof(fp2), &len) == 0, "SET NT_PRFPREG: errno %d",
          errno);
    struct user_fpsimd_state fp3;
    CHECK(regset(PTRACE_GETREGSET, pid, NT_PRFPREG, &fp3, sizeof(fp3), &len) == 0, "NT_PRFPREG: errno %d",
          errno);
    CHECK(fp3.vregs[31] == fp2.vregs[31] && fp3.fpsr == fp2.fpsr, "v31/fpsr did not round-trip");
    CHECK(regset(PTRACE_SETREGSET, pid, NT_PRFPREG, &fp, sizeof(fp), &len) == 0, "restore FP: errno %d", errno);
    CHECK_ERRNO(regset(PTRACE_GETREGSET, pid, NT_PRFPREG, &fp3, 6, &len), EINVAL);

    int scno = -2;
    CHECK(regset(PTRACE_GETREGSET, pid, NT_ARM_SYSTEM_CALL, &scno, sizeof(scno), &len) == 0 && len == 4,
          "NT_ARM_SYSTEM_CALL: errno %d", errno);
    CHECK(scno == -1, "stopped in raise(): system call %d, expected -1 (NO_SYSCALL)", scno);
    scno = SYS_getpid;
    CHECK(regset(PTRACE_SETREGSET, pid, NT_ARM_SYSTEM_CALL, &scno, sizeof(scno), &len) == 0,
          "SET NT_ARM_SYSTEM_CALL: errno %d", errno);
    scno = -2;
    CHECK(regset(PTRACE_GETREGSET, pid, NT_ARM_SYSTEM_CALL, &scno, sizeof(scno), &len) == 0 && scno == SYS_getpid,
          "NT_ARM_SYSTEM_CALL after SET: errno %d, %d", errno, scno);
    printf("ptrace_regsets: NT_PRFPREG round-trips; NT_ARM_SYSTEM_CALL -1 in a signal stop, settable\n");

    unsigned long ctrl = 99;
    CHECK(regset(PTRACE_GETREGSET, pid, NT_ARM_TAGGED_ADDR_CTRL, &ctrl, 8, &len) == 0 && len == 8 && ctrl == 0,
          "NT_ARM_TAGGED_ADDR_CTRL: errno %d, value %#lx", errno, ctrl);
    ctrl = 1UL << 63;
    CHECK_ERRNO(regset(PTRACE_SETREGSET, pid, NT_ARM_TAGGED_ADDR_CTRL, &ctrl, 8, &len), EINVAL);
    ctrl = want_ctrl;
    CHECK(regset(PTRACE_SETREGSET, pid, NT_ARM_TAGGED_ADDR_CTRL, &ctrl, 8, &len) == 0,
          "SET NT_ARM_TAGGED_ADDR_CTRL %#lx: errno %d", ctrl, errno);
    CHECK(ptrace(PTRACE_CONT, pid, 0, 0) == 0, "CONT: errno %d", errno);
    int status = wait_end(pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "the tracee's PR_GET_TAGGED_ADDR_CTRL disagreed (status %#x)", status);
    printf("ptrace_regsets: NT_ARM_TAGGED_ADDR_CTRL %#lx set by the tracer is what the tracee's prctl reads\n",
           want_ctrl);
    return 0;
}
