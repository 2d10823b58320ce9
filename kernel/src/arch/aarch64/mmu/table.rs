//! Four-level translation tables with a 4 KiB granule and 48-bit addresses
//! (Arm ARM (DDI 0487K.a), "The VMSAv8-64 translation table format"): mapping ranges with the largest blocks that fit, and
//! walking a table in software the way the MMU does.
//!
//! The walker does not know how tables are reached in memory: a
//! [`TableMemory`] turns a table's physical address into a pointer and
//! provides new zeroed tables. At boot that is a pool inside the kernel image;
//! afterwards, frames reached through the linear map; in host tests, a `Vec`.

use core::marker::PhantomData;
use core::ops::ControlFlow;
use core::sync::atomic::{AtomicU64, Ordering};

use super::pte::{Attributes, Descriptor, Entry};
use crate::mm::addr::{PhysAddr, VirtAddr, PAGE_SIZE};

pub mod moving;

pub const ENTRIES: usize = 512;
/// Entries a range walk checks together for being all invalid.
const RUN: usize = 16;

/// One 4 KiB translation table.
#[repr(C, align(4096))]
pub struct Table(pub [u64; ENTRIES]);

/// Bytes mapped by one entry at each level: 512 GiB, 1 GiB, 2 MiB, 4 KiB.
pub const fn level_size(level: u8) -> u64 {
    1 << (12 + 9 * (3 - level as u32))
}

/// Index of `va` in the table at `level`.
pub const fn index(va: VirtAddr, level: u8) -> usize {
    ((va.as_u64() >> (12 + 9 * (3 - level as u32))) & 0x1ff) as usize
}

/// Where tables live and where new ones come from.
pub trait TableMemory {
    /// A pointer to the table at `pa`.
    fn table(&mut self, pa: PhysAddr) -> *mut Table;
    /// A new, zeroed table; `None` when out of memory.
    fn alloc_table(&mut self) -> Option<PhysAddr>;
    /// Gives back a table from `alloc_table` that was never linked into a
    /// tree: another walk installed its own table first (`walk_to`'s
    /// compare-and-swap). No walker ever saw it, so it goes back at once.
    fn free_unlinked_table(&mut self, pa: PhysAddr);
}

/// The entry at `entry` as an atomic word: the MMU's walkers and other
/// CPUs' faults read it while one CPU writes it, and every access is a
/// single-copy-atomic 64-bit load or store (Arm ARM (DDI 0487K.a), B2.2.1:
/// an aligned doubleword access), as Linux's READ_ONCE and WRITE_ONCE of a
/// descriptor. Relaxed loads and stores are the plain LDR and STR.
///
/// # Safety
/// `entry` points into a live table, 8-byte aligned.
#[inline(always)]
unsafe fn entry_word<'a>(entry: *mut u64) -> &'a AtomicU64 {
    // SAFETY: per the contract; every access to a live entry is atomic.
    unsafe { AtomicU64::from_ptr(entry) }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapError {
    /// Something is already mapped at this address.
    AlreadyMapped(VirtAddr),
    /// No memory for another table.
    OutOfTables,
    /// Address or size not page aligned.
    Misaligned,
}

/// One level-3 (page) entry of a tree, found by a walk and borrowed from
/// it: read and written in place, with atomic accesses because the MMU and
/// other CPUs' faults read it too. Who may write it: the holder of the
/// tree's exclusive side, or of the page-table lock of its level-3 table
/// (`table`; mm/page_table_lock.rs), which a fault under the shared side
/// takes. The caller orders the writes with the TLB (tlb.rs).
pub struct PageSlot<'t> {
    entry: *mut u64,
    /// The level-3 table the entry is in: what its page-table lock is
    /// found by.
    table: PhysAddr,
    _tree: PhantomData<&'t Table>,
}

impl PageSlot<'_> {
    fn new(entry: *mut u64, table: PhysAddr) -> Self {
        Self { entry, table, _tree: PhantomData }
    }

    /// The level-3 table holding this entry.
    #[inline(always)]
    pub fn table(&self) -> PhysAddr {
        self.table
    }

    #[inline(always)]
    fn read(&self) -> Descriptor {
        // SAFETY: `entry` points into a live table of the tree this slot
        // borrows (tables are freed only under the exclusive side).
        Descriptor(unsafe { entry_word(self.entry) }.load(Ordering::Relaxed))
    }

    #[inline(always)]
    fn write(&mut self, d: Descriptor) {
        // SAFETY: as in `read`; the writer holds the entry's lock (above).
        unsafe { entry_word(self.entry) }.store(d.0, Ordering::Relaxed)
    }

    /// The page mapped here, if any.
    #[inline(always)]
    pub fn page(&self) -> Option<(PhysAddr, Attributes)> {
        match self.read().entry(3) {
            Entry::Leaf(pa, attrs) => Some((pa, attrs)),
            _ => None,
        }
    }

    /// The entry's bits as they are now: compared later to see whether
    /// anyone changed it meanwhile (Linux's orig_pte and pte_same).
    #[inline(always)]
    pub fn bits(&self) -> u64 {
        self.read().0
    }

    /// The frame and whether it is special, decoded from `bits` read
    /// earlier (`Descriptor::page_frame`).
    #[inline(always)]
    pub fn frame_in(bits: u64) -> Option<(PhysAddr, bool)> {
        Descriptor(bits).page_frame()
    }

    /// Adds write access to the EL0 page mapped here, in place (a
    /// permission upgrade needs no break-before-make); `false`, and nothing
    /// written, if the entry is not one.
    #[inline(always)]
    pub fn add_user_write(&mut self) -> bool {
        match self.read().with_user_write() {
            Some(d) => {
                self.write(d);
                true
            }
            None => false,
        }
    }

    /// Maps `pa` here with `attrs`, replacing what was there. For a
    /// frame the kernel just wrote, mapped where there was nothing, use
    /// [`Self::publish`].
    #[inline(always)]
    pub fn set(&mut self, pa: PhysAddr, attrs: Attributes) {
        self.write(Descriptor::leaf(pa, attrs, 3));
    }

    /// [`Self::set`] for a frame the kernel has just written (zeroed,
    /// filled, copied, tagged) and no barrier has ordered since: the frame's
    /// contents are made visible to every CPU before the entry that maps
    /// it ([`publication_barrier`]). A thread of the space running at EL0
    /// on another CPU may walk to the new entry at once and read the page:
    /// without the barrier it could see the frame's earlier contents, a
    /// previous owner's data (Linux's __SetPageUptodate, whose smp_wmb
    /// "makes sure that preceding stores to the page contents become
    /// visible before the set_pte_at() write", mm/memory.c:
    /// do_anonymous_page).
    #[inline(always)]
    pub fn publish(&mut self, pa: PhysAddr, attrs: Attributes) {
        publication_barrier();
        self.write(Descriptor::leaf(pa, attrs, 3));
    }

    /// Makes the entry invalid; what it mapped, if anything.
    #[inline(always)]
    pub fn clear(&mut self) -> Option<(PhysAddr, Attributes)> {
        // Nothing there (a first fault's entry): one read, no decoding.
        if !self.read().is_valid() {
            return None;
        }
        let old = self.page();
        self.write(Descriptor(0));
        old
    }

    /// [`Self::clear`] if the entry's bits are still `expected` (read
    /// earlier with [`Self::bits`]), from the one read that also decides
    /// whether there is anything to clear; `Err` and nothing written if
    /// they changed (Linux's pte_same).
    #[inline(always)]
    pub fn clear_if(&mut self, expected: u64) -> Result<Option<(PhysAddr, Attributes)>, EntryChanged> {
        let d = self.read();
        if d.0 != expected {
            return Err(EntryChanged);
        }
        if !d.is_valid() {
            return Ok(None);
        }
        self.write(Descriptor(0));
        Ok(match d.entry(3) {
            Entry::Leaf(pa, attrs) => Some((pa, attrs)),
            _ => None,
        })
    }
}

