//! Freeing what a change of user page tables took, only after the TLB
//! invalidation that retires it has completed on every CPU (Linux's
//! mmu_gather: tlb_remove_page, tlb_remove_table, tlb_flush_mmu).
//!
//! Another CPU may hold a translation of any page of the space (a thread of
//! the process running at EL0 there), or a walk-cache entry pointing at any
//! of its tables, until the broadcast invalidation (TLBI ...IS) is complete
//! (DSB ISH). A frame or a table given back before that could be handed out
//! again and written while that CPU still reads or writes it through the
//! stale entry: another process's data, or a page-table walk through what
//! is now someone's page. So every walk that clears entries goes through a
//! [`Gather`], with one rule: *clear the entry, invalidate, wait, then
//! free*. Data frames and table frames wait on the same batch; a batch that
//! holds a table (or more pages than are invalidated one by one) is retired
//! by a flush of the whole ASID, the only invalidation that also drops the
//! walk caches' entries for the freed table (TLBI VALE1IS drops the last
//! level only).
//!
//! Nothing in the kernel gives a user table frame back any other way:
//! `user_tables` has no free function; the one other path, an address
//! space's drop, invalidates its whole ASID first and frees after
//! ([`Gather::after_space_flushed`], Linux's fullmm gather).
//!
//! Pure logic over [`GatherOps`], so the order is tested on the host with a
//! model TLB that fails on a frame freed while still reachable.

use super::addr::{Frame, PhysAddr, VirtAddr};
use core::mem::MaybeUninit;

/// The TLB maintenance and the freeing a [`Gather`] orders.
pub trait GatherOps {
    /// Starts invalidating the last-level entry of user page `va` (TLBI
    /// VALE1IS after a DSB ISHST that orders the entry's change first).
    fn start_page_flush(&mut self, va: VirtAddr);
    /// Waits until the invalidations started are complete on every CPU
    /// (DSB ISH).
    fn wait(&mut self);
    /// Invalidates every entry of the space, walk caches included, on
    /// every CPU, and waits (TLBI ASIDE1IS, DSB ISH).
    fn flush_space(&mut self);
    /// Gives one frame (a page or a table) back (frame::put).
    fn free(&mut self, frame: Frame);
}

/// Linux's MAX_TLBI_OPS (PTRS_PER_PTE): past this many pages, one flush of
/// the whole ASID instead of one TLBI per page (__flush_tlb_range falls
/// back to flush_tlb_mm; under QEMU a TLBI costs microseconds, and mprotect
/// of 262,144 present pages took 0.8 s with one per page).
pub const MAX_TLBI_OPS: usize = 512;

/// Frames a walk holds before it waits for their entries to go and frees
/// them (Linux's mmu_gather batch, on the stack here).
pub const FREE_BATCH: usize = 64;

/// Frames taken from a space's tables, waiting for their invalidation.
pub struct Gather<O: GatherOps> {
    ops: O,
    /// Pages whose entries changed since the last wait.
    pages: usize,
    /// A table was unlinked or moved since the last wait: the walk caches
    /// must go too.
    tables: bool,
    /// The space's entries are all gone already and none can come back
    /// (`after_space_flushed`): frames are freed at once.
    space_flushed: bool,
    held: usize,
    /// The frames held, `batch[..held]`; the rest is never read. Left
    /// uninitialised: zeroing its 512 bytes cost every gather (each
    /// munmap) a memset call of about 170 instructions.
    batch: [MaybeUninit<Frame>; FREE_BATCH],
}

impl<O: GatherOps> Gather<O> {
    pub fn new(ops: O) -> Self {
        Self {
            ops,
            pages: 0,
            tables: false,
            space_flushed: false,
            held: 0,
            batch: [const { MaybeUninit::uninit() }; FREE_BATCH],
        }
    }

    /// For a space installed on no CPU any more (its drop): its whole ASID
    /// is invalidated now, after which nothing can reach its tables or
    /// pages, so what is removed is freed at once (Linux's fullmm
    /// tlb_gather_mmu, whose flush_tlb_mm comes before the tables go).
    pub fn after_space_flushed(mut ops: O) -> Self {
        ops.flush_space();
        let mut g = Self::new(ops);
        g.space_flushed = true;
        g
    }

    /// The entry of page `va` changed (cleared, write-protected, moved):
    /// its TLB entries are invalidated before the next [`Self::flush`]
    /// returns.
    #[inline(always)]
    pub fn invalidate(&mut self, va: VirtAddr) {
        self.pages += 1;
        // After a flush of the whole space nothing is left to invalidate.
        if self.pages <= MAX_TLBI_OPS && !self.space_flushed {
            self.ops.start_page_flush(va);
        }
    }

    /// A table was moved or unlinked (mremap, munmap): the walk caches may
    /// hold the old way to it until the next [`Self::flush`].
    pub fn tables_changed(&mut self) {
        self.tables = true;
    }

    /// Linux's tlb_remove_page: the frame of a page whose entry was cleared
    /// and [`Self::invalidate`]d, freed once that invalidation is complete.
    #[inline(always)]
    pub fn remove_page(&mut self, frame: Frame) {
        self.hold(frame);
    }

    /// Linux's tlb_remove_table: a table unlinked from the tree, freed once
    /// the walk caches are flushed. The caller unlinks it (clears the entry
    /// above it) before this.
    pub fn remove_table(&mut self, pa: PhysAddr) {
        self.tables = true;
        self.hold(Frame::containing(pa));
    }

