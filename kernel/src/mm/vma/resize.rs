//! Growing an area where it stands (mremap without a move): Linux's
//! vma_expandable, then the vma_merge that SYSCALL_DEFINE5(mremap) calls on
//! the extension, which also joins the next area when the grown one now
//! touches it and continues it (mm/mremap.c, mm/mmap.c).

use super::{Area, AreaSet};
use crate::mm::addr::VirtAddr;

/// Whether `next` continues `area`: it starts where `area` ends and is the
/// same in everything but its place, its pages following on in the backing
/// object (Linux's is_mergeable_vma and the pgoff test of
/// can_vma_merge_before). Every field of the area is compared, so one
/// added later takes part without a change here.
pub fn continues(area: &Area, next: &Area) -> bool {
    next.start == area.end
        && *next == Area { start: next.start, end: next.end, pgoff: area.page_index(next.start), ..area.clone() }
}

impl AreaSet {
    /// Extends the area that starts at `start` up to `new_end`, if no area
    /// lies in between (the caller checks the end against the user half),
    /// then merges it with the next area if that one continues it. Nothing
    /// changes on `Err`.
    pub fn grow_in_place(&mut self, start: VirtAddr, new_end: VirtAddr) -> Result<(), ()> {
        let end = self.areas.get(&start).ok_or(())?.end;
        if new_end <= end || self.overlaps(end, new_end) {
            return Err(());
        }
        let area = self.areas.get_mut(&start).expect("looked up above");
        area.end = new_end;
        let grown = area.clone();
        if let Some(next) = self.areas.get(&new_end) {
            if continues(&grown, next) {
                let next_end = next.end;
                self.areas.remove(&new_end);
                self.areas.get_mut(&start).expect("still there").end = next_end;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::{AreaFlags, Prot};
    use super::*;
    use crate::mm::addr::PAGE_SIZE;

    const P: u64 = PAGE_SIZE as u64;

    fn va(page: u64) -> VirtAddr {
        VirtAddr::new(0x10_0000 + page * P)
    }

    fn spans(set: &AreaSet) -> alloc::vec::Vec<(u64, u64, u64)> {
        set.iter().map(|a| ((a.start - va(0)) / P, (a.end - va(0)) / P, a.pgoff)).collect()
    }

    #[test]
    fn growing_into_the_hole_left_by_munmap_merges_the_pieces_again() {
        // mremap_test's "mremap expand merge": three pages, the middle one
        // unmapped, the first grown by one page: one area of three.
        let mut set = AreaSet::new();
        set.insert(Area::anonymous(va(0), va(3), Prot::READ | Prot::WRITE)).unwrap();
        set.remove_range(va(1), va(2)).unwrap();
        assert_eq!(set.grow_in_place(va(0), va(2)), Ok(()));
        assert_eq!(spans(&set), [(0, 3, 0)]);
    }

    #[test]
    fn a_neighbour_that_differs_is_not_merged() {
        let mut set = AreaSet::new();
        set.insert(Area::anonymous(va(0), va(1), Prot::READ)).unwrap();
        set.insert(Area { pgoff: 2, ..Area::anonymous(va(2), va(3), Prot::READ | Prot::WRITE) }).unwrap();
        set.insert(Area { pgoff: 7, ..Area::anonymous(va(4), va(5), Prot::READ) }).unwrap();
        assert_eq!(set.grow_in_place(va(0), va(2)), Ok(()));
        assert_eq!(spans(&set), [(0, 2, 0), (2, 3, 2), (4, 5, 7)], "other protection: two areas");
        let mut set = AreaSet::new();
        set.insert(Area::anonymous(va(0), va(1), Prot::READ)).unwrap();
        set.insert(Area { pgoff: 7, ..Area::anonymous(va(2), va(3), Prot::READ) }).unwrap();
        set.grow_in_place(va(0), va(2)).unwrap();
        assert_eq!(spans(&set), [(0, 2, 0), (2, 3, 7)], "its pages do not follow on");
        let mut set = AreaSet::new();
        set.insert(Area::anonymous(va(0), va(1), Prot::READ)).unwrap();
        set.insert(Area { flags: AreaFlags::MTE, pgoff: 1, ..Area::anonymous(va(1), va(2), Prot::READ) }).unwrap();
        assert!(!continues(set.find(va(0)).unwrap(), set.find(va(1)).unwrap()), "PROT_MTE differs");
    }

    #[test]
    fn growing_over_another_area_or_from_a_wrong_start_changes_nothing() {
        let mut set = AreaSet::new();
        set.insert(Area::anonymous(va(0), va(2), Prot::READ)).unwrap();
        set.insert(Area::anonymous(va(3), va(4), Prot::WRITE)).unwrap();
        assert_eq!(set.grow_in_place(va(0), va(4)), Err(()));
        assert_eq!(set.grow_in_place(va(1), va(3)), Err(()), "not an area's start");
        assert_eq!(set.grow_in_place(va(0), va(1)), Err(()), "not a growth");
        assert_eq!(spans(&set), [(0, 2, 0), (3, 4, 0)]);
    }
}
