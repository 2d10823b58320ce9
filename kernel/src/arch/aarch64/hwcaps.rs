//! Linux's AT_HWCAP/AT_HWCAP2 bits (arch/arm64/include/uapi/asm/hwcap.h)
//! with their /proc/cpuinfo names, decoded from ID register values.
//!
//! The bits are Linux 6.1's arm64_elf_hwcaps (arch/arm64/kernel/
//! cpufeature.c): one ID register field at or above a minimum per bit,
//! decoded by [`hwcaps_of`] (cpu_features::hwcaps reads the registers).
//! Bits whose feature needs the kernel's help at EL0, and that this kernel
//! does not give, stay clear even when the CPU has it ([`Hwcap::withheld`]):
//! SVE and SME (trapped), pointer authentication (no keys, SCTLR_EL1.EnIA
//! and friends clear), BTI (no PROT_BTI or guarded pages), the event stream
//! (CNTKCTL_EL1.EVNTEN clear) and CPUID (EL0 reads of ID registers are not
//! emulated). On `-cpu max` this is Linux's AT_HWCAP 0xffffffff and
//! AT_HWCAP2 0x3807fffff without those bits. Pure logic, tested on the host.

/// Which auxv entry a bit belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Word {
    Hwcap,
    Hwcap2,
}

/// The ID registers the hwcaps are read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdReg {
    Isar0,
    Isar1,
    Isar2,
    Pfr0,
    Pfr1,
    Mmfr0,
    Mmfr1,
    Mmfr2,
}

/// One AT_HWCAP/AT_HWCAP2 bit: Linux's HWCAP_CAP(reg, field, width,
/// signedness, min_value, ...) entry and its cpuinfo.c hwcap_str name.
#[derive(Clone, Copy, Debug)]
pub struct Hwcap {
    pub word: Word,
    pub bit: u32,
    /// The name /proc/cpuinfo's "Features" line gives it.
    pub name: &'static str,
    reg: IdReg,
    shift: u32,
    width: u32,
    signed: bool,
    min: i64,
    /// Why this kernel does not report it, when it does not.
    pub withheld: Option<&'static str>,
}

const SVE: Option<&str> = Some("SVE is not offered (its instructions trap)");
const SME: Option<&str> = Some("SME is not offered (its instructions trap)");
const PAC: Option<&str> = Some("pointer authentication keys are not set up (SCTLR_EL1.EnIA/EnIB/EnDA/EnDB clear)");

const fn cap(word: Word, bit: u32, name: &'static str, reg: IdReg, shift: u32, min: i64) -> Hwcap {
    Hwcap { word, bit, name, reg, shift, width: 4, signed: false, min, withheld: None }
}
const fn signed(c: Hwcap) -> Hwcap {
    Hwcap { signed: true, ..c }
}
const fn withheld(c: Hwcap, why: Option<&'static str>) -> Hwcap {
    Hwcap { withheld: why, ..c }
}

use IdReg::*;
use Word::{Hwcap as H1, Hwcap2 as H2};

