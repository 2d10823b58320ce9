/*
 * signal_fpsimd_preserved: the FP/SIMD state of interrupted code (V0-V31,
 * FPCR, FPSR) survives a signal handler that uses FP heavily and
 * overwrites every vector register and FPCR: the kernel saves it in the
 * frame's fpsimd_context (where the handler sees the interrupted values)
 * and rt_sigreturn restores it. The signal is sent with a kill system call
 * made in the same asm block that set and then reads the registers, so no
 * compiled code can touch them in between.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "refpage_test.h"

/* FPCR: round towards zero (RMode = 0b11), flush-to-zero, default NaN. */
#define FPCR_SET ((3UL << 22) | (1UL << 24) | (1UL << 25))
/* FPSR: the cumulative IOC and IXC flags, and QC. */
#define FPSR_SET ((1UL << 0) | (1UL << 4) | (1UL << 27))

static unsigned char before[32][16] __attribute__((aligned(16)));
static unsigned char after[32][16] __attribute__((aligned(16)));
static volatile int calls, frame_ok = -1, frame_reg = -1;
static volatile uint64_t frame_fpcr, frame_fpsr;
static volatile double result;

static void handler(int sig, siginfo_t *si, void *ucv)
{
    const struct fpsimd_context *fp = ucontext_fpsimd(ucv);
    (void)sig;
    (void)si;
    calls++;
    if (fp) {
        frame_ok = 1;
        frame_fpcr = fp->fpcr;
        frame_fpsr = fp->fpsr;
        for (int i = 0; i < 32; i++) {
            if (memcmp((const void *)&fp->vregs[i], before[i], 16) != 0) {
                frame_ok = 0;
                frame_reg = i;
                break;
            }
        }
    }
    /* Heavy FP: round-upwards (FPCR.RMode = 0b01), a series, and a
     * vectorisable loop. */
    __asm__ volatile("msr fpcr, %0" : : "r"(1UL << 22));
    double acc = 0, v[64];
    for (int i = 1; i < 2000; i++)
        acc += (double)i / (1.0 + i * 0.5) - acc / (3.0 + i);
    for (int i = 0; i < 64; i++)
        v[i] = acc * i;
    for (int i = 0; i < 64; i++)
        acc += v[i] * 1e-3;
    result = acc;
    /* And every register, explicitly. */
    __asm__ volatile(
        "movi v0.16b, #0xff\n\tmovi v1.16b, #0xff\n\tmovi v2.16b, #0xff\n\tmovi v3.16b, #0xff\n\t"
        "movi v4.16b, #0xff\n\tmovi v5.16b, #0xff\n\tmovi v6.16b, #0xff\n\tmovi v7.16b, #0xff\n\t"
        "movi v8.16b, #0xff\n\tmovi v9.16b, #0xff\n\tmovi v10.16b, #0xff\n\tmovi v11.16b, #0xff\n\t"
        "movi v12.16b, #0xff\n\tmovi v13.16b, #0xff\n\tmovi v14.16b, #0xff\n\tmovi v15.16b, #0xff\n\t"
        "movi v16.16b, #0xff\n\tmovi v17.16b, #0xff\n\tmovi v18.16b, #0xff\n\tmovi v19.16b, #0xff\n\t"
        "movi v20.16b, #0xff\n\tmovi v21.16b, #0xff\n\tmovi v22.16b, #0xff\n\tmovi v23.16b, #0xff\n\t"
        "movi v24.16b, #0xff\n\tmovi v25.16b, #0xff\n\tmovi v26.16b, #0xff\n\tmovi v27.16b, #0xff\n\t"
        "movi v28.16b, #0xff\n\tmovi v29.16b, #0xff\n\tmovi v30.16b, #0xff\n\tmovi v31.16b, #0xff\n\t"
        "msr fpsr, xzr\n\t"
        ::: "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11", "v12", "v13",
        "v14", "v15", "v16", "v17", "v18", "v19", "v20", "v21", "v22", "v23", "v24", "v25", "v26",
        "v27", "v28", "v29", "v30", "v31");
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int i = 0; i < 32; i++)
        for (int b = 0; b < 16; b++)
            before[i][b] = (unsigned char)(i * 16 + b + 1);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction: errno %d", errno);

    long pid = syscall(SYS_getpid);
    uint64_t fpcr_saved, fpcr_after, fpsr_after;
    __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr_saved));
    /* x0/x1/x8: the kill(pid, SIGUSR1) call; x9/x10: pointers; x11: FPCR/FPSR. */
    __asm__ volatile(
        "mov x9, %[in]\n\t"
        "ld1 {v0.16b-v3.16b}, [x9], #64\n\tld1 {v4.16b-v7.16b}, [x9], #64\n\t"
        "ld1 {v8.16b-v11.16b}, [x9], #64\n\tld1 {v12.16b-v15.16b}, [x9], #64\n\t"
        "ld1 {v16.16b-v19.16b}, [x9], #64\n\tld1 {v20.16b-v23.16b}, [x9], #64\n\t"
        "ld1 {v24.16b-v27.16b}, [x9], #64\n\tld1 {v28.16b-v31.16b}, [x9], #64\n\t"
        "mov x11, %[fpcr]\n\tmsr fpcr, x11\n\t"
        "mov x11, %[fpsr]\n\tmsr fpsr, x11\n\t"
        "mov x0, %[pid]\n\tmov x1, %[sig]\n\tmov x8, %[nr]\n\tsvc #0\n\t"
        "mrs x11, fpcr\n\tstr x11, [%[fpcr_out]]\n\t"
        "mrs x11, fpsr\n\tstr x11, [%[fpsr_out]]\n\t"
        "mov x10, %[out]\n\t"
        "st1 {v0.16b-v3.16b}, [x10], #64\n\tst1 {v4.16b-v7.16b}, [x10], #64\n\t"
        "st1 {v8.16b-v11.16b}, [x10], #64\n\tst1 {v12.16b-v15.16b}, [x10], #64\n\t"
        "st1 {v16.16b-v19.16b}, [x10], #64\n\tst1 {v20.16b-v23.16b}, [x10], #64\n\t"
        "st1 {v24.16b-v27.16b}, [x10], #64\n\tst1 {v28.16b-v31.16b}, [x10], #64\n\t"
        :
        : [in] "r"(before), [out] "r"(after), [pid] "r"(pid), [sig] "r"((long)SIGUSR1),
          [nr] "r"((long)SYS_kill), [fpcr] "r"(FPCR_SET | (fpcr_saved & ~FPCR_SET)),
          [fpsr] "r"(FPSR_SET), [fpcr_out] "r"(&fpcr_after), [fpsr_out] "r"(&fpsr_after)
        : "x0", "x1", "x8", "x9", "x10", "x11", "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7",
          "v8", "v9", "v10", "v11", "v12", "v13", "v14", "v15", "v16", "v17", "v18", "v19", "v20",
          "v21", "v22", "v23", "v24", "v25", "v26", "v27", "v28", "v29", "v30", "v31", "memory");
    __asm__ volatile("msr fpcr, %0" : : "r"(fpcr_saved));

    CHECK(calls == 1, "the handler ran %d times", calls);
    CHECK(frame_ok == 1, "the frame's fpsimd_context %s",
          frame_ok < 0 ? "is missing" : "differs from the interrupted registers");
    if (frame_ok == 0)
        CHECK(0, "frame V%d differs", frame_reg);
    CHECK((frame_fpcr & FPCR_SET) == FPCR_SET && (frame_fpsr & FPSR_SET) == FPSR_SET,
          "the frame's FPCR %#lx / FPSR %#lx lack the interrupted bits %#lx / %#lx",
          (unsigned long)frame_fpcr, (unsigned long)frame_fpsr, FPCR_SET, FPSR_SET);
    printf("signal_fpsimd_preserved: the handler's frame holds the interrupted V0-V31, FPCR, "
           "FPSR\n");
    for (int i = 0; i < 32; i++) {
        CHECK(memcmp(before[i], after[i], 16) == 0,
              "V%d after the handler: bytes %02x %02x .. %02x, want %02x %02x .. %02x", i,
              after[i][0], after[i][1], after[i][15], before[i][0], before[i][1], before[i][15]);
    }
    CHECK((fpcr_after & FPCR_SET) == FPCR_SET, "FPCR after the handler %#lx, want bits %#lx set",
          (unsigned long)fpcr_after, FPCR_SET);
    CHECK((fpsr_after & FPSR_SET) == FPSR_SET, "FPSR after the handler %#lx, want bits %#lx set",
          (unsigned long)fpsr_after, FPSR_SET);
    printf("signal_fpsimd_preserved: after a handler that did FP work (result %g) and overwrote "
           "all 32 vector registers, FPCR and FPSR: V0-V31, FPCR, FPSR are as before\n", result);
    return 0;
}
