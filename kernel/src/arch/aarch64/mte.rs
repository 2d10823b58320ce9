//! Memory Tagging Extension: detection, enabling at EL1, and the few tag
//! instructions the kernel uses.
//!
//! Every 16-byte granule of Tagged memory carries a 4-bit allocation tag; a
//! pointer carries a logical tag in bits [59:56]. With checking on, an access
//! whose tags differ faults (synchronously, DFSC 0x11) or is recorded in
//! TFSR (asynchronously). docs/mte.md has the registers and how Linux uses
//! them (section 9) and the enable sequence below, step by step (section 1).

use core::sync::atomic::{AtomicBool, Ordering};

use aarch64_cpu::registers::{ID_AA64PFR1_EL1, TCR_EL1};
use tock_registers::interfaces::{ReadWriteable, Readable, Writeable};

use super::regs::{GCR_EL1, GMID_EL1, RGSR_EL1, SCTLR_EL1_EXT, TFSRE0_EL1, TFSR_EL1};
use crate::mm::addr::VirtAddr;
use crate::mm::tagged_addr;

/// Bytes covered by one allocation tag.
pub const GRANULE: usize = 16;

/// What the CPU offers, read once at boot.
#[derive(Clone, Copy, Debug)]
pub struct MteInfo {
    /// ID_AA64PFR1_EL1.MTE: 0 none, 1 instructions only, 2 MTE2, 3 MTE3.
    pub level: u8,
    /// Bytes whose tags one LDGM/STGM moves (4 << GMID_EL1.BS); MTE2+ only.
    pub gm_block_bytes: Option<usize>,
}

impl MteInfo {
    /// Tag storage exists (FEAT_MTE2): tags can be stored and checked.
    pub fn has_tag_storage(&self) -> bool {
        self.level >= 2
    }
}

static TAGGING: AtomicBool = AtomicBool::new(false);
/// `MteInfo::gm_block_bytes` once tagging is on.
static TAG_BLOCK_BYTES: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);
static LEVEL: core::sync::atomic::AtomicU8 = core::sync::atomic::AtomicU8::new(0);

/// ID_AA64PFR1_EL1.MTE as detected at boot (for AT_HWCAP2).
pub fn level() -> u8 {
    LEVEL.load(Ordering::Relaxed)
}

/// Bytes whose tags one LDGM/STGM moves (GMID_EL1.BS; 16 to 256). Only
/// meaningful while tagging is enabled.
pub fn tag_block_bytes() -> usize {
    TAG_BLOCK_BYTES.load(Ordering::Relaxed)
}

/// Whether allocation tags are in use. Later features check this one flag.
pub fn tagging_enabled() -> bool {
    TAGGING.load(Ordering::Relaxed)
}

/// What the boot CPU offers, remembered for [`level`].
pub fn detect() -> MteInfo {
    let info = read_info();
    LEVEL.store(info.level, Ordering::Relaxed);
    info
}

/// What this CPU offers (each secondary reads its own for the boot log).
pub fn read_info() -> MteInfo {
    let level = ID_AA64PFR1_EL1.read(ID_AA64PFR1_EL1::MTE) as u8;
    // GMID_EL1 is UNDEFINED below MTE2, so read it only when tags exist.
    let gm_block_bytes = (level >= 2).then(|| 4usize << GMID_EL1.read(super::regs::GMID_EL1::BS));
    MteInfo { level, gm_block_bytes }
}

/// Turns on tag access for EL1 and EL0, without tag checking yet (TCF and
/// TCF0 = none: checking is chosen per process through prctl later).
/// Must run after the MAIR_EL1 Tagged attribute is in place.
pub fn enable(info: &MteInfo, seed: u64) {
    if !info.has_tag_storage() {
        return;
    }
    use super::regs::SCTLR_EL1_EXT as S;
    // Top-byte-ignore for the kernel half: DC GZVA / STG on linear-map
    // addresses carry tags. TBI0 (user pointers) is not MTE's: start.S sets
    // it on every CPU, as Linux does.
    TCR_EL1.modify(TCR_EL1::TBI1::Ignored);
    init_cpu_registers(seed);
    SCTLR_EL1_EXT.modify(S::ATA::SET + S::ATA0::SET + S::TCF::None + S::TCF0::None + S::ITFSB::SET);
    aarch64_cpu::asm::barrier::isb(aarch64_cpu::asm::barrier::SY);
    // SAFETY: TLB maintenance has no memory-safety effect; TBI bits may be
    // cached in TLB entries, so they are flushed after changing TCR_EL1.
    unsafe { core::arch::asm!("tlbi vmalle1", "dsb nsh", "isb", options(nostack)) };
    TAG_BLOCK_BYTES.store(info.gm_block_bytes.expect("MTE2 has GMID_EL1"), Ordering::Relaxed);
    TAGGING.store(true, Ordering::Relaxed);
    super::entry_work::refresh();
}

