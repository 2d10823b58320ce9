//! Resolving a page fault against the faulting process's areas.
//!
//! This is the generic half of the fault path: the arch code has already
//! decoded the syndrome into an address, an access kind and whether a page
//! was there (arch/aarch64/fault.rs). Here the area decides:
//!
//! | area backing      | access      | page now        | action                                   |
//! |-------------------|-------------|-----------------|------------------------------------------|
//! | (none)            | any         |                 | SEGV_MAPERR                              |
//! | any               | not in prot |                 | SEGV_ACCERR                              |
//! | anonymous private | read/exec   | none            | map the shared zero page, read-only      |
//! | anonymous private | write       | none, zero page | a zeroed frame (tags cleared, same pass) |
//! | shared memory     | any         | none            | map the object's page                    |
//! | refpage           | read/exec   | none            | map the reference page, read-only        |
//! | refpage private   | write       | none, ref page  | a frame filled from the reference page   |
//!
//! "Same pass": a frame for a PROT_MTE area gets its data and its tags
//! written together (DC GZVA for zeros, STGP for patterns), never a data
//! sweep followed by a tag sweep. Copies move the tags in blocks with
//! LDGM/STGM, 16 register loads and stores a page, then the data.

use core::sync::atomic::{AtomicBool, Ordering};

use super::addr::VirtAddr;
#[cfg(target_os = "none")]
use super::address_space::{AddressSpace, Ownership};
#[cfg(target_os = "none")]
use super::frame::{self, Clear};
#[cfg(target_os = "none")]
use super::refpage::FillKind;
use super::vma::Prot;
#[cfg(target_os = "none")]
use super::vma::{AreaFlags, Backing};

/// What the faulting access tried to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
    Execute,
}

impl Access {
    fn needs(self) -> Prot {
        match self {
            Access::Read => Prot::READ,
            Access::Write => Prot::WRITE,
            Access::Execute => Prot::EXEC,
        }
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
    /// The signal trampoline page was mapped (a handler returned).
    TrampolineMapped,
    /// Copy-on-write after fork: the page was copied (with its tags).
    CowCopied,
    /// Copy-on-write after fork: the last owner got write access back.
    CowReused,
    /// The page was fine (its entry was refreshed): a stale TLB entry.
    Spurious,
    /// A page of a writable and executable area was remapped executable
    /// (not writable) for an instruction fetch: SCTLR_EL1.WXN.
    MadeExecutable,
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
            Resolution::TrampolineMapped => "mapped the signal trampoline page",
            Resolution::CowCopied => "copy-on-write: copied the shared page",
            Resolution::CowReused => "copy-on-write: last owner, made the page writable",
            Resolution::Spurious => "page already mapped: refreshed its entry",
            Resolution::MadeExecutable => "write+exec area: mapped the page executable, not writable (WXN)",
        }
    }
}

/// Per-process counts of resolved faults, by what they did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FaultCounters {
    pub zero_page: u64,
    pub zero_fill: u64,
    pub shared: u64,
    pub refpage_map: u64,
    pub refpage_pattern: u64,
    pub refpage_copy: u64,
    pub file_copy: u64,
    pub cow: u64,
    pub spurious: u64,
    pub made_executable: u64,
}

impl FaultCounters {
    pub fn count(&mut self, r: Resolution) {
        let c = match r {
            Resolution::ZeroPageMapped => &mut self.zero_page,
            Resolution::ZeroFilled => &mut self.zero_fill,
            Resolution::SharedPageMapped | Resolution::TrampolineMapped => &mut self.shared,
            Resolution::RefPageMapped => &mut self.refpage_map,
            Resolution::RefPagePatternFilled => &mut self.refpage_pattern,
            Resolution::RefPageCopied => &mut self.refpage_copy,
            Resolution::FileCopied => &mut self.file_copy,
            Resolution::CowCopied | Resolution::CowReused => &mut self.cow,
            Resolution::Spurious => &mut self.spurious,
            Resolution::MadeExecutable => &mut self.made_executable,
        };
        *c += 1;
    }
}

impl core::fmt::Display for FaultCounters {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "zero-page {}, zero-fill {}, shared {}, refpage-map {}, refpage-fill {}, refpage-copy {}",
            self.zero_page, self.zero_fill, self.shared, self.refpage_map, self.refpage_pattern, self.refpage_copy
        )?;
        if self.cow > 0 {
            write!(f, ", cow {}", self.cow)?;
        }
        if self.file_copy > 0 {
            write!(f, ", file-copy {}", self.file_copy)?;
        }
        if self.spurious > 0 {
            write!(f, ", spurious {}", self.spurious)?;
        }
        if self.made_executable > 0 {
            write!(f, ", made-executable {}", self.made_executable)?;
        }
        Ok(())
    }
}

static TRACE: AtomicBool = AtomicBool::new(false);

/// `trace=faults` on the command line: one log line per fault.
pub fn set_tracing(on: bool) {
    TRACE.store(on, Ordering::Relaxed);
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
    let (dst, src) = (phys_to_virt(f.start()), phys_to_virt(src.start()));
    // SAFETY: a frame just allocated, and a frame the caller's space maps
    // (owned or the object's page), both through the linear map.
    unsafe {
        if tagged {
            page_fill::copy_page_with_tags(dst, src);
        } else {
            page_fill::copy_page(dst, src);
        }
    }
    Ok(f)
}

/// A resolved fault: what was done, and whether the area is tagged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resolved {
    pub what: Resolution,
    pub tagged: bool,
}

