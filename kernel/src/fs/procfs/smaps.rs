//! /proc/<pid>/smaps, and the page accounting behind it and behind
//! status's VmRSS and meminfo's AnonPages: Linux's smaps_pte_entry and
//! smaps_account (fs/proc/task_mmu.c) applied to this kernel's pages.
//!
//! Each present page of an area counts as follows:
//!
//! - the zero page: not at all (Linux's vm_normal_page() refuses the zero
//!   pfn, so it is in no Rss);
//! - a private frame (owned): Rss and Anonymous, dirty; shared with
//!   `n` processes after fork, Shared_Dirty and Pss += 4 kB / n, else
//!   Private_Dirty and the whole page in Pss;
//! - a reference page or a page of the vDSO's text: like a page of a file,
//!   Rss and clean; mapped by `n` page-table entries in all processes,
//!   Shared_Clean and Pss += 4 kB / n when `n >= 2`, else Private_Clean;
//! - a page of shared memory or of a /dev/shm file: like shmem, Rss and
//!   dirty (it has no other copy), shared or private by its map count;
//! - [vvar]: not at all (Linux maps it as raw PFNs, VM_PFNMAP).
//!
//! Referenced equals Rss: every page is mapped with its access flag set.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt::Write;

use super::{kb, maps, Text};
use crate::mm::addr::{Frame, PAGE_SIZE};
use crate::mm::address_space::{AddressSpace, Ownership};
use crate::mm::frame;
use crate::mm::mmap_lock::MmLock;
use crate::mm::vma::{Area, AreaFlags, Backing};
use crate::mm::zero_page;
use crate::process::{self, Process};
use crate::syscall::errno::Errno;

const PAGE: u64 = PAGE_SIZE as u64;
/// Pss is summed in 1/4096 fractions of a byte, as Linux's PSS_SHIFT.
const PSS_SHIFT: u32 = 12;

/// What the pages of one area (or several) add up to, in bytes.
#[derive(Clone, Copy, Debug, Default)]
pub struct Usage {
    pub rss: u64,
    pss: u64,
    pss_dirty: u64,
    shared_clean: u64,
    shared_dirty: u64,
    private_clean: u64,
    private_dirty: u64,
    pub anonymous: u64,
    /// Linux's MM_FILEPAGES and MM_SHMEMPAGES, in bytes (status RssFile,
    /// RssShmem).
    pub file: u64,
    pub shmem: u64,
    /// Private frames, each divided by its owners (meminfo AnonPages).
    pub anon_shared_out: u64,
}

/// What backs a present page, for the accounting above.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Anon,
    File,
    Shmem,
}

/// Every distinct address space (threads share one), zombies' included:
/// their pages stay mapped until they are reaped. Each is locked (shared)
/// by whoever reads it, one at a time.
pub fn address_spaces() -> Vec<Arc<MmLock>> {
    let mut seen = BTreeSet::new();
    process::tasks().filter(|t| seen.insert(Arc::as_ptr(&t.mm) as usize)).map(|t| t.mm.clone()).collect()
}

/// A shared object as smaps counts its pages.
#[derive(Clone, Copy)]
struct Object {
    /// Its identity (its Arc's address, or a small number no Arc can have).
    key: usize,
    /// One frame mapped at every index (a reference page).
    single: bool,
    /// Counted like a page of a file (clean, RssFile) rather than shmem.
    file: bool,
}

/// The shared object behind an area; `None` for private anonymous memory
/// and for [vvar], whose pages Linux maps as raw PFNs (VM_PFNMAP) and
/// counts in no Rss.
fn object_of(backing: &Backing) -> Option<Object> {
    match backing {
        // Pages past the end of a file are never mapped.
        Backing::Anonymous | Backing::PastEndOfFile | Backing::VdsoData => None,
        Backing::RefPage(r) => Some(Object { key: Arc::as_ptr(r) as usize, single: true, file: true }),
        // The vDSO's text pages are kernel pages every process maps, which
        // Linux counts as file pages (special_mapping_fault, mm_counter_file).
        Backing::VdsoText => Some(Object { key: 1, single: false, file: true }),
        Backing::SharedMemory(m) | Backing::PrivateFile(m) => {
            Some(Object { key: Arc::as_ptr(m) as usize, single: false, file: false })
        }
    }
}

/// Heap the counts may take before they give up (each entry of the
/// BTreeMap, with its share of a node, is under 64 bytes).
const COUNTS_HEAP_STEP: usize = 1024 * 64;

/// How many page-table entries, in every address space, map each page of
/// each shared object: built in one pass over all of them the first time a
/// shared page is counted (so a read costs one walk of the mapped shared
/// pages, whatever the number of areas). If the kernel heap cannot hold
/// them, every page counts as mapped once.
///
/// Built when made, each address space read under its lock in turn: so a
/// `MapCounts` is made with no space's lock held (two spaces' locks are
/// never held together, sync/lock_order.rs), and used afterwards under the
/// lock of the space it counts for. What changes in between is counted as
/// it was, as Linux reads a page's _mapcount without the other spaces'
/// locks.
pub struct MapCounts {
    /// Built, or given up for want of heap.
    built: Result<Counts, ()>,
}