/// MTE's registers that are each CPU's own and not copied from the boot
/// CPU's SCTLR_EL1/TCR_EL1 (smp.rs): GCR_EL1, RGSR_EL1 and the fault
/// status registers (Linux's cpu_enable_mte / mte_cpu_setup run on every
/// CPU for the same reason).
pub fn init_cpu_registers(seed: u64) {
    use super::regs::{GCR_EL1 as G, RGSR_EL1 as R};
    // IRG: hardware random tags, never tag 0, so a random tag always differs
    // from memory that was never tagged.
    GCR_EL1.write(G::RRND::SET + G::Exclude.val(0x0001));
    // RGSR_EL1 is UNKNOWN after reset and QEMU seeds it itself only when
    // the seed is zero and RRND is set; seed it explicitly, non-zero.
    RGSR_EL1.write(R::SEED.val((seed & 0xffff).max(1)) + R::TAG.val(0));
    TFSR_EL1.set(0);
    TFSRE0_EL1.set(0);
}

/// Sets PSTATE.TCO: `checked` clears it, so that tag checks apply to the
/// kernel's unprivileged accesses to user memory (LDTR/STTR are checked as
/// EL0 accesses, under TCF0); otherwise sets it, and they are not checked.
pub fn set_kernel_tag_checks(checked: bool) {
    // SAFETY: PSTATE.TCO only decides whether tag checks apply; an exception
    // return restores EL0's own value from the SPSR.
    unsafe {
        if checked {
            core::arch::asm!(".arch_extension memtag", "msr tco, #0", options(nomem, nostack));
        } else {
            core::arch::asm!(".arch_extension memtag", "msr tco, #1", options(nomem, nostack));
        }
    }
}

/// On the way back to EL0 of an async-mode task: drops any asynchronous
/// tag check fault the kernel's own accesses to its memory recorded in
/// TFSRE0_EL1 since the entry read it (Linux's clear_mte_async_tcf in
/// kernel_exit: uaccess faults are not the task's). The DSB lets those
/// accesses' faults land in the register first.
pub fn discard_kernel_async_faults() {
    // SAFETY: a barrier.
    unsafe { core::arch::asm!("dsb ish", options(nostack)) };
    TFSRE0_EL1.set(0);
}

/// Forgets any asynchronous tag check fault EL0 has caused (TFSRE0_EL1).
pub fn clear_user_fault_status() {
    if tagging_enabled() {
        TFSRE0_EL1.set(0);
        aarch64_cpu::asm::barrier::isb(aarch64_cpu::asm::barrier::SY);
    }
}

/// `va` with logical tag `tag` in bits [59:56].
pub fn with_tag(va: VirtAddr, tag: u8) -> VirtAddr {
    VirtAddr::new(tagged_addr::with_mte_tag(va.as_u64(), tag))
}

/// `va` with a random logical tag drawn by IRG, never one that GCR_EL1
/// excludes (tag 0 here).
pub fn random_tag(va: VirtAddr) -> VirtAddr {
    let tagged: u64;
    // SAFETY: IRG only computes a value from GCR_EL1/RGSR_EL1 state.
    unsafe {
        core::arch::asm!(".arch_extension memtag", "irg {0}, {1}", out(reg) tagged, in(reg) va.as_u64(),
            options(nomem, nostack));
    }
    VirtAddr::new(tagged)
}

/// The logical tag of `va` (bits [59:56]).
pub fn tag_of(va: VirtAddr) -> u8 {
    tagged_addr::mte_tag(va.as_u64())
}

/// Sets the allocation tag of the granule at `va` to `va`'s logical tag (STG).
///
/// # Safety
/// `va` must be a granule-aligned address of mapped Tagged memory the caller
/// owns; other users of the granule see its new tag.
pub unsafe fn store_tag(va: VirtAddr) {
    // SAFETY: per the function contract.
    unsafe {
        core::arch::asm!(".arch_extension memtag", "stg {0}, [{0}]", in(reg) va.as_u64(), options(nostack));
    }
}

