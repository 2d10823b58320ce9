//! A user address space: the translation tables in TTBR0, their ASID, and
//! the areas that say what may be mapped.
//!
//! Frames mapped in a user space are owned by it and freed with it. Pages
//! are mapped on the first fault (`mm::fault`) except where the loader fills
//! them with file data or the initial stack.

use crate::arch::aarch64::mmu::pte::{Attributes, MapFlags, MemoryType};
use crate::arch::aarch64::mmu::table::PageTable;
use crate::arch::aarch64::mmu::user_tables::{self, Asid, FrameTables};
use crate::arch::aarch64::mmu::layout::phys_to_virt;
use crate::arch::aarch64::tlb;

use super::addr::{VirtAddr, PAGE_SIZE};
use super::frame::{self, Clear, Frame};
use super::vma::{Area, AreaSet, Prot};

/// Out of frames (or ASIDs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutOfMemory;

pub struct AddressSpace {
    table: Option<PageTable>,
    asid: Asid,
    areas: AreaSet,
}

/// The descriptor attributes for a user page with `prot`. PROT_NONE pages
/// keep their frame but are not accessible from EL0 (AP = EL1 only).
pub fn user_attributes(prot: Prot) -> Attributes {
    let mut flags = MapFlags::empty();
    if !prot.is_empty() {
        flags |= MapFlags::USER;
        flags.set(MapFlags::WRITE, prot.contains(Prot::WRITE));
        flags.set(MapFlags::USER_EXEC, prot.contains(Prot::EXEC));
    }
    Attributes::new(MemoryType::Normal, flags)
}

impl AddressSpace {
    pub fn new() -> Result<Self, OutOfMemory> {
        let asid = Asid::alloc().ok_or(OutOfMemory)?;
        let table = PageTable::new(&mut FrameTables).map_err(|_| OutOfMemory)?;
        Ok(Self { table: Some(table), asid, areas: AreaSet::new() })
    }

    fn table(&mut self) -> &mut PageTable {
        self.table.as_mut().expect("the table lives as long as the space")
    }

    /// Makes this the user half of the address space (TTBR0).
    pub fn activate(&self) {
        let root = self.table.as_ref().expect("live table").root();
        user_tables::install(root, self.asid.value());
    }

    pub fn areas(&self) -> &AreaSet {
        &self.areas
    }

    /// Maps a fresh zeroed frame at page `va` with `data` copied in at
    /// `offset` (for loading file contents and the initial stack).
    pub fn map_page_with(&mut self, va: VirtAddr, offset: u64, data: &[u8], prot: Prot) -> Result<(), OutOfMemory> {
        assert!(offset as usize + data.len() <= PAGE_SIZE && va.is_aligned(PAGE_SIZE as u64));
        let f = frame::alloc_zeroed(Clear::Data).ok_or(OutOfMemory)?;
        let dst = phys_to_virt(f.start()).as_mut_ptr::<u8>();
        // SAFETY: a frame we just allocated, reached through the linear map;
        // offset + len stays inside it (asserted above).
        unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), dst.add(offset as usize), data.len()) };
        self.map_frame(va, f, prot)
    }

    /// Maps a zeroed frame at the page holding `va` (an anonymous fault).
    pub fn map_zeroed_page(&mut self, va: VirtAddr, prot: Prot) -> Result<(), OutOfMemory> {
        let f = frame::alloc_zeroed(Clear::Data).ok_or(OutOfMemory)?;
        self.map_frame(va.align_down(PAGE_SIZE as u64), f, prot)
    }

    fn map_frame(&mut self, va: VirtAddr, f: Frame, prot: Prot) -> Result<(), OutOfMemory> {
        let result = self.table().map_range(&mut FrameTables, va, f.start(), PAGE_SIZE as u64, user_attributes(prot), false);
        if result.is_err() {
            frame::free(f);
            return Err(OutOfMemory);
        }
        Ok(())
    }

    /// Unmaps and frees every page in `[start, end)` and removes the areas
    /// there (munmap).
    pub fn unmap(&mut self, start: VirtAddr, end: VirtAddr) {
        for area in self.areas.remove_range(start, end) {
            let mut va = area.start;
            while va < area.end {
                if let Some(pa) = self.table().unmap_page(&mut FrameTables, va) {
                    tlb::flush_user_page(self.asid.value(), va.as_u64());
                    frame::free(Frame::containing(pa));
                }
                va = va + PAGE_SIZE as u64;
            }
        }
    }

    /// Changes the protection of `[start, end)`, areas and present pages
    /// alike (mprotect). `Err` if part of the range has no area.
    pub fn protect(&mut self, start: VirtAddr, end: VirtAddr, prot: Prot) -> Result<(), ()> {
        self.areas.protect_range(start, end, prot)?;
        let attrs = user_attributes(prot);
        let mut va = start;
        while va < end {
            if self.table().set_page_attrs(&mut FrameTables, va, attrs) {
                tlb::flush_user_page(self.asid.value(), va.as_u64());
            }
            va = va + PAGE_SIZE as u64;
        }
        Ok(())
    }

    /// Adds an area (pages come on first touch).
    pub fn add_area(&mut self, area: Area) -> Result<(), ()> {
        self.areas.insert(area)
    }
}

impl Drop for AddressSpace {
    fn drop(&mut self) {
        if let Some(table) = self.table.take() {
            table.destroy(&mut FrameTables, &mut |_, pa| frame::free(Frame::containing(pa)), &mut user_tables::free_table);
        }
        // Dropping the ASID flushes its TLB entries before it can be reused.
    }
}
