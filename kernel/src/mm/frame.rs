//! Physical frame allocator.
//!
//! Frames (4 KiB pages of RAM) come from `buddy_system_allocator`'s
//! `FrameAllocator`, seeded with the free ranges of [`super::memory_map`].
//! This wrapper adds the bookkeeping later issues rely on: how many frames
//! exist and how many are free, so a test runner can say "leaked N frames".
//!
//! Single frames go through a cache per CPU (mm/frame_cache.rs, Linux's
//! per-CPU page lists) in front of the pool: see [`alloc`] and [`put`].
//!
//! Frames are handed out as they are: neither their data nor their
//! allocation tags are cleared here. Boot does not clear the tags of all RAM
//! (that would cost a pass over every byte); instead each frame records
//! whether its tags are valid (Linux's PG_mte_tagged, [`TagState`]): a frame
//! zeroed with its tags, or whose tags were all written, is marked so, and
//! any other frame has its tags cleared the first time it is mapped
//! Normal-Tagged ([`make_tags_valid`], Linux's mte_sync_tags). Freeing a
//! frame forgets it.

use core::sync::atomic::{AtomicU32, AtomicU8, Ordering};

use buddy_system_allocator::FrameAllocator;

pub use super::addr::Frame;
use super::addr::{PhysRange, PAGE_SHIFT};
use super::frame_cache::FrameCaches;
use crate::sync::{IrqSpinLock, Rank};

/// Buddy orders: blocks of up to 2^31 frames (8 TiB), more than any `virt`.
const ORDER: usize = 32;

/// A snapshot of the frame counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameStats {
    pub total: usize,
    pub free: usize,
}

impl FrameStats {
    pub fn used(&self) -> usize {
        self.total - self.free
    }
}

/// The frame pool with its counters. Pure bookkeeping: tested on the host.
pub struct FramePool {
    buddy: FrameAllocator<ORDER>,
    /// Frame numbers `[first, end)` spanning every frame ever added.
    span: Option<(u64, u64)>,
    /// Single frames freed recently, handed out oldest first while more
    /// than `CACHE_RESERVE` wait: most allocations are one frame (page
    /// faults), and a queue costs about 20 instructions where the buddy
    /// allocator's tree operations cost 150 to 300. Behind the per-CPU
    /// caches (frame_cache.rs), it takes the frames they give back and
    /// refills them. Oldest first, and never a frame freed a moment ago: a
    /// LIFO stack made QEMU itself many times slower on a later program
    /// (seen with refpage_memory_accounting after fork_cow_refpage), most
    /// likely for the cause found later with the per-CPU caches: a frame of
    /// the exited program's code reused at once as a kernel stack, which
    /// kept QEMU's translations of it (kernel_map.rs: `add_page` now zeroes
    /// stacks; docs/smp.md, "Frames").
    cache: alloc::collections::VecDeque<usize>,
    /// How many frames at the front of the cache came from a refill, not
    /// from a free: those are handed out whatever the reserve.
    fresh: usize,
    /// Frames the cache holds at most ([`FramePool::set_cpus`]).
    cache_limit: usize,
    total: usize,
    free: usize,
}

/// Frames the cache holds at most per CPU before returning them to the
/// buddy lists (16 MiB): enough for a process to unmap and fault back a few
/// thousand pages without touching the buddy lists. One such process can
/// run on every CPU at once, so the cache holds this many per CPU online
/// ([`FramePool::set_cpus`]), as Linux's per-CPU page lists add up with the
/// CPUs: measured, four processes each unmapping and faulting back 8 MiB
/// (fault_scaling, -smp 4) overflowed a 16 MiB cache into the buddy lists'
/// tree operations: about 100 instructions a fault.
const CACHE_FRAMES_PER_CPU: usize = 4096;
/// Frames freed most recently that the cache does not hand out (while the
/// buddy lists have any): a frame waits for this many frees before reuse.
const CACHE_RESERVE: usize = 64;
/// Frames taken from the buddy lists at once when the cache runs low.
const CACHE_REFILL: usize = 32;

impl FramePool {
    pub const fn new() -> Self {
        Self {
            buddy: FrameAllocator::new(),
            span: None,
            cache: alloc::collections::VecDeque::new(),
            fresh: 0,
            cache_limit: CACHE_FRAMES_PER_CPU,
            total: 0,
            free: 0,
        }
    }

