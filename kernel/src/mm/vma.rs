//! Virtual memory areas: what a user address space is allowed to contain,
//! independent of what is mapped yet.
//!
//! Pages are mapped lazily, on the first fault (see `mm::fault`); the area
//! list is what a fault is checked against. `munmap` and `mprotect` of part
//! of an area split it, as Linux's `split_vma` does. Pure logic, tested on
//! the host.

use alloc::collections::BTreeMap;
#[cfg(target_os = "none")]
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::sync::atomic::{AtomicPtr, Ordering};

use bitflags::bitflags;

use super::addr::{VirtAddr, PAGE_SIZE};

pub mod resize;

bitflags! {
    /// Access an area allows: Linux's PROT_READ/WRITE/EXEC bit values.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Prot: u32 {
        const READ = 1;
        const WRITE = 2;
        const EXEC = 4;
    }
}

bitflags! {
    /// Properties of an area beyond its protection (Linux's VM_* flags).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct AreaFlags: u32 {
        /// MAP_SHARED: writes go to the backing object, not a private copy.
        const SHARED = 1 << 0;
        /// PROT_MTE: pages are mapped Normal Tagged and carry tags.
        const MTE = 1 << 1;
        /// mprotect may add PROT_WRITE (not for a shared mapping of a
        /// read-only descriptor; Linux's VM_MAYWRITE).
        const MAY_WRITE = 1 << 2;
        /// mlock, mlock2, mlockall, MAP_LOCKED: the pages are populated and
        /// stay (Linux's VM_LOCKED; /proc's `lo`, Locked, VmLck).
        const LOCKED = 1 << 3;
        /// mlock2(MLOCK_ONFAULT), mlockall(MCL_ONFAULT): locked as they are
        /// faulted in, not populated now (VM_LOCKONFAULT).
        const LOCK_ONFAULT = 1 << 4;
        /// MADV_DONTFORK: a fork's child does not get the area (VM_DONTCOPY).
        const DONT_COPY = 1 << 5;
        /// MADV_WIPEONFORK: a fork's child gets the area empty, reading
        /// zeros (VM_WIPEONFORK).
        const WIPE_ON_FORK = 1 << 6;
    }
}

impl AreaFlags {
    /// The mlock state (Linux's VM_LOCKED_MASK).
    pub const LOCK_MASK: AreaFlags = AreaFlags::LOCKED.union(AreaFlags::LOCK_ONFAULT);
}

/// What backs an area's pages.
#[derive(Clone)]
pub enum Backing {
    /// Private zero-filled memory: brk, .bss, the stack, MAP_ANONYMOUS |
    /// MAP_PRIVATE. Reads map the shared zero page until the first write.
    Anonymous,
    /// MAP_ANONYMOUS | MAP_SHARED: pages live in a shared object and keep
    /// their contents when unmapped from one place.
    #[cfg(target_os = "none")]
    SharedMemory(Arc<super::shared_memory::SharedMemory>),
    /// MAP_PRIVATE of an in-memory file: reads see the file's pages, the
    /// first write to a page copies it (data and tags).
    #[cfg(target_os = "none")]
    PrivateFile(Arc<super::shared_memory::SharedMemory>),
    /// A refpage_create(2) descriptor: every page of the (infinite) file is
    /// the one reference page.
    #[cfg(target_os = "none")]
    RefPage(Arc<super::refpage::RefPage>),
    /// Pages of an ELF segment's file part wholly past the end of the
    /// file (exec/elf.rs): any access raises SIGBUS (BUS_ADRERR), as
    /// Linux's filemap_fault answers VM_FAULT_SIGBUS past EOF.
    PastEndOfFile,
    /// The vDSO's data pages, Linux's [vvar] (vdso/mod.rs).
    VdsoData,
    /// The vDSO's text, Linux's [vdso].
    VdsoText,
}

impl Backing {
    /// The name /proc/PID/maps gives an area of this kind, if it has one
    /// of its own (Linux's special mappings).
    pub fn special_name(&self) -> Option<&'static str> {
        match self {
            Backing::VdsoData => Some("[vvar]"),
            Backing::VdsoText => Some("[vdso]"),
            _ => None,
        }
    }
}