/// Entries per (object, page index).
type Counts = BTreeMap<(usize, u64), u64>;

impl MapCounts {
    /// Counts for every shared object (meminfo). No space's lock may be
    /// held (each is taken in turn).
    pub fn new() -> Self {
        Self { built: Self::build(&address_spaces(), None) }
    }

    /// Counts for the objects of [`objects_of`] only: what one smaps
    /// window, or one process's status, needs. Counting every shared page
    /// of every address space for each 64 KiB window made reading the smaps
    /// of a process with 4,000 shared areas cost 2.6 million instructions a
    /// window (95 windows for two reads: 40% of the test's 675 million),
    /// where Linux reads one page's _mapcount. `None` (the set could not be
    /// held): every object is counted. No space's lock may be held.
    pub fn for_objects(only: Option<BTreeSet<usize>>) -> Self {
        Self { built: Self::build(&address_spaces(), only.as_ref()) }
    }

    /// The entries mapping page `index` of object `key` (index 0 for a
    /// one-frame object).
    fn get(&mut self, key: usize, index: u64) -> u64 {
        match &self.built {
            Ok(counts) => counts.get(&(key, index)).copied().unwrap_or(1),
            Err(()) => 1,
        }
    }

    fn build(spaces: &[Arc<MmLock>], only: Option<&BTreeSet<usize>>) -> Result<Counts, ()> {
        let zero = zero_page::frame().start();
        let mut counts = BTreeMap::new();
        let mut room = 0usize;
        for mm in spaces {
            let s = mm.read();
            for a in s.areas().iter() {
                let Some(Object { key, single, .. }) = object_of(&a.backing) else { continue };
                if only.is_some_and(|keys| !keys.contains(&key)) {
                    continue;
                }
                let mut failed = false;
                s.for_each_mapped(a.start, a.end, &mut |va, pa, own| {
                    if own != Ownership::Special || pa == zero || failed {
                        return;
                    }
                    if room == 0 {
                        if !crate::mm::heap::can_spare(COUNTS_HEAP_STEP) {
                            failed = true;
                            return;
                        }
                        room = COUNTS_HEAP_STEP / 64;
                    }
                    let index = if single { 0 } else { a.page_index(va) };
                    let n = counts.entry((key, index)).or_insert(0);
                    room -= (*n == 0) as usize;
                    *n += 1;
                });
                if failed {
                    return Err(());
                }
            }
        }
        Ok(counts)
    }
}

/// The shared objects behind `areas`, for [`MapCounts::for_objects`];
/// `None` if the set cannot be held.
pub fn objects_of<'a>(areas: impl Iterator<Item = &'a Area>) -> Option<BTreeSet<usize>> {
    let mut only = BTreeSet::new();
    for a in areas {
        let Some(o) = object_of(&a.backing) else { continue };
        if !crate::mm::heap::can_spare(COUNTS_HEAP_STEP) {
            return None;
        }
        only.insert(o.key);
    }
    Some(only)
}

/// Counts for the objects `task`'s space maps, made as
/// [`MapCounts::for_objects`] wants: the set under the space's lock, the
/// counts with it let go. `None` for a zombie.
pub fn counts_for(task: &Process) -> Option<MapCounts> {
    let only = objects_of(maps::live_space(task)?.areas().iter());
    Some(MapCounts::for_objects(only))
}

/// The usage of `area` in `space`.
pub fn area_usage(space: &AddressSpace, area: &Area, counts: &mut MapCounts) -> Usage {
    let zero = zero_page::frame().start();
    let mut u = Usage::default();
    let object = object_of(&area.backing);
    if matches!(area.backing, Backing::VdsoData) {
        return u;
    }
    space.for_each_mapped(area.start, area.end, &mut |va, pa, own| {
        if pa == zero {
            return;
        }
        let (kind, count) = match (own, object) {
            (Ownership::Owned, _) | (_, None) => (Kind::Anon, u64::from(frame::owners(Frame::containing(pa)))),
            (Ownership::Special, Some(o)) => {
                let index = if o.single { 0 } else { area.page_index(va) };
                (if o.file { Kind::File } else { Kind::Shmem }, counts.get(o.key, index))
            }
        };
        u.add(kind, count);
    });
    u
}

impl Usage {
    fn add(&mut self, kind: Kind, map_count: u64) {
        let dirty = kind != Kind::File;
        let private = map_count < 2;
        let pss = (PAGE << PSS_SHIFT) / map_count.max(1);
        self.rss += PAGE;
        self.pss += pss;
        match kind {
            Kind::Anon => {
                self.anonymous += PAGE;
                self.anon_shared_out += pss;
            }
            Kind::File => self.file += PAGE,
            Kind::Shmem => self.shmem += PAGE,
        }
        let bucket = match (dirty, private) {
            (true, true) => &mut self.private_dirty,
            (true, false) => &mut self.shared_dirty,
            (false, true) => &mut self.private_clean,
            (false, false) => &mut self.shared_clean,
        };
        *bucket += PAGE;
        if dirty {
            self.pss_dirty += pss;
        }
    }

