//! Resolving a page fault against the faulting process's areas.
//!
//! This is the generic half of the fault path: the arch code has already
//! decoded the syndrome into an address and an access kind
//! (arch/aarch64/el0_abort.rs: decode); whether a page is there is read
//! here, from the tables. Here the area decides ("private write":
//! a write to an area without MAP_SHARED), first matching row first:
//!
//! | area backing        | access        | page now        | action                                   |
//! |---------------------|---------------|-----------------|------------------------------------------|
//! | (none)              | any           |                 | SEGV_MAPERR                              |
//! | any                 | not in prot   |                 | SEGV_ACCERR                              |
//! | past end of file    | any           |                 | SIGBUS                                   |
//! | any private         | private write | owned, shared   | copy-on-write (or reuse, if last owner)  |
//! | anonymous private   | read/exec     | none            | map the shared zero page, read-only      |
//! | anonymous private   | private write | none, zero page | a zeroed frame (tags cleared, same pass) |
//! | shared memory, file | other         | none            | map the object's page                    |
//! | private file, vDSO  | private write | none, its page  | a private copy of the page               |
//! | refpage             | read/exec     | none            | map the reference page, read-only        |
//! | refpage private     | private write | none, ref page  | a frame filled from the reference page   |
//! | any                 | other         | mapped          | spurious: the entry is written again     |
//!
//! Tags, for a frame of a PROT_MTE area: zeros and patterns get their data
//! and tags in one pass (DC GZVA for zeros, STGP for patterns: every granule
//! touched once). A copy (copy-on-write, a reference page larger than 16
//! bytes, a private file page) takes two: first the tags, a GMID_EL1 block at
//! a time with LDGM/STGM (tag storage only, 16 of each a page on QEMU), then
//! the data with LDP/STP (arch/aarch64/page_fill.rs: copy_page_with_tags).

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

#[cfg(target_os = "none")]
use super::addr::VirtAddr;
#[cfg(target_os = "none")]
use super::address_space::{AddressSpace, Ownership, Reuse};
#[cfg(target_os = "none")]
use super::frame::{self, Clear};
#[cfg(target_os = "none")]
use super::refpage::FillKind;
use super::vma::Prot;
#[cfg(target_os = "none")]
use super::vma::{AreaFlags, Backing};

/// What the faulting access tried to do. Each one's number is the bit of
/// the protection it needs (`needs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Access {
    Read = 0,
    Write = 1,
    Execute = 2,
}

impl Access {
    /// The protection the access needs: PROT_READ, PROT_WRITE or
    /// PROT_EXEC, bit 0, 1 or 2, by a shift rather than a table.
    fn needs(self) -> Prot {
        Prot::from_bits_retain(1 << self as u32)
    }

    pub fn name(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::Write => "write",
            Access::Execute => "exec",
        }
    }
}

/// Why a fault could not be resolved; the signal follows from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultError {
    /// No area at the address: SIGSEGV, SEGV_MAPERR.
    Unmapped,
    /// The area forbids the access: SIGSEGV, SEGV_ACCERR.
    NotPermitted,
    /// No frame to map.
    OutOfMemory,
    /// The area has no page at this offset: SIGBUS, BUS_ADRERR (Linux's
    /// VM_FAULT_SIGBUS; the vDSO's unused time-namespace page, an ELF
    /// segment's pages past the end of its file, a page of a full tmpfs:
    /// shmem_fault's vmf_error(-ENOSPC)).
    NoPage,
}

#[cfg(target_os = "none")]
impl From<super::shared_memory::NoPage> for FaultError {
    fn from(e: super::shared_memory::NoPage) -> Self {
        match e {
            super::shared_memory::NoPage::NoMemory => FaultError::OutOfMemory,
            super::shared_memory::NoPage::NoSpace => FaultError::NoPage,
        }
    }
}

