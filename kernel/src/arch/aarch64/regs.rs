//! System registers and fields that `aarch64-cpu` does not define.
//!
//! `aarch64-cpu` has no MTE registers (GCR_EL1, RGSR_EL1, TFSR_EL1,
//! TFSRE0_EL1, GMID_EL1) and lacks the MTE and PAN fields of SCTLR_EL1, the
//! TCMA fields of TCR_EL1 and the attribute field of PAR_EL1. They are
//! defined here once, as tock-registers bitfields in the same style, so that
//! the rest of the kernel reads them by name. The `*_EXT` registers are a
//! second view of a register `aarch64-cpu` already has, holding only the
//! missing fields; `modify` on them leaves every other bit alone.
//!
//! Encodings and bit positions: Arm ARM (DDI 0487K.a), each register's
//! description (found by its name), and for MTE the
//! register table in docs/mte.md.
#![allow(non_snake_case, non_camel_case_types, clippy::upper_case_acronyms)]

use tock_registers::interfaces::{Readable, Writeable};
use tock_registers::register_bitfields;

/// Implements `Readable`/`Writeable` for a system register accessed by name
/// (or by `S<op0>_<op1>_C<n>_C<m>_<op2>` where the assembler needs that).
macro_rules! sysreg {
    ($(#[$doc:meta])* $module:ident::$reg:ident, $fields:path, $asm_name:literal, rw) => {
        sysreg!($(#[$doc])* $module::$reg, $fields, $asm_name, ro);
        impl Writeable for $module::Reg {
            type T = u64;
            type R = $fields;
            #[inline]
            fn set(&self, value: u64) {
                #[cfg(target_arch = "aarch64")]
                // SAFETY: writing this system register has no memory effects
                // the compiler must know about; callers sequence it with ISB.
                unsafe {
                    core::arch::asm!(concat!("msr ", $asm_name, ", {0}"), in(reg) value, options(nomem, nostack));
                }
                #[cfg(not(target_arch = "aarch64"))]
                let _ = value;
            }
        }
    };
    ($(#[$doc:meta])* $module:ident::$reg:ident, $fields:path, $asm_name:literal, ro) => {
        $(#[$doc])*
        #[allow(dead_code)] // defined for the whole register set, used as features land
        pub mod $module {
            pub struct Reg;
            pub const $reg: Reg = Reg;
        }
        #[allow(unused_imports)]
        pub use $module::$reg;
        impl Readable for $module::Reg {
            type T = u64;
            type R = $fields;
            #[inline]
            fn get(&self) -> u64 {
                #[cfg(target_arch = "aarch64")]
                {
                    let value;
                    // SAFETY: reading this system register has no side effects.
                    unsafe {
                        core::arch::asm!(concat!("mrs {0}, ", $asm_name), out(reg) value, options(nomem, nostack));
                    }
                    value
                }
                #[cfg(not(target_arch = "aarch64"))]
                unimplemented!("system registers exist only on AArch64")
            }
        }
    };
}

register_bitfields! {u64,
    /// SCTLR_EL1 fields for MTE (FEAT_MTE2) and PAN that aarch64-cpu lacks.
    pub SCTLR_EL1_EXT [
        /// Allocation tag access at EL1 (bit 43).
        ATA OFFSET(43) NUMBITS(1) [],
        /// Allocation tag access at EL0 (bit 42).
        ATA0 OFFSET(42) NUMBITS(1) [],
        /// Tag check fault mode for EL1 accesses.
        TCF OFFSET(40) NUMBITS(2) [None = 0, Sync = 1, Async = 2, Asymmetric = 3],
        /// Tag check fault mode for EL0 accesses.
        TCF0 OFFSET(38) NUMBITS(2) [None = 0, Sync = 1, Async = 2, Asymmetric = 3],
        /// Asynchronous tag check faults are synchronised into TFSR on exception entry.
        ITFSB OFFSET(37) NUMBITS(1) [],
        /// Set Privileged Access Never on exception entry to EL1 when 0.
        SPAN OFFSET(23) NUMBITS(1) [],
        /// Write permission implies execute-never.
        WXN OFFSET(19) NUMBITS(1) []
    ],

    /// TCR_EL1 tag-check-match fields (FEAT_MTE2).
    pub TCR_EL1_EXT [
        /// Accesses through TTBR1 addresses with logical tag 0xF are unchecked.
        TCMA1 OFFSET(58) NUMBITS(1) [],
        /// Accesses through TTBR0 addresses with logical tag 0x0 are unchecked.
        TCMA0 OFFSET(57) NUMBITS(1) []
    ],

    /// PAR_EL1 after a successful AT instruction (PAR_EL1.F == 0).
    pub PAR_EL1_EXT [
        /// Memory attributes of the translation, in MAIR encoding.
        ATTR OFFSET(56) NUMBITS(8) [],
        /// Shareability.
        SH OFFSET(7) NUMBITS(2) [],
        /// Fault status code when F == 1.
        FST OFFSET(1) NUMBITS(6) [],
        F OFFSET(0) NUMBITS(1) []
    ],

    /// Tag Control Register (GCR_EL1): how IRG picks random tags.
    pub GCR_EL1 [
        /// Use the implementation's random generator rather than RGSR_EL1's LFSR.
        RRND OFFSET(16) NUMBITS(1) [],
        /// Tags IRG must never produce, one bit per tag value.
        Exclude OFFSET(0) NUMBITS(16) []
    ],

    /// Random Allocation Tag Seed Register (RGSR_EL1).
    pub RGSR_EL1 [
        SEED OFFSET(8) NUMBITS(16) [],
        TAG OFFSET(0) NUMBITS(4) []
    ],

    /// Tag Fault Status Registers (TFSR_EL1 for EL1, TFSRE0_EL1 for EL0):
    /// an asynchronous tag check fault was seen.
    pub TFSR [
        /// ... on a TTBR1 (upper-half) address.
        TF1 OFFSET(1) NUMBITS(1) [],
        /// ... on a TTBR0 (lower-half) address.
        TF0 OFFSET(0) NUMBITS(1) []
    ],

    /// Multiple tag transfer ID register (GMID_EL1).
    pub GMID_EL1 [
        /// LDGM/STGM transfer the tags of (4 << BS) bytes.
        BS OFFSET(0) NUMBITS(4) []
    ],

    /// Cache Type Register (CTR_EL0), which aarch64-cpu lacks.
    pub CTR_EL0 [
        /// Instruction-cache invalidation to the PoU is not needed for
        /// instruction-to-data coherence.
        DIC OFFSET(29) NUMBITS(1) [],
        /// Data-cache clean to the PoU is not needed for it.
        IDC OFFSET(28) NUMBITS(1) [],
        /// log2 of the smallest data-cache line, in 4-byte words.
        DminLine OFFSET(16) NUMBITS(4) [],
        /// Level-1 instruction-cache policy: 0b10 VIPT, 0b11 PIPT.
        L1Ip OFFSET(14) NUMBITS(2) [],
        /// log2 of the smallest instruction-cache line, in 4-byte words.
        IminLine OFFSET(0) NUMBITS(4) []
    ],

    /// Data Cache Zero ID register (DCZID_EL0).
    pub DCZID_EL0 [
        /// DC ZVA/GVA/GZVA are prohibited.
        DZP OFFSET(4) NUMBITS(1) [],
        /// log2 of the block size in 4-byte words.
        BS OFFSET(0) NUMBITS(4) []
    ]
}

sysreg!(
    /// SCTLR_EL1, MTE/PAN fields only.
    sctlr_el1_ext::SCTLR_EL1_EXT, SCTLR_EL1_EXT::Register, "sctlr_el1", rw
);
sysreg!(
    /// TCR_EL1, TCMA fields only.
    tcr_el1_ext::TCR_EL1_EXT, TCR_EL1_EXT::Register, "tcr_el1", rw
);
sysreg!(
    /// PAR_EL1, all fields.
    par_el1_ext::PAR_EL1_EXT, PAR_EL1_EXT::Register, "par_el1", ro
);
sysreg!(gcr_el1::GCR_EL1, GCR_EL1::Register, "S3_0_C1_C0_6", rw);
sysreg!(rgsr_el1::RGSR_EL1, RGSR_EL1::Register, "S3_0_C1_C0_5", rw);
sysreg!(tfsr_el1::TFSR_EL1, TFSR::Register, "S3_0_C5_C6_0", rw);
sysreg!(tfsre0_el1::TFSRE0_EL1, TFSR::Register, "S3_0_C5_C6_1", rw);
sysreg!(gmid_el1::GMID_EL1, GMID_EL1::Register, "S3_1_C0_C0_4", ro);
sysreg!(dczid_el0::DCZID_EL0, DCZID_EL0::Register, "dczid_el0", ro);
sysreg!(ctr_el0::CTR_EL0, CTR_EL0::Register, "ctr_el0", ro);
