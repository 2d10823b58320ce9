//! What the CPU offers EL0, in Linux's terms: the AT_HWCAP/AT_HWCAP2 bits
//! (arch/arm64/include/uapi/asm/hwcap.h) and a random-number source.

use aarch64_cpu::registers::ID_AA64ISAR0_EL1;
use tock_registers::interfaces::Readable;

use super::mte;
use super::regs::{ID_AA64ISAR0_EL1_EXT, ID_AA64PFR0_EL1_EXT};

pub const HWCAP_FP: u64 = 1 << 0;
pub const HWCAP_ASIMD: u64 = 1 << 1;
pub const HWCAP_ATOMICS: u64 = 1 << 8;
pub const HWCAP2_MTE: u64 = 1 << 18;
pub const HWCAP2_MTE3: u64 = 1 << 22;

/// AT_HWCAP and AT_HWCAP2. Only features this kernel supports at EL0 are
/// advertised: SVE and SME stay trapped, so their bits stay clear.
pub fn hwcaps(mte_level: u8) -> (u64, u64) {
    let mut hwcap = 0;
    if ID_AA64PFR0_EL1_EXT.read(super::regs::ID_AA64PFR0_EL1_EXT::FP) != 0xf {
        hwcap |= HWCAP_FP;
    }
    if ID_AA64PFR0_EL1_EXT.read(super::regs::ID_AA64PFR0_EL1_EXT::AdvSIMD) != 0xf {
        hwcap |= HWCAP_ASIMD;
    }
    if ID_AA64ISAR0_EL1_EXT.read(super::regs::ID_AA64ISAR0_EL1_EXT::Atomic) >= 2 {
        hwcap |= HWCAP_ATOMICS;
    }
    let mut hwcap2 = 0;
    if mte::tagging_enabled() {
        hwcap2 |= HWCAP2_MTE;
        if mte_level >= 3 {
            hwcap2 |= HWCAP2_MTE3;
        }
    }
    (hwcap, hwcap2)
}

/// Linux 6.1's names for the AT_HWCAP bits, bit 0 first, then AT_HWCAP2's
/// (arch/arm64/kernel/cpuinfo.c, hwcap_str[]): what /proc/cpuinfo's
/// "Features" line lists, in this order.
const HWCAP_NAMES: [&str; 32] = [
    "fp", "asimd", "evtstrm", "aes", "pmull", "sha1", "sha2", "crc32", "atomics", "fphp", "asimdhp", "cpuid",
    "asimdrdm", "jscvt", "fcma", "lrcpc", "dcpop", "sha3", "sm3", "sm4", "asimddp", "sha512", "sve", "asimdfhm", "dit",
    "uscat", "ilrcpc", "flagm", "ssbs", "sb", "paca", "pacg",
];
const HWCAP2_NAMES: [&str; 34] = [
    "dcpodp",
    "sve2",
    "sveaes",
    "svepmull",
    "svebitperm",
    "svesha3",
    "svesm4",
    "flagm2",
    "frint",
    "svei8mm",
    "svef32mm",
    "svef64mm",
    "svebf16",
    "i8mm",
    "bf16",
    "dgh",
    "rng",
    "bti",
    "mte",
    "ecv",
    "afp",
    "rpres",
    "mte3",
    "sme",
    "smei16i64",
    "smef64f64",
    "smei8i32",
    "smef16f32",
    "smeb16f32",
    "smef32f32",
    "smefa64",
    "wfxt",
    "ebf16",
    "sveebf16",
];

/// The names of the bits set in (AT_HWCAP, AT_HWCAP2), in Linux's order.
pub fn hwcap_names(hwcap: u64, hwcap2: u64) -> impl Iterator<Item = &'static str> {
    let first = HWCAP_NAMES.iter().enumerate().filter(move |(bit, _)| hwcap & (1 << bit) != 0);
    let second = HWCAP2_NAMES.iter().enumerate().filter(move |(bit, _)| hwcap2 & (1 << bit) != 0);
    first.chain(second).map(|(_, name)| *name)
}

/// Fills `buf` with random bytes: RNDR (FEAT_RNG) where present, otherwise
/// a xorshift generator seeded from the counter — good enough for AT_RANDOM
/// and getrandom in an emulator, not for keys.
pub fn random_bytes(buf: &mut [u8]) {
    let has_rndr = ID_AA64ISAR0_EL1.read(ID_AA64ISAR0_EL1::RNDR) >= 1;
    let mut state = super::timer::ticks() | 1;
    for chunk in buf.chunks_mut(8) {
        let mut value = 0u64;
        let mut ok = false;
        if has_rndr {
            for _ in 0..8 {
                let failed: u64;
                // SAFETY: reads RNDR (S3_3_C2_C4_0); NZCV.Z reports failure.
                unsafe {
                    core::arch::asm!("mrs {0}, S3_3_C2_C4_0", "cset {1}, eq", out(reg) value, out(reg) failed,
                        options(nomem, nostack));
                }
                if failed == 0 {
                    ok = true;
                    break;
                }
            }
        }
        if !ok {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            value = state;
        }
        chunk.copy_from_slice(&value.to_le_bytes()[..chunk.len()]);
    }
}
