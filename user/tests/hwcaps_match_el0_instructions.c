/*
 * hwcaps_match_el0_instructions: each AT_HWCAP/AT_HWCAP2 bit whose feature
 * an EL0 instruction shows is set exactly when that instruction runs (no
 * SIGILL), as Linux 6.1's abi/hwcap selftest checks for RNG, SVE and SME.
 * Before, AT_HWCAP held only fp, asimd and atomics and AT_HWCAP2 only mte
 * and mte3, though RNDR, AES, SHA3, ... all ran at EL0 on -cpu max. The
 * bits withheld because the kernel does not offer the feature (cpuid: no
 * MRS emulation; sve) must be clear and their instructions must raise
 * SIGILL. Two features that change no instruction but a bit of FPCR (afp:
 * FPCR.AH, ebf16: FPCR.EBF) count as present when the bit sticks. For mte
 * only "set means IRG runs" is checked: without tag storage QEMU keeps the
 * instructions (MTE level 1) and Linux, like this kernel, reports no MTE.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/auxv.h>

#include "refpage_test.h"

static sigjmp_buf probe_env;
static volatile int sigill_seen;

static void on_sigill(int sig)
{
    (void)sig;
    sigill_seen = 1;
    siglongjmp(probe_env, 1);
}

static uint64_t scratch[2] __attribute__((aligned(16)));

#define INSN(fn, text)                                                          \
    static void fn(void)                                                        \
    {                                                                           \
        __asm__ volatile(".arch armv9.2-a+crypto+sm4+sha3+rng+memtag+i8mm+bf16+fp16fml+sve\n\t" text \
                         : : "r"(scratch) : "x0", "x1", "x2", "v0", "v1", "v2", "v3", "memory");      \
    }

INSN(p_aes, "aese v0.16b, v1.16b")
INSN(p_pmull, "pmull v0.1q, v1.1d, v2.1d")
INSN(p_sha1, "sha1h s0, s1")
INSN(p_sha2, "sha256h q0, q1, v2.4s")
INSN(p_crc32, "crc32b w0, w0, w1")
INSN(p_atomics, "mov x1, %0\n\tmov x0, #1\n\tldadd x0, x2, [x1]")
INSN(p_fphp, "fadd h0, h1, h2")
INSN(p_asimdhp, "fadd v0.8h, v1.8h, v2.8h")
INSN(p_cpuid, "mrs x0, id_aa64isar0_el1")
INSN(p_asimdrdm, "sqrdmlah v0.4s, v1.4s, v2.4s")
INSN(p_jscvt, "fmov d0, xzr\n\tfjcvtzs w0, d0")
INSN(p_fcma, "fcmla v0.4s, v1.4s, v2.4s, #0")
INSN(p_lrcpc, "ldaprb w0, [%0]")
INSN(p_dcpop, "dc cvap, %0")
INSN(p_sha3, "eor3 v0.16b, v1.16b, v2.16b, v3.16b")
INSN(p_sm3, "sm3ss1 v0.4s, v1.4s, v2.4s, v3.4s")
INSN(p_sm4, "sm4e v0.4s, v1.4s")
INSN(p_asimddp, "udot v0.4s, v1.16b, v2.16b")
INSN(p_sha512, "sha512h q0, q1, v2.2d")
INSN(p_sve, "rdvl x0, #1")
INSN(p_asimdfhm, "fmlal v0.2s, v1.2h, v2.2h")
INSN(p_dit, "msr dit, #1\n\tmsr dit, #0")
INSN(p_ilrcpc, "ldapur w0, [%0, #4]")
INSN(p_flagm, "cfinv\n\tcfinv")
INSN(p_ssbs, "mrs x0, s3_3_c4_c2_6\n\tmsr s3_3_c4_c2_6, x0")
INSN(p_sb, "sb")
INSN(p_dcpodp, "dc cvadp, %0")
INSN(p_flagm2, "axflag\n\txaflag")
INSN(p_frint, "frint32x d0, d1")
INSN(p_i8mm, "smmla v0.4s, v1.16b, v2.16b")
INSN(p_bf16, "bfdot v0.4s, v1.8h, v2.8h")
INSN(p_rng, "mrs x0, s3_3_c2_c4_0")
INSN(p_mte, "irg x0, %0")
INSN(p_ecv, "mrs x0, s3_3_c14_c0_6")
INSN(p_wfxt, "mov x0, xzr\n\t.inst 0xd5031000")  /* wfet x0: a deadline long past */

/* Sets the FPCR bit, reads it back, restores FPCR; a bit the CPU does not
 * implement reads as zero. */
static int fpcr_bit_sticks(unsigned bit)
{
    uint64_t old, seen;
    __asm__ volatile("mrs %0, fpcr" : "=r"(old));
    __asm__ volatile("msr fpcr, %0" : : "r"(old | 1ul << bit));
    __asm__ volatile("mrs %0, fpcr" : "=r"(seen));
    __asm__ volatile("msr fpcr, %0" : : "r"(old));
    return (seen >> bit) & 1;
}

