//! Moving and growing areas with their pages (mremap): Linux's move_vma
//! and the in-place growth of SYSCALL_DEFINE5(mremap), mm/mremap.c. The
//! checks and the choice between growing and moving are the system
//! call's (syscall/mremap.rs); here the areas and page tables change.
//!
//! A move copies no frame: the page-table entries themselves move
//! (mmu/table/moving.rs), so private pages, copy-on-write pages shared
//! with a fork, the zero page, reference pages and shared-memory pages all
//! arrive as they were, frames and tags alike. The old addresses' TLB
//! entries are invalidated before the old range is unmapped or returned
//! to the program (docs/fault-path.md, "Moving pages: mremap").

use crate::arch::aarch64::mmu::table::moving::{Moved, Stopped};
use crate::arch::aarch64::mmu::user_tables::FrameTables;

use super::{AddressSpace, OutOfMemory, AREA_HEAP_BYTES};
use crate::mm::addr::VirtAddr;
use crate::mm::vma::{Area, Backing};

impl AddressSpace {
    /// Moves `[old, old + old_len)`, which lies inside one area, to
    /// `[new, new + new_len)`, where there is no area: the new area is a
    /// copy of the old one whole (every attribute travels), starting at
    /// the backing object's page that `old` showed, and the page entries
    /// move to it. With `keep_old` the old range keeps its area, emptied
    /// of pages, so the next touch faults in fresh ones (MREMAP_DONTUNMAP,
    /// and Linux's old_len 0 duplicate of a shared mapping); otherwise it
    /// is unmapped. On `Err` (no memory for the new area or for the
    /// destination's tables) nothing has changed.
    pub fn move_range(
        &mut self,
        old: VirtAddr,
        old_len: u64,
        new: VirtAddr,
        new_len: u64,
        keep_old: bool,
    ) -> Result<(), OutOfMemory> {
        let area = self.areas.find(old).cloned().ok_or(OutOfMemory)?;
        debug_assert!(old + old_len <= area.end);
        // The new area, and up to two pieces the old one may be cut into.
        if !crate::mm::heap::can_spare(3 * AREA_HEAP_BYTES) {
            return Err(OutOfMemory);
        }
        let moved_area = Area { start: new, end: new + new_len, pgoff: area.page_index(old), ..area.clone() };
        self.areas.insert(moved_area).map_err(|()| OutOfMemory)?;
        // Order rule: each moved entry (and each moved table's old way in)
        // invalidated on every CPU before the old range is unmapped or
        // handed back; tables freed after the flush of the whole ASID.
        let mut gather = self.gather();
        let mut note = |m: Moved| match m {
            Moved::Page(va) => gather.invalidate(va),
            // A moved table may sit in the walk caches, which only a flush
            // by ASID (not by last-level VA) clears.
            Moved::Table(..) => gather.tables_changed(),
        };
        let result = self.table().move_pages(&mut FrameTables, old, new, old_len, &mut note);
        if let Err(Stopped { done, .. }) = result {
            // Back to where they were: the source tables are all still
            // there, so this needs no memory. Another thread may have
            // reached the new addresses meanwhile: their TLB entries go too.
            let _ = self.table().move_pages(&mut FrameTables, new, old, done, &mut note);
            let _ = self.areas.remove_range(new, new + new_len);
            // The tables made for the destination go as munmap's would,
            // freed after the gather's flush by ASID.
            let hole = self.areas.hole_around(new, new + new_len, VirtAddr::new(crate::exec::layout::USER_END));
            self.table().free_tables(&mut FrameTables, (new, new + new_len), hole, &mut |pa| gather.remove_table(pa));
            return Err(OutOfMemory);
        }
        // No TLB entry of an old address is left after this.
        drop(gather);
        if !keep_old && old_len > 0 {
            // Only areas and emptied tables go: the pages have left. Linux
            // ignores a failure here too (move_vma: "OOM: unable to split
            // vma"); the caller checked there is room for the split.
            let _ = self.unmap(old, old + old_len);
        }
        // The vDSO's text moved whole (Linux's vdso_mremap): signal
        // handlers return to its new place.
        if area.backing == Backing::VdsoText && self.vdso == Some(old) {
            self.vdso = Some(new);
        }
        Ok(())
    }

    /// Grows the area that starts at `area_start` to `new_end` where it stands,
    /// merging it with the next area if that one continues it
    /// (vma/resize.rs). `Err` if another area is in the way.
    pub fn grow_in_place(&mut self, area_start: VirtAddr, new_end: VirtAddr) -> Result<(), ()> {
        self.areas.grow_in_place(area_start, new_end)
    }
}