/// Every bit Linux 6.1 reports, in bit order (AT_HWCAP's 0-31, then
/// AT_HWCAP2's 0-33): cpuinfo.c prints the names in this order. The SME
/// fields live in ID_AA64SMFR0_EL1, never read here: SME is withheld.
pub const HWCAPS: [Hwcap; 66] = [
    signed(cap(H1, 0, "fp", Pfr0, 16, 0)),
    signed(cap(H1, 1, "asimd", Pfr0, 20, 0)),
    withheld(cap(H1, 2, "evtstrm", Pfr0, 0, 0), Some("the timer event stream is off (CNTKCTL_EL1.EVNTEN clear)")),
    cap(H1, 3, "aes", Isar0, 4, 1),
    cap(H1, 4, "pmull", Isar0, 4, 2),
    cap(H1, 5, "sha1", Isar0, 8, 1),
    cap(H1, 6, "sha2", Isar0, 12, 1),
    cap(H1, 7, "crc32", Isar0, 16, 1),
    cap(H1, 8, "atomics", Isar0, 20, 2),
    signed(cap(H1, 9, "fphp", Pfr0, 16, 1)),
    signed(cap(H1, 10, "asimdhp", Pfr0, 20, 1)),
    withheld(cap(H1, 11, "cpuid", Pfr0, 0, 0), Some("EL0 reads of ID registers are not emulated (they raise SIGILL)")),
    cap(H1, 12, "asimdrdm", Isar0, 28, 1),
    cap(H1, 13, "jscvt", Isar1, 12, 1),
    cap(H1, 14, "fcma", Isar1, 16, 1),
    cap(H1, 15, "lrcpc", Isar1, 20, 1),
    cap(H1, 16, "dcpop", Isar1, 0, 1),
    cap(H1, 17, "sha3", Isar0, 32, 1),
    cap(H1, 18, "sm3", Isar0, 36, 1),
    cap(H1, 19, "sm4", Isar0, 40, 1),
    cap(H1, 20, "asimddp", Isar0, 44, 1),
    cap(H1, 21, "sha512", Isar0, 12, 2),
    withheld(cap(H1, 22, "sve", Pfr0, 32, 1), SVE),
    cap(H1, 23, "asimdfhm", Isar0, 48, 1),
    cap(H1, 24, "dit", Pfr0, 48, 1),
    cap(H1, 25, "uscat", Mmfr2, 32, 1),
    cap(H1, 26, "ilrcpc", Isar1, 20, 2),
    cap(H1, 27, "flagm", Isar0, 52, 1),
    cap(H1, 28, "ssbs", Pfr1, 4, 2),
    cap(H1, 29, "sb", Isar1, 36, 1),
    withheld(cap(H1, 30, "paca", Isar1, 4, 1), PAC),
    withheld(cap(H1, 31, "pacg", Isar1, 24, 1), PAC),
    cap(H2, 0, "dcpodp", Isar1, 0, 2),
    withheld(cap(H2, 1, "sve2", Pfr0, 32, 1), SVE),
    withheld(cap(H2, 2, "sveaes", Pfr0, 32, 1), SVE),
    withheld(cap(H2, 3, "svepmull", Pfr0, 32, 1), SVE),
    withheld(cap(H2, 4, "svebitperm", Pfr0, 32, 1), SVE),
    withheld(cap(H2, 5, "svesha3", Pfr0, 32, 1), SVE),
    withheld(cap(H2, 6, "svesm4", Pfr0, 32, 1), SVE),
    cap(H2, 7, "flagm2", Isar0, 52, 2),
    cap(H2, 8, "frint", Isar1, 32, 1),
    withheld(cap(H2, 9, "svei8mm", Pfr0, 32, 1), SVE),
    withheld(cap(H2, 10, "svef32mm", Pfr0, 32, 1), SVE),
    withheld(cap(H2, 11, "svef64mm", Pfr0, 32, 1), SVE),
    withheld(cap(H2, 12, "svebf16", Pfr0, 32, 1), SVE),
    cap(H2, 13, "i8mm", Isar1, 52, 1),
    cap(H2, 14, "bf16", Isar1, 44, 1),
    cap(H2, 15, "dgh", Isar1, 48, 1),
    cap(H2, 16, "rng", Isar0, 60, 1),
    withheld(cap(H2, 17, "bti", Pfr1, 0, 1), Some("no PROT_BTI and no guarded pages (SCTLR_EL1.BT0 clear)")),
    // MTE and MTE3 also need tagging on (mte::tagging_enabled): hwcaps_of.
    cap(H2, 18, "mte", Pfr1, 8, 2),
    cap(H2, 19, "ecv", Mmfr0, 60, 1),
    cap(H2, 20, "afp", Mmfr1, 44, 1),
    cap(H2, 21, "rpres", Isar2, 4, 1),
    cap(H2, 22, "mte3", Pfr1, 8, 3),
    withheld(cap(H2, 23, "sme", Pfr1, 24, 1), SME),
    withheld(cap(H2, 24, "smei16i64", Pfr1, 24, 1), SME),
    withheld(cap(H2, 25, "smef64f64", Pfr1, 24, 1), SME),
    withheld(cap(H2, 26, "smei8i32", Pfr1, 24, 1), SME),
    withheld(cap(H2, 27, "smef16f32", Pfr1, 24, 1), SME),
    withheld(cap(H2, 28, "smeb16f32", Pfr1, 24, 1), SME),
    withheld(cap(H2, 29, "smef32f32", Pfr1, 24, 1), SME),
    withheld(cap(H2, 30, "smefa64", Pfr1, 24, 1), SME),
    cap(H2, 31, "wfxt", Isar2, 0, 2),
    cap(H2, 32, "ebf16", Isar1, 44, 2),
    withheld(cap(H2, 33, "sveebf16", Pfr0, 32, 1), SVE),
];

/// The ID register values the hwcaps are decoded from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IdRegs {
    pub isar0: u64,
    pub isar1: u64,
    pub isar2: u64,
    pub pfr0: u64,
    pub pfr1: u64,
    pub mmfr0: u64,
    pub mmfr1: u64,
    pub mmfr2: u64,
}

impl IdRegs {
    fn get(&self, reg: IdReg) -> u64 {
        match reg {
            Isar0 => self.isar0,
            Isar1 => self.isar1,
            Isar2 => self.isar2,
            Pfr0 => self.pfr0,
            Pfr1 => self.pfr1,
            Mmfr0 => self.mmfr0,
            Mmfr1 => self.mmfr1,
            Mmfr2 => self.mmfr2,
        }
    }
}

