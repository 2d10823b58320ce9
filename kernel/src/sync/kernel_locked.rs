//! `KernelLocked<T>`: a value of a task (process/lifecycle.rs: `Process`)
//! that other CPUs and other tasks change, under the big kernel lock
//! (arch/aarch64/kernel_lock.rs), and that is reached only through a
//! shared `&Process`.
//!
//! A `RefCell` whose every access first checks that this CPU holds the big
//! lock: the lock makes one CPU at a time the only one in here, and the
//! borrow flag makes one borrow of the value at a time the only mutable
//! one. A second borrow while a mutable one lives (two `&mut` of one
//! task's state on one CPU: `current()` beside `scheduler::get` of the
//! same pid, a kill of oneself) panics, naming where both were taken,
//! instead of being the silent undefined behaviour that handing out
//! `&'static Process` was (docs/smp.md, section 3). The borrow flag is
//! checked in every build (a load, a compare and a store, and a store
//! when the guard drops); the lock, and where a mutable guard was taken,
//! in every build with the lock-order check, which is every build but
//! `make bench`'s (`check_lock`).
//!
//! For `Copy` values `get` and `set` copy in and out and keep no borrow,
//! so they cannot overlap with anything but a live mutable guard.

use core::cell::{Cell, UnsafeCell};
use core::ops::{Deref, DerefMut};
use core::panic::Location;

/// The borrow flag's value while a mutable guard lives.
const WRITING: isize = -1;

pub struct KernelLocked<T> {
    /// 0: free; n > 0: n shared guards; `WRITING`: one mutable guard.
    borrows: Cell<isize>,
    /// Where the live mutable guard was taken, for the panic of a second
    /// borrow.
    writer: Cell<Option<&'static Location<'static>>>,
    value: UnsafeCell<T>,
}

// SAFETY: every access (`borrow`, `borrow_mut`, `get`, `set`, `replace`)
// is made by a CPU holding the big kernel lock (checked, panicking
// otherwise, in every build with the lock-order check, which the test
// suites run: `check_lock`), so at most one CPU touches the flag and the
// value at a time,
// and the lock's acquire and release order one holder's writes before the
// next holder's reads. The value moves between CPUs with its task, hence
// `T: Send`. `get_mut` needs `&mut self`, which no other CPU can have.
unsafe impl<T: Send> Sync for KernelLocked<T> {}

/// Whether this CPU holds the big kernel lock.
#[cfg(target_os = "none")]
#[cfg_attr(not(feature = "lock-order"), allow(dead_code))]
#[inline(always)]
fn lock_held() -> bool {
    crate::arch::aarch64::kernel_lock::held_here()
}

#[cfg(not(target_os = "none"))]
std::thread_local! {
    /// The host tests' stand-in for the big kernel lock: held or not, by
    /// this test's thread.
    static HOST_LOCK: Cell<bool> = const { Cell::new(false) };
}

#[cfg(not(target_os = "none"))]
#[cfg_attr(not(feature = "lock-order"), allow(dead_code))]
fn lock_held() -> bool {
    HOST_LOCK.with(Cell::get)
}

/// Host tests: this thread holds the stand-in for the big lock (`held`)
/// or not.
#[cfg(not(target_os = "none"))]
pub fn hold_lock_for_test(held: bool) {
    HOST_LOCK.with(|h| h.set(held));
}

#[cold]
#[inline(never)]
#[cfg_attr(not(feature = "lock-order"), allow(dead_code))]
fn not_locked(at: &'static Location<'static>) -> ! {
    panic!("task state touched at {at} without the big kernel lock")
}

/// The panic of a borrow the flag refuses, from the flag's value: a live
/// mutable guard (`WRITING`; where it was taken is known in lock-order
/// builds only) or `n` shared ones. Decided by the flag, not by the noted
/// place, which stays behind after its guard drops.
#[cold]
#[inline(never)]
fn already_borrowed(at: &'static Location<'static>, flag: isize, writer: Option<&'static Location<'static>>) -> ! {
    match (flag, writer) {
        (WRITING, Some(w)) => panic!("task state borrowed at {at} while a mutable borrow from {w} lives"),
        (WRITING, None) => panic!("task state borrowed at {at} while a mutable borrow lives"),
        (n, _) => panic!("task state borrowed mutably at {at} while {n} shared borrow(s) live"),
    }
}

impl<T> KernelLocked<T> {
    #[inline(always)]
    pub const fn new(value: T) -> Self {
        Self { borrows: Cell::new(0), writer: Cell::new(None), value: UnsafeCell::new(value) }
    }