impl Backing {
    /// A special mapping (Linux's VM_SPECIAL: [vvar], [vdso]): never
    /// locked, as mlock_fixup skips it.
    pub fn is_special(&self) -> bool {
        self.special_name().is_some()
    }

    /// Pages the kernel inserts itself, with no page behind them to fault
    /// (Linux's VM_PFNMAP: arm64's [vvar]): populate skips or refuses it.
    pub fn is_pfn_map(&self) -> bool {
        matches!(self, Backing::VdsoData)
    }

    /// No file behind it (Linux's vma_is_anonymous, or a special mapping
    /// without vm_file for MADV_WIPEONFORK).
    pub fn is_anonymous(&self) -> bool {
        matches!(self, Backing::Anonymous)
    }
}

impl PartialEq for Backing {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Backing::Anonymous, Backing::Anonymous) | (Backing::PastEndOfFile, Backing::PastEndOfFile) => true,
            (Backing::VdsoData, Backing::VdsoData) | (Backing::VdsoText, Backing::VdsoText) => true,
            #[cfg(target_os = "none")]
            (Backing::SharedMemory(a), Backing::SharedMemory(b)) => Arc::ptr_eq(a, b),
            #[cfg(target_os = "none")]
            (Backing::PrivateFile(a), Backing::PrivateFile(b)) => Arc::ptr_eq(a, b),
            #[cfg(target_os = "none")]
            (Backing::RefPage(a), Backing::RefPage(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl fmt::Debug for Backing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Backing::Anonymous => write!(f, "anonymous"),
            Backing::PastEndOfFile => write!(f, "file, past its end"),
            Backing::VdsoData | Backing::VdsoText => write!(f, "{}", self.special_name().unwrap_or_default()),
            #[cfg(target_os = "none")]
            Backing::SharedMemory(_) => write!(f, "shared memory"),
            #[cfg(target_os = "none")]
            Backing::PrivateFile(_) => write!(f, "private file"),
            #[cfg(target_os = "none")]
            Backing::RefPage(r) => write!(f, "refpage (size {})", r.size()),
        }
    }
}

/// One contiguous area `[start, end)`, page aligned.
#[derive(Clone, Debug, PartialEq)]
pub struct Area {
    pub start: VirtAddr,
    pub end: VirtAddr,
    pub prot: Prot,
    pub flags: AreaFlags,
    pub backing: Backing,
    /// Page index in the backing object of the page at `start` (the mmap
    /// offset / 4096); kept right when the area is split.
    pub pgoff: u64,
}

impl Area {
    /// A private anonymous area.
    pub fn anonymous(start: VirtAddr, end: VirtAddr, prot: Prot) -> Self {
        Self { start, end, prot, flags: AreaFlags::MAY_WRITE, backing: Backing::Anonymous, pgoff: 0 }
    }

    pub fn contains(&self, va: VirtAddr) -> bool {
        self.start <= va && va < self.end
    }

    /// Page index in the backing object of the page holding `va`.
    pub fn page_index(&self, va: VirtAddr) -> u64 {
        self.pgoff + (va - self.start) / PAGE_SIZE as u64
    }

    /// The part of this area from `at` on, with its offset adjusted.
    fn upper(&self, at: VirtAddr) -> Self {
        Self { start: at, pgoff: self.page_index(at), ..self.clone() }
    }
}

/// The areas of one address space, keyed by start address, never overlapping.
#[derive(Debug, Default, Clone)]
pub struct AreaSet {
    areas: AreaMap,
    /// Where the last top-down placement went, and the largest hole it
    /// passed over: the next search starts there unless it asks for a hole
    /// that small (Linux's free_area_cache and cached_hole_size, before the
    /// gap-augmented tree). Without it, each mmap walked every area above
    /// its place: quadratic in the number of mappings. Read and written
    /// only through `&mut self` (mmap and mremap place under the exclusive
    /// side of the space's lock, mm/mmap_lock.rs): no reader ever sees it.
    gap_cache: Option<GapCache>,
}

