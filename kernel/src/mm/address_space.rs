//! A user address space: the translation tables in TTBR0, their ASID, and
//! the areas that say what may be mapped.
//!
//! A mapped page is either *owned* (a private frame: freed when unmapped)
//! or *special* (the zero page, a reference page, a shared-memory page:
//! someone else's frame, marked with the descriptor's software bit and never
//! freed here). Pages are mapped on the first fault (mm/fault.rs) except
//! where the loader fills them with file data or the initial stack.

use crate::arch::aarch64::mmu::layout::phys_to_virt;
use crate::arch::aarch64::mmu::pte::{Attributes, MapFlags, MemoryType};
use crate::arch::aarch64::mmu::table::{EntryChanged, PageSlot, PageTable};
use crate::arch::aarch64::mmu::user_tables::{self, Asid, FrameTables};
use crate::arch::aarch64::{mte, page_fill, tlb};

use core::ops::ControlFlow;
use core::sync::atomic::{AtomicUsize, Ordering};

use super::addr::{PhysAddr, VirtAddr, PAGE_SIZE};
use super::frame::{self, Clear, Frame};
use super::page_pin::PinnedPage;
use super::tlb_gather::{Gather, GatherOps};
use super::vma::{Area, AreaFlags, AreaSet, Prot, ProtectError, TooManyAreas};

const PAGE: u64 = PAGE_SIZE as u64;

mod mremap;

/// Kernel heap an area takes, with its share of the BTreeMap's nodes (an
/// upper estimate: an area and its key are 48 bytes, and a node of up to
/// 11 of them may be half empty).
const AREA_HEAP_BYTES: usize = 160;

/// Out of frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutOfMemory;

/// A page walk over a range stopped part-way because the run's time is up
/// or the task has SIGKILL pending (`process::long_work_must_stop`): the
/// task is ended before it runs again, so what is left undone is never
/// seen, and its address space is torn down whole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interrupted;

/// Why munmap stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnmapError {
    /// Cutting the areas would make too many: nothing changed (ENOMEM).
    TooManyAreas,
    Interrupted,
}

/// Pages a range walk handles between two looks at whether it must stop
/// or pause.
pub const PAGES_PER_CHECK: usize = 512;

/// When a range walk breaks off, looked at every [`PAGES_PER_CHECK`]
/// pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakAt {
    /// When the work must stop (SIGKILL, the time limit:
    /// `process::long_work_must_stop`): fork's copy, madvise's zap, the
    /// munmaps inside mmap, mremap and brk, which hold the space's lock
    /// from start to end.
    Stop,
    /// Also once the task's slice is over (`process::need_resched`), with
    /// every page below the pause done, so that the caller can let the
    /// locks go and yield (mm/long_walk.rs: munmap's and mprotect's walks,
    /// Linux's cond_resched in zap_pte_range and change_pte_range).
    StopOrSliceEnd,
    /// At slice ends only, never stopped: the exit's teardown, and
    /// munmap's zap once its areas are detached, which have to finish
    /// (Linux's exit_mmap and unmap_region, whose unmap_vmas calls
    /// cond_resched but never stops).
    SliceEnd,
    /// Never: a zap of detached areas that holds the space's lock from
    /// start to end (the munmaps inside mmap, mremap and brk; munmap's own
    /// when no record could be taken for its pauses). Stopping one half
    /// done would drop areas, and with them the last hold on a shared
    /// object's frames, while entries above the stop still map those
    /// frames for the process's other threads.
    Never,
}

/// Why a range walk broke off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pause {
    /// The work must stop (`Interrupted`).
    Interrupted,
    /// The slice is over: every page below this address is done, and the
    /// walk goes on from it.
    Yield(VirtAddr),
}

impl From<Pause> for Interrupted {
    /// For walks made with [`BreakAt::Stop`], which never yield.
    fn from(p: Pause) -> Interrupted {
        debug_assert_eq!(p, Pause::Interrupted);
        Interrupted
    }
}

/// The areas munmap took out of the set (`AddressSpace::detach`), kept
/// until its walk is done: one whole area (the common case) without a list
/// on the heap, or the pieces cut from several.
pub struct Detached {
    /// The range munmap was given.
    range: (VirtAddr, VirtAddr),
    exact: Option<Area>,
    pieces: alloc::vec::Vec<Area>,
}

impl Detached {
    /// Nothing detached yet from `[start, end)`.
    pub fn new(start: VirtAddr, end: VirtAddr) -> Self {
        Self { range: (start, end), exact: None, pieces: alloc::vec::Vec::new() }
    }
}

/// A walk's count of pages and what broke it off.
struct Checks {
    n: usize,
    break_at: BreakAt,
    pause: Option<Pause>,
}

impl Checks {
    fn new(break_at: BreakAt) -> Self {
        Self { n: 0, break_at, pause: None }
    }

    /// After the page at `va`: `Break` (with the reason kept) every
    /// PAGES_PER_CHECK pages if the walk must stop or pause.
    /// Inlined, the look at the count only: one add and one test a page
    /// (called out of line, this cost a munmap of 8 MiB 24,000
    /// instructions more than the check it replaced).
    #[track_caller]
    #[inline(always)]
    fn after(&mut self, va: VirtAddr) -> ControlFlow<()> {
        self.n += 1;
        if !self.n.is_multiple_of(PAGES_PER_CHECK) {
            return ControlFlow::Continue(());
        }
        self.check(va)
    }