/// What a resolved fault did (one counter each per process).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolution {
    ZeroPageMapped,
    ZeroFilled,
    SharedPageMapped,
    RefPageMapped,
    /// A private page from a reference page by 16-byte pattern stores.
    RefPagePatternFilled,
    /// A private page copied from a reference page.
    RefPageCopied,
    /// A private page copied from a file's page (MAP_PRIVATE write).
    FileCopied,
    /// A page of the vDSO (its text or data page) was mapped.
    VdsoMapped,
    /// Copy-on-write after fork: the page was copied (with its tags).
    CowCopied,
    /// Copy-on-write after fork: the last owner got write access back.
    CowReused,
    /// Another fault (a thread on another CPU) changed the entry between
    /// this fault's read of it and its compare under the page-table lock:
    /// nothing done here, the access is retried and finds the winner's
    /// page (Linux: !pte_same, return 0). Progress, not a stale TLB entry:
    /// a kernel access retries it however often (el0_abort.rs:
    /// `kernel_access_to_user`), since each one means the entry changed.
    Raced,
    /// The page was fine (its entry was refreshed): a stale TLB entry.
    /// Keep last (`Resolution::COUNT`).
    Spurious,
}

impl Resolution {
    pub fn describe(self) -> &'static str {
        match self {
            Resolution::ZeroPageMapped => "mapped the zero page read-only",
            Resolution::ZeroFilled => "mapped a new zeroed page",
            Resolution::SharedPageMapped => "mapped the shared-memory page",
            Resolution::RefPageMapped => "mapped the reference page read-only",
            Resolution::RefPagePatternFilled => "mapped a new page filled with the 16-byte pattern",
            Resolution::RefPageCopied => "mapped a new copy of the reference page",
            Resolution::FileCopied => "mapped a private copy of the file's page",
            Resolution::VdsoMapped => "mapped the vDSO's page",
            Resolution::CowCopied => "copy-on-write: copied the shared page",
            Resolution::CowReused => "copy-on-write: last owner, made the page writable",
            Resolution::Raced => "another fault changed the entry first: retried",
            Resolution::Spurious => "page already mapped: refreshed its entry",
        }
    }
}

/// Per-task counts of resolved faults, by what they did: one counter
/// per [`Resolution`], indexed by it, so that counting a fault is a load,
/// an add and a store (a `match` to a field cost a jump table).
///
/// Relaxed atomics with one writer, the task itself (its faults, its
/// populates): the fault path's fast side counts without the kernel lock
/// while /proc/<pid>/stat and the runner's report read them on other
/// CPUs. A plain load and store, no read-modify-write: nobody else adds.
#[derive(Debug, Default)]
pub struct FaultCounters {
    by_resolution: [AtomicU64; Resolution::COUNT],
}

impl Resolution {
    /// How many there are: `Spurious` is the last variant.
    const COUNT: usize = Resolution::Spurious as usize + 1;
}

impl FaultCounters {
    /// Counts one fault of the task's own; only the task calls it.
    #[inline]
    pub fn count(&self, r: Resolution) {
        let c = &self.by_resolution[r as usize];
        c.store(c.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    }

    fn of(&self, kinds: &[Resolution]) -> u64 {
        kinds.iter().map(|&r| self.by_resolution[r as usize].load(Ordering::Relaxed)).sum()
    }

    /// Every fault resolved (/proc/<pid>/stat's minflt).
    pub fn total(&self) -> u64 {
        self.by_resolution.iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }
}

impl Clone for FaultCounters {
    /// The counts as they are now (a report's copy).
    fn clone(&self) -> Self {
        Self { by_resolution: core::array::from_fn(|i| AtomicU64::new(self.by_resolution[i].load(Ordering::Relaxed))) }
    }
}

impl core::fmt::Display for FaultCounters {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        use Resolution::*;
        write!(
            f,
            "zero-page {}, zero-fill {}, shared {}, refpage-map {}, refpage-fill {}, refpage-copy {}",
            self.of(&[ZeroPageMapped]),
            self.of(&[ZeroFilled]),
            self.of(&[SharedPageMapped, VdsoMapped]),
            self.of(&[RefPageMapped]),
            self.of(&[RefPagePatternFilled]),
            self.of(&[RefPageCopied])
        )?;
        let optional = [
            ("cow", self.of(&[CowCopied, CowReused])),
            ("file-copy", self.of(&[FileCopied])),
            ("spurious", self.of(&[Raced, Spurious])),
        ];
        for (name, n) in optional {
            if n > 0 {
                write!(f, ", {} {}", name, n)?;
            }
        }
        Ok(())
    }
}