/// The areas by start address, and the area `find` returned last. Faults
/// come in runs on one area: checking the last one costs a few
/// instructions where a lookup in the tree cost about a hundred. The
/// remembered area is a pointer into the tree's nodes, which move only
/// when the tree changes; every change goes through `DerefMut`, which
/// forgets it first, so it never points at a moved or freed area.
///
/// Shared readers (faults under the shared side of the space's lock,
/// mm/mmap_lock.rs) look it up and set it at once on several CPUs: it is
/// one atomic word, so a reader loads a whole pointer some reader stored,
/// never half of one, and every pointer stored since the last change
/// points at a live area of the same tree (which one does not matter: it
/// is checked to hold the address). Relaxed is enough: a change takes the
/// exclusive side, whose acquire waits for every reader's release (their
/// stores come before it), and readers after the change acquire after its
/// release, so each sees the change's null or a later reader's pointer.
/// Loads and stores of an aligned word: the plain LDR and STR of before.
struct AreaMap {
    map: BTreeMap<VirtAddr, Area>,
    last_found: AtomicPtr<Area>,
}

impl AreaMap {
    /// The area `find` returned last, if the tree has not changed since.
    fn last_found(&self) -> Option<&Area> {
        // SAFETY: non-null only while the tree is unchanged since `remember`
        // (deref_mut clears it, with `&mut self`, so with no reader left:
        // see the type's comment), so it points at a live area of `map`,
        // borrowed here for no longer than `self`.
        unsafe { self.last_found.load(Ordering::Relaxed).as_ref() }
    }

    fn remember(&self, area: &Area) {
        self.last_found.store(area as *const Area as *mut Area, Ordering::Relaxed);
    }
}

impl Default for AreaMap {
    fn default() -> Self {
        Self { map: BTreeMap::new(), last_found: AtomicPtr::new(core::ptr::null_mut()) }
    }
}

impl Clone for AreaMap {
    /// A copy remembers nothing: its areas are elsewhere.
    fn clone(&self) -> Self {
        Self { map: self.map.clone(), last_found: AtomicPtr::new(core::ptr::null_mut()) }
    }
}

impl fmt::Debug for AreaMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.map.fmt(f)
    }
}

impl core::ops::Deref for AreaMap {
    type Target = BTreeMap<VirtAddr, Area>;
    fn deref(&self) -> &Self::Target {
        &self.map
    }
}

impl core::ops::DerefMut for AreaMap {
    /// Every change to the tree: the remembered area is forgotten first.
    fn deref_mut(&mut self) -> &mut Self::Target {
        *self.last_found.get_mut() = core::ptr::null_mut();
        &mut self.map
    }
}

#[derive(Clone, Copy, Debug)]
struct GapCache {
    below: VirtAddr,
    largest_skipped: u64,
}

