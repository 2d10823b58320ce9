//! `IrqSpinLock<T>`: a spin lock held with interrupts masked (DAIF.I), for
//! the locks the interrupt handler takes (Linux's spin_lock_irqsave and
//! spin_unlock_irqrestore): the handler cannot then interrupt a holder on
//! its own CPU and spin forever on the lock that holder has.

use core::fmt;
use core::ops::{Deref, DerefMut};
use core::panic::Location;

use spin::mutex::{Mutex, MutexGuard};

use super::held_locks::OrderViolation;
use super::lock_order::{self, Rank};
use crate::arch::aarch64::irq_mask::IrqMask;
use crate::arch::aarch64::relax::CpuRelax;

/// A value behind a spin lock of rank `rank`, taken with interrupts masked.
pub struct IrqSpinLock<T> {
    rank: Rank,
    inner: Mutex<T, CpuRelax>,
}

/// Access to the value. On drop: the rank is forgotten, the lock released,
/// then the interrupt mask restored to what it was before `lock` (fields
/// drop in order: `inner`, then `mask`).
pub struct IrqSpinLockGuard<'a, T> {
    rank: Rank,
    inner: MutexGuard<'a, T>,
    _mask: IrqMask,
}

impl<T> IrqSpinLock<T> {
    /// A lock of `rank`, which must be one the interrupt handler takes (a
    /// compile-time error in a static).
    pub const fn new(rank: Rank, value: T) -> Self {
        assert!(rank.irq(), "a lock the interrupt handler does not take is a SpinLock");
        Self { rank, inner: Mutex::new(value) }
    }

    /// Masks interrupts, then takes the lock; panics if this CPU holds a
    /// lock of the same or a later rank (sync/lock_order.rs).
    #[inline]
    #[track_caller]
    pub fn lock(&self) -> IrqSpinLockGuard<'_, T> {
        let mask = IrqMask::save_and_mask();
        lock_order::acquire(self.rank, Location::caller());
        IrqSpinLockGuard { rank: self.rank, inner: self.inner.lock(), _mask: mask }
    }

    /// The lock if it is free now (the panic path's console), in order.
    #[inline]
    #[track_caller]
    pub fn try_lock(&self) -> Option<IrqSpinLockGuard<'_, T>> {
        let mask = IrqMask::save_and_mask();
        let inner = self.inner.try_lock()?;
        if lock_order::try_acquire(self.rank, Location::caller()).is_err() {
            return None;
        }
        Some(IrqSpinLockGuard { rank: self.rank, inner, _mask: mask })
    }

    /// [`IrqSpinLock::lock`], but a wrong order comes back as `Err` and the
    /// lock is not taken.
    #[track_caller]
    pub fn lock_checked(&self) -> Result<IrqSpinLockGuard<'_, T>, OrderViolation> {
        let mask = IrqMask::save_and_mask();
        lock_order::try_acquire(self.rank, Location::caller())?;
        Ok(IrqSpinLockGuard { rank: self.rank, inner: self.inner.lock(), _mask: mask })
    }
}

impl<T> Drop for IrqSpinLockGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        lock_order::released(self.rank);
    }
}

impl<T> Deref for IrqSpinLockGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T> DerefMut for IrqSpinLockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

impl<T> fmt::Debug for IrqSpinLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "IrqSpinLock({:?}, {})", self.rank, if self.inner.is_locked() { "locked" } else { "free" })
    }
}
