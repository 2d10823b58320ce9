//! Robust futexes (Linux's kernel/futex/core.c: sys_set_robust_list,
//! sys_get_robust_list, exit_robust_list, handle_futex_death): a thread
//! registers the head of a list of the locks it holds (glibc does, for
//! every thread, at start); when it ends, however it ends, the kernel walks
//! that list in the thread's memory, marks each lock word it still owns
//! FUTEX_OWNER_DIED and wakes one waiter, so the next pthread_mutex_lock of
//! a robust mutex returns EOWNERDEAD instead of waiting forever.
//!
//! The walk runs in the context of a task of the dying thread's process
//! (same address space, one CPU, the kernel never preempted): the read and
//! the write of a lock word cannot be torn apart by another thread, which
//! is what Linux's cmpxchg guarantees.

use super::futex_key::futex_key;
use super::scheduler::futex_wake;
use crate::mm::uaccess::{read_user, write_user, UserAddr};

/// Bytes of struct robust_list_head (list.next, futex_offset,
/// list_op_pending): set_robust_list's `len` must be exactly this.
pub const HEAD_SIZE: usize = 24;
/// Linux's ROBUST_LIST_LIMIT: at most this many entries are walked (a
/// circular list cannot keep the kernel busy).
const LIST_LIMIT: usize = 2048;
const FUTEX_WAITERS: u32 = 0x8000_0000;
const FUTEX_OWNER_DIED: u32 = 0x4000_0000;
const FUTEX_TID_MASK: u32 = 0x3fff_ffff;

/// An entry pointer read from the list: the address (bit 0 cleared) and
/// whether the lock is a PI one (bit 0), as fetch_robust_entry.
fn fetch_entry(at: UserAddr) -> Option<(u64, bool)> {
    let raw: u64 = read_user(at).ok()?;
    Some((raw & !1, raw & 1 != 0))
}

/// Linux's handle_futex_death for the lock word at `uaddr` of thread `tid`
/// (`pending`: the lock it was taking or releasing when it ended). Err
/// stops the walk (an unaligned or unreadable word).
fn futex_death(uaddr: u64, tid: u32, pi: bool, pending: bool) -> Result<(), ()> {
    if !uaddr.is_multiple_of(4) {
        return Err(());
    }
    let addr = UserAddr::new(uaddr);
    let value: u32 = read_user(addr).map_err(|_| ())?;
    let owner = value & FUTEX_TID_MASK;
    let wake = |n| {
        if let Ok(key) = futex_key(super::current(), addr, true) {
            futex_wake(&key, n);
        }
    };
    // An unlock that cleared the word but died before its wake.
    if pending && !pi && owner == 0 {
        wake(1);
        return Ok(());
    }
    if owner != tid {
        return Ok(());
    }
    write_user(addr, &((value & FUTEX_WAITERS) | FUTEX_OWNER_DIED)).map_err(|_| ())?;
    // PI locks are handed on by exit_pi_state, which this kernel has not
    // (FUTEX_LOCK_PI is ENOSYS): none can be held.
    if !pi && value & FUTEX_WAITERS != 0 {
        wake(1);
    }
    Ok(())
}

/// Linux's exit_robust_list for thread `tid` whose registered head is
/// `head` (as passed to set_robust_list, tag and all; 0: none), run in a
/// task of its process. Every failure to read ends the walk quietly.
pub fn exit_robust_list(head: u64, tid: u32) {
    if head == 0 {
        return;
    }
    let head = UserAddr::new(head);
    let Some((mut entry, mut pi)) = fetch_entry(head) else { return };
    let Ok(offset) = read_user::<u64>(head.offset(8)) else { return };
    let Some((pending, pending_pi)) = fetch_entry(head.offset(16)) else { return };
    for _ in 0..LIST_LIMIT {
        if entry == head.raw_with_tag() {
            break;
        }
        let next = fetch_entry(UserAddr::new(entry));
        if entry != pending && futex_death(entry.wrapping_add(offset), tid, pi, false).is_err() {
            return;
        }
        let Some((next_entry, next_pi)) = next else { return };
        (entry, pi) = (next_entry, next_pi);
    }
    if pending != 0 {
        let _ = futex_death(pending.wrapping_add(offset), tid, pending_pi, true);
    }
}