impl AreaSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// The area containing `va`: the area found last, if it holds `va`
    /// (inlined, a few loads), else the tree's lookup (out of line).
    #[inline]
    pub fn find(&self, va: VirtAddr) -> Option<&Area> {
        if let Some(area) = self.areas.last_found().filter(|a| a.contains(va)) {
            return Some(area);
        }
        self.find_in_tree(va)
    }

    #[inline(never)]
    fn find_in_tree(&self, va: VirtAddr) -> Option<&Area> {
        let area = self.areas.range(..=va).next_back().map(|(_, a)| a).filter(|a| a.contains(va))?;
        self.areas.remember(area);
        Some(area)
    }

    /// The gap around `[start, end)`, which no area overlaps: from the end
    /// of the area below it (or 0) to the start of the area above it (or
    /// `top`). munmap frees the page tables that lie wholly inside it.
    pub fn hole_around(&self, start: VirtAddr, end: VirtAddr, top: VirtAddr) -> (VirtAddr, VirtAddr) {
        let floor = self.areas.range(..start).next_back().map_or(VirtAddr::new(0), |(_, a)| a.end);
        let ceiling = self.areas.range(end..).next().map_or(top, |(_, a)| a.start);
        (floor, ceiling)
    }

    /// Whether any area overlaps `[start, end)`.
    pub fn overlaps(&self, start: VirtAddr, end: VirtAddr) -> bool {
        self.areas.range(..end).next_back().is_some_and(|(_, a)| a.end > start)
    }

    /// Adds an area; it must not overlap another.
    pub fn insert(&mut self, area: Area) -> Result<(), ()> {
        if self.areas.len() >= MAX_AREAS {
            return Err(());
        }
        debug_assert!(area.start.is_aligned(PAGE_SIZE as u64) && area.end.is_aligned(PAGE_SIZE as u64));
        if area.start >= area.end || self.overlaps(area.start, area.end) {
            return Err(());
        }
        self.areas.insert(area.start, area);
        Ok(())
    }

    /// Cuts the areas at `at` so that no area straddles it.
    fn split_at(&mut self, at: VirtAddr) {
        if let Some(area) = self.find(at).cloned() {
            if area.start < at {
                self.areas.insert(at, area.upper(at));
                self.areas.insert(area.start, Area { end: at, ..area });
            }
        }
    }

    /// How many areas cutting at `start` and `end` would add.
    fn splits_for(&self, start: VirtAddr, end: VirtAddr) -> usize {
        [start, end].iter().filter(|&&at| self.find(at).is_some_and(|a| a.start < at)).count()
    }

    /// Whether `[start, end)` can be cut out of the areas without going over
    /// MAX_AREAS (Linux's __split_vma fails with ENOMEM at max_map_count).
    fn may_split(&self, start: VirtAddr, end: VirtAddr) -> bool {
        self.areas.len() + self.splits_for(start, end) <= MAX_AREAS
    }

    /// Removes the area that is exactly `[start, end)`, if there is one:
    /// the common munmap, with nothing to split and no list of pieces on
    /// the heap (`remove_range` returns one).
    pub fn remove_exact(&mut self, start: VirtAddr, end: VirtAddr) -> Option<Area> {
        if self.areas.get(&start).is_none_or(|a| a.end != end) {
            return None;
        }
        // Space freed above the last placement: search from the top again.
        if self.gap_cache.is_some_and(|c| c.below < end) {
            self.gap_cache = None;
        }
        self.areas.remove(&start)
    }

    /// Removes `[start, end)` from every area, splitting those that straddle
    /// its edges. Returns the removed pieces, or `TooManyAreas` (nothing
    /// changed) if the splits would go over MAX_AREAS.
    pub fn remove_range(&mut self, start: VirtAddr, end: VirtAddr) -> Result<Vec<Area>, TooManyAreas> {
        // One whole area: no split, no list of keys to collect.
        if let Some(area) = self.remove_exact(start, end) {
            return Ok(alloc::vec![area]);
        }
        if !self.may_split(start, end) {
            return Err(TooManyAreas);
        }
        self.split_at(start);
        self.split_at(end);
        // Space freed above the last placement: search from the top again.
        if self.gap_cache.is_some_and(|c| c.below < end) {
            self.gap_cache = None;
        }
        let keys: Vec<VirtAddr> = self.areas.range(start..end).map(|(k, _)| *k).collect();
        Ok(keys.into_iter().filter_map(|k| self.areas.remove(&k)).collect())
    }

    /// Sets `prot` (and adds `add_flags`) on `[start, end)`, which must be
    /// fully covered by areas (Linux's mprotect fails with ENOMEM otherwise),
    /// each allowing it (`allowed`). Returns the pieces as they were before,
    /// or the error without changing anything.
    pub fn protect_range(
        &mut self,
        start: VirtAddr,
        end: VirtAddr,
        prot: Prot,
        add_flags: AreaFlags,
    ) -> Result<Vec<Area>, ProtectError> {
        if !self.covers(start, end) {
            return Err(ProtectError::Hole);
        }
        let mut at = start;
        while at < end {
            let area = self.find(at).expect("covered");
            if prot.contains(Prot::WRITE) && !area.flags.contains(AreaFlags::MAY_WRITE) {
                return Err(ProtectError::NotWritable);
            }
            // The vDSO's frames are shared by every process and read with
            // untagged pointers: they must never be mapped tagged.
            if add_flags.contains(AreaFlags::MTE) && area.backing.special_name().is_some() {
                return Err(ProtectError::MteNotAllowed);
            }
            at = area.end;
        }
        if !self.may_split(start, end) {
            return Err(ProtectError::TooManyAreas);
        }
        self.split_at(start);
        self.split_at(end);
        let mut before = Vec::new();
        for (_, area) in self.areas.range_mut(start..end) {
            before.push(area.clone());
            area.prot = prot;
            area.flags |= add_flags;
        }
        Ok(before)
    }

    /// Sets the flags of the areas inside `[start, end)` to what `update`
    /// makes of each (mlock, madvise's flag advice). An area straddling an
    /// edge is split only if its flags change, and neighbours left alike
    /// are merged again (Linux's mlock_fixup and madvise_update_vma:
    /// split_vma, vma_merge), so munlock undoes mlock's split. Holes are
    /// skipped. Refused with nothing changed if the splits would go over
    /// MAX_AREAS (split_vma's ENOMEM).
    pub fn update_flags(
        &mut self,
        start: VirtAddr,
        end: VirtAddr,
        update: impl Fn(&Area) -> AreaFlags,
    ) -> Result<(), TooManyAreas> {
        let cut = |set: &Self, at: VirtAddr| set.find(at).is_some_and(|a| a.start < at && update(a) != a.flags);
        let (cut_start, cut_end) = (cut(self, start), cut(self, end));
        if self.areas.len() + usize::from(cut_start) + usize::from(cut_end) > MAX_AREAS {
            return Err(TooManyAreas);
        }
        if cut_start {
            self.split_at(start);
        }
        if cut_end {
            self.split_at(end);
        }
        for (_, area) in self.areas.range_mut(start..end) {
            area.flags = update(area);
        }
        // Merge each area from `start` to the one at `end` with the one
        // before it where they now continue each other.
        let mut at = self.find(start).map_or(start, |a| a.start);
        while at <= end {
            let Some((&key, _)) = self.areas.range(at..).next() else { break };
            if key > end {
                break;
            }
            self.merge_with_previous(key);
            at = key + PAGE_SIZE as u64;
        }
        Ok(())
    }

    /// Merges the area at `key` into the one ending there if nothing tells
    /// them apart: same protection, flags and backing, the backing's pages
    /// continuing (Linux's is_mergeable_vma and its pgoff check).
    fn merge_with_previous(&mut self, key: VirtAddr) {
        let Some(area) = self.areas.get(&key) else { return };
        let Some((_, prev)) = self.areas.range(..key).next_back() else { return };
        let pages = (prev.end - prev.start) / PAGE_SIZE as u64;
        let alike = prev.end == area.start
            && prev.prot == area.prot
            && prev.flags == area.flags
            && prev.backing == area.backing
            && prev.pgoff + pages == area.pgoff;
        if alike {
            let end = area.end;
            let prev_start = prev.start;
            self.areas.remove(&key);
            if let Some(prev) = self.areas.get_mut(&prev_start) {
                prev.end = end;
            }
        }
    }

    /// The first area that ends above `va`: the one holding it, or the
    /// next one up (Linux's find_vma).
    pub fn first_from(&self, va: VirtAddr) -> Option<&Area> {
        self.find(va).or_else(|| self.areas.range(va..).next().map(|(_, a)| a))
    }

    /// The child's areas at fork: without the MADV_DONTFORK ones, and
    /// unlocked (Linux's dup_mmap skips VM_DONTCOPY and clears
    /// VM_LOCKED_MASK in the copy).
    pub fn for_fork(&self) -> AreaSet {
        let mut child = AreaSet::new();
        for area in self.areas.values().filter(|a| !a.flags.contains(AreaFlags::DONT_COPY)) {
            let mut area = area.clone();
            area.flags.remove(AreaFlags::LOCK_MASK);
            child.areas.insert(area.start, area);
        }
        child
    }

    /// Whether `[start, end)` is covered by areas with no holes.
    pub fn covers(&self, start: VirtAddr, end: VirtAddr) -> bool {
        let mut at = start;
        while at < end {
            match self.find(at) {
                Some(a) => at = a.end,
                None => return false,
            }
        }
        true
    }

    /// The highest gap of `len` bytes that ends at or below `below` and
    /// starts at or above `floor` (top-down placement, as Linux's mmap does).
    pub fn find_gap_below(&mut self, below: VirtAddr, floor: VirtAddr, len: u64) -> Option<VirtAddr> {
        // Resume under the last placement when no hole skipped on the way
        // there could take `len`; otherwise, or if nothing is found there,
        // search from the top.
        let cached = self.gap_cache.filter(|c| c.below <= below && len > c.largest_skipped);
        let (start, skipped) = match cached.map(|c| (self.gap_search(c.below, floor, len), c.largest_skipped)) {
            Some(((Some(start), skipped), skipped_before)) => (start, skipped.max(skipped_before)),
            _ => match self.gap_search(below, floor, len) {
                (Some(start), skipped) => (start, skipped),
                (None, _) => return None,
            },
        };
        self.gap_cache = Some(GapCache { below: start, largest_skipped: skipped });
        Some(start)
    }

    /// Walks down from `below`: the first gap of `len` bytes at or above
    /// `floor`, and the largest smaller hole passed on the way.
    fn gap_search(&self, below: VirtAddr, floor: VirtAddr, len: u64) -> (Option<VirtAddr>, u64) {
        let mut top = below;
        let mut skipped = 0;
        for (_, area) in self.areas.range(..below).rev() {
            if area.end <= top {
                let hole = top - area.end;
                if hole >= len {
                    break;
                }
                skipped = skipped.max(hole);
            }
            top = top.min(area.start);
        }
        let start = top.as_u64().checked_sub(len).filter(|&s| s >= floor.as_u64());
        (start.map(VirtAddr::new), skipped)
    }

    /// Every area, in address order.
    pub fn iter(&self) -> impl Iterator<Item = &Area> {
        self.areas.values()
    }

    pub fn len(&self) -> usize {
        self.areas.len()
    }
}

