//! The long page walks that let other tasks and CPUs in: munmap's,
//! mprotect's, and the exit's and exec's teardown of a space (docs/smp.md,
//! section 1, "Long walks").
//! Linux calls cond_resched() in zap_pte_range, change_pte_range and
//! exit_mmap's unmap_vmas with mmap_lock held, a sleeping lock: another
//! thread of the process that faults or maps meanwhile sleeps on it. Here
//! the space's lock is a spin lock that is never held across a context
//! switch (sync/lock_order.rs), and a walk paused at a slice end with it
//! held would leave a CPU that takes the big kernel lock and then this
//! one spinning with the big lock held, while the walker waits for the
//! big lock to run again: a deadlock. So the walk lets the space's lock go
//! too, and what Linux's held mmap_lock promises across the pause is kept
//! otherwise:
//!
//! - **No other change of the range.** At its first pause the walker
//!   records itself in the space (`MmLock::begin_populate`, the record
//!   populate keeps across its own yields; the lock held from the walk's
//!   start to there keeps writers out before it): mmap, munmap, mprotect, mremap, brk and the mlock family
//!   take the lock through `MmLock::write_killable`, which gives it back
//!   and waits while a record is left. fork, madvise and a debugger's
//!   access (`MmLock::write`) do not wait; each works from the areas, and
//!   what it meets is the state the pause left: for munmap the areas are
//!   gone first (Linux's detach_vmas_to_be_unmapped), so neither finds
//!   the range; for mprotect the areas have their new protection first,
//!   so a fork's copy of a page not walked yet gets the new one, and a
//!   madvise that cuts an area is met by looking each page's area up
//!   again (`AddressSpace::protect_pages`).
//! - **Faults of other threads** (the shared side, without the big lock)
//!   run during the pause, as they would not on Linux: in a range being
//!   unmapped they find no area (SIGSEGV, as after the munmap; a page not
//!   zapped yet is still reachable through its entry, as it is on Linux
//!   until zap_pte_range reaches it), and in a range being protected they
//!   resolve with the new protection, which the walk then writes again.
//! - **The TLB.** Each piece of the walk ends with its gather flushed:
//!   every entry cleared or rewritten in it is invalidated on every CPU,
//!   and only then are its frames freed (Linux's tlb_flush_mmu before
//!   cond_resched), so nothing is pending across the pause.
//! - **A process that ends during the pause** (another thread's
//!   exit_group or exec, the time limit) lets the walker unwind: it is
//!   marked `in_wait` across the yield, is woken and returns (the areas it
//!   detached are on its stack), and the next piece of the walk stops at
//!   once; what is left is freed with the space.
//!
//! fork's copy (`AddressSpace::fork`) does not pause: the child must get
//! the parent's memory as it was at one moment. Linux keeps the parent's
//! faults out with mmap_lock held for writing across copy_page_range's
//! cond_resched, so a sibling thread's write fault on a page already
//! copied waits until the fork is done. Here that fault would run during
//! the pause (it takes the shared side, without the big lock), copy the
//! page for the parent, and the sibling's later write to a page not
//! copied yet would reach the child: two writes seen in the wrong order.
//! Pausing fork needs faults that wait for a paused writer, which the
//! fault path's fast side cannot do while spinning.

use alloc::sync::Arc;

use super::addr::VirtAddr;
use super::address_space::{AddressSpace, BreakAt, Detached, Pause, UnmapError, PAGES_PER_CHECK};
use super::mmap_lock::{MmLock, PopulateRecord};
use super::vma::{AreaFlags, Prot, ProtectError};
use crate::arch::aarch64::kernel_lock;
use crate::process;
use crate::sync::rw_lock::WriteGuard;

/// The current task's record in its space (`MmLock::begin_populate`)
/// from a walk's first pause to its end. The walk looks at the clock only
/// every PAGES_PER_CHECK pages it takes, so the common munmap and mprotect
/// of a few present pages never pause and take no record (no heap, no
/// second lock).
struct Walking {
    mm: &'static MmLock,
    who: Option<PopulateRecord>,
    /// False once a record could not be allocated: then the walk goes on
    /// without pausing.
    may_pause: bool,
}

impl Walking {
    fn new(mm: &'static MmLock) -> Self {
        Self { mm, who: None, may_pause: true }
    }

    /// How munmap's zap may break off: at slice ends while it may pause,
    /// never once it may not; never stopped (BreakAt::Never says why).
    fn zap_break_at(&self) -> BreakAt {
        if self.may_pause {
            BreakAt::SliceEnd
        } else {
            BreakAt::Never
        }
    }

    /// How mprotect's walk may break off.
    fn break_at(&self) -> BreakAt {
        if self.may_pause {
            BreakAt::StopOrSliceEnd
        } else {
            BreakAt::Stop
        }
    }

    /// At a pause, before the space's lock (`held`) is let go: records
    /// the current task, if not yet, under that lock, so never between
    /// another writer's check and its change, and no writer came in since
    /// the walk began (the lock was held throughout). Whether the walk may
    /// pause: not if the record could not be allocated.
    fn before_pause(&mut self, held: &AddressSpace) -> bool {
        if self.who.is_none() && self.may_pause {
            let who = PopulateRecord::of_current();
            match self.mm.begin_populate(held, who) {
                Ok(()) => self.who = Some(who),
                Err(()) => self.may_pause = false,
            }
        }
        self.may_pause
    }
}

impl Drop for Walking {
    fn drop(&mut self) {
        if let Some(who) = self.who {
            self.mm.end_populate(who);
        }
    }
}

