//! User translation tables: where their frames come from, and installing a
//! process's tree in TTBR0 with its ASID.

use aarch64_cpu::registers::{TCR_EL1, TTBR0_EL1};
use tock_registers::interfaces::{ReadWriteable, Writeable};

use super::layout::phys_to_virt;
use super::table::{Table, TableMemory};
use crate::bitmap::Bitmap;
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
    frame::free(Frame::containing(pa));
}

/// Makes `root` the user half, tagged with `asid` (TTBR0_EL1.ASID with
/// TCR_EL1.A1 = 0), and lets the MMU walk it (TCR_EL1.EPD0 = 0). No TLB
/// flush: entries of other address spaces carry other ASIDs.
pub fn install(root: PhysAddr, asid: u16) {
    TTBR0_EL1.set(root.as_u64() | ((asid as u64) << 48));
    TCR_EL1.modify(TCR_EL1::EPD0::EnableTTBR0Walks);
    aarch64_cpu::asm::barrier::isb(aarch64_cpu::asm::barrier::SY);
}

/// Empties the user half again: no walks through TTBR0.
pub fn uninstall() {
    TCR_EL1.modify(TCR_EL1::EPD0::DisableTTBR0Walks);
    TTBR0_EL1.set(0);
    aarch64_cpu::asm::barrier::isb(aarch64_cpu::asm::barrier::SY);
}

/// An address-space identifier (TTBR0_EL1.ASID, 16 bits with TCR_EL1.AS):
/// TLB entries of user pages are tagged with it, so switching address
/// spaces needs no TLB flush. Freed ASIDs are flushed before reuse.
#[derive(Debug)]
pub struct Asid(u16);

/// Which of the 65536 ASIDs are taken (as Linux's asid_map), and where the
/// next search starts: after the last ASID handed out.
struct AsidMap {
    taken: Bitmap<1024>,
    next: usize,
}

static ASIDS: spin::Mutex<AsidMap> = spin::Mutex::new(AsidMap { taken: Bitmap::new(), next: 1 });

impl Asid {
    /// A free ASID (0 is never used: it is the "no process" value).
    pub fn alloc() -> Option<Self> {
        let mut map = ASIDS.lock();
        let i = map.taken.first_clear_from(map.next, 1)?;
        map.taken.set(i);
        map.next = i + 1;
        Some(Self(i as u16))
    }
    pub fn value(&self) -> u16 {
        self.0
    }
}

impl Drop for Asid {
    fn drop(&mut self) {
        crate::arch::aarch64::tlb::flush_asid(self.0);
        ASIDS.lock().taken.clear(self.0 as usize);
    }
}