/// Why mprotect refused a range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProtectError {
    /// Part of the range has no area: ENOMEM.
    Hole,
    /// PROT_WRITE on an area that may not become writable: EACCES.
    NotWritable,
    /// Splitting would go over MAX_AREAS: ENOMEM.
    TooManyAreas,
    /// PROT_MTE on an area that cannot hold tags: EINVAL (Linux's
    /// arch_validate_flags without VM_MTE_ALLOWED).
    MteNotAllowed,
    /// The page walk stopped: the run's time is up or the task has SIGKILL
    /// pending (`process::long_work_must_stop`); it never sees the answer.
    Interrupted,
}

/// The most areas one address space may have: Linux's default
/// vm.max_map_count. Every area costs kernel heap, so without a limit a
/// program could exhaust it one mmap at a time.
pub const MAX_AREAS: usize = 65530;

/// Splitting areas would go over MAX_AREAS (munmap: ENOMEM, as Linux).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooManyAreas;

#[cfg(test)]
mod tests {
    use super::*;

    const P: u64 = PAGE_SIZE as u64;

    fn va(page: u64) -> VirtAddr {
        VirtAddr::new(0x10_0000 + page * P)
    }

    fn anon(start: u64, end: u64, prot: Prot) -> Area {
        Area::anonymous(va(start), va(end), prot)
    }