/// A pause at a slice end: the space's lock let go, then, if other CPUs
/// wait for the big lock, the big lock handed to one of them and taken
/// back (`kernel_lock::hand_over`, no context switch: the slice stays
/// over, so the walk pauses again 512 pages on); if none does, the CPU
/// given to the tasks queued here (`cond_resched`), marked `in_wait`
/// meanwhile: a process that ends while its task is switched out here
/// lets it unwind rather than dropping its kernel stack. Then the space's
/// lock is taken again.
fn pause<'a>(space: WriteGuard<'a, AddressSpace>, mm: &'a MmLock) -> WriteGuard<'a, AddressSpace> {
    drop(space);
    if kernel_lock::waiters() > 0 {
        kernel_lock::hand_over();
    } else {
        process::current().in_wait.set(true);
        process::cond_resched();
        process::current().in_wait.set(false);
    }
    mm.write()
}

/// munmap of `[start, end)` with the space's lock held exclusive
/// (`space`, taken through `write_killable`): the areas detached, their
/// pages zapped in pieces with a pause at each slice end, then, on the
/// last piece's gather, the tables left empty freed.
pub fn munmap(
    mut space: WriteGuard<'static, AddressSpace>,
    mm: &'static MmLock,
    start: VirtAddr,
    end: VirtAddr,
) -> Result<(), UnmapError> {
    // Declared first, dropped last: the areas outlive every gather.
    let mut detached = Detached::new(start, end);
    space.detach(&mut detached)?;
    let mut walking = Walking::new(mm);
    let mut from = start;
    loop {
        match space.zap_detached(&detached, from, walking.zap_break_at()) {
            Ok(()) => break,
            // Not with SliceEnd or Never (zap_break_at): kept for the type.
            Err(Pause::Interrupted) => return Err(UnmapError::Interrupted),
            Err(Pause::Yield(next)) => {
                from = next;
                if walking.before_pause(&space) {
                    space = pause(space, mm);
                }
            }
        }
    }
    Ok(())
}

/// mprotect of `[start, end)` with the space's lock held exclusive: the
/// areas' protection, then their present pages in pieces with a pause at
/// each slice end.
pub fn mprotect(
    mut space: WriteGuard<'static, AddressSpace>,
    mm: &'static MmLock,
    (start, end): (VirtAddr, VirtAddr),
    prot: Prot,
    add_flags: AreaFlags,
) -> Result<(), ProtectError> {
    let pieces = space.protect_areas(start, end, prot, add_flags)?;
    let mut walking = Walking::new(mm);
    let mut from = start;
    loop {
        match space.protect_pages(&pieces, from, walking.break_at()) {
            Ok(()) => return Ok(()),
            Err(Pause::Interrupted) => return Err(ProtectError::Interrupted),
            Err(Pause::Yield(next)) => {
                from = next;
                if walking.before_pause(&space) {
                    space = pause(space, mm);
                }
            }
        }
    }
}

/// Linux's exit_mmap, for the current task as it exits, once its robust
/// list and clear_child_tid are done with its memory: if no other live
/// task runs in its space (threads that ended before it keep a reference
/// until they are reaped; a vfork parent or a CLONE_VM process shares
/// it), every page is zapped now, in pieces with a pause at each slice
/// end, rather than at the last reference's drop, which holds the big
/// lock from start to end wherever it happens (a parent's wait4, the
/// runner's reap). The areas and the emptied tables go with the space.
/// Nobody else can fault in it or change it; a debugger that reads it
/// meanwhile finds pages gone, as on Linux once exit_mm has run.
///
/// Shared or not is told by the space's reference count, as Linux's
/// mm_users, less the references known to be idle: this task's two and
/// those of its group's zombie threads (the table's index of the group),
/// so an exit costs the same however many tasks live. Any other holder (a
/// live thread, a CLONE_VM process, a vfork parent, a zombie CLONE_VM
/// process not yet reaped, /proc reading it right now) counts as a user:
/// then the last drop frees the pages, as before this walk existed.
pub fn exit_mmap() {
    let me = process::current();
    let (tid, mm) = (me.pid.0, Arc::clone(&me.mm));
    let mut idle = 2;
    for t in process::thread_group(me.tgid).filter(|t| t.pid.0 != tid && Arc::ptr_eq(&t.mm, &mm)) {
        if t.state.get() != process::State::Zombie {
            return;
        }
        idle += 1;
    }
    if Arc::strong_count(&mm) > idle {
        return;
    }
    zap_in_pieces(&mm);
}

/// Linux's mmput of the old space in exec_mmap: exec has installed the
/// new space, and the old one, if this task held its last reference, is
/// emptied in pieces with a pause at each slice end before it is dropped,
/// as exit_mmap does for an exit (before, its drop held the big lock
/// from start to end). Nobody can reach it meanwhile: the other threads
/// are gone (de_thread), /proc and ptrace find the new space in the task,
/// and a vfork parent that shares it keeps it (a second reference: not
/// zapped here, as Linux's mmput only tears down at the last mm_users).
pub fn exec_mmput(old: Arc<MmLock>) {
    if Arc::strong_count(&old) == 1 {
        zap_in_pieces(&old);
    }
    drop(old);
}

/// Every page of `mm`, which no other task runs in, zapped in pieces
/// with a pause at each slice end; the areas and the emptied tables go
/// with the space's drop.
fn zap_in_pieces(mm: &MmLock) {
    let (mut from, mut space) = (VirtAddr::new(0), mm.write());
    if space.owned_frames().0 < PAGES_PER_CHECK {
        // Too few pages to pause for: the drop frees them, without this
        // walk's extra flush of the ASID.
        return;
    }
    loop {
        match space.zap_from(from, BreakAt::SliceEnd) {
            Ok(()) | Err(Pause::Interrupted) => return,
            Err(Pause::Yield(next)) => {
                from = next;
                space = pause(space, mm);
            }
        }
    }
}