    /// Every PAGES_PER_CHECK pages: whether the walk must stop or pause.
    #[track_caller]
    #[inline(never)]
    fn check(&mut self, va: VirtAddr) -> ControlFlow<()> {
        if matches!(self.break_at, BreakAt::SliceEnd | BreakAt::Never) {
            // Moving on, not stuck (long_work_must_stop says it otherwise).
            crate::arch::aarch64::kernel_lock::touch_watchdog();
        } else if crate::process::long_work_must_stop() {
            self.pause = Some(Pause::Interrupted);
            return ControlFlow::Break(());
        }
        if matches!(self.break_at, BreakAt::StopOrSliceEnd | BreakAt::SliceEnd) && crate::process::need_resched() {
            self.pause = Some(Pause::Yield(VirtAddr::new(va.as_u64() + PAGE)));
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }

    /// The walk's result from its flow.
    fn result(&self, flow: ControlFlow<()>) -> Result<(), Pause> {
        match flow {
            ControlFlow::Continue(()) => Ok(()),
            ControlFlow::Break(()) => Err(self.pause.unwrap_or(Pause::Interrupted)),
        }
    }
}

/// An address space's TLB maintenance and frame freeing, for the
/// [`Gather`] of a walk that changes its entries (mm/tlb_gather.rs: clear,
/// invalidate, wait, then free). Nothing runs at EL0 on this CPU before the
/// gather is dropped; on the others, threads of the space may, which is why
/// every invalidation is broadcast (TLBI ...IS) and waited for (DSB ISH).
struct UserTlb(u16);

impl GatherOps for UserTlb {
    #[inline(always)]
    fn start_page_flush(&mut self, va: VirtAddr) {
        tlb::start_flush_user_page(self.0, va.as_u64());
    }
    fn wait(&mut self) {
        tlb::wait_for_flushes();
    }
    fn flush_space(&mut self) {
        tlb::flush_asid(self.0);
    }
    fn free(&mut self, f: Frame) {
        frame::put(f);
    }
}

/// The gather of a walk over this kind of space.
type SpaceGather = Gather<UserTlb>;

fn ownership_of(attrs: Attributes) -> Ownership {
    if attrs.flags.contains(MapFlags::SPECIAL) {
        Ownership::Special
    } else {
        Ownership::Owned
    }
}

/// How a page is mapped, beyond the area's protection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ownership {
    /// A private frame of this address space.
    Owned,
    /// Someone else's frame; never writable in a private area.
    Special,
}

/// The program break: `[start, end)` is the heap brk() manages.
#[derive(Clone, Copy, Debug, Default)]
pub struct Brk {
    pub start: VirtAddr,
    pub end: VirtAddr,
}

/// Where exec put the program's pieces (Linux's mm_struct start_code ..
/// env_end), for /proc/<pid>/stat and cmdline. Zero where unknown.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProgramLayout {
    pub start_code: u64,
    pub end_code: u64,
    pub start_data: u64,
    pub end_data: u64,
    pub start_stack: u64,
    pub arg_start: u64,
    pub arg_end: u64,
    pub env_start: u64,
    pub env_end: u64,
}

pub struct AddressSpace {
    pub brk: Brk,
    /// Where the vDSO's text was mapped at exec (Linux's mm->context.vdso):
    /// signal handlers return there, mapped or not.
    pub vdso: Option<VirtAddr>,
    pub layout: ProgramLayout,
    /// Flags every new area gets: mlockall(MCL_FUTURE) sets LOCKED (and
    /// LOCK_ONFAULT with MCL_ONFAULT), munlockall clears them (Linux's
    /// mm->def_flags). Not inherited by fork or exec.
    pub def_flags: AreaFlags,
    /// The tree, for the space's whole life: not an `Option`, which cost
    /// every fault a test and a panic path (the drop swaps in
    /// `PageTable::taken` to destroy it).
    table: PageTable,
    asid: Asid,
    areas: AreaSet,
    owned: OwnedFrames,
}

/// Private frames mapped now, and the most there ever were (Linux's
/// MM_ANONPAGES counter and hiwater_rss).
///
/// Atomic: faults under the shared side of the space's lock, on several
/// CPUs, add to `now` at once (one atomic add each). `now` only grows in
/// a fault (a fault never maps fewer owned frames than it replaces); it
/// shrinks only in the walks of the exclusive side (munmap, madvise), so,
/// as Linux's update_hiwater_rss before zap_page_range, `peak` is brought
/// up to `now` just before each of those, and read as the larger of the
/// two: between two shrinks `now` never falls, so its largest value there
/// is its last. The fault pays for no maximum.
#[derive(Debug, Default)]
struct OwnedFrames {
    now: AtomicUsize,
    peak: AtomicUsize,
}

impl OwnedFrames {
    /// Before `now` shrinks: `peak` keeps the largest value it reached.
    fn note_peak(&mut self) {
        let now = *self.now.get_mut();
        let peak = self.peak.get_mut();
        *peak = (*peak).max(now);
    }

    /// (now, peak).
    fn read(&self) -> (usize, usize) {
        let now = self.now.load(Ordering::Relaxed);
        (now, self.peak.load(Ordering::Relaxed).max(now))
    }
}

/// The descriptor attributes for a user page. PROT_NONE pages keep their
/// frame but are not accessible from EL0 (AP = EL1 only). A special page
/// in a private area is never writable: the first write must copy it.
#[inline(always)]
pub fn user_attributes(prot: Prot, flags: AreaFlags, ownership: Ownership) -> Attributes {
    let mut map = MapFlags::empty();
    let writable = prot.contains(Prot::WRITE) && (ownership == Ownership::Owned || flags.contains(AreaFlags::SHARED));
    // Each flag set from its condition, no branch (WRITE and EXEC imply a
    // protection other than PROT_NONE).
    map.set(MapFlags::USER, !prot.is_empty());
    map.set(MapFlags::WRITE, writable);
    map.set(MapFlags::USER_EXEC, prot.contains(Prot::EXEC));
    map.set(MapFlags::SPECIAL, ownership == Ownership::Special);
    let memory = if flags.contains(AreaFlags::MTE) && mte::tagging_enabled() {
        MemoryType::NormalTagged
    } else {
        MemoryType::Normal
    };
    Attributes::new(memory, map)
}