    fn spans(set: &AreaSet) -> Vec<(u64, u64, Prot)> {
        set.iter().map(|a| ((a.start - va(0)) / P, (a.end - va(0)) / P, a.prot)).collect()
    }

    #[test]
    fn overlapping_areas_are_refused() {
        let mut set = AreaSet::new();
        set.insert(anon(0, 4, Prot::READ)).unwrap();
        assert!(set.insert(anon(3, 5, Prot::READ)).is_err());
        assert!(set.insert(anon(4, 5, Prot::READ)).is_ok(), "adjacent is fine");
        assert!(set.find(va(3)).is_some() && set.find(va(5)).is_none());
    }

    #[test]
    fn find_sees_areas_as_they_are_now_not_as_last_found() {
        let mut set = AreaSet::new();
        set.insert(anon(0, 10, Prot::READ)).unwrap();
        assert_eq!(set.find(va(7)).map(|a| a.end), Some(va(10)));
        // Shrunk under the remembered start: the tail is gone.
        set.remove_range(va(5), va(10)).unwrap();
        assert!(set.find(va(7)).is_none());
        assert_eq!(set.find(va(4)).map(|a| a.end), Some(va(5)));
        // Removed and replaced by two areas: each is found, neither stale.
        set.remove_range(va(0), va(5)).unwrap();
        set.insert(anon(0, 2, Prot::WRITE)).unwrap();
        set.insert(anon(2, 6, Prot::READ)).unwrap();
        assert_eq!(set.find(va(1)).map(|a| a.prot), Some(Prot::WRITE));
        assert_eq!(set.find(va(3)).map(|a| a.prot), Some(Prot::READ));
        assert_eq!(set.find(va(1)).map(|a| (a.start, a.end)), Some((va(0), va(2))));
        // A copy (fork) finds its own areas, not the original's, even once
        // the original has gone.
        let copy = set.clone();
        drop(set);
        assert_eq!(copy.find(va(1)).map(|a| (a.start, a.end)), Some((va(0), va(2))));
        assert_eq!(copy.find(va(3)).map(|a| a.prot), Some(Prot::READ));
    }