static int runs(void (*probe)(void))
{
    sigill_seen = 0;
    if (sigsetjmp(probe_env, 1) == 0)
        probe();
    return !sigill_seen;
}

struct probe {
    const char *name;
    int at;         /* AT_HWCAP or AT_HWCAP2 */
    unsigned bit;
    void (*insn)(void);
    int fpcr_bit;   /* >= 0: an FPCR bit instead of an instruction */
    int one_way;    /* only "bit set" implies "works" */
};

static const struct probe probes[] = {
    {"aes", AT_HWCAP, 3, p_aes, -1},          {"pmull", AT_HWCAP, 4, p_pmull, -1},
    {"sha1", AT_HWCAP, 5, p_sha1, -1},        {"sha2", AT_HWCAP, 6, p_sha2, -1},
    {"crc32", AT_HWCAP, 7, p_crc32, -1},      {"atomics", AT_HWCAP, 8, p_atomics, -1},
    {"fphp", AT_HWCAP, 9, p_fphp, -1},        {"asimdhp", AT_HWCAP, 10, p_asimdhp, -1},
    {"cpuid", AT_HWCAP, 11, p_cpuid, -1},     {"asimdrdm", AT_HWCAP, 12, p_asimdrdm, -1},
    {"jscvt", AT_HWCAP, 13, p_jscvt, -1},     {"fcma", AT_HWCAP, 14, p_fcma, -1},
    {"lrcpc", AT_HWCAP, 15, p_lrcpc, -1},     {"dcpop", AT_HWCAP, 16, p_dcpop, -1},
    {"sha3", AT_HWCAP, 17, p_sha3, -1},       {"sm3", AT_HWCAP, 18, p_sm3, -1},
    {"sm4", AT_HWCAP, 19, p_sm4, -1},         {"asimddp", AT_HWCAP, 20, p_asimddp, -1},
    {"sha512", AT_HWCAP, 21, p_sha512, -1},   {"sve", AT_HWCAP, 22, p_sve, -1},
    {"asimdfhm", AT_HWCAP, 23, p_asimdfhm, -1}, {"dit", AT_HWCAP, 24, p_dit, -1},
    {"ilrcpc", AT_HWCAP, 26, p_ilrcpc, -1},   {"flagm", AT_HWCAP, 27, p_flagm, -1},
    {"ssbs", AT_HWCAP, 28, p_ssbs, -1},       {"sb", AT_HWCAP, 29, p_sb, -1},
    {"dcpodp", AT_HWCAP2, 0, p_dcpodp, -1},   {"flagm2", AT_HWCAP2, 7, p_flagm2, -1},
    {"frint", AT_HWCAP2, 8, p_frint, -1},     {"i8mm", AT_HWCAP2, 13, p_i8mm, -1},
    {"bf16", AT_HWCAP2, 14, p_bf16, -1},      {"rng", AT_HWCAP2, 16, p_rng, -1},
    {"mte", AT_HWCAP2, 18, p_mte, -1, 1},        {"ecv", AT_HWCAP2, 19, p_ecv, -1},
    {"afp", AT_HWCAP2, 20, NULL, 1},          {"wfxt", AT_HWCAP2, 31, p_wfxt, -1},
    {"ebf16", AT_HWCAP2, 32, NULL, 13},
};

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct sigaction sa = {.sa_handler = on_sigill};
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGILL, &sa, NULL) == 0, "sigaction(SIGILL) failed");
    unsigned long hwcap = getauxval(AT_HWCAP), hwcap2 = getauxval(AT_HWCAP2);
    printf("hwcaps_match_el0_instructions: AT_HWCAP %#lx AT_HWCAP2 %#lx\n", hwcap, hwcap2);
    int present = 0, bad = 0;
    for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
        const struct probe *p = &probes[i];
        int reported = (((p->at == AT_HWCAP) ? hwcap : hwcap2) >> p->bit) & 1;
        int works = p->insn ? runs(p->insn) : fpcr_bit_sticks((unsigned)p->fpcr_bit);
        present += works;
        if (reported != works && !(p->one_way && works)) {
            fprintf(stderr, "hwcaps_match_el0_instructions: %s: %s bit %u is %s but the feature %s at EL0\n",
                    p->name, p->at == AT_HWCAP ? "AT_HWCAP" : "AT_HWCAP2", p->bit, reported ? "set" : "clear",
                    works ? "works" : "is absent (SIGILL)");
            bad++;
        }
    }
    CHECK(bad == 0, "%d of %zu bits disagree with the CPU", bad, sizeof(probes) / sizeof(probes[0]));
    printf("hwcaps_match_el0_instructions: %zu bits agree with EL0 (%d features present)\n",
           sizeof(probes) / sizeof(probes[0]), present);
    return 0;
}
