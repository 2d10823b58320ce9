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
use crate::mm::frame::{self, Clear};

/// Tables in ordinary frames, reached through the linear map.
pub struct FrameTables;

impl TableMemory for FrameTables {
    #[inline(always)]
    fn table(&mut self, pa: PhysAddr) -> *mut Table {
        phys_to_virt(pa).as_mut_ptr()
    }
    fn alloc_table(&mut self) -> Option<PhysAddr> {
        Some(frame::alloc_zeroed(Clear::Data)?.start())
    }
    fn free_unlinked_table(&mut self, pa: PhysAddr) {
        frame::put(frame::Frame::containing(pa));
    }
}

// A table that was linked goes back only through a gather
// (mm/tlb_gather.rs), after the invalidation that retires it; only one
// that lost its install race (never linked) is freed at once.

/// Makes `root` the user half on this CPU with `asid`'s ASID, assigning a
/// new one if its generation has passed (TTBR0_EL1.ASID with TCR_EL1.A1 =
/// 0), and lets the MMU walk it (TCR_EL1.EPD0 = 0). No TLB flush unless a
/// new ASID generation began since this CPU last installed a space:
/// entries of other address spaces carry other ASIDs. After a rollover
/// this CPU's whole TLB is invalidated (locally: every CPU does its own at
/// its next install, mmu/asid.rs) before the new TTBR0 goes in, under the
/// allocator's lock, as Linux's check_and_switch_context does: the new
/// ASID then finds no entry another space left under it, and the walks
/// that may still run through the previous TTBR0 until the switch fill
/// entries only of that TTBR0's ASID, which the rollover reserved for this
/// CPU (so no other space is given it).
pub fn install(root: PhysAddr, asid: &Asid) {
    let cpu = crate::arch::aarch64::cpu_local::this_cpu().index();
    let mut asids = ASIDS.lock();
    let assigned = asids.assign(cpu, asid.0.load(Ordering::Relaxed));
    asid.0.store(assigned.id, Ordering::Relaxed);
    if assigned.flush_local {
        crate::arch::aarch64::tlb::flush_all_local();
    }
    TTBR0_EL1.set(root.as_u64() | ((asid_of(assigned.id) as u64) << 48));
    // The new TTBR0 in effect before walks are allowed (`uninstall`'s
    // order, reversed): else a walk could still use the 0 left there.
    aarch64_cpu::asm::barrier::isb(aarch64_cpu::asm::barrier::SY);
    TCR_EL1.modify(TCR_EL1::EPD0::EnableTTBR0Walks);
    aarch64_cpu::asm::barrier::isb(aarch64_cpu::asm::barrier::SY);
    drop(asids);
}

/// Empties the user half of this CPU if it is `root`'s: an address space
/// being freed must not stay reachable from any TTBR0, where speculative
/// walks could still read its tables (`AddressSpace`'s drop).
pub fn uninstall_if(root: PhysAddr) {
    if TTBR0_EL1.get() & TTBR_BADDR_MASK == root.as_u64() {
        uninstall();
    }
}

/// TTBR0_EL1.BADDR (bits 47:1; a table is 4 KiB aligned).
const TTBR_BADDR_MASK: u64 = 0x0000_ffff_ffff_f000;

/// Empties the user half again: no walks through TTBR0.
///
/// Walks are off (EPD0, made effective by an ISB) *before* TTBR0 changes:
/// writes to two system registers with no context synchronization between
/// them may take effect in either order for the table walker (Arm ARM
/// (DDI 0487K.a), "Synchronization requirements for AArch64 System
/// registers"), and a walk with TTBR0 = 0 and walks still on would
/// read physical address 0 (QEMU virt's flash) as a level-0 table, and
/// could load what it finds there into the TLB, even as global entries
/// that every ASID would hit. Linux never points TTBR0 at anything but a
/// real table (cpu_set_reserved_ttbr0: the zeroed reserved_pg_dir).
pub fn uninstall() {
    TCR_EL1.modify(TCR_EL1::EPD0::DisableTTBR0Walks);
    aarch64_cpu::asm::barrier::isb(aarch64_cpu::asm::barrier::SY);
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

/// `asid_bits=8` on the command line: hand out only the 255 ASIDs of an
/// 8-bit CPU even where the CPU has 16 bits, so that a test boot with more
/// than 255 address spaces goes through ASID rollovers (QEMU's `max` CPU
/// has 16-bit ASIDs, and would never roll over). Boot only, before any user
/// space exists; any other value is ignored.
pub fn limit_asids(arg: Option<&str>) {
    if arg == Some("8") {
        ASIDS.lock().set_bits(8);
        log::info!("ASIDs limited to 8 bits (asid_bits=8): rollovers past 255 address spaces");
    }
}

/// An address space's ASID (mmu/asid.rs): its id as last assigned, checked
/// and renewed when the space is installed. Freed ASIDs are flushed before
/// reuse.
#[derive(Debug, Default)]
pub struct Asid(AtomicU64);

/// The allocator and its lock (Linux's cpu_asid_lock), taken by every
/// install and release. Taken with the big kernel lock and, at the switch
/// that installs a space, the shared side of that space's lock
/// (mm/mmap_lock.rs) held; nothing is taken under it.
static ASIDS: SpinLock<AsidAllocator> = SpinLock::new(Rank::Asids, AsidAllocator::new());

const _: () = assert!(super::asid::CPUS == crate::arch::aarch64::cpu_local::MAX_CPUS);

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
    /// The space is installed on no CPU (its drop switched this CPU's TTBR0
    /// away; the others' runners uninstall it when its task leaves them):
    /// its ASID is free again once its entries are gone from every TLB.
    fn drop(&mut self) {
        let mut asids = ASIDS.lock();
        if let Some(asid) = asids.release(*self.0.get_mut()) {
            // Under the lock: no other CPU can be handed the ASID before
            // the broadcast invalidation has completed.
            crate::arch::aarch64::tlb::flush_asid(asid);
        }
    }
}
