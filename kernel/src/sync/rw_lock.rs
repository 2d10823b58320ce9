//! `RwLock<T>`: readers share, a writer excludes (spin's RwLock, waiters
//! yielding), with a place in the lock order: for the address space's
//! mmap lock (docs/smp.md, section 3). A CPU holds one guard of a rank at
//! a time, read or write, as for any lock.

use core::ops::{Deref, DerefMut};
use core::panic::Location;

use spin::rwlock::{RwLockReadGuard, RwLockWriteGuard};

use super::lock_order::{self, Rank};
use crate::arch::aarch64::relax::CpuRelax;

pub struct RwLock<T> {
    rank: Rank,
    inner: spin::rwlock::RwLock<T, CpuRelax>,
}

pub struct ReadGuard<'a, T> {
    rank: Rank,
    inner: RwLockReadGuard<'a, T>,
}

pub struct WriteGuard<'a, T> {
    rank: Rank,
    inner: RwLockWriteGuard<'a, T, CpuRelax>,
}

impl<T> RwLock<T> {
    pub const fn new(rank: Rank, value: T) -> Self {
        assert!(!rank.irq(), "the interrupt handler takes no reader-writer lock");
        Self { rank, inner: spin::rwlock::RwLock::new(value) }
    }

    /// Shared access; panics on a wrong order (sync/lock_order.rs).
    #[inline]
    #[track_caller]
    pub fn read(&self) -> ReadGuard<'_, T> {
        lock_order::acquire(self.rank, Location::caller());
        ReadGuard { rank: self.rank, inner: self.inner.read() }
    }

    /// Exclusive access; panics on a wrong order.
    #[inline]
    #[track_caller]
    pub fn write(&self) -> WriteGuard<'_, T> {
        lock_order::acquire(self.rank, Location::caller());
        WriteGuard { rank: self.rank, inner: self.inner.write() }
    }
}

impl<T> Drop for ReadGuard<'_, T> {
    fn drop(&mut self) {
        lock_order::released(self.rank);
    }
}

impl<T> Drop for WriteGuard<'_, T> {
    fn drop(&mut self) {
        lock_order::released(self.rank);
    }
}

impl<T> Deref for ReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T> Deref for WriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T> DerefMut for WriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}