    #[test]
    fn unmapping_the_middle_splits_an_area_in_two() {
        let mut set = AreaSet::new();
        set.insert(anon(0, 10, Prot::READ | Prot::WRITE)).unwrap();
        let removed = set.remove_range(va(3), va(5)).unwrap();
        assert_eq!(removed, [Area { pgoff: 3, ..anon(3, 5, Prot::READ | Prot::WRITE) }]);
        assert_eq!(spans(&set), [(0, 3, Prot::READ | Prot::WRITE), (5, 10, Prot::READ | Prot::WRITE)]);
    }

    #[test]
    fn unmapping_across_several_areas_trims_both_ends() {
        let mut set = AreaSet::new();
        set.insert(anon(0, 4, Prot::READ)).unwrap();
        set.insert(anon(6, 10, Prot::WRITE)).unwrap();
        let removed = set.remove_range(va(2), va(8)).unwrap();
        assert_eq!(removed.len(), 2);
        assert_eq!(spans(&set), [(0, 2, Prot::READ), (8, 10, Prot::WRITE)]);
    }

    #[test]
    fn mprotect_of_part_splits_and_holes_are_refused() {
        let mut set = AreaSet::new();
        set.insert(anon(0, 3, Prot::READ | Prot::WRITE)).unwrap();
        set.protect_range(va(1), va(2), Prot::READ, AreaFlags::empty()).unwrap();
        assert_eq!(
            spans(&set),
            [(0, 1, Prot::READ | Prot::WRITE), (1, 2, Prot::READ), (2, 3, Prot::READ | Prot::WRITE)]
        );
        assert_eq!(
            set.protect_range(va(2), va(4), Prot::READ, AreaFlags::empty()),
            Err(ProtectError::Hole),
            "page 3 is a hole"
        );
        assert_eq!(set.len(), 3, "a refused mprotect changes nothing");
    }

    #[test]
    fn splitting_keeps_the_backing_offset_of_each_piece() {
        let mut set = AreaSet::new();
        set.insert(Area { pgoff: 100, ..anon(0, 8, Prot::READ) }).unwrap();
        set.remove_range(va(2), va(3)).unwrap();
        let pieces: Vec<_> = set.iter().map(|a| ((a.start - va(0)) / P, a.pgoff)).collect();
        assert_eq!(pieces, [(0, 100), (3, 103)]);
        assert_eq!(set.find(va(5)).unwrap().page_index(va(5)), 105);
    }

    #[test]
    fn read_only_shared_areas_refuse_prot_write() {
        let mut set = AreaSet::new();
        set.insert(Area { flags: AreaFlags::SHARED, ..anon(0, 2, Prot::READ) }).unwrap();
        assert_eq!(
            set.protect_range(va(0), va(1), Prot::READ | Prot::WRITE, AreaFlags::empty()),
            Err(ProtectError::NotWritable)
        );
        assert_eq!(set.len(), 1, "nothing was split");
    }

    #[test]
    fn gaps_are_found_top_down() {
        let mut set = AreaSet::new();
        set.insert(anon(8, 10, Prot::READ)).unwrap();
        set.insert(anon(4, 7, Prot::READ)).unwrap();
        assert_eq!(set.find_gap_below(va(10), va(0), P), Some(va(7)), "one page fits between 7 and 8");
        assert_eq!(set.find_gap_below(va(10), va(0), 2 * P), Some(va(2)));
        assert_eq!(set.find_gap_below(va(10), va(3), 2 * P), None, "nothing above the floor");
        assert_eq!(set.find_gap_below(va(20), va(0), 4 * P), Some(va(16)));
    }

