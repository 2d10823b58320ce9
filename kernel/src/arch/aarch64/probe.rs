//! Safe probes for the self-tests, which fault on purpose: loads and
//! stores whose fault comes back as `Err(ESR_EL1)` through the fixup table
//! (fixup.rs), and one load with no fixup, whose fault ends the kernel.
//!
//! What makes them safe: a load from Normal memory has no side effect, and
//! this kernel maps Device memory only in its MMIO window (mmio.rs; no user
//! mapping is ever Device memory), which every load here refuses. A store
//! goes only to memory the caller holds `&mut` to, or where the tag check
//! is sure to stop it. Misuse is a kernel bug and panics.

use super::esr::Esr;
use super::mmu::layout::MMIO_BASE;
use super::{fixup, mte};
use crate::mm::addr::VirtAddr;

/// `va` is outside the MMIO window (in either tag form).
fn assert_not_device(va: VirtAddr) {
    let kernel_half = va.as_u64() & (1 << 55) != 0;
    assert!(
        !(kernel_half && va.with_match_all_tag().as_u64() >= MMIO_BASE),
        "probe of {:#x}, in the MMIO window",
        va.as_u64()
    );
}

/// One byte at `va` (LDRB), or the fault.
pub fn read(va: VirtAddr) -> Result<u8, Esr> {
    assert_not_device(va);
    // SAFETY: not Device memory (checked): the load has no side effect.
    unsafe { fixup::probe_read(va) }
}

/// As [`read`], with PSTATE.PAN cleared for the one load.
pub fn read_without_pan(va: VirtAddr) -> Result<u8, Esr> {
    assert_not_device(va);
    // SAFETY: as in `read`; PAN is set again before the call returns.
    unsafe { fixup::probe_read_without_pan(va) }
}

/// As [`read`], with the unprivileged LDTRB (checked as an EL0 access).
pub fn read_unprivileged(va: VirtAddr) -> Result<u8, Esr> {
    assert_not_device(va);
    // SAFETY: as in `read`.
    unsafe { fixup::probe_read_unprivileged(va) }
}

/// As [`read`], tag-checked synchronously for this one load. Tagging must
/// be on.
pub fn read_tag_checked(va: VirtAddr) -> Result<u8, Esr> {
    assert!(mte::tagging_enabled(), "a tag-checked probe with tagging off");
    assert_not_device(va);
    // SAFETY: tagging is on (checked); a load without side effects.
    unsafe { mte::probe_read_checked(va) }
}

/// AArch64 `RET`.
const RET: u32 = 0xd65f_03c0;

/// Branches (BLR) to `va`, which must hold a RET as EL0 may read it: `Ok`
/// if EL1 ran it, else the instruction abort. The RET is read first with
/// LDTRB, so that running it, if nothing stops the fetch, only returns.
/// Nothing else may write the page meanwhile (the self-tests run before
/// any process).
pub fn execute_ret(va: VirtAddr) -> Result<(), Esr> {
    let mut word = [0u8; 4];
    for (i, b) in word.iter_mut().enumerate() {
        *b = read_unprivileged(va + i as u64)?;
    }
    assert!(u32::from_le_bytes(word) == RET, "execute probe of {:#x}: not a RET", va.as_u64());
    // SAFETY: the code at `va` is a RET (checked): a C function of no
    // arguments that returns at once.
    unsafe { fixup::probe_execute(va) }
}

/// Stores `byte` into the first byte of `target` through a pointer with
/// logical tag `tag`: a mismatch is a tag check fault (`Err`) when checks
/// are synchronous, and goes through, recorded in TFSR_EL1, when they are
/// asynchronous. Either way only the caller's own `target` may change.
pub fn write_with_tag(target: &mut u64, tag: u8, byte: u8) -> Result<(), Esr> {
    let va = mte::with_tag(VirtAddr::from_ptr(target as *mut u64), tag);
    // SAFETY: a byte of `target`, borrowed exclusively; any byte value
    // leaves a u64 valid.
    unsafe { fixup::probe_write(va, byte) }
}

/// Stores `byte` at `va`, a heap address whose pointer tag differs from
/// its memory's, with the kernel's tag checks synchronous: the store must
/// fault, and the fault (`Err`) is what the caller wants to see; nothing is
/// written. Panics if any of that does not hold. The tag is read, then
/// the store made: nothing may retag the granule between (the self-tests
/// run before any other task).
pub fn write_expecting_tag_fault(va: VirtAddr, byte: u8) -> Result<(), Esr> {
    let memory = crate::mm::kasan::heap_tag(va);
    assert!(
        mte::kernel_checks_sync()
            && mte::tag_of(va) != mte::MATCH_ALL_TAG
            && memory.is_some_and(|m| m != mte::tag_of(va)),
        "store probe of {:#x}: not sure to fault (memory tag {:?})",
        va.as_u64(),
        memory
    );
    // SAFETY: the store faults (checked above) and writes nothing.
    unsafe { fixup::probe_write(va, byte) }
}

/// An 8-byte load at `va` with no fixup: a fault ends the kernel in the
/// panic report (`selftest=panic`, `selftest=heap-use-after-free`).
pub fn load_without_fixup(va: VirtAddr) -> u64 {
    assert_not_device(va);
    let value: u64;
    // SAFETY: not Device memory (checked): the load has no side effect; a
    // fault is not resumed.
    unsafe { core::arch::asm!("ldr {v}, [{a}]", a = in(reg) va.as_u64(), v = out(reg) value, options(nostack, readonly)) };
    value
}