impl AddressSpace {
    pub fn new() -> Result<Self, OutOfMemory> {
        let table = PageTable::new(&mut FrameTables).map_err(|_| OutOfMemory)?;
        Ok(Self {
            brk: Brk::default(),
            vdso: None,
            layout: ProgramLayout::default(),
            def_flags: AreaFlags::empty(),
            table,
            asid: Asid::new(),
            areas: AreaSet::new(),
            owned: OwnedFrames::default(),
        })
    }

    fn table(&mut self) -> &mut PageTable {
        &mut self.table
    }

    /// The table, for walks that only read it.
    fn table_ref(&self) -> &PageTable {
        &self.table
    }

    /// Makes this the user half of the address space (TTBR0).
    pub fn activate(&self) {
        let root = self.table.root();
        user_tables::install(root, &self.asid);
    }

    pub fn areas(&self) -> &AreaSet {
        &self.areas
    }

    /// [`AreaSet::find_gap_below`]: through `&mut self`, since it updates
    /// the placement cache (the exclusive side of the space's lock).
    pub fn find_gap_below(&mut self, below: VirtAddr, floor: VirtAddr, len: u64) -> Option<VirtAddr> {
        self.areas.find_gap_below(below, floor, len)
    }

    /// Adds an area (pages come on first touch): refused at MAX_AREAS, or
    /// when the kernel heap that holds areas runs short.
    pub fn add_area(&mut self, area: Area) -> Result<(), ()> {
        if !super::heap::can_spare(AREA_HEAP_BYTES) {
            return Err(());
        }
        self.areas.insert(area)
    }

    /// Changes flags of the areas in `[start, end)` that no page entry
    /// depends on (mlock's, MADV_DONTFORK's, MADV_WIPEONFORK's):
    /// [`AreaSet::update_flags`]. The entries stay as they are.
    pub fn update_area_flags(
        &mut self,
        start: VirtAddr,
        end: VirtAddr,
        update: impl Fn(&Area) -> AreaFlags,
    ) -> Result<(), TooManyAreas> {
        let entry_flags = AreaFlags::SHARED | AreaFlags::MTE | AreaFlags::MAY_WRITE;
        self.areas.update_flags(start, end, |a| (update(a) - entry_flags) | (a.flags & entry_flags))
    }

    /// Private frames mapped now, and the most there ever were.
    pub fn owned_frames(&self) -> (usize, usize) {
        self.owned.read()
    }

    /// Every page mapped in `[start, end)`, in address order: its address,
    /// frame and ownership. A read-only walk (/proc's Rss and Pss).
    pub fn for_each_mapped(&self, start: VirtAddr, end: VirtAddr, f: &mut impl FnMut(VirtAddr, PhysAddr, Ownership)) {
        let table = &self.table;
        table.leaves(&mut FrameTables, start, end, &mut |va, pa, attrs| {
            let special = attrs.flags.contains(MapFlags::SPECIAL);
            f(va, pa, if special { Ownership::Special } else { Ownership::Owned })
        });
    }

    /// Copies from this (not necessarily the current) address space at `va`
    /// into `dst`, through the linear map, whatever the pages' protection
    /// (Linux's access_remote_vm with FOLL_FORCE, for /proc/<pid>/cmdline).
    /// Stops at the first page not mapped; returns the bytes copied. Each
    /// page is pinned for its copy (`pin`): the caller holds the shared
    /// side of the space's lock, under which another thread's
    /// copy-on-write may drop the frame.
    pub fn read_bytes(&self, va: VirtAddr, dst: &mut [u8]) -> usize {
        let mut done = 0;
        while done < dst.len() {
            let at = va + done as u64;
            let Some(page) = self.pin(at) else { break };
            let n = (PAGE_SIZE - at.page_offset()).min(dst.len() - done);
            page.read(at.page_offset(), &mut dst[done..done + n]);
            done += n;
        }
        done
    }

    /// The frame mapped at the page holding `va`, kept from being freed
    /// until the pin drops (Linux's get_user_pages with FOLL_GET: the
    /// reference is taken under the page-table lock, mm/page_pin.rs).
    /// Nothing if no page is mapped there. Needs either side of the
    /// space's lock (tables are freed only under the exclusive one).
    pub fn pin(&self, va: VirtAddr) -> Option<PinnedPage> {
        let slot = self.table_ref().existing_page_slot(&mut FrameTables, va.align_down(PAGE))?;
        let _ptl = super::page_table_lock::lock(slot.table());
        let (pa, _) = slot.page()?;
        Some(PinnedPage::new_under_ptl(pa))
    }

    /// What is mapped at the page holding `va`.
    pub fn mapped(&self, va: VirtAddr) -> Option<(PhysAddr, Ownership)> {
        self.mapped_writable(va).map(|(pa, ownership, _)| (pa, ownership))
    }

    /// What is mapped at the page holding `va`, and whether its entry lets
    /// EL0 write now (false for a page still shared copy-on-write).
    pub fn mapped_writable(&self, va: VirtAddr) -> Option<(PhysAddr, Ownership, bool)> {
        let (pa, attrs) = self.table_ref().page(&mut FrameTables, va.align_down(PAGE))?;
        Some((pa, ownership_of(attrs), attrs.flags.contains(MapFlags::WRITE)))
    }

    /// Frames a fork of this space may take for the child's tables: as
    /// many as this space has (the child gets a table wherever this one has
    /// a page below it), the root included. clone keeps them free on top of
    /// its reserve.
    pub fn fork_table_frames(&self) -> usize {
        self.table_ref().table_count(&mut FrameTables)
    }

    /// The attributes for `frame` in `area`: as `user_attributes`, except
    /// that a private frame still shared with another process after fork is
    /// read-only until its copy-on-write fault. A frame about to be mapped
    /// Normal-Tagged gets valid tags first (frame::make_tags_valid): every
    /// user entry is written with attributes from here.
    #[inline(always)]
    fn attributes(area: &Area, frame: Frame, ownership: Ownership) -> Attributes {
        let mut prot = area.prot;
        if ownership == Ownership::Owned && frame::owners(frame) > 1 {
            prot.remove(Prot::WRITE);
        }
        let attrs = user_attributes(prot, area.flags, ownership);
        if attrs.memory == MemoryType::NormalTagged {
            frame::make_tags_valid(frame);
        }
        attrs
    }