/// Resolves a fault at `va`.
#[cfg(target_os = "none")]
pub fn handle(space: &mut AddressSpace, va: VirtAddr, access: Access) -> Result<Resolved, FaultError> {
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
pub fn handle_forced(space: &mut AddressSpace, va: VirtAddr, access: Access) -> Result<Resolved, FaultError> {
    resolve(space, va, access, true)
}

#[cfg(target_os = "none")]
fn resolve(space: &mut AddressSpace, va: VirtAddr, access: Access, force: bool) -> Result<Resolved, FaultError> {
    use crate::arch::aarch64::mmu::layout::phys_to_virt;
    use crate::arch::aarch64::mte;

    // The area is read in place while the page is changed: no copy of it.
    let (areas, mut pages) = space.parts();
    let area = areas.find(va).ok_or(FaultError::Unmapped)?;
    let forced = force && !(access == Access::Write && area.flags.contains(AreaFlags::SHARED));
    if !area.prot.contains(access.needs()) && !forced {
        return Err(FaultError::NotPermitted);
    }
    // SCTLR_EL1.WXN makes every writable page execute-never, at EL0 too.
    // Linux does not set WXN and runs code in a PROT_WRITE | PROT_EXEC
    // mapping (JITs rely on it), so such a page is mapped writable or
    // executable, whichever the last fault needed: an instruction fetch
    // maps it read-only and executable here (after its first write, if it
    // has none yet, as for a read), and the next store faults and takes the
    // copy-on-write path below, which makes it writable again. Only the
    // permissions change, so no break-before-make is needed (Arm ARM
    // D8.16.1); the page's TLB entry is invalidated. As on Linux, a program
    // that writes code makes it visible to fetches itself (__clear_cache).
    let exec_view;
    let wxn_swap = access == Access::Execute && area.prot.contains(Prot::WRITE);
    let area = if wxn_swap {
        exec_view = super::vma::Area { prot: area.prot - Prot::WRITE, ..area.clone() };
        &exec_view
    } else {
        area
    };
    // One walk: the tables above the entry are created now if missing, and
    // the entry is then read and written in place.
    let mut page = pages.page(va).map_err(|_| FaultError::OutOfMemory)?;
    let present = page.mapped();
    let tagged = area.flags.contains(AreaFlags::MTE) && mte::tagging_enabled();
    let done = |what| Ok(Resolved { what, tagged });
    let private_write = access == Access::Write && !area.flags.contains(AreaFlags::SHARED);
    match (&area.backing, present) {
        // Copy-on-write targets: nothing there yet, or someone else's page.
        (Backing::SignalTrampoline, _) if access == Access::Write => Err(FaultError::NotPermitted),
        (Backing::Anonymous, None | Some((_, Ownership::Special))) if private_write => {
            let f = frame::alloc_zeroed(if tagged { Clear::DataAndTags } else { Clear::Data })
                .ok_or(FaultError::OutOfMemory)?;
            page.map(f, area, Ownership::Owned);
            done(Resolution::ZeroFilled)
        }
        (Backing::RefPage(refpage), None | Some((_, Ownership::Special))) if private_write => {
            let f = frame::alloc().ok_or(FaultError::OutOfMemory)?;
            // SAFETY: a frame just allocated, through the linear map.
            let kind = unsafe { refpage.fill(phys_to_virt(f.start()), tagged) };
            page.map(f, area, Ownership::Owned);
            done(match kind {
                FillKind::Pattern16 => Resolution::RefPagePatternFilled,
                FillKind::Copy => Resolution::RefPageCopied,
            })
        }
        (Backing::PrivateFile(object), None | Some((_, Ownership::Special))) if private_write => {
            let src = object.page(area.page_index(va), tagged).ok_or(FaultError::OutOfMemory)?;
            page.map(copy_of(src, tagged)?, area, Ownership::Owned);
            done(Resolution::FileCopied)
        }
        // First reads: map a shared page, read-only where private.
        (Backing::Anonymous, None) => {
            page.map(super::zero_page::frame(), area, Ownership::Special);
            done(Resolution::ZeroPageMapped)
        }
        (Backing::RefPage(refpage), None) => {
            page.map(refpage.frame(), area, Ownership::Special);
            done(Resolution::RefPageMapped)
        }
        (Backing::SignalTrampoline, None) => {
            page.map(super::sigpage::frame(), area, Ownership::Special);
            done(Resolution::TrampolineMapped)
        }
        (Backing::SharedMemory(object) | Backing::PrivateFile(object), None) => {
            let f = object.page(area.page_index(va), tagged).ok_or(FaultError::OutOfMemory)?;
            page.map(f, area, Ownership::Special);
            done(Resolution::SharedPageMapped)
        }
        // Copy-on-write after fork: a private page this process owns with
        // others. The last owner just gets write access back.
        (_, Some((pa, Ownership::Owned))) if private_write => {
            let old = crate::mm::frame::Frame::containing(pa);
            if frame::owners(old) == 1 {
                page.refresh(area, Ownership::Owned);
                return done(Resolution::CowReused);
            }
            page.map(copy_of(old, tagged)?, area, Ownership::Owned);
            done(Resolution::CowCopied)
        }
        // Present and allowed by the area: the entry or the TLB was stale,
        // or (WXN) the page was writable and is now to run.
        (_, Some((_, ownership))) => {
            page.refresh(area, ownership);
            done(if wxn_swap { Resolution::MadeExecutable } else { Resolution::Spurious })
        }
    }
}