    /// Sizes the cache for `cpus` CPUs: [`CACHE_FRAMES_PER_CPU`] each, but
    /// at most a quarter of the frames added (never below one CPU's share).
    /// Frames over a smaller limit stay cached until handed out.
    pub fn set_cpus(&mut self, cpus: usize) {
        let wanted = CACHE_FRAMES_PER_CPU.saturating_mul(cpus.max(1));
        self.cache_limit = wanted.min(self.total / 4).max(CACHE_FRAMES_PER_CPU);
    }

    /// Adds the whole frames of `range` to the pool.
    pub fn add_range(&mut self, range: PhysRange) {
        let first = range.start.as_u64().div_ceil(1 << PAGE_SHIFT) as usize;
        let end = (range.end.as_u64() >> PAGE_SHIFT) as usize;
        if first < end {
            self.buddy.add_frame(first, end);
            let (lo, hi) = self.span.unwrap_or((first as u64, end as u64));
            self.span = Some((lo.min(first as u64), hi.max(end as u64)));
            self.total += end - first;
            self.free += end - first;
        }
    }

    /// Allocates `count` physically contiguous frames, aligned to the next
    /// power of two of `count` (a buddy allocator's natural alignment).
    pub fn alloc(&mut self, count: usize) -> Option<Frame> {
        // The page-fault path: a frame from the cache, nothing else to do.
        if count == 1 && (self.fresh > 0 || self.cache.len() > CACHE_RESERVE) {
            self.fresh = self.fresh.saturating_sub(1);
            return self.take_cached();
        }
        self.alloc_slow(count)
    }

    /// `alloc` when the cache cannot serve: a refill for a single frame,
    /// or the buddy lists.
    #[inline(never)]
    fn alloc_slow(&mut self, count: usize) -> Option<Frame> {
        if count == 1 && self.refill_cache() {
            self.fresh -= 1;
            return self.take_cached();
        }
        let first = match self.buddy.alloc(count) {
            Some(first) => first,
            // Out of buddy frames: the cached ones are free memory too.
            None if count == 1 => return self.take_cached(),
            None => {
                self.drain_cache();
                self.buddy.alloc(count)?
            }
        };
        self.free -= count.next_power_of_two();
        Some(Frame::from_number(first as u64))
    }

    /// Moves a block of `CACHE_REFILL` frames from the buddy lists to the
    /// front of the cache, where they are handed out before any frame freed
    /// recently: one buddy operation for that many single-frame
    /// allocations. `false`, and nothing moves, if no such block is left.
    fn refill_cache(&mut self) -> bool {
        let Some(first) = self.buddy.alloc(CACHE_REFILL) else { return false };
        for f in (first..first + CACHE_REFILL).rev() {
            self.cache.push_front(f);
        }
        self.fresh = CACHE_REFILL;
        true
    }

    /// The oldest cached frame, if any.
    fn take_cached(&mut self) -> Option<Frame> {
        let f = self.cache.pop_front()?;
        self.free -= 1;
        Some(Frame::from_number(f as u64))
    }

    /// Gives every cached frame back to the buddy lists, where it can merge
    /// into the larger blocks a multi-frame allocation needs.
    fn drain_cache(&mut self) {
        self.fresh = 0;
        while let Some(f) = self.cache.pop_front() {
            self.buddy.dealloc(f, 1);
        }
    }

    /// Up to `out.len()` single frames, for a CPU's cache (Linux's
    /// rmqueue_bulk): how many were written. The cache's frames first,
    /// oldest first (the CPU caches gave them back, each after waiting
    /// its turn there), then whole blocks of the buddy lists, one tree
    /// operation a block.
    pub fn alloc_batch(&mut self, out: &mut [u64]) -> usize {
        let mut n = 0;
        while n < out.len() {
            let Some(f) = self.cache.pop_front() else { break };
            out[n] = f as u64;
            n += 1;
        }
        self.fresh = self.fresh.saturating_sub(n);
        // The largest block that fits what is missing, halved until the
        // buddy lists have one.
        let mut block = 1 << (usize::BITS - 1 - (out.len() - n).max(1).leading_zeros());
        while n < out.len() {
            match self.buddy.alloc(block) {
                Some(first) => {
                    for (slot, f) in out[n..n + block].iter_mut().zip(first..) {
                        *slot = f as u64;
                    }
                    n += block;
                    while block > out.len() - n {
                        block /= 2;
                    }
                }
                None if block == 1 => break,
                None => block /= 2,
            }
        }
        // Each block was exactly its size (a power of two): no rounding.
        self.free -= n;
        n
    }