    /// The areas to read and the pages to change, borrowed together: the
    /// fault path looks at its area while it maps a page, without copying
    /// the area. Through `&self`: faults hold the shared side of the
    /// space's lock, and change entries only under their table's
    /// page-table lock (`UserPage`).
    #[inline(always)]
    pub fn parts(&self) -> (&AreaSet, Pages<'_>) {
        (&self.areas, Pages { table: self.table_ref(), asid: self.asid.value(), owned: &self.owned })
    }

    /// Maps `frame` at the page holding `va`, with the attributes of `area`,
    /// in place of whatever was there (see [`UserPage::map`]). An owned
    /// frame is freed here if it cannot be mapped.
    pub fn map(&mut self, va: VirtAddr, frame: Frame, area: &Area, ownership: Ownership) -> Result<(), OutOfMemory> {
        match self.parts().1.page(va) {
            Ok(mut page) => {
                page.map(frame, area, ownership);
                Ok(())
            }
            Err(OutOfMemory) => {
                if ownership == Ownership::Owned {
                    frame::put(frame);
                }
                Err(OutOfMemory)
            }
        }
    }

    /// Maps a fresh zeroed frame at page `va` with `data` copied in at
    /// `offset` (the loader: file contents and the initial stack).
    pub fn map_page_with(&mut self, va: VirtAddr, offset: u64, data: &[u8]) -> Result<(), OutOfMemory> {
        assert!(offset as usize + data.len() <= PAGE_SIZE && va.is_aligned(PAGE));
        let area = self.areas.find(va).cloned().ok_or(OutOfMemory)?;
        let f = if offset == 0 && data.len() == PAGE_SIZE {
            // A whole page of data: no need to zero it first.
            let f = frame::alloc().ok_or(OutOfMemory)?;
            // SAFETY: a frame we just allocated, through the linear map, and
            // 4096 readable bytes of `data`.
            unsafe { page_fill::copy_page(phys_to_virt(f.start()), VirtAddr::from_ptr(data.as_ptr())) };
            f
        } else {
            let f = frame::alloc_zeroed(Clear::Data).ok_or(OutOfMemory)?;
            let dst = phys_to_virt(f.start()).as_mut_ptr::<u8>();
            // SAFETY: a frame we just allocated, reached through the linear
            // map; offset + len stays inside it (asserted above).
            unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), dst.add(offset as usize), data.len()) };
            f
        };
        if area.prot.contains(Prot::EXEC) {
            // An ELF text page (or an executable stack's): the I-cache may
            // hold instructions from the frame's earlier use (Linux's
            // __sync_icache_dcache). QEMU has no I-cache to show it.
            crate::arch::aarch64::cache::sync_icache_frame(f);
        }
        self.map(va, f, &area, Ownership::Owned)
    }

    /// Drops the pages of `[start, end)` but keeps the areas: the next
    /// access faults in the zero page, the reference page or the shared
    /// page again (MADV_DONTNEED). One walk over the tables that exist in the
    /// range; each entry is cleared and its TLB entry invalidated before any
    /// frame is freed (Linux's mmu_gather order: unmap, flush, free).
    pub fn zap(&mut self, start: VirtAddr, end: VirtAddr) -> Result<(), Interrupted> {
        let mut gather = self.gather();
        Ok(self.zap_into(&mut gather, start, end, &mut Checks::new(BreakAt::Stop))?)
    }

    fn gather(&self) -> SpaceGather {
        Gather::new(UserTlb(self.asid.value()))
    }

    /// `zap`'s walk, its frames on `gather` (Linux's unmap_vmas into the
    /// caller's mmu_gather). Order rule: each entry cleared, then its TLB
    /// entry invalidated, then (once the gather waited for the
    /// invalidations) its frame freed.
    fn zap_into(&mut self, gather: &mut SpaceGather, start: VirtAddr, end: VirtAddr, checks: &mut Checks) -> Result<(), Pause> {
        let mut freed = 0;
        let flow = self.table().take_pages(&mut FrameTables, start, end, &mut |va, pa, attrs| {
            gather.invalidate(va);
            if !attrs.flags.contains(MapFlags::SPECIAL) {
                gather.remove_page(Frame::containing(pa));
                freed += 1;
            }
            checks.after(va)
        });
        self.owned.note_peak();
        *self.owned.now.get_mut() -= freed;
        checks.result(flow)
    }

    /// Unmaps `[start, end)` and removes the areas there, holding the
    /// space's lock throughout: for mmap's MAP_FIXED, mremap and brk. The
    /// munmap call goes through the same steps with the lock let go
    /// between pieces of the walk (mm/long_walk.rs: `munmap`).
    pub fn unmap(&mut self, start: VirtAddr, end: VirtAddr) -> Result<(), UnmapError> {
        let mut detached = Detached::new(start, end);
        self.detach(&mut detached)?;
        // Never broken off: see BreakAt::Never.
        self.zap_detached(&detached, start, BreakAt::Never).map_err(|_| UnmapError::Interrupted)?;
        Ok(())
    }

    /// munmap's first step (Linux's detach_vmas_to_be_unmapped): the areas
    /// of `detached`'s range out of the set, cut at its ends, and kept in
    /// `detached`. Nothing changes if cutting them would make too many.
    /// From here on a fault in the range finds no area, and no other area
    /// can be placed there until the call is done (mm/long_walk.rs).
    ///
    /// The areas detached must outlive the walk's gathers (every path of
    /// the callers drops them last): an area may hold the last reference
    /// to its backing object (shared memory, a reference page, a file's
    /// pages), whose drop frees the object's frames, which this space's
    /// entries map until the gather's flush.
    pub fn detach(&mut self, detached: &mut Detached) -> Result<(), UnmapError> {
        let (start, end) = detached.range;
        // The common munmap, one whole area, without a list on the heap.
        // Written in place, not returned: an area moved through a result
        // was copied twice byte by byte (memcpy from an unaligned offset
        // past the option's tag, about 250 instructions a munmap).
        detached.exact = self.areas.remove_exact(start, end);
        if detached.exact.is_none() {
            detached.pieces = self.areas.remove_range(start, end).map_err(|_| UnmapError::TooManyAreas)?;
        }
        Ok(())
    }

    /// munmap's walk over the pages of `detached` (from `detach`) at or
    /// above `from`, on one gather: each entry cleared, its TLB entry
    /// invalidated on every CPU, then its frame freed, all before this
    /// returns, a pause included (Linux's tlb_flush_mmu before
    /// cond_resched in zap_pte_range). Once every page is done, its last
    /// step on the same gather (Linux's unmap_region: one mmu_gather for
    /// the pages and the tables): the page tables that lie wholly in the
    /// gap left between the areas around the range (Linux's
    /// free_pgtables), freed once a flush of the whole ASID (for the walk
    /// caches) has completed on every CPU.
    pub fn zap_detached(&mut self, detached: &Detached, from: VirtAddr, break_at: BreakAt) -> Result<(), Pause> {
        let mut gather = self.gather();
        let mut checks = Checks::new(break_at);
        for area in detached.exact.iter().chain(detached.pieces.iter()).filter(|a| a.end > from) {
            self.zap_into(&mut gather, area.start.max(from), area.end, &mut checks)?;
        }
        let (start, end) = detached.range;
        let hole = self.areas.hole_around(start, end, VirtAddr::new(crate::exec::layout::USER_END));
        self.table().free_tables(&mut FrameTables, (start, end), hole, &mut |pa| gather.remove_table(pa));
        Ok(())
    }

    /// The exit's walk (mm/long_walk.rs: `exit_mmap`): every page at or
    /// above `from` zapped, the areas left for the space's drop.
    ///
    /// Order rule (Linux's exit_mmap with a fullmm gather, whose arm64
    /// tlb_flush invalidates nothing for pages): no thread of the space
    /// runs at EL0 any more (the caller is its last, exiting, and its CPU
    /// lets go of the user tables here; a pause's resume installs them
    /// again, and they are let go again at the next piece), so the whole
    /// ASID is invalidated first and the pages cleared after it are freed
    /// without a TLBI each: nothing can reach them through this ASID
    /// before its next flush, which the space's drop makes before the ASID
    /// is released.
    pub fn zap_from(&mut self, from: VirtAddr, break_at: BreakAt) -> Result<(), Pause> {
        user_tables::uninstall_if(self.table.root());
        let mut gather = Gather::after_space_flushed(UserTlb(self.asid.value()));
        let end = VirtAddr::new(crate::exec::layout::USER_END);
        self.zap_into(&mut gather, from, end, &mut Checks::new(break_at))
    }

    /// mprotect's first step: `prot` (and `add_flags`) on the areas of
    /// `[start, end)`; the pieces as they were, whose pages
    /// `protect_pages` goes over. `add_flags` may add MTE: a page already
    /// present, owned or not, then has its tags cleared if they were not
    /// valid (`attributes`, Linux's mte_sync_tags).
    pub fn protect_areas(
        &mut self,
        start: VirtAddr,
        end: VirtAddr,
        prot: Prot,
        add_flags: AreaFlags,
    ) -> Result<alloc::vec::Vec<Area>, ProtectError> {
        self.areas.protect_range(start, end, prot, add_flags)
    }

    /// mprotect's walk over the present pages of `pieces` at or above
    /// `from` (Linux's change_protection_range: the tables that exist, not
    /// a lookup per page), each entry rewritten from the area that holds
    /// it now. Every entry rewritten before a pause or the return is
    /// invalidated on every CPU by then.
    pub fn protect_pages(&mut self, pieces: &[Area], from: VirtAddr, break_at: BreakAt) -> Result<(), Pause> {
        let mut checks = Checks::new(break_at);
        for old in pieces.iter().filter(|a| a.end > from) {
            let mut now = self.areas.find(old.start.max(from)).cloned().expect("just protected");
            // Order rule: each entry rewritten, then invalidated; the call
            // returns only once every CPU dropped the old permissions (a
            // downgrade frees nothing, but a write through a stale
            // writable entry after mprotect returned would be one the
            // program was told cannot happen).
            let mut flush = self.gather();
            let (areas, table) = (&self.areas, &mut self.table);
            let flow = table.for_each_page(&mut FrameTables, old.start.max(from), old.end, &mut |va, mut slot| {
                let Some((pa, attrs)) = slot.page() else { return ControlFlow::Continue(()) };
                if !now.contains(va) {
                    // Cut by a madvise made while the walk paused.
                    now = areas.find(va).cloned().expect("just protected");
                }
                let ownership = ownership_of(attrs);
                // In place, without break-before-make: the output address
                // stays, and what changes is the permissions (AP, UXN, PXN)
                // and, when PROT_MTE is added, the memory type from Normal
                // to Normal-Tagged. The Arm ARM's break-before-make rule
                // ("Using break-before-make when updating translation table
                // entries") covers changes of output address, memory type,
                // cacheability, shareability and block size, not
                // permissions; Linux's change_pte_range rewrites user
                // entries without it too (ptep_modify_prot_start/commit,
                // no TLB invalidation between), one flush after. The
                // memory type change is the exception Linux's
                // pgattr_change_is_safe (arch/arm64/mm/mmu.c) names:
                // Normal <-> Normal-Tagged is safe "since Tagged is
                // considered a permission attribute from the mismatched
                // attribute aliases perspective". (That function checks
                // kernel mappings and its mask holds PXN, RDONLY, DBM and
                // nG only; it is not what allows AP[1] and UXN here.) The
                // frame's tags are valid before it becomes Tagged
                // (`attributes`: make_tags_valid), and the old entry leaves
                // the TLBs after the store (the gather, DSB ISHST first).
                slot.set(pa, Self::attributes(&now, Frame::containing(pa), ownership));
                flush.invalidate(va);
                checks.after(va)
            });
            drop(flush);
            checks.result(flow)?;
        }
        Ok(())
    }
}