/// Orders the stores that filled a frame (a page's data and tags, a new
/// table's zeroes; DC ZVA counts as a store) before the store of the entry
/// that makes the frame reachable, for every observer in the Inner
/// Shareable domain, the other CPUs' table walkers included (DMB ISHST,
/// Linux's smp_wmb on arm64). Without it another CPU may see the new
/// entry and still read the frame's old contents: a stale table's entries
/// as translations, or the data of the frame's previous owner.
#[inline(always)]
fn publication_barrier() {
    // SAFETY: a barrier only.
    #[cfg(target_os = "none")]
    unsafe {
        core::arch::asm!("dmb ishst", options(nostack, preserves_flags))
    };
    // The host tests' tables are plain memory in one thread.
    #[cfg(not(target_os = "none"))]
    core::sync::atomic::fence(core::sync::atomic::Ordering::Release);
}

/// An entry was not what its caller read earlier ([`PageSlot::clear_if`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EntryChanged;

/// A translation-table tree, identified by its level-0 table.
pub struct PageTable {
    root: PhysAddr,
    /// The level-3 table `page_slot` reached last, with the 2 MiB of
    /// addresses it maps: a fault next to the last one skips the walk from
    /// the root, as a walk cache would. Forgotten by everything that frees
    /// or moves a table (`forget_walk`, through `&mut self`).
    ///
    /// One packed word (`LeafTableCache`), since faults on several CPUs set
    /// it at once under the shared side of the space's lock: a fault reads
    /// a whole (block, table) pair some fault stored, never one half of
    /// one pair and the other half of another. Every pair stored since the
    /// last `forget_walk` names a live table (tables are freed and moved
    /// only through `&mut self`: the exclusive side, whose acquire waits
    /// for every fault's release), which is all a fault needs: it uses the
    /// table only if the block is its own. Relaxed: a fault that takes the
    /// table from here reads its entry through the address it loaded, an
    /// address dependency that orders the loads (as the walk's descriptor
    /// loads; the table's zeroes were published by `walk_to`'s barrier and
    /// compare-and-swap before any walk could find it).
    last_leaf_table: AtomicU64,
}

/// Bits of an address a level-3 table spans (512 pages of 4 KiB).
const LEAF_TABLE_SHIFT: u32 = 21;

/// `last_leaf_table`'s packing: the table's frame number in the low 36
/// bits (physical addresses below 2^48), the block (`va >> 21`, below 2^27
/// for a 48-bit address) above them.
struct LeafTableCache;

impl LeafTableCache {
    const FRAME_BITS: u32 = 36;
    /// No block: `u64::MAX`'s block (2^28 - 1) is no address's.
    const NONE: u64 = u64::MAX;

    #[inline(always)]
    fn pack(block: u64, table: PhysAddr) -> u64 {
        (block << Self::FRAME_BITS) | (table.as_u64() >> 12)
    }

    /// The table remembered for `block`, if that is the block remembered.
    #[inline(always)]
    fn table_for(word: u64, block: u64) -> Option<PhysAddr> {
        (word >> Self::FRAME_BITS == block).then(|| PhysAddr::new((word & ((1 << Self::FRAME_BITS) - 1)) << 12))
    }
}

impl PageTable {
    pub fn new(mem: &mut impl TableMemory) -> Result<Self, MapError> {
        let root = mem.alloc_table().ok_or(MapError::OutOfTables)?;
        Ok(Self { root, last_leaf_table: AtomicU64::new(LeafTableCache::NONE) })
    }

    /// A handle that owns no tree, left in place of one taken to be
    /// destroyed (an address space's drop): never walked.
    pub const fn taken() -> Self {
        Self { root: PhysAddr::new(0), last_leaf_table: AtomicU64::new(LeafTableCache::NONE) }
    }

    /// Forgets the remembered level-3 table: called before any table is
    /// freed or moved, so that `page_slot` never reaches one that is gone.
    fn forget_walk(&mut self) {
        *self.last_leaf_table.get_mut() = LeafTableCache::NONE;
    }

    /// The level-0 table's address, for TTBRx_EL1.
    pub fn root(&self) -> PhysAddr {
        self.root
    }

    /// Maps `[va, va + size)` to `[pa, pa + size)`. Uses 1 GiB and 2 MiB
    /// blocks where `allow_blocks` and alignment permit, pages elsewhere.
    pub fn map_range(
        &mut self,
        mem: &mut impl TableMemory,
        va: VirtAddr,
        pa: PhysAddr,
        size: u64,
        attrs: Attributes,
        allow_blocks: bool,
    ) -> Result<(), MapError> {
        let page = PAGE_SIZE as u64;
        if !va.is_aligned(page) || !pa.is_aligned(page) || !size.is_multiple_of(page) {
            return Err(MapError::Misaligned);
        }
        // A block may take the place of a table.
        self.forget_walk();
        let mut done = 0;
        while done < size {
            let (v, p, left) = (va + done, pa + done, size - done);
            let level = (1..=3)
                .find(|&level| {
                    let s = level_size(level);
                    (level == 3 || allow_blocks) && v.is_aligned(s) && p.is_aligned(s) && left >= s
                })
                .unwrap_or(3);
            self.map_one(mem, v, p, level, attrs)?;
            done += level_size(level);
        }
        Ok(())
    }