    /// Returns frames obtained from [`FramePool::alloc`] with the same `count`.
    pub fn dealloc(&mut self, first: Frame, count: usize) {
        if count == 1 && self.cache.len() < self.cache_limit {
            self.cache.push_back(first.number() as usize);
            self.free += 1;
            return;
        }
        self.buddy.dealloc(first.number() as usize, count);
        self.free += count.next_power_of_two();
    }

    pub fn stats(&self) -> FrameStats {
        FrameStats { total: self.total, free: self.free }
    }

    /// The frame numbers `[first, end)` of every frame added.
    pub fn span(&self) -> Option<(u64, u64)> {
        self.span
    }
}

impl Default for FramePool {
    fn default() -> Self {
        Self::new()
    }
}

static FRAMES: IrqSpinLock<FramePool> = IrqSpinLock::new(Rank::FramePool, FramePool::new());

#[cfg(target_os = "none")]
use crate::arch::aarch64::cpu_local::MAX_CPUS;
/// The host tests of this file are one CPU (frame_cache.rs tests several).
#[cfg(not(target_os = "none"))]
const MAX_CPUS: usize = 1;

/// Each CPU's cache of single frames in front of [`FRAMES`]
/// (frame_cache.rs: the lock, the drain).
static CACHES: FrameCaches<MAX_CPUS> = FrameCaches::new();

#[cfg(target_os = "none")]
#[inline(always)]
fn this_cpu() -> usize {
    crate::arch::aarch64::cpu_local::this_cpu().index()
}

#[cfg(not(target_os = "none"))]
fn this_cpu() -> usize {
    0
}

/// Runs `f` on `pool`, locked. Its lists and cache live on the kernel
/// heap; what they hold is counted as the frame allocator's bookkeeping,
/// apart from the heap bytes a program could leak (heap.rs).
#[inline(always)]
pub(super) fn locked<R>(pool: &IrqSpinLock<FramePool>, f: impl FnOnce(&mut FramePool) -> R) -> R {
    super::heap::as_frame_bookkeeping(|| f(&mut pool.lock()))
}

/// Runs `f` on the pool.
fn with_pool<R>(f: impl FnOnce(&mut FramePool) -> R) -> R {
    locked(&FRAMES, f)
}

/// Gives the free RAM ranges to the allocator (once, at boot).
pub fn init(free: &[PhysRange]) {
    with_pool(|pool| free.iter().for_each(|r| pool.add_range(*r)));
}

/// Sizes the pool's cache for the `cpus` CPUs online (boot, once the
/// secondaries are up): [`FramePool::set_cpus`].
pub fn set_cpus(cpus: usize) {
    with_pool(|pool| pool.set_cpus(cpus));
}

/// One frame, or `None` when RAM is exhausted (every CPU's cache drained
/// first): from this CPU's cache (frame_cache.rs).
#[inline]
pub fn alloc() -> Option<Frame> {
    CACHES.alloc(this_cpu(), &FRAMES)
}

/// `count` contiguous frames from the pool (boot's tables), the CPU
/// caches drained first if the pool has no such block.
#[cfg(target_os = "none")]
fn alloc_contiguous(count: usize) -> Option<Frame> {
    with_pool(|pool| pool.alloc(count)).or_else(|| {
        CACHES.drain_all(&FRAMES);
        with_pool(|pool| pool.alloc(count))
    })
}

/// A frame freed on CPU `cpu` rather than this one: the self-test's way
/// to leave frames in the cache of a CPU that runs nothing.
#[cfg(target_os = "none")]
pub fn put_in_cache_of(cpu: usize, frame: Frame) {
    CACHES.free(cpu, frame, &FRAMES);
}

/// Extra owners of every frame, for pages shared copy-on-write after fork:
/// 0 means one owner. Linux keeps this in each frame's struct page
/// (_mapcount); here it is 4 bytes a frame (1/1024 of RAM) in frames taken
/// from the pool at boot, indexed by frame number: one load on the fault
/// path, where a sparse map of shared frames cost hundreds of instructions.
struct OwnerTable {
    first: u64,
    extra: &'static [AtomicU32],
    /// The address `extra`'s word for frame number 0 would have (wrapping):
    /// a frame's word is at `biased + number * 4`, one add from the frame
    /// number (`table_lock_word`, on every fault).
    biased: usize,
}