/// The page tables of an address space, borrowed apart from its areas
/// ([`AddressSpace::parts`]).
pub struct Pages<'a> {
    table: &'a PageTable,
    asid: u16,
    owned: &'a OwnedFrames,
}

impl Pages<'_> {
    /// The page holding `va`, with the tables above its entry created if
    /// missing: one walk, after which the entry is read and written in place
    /// (a missing table is installed by compare-and-swap: `PageTable::walk_to`).
    #[inline(always)]
    pub fn page(&self, va: VirtAddr) -> Result<UserPage<'_>, OutOfMemory> {
        let va = va.align_down(PAGE);
        let slot = self.table.page_slot(&mut FrameTables, va).map_err(|_| OutOfMemory)?;
        Ok(UserPage { va, slot, asid: self.asid, owned: self.owned })
    }
}

/// One page of a user address space and its translation-table entry. Its
/// entry is read without a lock (`snapshot`, Linux's orig_pte) and changed
/// only under its table's page-table lock (mm/page_table_lock.rs), taken
/// by each method that changes it, after comparing the entry with the
/// snapshot the caller acted on (pte_same).
pub struct UserPage<'a> {
    va: VirtAddr,
    slot: PageSlot<'a>,
    asid: u16,
    owned: &'a OwnedFrames,
}

