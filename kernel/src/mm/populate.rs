//! Faults the kernel takes on purpose: populating a range now rather than
//! on first touch, for MAP_POPULATE, MAP_LOCKED, mlock and mlockall
//! (Linux's __mm_populate and populate_vma_page_range) and for
//! MADV_POPULATE_READ/WRITE (faultin_vma_page_range). Each page goes
//! through the same resolver as a program's fault (`fault::handle`), so a
//! populated page is exactly what the first touch would have mapped: a read
//! maps the zero page, the reference page or the shared page and takes no
//! frame of its own; a write gives a private area its private copies (a
//! refpage mapping's filled pages, PROT_MTE memory with its tags cleared in
//! the same pass). Pages already mapped well enough are left alone, as
//! __get_user_pages's follow_page finds them without a fault.

use super::addr::{VirtAddr, PAGE_SIZE};
use super::address_space::{AddressSpace, Ownership};
use super::fault::{self, Access, FaultError, Resolution};
use super::frame::{self, Frame};
use super::mmap_lock::{MmLock, PopulateRecord};
use super::vma::{Area, AreaFlags, Prot};
use crate::process;

const PAGE: u64 = PAGE_SIZE as u64;

/// Pages populated between two looks at the clock and at SIGKILL
/// (__get_user_pages: cond_resched(), fatal_signal_pending()).
const PAGES_PER_CHECK: u64 = 256;

/// Why populating stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PopulateError {
    /// The area does not allow the access, or is gone (check_vma_flags:
    /// -EFAULT inside __get_user_pages).
    NotPermitted,
    /// A page that would be SIGBUS for a program, such as an ELF segment's
    /// page past the end of its file (VM_FAULT_SIGBUS: -EFAULT).
    NoPage,
    /// No frame for a page or a table (VM_FAULT_OOM: -ENOMEM).
    OutOfMemory,
    /// The run's time is up or SIGKILL is pending (-EINTR); the task never
    /// sees the answer.
    Interrupted,
}

/// How each page is touched (Linux's gup flags FOLL_WRITE, FOLL_FORCE).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Touch {
    pub write: bool,
    /// Access the area's protection does not give, as mlock does for an
    /// execute-only area (FOLL_FORCE).
    pub force: bool,
}

impl Touch {
    /// populate_vma_page_range's touch for `area`: a write for a private
    /// writable area, to break copy-on-write now (a shared one is only read,
    /// "we would not want to dirty them for nothing"); forced unless the
    /// area is PROT_NONE.
    pub fn for_lock(area: &Area) -> Touch {
        Touch {
            write: area.prot.contains(Prot::WRITE) && !area.flags.contains(AreaFlags::SHARED),
            force: !area.prot.is_empty(),
        }
    }

    /// Whether `area` allows this touch (Linux's check_vma_flags).
    pub fn allowed_in(self, area: &Area) -> bool {
        if area.backing.is_pfn_map() {
            return false;
        }
        if self.write {
            area.prot.contains(Prot::WRITE)
                || (self.force && !area.flags.contains(AreaFlags::SHARED) && area.flags.contains(AreaFlags::MAY_WRITE))
        } else {
            area.prot.contains(Prot::READ) || self.force
        }
    }
}

/// Whether the page at `va` is mapped in a way this touch needs no fault
/// for (follow_page): any mapping for a read; for a write, a writable entry,
/// or, with `force`, a frame this space alone owns in a private area that
/// may be written but is not writable now (Linux 6.1's
/// can_follow_write_pte). So a private page fork left read-only is faulted
/// even when the child is gone: the fault makes its entry writable
/// (do_wp_page reusing it), and the program's next write takes no fault,
/// as on Linux.
fn mapped_enough(space: &AddressSpace, va: VirtAddr, touch: Touch) -> bool {
    let Some((pa, ownership, writable)) = space.mapped_writable(va) else { return false };
    if !touch.write || writable {
        return true;
    }
    let forced_past_prot = space.areas().find(va).is_some_and(|a| {
        !a.flags.contains(AreaFlags::SHARED) && a.flags.contains(AreaFlags::MAY_WRITE) && !a.prot.contains(Prot::WRITE)
    });
    touch.force && forced_past_prot && ownership == Ownership::Owned && frame::owners(Frame::containing(pa)) == 1
}

/// A populate under way in the current address space, recorded in its
/// `MmLock` by thread id from `begin` to the drop: Linux holds mmap_lock
/// for reading across __get_user_pages, cond_resched included, so no other
/// thread's mremap, munmap, mmap or mprotect (which take it for writing)
/// changes the range meanwhile. Here the lock itself is let go before each
/// yield (a spin lock is never held across a context switch), and the
/// record stands for it: those calls take the lock through
/// `MmLock::write_killable`, which waits while a record is left.
///
/// The record is undone on every way out: the drop on each return (an
/// error, SIGKILL or the time limit seen between pages included), and, for
/// a task ended while it had yielded here without ever returning (another
/// thread's exit_group makes it a zombie and frees its kernel stack; exec's
/// de_thread removes it), by `write_killable`, which drops the ids of
/// tasks that are gone, zombies, or in another space. A count could not be
/// undone for them: a CLONE_VM process outside the group then waited in
/// its next mmap until its own time limit
/// (`populate_ended_by_exit_group_unblocks_shared_space`). For the same
/// reason it holds no reference to the space (an `Arc` on a kernel stack
/// freed without unwinding would keep the whole space alive): the space is
/// the current task's, which a populate never leaves (exec replaces it
/// only after every other thread is gone, and not inside a populate).
struct Populating {
    who: PopulateRecord,
}