static TRACE: AtomicBool = AtomicBool::new(false);

/// `trace=faults` on the command line: one log line per fault.
pub fn set_tracing(on: bool) {
    TRACE.store(on, Ordering::Relaxed);
    #[cfg(target_os = "none")]
    crate::arch::aarch64::entry_work::refresh();
}

pub fn tracing() -> bool {
    TRACE.load(Ordering::Relaxed)
}

/// A new frame holding a copy of `src`: data, and with `tagged` its
/// allocation tags too (page_fill::copy_page_with_tags).
#[cfg(target_os = "none")]
fn copy_of(src: super::frame::Frame, tagged: bool) -> Result<super::frame::Frame, FaultError> {
    use crate::arch::aarch64::mmu::layout::phys_to_virt;
    use crate::arch::aarch64::page_fill;
    let f = frame::alloc().ok_or(FaultError::OutOfMemory)?;
    // The source's tags may never have been written for its present use
    // (a page written untagged, then forked, in an area that an mprotect
    // adding PROT_MTE has changed but whose entries its walk has not
    // reached yet): cleared first, so that the copy does not carry an
    // earlier user's tags (Linux's copy_highpage copies tags only from a
    // PG_mte_tagged page, and mte_sync_tags clears the rest).
    if tagged {
        frame::make_tags_valid(src);
    }
    let (dst, src) = (phys_to_virt(f.start()), phys_to_virt(src.start()));
    // SAFETY: a frame just allocated, and a frame the caller's space maps
    // (owned or the object's page), both through the linear map.
    unsafe {
        if tagged {
            page_fill::copy_page_with_tags(dst, src);
            frame::mark_tags_valid(f);
        } else {
            page_fill::copy_page(dst, src);
        }
    }
    Ok(f)
}

/// Whether a fault that did `what` in an area with `prot` must make the
/// frame's contents visible to instruction fetches before mapping it
/// (Linux's __sync_icache_dcache, from set_pte_at of an executable user
/// entry). The frame was just written by the kernel (zeroed, filled,
/// copied: an ELF segment's copy, a copy-on-write copy of an executable
/// stack after fork, a refpage fill), or is a page it wrote earlier that
/// first becomes executable here (a reference page, a shared-memory or
/// file page written through read()/write()); the I-cache may still hold
/// instructions from the frame's earlier use; the vDSO's text, copied at
/// boot, is made coherent whenever an area maps it. Not where no new frame
/// is mapped. Linux skips pages already made coherent (PG_dcache_clean); here
/// shared pages are cleaned each time an executable area maps them.
pub fn needs_icache_sync(prot: Prot, what: Resolution) -> bool {
    prot.contains(Prot::EXEC) && !matches!(what, Resolution::CowReused | Resolution::Raced | Resolution::Spurious)
}

/// A resolved fault: what was done, and whether the area is tagged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resolved {
    pub what: Resolution,
    pub tagged: bool,
}

/// Resolves a fault at `va`. Inlined, with `resolve`, into the one
/// caller of the fault path (arch/aarch64/el0_abort.rs: user_sync).
#[cfg(target_os = "none")]
#[inline(always)]
pub fn handle(space: &AddressSpace, va: VirtAddr, access: Access) -> Result<Resolved, FaultError> {
    resolve(space, va, access, false)
}

/// Resolves an access by a debugger to another process's memory (Linux's
/// FOLL_FORCE, ptrace's PEEK/POKE): the area's protection is overridden, so
/// a read works on a PROT_NONE area and a write to a read-only *private*
/// area gets the page's private copy (mapped with the area's own,
/// read-only, permissions: the program itself still cannot write it). A
/// shared area that is not writable is refused, as Linux's check_vma_flags
/// refuses FOLL_FORCE writes to non-COW mappings.
#[cfg(target_os = "none")]
pub fn handle_forced(space: &AddressSpace, va: VirtAddr, access: Access) -> Result<Resolved, FaultError> {
    resolve(space, va, access, true)
}

