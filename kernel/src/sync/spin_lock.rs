//! `SpinLock<T>`: a spin lock with a place in the lock order, for locks the
//! interrupt handler never takes (those are `IrqSpinLock`s).

use core::fmt;
use core::ops::{Deref, DerefMut};
use core::panic::Location;

use spin::mutex::{Mutex, MutexGuard};

use super::held_locks::OrderViolation;
use super::lock_order::{self, Rank};
use crate::arch::aarch64::relax::CpuRelax;

/// A value behind a spin lock of rank `rank` (sync/lock_order.rs). Waiters
/// yield their turn (arch/aarch64/relax.rs).
pub struct SpinLock<T> {
    rank: Rank,
    inner: Mutex<T, CpuRelax>,
}

/// Access to the value; the lock is released, and the rank forgotten, when
/// it drops.
pub struct SpinLockGuard<'a, T> {
    rank: Rank,
    inner: MutexGuard<'a, T>,
}

impl<T> SpinLock<T> {
    /// A lock of `rank`, which must not be one the interrupt handler takes
    /// (a compile-time error in a static).
    pub const fn new(rank: Rank, value: T) -> Self {
        assert!(!rank.irq(), "a lock the interrupt handler takes is an IrqSpinLock");
        Self { rank, inner: Mutex::new(value) }
    }

    /// Takes the lock; panics if this CPU holds a lock of the same or a
    /// later rank (sync/lock_order.rs).
    #[inline]
    #[track_caller]
    pub fn lock(&self) -> SpinLockGuard<'_, T> {
        lock_order::acquire(self.rank, Location::caller());
        SpinLockGuard { rank: self.rank, inner: self.inner.lock() }
    }

    /// The lock if it is free now, `None` if another holder has it (no
    /// wait); the order is checked once it is taken.
    #[track_caller]
    pub fn try_lock(&self) -> Option<SpinLockGuard<'_, T>> {
        let inner = self.inner.try_lock()?;
        lock_order::acquire(self.rank, Location::caller());
        Some(SpinLockGuard { rank: self.rank, inner })
    }

    /// [`SpinLock::lock`], but a wrong order comes back as `Err` and the
    /// lock is not taken (for the self-test of the checker).
    #[track_caller]
    pub fn lock_checked(&self) -> Result<SpinLockGuard<'_, T>, OrderViolation> {
        lock_order::try_acquire(self.rank, Location::caller())?;
        Ok(SpinLockGuard { rank: self.rank, inner: self.inner.lock() })
    }
}

impl<T> Drop for SpinLockGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        // The inner guard unlocks after this, as the fields drop.
        lock_order::released(self.rank);
    }
}

impl<T> Deref for SpinLockGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T> DerefMut for SpinLockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

impl<T: fmt::Debug> fmt::Debug for SpinLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        // Without taking the lock: Debug may run under it.
        write!(f, "SpinLock({:?}, {})", self.rank, if self.inner.is_locked() { "locked" } else { "free" })
    }
}