/// What copy-on-write found under the page-table lock
/// ([`UserPage::reuse_if_last_owner`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reuse {
    /// This space was the frame's only owner: the entry is writable again.
    Reused,
    /// Others own the frame too: the caller copies it.
    Shared,
    /// The entry is not what the caller read: another fault got there.
    Changed,
}

/// A page's entry as a fault first read it (Linux's orig_pte).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EntrySnapshot(u64);

impl EntrySnapshot {
    /// What was mapped then.
    #[inline(always)]
    pub fn mapped(self) -> Option<(PhysAddr, Ownership)> {
        let (pa, special) = PageSlot::frame_in(self.0)?;
        Some((pa, if special { Ownership::Special } else { Ownership::Owned }))
    }
}

impl UserPage<'_> {
    /// The entry now, for [`Self::map_if_unchanged`].
    #[inline(always)]
    pub fn snapshot(&self) -> EntrySnapshot {
        EntrySnapshot(self.slot.bits())
    }

    /// Maps `frame` with the attributes of `area`, in place of whatever was
    /// mapped (`replace_if`); an owned old frame loses this owner. For the
    /// exclusive side (the loader, fork's child): nothing else changes the
    /// entry between the two reads.
    #[inline(always)]
    pub fn map(&mut self, frame: Frame, area: &Area, ownership: Ownership) {
        let expected = self.snapshot();
        let mapped = self.map_if_unchanged(expected, frame, area, ownership);
        debug_assert!(mapped, "nothing changes the entry between the two reads");
    }

    /// The page-table lock of this entry's table.
    #[inline(always)]
    #[track_caller]
    fn lock(&self) -> super::page_table_lock::PageTableGuard {
        super::page_table_lock::lock(self.slot.table())
    }

    /// Copy-on-write's "last owner, reuse" (Linux's do_wp_page ->
    /// wp_page_reuse), under the page-table lock: if the entry is still
    /// `before` (mapping `old`, owned) and this space is `old`'s only
    /// owner, write access comes back (only the write permission changes;
    /// an entry that is not an EL0 page, or a forced write, `!allowed`,
    /// into a read-only area, gets the area's attributes applied again
    /// instead). Why no fork can add an owner between the check and the
    /// write: a fork of this space holds its lock's exclusive side across
    /// its `share` and its write-protect (and the flush after them), and
    /// this fault holds the shared side; a fork of another space that
    /// owns `old` too can only make the count larger than 1, never 1.
    #[inline(always)]
    pub fn reuse_if_last_owner(&mut self, before: EntrySnapshot, old: Frame, allowed: bool, area: &Area) -> Reuse {
        let _ptl = self.lock();
        if self.slot.bits() != before.0 {
            return Reuse::Changed;
        }
        if frame::owners(old) != 1 {
            return Reuse::Shared;
        }
        if !allowed || !self.allow_write() {
            self.refresh(area, Ownership::Owned);
        }
        Reuse::Reused
    }

    /// [`Self::refresh`] under the page-table lock, if the entry is still
    /// `before`; `false` if another fault rewrote it (nothing to do).
    #[inline(always)]
    pub fn refresh_if_unchanged(&mut self, before: EntrySnapshot, area: &Area, ownership: Ownership) -> bool {
        let _ptl = self.lock();
        let unchanged = self.slot.bits() == before.0;
        if unchanged {
            self.refresh(area, ownership);
        }
        unchanged
    }

    /// [`Self::map`] if the entry is still what `before` saw (Linux's
    /// pte_same): a fault that allocated (or looked up) a frame after
    /// reading the entry maps it only if no other fault changed the entry
    /// meanwhile, checked by the same read that starts the replacement,
    /// under the lock that orders faults on this entry (mm/fault.rs:
    /// `resolve`). `false`, nothing written and `frame` still the caller's,
    /// if it changed.
    ///
    /// The compare and the write run under the page-table lock, which every
    /// fault on an entry of this table takes for its compare and write: of
    /// two faults that allocated a frame for the same page, exactly one
    /// finds the entry as it read it.
    #[inline(always)]
    pub fn map_if_unchanged(&mut self, before: EntrySnapshot, frame: Frame, area: &Area, ownership: Ownership) -> bool {
        let attrs = AddressSpace::attributes(area, frame, ownership);
        let ptl = self.lock();
        let Ok(old) = self.replace_if(before, frame.start(), attrs) else { return false };
        drop(ptl);
        let mut lost_owned = false;
        if let Some((old, old_attrs)) = old {
            if !old_attrs.flags.contains(MapFlags::SPECIAL) {
                // After the broadcast invalidation in `replace_if`: no CPU
                // can reach the old frame through this entry any more.
                frame::put(Frame::containing(old));
                lost_owned = true;
            }
        }
        // A copy-on-write copy replaces an owned frame by an owned frame:
        // the count does not change. A fault never maps fewer owned frames
        // than it replaces (`OwnedFrames`).
        if ownership == Ownership::Owned && !lost_owned {
            self.owned.now.fetch_add(1, Ordering::Relaxed);
        }
        debug_assert!(ownership == Ownership::Owned || !lost_owned, "a fault replaced an owned frame by a special one");
        true
    }

    /// Writes the entry for `pa` with `attrs`; a valid entry already there
    /// is replaced by break-before-make, so that the old and the new
    /// translation are never both visible (Arm ARM (DDI 0487K.a) D8.16.1, "Using
    /// break-before-make when updating translation table entries": needed
    /// whenever the output address changes, as here: a zero page, a
    /// reference page or a shared frame giving way to a private copy).
    /// Returns what was mapped. The steps:
    ///
    /// 1. Write an invalid descriptor over the old one.
    /// 2. DSB ISHST: that store is visible to every walker before the TLBI.
    /// 3. TLBI VALE1IS by VA and ASID: drop the old entry from every TLB of
    ///    the Inner Shareable domain.
    /// 4. DSB ISH: the invalidation is complete before the new entry is
    ///    written (no ISB: the entry is used only after the exception
    ///    return, which is context-synchronizing). Steps 2-4 are
    ///    `tlb::flush_user_page`, Linux's ptep_clear_flush -> flush_tlb_page.
    /// 5. Write the new descriptor.
    /// 6. *Left out*: the DSB ISHST (and ISB) that would make the new
    ///    entry visible to the walker before the next access. Linux's
    ///    set_pte issues it only for valid kernel entries
    ///    (pte_valid_not_user), and its update_mmu_cache leaves it out on
    ///    purpose ("a very small chance of us retaking a user fault which
    ///    we just fixed up"), so user entries go without it here too: the
    ///    exception return to EL0 does not wait for the store, and a walk
    ///    that misses it finds the invalid entry and faults again. That
    ///    fault finds the page mapped and allowed, a *spurious* fault, which
    ///    arch/aarch64/el0_abort.rs (`resolve_or_signal`) retries after
    ///    `refresh` invalidated the TLB entry behind a DSB: from EL0 as often
    ///    as it comes (as Linux does), from a kernel access to user memory
    ///    once, a second spurious fault on the same access ending the copy
    ///    with EFAULT (`kernel_access_to_user`), so the kernel cannot spin.
    ///    The barrier would cost every fault; its absence costs a retry on
    ///    the rare one that races the store.
    ///
    /// The invalidation in steps 2-4 is broadcast and complete before this
    /// returns, so the caller may free the old frame (copy-on-write's
    /// shared frame, losing an owner): no CPU's TLB can reach it through
    /// this entry any more.
    ///
    /// Done only if the entry is still `before` (step 1's read compares);
    /// `Err`, nothing written, otherwise.
    #[inline(always)]
    fn replace_if(
        &mut self,
        before: EntrySnapshot,
        pa: PhysAddr,
        attrs: Attributes,
    ) -> Result<Option<(PhysAddr, Attributes)>, EntryChanged> {
        // Step 1 (PageSlot::clear_if writes only over a valid entry).
        let old = self.slot.clear_if(before.0)?;
        if old.is_some() {
            // Steps 2-4, whose DSBs also order the new frame's contents
            // before step 5.
            tlb::flush_user_page(self.asid, self.va.as_u64());
            // Step 5; step 6 left out (above).
            self.slot.set(pa, attrs);
        } else {
            // Step 5 where nothing was mapped: no TLBI, so a DMB ISHST
            // first, or a thread on another CPU could walk to the new
            // entry before the frame's zeroes or copy reach it
            // (`PageSlot::publish`, Linux's __SetPageUptodate).
            self.slot.publish(pa, attrs);
        }
        Ok(old)
    }

    /// Gives write access back to the page mapped here, nothing else
    /// changed, and drops its TLB entry: copy-on-write reuse, the caller
    /// having seen that this space is the frame's only owner (Linux's
    /// wp_page_reuse: pte_mkwrite, then ptep_set_access_flags, which
    /// flushes the page's stale read-only entry). The rest of the entry
    /// already follows the area (mprotect rewrites present entries);
    /// `false`, and nothing changed, if the entry is not an EL0 page.
    /// Under the page-table lock (`reuse_if_last_owner`).
    #[inline(always)]
    fn allow_write(&mut self) -> bool {
        if !self.slot.add_user_write() {
            return false;
        }
        tlb::flush_user_page(self.asid, self.va.as_u64());
        true
    }

    /// Re-applies the area's attributes to the page mapped here (after a
    /// fault on a page whose entry disagrees with its area) and drops its
    /// TLB entry.
    /// Under the page-table lock (`refresh_if_unchanged`).
    #[inline(always)]
    fn refresh(&mut self, area: &Area, ownership: Ownership) {
        let Some((pa, _)) = self.slot.page() else { return };
        // In place: the same frame, only its permissions (or Normal to
        // Normal-Tagged) change, which needs no break-before-make (the
        // comment in `AddressSpace::protect`).
        self.slot.set(pa, AddressSpace::attributes(area, Frame::containing(pa), ownership));
        tlb::flush_user_page(self.asid, self.va.as_u64());
    }
}

