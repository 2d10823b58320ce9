//! What the CPU offers EL0: the AT_HWCAP/AT_HWCAP2 bits of this CPU
//! (decoded by hwcaps.rs from its ID registers) and a random-number source.

use aarch64_cpu::registers::ID_AA64ISAR0_EL1;
use tock_registers::interfaces::Readable;

use super::hwcaps::{hwcaps_of, IdRegs};
use super::mte;

/// Reads an ID register (no side effects) by name or S-encoding.
macro_rules! read_id {
    ($name:literal) => {{
        {
            let value: u64;
            // SAFETY: reading an ID register has no side effects.
            unsafe {
                core::arch::asm!(concat!("mrs {0}, ", $name), out(reg) value, options(nomem, nostack));
            }
            value
        }
    }};
}

/// This CPU's ID registers.
fn read_id_regs() -> IdRegs {
    IdRegs {
        isar0: read_id!("id_aa64isar0_el1"),
        isar1: read_id!("id_aa64isar1_el1"),
        isar2: read_id!("S3_0_C0_C6_2"),
        pfr0: read_id!("id_aa64pfr0_el1"),
        pfr1: read_id!("id_aa64pfr1_el1"),
        mmfr0: read_id!("id_aa64mmfr0_el1"),
        mmfr1: read_id!("id_aa64mmfr1_el1"),
        mmfr2: read_id!("id_aa64mmfr2_el1"),
    }
}

/// AT_HWCAP and AT_HWCAP2 of this CPU, whose MTE level (ID_AA64PFR1_EL1.MTE)
/// was found at boot to be `mte_level`.
pub fn hwcaps(mte_level: u8) -> (u64, u64) {
    let mut regs = read_id_regs();
    regs.pfr1 = (regs.pfr1 & !(0xf << 8)) | u64::from(mte_level & 0xf) << 8;
    hwcaps_of(&regs, mte::tagging_enabled())
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
