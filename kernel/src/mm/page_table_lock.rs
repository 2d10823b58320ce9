//! Split page-table locks (Linux's split PTE ptlocks, USE_SPLIT_PTE_PTLOCKS):
//! one lock per level-3 translation table, around a fault's compare and
//! write of a leaf entry (pte_same, then set_pte) and copy-on-write's
//! "last owner, reuse" check, while the fault holds only the shared side
//! of its space's lock (mm/mmap_lock.rs).
//!
//! Per table, not per space: threads faulting in different 2 MiB regions
//! take different locks and never wait for each other. The lock word is
//! the table frame's own (`frame::table_lock_word`, as Linux keeps ptl in
//! the table's struct page), so there is no table of locks to size and no
//! two tables ever share one. What runs under it is short: no frame is
//! allocated, zeroed or copied there (a fault allocates and fills first,
//! then locks and compares, as Linux's do_anonymous_page and wp_page_copy);
//! the entry's break-before-make with its broadcast TLBI and the freeing of
//! the frame it replaced are done under it.
//!
//! Rank `PageTableLock` (sync/lock_order.rs): after the shared pages a
//! fault looks its page up in, before the frame pool.

use core::panic::Location;
use core::sync::atomic::{AtomicU32, Ordering};

use super::addr::{Frame, PhysAddr};
use crate::arch::aarch64::relax::CpuRelax;
use crate::sync::lock_order;
use crate::sync::Rank;

/// The lock of the level-3 table at `table`, held until the guard drops.
pub struct PageTableGuard {
    word: &'static AtomicU32,
}

/// Takes the page-table lock of the level-3 table at `table` (Linux's
/// pte_offset_map_lock), a level-3 table of a user address space. Panics
/// on a wrong order (sync/lock_order.rs).
#[inline(always)]
#[track_caller]
pub fn lock(table: PhysAddr) -> PageTableGuard {
    lock_order::acquire(Rank::PageTableLock, Location::caller());
    // SAFETY: every level-3 table of a user space is a pool frame
    // (`user_tables.rs: FrameTables`), and only user entries are locked.
    let word = unsafe { super::frame::table_lock_word(Frame::containing(table)) };
    // Test-and-set (one SWPA): the word is 0 or 1, nothing else.
    if word.swap(1, Ordering::Acquire) != 0 {
        wait(word);
    }
    PageTableGuard { word }
}

/// Another CPU holds the lock: wait for it to go, then take it.
#[cold]
#[inline(never)]
fn wait(word: &AtomicU32) {
    loop {
        while word.load(Ordering::Relaxed) != 0 {
            <CpuRelax as spin::relax::RelaxStrategy>::relax();
        }
        if word.swap(1, Ordering::Acquire) == 0 {
            return;
        }
    }
}

impl Drop for PageTableGuard {
    #[inline(always)]
    fn drop(&mut self) {
        self.word.store(0, Ordering::Release);
        lock_order::released(Rank::PageTableLock);
    }
}