/// Reads the allocation tag of the granule holding `va` (LDG).
///
/// # Safety
/// `va` must be mapped; on memory without the Tagged attribute LDG reads 0.
pub unsafe fn load_tag(va: VirtAddr) -> u8 {
    let mut tagged = va.as_u64();
    // SAFETY: per the function contract; LDG only reads tag storage.
    unsafe {
        core::arch::asm!(".arch_extension memtag", "ldg {0}, [{1}]", inout(reg) tagged, in(reg) va.as_u64(),
            options(nostack, readonly));
    }
    tagged_addr::mte_tag(tagged)
}

/// Reads one byte at `va` with EL1 tag checking made synchronous
/// (SCTLR_EL1.TCF = sync, PSTATE.TCO = 0) for this one access; a fault comes
/// back as `Err(ESR_EL1)` through the exception fixup table.
///
/// # Safety
/// Tagging must be enabled, and the read must be harmless if it succeeds.
pub unsafe fn probe_read_checked(va: VirtAddr) -> Result<u8, super::esr::Esr> {
    use super::regs::SCTLR_EL1_EXT as S;
    let saved = SCTLR_EL1_EXT.get();
    SCTLR_EL1_EXT.modify(S::TCF::Sync);
    // SAFETY: PSTATE.TCO = 0 enables tag checks for the probe; its value
    // before is put back right after, so nothing else runs with checks it
    // did not ask for (or without those it had: the heap's tags).
    let result = unsafe {
        let tco: u64;
        core::arch::asm!(".arch_extension memtag", "mrs {0}, tco", "msr tco, #0", "isb", out(reg) tco, options(nostack));
        let r = super::fixup::probe_read(va);
        core::arch::asm!(".arch_extension memtag", "msr tco, {0}", in(reg) tco, options(nostack));
        r
    };
    SCTLR_EL1_EXT.set(saved);
    aarch64_cpu::asm::barrier::isb(aarch64_cpu::asm::barrier::SY);
    result
}

/// The logical tag every plain kernel pointer carries (its top byte is
/// 0xFF): with TCR_EL1.TCMA1 set, accesses through it are never checked.
pub use crate::mm::tagged_addr::MATCH_ALL_TAG;

/// Tags IRG never draws for the kernel: the match-all tag (a pointer with
/// it is unchecked) and tag 0 (what memory no one has tagged holds, and the
/// heap's record granules: mm/kasan.rs).
pub const KERNEL_EXCLUDED_TAGS: u16 = (1 << MATCH_ALL_TAG) | 1;

/// A random tag for a kernel allocation, drawn by IRG with GCR_EL1.Exclude
/// set to the kernel's exclusions for this one instruction, plus `exclude`
/// (one bit per tag: the neighbours' tags, or the tag being replaced).
/// GCR_EL1 holds the running task's include mask (prctl) while in the
/// kernel, so it is saved and put back around the IRG; Linux instead
/// switches GCR_EL1 at every kernel entry and exit (mte_set_kernel_gcr),
/// which would cost every system call two register writes.
pub fn random_kernel_tag(exclude: u16) -> u8 {
    let tagged: u64;
    // SAFETY: GCR_EL1 only steers IRG; it is restored before returning and
    // nothing between the two writes can run (interrupts are masked in the
    // kernel). The ISB makes the new exclusion mask visible to the IRG; the
    // restored value needs none: EL0 sees it only after an ERET, which is
    // context-synchronising, and every kernel IRG goes through here.
    unsafe {
        core::arch::asm!(
            ".arch_extension memtag",
            "mrs {saved}, S3_0_C1_C0_6",
            "and {tmp}, {saved}, #0xffffffffffff0000",
            "orr {tmp}, {tmp}, {kernel}",
            "msr S3_0_C1_C0_6, {tmp}",
            "isb",
            "irg {out}, {base}, {extra}",
            "msr S3_0_C1_C0_6, {saved}",
            saved = out(reg) _,
            tmp = out(reg) _,
            out = out(reg) tagged,
            kernel = in(reg) KERNEL_EXCLUDED_TAGS as u64,
            base = in(reg) 0u64,
            extra = in(reg) exclude as u64,
            options(nomem, nostack),
        );
    }
    tagged_addr::mte_tag(tagged)
}