impl Populating {
    /// Records the current task in its space, under the space's lock (so
    /// never between a writer's check and its change), before any area is
    /// looked up. The space, for the populate.
    fn begin() -> Result<(Self, &'static MmLock), PopulateError> {
        let p = process::current();
        let who = PopulateRecord::of_current();
        let mm = &*p.mm;
        mm.begin_populate(&mm.read(), who).map_err(|()| PopulateError::OutOfMemory)?;
        Ok((Populating { who }, mm))
    }
}

impl Drop for Populating {
    fn drop(&mut self) {
        process::current().mm.end_populate(self.who);
    }
}

/// Faults in every page of `[start, end)` (page aligned, inside one area
/// whose flags the caller checked) as `touch` says, in the current
/// process. Stops at the first page that fails: the pages before it stay
/// mapped, belonging to their area like any faulted page.
pub fn populate_pages(start: VirtAddr, end: VirtAddr, touch: Touch) -> Result<(), PopulateError> {
    let (_populating, mm) = Populating::begin()?;
    populate_range(mm, start, end, touch)
}

/// [`populate_pages`] for a caller that recorded its populate.
fn populate_range(mm: &MmLock, start: VirtAddr, end: VirtAddr, touch: Touch) -> Result<(), PopulateError> {
    let access = if touch.write { Access::Write } else { Access::Read };
    let mut va = start;
    while va < end {
        // A batch of pages under the shared side of the space's lock, as a
        // fault, let go before the yield between batches.
        let batch_end = end.min(va + PAGES_PER_CHECK * PAGE);
        let full_batch = batch_end == va + PAGES_PER_CHECK * PAGE;
        {
            let space = mm.read();
            let p = process::current();
            while va < batch_end {
                if !mapped_enough(&space, va, touch) {
                    let resolved = if touch.force {
                        fault::handle_forced(&space, va, access)
                    } else {
                        fault::handle(&space, va, access)
                    };
                    match resolved {
                        // Lost its race to another fault (a thread on
                        // another CPU), which mapped what it needed, maybe
                        // less than this touch needs (its read's zero page
                        // where this writes): the same page again, as
                        // __get_user_pages retries follow_page after the
                        // fault. Each is a change of the entry by another
                        // fault, which only moves a page forward: this ends.
                        Ok(r) if r.what == Resolution::Raced => {
                            p.faults.count(r.what);
                            continue;
                        }
                        Ok(r) => p.faults.count(r.what),
                        Err(FaultError::OutOfMemory) => return Err(PopulateError::OutOfMemory),
                        Err(FaultError::NoPage) => return Err(PopulateError::NoPage),
                        Err(FaultError::Unmapped | FaultError::NotPermitted) => {
                            return Err(PopulateError::NotPermitted)
                        }
                    }
                }
                va = va + PAGE;
            }
        }
        if full_batch {
            process::cond_resched();
            if process::long_work_must_stop() {
                return Err(PopulateError::Interrupted);
            }
        }
    }
    Ok(())
}

/// Calls `visit` with each area meeting `[start, end)` and the part of it
/// inside, in address order, looking the next one up afresh each time (the
/// areas may change while a page is populated); holes are passed over.
/// Stops at the first error `visit` returns. The lock is not held across
/// `visit`: it takes it itself.
fn for_each_area_in(
    mm: &MmLock,
    start: VirtAddr,
    end: VirtAddr,
    mut visit: impl FnMut(&Area, VirtAddr, VirtAddr) -> Result<(), PopulateError>,
) -> Result<(), PopulateError> {
    let mut at = start;
    while at < end {
        let Some(area) = mm.read().areas().first_from(at).filter(|a| a.start < end).cloned() else {
            break;
        };
        let (from, to) = (at.max(area.start), area.end.min(end));
        at = to;
        visit(&area, from, to)?;
    }
    Ok(())
}

/// Linux's __mm_populate: every area meeting `[start, end)` populated as
/// populate_vma_page_range does (nothing for a lock-on-fault area, [vvar]
/// skipped), holes passed over. With `ignore_errors` (MAP_POPULATE,
/// mlockall) an area that fails is left as it is and the next one is
/// populated; otherwise (mlock) the first failure is the answer.
pub fn mm_populate(start: VirtAddr, end: VirtAddr, ignore_errors: bool) -> Result<(), PopulateError> {
    let (_populating, mm) = Populating::begin()?;
    for_each_area_in(mm, start, end, |area, from, to| {
        if area.backing.is_pfn_map() || area.flags.contains(AreaFlags::LOCK_ONFAULT) {
            return Ok(());
        }
        let touch = Touch::for_lock(area);
        let result =
            if touch.allowed_in(area) { populate_range(mm, from, to, touch) } else { Err(PopulateError::NotPermitted) };
        match result {
            Err(PopulateError::Interrupted) => Err(PopulateError::Interrupted),
            Err(_) if ignore_errors => Ok(()),
            other => other,
        }
    })
}

/// Linux's mprotect_fixup: a private locked area that becomes writable has
/// its copy-on-write broken now, so a locked page never faults for a
/// write (populate_vma_page_range). Failures are ignored, as there.
pub fn after_write_allowed(start: VirtAddr, end: VirtAddr) {
    let Ok((_populating, mm)) = Populating::begin() else { return };
    let _ = for_each_area_in(mm, start, end, |area, from, to| {
        let lock = area.flags & (AreaFlags::LOCKED | AreaFlags::LOCK_ONFAULT | AreaFlags::SHARED);
        if lock != AreaFlags::LOCKED {
            return Ok(());
        }
        match populate_range(mm, from, to, Touch { write: true, force: true }) {
            Err(PopulateError::Interrupted) => Err(PopulateError::Interrupted),
            _ => Ok(()),
        }
    });
}