    #[test]
    fn placement_resumes_below_the_last_one_yet_finds_skipped_and_freed_holes() {
        let mut set = AreaSet::new();
        set.insert(anon(18, 20, Prot::READ)).unwrap();
        set.insert(anon(12, 17, Prot::READ)).unwrap();
        let place = |set: &mut AreaSet, pages: u64| {
            let at = set.find_gap_below(va(20), va(0), pages * P)?;
            set.insert(Area { end: at + pages * P, ..anon(0, 1, Prot::READ) }.upper(at)).unwrap();
            Some(at)
        };
        assert_eq!(place(&mut set, 2), Some(va(10)), "the one-page hole at 17 is too small");
        assert_eq!(place(&mut set, 2), Some(va(8)), "resumes below the last placement");
        assert_eq!(place(&mut set, 1), Some(va(17)), "a hole skipped before fits this one");
        set.remove_range(va(12), va(17)).unwrap();
        assert_eq!(place(&mut set, 5), Some(va(12)), "space freed above the last placement is found");
    }

    #[test]
    fn flag_updates_split_only_what_changes_and_merge_back() {
        let mut set = AreaSet::new();
        set.insert(anon(0, 3, Prot::READ | Prot::WRITE)).unwrap();
        let lock = |a: &Area| a.flags | AreaFlags::LOCKED;
        let unlock = |a: &Area| a.flags - AreaFlags::LOCKED;
        set.update_flags(va(0), va(3), lock).unwrap();
        assert_eq!(set.len(), 1, "the whole area: no split");
        set.update_flags(va(1), va(2), unlock).unwrap();
        let locked: Vec<_> = set.iter().map(|a| a.flags.contains(AreaFlags::LOCKED)).collect();
        assert_eq!(locked, [true, false, true], "the middle page is cut out");
        set.update_flags(va(0), va(3), unlock).unwrap();
        assert_eq!(spans(&set), [(0, 3, Prot::READ | Prot::WRITE)], "merged again");
        assert_eq!(set.find(va(2)).unwrap().pgoff, 0);
        set.update_flags(va(1), va(2), unlock).unwrap();
        assert_eq!(set.len(), 1, "no change, no split");
        // Two areas that do not continue each other's pages stay apart.
        set.insert(anon(3, 5, Prot::READ | Prot::WRITE)).unwrap();
        set.update_flags(va(0), va(5), lock).unwrap();
        assert_eq!(set.len(), 2);
        assert_eq!(set.first_from(va(7)).map(|a| a.start), None);
        set.insert(anon(8, 9, Prot::READ)).unwrap();
        assert_eq!(set.first_from(va(6)).map(|a| a.start), Some(va(8)));
        assert_eq!(set.first_from(va(4)).map(|a| a.start), Some(va(3)));
    }

    #[test]
    fn fork_drops_dontfork_areas_and_locks() {
        let mut set = AreaSet::new();
        set.insert(Area { flags: AreaFlags::DONT_COPY, ..anon(0, 1, Prot::READ) }).unwrap();
        set.insert(Area { flags: AreaFlags::LOCKED | AreaFlags::WIPE_ON_FORK, ..anon(1, 2, Prot::READ) }).unwrap();
        let child = set.for_fork();
        let flags: Vec<_> = child.iter().map(|a| (a.start, a.flags)).collect();
        assert_eq!(flags, [(va(1), AreaFlags::WIPE_ON_FORK)]);
    }

    #[test]
    fn areas_stop_at_max_map_count_and_a_split_past_it_changes_nothing() {
        let mut set = AreaSet::new();
        for i in 0..MAX_AREAS as u64 {
            set.insert(anon(2 * i, 2 * i + 2, Prot::READ)).unwrap();
        }
        let next = 2 * MAX_AREAS as u64;
        assert_eq!(set.insert(anon(next, next + 1, Prot::READ)), Err(()), "one area too many");
        // Punching a hole in an area would split it in two.
        assert_eq!(set.remove_range(va(1), va(2)), Err(TooManyAreas));
        assert_eq!(set.protect_range(va(1), va(2), Prot::empty(), AreaFlags::empty()), Err(ProtectError::TooManyAreas));
        assert_eq!(set.len(), MAX_AREAS, "nothing changed");
        // Removing a whole area needs no split.
        assert_eq!(set.remove_range(va(0), va(2)).map(|r| r.len()), Ok(1));
    }
}