impl OwnerTable {
    /// The counter of `frame`; frames outside RAM (none are handed out)
    /// have none and always count one owner.
    fn extra(&self, frame: Frame) -> Option<&AtomicU32> {
        // One bounds check: a frame below `first` wraps to an index past
        // the end.
        let i = frame.number().wrapping_sub(self.first);
        self.extra.get(usize::try_from(i).ok()?)
    }
}

/// A value written once at boot, on the boot CPU, before the secondaries
/// are started (main.rs: `init_owners` comes before `start_secondaries`)
/// and before any entry from EL0, then only read: a plain load on the fault
/// path, where a `spin::Once` cost an acquire load and a state check. The
/// secondaries see it through the release store that publishes their start
/// (cpu_local.rs: `prepare`) and the PSCI call after it.
struct BootCell<T>(core::cell::UnsafeCell<T>);

// SAFETY: written only by `set`, whose caller guarantees nothing reads it
// meanwhile (boot, one CPU); after that only shared references exist.
unsafe impl<T: Sync> Sync for BootCell<T> {}

impl<T> BootCell<T> {
    const fn new(value: T) -> Self {
        Self(core::cell::UnsafeCell::new(value))
    }

    /// # Safety
    /// Only at boot, on the boot CPU, before any other CPU or any process
    /// runs, and before any reference from `get` is taken.
    unsafe fn set(&self, value: T) {
        // SAFETY: the caller's guarantee: no reference to the value exists.
        unsafe { *self.0.get() = value };
    }

    #[inline]
    fn get(&self) -> &T {
        // SAFETY: after boot the value is never written again (`set`).
        unsafe { &*self.0.get() }
    }
}

/// Empty until `init_owners`: every frame counts one owner.
static OWNERS: BootCell<OwnerTable> = BootCell::new(OwnerTable { first: 0, extra: &[], biased: 0 });

/// Whether each frame's allocation tags are valid, one byte a frame
/// (Linux's PG_mte_tagged and PG_mte_lock): *stale*, nothing wrote them for
/// the frame's present use; *claimed*, someone is clearing them; *valid*.
/// A byte, not two bits, so that marking a frame is a store and checking
/// it a load on the fault path, with no read-modify-write of a word other
/// frames share. A frame comes from the pool stale, and [`put`] makes it
/// stale again when its last owner lets it go. Pure bookkeeping, tested on
/// the host; clearing the tags is the caller's.
pub struct TagState<'a> {
    first: u64,
    frames: &'a [AtomicU8],
}

const TAGS_STALE: u8 = 0;
const TAGS_CLAIMED: u8 = 1;
const TAGS_VALID: u8 = 2;

/// What [`TagState::claim`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TagClaim {
    /// The tags are valid: nothing to do.
    Valid,
    /// The caller must clear the tags, then call [`TagState::set_valid`].
    Mine,
    /// Another CPU is clearing them (wait for `Valid`).
    Busy,
    /// Not a frame of the pool (none is handed out).
    Outside,
}

impl<'a> TagState<'a> {
    pub fn new(first: u64, frames: &'a [AtomicU8]) -> Self {
        Self { first, frames }
    }

    fn state(&self, frame: Frame) -> Option<&AtomicU8> {
        let i = frame.number().checked_sub(self.first)?;
        self.frames.get(usize::try_from(i).ok()?)
    }

    /// Whether the tags of `frame` are valid (Acquire: their clearing
    /// happened before).
    #[inline]
    pub fn is_valid(&self, frame: Frame) -> bool {
        self.state(frame).is_some_and(|s| s.load(Ordering::Acquire) == TAGS_VALID)
    }

    /// Claims the clearing of `frame`'s tags, unless they are valid or
    /// already claimed (Linux's try_page_mte_tagging).
    pub fn claim(&self, frame: Frame) -> TagClaim {
        let Some(s) = self.state(frame) else { return TagClaim::Outside };
        match s.compare_exchange(TAGS_STALE, TAGS_CLAIMED, Ordering::Acquire, Ordering::Acquire) {
            Ok(_) => TagClaim::Mine,
            Err(TAGS_VALID) => TagClaim::Valid,
            Err(_) => TagClaim::Busy,
        }
    }