impl AddressSpace {
    /// The child's address space at fork: the same areas; shared pages (zero
    /// page, reference pages, shared memory) mapped as they are; private
    /// pages shared copy-on-write — one more owner each, and read-only in
    /// both spaces until one of them writes (mm/fault.rs).
    pub fn fork(&mut self) -> Result<AddressSpace, OutOfMemory> {
        // The child's areas are copies on the kernel heap: a program with
        // many areas forking many times must get ENOMEM, not exhaust it.
        if !super::heap::can_spare(self.areas.len() * AREA_HEAP_BYTES) {
            return Err(OutOfMemory);
        }
        let mut child = AddressSpace::new()?;
        child.areas = self.areas.for_fork();
        child.brk = self.brk;
        child.vdso = self.vdso;
        child.layout = self.layout;
        let areas: alloc::vec::Vec<Area> = self.areas.iter().cloned().collect();
        let mut result = Ok(());
        // The copy holds the space's lock from start to end: see
        // mm/long_walk.rs for why it cannot pause.
        let mut checks = Checks::new(BreakAt::Stop);
        // MADV_DONTFORK areas are not in the child, MADV_WIPEONFORK ones
        // are there without their pages (Linux's dup_mmap).
        for area in areas.iter().filter(|a| !a.flags.intersects(AreaFlags::DONT_COPY | AreaFlags::WIPE_ON_FORK)) {
            // One walk over the parent's tables in the area, each page
            // mapped in the child as it is met (Linux's copy_page_range):
            // no list of the pages on the kernel heap.
            let flow = self.table().for_each_page(&mut FrameTables, area.start, area.end, &mut |va, mut slot| {
                let Some((pa, attrs)) = slot.page() else { return ControlFlow::Continue(()) };
                let f = Frame::containing(pa);
                let mapped = if attrs.flags.contains(MapFlags::SPECIAL) {
                    child.map(va, f, area, Ownership::Special)
                } else {
                    frame::share(f);
                    // The parent's entry becomes read-only in place: a
                    // permission change, which needs no break-before-make
                    // (the comment in `protect`); its TLB entry goes in the
                    // flush by ASID after the walk, before the parent runs
                    // again (Linux's copy_present_pte: ptep_set_wrprotect,
                    // then flush_tlb_mm in dup_mmap).
                    child
                        .map(va, f, area, Ownership::Owned)
                        .map(|()| slot.set(pa, Self::attributes(area, f, Ownership::Owned)))
                };
                if let Err(e) = mapped {
                    result = Err(e);
                    return ControlFlow::Break(());
                }
                // Stopped by the time limit or SIGKILL: the caller's task
                // never sees the answer.
                let flow = checks.after(va);
                if flow.is_break() {
                    result = Err(OutOfMemory);
                }
                flow
            });
            if flow.is_break() {
                break;
            }
        }
        // Order rule (Linux's dup_mmap: flush_tlb_mm before mmap_lock is
        // released): the parent's pages that became read-only leave every
        // CPU's TLB, on every path, before fork returns and so before the
        // child can run. Until then a sibling thread running at EL0 on
        // another CPU may still write through its stale writable entry into
        // a page the child now shares; such a write is one that happened
        // before the fork (both see it), and every later one faults and
        // copies. The walk itself runs under the exclusive side of this
        // space's lock (syscall/process.rs: clone), and every fault of the
        // space holds its shared side, copy-on-write's reuse check
        // included (`UserPage::reuse_if_last_owner`): no fault of this
        // space runs between a page's `share` and its write-protect, or
        // makes a page writable again before this flush. So a reuse check
        // never sees the count of a `share` whose write-protect is not done.
        tlb::flush_asid(self.asid.value());
        result?;
        let now = *child.owned.now.get_mut();
        *child.owned.peak.get_mut() = now;
        Ok(child)
    }