    /// Panics unless this CPU holds the big lock. In the builds with the
    /// lock-order check only (every build but `make bench`'s), as Linux's
    /// lockdep_assert_held is compiled in with CONFIG_LOCKDEP only: the
    /// test suites run with it, so a path that reaches task state without
    /// the lock fails there; a benchmark measures the kernel without it
    /// (a load of TPIDR_EL1's data, of the lock's owner and a compare at
    /// every access: a null system call, `syscall-clock_gettime-monotonic`
    /// in docs/bench, cost 496 instructions with it, 464 without).
    #[track_caller]
    #[inline(always)]
    fn check_lock(&self) {
        #[cfg(feature = "lock-order")]
        if !lock_held() {
            not_locked(Location::caller());
        }
    }

    /// Records where the mutable guard now taken was taken, for the panic
    /// of a borrow beside it (lock-order builds only, as `check_lock`).
    #[track_caller]
    #[inline(always)]
    fn note_writer(&self) {
        #[cfg(feature = "lock-order")]
        self.writer.set(Some(Location::caller()));
    }

    /// The value, shared, until the guard drops; panics if a mutable
    /// guard lives or the big lock is not held here.
    #[track_caller]
    #[inline(always)]
    pub fn borrow(&self) -> LockedRef<'_, T> {
        self.check_lock();
        let n = self.borrows.get();
        if n < 0 {
            already_borrowed(Location::caller(), WRITING, self.writer.get());
        }
        self.borrows.set(n + 1);
        LockedRef { cell: self }
    }

    /// The value, mutable, until the guard drops; panics if any other
    /// guard lives or the big lock is not held here.
    #[track_caller]
    #[inline(always)]
    pub fn borrow_mut(&self) -> LockedMut<'_, T> {
        self.check_lock();
        let n = self.borrows.get();
        if n != 0 {
            already_borrowed(Location::caller(), n, self.writer.get());
        }
        self.borrows.set(WRITING);
        self.note_writer();
        LockedMut { cell: self }
    }

    /// Puts `value` in, returning the old one (dropped by the caller, with
    /// no borrow live). Keeps no borrow: nothing runs while it swaps.
    #[track_caller]
    #[inline(always)]
    pub fn replace(&self, value: T) -> T {
        self.check_lock();
        let n = self.borrows.get();
        if n != 0 {
            already_borrowed(Location::caller(), n, self.writer.get());
        }
        // SAFETY: no guard lives (the flag is 0) and this CPU holds the
        // big lock, so this is the only access; a move runs no code.
        unsafe { core::mem::replace(&mut *self.value.get(), value) }
    }

    /// Puts `value` in; the old one is dropped once the borrow is over.
    #[track_caller]
    #[inline(always)]
    pub fn set(&self, value: T) {
        drop(self.replace(value));
    }
}

impl<T: Copy> KernelLocked<T> {
    /// A copy of the value; keeps no borrow (a load and a compare of the
    /// flag, no store).
    #[track_caller]
    #[inline(always)]
    pub fn get(&self) -> T {
        self.check_lock();
        if self.borrows.get() < 0 {
            already_borrowed(Location::caller(), WRITING, self.writer.get());
        }
        // SAFETY: no mutable guard lives and this CPU holds the big lock.
        unsafe { *self.value.get() }
    }
}

impl<T: Default> KernelLocked<T> {
    /// The value, leaving the default in its place.
    #[track_caller]
    #[inline(always)]
    pub fn take(&self) -> T {
        self.replace(T::default())
    }
}

impl<T: Default> Default for KernelLocked<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

/// A shared borrow of a [`KernelLocked`] value.
pub struct LockedRef<'a, T> {
    cell: &'a KernelLocked<T>,
}

impl<'a, T> LockedRef<'a, T> {
    /// Keeps the borrow while `f` makes something of the value that
    /// borrows it in turn (a lock guard of a lock inside it: the task's
    /// descriptor table).
    pub fn map<U>(this: Self, f: impl FnOnce(&'a T) -> U) -> Mapped<'a, U> {
        let borrows = &this.cell.borrows;
        // SAFETY: the shared borrow counted by `this` is handed to the
        // `Mapped` (forget keeps it counted), which ends it when it drops,
        // after `U`; until then no mutable guard can be taken.
        let value = unsafe { &*this.cell.value.get() };
        core::mem::forget(this);
        Mapped { value: f(value), borrows }
    }
}

impl<T> Deref for LockedRef<'_, T> {
    type Target = T;
    #[inline(always)]
    fn deref(&self) -> &T {
        // SAFETY: a shared borrow is counted while this guard lives, so no
        // mutable guard exists, and the lock keeps other CPUs out.
        unsafe { &*self.cell.value.get() }
    }
}

impl<T> Drop for LockedRef<'_, T> {
    #[inline(always)]
    fn drop(&mut self) {
        self.cell.borrows.set(self.cell.borrows.get() - 1);
    }
}