    /// The tags of `frame` are valid now (Release: after they were written).
    pub fn set_valid(&self, frame: Frame) {
        if let Some(s) = self.state(frame) {
            s.store(TAGS_VALID, Ordering::Release);
        }
    }

    /// `frame` goes back to the pool: its tags mean nothing any more.
    pub fn forget(&self, frame: Frame) {
        if let Some(s) = self.state(frame) {
            s.store(TAGS_STALE, Ordering::Relaxed);
        }
    }
}

/// None until `init_owners` (and for good without tag storage).
static TAGS: BootCell<Option<TagState<'static>>> = BootCell::new(None);

/// `count` zeroed values of `T` in frames taken from the pool for good,
/// through the linear map.
#[cfg(target_os = "none")]
fn boot_table<T>(count: usize, what: &str) -> &'static [T] {
    use crate::arch::aarch64::mmu::layout::phys_to_virt;
    let frames = (count * core::mem::size_of::<T>()).div_ceil(1 << PAGE_SHIFT);
    let table = alloc_contiguous(frames).unwrap_or_else(|| panic!("frames for the {}", what));
    let base = phys_to_virt(table.start());
    for i in 0..frames as u64 {
        // SAFETY: frames just taken from the pool, ours for good, reached
        // through the linear map. DC ZVA: a tenth of the stores of a memset.
        unsafe { crate::arch::aarch64::page_fill::zero_page(base + (i << PAGE_SHIFT)) };
    }
    // SAFETY: as above; the callers' T (atomic integers) are valid when all
    // bytes are zero, and the frames hold `count` of them.
    unsafe { core::slice::from_raw_parts(base.as_mut_ptr::<T>(), count) }
}

/// Sets up the owner table, and the tag state where tag storage exists, in
/// frames of the pool. Once, at boot, after `init` and once the linear map
/// exists.
#[cfg(target_os = "none")]
pub fn init_owners() {
    let (first, end) = with_pool(|pool| pool.span()).expect("RAM was added to the frame pool");
    let count = (end - first) as usize;
    let extra = boot_table::<AtomicU32>(count, "frame owner table");
    let biased = (extra.as_ptr() as usize).wrapping_sub((first as usize).wrapping_mul(4));
    // SAFETY: at boot, on the boot CPU, before the secondaries start and
    // before anything reads the table (main.rs).
    unsafe { OWNERS.set(OwnerTable { first, extra, biased }) };
    // Tag storage is what mte::enable turns tagging on for, later in boot.
    if crate::arch::aarch64::mte::level() >= 2 {
        let frames = boot_table::<AtomicU8>(count, "frame tag state");
        // SAFETY: as for OWNERS above.
        unsafe { TAGS.set(Some(TagState::new(first, frames))) };
    }
}

/// The tags of `frame` were all written for its present use (zeroed with
/// the data, copied, or filled from a pattern): mapping it tagged keeps them.
pub fn mark_tags_valid(frame: Frame) {
    if let Some(tags) = TAGS.get().as_ref() {
        tags.set_valid(frame);
    }
}

/// Makes the tags of `frame` valid before it is mapped Normal-Tagged: if
/// nothing wrote them since the frame was allocated (a page written through
/// an untagged mapping, by read() or by the kernel), they are whatever an
/// earlier user left, and are cleared now, data kept (Linux's
/// mte_sync_tags with PG_mte_tagged). Nothing to do with tagging off.
#[cfg(target_os = "none")]
#[inline]
pub fn make_tags_valid(frame: Frame) {
    match TAGS.get().as_ref() {
        Some(tags) if !tags.is_valid(frame) => clear_stale_tags(tags, frame),
        _ => {}
    }
}

/// [`make_tags_valid`] for a frame whose tags were not valid a moment ago.
#[cfg(target_os = "none")]
#[inline(never)]
fn clear_stale_tags(tags: &TagState, frame: Frame) {
    use crate::arch::aarch64::{mmu::layout::phys_to_virt, page_fill};
    loop {
        match tags.claim(frame) {
            TagClaim::Valid | TagClaim::Outside => return,
            TagClaim::Busy => core::hint::spin_loop(),
            TagClaim::Mine => {
                // SAFETY: a frame of the pool mapped by the caller, through
                // the linear map (Tagged); STG leaves the data alone.
                unsafe { page_fill::clear_tags(phys_to_virt(frame.start())) };
                tags.set_valid(frame);
                return;
            }
        }
    }
}

