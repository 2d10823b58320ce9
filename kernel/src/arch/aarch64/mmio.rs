//! Device registers: a block of MMIO claimed once from the device tree's
//! physical address, mapped as Device memory in the MMIO window, then used
//! through its register layout (tock-registers, offsets checked when the
//! layout is compiled) with safe calls, as Linux's drivers use readl/writel
//! on an ioremap()ed base. The drivers in drivers/ hold no unsafe code.

use alloc::vec::Vec;
use core::ops::Deref;

use crate::sync::{Rank, SpinLock};

use super::mmu::kernel_map;
use super::mmu::table::MapError;
use super::mmu::layout::phys_to_virt;
use crate::mm::addr::{PhysAddr, PhysRange, PAGE_SIZE};

/// A register layout that may be placed over device memory: every field
/// is a tock-registers register (an `UnsafeCell` read and written only by
/// volatile accesses) or reserved padding no code reads.
///
/// # Safety
/// The implementer must be such a `register_structs!` layout.
pub unsafe trait RegisterBlock {}

// SAFETY: both are register_structs! layouts of tock-registers registers.
unsafe impl RegisterBlock for crate::drivers::pl011::Registers {}
// SAFETY: as above.
unsafe impl RegisterBlock for crate::drivers::gic_v2::Distributor {}
// SAFETY: as above.
unsafe impl RegisterBlock for crate::drivers::gic_v2::CpuInterface {}

/// Why a block could not be claimed.
#[derive(Debug)]
pub enum MmioError {
    /// The range is shorter than the layout, or not aligned for it.
    BadRange,
    /// The range overlaps RAM (the linear map): not device memory.
    Ram,
    /// The range overlaps one claimed before: it has a driver already.
    Claimed,
    Map(MapError),
}

impl core::fmt::Display for MmioError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::BadRange => f.write_str("range too short or misaligned for the registers"),
            Self::Ram => f.write_str("range overlaps RAM"),
            Self::Claimed => f.write_str("range already claimed by a driver"),
            Self::Map(e) => write!(f, "cannot map: {:?}", e),
        }
    }
}

/// Physical ranges claimed so far, so no device is driven twice.
static CLAIMED: SpinLock<Vec<PhysRange>> = SpinLock::new(Rank::MmioClaimed, Vec::new());

/// A claimed register block of layout `T`.
pub struct Mmio<T: RegisterBlock + 'static> {
    regs: &'static T,
}

// SAFETY: the block is claimed once (`claim` refuses an overlapping range),
// so the value is its only handle. Every access is one aligned volatile load
// or store to Device-nGnRE memory through an `UnsafeCell`, single-copy
// atomic (Arm ARM (DDI 0487K.a) B2.2.1), so two CPUs touching registers at
// once race only as the device sees it, never in Rust's memory model;
// sequences that must not interleave are the driver's to lock.
unsafe impl<T: RegisterBlock> Send for Mmio<T> {}
// SAFETY: as for Send.
unsafe impl<T: RegisterBlock> Sync for Mmio<T> {}

impl<T: RegisterBlock> Mmio<T> {
    /// Maps `[pa, pa + size)` (from the device tree) as Device memory and
    /// lays `T` over it. Refuses a range shorter than `T` or misaligned for
    /// it, any overlap with RAM, and a range claimed before.
    pub fn claim(pa: PhysAddr, size: u64) -> Result<Self, MmioError> {
        if (size as usize) < core::mem::size_of::<T>() || !pa.is_aligned(core::mem::align_of::<T>() as u64) {
            return Err(MmioError::BadRange);
        }
        let range = PhysRange::from_start_size(pa, size);
        let mut claimed = CLAIMED.lock();
        if claimed.iter().any(|c| c.start < range.end && range.start < c.end) {
            return Err(MmioError::Claimed);
        }
        let mut page = pa.align_down(PAGE_SIZE as u64);
        while page < range.end {
            if kernel_map::lookup(phys_to_virt(page)).is_some() {
                return Err(MmioError::Ram);
            }
            page = page + PAGE_SIZE as u64;
        }
        let va = kernel_map::map_mmio(pa, size).map_err(MmioError::Map)?;
        claimed.push(range);
        // SAFETY: `va` is a fresh mapping of `size` >= size_of::<T>() bytes
        // of device memory (not RAM), suitably aligned, never unmapped, and
        // no other handle to that device exists (checked above). `T` is a
        // RegisterBlock: only volatile accesses through UnsafeCell.
        Ok(Self { regs: unsafe { &*va.as_ptr::<T>() } })
    }
}

impl<T: RegisterBlock> Deref for Mmio<T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.regs
    }
}