    fn map_one(
        &mut self,
        mem: &mut impl TableMemory,
        va: VirtAddr,
        pa: PhysAddr,
        leaf_level: u8,
        attrs: Attributes,
    ) -> Result<(), MapError> {
        let (slot, _) = self.walk_to(mem, va, leaf_level, true)?;
        // SAFETY: `slot` points into a live table owned by this tree.
        let entry = unsafe { entry_word(slot) };
        if Descriptor(entry.load(Ordering::Relaxed)).is_valid() {
            return Err(MapError::AlreadyMapped(va));
        }
        entry.store(Descriptor::leaf(pa, attrs, leaf_level).0, Ordering::Relaxed);
        Ok(())
    }

    /// The entry for `va` in the table at `level`, walking down from the
    /// root, and the table it is in. With `create`, missing tables are
    /// added on the way; without, a missing one gives `OutOfTables`. A
    /// block on the way gives `AlreadyMapped`.
    ///
    /// Safe for walks on several CPUs at once (faults under the shared side
    /// of the space's lock), as Linux's __pte_alloc and pmd_install: each
    /// descriptor is read with one atomic load; a missing table is
    /// allocated (zeroed) with no lock held and installed with a
    /// compare-and-swap on the empty descriptor the walk read. The loser of
    /// two walks installing the same table frees its own (never linked, so
    /// never seen by any walker) and goes on down the winner's. Tables are
    /// only ever freed through `&mut self` (the exclusive side: munmap,
    /// mremap, the space's end), so a table a walk has reached stays.
    fn walk_to(
        &self,
        mem: &mut impl TableMemory,
        va: VirtAddr,
        level: u8,
        create: bool,
    ) -> Result<(*mut u64, PhysAddr), MapError> {
        let mut table = self.root;
        for l in 0..level {
            let slot = Self::slot(mem, table, index(va, l));
            // SAFETY: `slot` points into a live table owned by this tree.
            let entry = unsafe { entry_word(slot) };
            // Acquire: the table it links is read next, as the walk that
            // installed it left it (its zeroes, Release below).
            let mut current = Descriptor(entry.load(Ordering::Acquire));
            if current.next_table().is_none() && matches!(current.entry(l), Entry::Invalid) && create {
                let next = mem.alloc_table().ok_or(MapError::OutOfTables)?;
                // The zeroes before the entry that links the table: another
                // CPU's walker (the MMU's included) may follow the link at
                // once (Linux's pmd_install: smp_wmb before pmd_populate).
                publication_barrier();
                match entry.compare_exchange(current.0, Descriptor::table(next).0, Ordering::AcqRel, Ordering::Acquire)
                {
                    Ok(_) => current = Descriptor::table(next),
                    Err(theirs) => {
                        // Another walk linked a table (or something) first.
                        mem.free_unlinked_table(next);
                        current = Descriptor(theirs);
                    }
                }
            }
            table = match current.entry(l) {
                Entry::Table(next) => next,
                Entry::Leaf(..) => return Err(MapError::AlreadyMapped(va)),
                Entry::Invalid => return Err(MapError::OutOfTables),
            };
        }
        Ok((Self::slot(mem, table, index(va, level)), table))
    }

