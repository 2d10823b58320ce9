//! Moving the entries of one range of a tree to another (mremap): the
//! descriptors themselves move, unchanged, so the pages they map (and the
//! allocation tags those frames hold) go with them and no frame is copied
//! (Linux's move_page_tables, mm/mremap.c).
//!
//! Where a whole next-level table lies inside the range and the
//! destination has the same alignment within that table's span, the one
//! table entry moves instead of its 512 entries, as Linux's move_normal_pmd
//! and move_normal_pud do (arm64 has HAVE_MOVE_PMD and HAVE_MOVE_PUD). The
//! caller then invalidates the walk caches too, not only the last level
//! ([`Moved::Table`]).
//!
//! Every source entry is made invalid as it moves; the destination entries
//! must be invalid before (the caller unmapped the destination): making an
//! invalid entry valid needs no break-before-make. The TLB entries of the
//! old addresses are the caller's to invalidate before anything can use
//! the old range again.

use core::ops::ControlFlow;

use super::{level_size, Descriptor, Entry, PageTable, TableMemory, ENTRIES};
use crate::mm::addr::{PhysAddr, VirtAddr, PAGE_SIZE};

/// One move made, for the caller's TLB maintenance of the old address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Moved {
    /// The page entry for this old address moved.
    Page(VirtAddr),
    /// A whole table moved: the old addresses `[start, start + span)`
    /// lost their translations and the walk-cache entries above them.
    Table(VirtAddr, u64),
}

/// Why a move stopped part-way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MoveStop {
    /// No memory for a destination table.
    OutOfTables,
    /// A destination entry was valid: nothing is ever overwritten here.
    Occupied,
}

/// A move that stopped: every entry below `from + done` moved, none at or
/// above it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stopped {
    pub reason: MoveStop,
    pub done: u64,
}

/// The destination's level-3 table for the last 2 MiB window a page moved
/// into: pages come in runs, and one walk serves 512 of them.
struct DestinationCache {
    window: Option<(u64, *mut u64)>,
}

struct Move {
    from: u64,
    end: u64,
    to: u64,
}

impl Move {
    fn destination(&self, va: u64) -> u64 {
        va - self.from + self.to
    }
}

impl PageTable {
    /// Moves every valid entry mapping a page of `[from, from + len)` to the
    /// same offset from `to`, creating the destination tables that are
    /// missing, and calls `moved` for each move. The ranges must not
    /// overlap, both page aligned. Stops at the first destination table
    /// that cannot be allocated or the first valid destination entry.
    /// Moving back what was moved (`to` to `from`, `done` bytes) needs no
    /// new table: the source tables stay until the caller frees them.
    pub fn move_pages(
        &mut self,
        mem: &mut impl TableMemory,
        from: VirtAddr,
        to: VirtAddr,
        len: u64,
        moved: &mut impl FnMut(Moved),
    ) -> Result<(), Stopped> {
        // Tables change place: page_slot's remembered one may be among them.
        self.forget_walk();
        let page = PAGE_SIZE as u64;
        debug_assert!(from.is_aligned(page) && to.is_aligned(page) && len.is_multiple_of(page));
        debug_assert!(from + len <= to || to + len <= from, "overlapping move");
        if len == 0 {
            return Ok(());
        }
        let m = Move { from: from.as_u64(), end: from.as_u64() + len, to: to.as_u64() };
        let mut cache = DestinationCache { window: None };
        let mut at = m.from;
        match walk(self, mem, self.root, 0, 0, &m, &mut cache, &mut at, moved) {
            ControlFlow::Continue(()) => Ok(()),
            ControlFlow::Break(reason) => Err(Stopped { reason, done: at - m.from }),
        }
    }
}

/// The walk over the source tables that exist, in address order; `at` is
/// where the next move would start (everything below it moved).
#[allow(clippy::too_many_arguments)]
fn walk(
    pt: &PageTable,
    mem: &mut impl TableMemory,
    table: PhysAddr,
    level: u8,
    base: u64,
    m: &Move,
    cache: &mut DestinationCache,
    at: &mut u64,
    moved: &mut impl FnMut(Moved),
) -> ControlFlow<MoveStop> {
    let span = level_size(level);
    let first = ((m.from.max(base) - base) / span) as usize;
    for i in first..ENTRIES {
        let lo = base + i as u64 * span;
        if lo >= m.end {
            break;
        }
        let slot = PageTable::slot(mem, table, i);
        // SAFETY: `slot` points into a live table of this tree.
        let d = Descriptor(unsafe { slot.read_volatile() });
        if !d.is_valid() {
            continue;
        }
        if level == 3 {
            *at = lo;
            let dst = destination_slot(pt, mem, cache, m.destination(lo))?;
            // SAFETY: both point into live tables of this tree; the
            // destination was just checked to be invalid.
            unsafe {
                dst.write_volatile(d.0);
                slot.write_volatile(0);
            }
            moved(Moved::Page(VirtAddr::new(lo)));
            continue;
        }
        let Entry::Table(next) = d.entry(level) else {
            // A block: user trees have none. Left where it is.
            continue;
        };
        let whole = level > 0 && lo >= m.from && lo + span <= m.end && m.destination(lo).is_multiple_of(span);
        if whole {
            *at = lo;
            let dst = match pt.walk_to(mem, VirtAddr::new(m.destination(lo)), level, true) {
                Ok((dst, _)) => dst,
                Err(super::MapError::OutOfTables) => return ControlFlow::Break(MoveStop::OutOfTables),
                Err(_) => return ControlFlow::Break(MoveStop::Occupied),
            };
            // SAFETY: `dst` points into a live table of this tree.
            if !Descriptor(unsafe { dst.read_volatile() }).is_valid() {
                // SAFETY: as above; the table now hangs from one entry only.
                unsafe {
                    dst.write_volatile(d.0);
                    slot.write_volatile(0);
                }
                cache.window = None;
                moved(Moved::Table(VirtAddr::new(lo), span));
                continue;
            }
        }
        walk(pt, mem, next, level + 1, lo, m, cache, at, moved)?;
    }
    ControlFlow::Continue(())
}

