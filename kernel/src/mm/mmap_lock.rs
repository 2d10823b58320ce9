//! An address space behind its reader-writer lock (Linux's
//! mm->mmap_lock), shared by the threads of a process (CLONE_VM).
//!
//! - **Exclusive** (`write`): every change of the areas or of what they
//!   map wholesale: mmap, munmap, mprotect, madvise, mremap, brk, the mlock
//!   family, fork's copy (it write-protects the parent's pages). Tables are
//!   freed or moved only here.
//! - **Shared** (`read`): faults and populate (mm/fault.rs), which change
//!   single entries under their table's page-table lock
//!   (mm/page_table_lock.rs) and add missing tables by compare-and-swap
//!   (`PageTable::walk_to`), as Linux's faults under mmap_read_lock; and
//!   readers that change nothing: /proc's maps, smaps, status and cmdline,
//!   mincore, a futex's key, a signal's si_code.
//!
//! Rules every holder keeps (docs/smp.md, section 6):
//! - No copy to or from user memory with the lock held: the copy may fault,
//!   and the fault takes this lock again on the same CPU, which would wait
//!   for itself. `mm/uaccess.rs: might_fault` checks it on every copy.
//!   Callers copy into a kernel buffer under the lock and to the user after
//!   it (ptrace's peeks, mm/remote.rs).
//! - Never held across a context switch (it is a spin lock:
//!   `switch_context` checks), so a populate, and the walks of munmap,
//!   mprotect and exit (mm/long_walk.rs), let it go before each yield;
//!   the `populating` record stands for it across the yield.
//! - Never held while waiting for the kernel lock: the kernel lock is
//!   taken at entry, before this one, and given up only after it.
//!
//! `populating` keeps populate's promise across those yields (and the
//! same for munmap's and mprotect's walks: mm/long_walk.rs): Linux holds
//! mmap_lock for reading across __get_user_pages, cond_resched included,
//! so no other thread's munmap, mremap, mprotect or mmap changes the range
//! under a populate. Here a populate records its task (id and address,
//! `PopulateRecord`; under the space's
//! lock, either side), and [`MmLock::write_killable`] (what those calls
//! take) gives its lock back and waits while a record is left.

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::address_space::{AddressSpace, Interrupted};
use crate::sync::rw_lock::{ReadGuard, WriteGuard};
use crate::sync::{Rank, RwLock, SpinLock};

pub struct MmLock {
    space: RwLock<AddressSpace>,
    /// The tasks of this space inside a populate (mm/populate.rs:
    /// `Populating`).
    populating: SpinLock<Vec<PopulateRecord>>,
}

/// A task inside a populate: its thread id and the address of its
/// `Process`, which together name one task for as long as it lives. A
/// thread id alone could name another task later: exec's de_thread gives
/// the leader's id to the thread that execs (today under the kernel lock,
/// with the space replaced in the same step, so never seen here), and a
/// pid allocator that wraps (Linux's pid_max) would give a freed id again.
/// The address alone could be a later task's allocation. A task keeps
/// both while it lives (de_thread moves the box between keys, not the
/// process in it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PopulateRecord {
    pub tid: u32,
    pub task: usize,
}

impl PopulateRecord {
    /// The record of the task running here.
    pub fn of_current() -> Self {
        let p = crate::process::current();
        Self { tid: p.pid.0, task: core::ptr::addr_of!(*p) as usize }
    }
}

impl MmLock {
    pub fn new(space: AddressSpace) -> Arc<Self> {
        Arc::new(Self { space: RwLock::new(Rank::MmapLock, space), populating: SpinLock::new(Rank::Populating, Vec::new()) })
    }

    /// Shared access (Linux's mmap_read_lock).
    #[inline]
    #[track_caller]
    pub fn read(&self) -> ReadGuard<'_, AddressSpace> {
        self.space.read()
    }

    /// Exclusive access (Linux's mmap_write_lock), not waiting for
    /// populates: for fork, madvise and a debugger's view of the space.
    #[inline]
    #[track_caller]
    pub fn write(&self) -> WriteGuard<'_, AddressSpace> {
        self.space.write()
    }

    /// Linux's mmap_write_lock_killable, for the calls that change the
    /// areas: exclusive access once no other task of this space is inside
    /// a populate (it gave its lock up to yield between pages, and must
    /// find its range as it left it). Waits, giving the CPU away, with the
    /// lock let go; `Err` if this task must stop meanwhile (SIGKILL, the
    /// run's time limit: EINTR). Records are checked under the lock, where
    /// no populate can add one, so none starts between the check and the
    /// change. The populate ends without waiting for anyone, and a task
    /// that ended inside one is not waited for (`still_populating`), so
    /// this cannot deadlock.
    #[track_caller]
    pub fn write_killable(&self) -> Result<WriteGuard<'_, AddressSpace>, Interrupted> {
        loop {
            // `write` is #[track_caller] too: the lock-order checker
            // records this function's caller.
            let space = self.space.write();
            if !self.prune_populating() {
                return Ok(space);
            }
            drop(space);
            if crate::process::long_work_must_stop() {
                return Err(Interrupted);
            }
            crate::process::yield_now();
        }
    }

    /// Records task `who` as inside a populate of this space: called with
    /// the space's lock held (`_held`), so never between a writer's check
    /// and its change. `Err` if the record cannot be allocated.
    pub fn begin_populate(&self, _held: &AddressSpace, who: PopulateRecord) -> Result<(), ()> {
        let mut tasks = self.populating.lock();
        tasks.try_reserve(1).map_err(|_| ())?;
        tasks.push(who);
        Ok(())
    }

    /// Task `who`'s populate is over (any way it returned). Needs no space
    /// lock: a record removed only lets a waiting writer go.
    pub fn end_populate(&self, who: PopulateRecord) {
        let mut tasks = self.populating.lock();
        if let Some(i) = tasks.iter().position(|&t| t == who) {
            tasks.swap_remove(i);
        }
        forget_if_empty(&mut tasks);
    }

    /// Drops the records of tasks that are gone (ended inside a populate
    /// without returning from it: another thread's exit_group made them
    /// zombies; exec's de_thread removed them); whether any is left.
    fn prune_populating(&self) -> bool {
        let mut tasks = self.populating.lock();
        if tasks.is_empty() {
            return false;
        }
        tasks.retain(|&who| still_populating(self, who));
        forget_if_empty(&mut tasks);
        !tasks.is_empty()
    }
}

/// An empty list gives its heap back (the runner counts every byte a
/// program leaves behind, and the space may outlive the program's last
/// populate by long).
fn forget_if_empty(tasks: &mut Vec<PopulateRecord>) {
    if tasks.is_empty() {
        *tasks = Vec::new();
    }
}

/// Whether task `who`, recorded as populating `mm`, may still be inside
/// that populate: it exists (the same task, not another with its id), has
/// not ended, and still runs in `mm`.
fn still_populating(mm: &MmLock, who: PopulateRecord) -> bool {
    crate::process::get(who.tid).is_some_and(|t| {
        core::ptr::addr_of!(*t) as usize == who.task
            && t.state.get() != crate::process::State::Zombie
            && core::ptr::eq(Arc::as_ptr(&t.mm), mm as *const MmLock)
    })
}

// Several CPUs reach one address space through the lock, readers at once:
// it must be `Sync`, which the compiler checks here (a `Cell` cache in it,
// as vma.rs had, fails this).
const _: fn() = || {
    fn shared_between_cpus<T: Send + Sync>() {}
    shared_between_cpus::<MmLock>();
};
