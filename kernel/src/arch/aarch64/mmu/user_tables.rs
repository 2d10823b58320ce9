//! User translation tables: where their frames come from, and installing a
//! process's tree in TTBR0 with its ASID (sized and handed out in mmu/asid.rs).

use core::sync::atomic::{AtomicU64, Ordering};

use aarch64_cpu::registers::{ID_AA64MMFR0_EL1, TCR_EL1, TTBR0_EL1};
use tock_registers::interfaces::{ReadWriteable, Readable, Writeable};

use super::asid::{asid_of, AsidAllocator};
use crate::sync::{Rank, SpinLock};

use super::layout::phys_to_virt;
use super::table::{Table, TableMemory};
use crate::mm::addr::PhysAddr;
use crate::mm::frame::{self, Clear, Frame};

/// Tables in ordinary frames, reached through the linear map.
pub struct FrameTables;

impl TableMemory for FrameTables {
    fn table(&mut self, pa: PhysAddr) -> *mut Table {
        phys_to_virt(pa).as_mut_ptr()
    }
    fn alloc_table(&mut self) -> Option<PhysAddr> {
        Some(frame::alloc_zeroed(Clear::Data)?.start())
    }
}

/// Returns a table frame obtained from [`FrameTables`].
pub fn free_table(pa: PhysAddr) {
    frame::put(Frame::containing(pa));
}

/// Makes `root` the user half with `asid`'s ASID, assigning a new one if
/// its generation has passed (TTBR0_EL1.ASID with TCR_EL1.A1 = 0), and lets
/// the MMU walk it (TCR_EL1.EPD0 = 0). No TLB flush unless a new ASID
/// generation began: entries of other address spaces carry other ASIDs.
/// After a rollover the whole TLB is invalidated once the new TTBR0 is in:
/// nothing can then refill entries of an old-generation ASID, which another
/// space may be given next (the walks through the previous TTBR0 are gone).
pub fn install(root: PhysAddr, asid: &Asid) {
    let assigned = ASIDS.lock().assign(asid.0.load(Ordering::Relaxed));
    asid.0.store(assigned.id, Ordering::Relaxed);
    TTBR0_EL1.set(root.as_u64() | ((asid_of(assigned.id) as u64) << 48));
    TCR_EL1.modify(TCR_EL1::EPD0::EnableTTBR0Walks);
    aarch64_cpu::asm::barrier::isb(aarch64_cpu::asm::barrier::SY);
    if assigned.flush_all {
        crate::arch::aarch64::tlb::flush_all();
    }
}

/// Empties the user half again: no walks through TTBR0.
pub fn uninstall() {
    TCR_EL1.modify(TCR_EL1::EPD0::DisableTTBR0Walks);
    TTBR0_EL1.set(0);
    aarch64_cpu::asm::barrier::isb(aarch64_cpu::asm::barrier::SY);
}

/// Sizes the ASIDs from the CPU (ID_AA64MMFR0_EL1.ASIDBits): 16 bits, with
/// TCR_EL1.AS set, where it has them, 8 otherwise. Once, at boot, before
/// any user space exists.
pub fn init_asids() {
    let bits = if ID_AA64MMFR0_EL1.read(ID_AA64MMFR0_EL1::ASIDBits) == 0b0010 {
        TCR_EL1.modify(TCR_EL1::AS::ASID16Bits);
        16
    } else {
        8
    };
    ASIDS.lock().set_bits(bits);
}

/// An address space's ASID (mmu/asid.rs): its id as last assigned, checked
/// and renewed when the space is installed. Freed ASIDs are flushed before
/// reuse.
#[derive(Debug, Default)]
pub struct Asid(AtomicU64);

static ASIDS: SpinLock<AsidAllocator> = SpinLock::new(Rank::Asids, AsidAllocator::new());

impl Asid {
    /// None yet: one is assigned when the space is first installed.
    pub fn new() -> Self {
        Self(AtomicU64::new(0))
    }

    /// The ASID last assigned, for TLB maintenance of this space's pages.
    /// After a rollover it may be another space's: invalidating its entries
    /// then costs that space refills, never correctness (this space has no
    /// entries until it is installed again, with a new ASID).
    pub fn value(&self) -> u16 {
        asid_of(self.0.load(Ordering::Relaxed))
    }
}

impl Drop for Asid {
    fn drop(&mut self) {
        if let Some(asid) = ASIDS.lock().release(*self.0.get_mut()) {
            crate::arch::aarch64::tlb::flush_asid(asid);
        }
    }
}
