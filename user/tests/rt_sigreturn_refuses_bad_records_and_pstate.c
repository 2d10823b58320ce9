/*
 * rt_sigreturn_refuses_bad_records_and_pstate: rt_sigreturn checks the
 * frame as Linux's arm64 rt_sigreturn does (parse_user_sigframe,
 * restore_sigframe, valid_user_regs) and answers a bad one with SIGSEGV,
 * SEGV_ACCERR at the stack (arm64_notify_segfault). Each case runs in a
 * child whose SIGUSR1 handler mangles its own frame and returns: an
 * unknown record magic, a second fpsimd_context, no fpsimd_context, a
 * record overrunning __reserved, a non-zero size on the terminator, an
 * fpsimd_context of the wrong size, a misaligned sp, and a PSTATE asking
 * for EL1h, AArch32 or masked interrupts. RES0 PSTATE bits (IL) are
 * cleared, not refused; an esr_context the handler adds is ignored, and an
 * extra_context is followed to its data if that starts right after its
 * terminator (refused if it does not).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "refpage_test.h"

enum mangle {
    NOTHING,
    UNKNOWN_MAGIC,
    DUPLICATED_FPSIMD,
    MISSING_FPSIMD,
    SIZE_OVERRUNS,
    TERMINATOR_SIZE,
    FPSIMD_TOO_BIG,
    MODE_EL1H,
    MODE_AARCH32,
    DAIF_MASKED,
    IL_BIT_RES0,
    EXTRA_ESR,
    EXTRA_CONTEXT,
    EXTRA_CONTEXT_BAD_DATAP,
    MISALIGNED_SP,
};

static const char *const names[] = {
    "nothing", "unknown magic", "duplicated fpsimd_context", "missing fpsimd_context",
    "a size overrunning __reserved", "a terminator with a size", "an fpsimd_context too big",
    "PSTATE EL1h", "PSTATE AArch32", "PSTATE DAIF set", "PSTATE IL (RES0) set",
    "an extra esr_context", "an extra_context", "an extra_context with datap elsewhere", "sp misaligned by 8",
};

static enum mangle what;

static void usr1(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    unsigned char *r = uc->uc_mcontext.__reserved;
    struct _aarch64_ctx *fp = (struct _aarch64_ctx *)r;
    struct _aarch64_ctx *next = (struct _aarch64_ctx *)(r + fp->size);
    (void)sig, (void)si;
    if (fp->magic != FPSIMD_MAGIC || fp->size != sizeof(struct fpsimd_context))
        _exit(90);
    switch (what) {
    case NOTHING:
        break;
    case UNKNOWN_MAGIC:
        fp->magic = 0x12345678;
        break;
    case DUPLICATED_FPSIMD:
        memcpy(next, fp, fp->size);
        memset((unsigned char *)next + fp->size, 0, 16);
        break;
    case MISSING_FPSIMD:
        fp->magic = ESR_MAGIC; /* ignored whatever its size: no fpsimd left */
        break;
    case SIZE_OVERRUNS:
        next->magic = ESR_MAGIC;
        next->size = sizeof(uc->uc_mcontext.__reserved);
        break;
    case TERMINATOR_SIZE:
        next->magic = 0;
        next->size = 16;
        break;
    case FPSIMD_TOO_BIG:
        fp->size += 16;
        memset((unsigned char *)fp + fp->size, 0, 16);
        break;
    case MODE_EL1H:
        uc->uc_mcontext.pstate = (uc->uc_mcontext.pstate & ~0xfUL) | 0x5;
        break;
    case MODE_AARCH32:
        uc->uc_mcontext.pstate |= 0x10;
        break;
    case DAIF_MASKED:
        uc->uc_mcontext.pstate |= 0x3c0;
        break;
    case IL_BIT_RES0:
        uc->uc_mcontext.pstate |= 1UL << 20;
        break;
    case EXTRA_ESR: {
        struct esr_context *e = (struct esr_context *)next;
        e->head.magic = ESR_MAGIC;
        e->head.size = sizeof(*e);
        e->esr = 0x1234;
        memset(e + 1, 0, 16);
        break;
    }
    case EXTRA_CONTEXT:
    case EXTRA_CONTEXT_BAD_DATAP: {
        /* extra_context, its terminator, then its data right after: one
         * esr_context and the end. */
        struct extra_context *x = (struct extra_context *)next;
        unsigned char *data = (unsigned char *)(x + 1) + 16;
        x->head.magic = EXTRA_MAGIC;
        x->head.size = sizeof(*x);
        x->datap = (uint64_t)(uintptr_t)data + (what == EXTRA_CONTEXT_BAD_DATAP ? 16 : 0);
        x->size = 32;
        memset(x + 1, 0, 16);
        struct esr_context *e = (struct esr_context *)data;
        e->head.magic = ESR_MAGIC;
        e->head.size = sizeof(*e);
        memset(e + 1, 0, 16);
        break;
    }
    case MISALIGNED_SP:
        break;
    }
}

static void segv(int sig, siginfo_t *si, void *ucv)
{
    (void)sig, (void)ucv;
    /* 0: SIGSEGV with SEGV_ACCERR; 50 + si_code otherwise. */
    _exit(si->si_code == SEGV_ACCERR ? 0 : 50 + si->si_code);
}

/* The child: returns here (exit 10) only if rt_sigreturn accepted the frame. */
static void child(enum mangle m)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_flags = SA_SIGINFO;
    sa.sa_sigaction = usr1;
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_sigaction = segv;
    sigaction(SIGSEGV, &sa, NULL);
    what = m;
    if (m == MISALIGNED_SP) {
        /* rt_sigreturn straight from here with sp 8 bytes off. */
        __asm__ volatile("mov x9, sp\n\tsub x9, x9, #8\n\tmov sp, x9\n\tmov x8, #139\n\tsvc #0" ::: "x8", "x9",
                         "memory");
        _exit(10);
    }
    raise(SIGUSR1);
    /* Still running: accepted (an IL bit left set would have raised SIGILL). */
    _exit(10);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (enum mangle m = NOTHING; m <= MISALIGNED_SP; m++) {
        pid_t pid = fork();
        CHECK(pid >= 0, "fork: errno %d", errno);
        if (pid == 0)
            child(m);
        int status;
        CHECK(waitpid(pid, &status, 0) == pid, "waitpid: errno %d", errno);
        int accepted = WIFEXITED(status) && WEXITSTATUS(status) == 10;
        int refused = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        int want_accepted = m == NOTHING || m == IL_BIT_RES0 || m == EXTRA_ESR || m == EXTRA_CONTEXT;
        if (want_accepted) {
            CHECK(accepted, "a frame with %s: want it accepted; saw status %#x (exit 0: SIGSEGV ACCERR, "
                  "5x: SIGSEGV with si_code x)", names[m], status);
            printf("rt_sigreturn_refuses_bad_records_and_pstate: %s: accepted\n", names[m]);
        } else {
            CHECK(refused, "a frame with %s: want SIGSEGV with SEGV_ACCERR (exit 0); saw status %#x (exit 10: "
                  "accepted, 5x: si_code x)", names[m], status);
            printf("rt_sigreturn_refuses_bad_records_and_pstate: %s: SIGSEGV, SEGV_ACCERR\n", names[m]);
        }
    }
    return 0;
}