fn extra_owners(frame: Frame) -> Option<&'static AtomicU32> {
    OWNERS.get().extra(frame)
}

/// The word of a level-3 translation table's frame that serves as its
/// page-table lock (mm/page_table_lock.rs), as Linux keeps a table's split
/// lock in its struct page: the frame's extra-owner counter, which a table
/// never uses (tables are never shared copy-on-write, and `put` frees one
/// only under the exclusive side of its space's lock, when no fault holds
/// the lock, so the word is 0 then, as `put` needs).
///
/// # Safety
/// `table` came from the frame pool (`alloc`, `alloc_zeroed`), after
/// `init_owners`: every such frame has a word (user tables come from
/// `user_tables.rs: FrameTables`, which allocates them so). The fault
/// path takes this lock on every fault; the bounds check and the fallback
/// it would need cost 5 of its instructions.
#[inline(always)]
pub unsafe fn table_lock_word(table: Frame) -> &'static AtomicU32 {
    let owners = OWNERS.get();
    debug_assert!(owners.extra(table).is_some(), "a table frame outside the pool");
    // `number * 4` is the frame's address shifted right by 10 (its low 12
    // bits are 0): one shifted add.
    let word = owners.biased.wrapping_add((table.start().as_u64() >> 10) as usize);
    // SAFETY: the caller's frame is from the pool, whose frames all have a
    // word in `extra` (init_owners sizes it to every frame of RAM), and
    // `biased + number * 4` is that word's address (`OwnerTable::biased`).
    unsafe { &*(word as *const AtomicU32) }
}

/// Drops one owner of a frame (Linux's put_page); only the last one
/// returns it to the allocator, so a frame shared copy-on-write stays.
///
/// Release on the drop, acquire on the look that finds no other owner (as
/// Linux's put_page, a fully ordered atomic_dec_and_test): an owner's
/// reads of the frame (a pin's copy, mm/page_pin.rs) come before whatever
/// the next user of the frame writes, whichever owner frees it.
pub fn put(frame: Frame) {
    let shared = extra_owners(frame)
        .is_some_and(|extra| extra.fetch_update(Ordering::Release, Ordering::Acquire, |n| n.checked_sub(1)).is_ok());
    if !shared {
        if let Some(tags) = TAGS.get().as_ref() {
            tags.forget(frame);
        }
        CACHES.free(this_cpu(), frame, &FRAMES);
    }
}

/// Adds an owner (fork sharing a private page copy-on-write).
pub fn share(frame: Frame) {
    extra_owners(frame).expect("shared frames come from the pool").fetch_add(1, Ordering::Relaxed);
}

/// Adds an owner if `frame` is a pool frame (a pin, mm/page_pin.rs, taken
/// under the page-table lock of an entry mapping it); `false` for a frame
/// outside the pool, which is never freed.
pub fn try_share(frame: Frame) -> bool {
    extra_owners(frame).map(|extra| extra.fetch_add(1, Ordering::Relaxed)).is_some()
}

/// How many owners a frame has (1 unless shared).
pub fn owners(frame: Frame) -> u32 {
    1 + extra_owners(frame).map_or(0, |extra| extra.load(Ordering::Relaxed))
}

/// The counts, the frames in every CPU's cache counted free.
pub fn stats() -> FrameStats {
    with_pool(|pool| {
        let FrameStats { total, free } = pool.stats();
        FrameStats { total, free: free + CACHES.cached() }
    })
}

/// What a new frame must be cleared of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clear {
    /// Data only: the frame will be mapped without PROT_MTE (or tags are off).
    Data,
    /// Data and allocation tags, for a tagged mapping. This, not boot, is
    /// where a frame's stale tags are cleared.
    DataAndTags,
}