    /// Writes `bytes` into this (not the current) address space at `va`,
    /// faulting the page in as a write would (CLONE_CHILD_SETTID).
    pub fn poke(&mut self, va: VirtAddr, bytes: &[u8]) -> Result<(), OutOfMemory> {
        if va.page_offset() + bytes.len() > PAGE_SIZE {
            return Err(OutOfMemory);
        }
        super::fault::handle(self, va, super::fault::Access::Write).map_err(|_| OutOfMemory)?;
        let (pa, _) = self.mapped(va).ok_or(OutOfMemory)?;
        // SAFETY: a private, writable frame of this space, through the
        // linear map; the range stays inside the page (checked above).
        unsafe {
            let dst = phys_to_virt(pa).as_mut_ptr::<u8>().add(va.page_offset());
            core::ptr::copy_nonoverlapping(bytes.as_ptr(), dst, bytes.len());
        }
        Ok(())
    }
}

impl Drop for AddressSpace {
    /// Order rule (Linux's exit_mmap with a fullmm gather): no TTBR0 points
    /// at the space any more (this CPU's is switched away here if it still
    /// does: an exit or exec drops the old space after installing the new
    /// one or none; another CPU's runner uninstalls a space when its task
    /// leaves, and a CPU running a thread of the space holds a reference to
    /// it), then its whole ASID is invalidated on every CPU, then every
    /// page and table is freed. Then the ASID is released (user_tables.rs).
    fn drop(&mut self) {
        {
            let table = core::mem::replace(&mut self.table, PageTable::taken());
            user_tables::uninstall_if(table.root());
            // Both callbacks free through the one gather.
            let gather = core::cell::RefCell::new(Gather::after_space_flushed(UserTlb(self.asid.value())));
            table.destroy(
                &mut FrameTables,
                &mut |_, pa, attrs| {
                    if !attrs.flags.contains(MapFlags::SPECIAL) {
                        gather.borrow_mut().remove_page(Frame::containing(pa));
                    }
                },
                &mut |pa| {
                    gather.borrow_mut().remove_table(pa);
                    // A table's pages done: moving on, not stuck (a
                    // 400 MiB space takes seconds on a loaded host).
                    crate::arch::aarch64::kernel_lock::touch_watchdog();
                },
            );
        }
    }
}