    #[inline(always)]
    fn hold(&mut self, frame: Frame) {
        if self.space_flushed {
            self.ops.free(frame);
            return;
        }
        if self.held == FREE_BATCH {
            self.flush();
        }
        self.batch[self.held] = MaybeUninit::new(frame);
        self.held += 1;
    }

    /// Linux's tlb_flush_mmu: waits for the invalidations so far (a flush
    /// of the whole ASID when a table went or too many pages changed), then
    /// frees the batch.
    pub fn flush(&mut self) {
        if !self.space_flushed {
            self.ops.wait();
            if self.tables || self.pages > MAX_TLBI_OPS {
                self.ops.flush_space();
            }
        }
        self.pages = 0;
        self.tables = false;
        for i in 0..self.held {
            // SAFETY: `hold` wrote every entry below `held` before raising
            // it, and `held` only goes back to 0 here, after they are read.
            let frame = unsafe { self.batch[i].assume_init() };
            self.ops.free(frame);
        }
        self.held = 0;
    }
}

impl<O: GatherOps> Drop for Gather<O> {
    /// Every way out of a walk (its end, a stop, an error) retires what
    /// it changed and frees what it took.
    fn drop(&mut self) {
        self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    extern crate std;
    use std::collections::{BTreeMap, BTreeSet};
    use std::vec::Vec;

    /// A model of the other CPUs' TLBs: a page's frame stays reachable
    /// from the moment it is removed until a wait that follows its page's
    /// invalidation (or a flush of the space); a table's until a flush of
    /// the space. Freeing a frame still reachable panics.
    #[derive(Default)]
    struct ModelTlb {
        /// Pages whose invalidation was started, not yet waited for.
        started: BTreeSet<u64>,
        /// Frames reachable through another CPU's TLB: page frame -> page,
        /// tables -> None.
        reachable: BTreeMap<u64, Option<u64>>,
        freed: Vec<u64>,
    }

    impl ModelTlb {
        /// What the walk did before the gather saw it: page `va`'s entry
        /// mapped `frame` and was cleared; another CPU may still use it.
        fn page_cleared(&mut self, va: u64, frame: u64) {
            self.reachable.insert(frame, Some(va));
        }
        fn table_unlinked(&mut self, frame: u64) {
            self.reachable.insert(frame, None);
        }
    }

    impl GatherOps for &mut ModelTlb {
        fn start_page_flush(&mut self, va: VirtAddr) {
            self.started.insert(va.as_u64());
        }
        fn wait(&mut self) {
            let started = core::mem::take(&mut self.started);
            self.reachable.retain(|_, page| !page.is_some_and(|va| started.contains(&va)));
        }
        fn flush_space(&mut self) {
            self.started.clear();
            self.reachable.clear();
        }
        fn free(&mut self, frame: Frame) {
            let pa = frame.start().as_u64();
            assert!(!self.reachable.contains_key(&pa), "frame {:#x} freed while a TLB may still reach it", pa);
            self.freed.push(pa);
        }
    }

    const FRAME: u64 = 0x4000_0000;

    fn frame(i: u64) -> Frame {
        Frame::containing(PhysAddr::new(FRAME + i * 4096))
    }

    #[test]
    fn pages_and_tables_are_freed_only_after_their_invalidation() {
        let mut tlb = ModelTlb::default();
        {
            let mut g = Gather::new(&mut tlb);
            // 200 pages (three batches' worth) and two tables, as munmap
            // of a whole table's span takes them.
            for i in 0..200 {
                let va = 0x40_0000 + i * 4096;
                g.ops.page_cleared(va, FRAME + i * 4096);
                g.invalidate(VirtAddr::new(va));
                g.remove_page(frame(i));
            }
            for t in 200..202 {
                g.ops.table_unlinked(FRAME + t * 4096);
                g.remove_table(frame(t).start());
            }
        }
        assert_eq!(tlb.freed.len(), 202, "every frame freed, at the end at the latest");
        assert!(tlb.reachable.is_empty());
    }

    #[test]
    fn more_pages_than_tlbi_ops_are_retired_by_one_flush_of_the_space() {
        let mut tlb = ModelTlb::default();
        let mut g = Gather::new(&mut tlb);
        for i in 0..(MAX_TLBI_OPS as u64 + 10) {
            let va = 0x40_0000 + i * 4096;
            g.ops.page_cleared(va, FRAME + i * 4096);
            g.invalidate(VirtAddr::new(va));
            if i >= MAX_TLBI_OPS as u64 {
                // Past MAX_TLBI_OPS no TLBI is started for the page: only
                // the flush of the whole space retires it.
                g.remove_page(frame(i));
            }
        }
        drop(g);
        assert_eq!(tlb.freed.len(), 10);
    }

    /// The order munmap had before (tables freed, then the flush by ASID)
    /// is what the model catches.
    #[test]
    #[should_panic(expected = "freed while a TLB may still reach it")]
    fn a_table_freed_before_its_flush_is_caught() {
        let mut tlb = ModelTlb::default();
        tlb.table_unlinked(FRAME);
        (&mut tlb).free(frame(0));
        (&mut tlb).flush_space();
    }

    #[test]
    fn after_the_space_is_flushed_frames_go_at_once() {
        let mut tlb = ModelTlb::default();
        tlb.page_cleared(0x40_0000, FRAME);
        tlb.table_unlinked(FRAME + 4096);
        let mut g = Gather::after_space_flushed(&mut tlb);
        g.remove_page(frame(0));
        g.remove_table(frame(1).start());
        assert_eq!(g.held, 0);
        drop(g);
        assert_eq!(tlb.freed, [FRAME, FRAME + 4096]);
    }
}