#[cfg(target_os = "none")]
#[inline(always)]
fn resolve(space: &AddressSpace, va: VirtAddr, access: Access, force: bool) -> Result<Resolved, FaultError> {
    use crate::arch::aarch64::mmu::layout::phys_to_virt;
    use crate::arch::aarch64::mte;

    // The area is read in place while the page is changed: no copy of it.
    // Under the shared side of the space's lock: the areas and the tables
    // stay; the entry is compared and written under its table's lock.
    let (areas, pages) = space.parts();
    let area = areas.find(va).ok_or(FaultError::Unmapped)?;
    let forced = force && !(access == Access::Write && area.flags.contains(AreaFlags::SHARED));
    let allowed = area.prot.contains(access.needs());
    if !allowed && !forced {
        return Err(FaultError::NotPermitted);
    }
    // One walk: the tables above the entry are created now if missing, and
    // the entry is then read and written in place.
    let mut page = pages.page(va).map_err(|_| FaultError::OutOfMemory)?;
    // The entry as found: compared again before the new one is written.
    let before = page.snapshot();
    let present = before.mapped();
    let tagged = area.flags.contains(AreaFlags::MTE) && mte::tagging_enabled();
    let done = |what| Ok(Resolved { what, tagged });
    let private_write = access == Access::Write && !area.flags.contains(AreaFlags::SHARED);
    let (f, ownership, what) = match (&area.backing, present) {
        // A file page past the end of the file: nothing to map, SIGBUS.
        (Backing::PastEndOfFile, _) => return Err(FaultError::NoPage),
        // Copy-on-write targets: nothing there yet, or someone else's page.
        (Backing::VdsoData, _) if access == Access::Write => return Err(FaultError::NotPermitted),
        // Copy-on-write after fork: a private page this process owns with
        // others. The last owner just gets write access back. Tested before
        // the rows for a page not there yet, which never match an owned one.
        (_, Some((pa, Ownership::Owned))) if private_write => {
            let old = crate::mm::frame::Frame::containing(pa);
            // The owner count is read and the entry made writable under the
            // page's table lock, with the entry compared first; fork's
            // `share` and its write-protect run under the exclusive side of
            // the space's lock, which this fault's shared side excludes: no
            // fork can add an owner between the two (`reuse_if_last_owner`).
            // Only the write permission changes (Linux's wp_page_reuse); an
            // entry that is not an EL0 page is rewritten whole. A forced
            // write (a debugger's poke) into a read-only area never makes
            // the entry writable: the area's attributes, read-only, are
            // applied again (Linux reaches wp_page_reuse only for a
            // writable vma; FOLL_FORCE writes through the broken-COW page
            // without pte_mkwrite).
            match page.reuse_if_last_owner(before, old, allowed, area) {
                Reuse::Reused => return done(Resolution::CowReused),
                Reuse::Changed => return done(Resolution::Raced),
                Reuse::Shared => (copy_of(old, tagged)?, Ownership::Owned, Resolution::CowCopied),
            }
        }
        // [vdso] made writable by mprotect (Linux's VM_MAYWRITE, for
        // debuggers): the first write gets a private copy of the page.
        (Backing::VdsoText, None | Some((_, Ownership::Special))) if private_write => {
            let src = crate::vdso::text_frame(area.page_index(va)).ok_or(FaultError::NoPage)?;
            (copy_of(src, false)?, Ownership::Owned, Resolution::FileCopied)
        }
        (Backing::Anonymous, None | Some((_, Ownership::Special))) if private_write => {
            let f = frame::alloc_zeroed(if tagged { Clear::DataAndTags } else { Clear::Data })
                .ok_or(FaultError::OutOfMemory)?;
            (f, Ownership::Owned, Resolution::ZeroFilled)
        }
        (Backing::RefPage(refpage), None | Some((_, Ownership::Special))) if private_write => {
            let f = frame::alloc().ok_or(FaultError::OutOfMemory)?;
            // SAFETY: a frame just allocated, through the linear map.
            let kind = unsafe { refpage.fill(phys_to_virt(f.start()), tagged) };
            if tagged {
                frame::mark_tags_valid(f);
            }
            let what = match kind {
                FillKind::Pattern16 => Resolution::RefPagePatternFilled,
                FillKind::Copy => Resolution::RefPageCopied,
            };
            (f, Ownership::Owned, what)
        }
        (Backing::PrivateFile(object), None | Some((_, Ownership::Special))) if private_write => {
            let src = object.page(area.page_index(va), tagged).map_err(FaultError::from)?;
            (copy_of(src, tagged)?, Ownership::Owned, Resolution::FileCopied)
        }
        // First reads: map a shared page, read-only where private.
        (Backing::Anonymous, None) => (super::zero_page::frame(), Ownership::Special, Resolution::ZeroPageMapped),
        (Backing::RefPage(refpage), None) => (refpage.frame(), Ownership::Special, Resolution::RefPageMapped),
        (Backing::VdsoText, None) => {
            let f = crate::vdso::text_frame(area.page_index(va)).ok_or(FaultError::NoPage)?;
            (f, Ownership::Special, Resolution::VdsoMapped)
        }
        (Backing::VdsoData, None) => {
            let f = crate::vdso::data_frame(area.page_index(va)).ok_or(FaultError::NoPage)?;
            (f, Ownership::Special, Resolution::VdsoMapped)
        }
        (Backing::SharedMemory(object) | Backing::PrivateFile(object), None) => {
            let f = object.page(area.page_index(va), tagged).map_err(FaultError::from)?;
            (f, Ownership::Special, Resolution::SharedPageMapped)
        }
        // Present and allowed by the area: the entry or the TLB was stale.
        (_, Some((_, ownership))) => {
            let fine = page.refresh_if_unchanged(before, area, ownership);
            return done(if fine { Resolution::Spurious } else { Resolution::Raced });
        }
    };
    // Linux's pte_same: another fault on this page (a thread on another
    // CPU) may have mapped it while this one allocated, copied or looked
    // up its frame. The entry is compared with what this fault saw and
    // written under the page's table lock (`map_if_unchanged`, Linux's
    // pte_offset_map_lock after the allocation). The loser gives its
    // frame back and returns as if handled (`Raced`): the access is
    // retried and finds the winner's page.
    //
    // Before the entry can be used (by another thread, on another CPU):
    // QEMU has no instruction cache to go stale, real CPUs do.
    if needs_icache_sync(area.prot, what) {
        crate::arch::aarch64::cache::sync_icache_frame(f);
    }
    if !page.map_if_unchanged(before, f, area, ownership) {
        if ownership == Ownership::Owned {
            frame::put(f);
        }
        return done(Resolution::Raced);
    }
    done(what)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_access_needs_its_own_protection_bit() {
        assert_eq!(Access::Read.needs(), Prot::READ);
        assert_eq!(Access::Write.needs(), Prot::WRITE);
        assert_eq!(Access::Execute.needs(), Prot::EXEC);
    }

    #[test]
    fn new_frames_in_executable_areas_are_made_coherent_and_nothing_else() {
        let exec = Prot::READ | Prot::EXEC;
        for what in [
            Resolution::ZeroFilled,
            Resolution::ZeroPageMapped,
            Resolution::RefPageMapped,
            Resolution::RefPagePatternFilled,
            Resolution::RefPageCopied,
            Resolution::FileCopied,
            Resolution::SharedPageMapped,
            Resolution::CowCopied,
            Resolution::VdsoMapped,
        ] {
            assert!(needs_icache_sync(exec, what), "{:?} in an executable area", what);
            assert!(!needs_icache_sync(Prot::READ | Prot::WRITE, what), "{:?} in a data area", what);
        }
        for what in [Resolution::CowReused, Resolution::Raced, Resolution::Spurious] {
            assert!(!needs_icache_sync(exec | Prot::WRITE, what), "{:?} maps no new contents", what);
        }
    }
}