/// One zeroed frame. With tagging on, `Clear::DataAndTags` zeroes data and
/// tags in a single pass (DC GZVA), as Linux does for a new PROT_MTE page.
#[cfg(target_os = "none")]
pub fn alloc_zeroed(clear: Clear) -> Option<Frame> {
    use crate::arch::aarch64::{mmu::layout::phys_to_virt, mte, page_fill};
    let frame = alloc()?;
    let va = phys_to_virt(frame.start());
    if clear == Clear::DataAndTags && mte::tagging_enabled() {
        // SAFETY: a frame just allocated, owned by us, mapped RW Tagged by the
        // linear map.
        unsafe { page_fill::zero_page_with_tags(va) };
        mark_tags_valid(frame);
    } else {
        // SAFETY: as above.
        unsafe { page_fill::zero_page(va) };
    }
    Some(frame)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mm::addr::PhysAddr;

    fn pool_of(start: u64, frames: u64) -> FramePool {
        let mut pool = FramePool::new();
        pool.add_range(PhysRange::from_start_size(PhysAddr::new(start), frames << PAGE_SHIFT));
        pool
    }

    extern crate std;

    #[test]
    fn batches_take_cached_frames_then_blocks_until_none_is_left() {
        let mut pool = pool_of(0x4000_0000, 100);
        let single = pool.alloc(1).unwrap();
        pool.dealloc(single, 1);
        let mut all = std::vec::Vec::new();
        let mut out = [0u64; 24];
        loop {
            let n = pool.alloc_batch(&mut out);
            all.extend_from_slice(&out[..n]);
            assert_eq!(pool.stats().free, 100 - all.len(), "free counts every frame handed out once");
            if n < out.len() {
                break;
            }
        }
        // The refill block left 31 frames in the cache, then came the one freed.
        assert_eq!(all[CACHE_REFILL - 1], single.number(), "cached frames come first, oldest first");
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 100, "every frame exactly once");
        assert_eq!(pool.alloc_batch(&mut out), 0);
        all.iter().for_each(|&f| pool.dealloc(Frame::from_number(f), 1));
        assert_eq!(pool.stats().free, 100);
    }

    #[test]
    fn counts_follow_allocations_and_frees() {
        let mut pool = pool_of(0x4000_0000, 64);
        assert_eq!(pool.stats(), FrameStats { total: 64, free: 64 });
        let a = pool.alloc(1).unwrap();
        let b = pool.alloc(1).unwrap();
        assert_ne!(a, b);
        assert_eq!(pool.stats().used(), 2);
        pool.dealloc(a, 1);
        pool.dealloc(b, 1);
        assert_eq!(pool.stats(), FrameStats { total: 64, free: 64 });
    }

    #[test]
    fn frames_come_from_the_added_range() {
        let mut pool = pool_of(0x4000_0000, 16);
        for _ in 0..16 {
            let f = pool.alloc(1).unwrap();
            assert!((0x40000..0x40010).contains(&f.number()), "frame {:?} outside the range", f);
        }
        assert_eq!(pool.alloc(1), None, "an exhausted pool must say so");
        assert_eq!(pool.stats().free, 0);
    }

    #[test]
    fn cached_frames_serve_allocations_when_the_buddy_lists_are_empty() {
        let mut pool = pool_of(0x4000_0000, 8);
        let frames: std::vec::Vec<Frame> = (0..8).map(|_| pool.alloc(1).unwrap()).collect();
        assert_eq!(pool.alloc(1), None);
        for f in &frames {
            pool.dealloc(*f, 1);
        }
        // All eight sit in the cache; a single frame and then a block of
        // four (which needs them merged back) must still be found.
        assert!(pool.alloc(1).is_some());
        assert!(pool.alloc(4).is_some());
        assert_eq!(pool.stats().used(), 5);
    }

    #[test]
    fn freed_frames_are_queued_and_reused_oldest_first() {
        let mut pool = pool_of(0x4000_0000, 4 * CACHE_FRAMES_PER_CPU as u64);
        let frames: std::vec::Vec<Frame> = (0..CACHE_FRAMES_PER_CPU).map(|_| pool.alloc(1).unwrap()).collect();
        for f in &frames {
            pool.dealloc(*f, 1);
        }
        assert_eq!(pool.stats().used(), 0, "queued frames count as free");
        // The newest CACHE_RESERVE are kept back, so a frame is not handed
        // out again right after it was freed; the oldest comes out first.
        assert_eq!(pool.alloc(1), Some(frames[0]));
        assert_eq!(pool.stats().used(), 1);
    }

    /// Frees `n` single frames taken from `pool`; how many went to the
    /// cache (the rest went to the buddy lists).
    fn cached_after_freeing(pool: &mut FramePool, n: usize) -> usize {
        let frames: std::vec::Vec<Frame> = (0..n).map(|_| pool.alloc(1).unwrap()).collect();
        frames.iter().for_each(|f| pool.dealloc(*f, 1));
        pool.cache.len()
    }

    #[test]
    fn the_cache_holds_one_cpus_share_per_cpu_up_to_a_quarter_of_ram() {
        let per_cpu = CACHE_FRAMES_PER_CPU;
        let mut one = pool_of(0x4000_0000, 16 * per_cpu as u64);
        assert_eq!(cached_after_freeing(&mut one, 4 * per_cpu), per_cpu, "one CPU");
        let mut four = pool_of(0x4000_0000, 16 * per_cpu as u64);
        four.set_cpus(4);
        assert_eq!(cached_after_freeing(&mut four, 4 * per_cpu), 4 * per_cpu, "four CPUs");
        let mut small = pool_of(0x4000_0000, 8 * per_cpu as u64);
        small.set_cpus(4);
        assert_eq!(cached_after_freeing(&mut small, 4 * per_cpu), 2 * per_cpu, "a quarter of RAM");
        let mut tiny = pool_of(0x4000_0000, 2 * per_cpu as u64);
        tiny.set_cpus(4);
        assert_eq!(cached_after_freeing(&mut tiny, 2 * per_cpu), per_cpu, "one CPU's share at least");
    }

    #[test]
    fn a_frame_just_freed_is_not_handed_out_while_the_buddy_lists_have_frames() {
        let mut pool = pool_of(0x4000_0000, 4 * CACHE_RESERVE as u64);
        let frames: std::vec::Vec<Frame> = (0..CACHE_RESERVE).map(|_| pool.alloc(1).unwrap()).collect();
        for f in &frames {
            pool.dealloc(*f, 1);
        }
        let next = pool.alloc(1).unwrap();
        assert!(!frames.contains(&next), "{:?} was freed a moment ago", next);
    }

    #[test]
    fn a_low_cache_is_refilled_with_a_block_handed_out_in_order() {
        let mut pool = pool_of(0x4000_0000, 4 * CACHE_REFILL as u64);
        let first = pool.alloc(1).unwrap();
        let second = pool.alloc(1).unwrap();
        assert_eq!(second.number(), first.number() + 1, "consecutive frames of one refill block");
        assert_eq!(pool.stats().used(), 2, "the rest of the block is cached, and free");
    }

    #[test]
    fn partial_frames_are_not_added() {
        let mut pool = FramePool::new();
        pool.add_range(PhysRange::new(PhysAddr::new(0x1800), PhysAddr::new(0x4800)));
        assert_eq!(pool.stats().total, 2, "only 0x2000..0x4000 is whole frames");
    }

    #[test]
    fn tags_are_cleared_once_per_allocation() {
        let frames: std::vec::Vec<AtomicU8> = (0..128).map(|_| AtomicU8::new(0)).collect();
        let tags = TagState::new(0x40000, &frames);
        let (a, b) = (Frame::from_number(0x40000 + 33), Frame::from_number(0x40000 + 34));
        // First tagged mapping: the mapper clears; a second one waits.
        assert_eq!(tags.claim(a), TagClaim::Mine);
        assert_eq!(tags.claim(a), TagClaim::Busy);
        assert!(!tags.is_valid(a));
        tags.set_valid(a);
        assert_eq!(tags.claim(a), TagClaim::Valid);
        // Its neighbour is untouched.
        assert!(!tags.is_valid(b));
        assert_eq!(tags.claim(b), TagClaim::Mine);
        // Freed and handed out again: stale once more.
        tags.forget(a);
        assert!(!tags.is_valid(a));
        assert_eq!(tags.claim(a), TagClaim::Mine);
        // A frame zeroed with its tags needs no clearing.
        tags.forget(b);
        tags.set_valid(b);
        assert_eq!(tags.claim(b), TagClaim::Valid);
        assert_eq!(tags.claim(Frame::from_number(0x3ffff)), TagClaim::Outside);
        assert_eq!(tags.claim(Frame::from_number(0x40000 + 128)), TagClaim::Outside);
    }

    #[test]
    fn multi_frame_blocks_count_their_rounded_size() {
        let mut pool = pool_of(0, 64);
        let f = pool.alloc(3).unwrap();
        assert_eq!(f.number() % 4, 0, "buddy blocks are naturally aligned");
        assert_eq!(pool.stats().used(), 4);
        pool.dealloc(f, 3);
        assert_eq!(pool.stats().used(), 0);
    }
}