    /// The level-3 entry for `va`, adding the tables above it that are
    /// missing: the fault path walks once, then reads and writes the entry.
    /// Through `&self`: faults on several CPUs walk at once (`walk_to`).
    /// Inlined into the fault path, as it was before it took `&self`.
    #[inline(always)]
    pub fn page_slot(&self, mem: &mut impl TableMemory, va: VirtAddr) -> Result<PageSlot<'_>, MapError> {
        // Next to the last fault: the same level-3 table, no walk.
        let block = va.as_u64() >> LEAF_TABLE_SHIFT;
        // Relaxed, as the descriptor loads below: the entry is then read
        // through the address loaded, and an address dependency orders
        // the two loads (Arm ARM (DDI 0487K.a), B2.3: dependency ordering;
        // Linux's READ_ONCE of a table pointer relies on it the same way).
        if let Some(table) = LeafTableCache::table_for(self.last_leaf_table.load(Ordering::Relaxed), block) {
            return Ok(PageSlot::new(Self::slot(mem, table, index(va, 3)), table));
        }
        // The common case, every table there, in a loop that needs no saved
        // registers; a missing table (or anything else) takes the full walk.
        let mut table = self.root;
        for level in 0..3 {
            // SAFETY: the slot points into a live table owned by this tree.
            let entry = unsafe { entry_word(Self::slot(mem, table, index(va, level))) };
            match Descriptor(entry.load(Ordering::Relaxed)).next_table() {
                Some(next) => table = next,
                None => {
                    // Out of line, and returning the table alone (in a
                    // register): the fast path's values stay in registers.
                    table = self.leaf_table_creating(mem, va).ok_or(MapError::OutOfTables)?;
                    break;
                }
            }
        }
        self.last_leaf_table.store(LeafTableCache::pack(block, table), Ordering::Relaxed);
        Ok(PageSlot::new(Self::slot(mem, table, index(va, 3)), table))
    }

    /// The level-3 table for `va`, adding the tables that are missing
    /// (`walk_to`); `None` when there is no frame for one (or a block is
    /// in the way, which user trees never have).
    #[inline(never)]
    fn leaf_table_creating(&self, mem: &mut impl TableMemory, va: VirtAddr) -> Option<PhysAddr> {
        self.walk_to(mem, va, 3, true).ok().map(|(_, table)| table)
    }

    /// Walks the tree for `va` as the MMU would: the output address, the
    /// attributes and the level of the leaf, or `None` if unmapped.
    pub fn translate(&self, mem: &mut impl TableMemory, va: VirtAddr) -> Option<(PhysAddr, Attributes, u8)> {
        let mut table = self.root;
        for level in 0..=3 {
            let slot = Self::slot(mem, table, index(va, level));
            // SAFETY: `slot` points into a live table owned by this tree.
            match Descriptor(unsafe { slot.read_volatile() }).entry(level) {
                Entry::Invalid => return None,
                Entry::Table(next) => table = next,
                Entry::Leaf(out, attrs) => {
                    let offset = va.as_u64() & (level_size(level) - 1);
                    return Some((out + offset, attrs, level));
                }
            }
        }
        None
    }

    /// The level-3 entry for `va`, if the tables above it exist.
    pub fn existing_page_slot(&self, mem: &mut impl TableMemory, va: VirtAddr) -> Option<PageSlot<'_>> {
        self.walk_to(mem, va, 3, false).ok().map(|(entry, table)| PageSlot::new(entry, table))
    }

    /// Removes the page mapping at `va` and returns what it mapped. The
    /// caller flushes the TLB entry.
    pub fn unmap_page(&mut self, mem: &mut impl TableMemory, va: VirtAddr) -> Option<(PhysAddr, Attributes)> {
        self.existing_page_slot(mem, va)?.clear()
    }

    /// The page mapped at `va` (level 3 only), without walking further.
    pub fn page(&self, mem: &mut impl TableMemory, va: VirtAddr) -> Option<(PhysAddr, Attributes)> {
        self.existing_page_slot(mem, va)?.page()
    }

    /// Calls `f` with each valid level-3 entry whose page lies in
    /// `[start, end)`, in address order, to read or rewrite in place: one
    /// walk for the whole range, visiting only the tables that exist. `f`
    /// may stop the walk (`Break`), which is then returned.
    pub fn for_each_page(
        &mut self,
        mem: &mut impl TableMemory,
        start: VirtAddr,
        end: VirtAddr,
        f: &mut impl FnMut(VirtAddr, PageSlot<'_>) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        Self::page_slots(mem, self.root, start, end, f)
    }

    /// Calls `f` for every page mapped in `[start, end)` (level-3 leaves),
    /// reading only: the same walk over the tables that exist (/proc's
    /// counts of another process's pages).
    pub fn leaves(
        &self,
        mem: &mut impl TableMemory,
        start: VirtAddr,
        end: VirtAddr,
        f: &mut impl FnMut(VirtAddr, PhysAddr, Attributes),
    ) {
        let _ = Self::page_slots(mem, self.root, start, end, &mut |va, slot| {
            if let Some((pa, attrs)) = slot.page() {
                f(va, pa, attrs)
            }
            ControlFlow::Continue(())
        });
    }

    /// Unmaps every page in `[start, end)` and calls `f` with what each
    /// mapped; the caller flushes the TLB. One walk for the whole range
    /// (munmap, MADV_DONTNEED), not one from the root per page. `f` may stop
    /// the walk (`Break`): the pages after it stay mapped.
    pub fn take_pages(
        &mut self,
        mem: &mut impl TableMemory,
        start: VirtAddr,
        end: VirtAddr,
        f: &mut impl FnMut(VirtAddr, PhysAddr, Attributes) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        Self::page_slots(mem, self.root, start, end, &mut |va, mut slot| match slot.clear() {
            Some((pa, attrs)) => f(va, pa, attrs),
            None => ControlFlow::Continue(()),
        })
    }

    /// Calls `f` with each valid level-3 entry whose page lies in
    /// `[start, end)`. An invalid entry at any level skips its whole span,
    /// so the work follows the tables that exist, not the size of the range
    /// (Linux's pmd_none_or_clear_bad() -> next in change_pmd_range and
    /// zap_pmd_range): a range of 2^47 bytes with one page mapped costs
    /// four tables' worth of entries.
    fn page_slots(
        mem: &mut impl TableMemory,
        root: PhysAddr,
        start: VirtAddr,
        end: VirtAddr,
        f: &mut impl FnMut(VirtAddr, PageSlot<'_>) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        fn walk(
            mem: &mut impl TableMemory,
            table: PhysAddr,
            level: u8,
            base: u64,
            range: (u64, u64),
            f: &mut impl FnMut(VirtAddr, PageSlot<'_>) -> ControlFlow<()>,
        ) -> ControlFlow<()> {
            let span = level_size(level);
            let first = ((range.0.max(base) - base) / span) as usize;
            // The caller saw this table's span start below range.1.
            let last = ((range.1 - base).div_ceil(span) as usize).min(ENTRIES);
            let mut i = first;
            while i < last {
                // A run of RUN invalid entries is passed over in one step:
                // a sparse range costs a few loads per run, not a loop turn
                // per entry (munmap of 4 MB with one page mapped reads 1,000).
                if i.is_multiple_of(RUN) && i + RUN <= last && PageTable::run_is_invalid(mem, table, i) {
                    i += RUN;
                    while i + RUN <= last && PageTable::run_is_invalid(mem, table, i) {
                        i += RUN;
                    }
                    continue;
                }
                let lo = base + i as u64 * span;
                let slot = PageTable::slot(mem, table, i);
                i += 1;
                // SAFETY: `slot` points into a live table of this tree.
                let d = Descriptor(unsafe { slot.read_volatile() });
                if !d.is_valid() {
                    continue;
                }
                if level == 3 {
                    f(VirtAddr::new(lo), PageSlot::new(slot, table))?;
                } else if let Entry::Table(next) = d.entry(level) {
                    walk(mem, next, level + 1, lo, range, f)?;
                }
            }
            ControlFlow::Continue(())
        }
        if start >= end {
            return ControlFlow::Continue(());
        }
        walk(mem, root, 0, 0, (start.as_u64(), end.as_u64()), f)
    }

    /// How many tables the tree has, the root included: at most what a
    /// copy of its pages needs (fork's reserve).
    pub fn table_count(&self, mem: &mut impl TableMemory) -> usize {
        fn count(mem: &mut impl TableMemory, table: PhysAddr, level: u8) -> usize {
            let mut n = 1;
            if level < 3 {
                for i in 0..ENTRIES {
                    let slot = PageTable::slot(mem, table, i);
                    // SAFETY: `slot` points into a live table of this tree.
                    if let Entry::Table(next) = Descriptor(unsafe { slot.read_volatile() }).entry(level) {
                        n += count(mem, next, level + 1);
                    }
                }
            }
            n
        }
        count(mem, self.root, 0)
    }

    /// Frees the tables whose whole span lies in `hole`, among those whose
    /// span meets `[start, end)`, with the tables under them: munmap's
    /// second step, after the pages of `[start, end)` were taken (Linux's
    /// free_pgd_range with its floor and ceiling). `hole` is the gap the
    /// unmap leaves between the areas around the range. Pages are only
    /// ever mapped inside areas, so a table whose span lies in the hole maps
    /// no page: a level-3 table goes without a look inside, and only the
    /// entries that meet `[start, end)` are read on the way down (a 4 MB
    /// unmap reads a handful, where checking each table on the way for
    /// emptiness read all 512 entries at every level). A table the range
    /// only shares with an area stays, empty or not, as in Linux. Each
    /// table is handed to `free_table` once unlinked (the entry above it
    /// cleared), children before parents: the caller must not reuse it
    /// before the walk caches are invalidated (TLBI by ASID), as entries
    /// pointing at it may be cached on any CPU (mm/tlb_gather.rs holds it
    /// until then). Returns whether any was unlinked.
    pub fn free_tables(
        &mut self,
        mem: &mut impl TableMemory,
        (start, end): (VirtAddr, VirtAddr),
        hole: (VirtAddr, VirtAddr),
        free_table: &mut impl FnMut(PhysAddr),
    ) -> bool {
        // Tables go: page_slot's remembered one may be among them.
        self.forget_walk();
        /// Frees the table at `pa` (at `level`) and every table below it.
        fn free_all(mem: &mut impl TableMemory, pa: PhysAddr, level: u8, free_table: &mut impl FnMut(PhysAddr)) {
            if level < 3 {
                for i in 0..ENTRIES {
                    let slot = PageTable::slot(mem, pa, i);
                    // SAFETY: `slot` points into a live table of this tree.
                    if let Entry::Table(next) = Descriptor(unsafe { slot.read_volatile() }).entry(level) {
                        free_all(mem, next, level + 1, free_table);
                    }
                }
            } else {
                debug_assert!(
                    (0..ENTRIES).all(|i| {
                        // SAFETY: as above.
                        !Descriptor(unsafe { PageTable::slot(mem, pa, i).read_volatile() }).is_valid()
                    }),
                    "a page mapped outside every area"
                );
            }
            free_table(pa);
        }
        fn walk(
            mem: &mut impl TableMemory,
            table: PhysAddr,
            level: u8,
            base: u64,
            range: (u64, u64),
            hole: (u64, u64),
            free_table: &mut impl FnMut(PhysAddr),
        ) -> bool {
            let span = level_size(level);
            let first = ((range.0.max(base) - base) / span) as usize;
            let mut freed = false;
            for i in first..ENTRIES {
                let lo = base + i as u64 * span;
                if lo >= range.1 {
                    break;
                }
                let slot = PageTable::slot(mem, table, i);
                // SAFETY: `slot` points into a live table of this tree.
                let Entry::Table(next) = Descriptor(unsafe { slot.read_volatile() }).entry(level) else { continue };
                if hole.0 <= lo && lo + span <= hole.1 {
                    // SAFETY: as above; the table is unreachable once cleared.
                    unsafe { slot.write_volatile(0) };
                    free_all(mem, next, level + 1, free_table);
                    freed = true;
                } else if level + 1 < 3 {
                    freed |= walk(mem, next, level + 1, lo, range, hole, free_table);
                }
            }
            freed
        }
        if start >= end {
            return false;
        }
        let range = (start.as_u64(), end.as_u64());
        walk(mem, self.root, 0, 0, range, (hole.0.as_u64(), hole.1.as_u64()), free_table)
    }

    /// Tears the tree down: calls `leaf` for every page mapping and `table`
    /// for every table frame (the root last). Blocks are not expected in user
    /// trees and are reported as leaves too.
    pub fn destroy(
        self,
        mem: &mut impl TableMemory,
        leaf: &mut impl FnMut(VirtAddr, PhysAddr, Attributes),
        table: &mut impl FnMut(PhysAddr),
    ) {
        fn walk(
            mem: &mut impl TableMemory,
            pa: PhysAddr,
            level: u8,
            base: u64,
            leaf: &mut impl FnMut(VirtAddr, PhysAddr, Attributes),
            table: &mut impl FnMut(PhysAddr),
        ) {
            for i in 0..ENTRIES {
                let slot = PageTable::slot(mem, pa, i);
                let va = base | ((i as u64) << (12 + 9 * (3 - level as u32)));
                // SAFETY: `slot` points into a live table of the tree being destroyed.
                match Descriptor(unsafe { slot.read_volatile() }).entry(level) {
                    Entry::Invalid => {}
                    Entry::Table(next) => walk(mem, next, level + 1, va, leaf, table),
                    Entry::Leaf(out, attrs) => leaf(VirtAddr::new(va), out, attrs),
                }
            }
            table(pa);
        }
        walk(mem, self.root, 0, 0, leaf, table);
    }

    /// Whether the RUN entries from `index` (a multiple of RUN) are all
    /// invalid. Read two entries at a time, as one 128-bit value (a load
    /// pair), whose valid bits are its bits 0 and 64: volatile, so that the
    /// compiler neither narrows each load to the valid bit's word nor
    /// splits the pairs.
    #[inline(always)]
    fn run_is_invalid(mem: &mut impl TableMemory, table: PhysAddr, index: usize) -> bool {
        let pairs = Self::slot(mem, table, index) as *const u128;
        let mut any = 0;
        for k in 0..RUN / 2 {
            // SAFETY: index + RUN <= 512 entries of a live table of this
            // tree, 16-byte aligned (index is a multiple of RUN), borrowed
            // exclusively by the caller's walk.
            any |= unsafe { pairs.add(k).read_volatile() };
        }
        any & (1 | 1 << 64) == 0
    }

    #[inline(always)]
    fn slot(mem: &mut impl TableMemory, table: PhysAddr, index: usize) -> *mut u64 {
        let t = mem.table(table);
        // SAFETY: index < 512, so the entry lies inside the table.
        unsafe { core::ptr::addr_of_mut!((*t).0[index]) }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::boxed::Box;
    use std::vec::Vec;

    use super::*;
    use crate::arch::aarch64::mmu::pte::{MapFlags, MemoryType};

    /// Tables in host memory, "physical" address = 0x1000_0000 + index * 4 KiB.
    struct HostTables(Vec<Box<Table>>);
    const BASE: u64 = 0x1000_0000;

    impl TableMemory for HostTables {
        fn table(&mut self, pa: PhysAddr) -> *mut Table {
            &mut *self.0[((pa.as_u64() - BASE) / 4096) as usize]
        }
        fn alloc_table(&mut self) -> Option<PhysAddr> {
            if self.0.len() == 16 {
                return None;
            }
            self.0.push(Box::new(Table([0; ENTRIES])));
            Some(PhysAddr::new(BASE + (self.0.len() as u64 - 1) * 4096))
        }
        fn free_unlinked_table(&mut self, _: PhysAddr) {
            unreachable!("one thread: no install race")
        }
    }

    /// The pages mapped in `[start, end)`, by a page walk.
    fn mapped_pages(pt: &mut PageTable, mem: &mut HostTables, start: VirtAddr, end: VirtAddr) -> Vec<u64> {
        let mut seen = Vec::new();
        let _ = pt.for_each_page(mem, start, end, &mut |va, _| {
            seen.push(va.as_u64());
            ControlFlow::Continue(())
        });
        seen
    }

    const RW: Attributes = Attributes::new(MemoryType::NormalTagged, MapFlags::WRITE.union(MapFlags::GLOBAL));

    #[test]
    fn indices_follow_the_48_bit_layout() {
        let va = VirtAddr::new(0xffff_8000_4020_1000);
        assert_eq!(index(va, 0), 256);
        assert_eq!(index(va, 1), 1);
        assert_eq!(index(va, 2), 1);
        assert_eq!(index(va, 3), 1);
    }

    #[test]
    fn aligned_ranges_use_the_largest_blocks() {
        let mut mem = HostTables(Vec::new());
        let mut pt = PageTable::new(&mut mem).unwrap();
        let va = VirtAddr::new(0xffff_0000_4000_0000);
        // 1 GiB + 2 MiB + 4 KiB: one L1 block, one L2 block, one L3 page.
        let size = (1 << 30) + (2 << 20) + 4096;
        pt.map_range(&mut mem, va, PhysAddr::new(0x4000_0000), size, RW, true).unwrap();
        assert_eq!(pt.translate(&mut mem, va + 0x1234), Some((PhysAddr::new(0x4000_1234), RW, 1)));
        assert_eq!(pt.translate(&mut mem, va + (1 << 30)).map(|t| t.2), Some(2));
        assert_eq!(pt.translate(&mut mem, va + (1 << 30) + (2 << 20)).map(|t| t.2), Some(3));
        assert_eq!(pt.translate(&mut mem, va + size), None, "nothing past the end");
    }

    #[test]
    fn pages_only_when_blocks_are_not_allowed() {
        let mut mem = HostTables(Vec::new());
        let mut pt = PageTable::new(&mut mem).unwrap();
        let va = VirtAddr::new(0xffff_8000_0000_0000);
        pt.map_range(&mut mem, va, PhysAddr::new(0x4020_0000), 2 << 20, RW, false).unwrap();
        assert_eq!(pt.translate(&mut mem, va + 0x1f_f000).map(|t| t.2), Some(3));
    }

    #[test]
    fn a_page_slot_creates_the_tables_above_it_and_maps_in_place() {
        let mut mem = HostTables(Vec::new());
        let pt = PageTable::new(&mut mem).unwrap();
        let va = VirtAddr::new(0x40_0000);
        let mut slot = pt.page_slot(&mut mem, va).unwrap();
        assert_eq!(slot.page(), None, "a new slot is empty");
        slot.set(PhysAddr::new(0x4020_0000), RW);
        assert_eq!(mem.0.len(), 4, "root and three tables below it");
        assert_eq!(pt.translate(&mut mem, va + 0x10), Some((PhysAddr::new(0x4020_0010), RW, 3)));
        assert_eq!(pt.translate(&mut mem, va + 4096), None, "one page only");
        let mut again = pt.page_slot(&mut mem, va).unwrap();
        assert_eq!(again.page(), Some((PhysAddr::new(0x4020_0000), RW)), "found again, no new table");
        assert_eq!(again.clear(), Some((PhysAddr::new(0x4020_0000), RW)));
        assert_eq!(mem.0.len(), 4);
        assert_eq!(pt.translate(&mut mem, va), None);
    }

    #[test]
    fn taking_pages_clears_only_the_range_and_reports_each_once() {
        let mut mem = HostTables(Vec::new());
        let mut pt = PageTable::new(&mut mem).unwrap();
        // Four pages either side of a 2 MiB boundary: two level-3 tables.
        let base = VirtAddr::new(0x20_0000 - 4 * 4096);
        pt.map_range(&mut mem, base, PhysAddr::new(0x4000_0000), 8 * 4096, RW, false).unwrap();
        let mut taken = Vec::new();
        let _ = pt.take_pages(&mut mem, base + 4096, base + 7 * 4096, &mut |va, pa, _| {
            taken.push((va.as_u64(), pa.as_u64()));
            ControlFlow::Continue(())
        });
        let expected: Vec<(u64, u64)> = (1..7).map(|i| (base.as_u64() + i * 4096, 0x4000_0000 + i * 4096)).collect();
        assert_eq!(taken, expected);
        assert!(pt.translate(&mut mem, base).is_some(), "the page below the range stays");
        assert!(pt.translate(&mut mem, base + 7 * 4096).is_some(), "the page above the range stays");
        assert_eq!(mapped_pages(&mut pt, &mut mem, base, base + 8 * 4096).len(), 2);
    }

    #[test]
    fn unmap_and_reprotect_single_pages() {
        let mut mem = HostTables(Vec::new());
        let mut pt = PageTable::new(&mut mem).unwrap();
        let va = VirtAddr::new(0x40_0000);
        pt.map_range(&mut mem, va, PhysAddr::new(0x4000_0000), 2 * 4096, RW, false).unwrap();
        let ro = Attributes::new(MemoryType::NormalTagged, MapFlags::GLOBAL);
        let _ = pt.for_each_page(&mut mem, va + 4096, va + 2 * 4096, &mut |_, mut slot| {
            slot.set(slot.page().unwrap().0, ro);
            ControlFlow::Continue(())
        });
        assert_eq!(pt.translate(&mut mem, va + 4096).map(|t| t.1), Some(ro));
        assert_eq!(pt.unmap_page(&mut mem, va), Some((PhysAddr::new(0x4000_0000), RW)));
        assert_eq!(pt.translate(&mut mem, va), None);
        assert_eq!(pt.unmap_page(&mut mem, va), None, "already gone");
    }

    #[test]
    fn tables_wholly_in_the_hole_are_freed_and_shared_ones_stay() {
        let mut mem = HostTables(Vec::new());
        let mut pt = PageTable::new(&mut mem).unwrap();
        // A page at 0x4000_0000 (being unmapped) and one at 0x4020_0000
        // (another area, in the next level-3 table, same level-2 table).
        let va = VirtAddr::new(0x4000_0000);
        let other = VirtAddr::new(0x4020_0000);
        pt.map_range(&mut mem, va, PhysAddr::new(0x5000_0000), 4096, RW, false).unwrap();
        pt.map_range(&mut mem, other, PhysAddr::new(0x5000_1000), 4096, RW, false).unwrap();
        pt.unmap_page(&mut mem, va);
        let mut freed = Vec::new();
        // The hole runs from 0 to the other area: the first level-3 table goes.
        assert!(pt.free_tables(&mut mem, (va, va + 4096), (VirtAddr::new(0), other), &mut |t| freed.push(t)));
        assert_eq!(freed.len(), 1, "only the level-3 table of 0x4000_0000");
        assert!(pt.translate(&mut mem, other).is_some(), "the other area's page stays");
        // A hole that ends inside the level-3 table's span frees nothing.
        let mut again = Vec::new();
        pt.map_range(&mut mem, va, PhysAddr::new(0x5000_0000), 4096, RW, false).unwrap();
        pt.unmap_page(&mut mem, va);
        assert!(!pt.free_tables(&mut mem, (va, va + 4096), (VirtAddr::new(0), va + 8192), &mut |t| again.push(t)));
        // Then the other area goes too: everything under the root is freed.
        pt.unmap_page(&mut mem, other);
        let mut all = Vec::new();
        let top = VirtAddr::new(1 << 48);
        assert!(pt.free_tables(&mut mem, (va, other + 4096), (VirtAddr::new(0), top), &mut |t| all.push(t)));
        assert_eq!(all.len(), 4, "two level-3 tables, the level-2 and the level-1 table");
        assert_eq!(pt.table_count(&mut mem), 1, "the root alone");
    }

    #[test]
    fn the_remembered_level_3_table_is_forgotten_when_tables_are_freed() {
        let mut mem = HostTables(Vec::new());
        let mut pt = PageTable::new(&mut mem).unwrap();
        let va = VirtAddr::new(0x4000_0000);
        // Two slots in one level-3 table: the second comes from the one
        // remembered by the first.
        pt.page_slot(&mut mem, va).unwrap().set(PhysAddr::new(0x5000_0000), RW);
        pt.page_slot(&mut mem, va + 4096).unwrap().set(PhysAddr::new(0x5000_1000), RW);
        assert!(pt.translate(&mut mem, va + 4096).is_some());
        pt.unmap_page(&mut mem, va);
        pt.unmap_page(&mut mem, va + 4096);
        let top = VirtAddr::new(1 << 48);
        assert!(pt.free_tables(&mut mem, (va, va + 8192), (VirtAddr::new(0), top), &mut |_| ()));
        // A slot after the free is in a live table: what is set there is
        // what the walk finds (with the freed table still remembered, the
        // entry would land in it, out of the tree).
        pt.page_slot(&mut mem, va).unwrap().set(PhysAddr::new(0x5000_2000), RW);
        assert_eq!(pt.translate(&mut mem, va).map(|(pa, _, _)| pa.as_u64()), Some(0x5000_2000));
    }

    #[test]
    fn a_page_walk_visits_only_the_pages_in_range() {
        let mut mem = HostTables(Vec::new());
        let mut pt = PageTable::new(&mut mem).unwrap();
        pt.map_range(&mut mem, VirtAddr::new(0x40_0000), PhysAddr::new(0x4000_0000), 4 * 4096, RW, false).unwrap();
        pt.map_range(&mut mem, VirtAddr::new(0x7f_0000_0000), PhysAddr::new(0x5000_0000), 4096, RW, false).unwrap();
        let seen = mapped_pages(&mut pt, &mut mem, VirtAddr::new(0x40_1000), VirtAddr::new(0x40_3000));
        assert_eq!(seen, [0x40_1000, 0x40_2000]);
        assert_eq!(mapped_pages(&mut pt, &mut mem, VirtAddr::new(0), VirtAddr::new(1 << 47)).len(), 5);
    }

    #[test]
    fn a_page_walk_rewrites_in_place_and_stops_when_told() {
        let mut mem = HostTables(Vec::new());
        let mut pt = PageTable::new(&mut mem).unwrap();
        // Three pages far apart in a range of 2^47 bytes: three L3 tables.
        let vas = [0x40_0000u64, 0x40_0000_0000, 0x7fff_ffff_f000];
        for (i, &va) in vas.iter().enumerate() {
            pt.map_range(&mut mem, VirtAddr::new(va), PhysAddr::new(0x4000_0000 + i as u64 * 4096), 4096, RW, false)
                .unwrap();
        }
        assert_eq!(pt.table_count(&mut mem), 1 + 2 + 3 + 3, "the root, two L1, three L2 and three L3 tables");
        let ro = Attributes::new(MemoryType::NormalTagged, MapFlags::GLOBAL);
        let mut seen = Vec::new();
        let flow = pt.for_each_page(&mut mem, VirtAddr::new(0), VirtAddr::new(1 << 47), &mut |va, mut slot| {
            let (pa, _) = slot.page().unwrap();
            slot.set(pa, ro);
            seen.push(va.as_u64());
            if seen.len() == 2 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        });
        assert_eq!(flow, ControlFlow::Break(()));
        assert_eq!(seen, vas[..2], "in address order, stopped after the second");
        assert_eq!(pt.translate(&mut mem, VirtAddr::new(vas[1])).map(|t| t.1), Some(ro));
        assert_eq!(pt.translate(&mut mem, VirtAddr::new(vas[2])).map(|t| t.1), Some(RW), "after the stop: unchanged");
    }

    #[test]
    fn destroy_reports_every_page_and_table() {
        let mut mem = HostTables(Vec::new());
        let mut pt = PageTable::new(&mut mem).unwrap();
        pt.map_range(&mut mem, VirtAddr::new(0x40_0000), PhysAddr::new(0x4000_0000), 3 * 4096, RW, false).unwrap();
        pt.map_range(&mut mem, VirtAddr::new(0xffff_ffff_0000), PhysAddr::new(0x5000_0000), 4096, RW, false).unwrap();
        let (mut leaves, mut tables) = (Vec::new(), 0);
        pt.destroy(&mut mem, &mut |va, pa, _| leaves.push((va.as_u64(), pa.as_u64())), &mut |_| tables += 1);
        assert_eq!(
            leaves,
            [
                (0x40_0000, 0x4000_0000),
                (0x40_1000, 0x4000_1000),
                (0x40_2000, 0x4000_2000),
                (0xffff_ffff_0000, 0x5000_0000)
            ]
        );
        assert_eq!(tables, 1 + 3 + 3, "root, then L1/L2/L3 for each of the two places");
    }

    #[test]
    fn mapping_twice_is_refused() {
        let mut mem = HostTables(Vec::new());
        let mut pt = PageTable::new(&mut mem).unwrap();
        let va = VirtAddr::new(0x40_0000);
        pt.map_range(&mut mem, va, PhysAddr::new(0x4000_0000), 4096, RW, true).unwrap();
        assert_eq!(
            pt.map_range(&mut mem, va, PhysAddr::new(0x5000_0000), 4096, RW, true),
            Err(MapError::AlreadyMapped(va))
        );
    }

    #[test]
    fn misaligned_requests_and_exhaustion_are_errors() {
        let mut mem = HostTables(Vec::new());
        let mut pt = PageTable::new(&mut mem).unwrap();
        assert_eq!(
            pt.map_range(&mut mem, VirtAddr::new(0x1001), PhysAddr::new(0), 4096, RW, true),
            Err(MapError::Misaligned)
        );
        // Each 512 GiB-apart page needs three new tables; 16 tables run out.
        let mut result = Ok(());
        for i in 0..8u64 {
            result = pt.map_range(&mut mem, VirtAddr::new(i << 39), PhysAddr::new(0), 4096, RW, false);
            if result.is_err() {
                break;
            }
        }
        assert_eq!(result, Err(MapError::OutOfTables));
    }

    /// Tables for walks on several threads at once: a fixed pool, handed
    /// out by an atomic index, with what was given back counted.
    struct SharedPool {
        tables: Vec<usize>,
        next: std::sync::atomic::AtomicUsize,
        freed: std::sync::Mutex<Vec<PhysAddr>>,
    }

    impl SharedPool {
        fn new(n: usize) -> Self {
            let tables = (0..n).map(|_| Box::into_raw(Box::new(Table([0; ENTRIES]))) as usize).collect();
            Self { tables, next: std::sync::atomic::AtomicUsize::new(0), freed: std::sync::Mutex::new(Vec::new()) }
        }
        fn allocated(&self) -> usize {
            self.next.load(std::sync::atomic::Ordering::Relaxed).min(self.tables.len())
        }
    }

    impl Drop for SharedPool {
        fn drop(&mut self) {
            for &t in &self.tables {
                // SAFETY: each came from Box::into_raw in `new`, dropped once.
                drop(unsafe { Box::from_raw(t as *mut Table) });
            }
        }
    }

    /// One thread's handle on the pool.
    struct PoolTables<'a>(&'a SharedPool);

    impl TableMemory for PoolTables<'_> {
        fn table(&mut self, pa: PhysAddr) -> *mut Table {
            self.0.tables[((pa.as_u64() - BASE) / 4096) as usize] as *mut Table
        }
        fn alloc_table(&mut self) -> Option<PhysAddr> {
            let i = self.0.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            (i < self.0.tables.len()).then(|| PhysAddr::new(BASE + i as u64 * 4096))
        }
        fn free_unlinked_table(&mut self, pa: PhysAddr) {
            self.0.freed.lock().unwrap().push(pa);
        }
    }

    const THREADS: usize = 8;

    #[test]
    fn racing_walks_install_each_missing_table_once_and_give_the_losers_back() {
        for round in 0..200u64 {
            let pool = SharedPool::new(1 + 3 * THREADS);
            let pt = PageTable::new(&mut PoolTables(&pool)).unwrap();
            let va = VirtAddr::new(0x40_0000 + (round << 30));
            let start = std::sync::Barrier::new(THREADS);
            let found: Vec<PhysAddr> = std::thread::scope(|s| {
                let workers: Vec<_> = (0..THREADS)
                    .map(|_| {
                        s.spawn(|| {
                            let mut mem = PoolTables(&pool);
                            start.wait();
                            pt.page_slot(&mut mem, va).unwrap().table()
                        })
                    })
                    .collect();
                workers.into_iter().map(|w| w.join().unwrap()).collect()
            });
            assert!(found.iter().all(|&t| t == found[0]), "round {}: every walk ends in one level-3 table", round);
            let freed = pool.freed.lock().unwrap().clone();
            assert_eq!(
                pool.allocated() - freed.len(),
                4,
                "round {}: root and three tables stay linked, {} allocated, {} given back",
                round,
                pool.allocated(),
                freed.len()
            );
            // The tree holds none of the tables given back.
            let mut mem = PoolTables(&pool);
            let mut linked = Vec::new();
            let mut table = pt.root();
            for level in 0..3 {
                // SAFETY: an entry of a live table of `pt`, in the pool.
                let word = unsafe { entry_word(PageTable::slot(&mut mem, table, index(va, level))) };
                let d = Descriptor(word.load(Ordering::Relaxed));
                table = d.next_table().expect("linked");
                linked.push(table);
            }
            assert!(linked.iter().all(|t| !freed.contains(t)), "round {}: a linked table was given back", round);
            assert_eq!(linked[2], found[0]);
        }
    }

    #[test]
    fn racing_faults_on_one_page_map_exactly_one_frame_and_the_losers_keep_theirs() {
        for round in 0..200u64 {
            let pool = SharedPool::new(1 + 3 * THREADS);
            let pt = PageTable::new(&mut PoolTables(&pool)).unwrap();
            let va = VirtAddr::new(0x40_0000 + (round << 21));
            let start = std::sync::Barrier::new(THREADS);
            // Stands for the table's page-table lock (mm/page_table_lock.rs).
            let ptl = std::sync::Mutex::new(());
            let won: Vec<bool> = std::thread::scope(|s| {
                let workers: Vec<_> = (0..THREADS as u64)
                    .map(|t| {
                        let (pool, pt, start, ptl) = (&pool, &pt, &start, &ptl);
                        s.spawn(move || {
                            let mut mem = PoolTables(pool);
                            start.wait();
                            // The fault's steps: walk, read the entry, get a
                            // frame of its own, then lock, compare and write.
                            let mut slot = pt.page_slot(&mut mem, va).unwrap();
                            let before = slot.bits();
                            if PageSlot::frame_in(before).is_some() {
                                // Mapped already: found, nothing to allocate.
                                return false;
                            }
                            let frame = PhysAddr::new(0x8000_0000 + t * 4096);
                            let _held = ptl.lock().unwrap();
                            match slot.clear_if(before) {
                                Ok(_) => {
                                    slot.publish(frame, RW);
                                    true
                                }
                                Err(EntryChanged) => false,
                            }
                        })
                    })
                    .collect();
                workers.into_iter().map(|w| w.join().unwrap()).collect()
            });
            assert_eq!(won.iter().filter(|&&w| w).count(), 1, "round {}: exactly one fault maps its frame", round);
            let winner = won.iter().position(|&w| w).unwrap() as u64;
            let mut mem = PoolTables(&pool);
            assert_eq!(
                pt.translate(&mut mem, va).map(|(pa, _, _)| pa),
                Some(PhysAddr::new(0x8000_0000 + winner * 4096)),
                "round {}: the entry maps the winner's frame",
                round
            );
        }
    }
}