    pub fn sum(mut self, o: Usage) -> Usage {
        self.rss += o.rss;
        self.pss += o.pss;
        self.pss_dirty += o.pss_dirty;
        self.shared_clean += o.shared_clean;
        self.shared_dirty += o.shared_dirty;
        self.private_clean += o.private_clean;
        self.private_dirty += o.private_dirty;
        self.anonymous += o.anonymous;
        self.file += o.file;
        self.shmem += o.shmem;
        self.anon_shared_out += o.anon_shared_out;
        self
    }

    /// Private frames counted once each, in pages (meminfo AnonPages).
    pub fn anon_pages(&self) -> u64 {
        (self.anon_shared_out >> PSS_SHIFT) / PAGE
    }
}

/// Pages mapped in the locked areas of `space`, the zero page aside
/// (/proc/meminfo's Mlocked: Linux counts each mlocked page once; here a
/// page two processes lock, shared memory, counts in each).
pub fn locked_pages(space: &AddressSpace, counts: &mut MapCounts) -> u64 {
    let locked = space.areas().iter().filter(|a| a.flags.contains(AreaFlags::LOCKED));
    locked.map(|a| area_usage(space, a, counts).rss / PAGE).sum()
}

/// The usage of every area of `space`.
pub fn space_usage(space: &AddressSpace, counts: &mut MapCounts) -> Usage {
    space.areas().iter().fold(Usage::default(), |u, a| u.sum(area_usage(space, a, counts)))
}

/// The fewest bytes one smaps record takes (its 24 fixed lines alone are
/// more): a window of text holds fewer records than its size / this.
const MIN_RECORD_BYTES: usize = 512;

/// One smaps record per area: the maps line, then Linux 6.1's fields in
/// its order and widths (show_smap, __show_smap), then VmFlags. A zombie
/// has no memory: nothing.
pub fn show(task: &Process, out: &mut Text) -> Result<(), Errno> {
    // The records this generation can start: those that fit in what is
    // left to fill, and the one that crosses its end.
    let records = usize::try_from(out.left_to_fill() / MIN_RECORD_BYTES as u64).unwrap_or(usize::MAX).saturating_add(1);
    // Their objects, under the space's lock; the counts, with it let go
    // (they read every space); then the records, under it again.
    let Some(only) = maps::live_space(task).map(|space| objects_of(maps::areas_from(&space, out).take(records))) else {
        return Ok(());
    };
    let mut counts = MapCounts::for_objects(only);
    let Some(space) = maps::live_space(task) else { return Ok(()) };
    let space = &*space;
    for area in maps::areas_from(space, out) {
        if !out.record(area.start.as_u64()) {
            break;
        }
        maps::line(space, area, out);
        let u = area_usage(space, area, &mut counts);
        kb(out, "Size:           ", (area.end - area.start) >> 10);
        kb(out, "KernelPageSize: ", PAGE >> 10);
        kb(out, "MMUPageSize:    ", PAGE >> 10);
        kb(out, "Rss:            ", u.rss >> 10);
        kb(out, "Pss:            ", u.pss >> (PSS_SHIFT + 10));
        kb(out, "Pss_Dirty:      ", u.pss_dirty >> (PSS_SHIFT + 10));
        kb(out, "Shared_Clean:   ", u.shared_clean >> 10);
        kb(out, "Shared_Dirty:   ", u.shared_dirty >> 10);
        kb(out, "Private_Clean:  ", u.private_clean >> 10);
        kb(out, "Private_Dirty:  ", u.private_dirty >> 10);
        kb(out, "Referenced:     ", u.rss >> 10);
        kb(out, "Anonymous:      ", u.anonymous >> 10);
        kb(out, "LazyFree:       ", 0);
        kb(out, "AnonHugePages:  ", 0);
        kb(out, "ShmemPmdMapped: ", 0);
        kb(out, "FilePmdMapped:  ", 0);
        kb(out, "Shared_Hugetlb: ", 0);
        out.bytes(b"Private_Hugetlb: ");
        out.number(0, 7);
        out.bytes(b" kB\n");
        kb(out, "Swap:           ", 0);
        kb(out, "SwapPss:        ", 0);
        // Linux's pss_locked: the Pss of a locked (VM_LOCKED) area.
        let locked = if area.flags.contains(AreaFlags::LOCKED) { u.pss >> (PSS_SHIFT + 10) } else { 0 };
        kb(out, "Locked:         ", locked);
        let _ = writeln!(out, "THPeligible:    0");
        maps::vm_flags(area, out);
    }
    Ok(())
}