/// Sets the allocation tags of `[va, va + len)` to `va`'s logical tag,
/// two granules per ST2G; with `zero`, STZ2G/STZG zero the data too.
///
/// # Safety
/// `va` and `len` must be granule-aligned and the range mapped, writable,
/// Tagged memory the caller owns: any other pointer into it stops matching.
pub unsafe fn set_tags(va: VirtAddr, len: usize, zero: bool) {
    debug_assert!(va.is_aligned(GRANULE as u64) && len.is_multiple_of(GRANULE));
    let mut p = va.as_u64();
    let end = p + len as u64;
    // SAFETY: per the function contract; each store stays inside the range.
    unsafe {
        if zero {
            while p + 2 * GRANULE as u64 <= end {
                core::arch::asm!(".arch_extension memtag", "stz2g {0}, [{0}]", in(reg) p, options(nostack));
                p += 2 * GRANULE as u64;
            }
            if p < end {
                core::arch::asm!(".arch_extension memtag", "stzg {0}, [{0}]", in(reg) p, options(nostack));
            }
        } else {
            while p + 2 * GRANULE as u64 <= end {
                core::arch::asm!(".arch_extension memtag", "st2g {0}, [{0}]", in(reg) p, options(nostack));
                p += 2 * GRANULE as u64;
            }
            if p < end {
                core::arch::asm!(".arch_extension memtag", "stg {0}, [{0}]", in(reg) p, options(nostack));
            }
        }
    }
}

/// How the kernel's own accesses are tag-checked (SCTLR_EL1.TCF).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KernelCheckMode {
    Sync,
    Async,
    /// Reads synchronous, writes asynchronous (FEAT_MTE3).
    Asymmetric,
}

/// Turns on tag checking of the kernel's own accesses (Linux's
/// mte_enable_kernel_sync/async/asymm): TCR_EL1.TCMA1 makes every pointer
/// with the match-all tag unchecked, so only pointers the heap tagged are
/// checked; SCTLR_EL1.TCF sets the mode; PSTATE.TCO is cleared.
pub fn enable_kernel_checks(mode: KernelCheckMode) {
    use super::regs::{SCTLR_EL1_EXT as S, TCR_EL1_EXT as T};
    super::regs::TCR_EL1_EXT.modify(T::TCMA1::SET);
    let tcf = match mode {
        KernelCheckMode::Sync => S::TCF::Sync,
        KernelCheckMode::Async => S::TCF::Async,
        KernelCheckMode::Asymmetric => S::TCF::Asymmetric,
    };
    TFSR_EL1.set(0);
    SCTLR_EL1_EXT.modify(tcf);
    aarch64_cpu::asm::barrier::isb(aarch64_cpu::asm::barrier::SY);
    // SAFETY: TCMA1 may be cached in TLB entries, as the TBI bits are.
    unsafe { core::arch::asm!("tlbi vmalle1", "dsb nsh", "isb", options(nostack)) };
    set_kernel_tag_checks(true);
}

/// Takes the kernel's asynchronous tag check fault, if one was recorded in
/// TFSR_EL1.TF1 since the last look (Linux's mte_check_tfsr_el1). The DSB
/// lets the kernel's earlier stores land their faults first.
pub fn take_kernel_async_fault() -> bool {
    use super::regs::TFSR::TF1;
    // SAFETY: a barrier.
    unsafe { core::arch::asm!("dsb ish", "isb", options(nostack)) };
    if TFSR_EL1.is_set(TF1) {
        TFSR_EL1.set(0);
        aarch64_cpu::asm::barrier::isb(aarch64_cpu::asm::barrier::SY);
        true
    } else {
        false
    }
}

/// Whether a kernel access whose tags mismatch faults now: tagging on,
/// SCTLR_EL1.TCF = sync and PSTATE.TCO clear (probe.rs relies on it).
pub fn kernel_checks_sync() -> bool {
    use super::regs::SCTLR_EL1_EXT as S;
    if !tagging_enabled() {
        return false;
    }
    let tco: u64;
    // SAFETY: reads PSTATE.TCO; tagging is on, so the register exists.
    unsafe { core::arch::asm!(".arch_extension memtag", "mrs {0}, tco", out(reg) tco, options(nostack, nomem)) };
    SCTLR_EL1_EXT.read(S::TCF) == 1 && tco == 0
}

/// Runs `f` with the kernel's tag checks asynchronous (SCTLR_EL1.TCF =
/// async) and says whether it left an asynchronous fault in TFSR_EL1
/// (cleared again); TCF is put back. For the self-test of the async path.
pub fn with_kernel_checks_async(f: impl FnOnce()) -> bool {
    use super::regs::SCTLR_EL1_EXT as S;
    let saved = SCTLR_EL1_EXT.get();
    let _ = take_kernel_async_fault();
    SCTLR_EL1_EXT.modify(S::TCF::Async);
    aarch64_cpu::asm::barrier::isb(aarch64_cpu::asm::barrier::SY);
    f();
    let recorded = take_kernel_async_fault();
    SCTLR_EL1_EXT.set(saved);
    aarch64_cpu::asm::barrier::isb(aarch64_cpu::asm::barrier::SY);
    recorded
}