impl Hwcap {
    /// Whether the CPU has the feature: Linux's feature_matches() on the
    /// field, signed fields (FP, AdvSIMD: 0xf = absent) compared signed.
    pub fn cpu_has(&self, regs: &IdRegs) -> bool {
        let raw = (regs.get(self.reg) >> self.shift) & ((1 << self.width) - 1);
        let value =
            if self.signed && raw >> (self.width - 1) != 0 { raw as i64 - (1 << self.width) } else { raw as i64 };
        value >= self.min
    }

    fn mask(&self) -> u64 {
        1 << self.bit
    }
}

/// AT_HWCAP and AT_HWCAP2 for a CPU with `regs`: every bit of [`HWCAPS`]
/// the CPU has and this kernel does not withhold; MTE's only when tagging
/// is on.
pub fn hwcaps_of(regs: &IdRegs, tagging: bool) -> (u64, u64) {
    let (mut hwcap, mut hwcap2) = (0, 0);
    for c in HWCAPS.iter().filter(|c| c.withheld.is_none() && c.cpu_has(regs)) {
        if matches!(c.name, "mte" | "mte3") && !tagging {
            continue;
        }
        match c.word {
            Word::Hwcap => hwcap |= c.mask(),
            Word::Hwcap2 => hwcap2 |= c.mask(),
        }
    }
    (hwcap, hwcap2)
}

/// The names of the bits set in `hwcap` and `hwcap2`, in the order of
/// Linux's /proc/cpuinfo "Features" line (c_show in cpuinfo.c).
pub fn names(hwcap: u64, hwcap2: u64) -> impl Iterator<Item = &'static str> {
    HWCAPS
        .iter()
        .filter(move |c| match c.word {
            Word::Hwcap => hwcap & c.mask() != 0,
            Word::Hwcap2 => hwcap2 & c.mask() != 0,
        })
        .map(|c| c.name)
}

/// The names of the bits set in AT_HWCAP (`.0`) and AT_HWCAP2 (`.1`),
/// separated by spaces: [`names`] for a log line or the "Features" line.
pub struct Names(pub u64, pub u64);

impl core::fmt::Display for Names {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for (i, name) in names(self.0, self.1).enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(name)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    /// Every field of every register at `value`.
    fn all_fields(value: u64) -> IdRegs {
        let r = value * 0x1111_1111_1111_1111;
        IdRegs { isar0: r, isar1: r, isar2: r, pfr0: r, pfr1: r, mmfr0: r, mmfr1: r, mmfr2: r }
    }

    #[test]
    fn table_is_in_bit_order_with_linux_names() {
        let mut expected = (Word::Hwcap, 0);
        for c in HWCAPS {
            assert_eq!((c.word, c.bit), expected, "{}", c.name);
            expected = if c.word == Word::Hwcap && c.bit == 31 { (Word::Hwcap2, 0) } else { (c.word, c.bit + 1) };
        }
        assert_eq!(expected, (Word::Hwcap2, 34));
        let (h1, h2) = (0b111, 1 << 16);
        assert_eq!(names(h1, h2).collect::<Vec<_>>(), ["fp", "asimd", "evtstrm", "rng"]);
    }

    #[test]
    fn cpu_max_gives_linux_bits_less_the_withheld() {
        // Linux 6.1 on -cpu max: AT_HWCAP 0xffffffff, AT_HWCAP2 0x3807fffff
        // (no SME: QEMU 10 leaves it out of that kernel's reach). Less
        // evtstrm, cpuid, sve, paca, pacg; sve2..svesm4, svei8mm..svebf16,
        // bti, sveebf16.
        let (h1, h2) = hwcaps_of(&all_fields(7), true);
        assert_eq!(h1, 0xffff_ffff & !(1 << 2 | 1 << 11 | 1 << 22 | 1 << 30 | 1 << 31));
        assert_eq!(h2, 0x3_807f_ffff & !(0x7e | 0xf << 9 | 1 << 17 | 1 << 33));
        assert!(names(h1, h2).any(|n| n == "rng"));
    }

    #[test]
    fn fields_below_their_minimum_give_no_bit() {
        assert_eq!(
            hwcaps_of(&IdRegs::default(), true),
            (1 << 0 | 1 << 1, 0),
            "FP and AdvSIMD 0: present, without half precision"
        );
        let (h1, h2) = hwcaps_of(&all_fields(0xf), true);
        assert_eq!(h1 & 0b11, 0, "FP and AdvSIMD 0xf: absent (signed)");
        assert_ne!(h2 & 1 << 16, 0);
        let mut regs = all_fields(7);
        regs.isar0 &= !(0xf << 60);
        assert_eq!(hwcaps_of(&regs, true).1 & 1 << 16, 0, "RNDR 0: no rng");
        regs.pfr1 = 0;
        assert_eq!(hwcaps_of(&regs, true).1 & (1 << 18 | 1 << 22), 0, "MTE 0: no mte");
        assert_eq!(hwcaps_of(&all_fields(7), false).1 & (1 << 18 | 1 << 22), 0, "tagging off: no mte");
    }
}