impl<T: core::fmt::Display> core::fmt::Display for LockedRef<'_, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        (**self).fmt(f)
    }
}

impl<T: core::fmt::Debug> core::fmt::Debug for LockedRef<'_, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        (**self).fmt(f)
    }
}

/// A mutable borrow of a [`KernelLocked`] value.
pub struct LockedMut<'a, T> {
    cell: &'a KernelLocked<T>,
}

impl<T> Deref for LockedMut<'_, T> {
    type Target = T;
    #[inline(always)]
    fn deref(&self) -> &T {
        // SAFETY: this guard is the only borrow (the flag says WRITING).
        unsafe { &*self.cell.value.get() }
    }
}

impl<T> DerefMut for LockedMut<'_, T> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as `deref`: the only borrow, on the CPU holding the lock.
        unsafe { &mut *self.cell.value.get() }
    }
}

impl<T> Drop for LockedMut<'_, T> {
    #[inline(always)]
    fn drop(&mut self) {
        self.cell.borrows.set(0);
    }
}

/// What [`LockedRef::map`] made, holding the shared borrow it came from
/// until it drops.
pub struct Mapped<'a, U> {
    // Declared first: dropped before the borrow ends.
    value: U,
    borrows: &'a Cell<isize>,
}

impl<U> Deref for Mapped<'_, U> {
    type Target = U;
    fn deref(&self) -> &U {
        &self.value
    }
}

impl<U> DerefMut for Mapped<'_, U> {
    fn deref_mut(&mut self) -> &mut U {
        &mut self.value
    }
}

/// An iterator made by [`LockedRef::map`] (the scheduler's walks of its
/// task table) iterates with the borrow held, until it drops.
impl<U: Iterator> Iterator for Mapped<'_, U> {
    type Item = U::Item;
    #[inline(always)]
    fn next(&mut self) -> Option<U::Item> {
        self.value.next()
    }
}

impl<U> Drop for Mapped<'_, U> {
    fn drop(&mut self) {
        self.borrows.set(self.borrows.get() - 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locked() {
        hold_lock_for_test(true);
    }

    #[test]
    fn a_second_borrow_of_a_task_while_a_mutable_one_lives_panics() {
        locked();
        let cell = KernelLocked::new(1u32);
        let first = cell.borrow_mut();
        let second = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            locked();
            cell.get()
        }));
        let err = second.expect_err("a read beside a live mutable borrow was allowed");
        let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(msg.contains("while a mutable borrow from") && msg.contains("kernel_locked.rs"), "said {msg:?}");
        drop(first);
        assert_eq!(cell.get(), 1, "the first borrow's end did not free the cell");
    }

    #[test]
    #[should_panic(expected = "while 2 shared borrow(s) live")]
    fn a_mutable_borrow_beside_shared_ones_panics() {
        locked();
        let cell = KernelLocked::new(1u32);
        let _a = cell.borrow();
        let _b = cell.borrow();
        cell.set(2);
    }

    #[test]
    #[should_panic(expected = "while 1 shared borrow(s) live")]
    fn a_refused_borrow_names_the_borrows_that_live_not_an_ended_one() {
        locked();
        let cell = KernelLocked::new(1u32);
        drop(cell.borrow_mut());
        let _a = cell.borrow();
        let _b = cell.borrow_mut();
    }

    #[test]
    #[should_panic(expected = "without the big kernel lock")]
    fn a_task_touched_without_the_big_lock_panics() {
        hold_lock_for_test(false);
        let cell = KernelLocked::new(1u32);
        let _ = cell.get();
    }

    #[test]
    fn borrows_that_do_not_overlap_are_allowed() {
        locked();
        let cell = KernelLocked::new(alloc::vec![1u32]);
        cell.borrow_mut().push(2);
        {
            let a = cell.borrow();
            let b = cell.borrow();
            assert_eq!(a.len() + b.len(), 4);
        }
        assert_eq!(cell.take(), [1, 2]);
        assert!(cell.borrow().is_empty());
        let mapped = LockedRef::map(cell.borrow(), |v| v.len());
        assert!(std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            locked();
            cell.set(alloc::vec![3]);
        }))
        .is_err());
        assert_eq!(*mapped, 0);
        drop(mapped);
        cell.set(alloc::vec![3]);
        assert_eq!(*cell.borrow(), [3]);
    }
}