/// The invalid level-3 entry at `va` of the destination, its tables
/// created if missing.
fn destination_slot(
    pt: &PageTable,
    mem: &mut impl TableMemory,
    cache: &mut DestinationCache,
    va: u64,
) -> ControlFlow<MoveStop, *mut u64> {
    let window = va & !(level_size(2) - 1);
    let index = ((va - window) / PAGE_SIZE as u64) as usize;
    let first = match cache.window {
        Some((w, first)) if w == window => first,
        _ => match pt.walk_to(mem, VirtAddr::new(window), 3, true) {
            Ok((first, _)) => {
                cache.window = Some((window, first));
                first
            }
            Err(super::MapError::OutOfTables) => return ControlFlow::Break(MoveStop::OutOfTables),
            Err(_) => return ControlFlow::Break(MoveStop::Occupied),
        },
    };
    // SAFETY: `first` is entry 0 of a live level-3 table; index < 512.
    let slot = unsafe { first.add(index) };
    // SAFETY: as above.
    if Descriptor(unsafe { slot.read_volatile() }).is_valid() {
        return ControlFlow::Break(MoveStop::Occupied);
    }
    ControlFlow::Continue(slot)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::boxed::Box;
    use std::vec::Vec;

    use super::super::Table;
    use super::*;
    use crate::arch::aarch64::mmu::pte::{Attributes, MapFlags, MemoryType};

    /// Tables in host memory, "physical" address = 0x1000_0000 + index * 4 KiB,
    /// at most `limit` of them.
    struct HostTables(Vec<Box<Table>>, usize);
    const BASE: u64 = 0x1000_0000;

    impl TableMemory for HostTables {
        fn table(&mut self, pa: PhysAddr) -> *mut Table {
            &mut *self.0[((pa.as_u64() - BASE) / 4096) as usize]
        }
        fn alloc_table(&mut self) -> Option<PhysAddr> {
            if self.0.len() == self.1 {
                return None;
            }
            self.0.push(Box::new(Table([0; ENTRIES])));
            Some(PhysAddr::new(BASE + (self.0.len() as u64 - 1) * 4096))
        }
        fn free_unlinked_table(&mut self, _: PhysAddr) {
            unreachable!("one thread: no install race")
        }
    }

    const RW: Attributes = Attributes::new(MemoryType::NormalTagged, MapFlags::WRITE.union(MapFlags::USER));
    const P: u64 = 4096;
    const MB2: u64 = 2 << 20;

    fn tree(limit: usize) -> (PageTable, HostTables) {
        let mut mem = HostTables(Vec::new(), limit);
        let pt = PageTable::new(&mut mem).unwrap();
        (pt, mem)
    }

    fn map(pt: &mut PageTable, mem: &mut HostTables, va: u64, pa: u64) {
        pt.map_range(mem, VirtAddr::new(va), PhysAddr::new(pa), P, RW, false).unwrap();
    }

    fn at(pt: &PageTable, mem: &mut HostTables, va: u64) -> Option<u64> {
        pt.translate(mem, VirtAddr::new(va)).map(|(pa, _, _)| pa.as_u64())
    }

    fn record(
        pt: &mut PageTable,
        mem: &mut HostTables,
        from: u64,
        to: u64,
        len: u64,
    ) -> (Result<(), Stopped>, Vec<Moved>) {
        let mut seen = Vec::new();
        let r = pt.move_pages(mem, VirtAddr::new(from), VirtAddr::new(to), len, &mut |m| seen.push(m));
        (r, seen)
    }

    #[test]
    fn pages_move_with_their_attributes_and_the_source_is_left_empty() {
        let (mut pt, mut mem) = tree(64);
        // Three pages, one of them not mapped, across a 2 MiB boundary.
        let from = 0x40_0000 + MB2 - P;
        map(&mut pt, &mut mem, from, 0x5000_0000);
        map(&mut pt, &mut mem, from + 2 * P, 0x5000_2000);
        let to = 0x7f_0000_3000;
        let (r, seen) = record(&mut pt, &mut mem, from, to, 3 * P);
        assert_eq!(r, Ok(()));
        assert_eq!(seen, [Moved::Page(VirtAddr::new(from)), Moved::Page(VirtAddr::new(from + 2 * P))]);
        assert_eq!(at(&pt, &mut mem, to), Some(0x5000_0000));
        assert_eq!(at(&pt, &mut mem, to + P), None, "a hole stays a hole");
        assert_eq!(at(&pt, &mut mem, to + 2 * P), Some(0x5000_2000));
        assert_eq!(pt.translate(&mut mem, VirtAddr::new(to)).map(|t| t.1), Some(RW));
        for i in 0..3 {
            assert_eq!(at(&pt, &mut mem, from + i * P), None, "source page {} left", i);
        }
    }

    #[test]
    fn a_whole_aligned_table_moves_as_one_entry() {
        let (mut pt, mut mem) = tree(64);
        let from = 0x4000_0000;
        for i in 0..4 {
            map(&mut pt, &mut mem, from + i * 0x8_0000, 0x5000_0000 + i * P);
        }
        let tables = mem.0.len();
        let to = 0x80_0000_0000 + MB2 * 3;
        let (r, seen) = record(&mut pt, &mut mem, from, to, MB2);
        assert_eq!(r, Ok(()));
        assert_eq!(seen, [Moved::Table(VirtAddr::new(from), MB2)]);
        for i in 0..4 {
            assert_eq!(at(&pt, &mut mem, to + i * 0x8_0000), Some(0x5000_0000 + i * P));
            assert_eq!(at(&pt, &mut mem, from + i * 0x8_0000), None);
        }
        assert_eq!(mem.0.len(), tables + 2, "only the destination's L1 and L2 tables are new");
    }

    #[test]
    fn a_moved_table_is_not_reached_from_its_old_addresses() {
        let (mut pt, mut mem) = tree(64);
        let from = 0x4000_0000;
        map(&mut pt, &mut mem, from, 0x5000_0000);
        // page_slot remembers the level-3 table of `from`, which then moves.
        pt.page_slot(&mut mem, VirtAddr::new(from + P)).unwrap().set(PhysAddr::new(0x5000_1000), RW);
        let to = 0x80_0000_0000;
        assert_eq!(record(&mut pt, &mut mem, from, to, MB2).0, Ok(()));
        // A new page at the old address lands in a new table, not in the
        // moved one (which would map it at `to`).
        pt.page_slot(&mut mem, VirtAddr::new(from)).unwrap().set(PhysAddr::new(0x5000_2000), RW);
        assert_eq!(at(&pt, &mut mem, from), Some(0x5000_2000));
        assert_eq!(at(&pt, &mut mem, to), Some(0x5000_0000), "the moved page stays");
    }

    #[test]
    fn misaligned_destinations_move_page_by_page() {
        let (mut pt, mut mem) = tree(64);
        let from = 0x4000_0000;
        map(&mut pt, &mut mem, from, 0x5000_0000);
        map(&mut pt, &mut mem, from + MB2 - P, 0x5000_1000);
        let to = 0x80_0000_0000 + P;
        let (r, seen) = record(&mut pt, &mut mem, from, to, MB2);
        assert_eq!(r, Ok(()));
        assert_eq!(seen.len(), 2);
        assert_eq!(at(&pt, &mut mem, to), Some(0x5000_0000));
        assert_eq!(at(&pt, &mut mem, to + MB2 - P), Some(0x5000_1000));
    }

    #[test]
    fn an_occupied_destination_stops_the_move_and_moving_back_restores_it() {
        let (mut pt, mut mem) = tree(64);
        let from = 0x40_0000;
        for i in 0..4 {
            map(&mut pt, &mut mem, from + i * P, 0x5000_0000 + i * P);
        }
        let to = 0x80_0000;
        map(&mut pt, &mut mem, to + 2 * P, 0x6000_0000);
        let (r, _) = record(&mut pt, &mut mem, from, to, 4 * P);
        assert_eq!(r, Err(Stopped { reason: MoveStop::Occupied, done: 2 * P }));
        assert_eq!(at(&pt, &mut mem, to + 2 * P), Some(0x6000_0000), "never overwritten");
        assert_eq!(at(&pt, &mut mem, from + 2 * P), Some(0x5000_2000), "not moved");
        let (back, _) = record(&mut pt, &mut mem, to, from, 2 * P);
        assert_eq!(back, Ok(()));
        for i in 0..4 {
            assert_eq!(at(&pt, &mut mem, from + i * P), Some(0x5000_0000 + i * P));
        }
    }

    #[test]
    fn running_out_of_tables_stops_before_the_page_that_needs_one() {
        // Root + 3 tables for the source; one more table only.
        let (mut pt, mut mem) = tree(5);
        let from = 0x40_0000;
        map(&mut pt, &mut mem, from, 0x5000_0000);
        let to = 0x80_0000_0000;
        let (r, seen) = record(&mut pt, &mut mem, from, to, P);
        assert_eq!(r, Err(Stopped { reason: MoveStop::OutOfTables, done: 0 }));
        assert!(seen.is_empty());
        assert_eq!(at(&pt, &mut mem, from), Some(0x5000_0000), "the page stays where it was");
    }
}
