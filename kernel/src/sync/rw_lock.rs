//! `RwLock<T>`: readers share, a writer excludes, with a place in the lock
//! order: the address space's lock (mm/mmap_lock.rs, Linux's mmap_lock).
//! A CPU holds one guard of a rank at a time, read or write, as for any
//! lock.
//!
//! One word: bit 0 a writer, the rest the count of readers (in units of
//! `READER`). Not the `spin` crate's `RwLock`: every fault takes the read
//! side, and spin's costs two more branches (a check against too many
//! readers, which cannot happen here: a CPU holds at most one guard of a
//! rank, so there are never more readers than CPUs, plus the ones backing
//! out) and a separate undo path; here a read is one atomic add and one
//! test, its release one atomic subtract (docs/bench/results.md).
//!
//! A reader adds itself first and backs out if a writer holds the lock
//! (then waits for the writer bit to clear); a writer takes the word only
//! from 0 (no reader, no writer). No writer preference, as spin's: readers
//! that keep coming can hold a writer off; faults are short, and a writer
//! waits for the ones in flight.

use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};
use core::panic::Location;
use core::sync::atomic::{AtomicUsize, Ordering};

use spin::relax::RelaxStrategy;

use super::lock_order::{self, Rank};
use crate::arch::aarch64::relax::CpuRelax;

const WRITER: usize = 1;
const READER: usize = 2;

pub struct RwLock<T> {
    rank: Rank,
    state: AtomicUsize,
    value: UnsafeCell<T>,
}

// SAFETY: the value is reached only through a guard: shared references
// while readers hold the lock, one exclusive reference while the writer
// does (the state word's protocol above), so the rules of `&T`/`&mut T`
// across threads are those of `T: Send + Sync`.
unsafe impl<T: Send + Sync> Sync for RwLock<T> {}
// SAFETY: moving the lock moves the value.
unsafe impl<T: Send> Send for RwLock<T> {}

pub struct ReadGuard<'a, T> {
    lock: &'a RwLock<T>,
}

pub struct WriteGuard<'a, T> {
    lock: &'a RwLock<T>,
}

impl<T> RwLock<T> {
    pub const fn new(rank: Rank, value: T) -> Self {
        assert!(!rank.irq(), "the interrupt handler takes no reader-writer lock");
        Self { rank, state: AtomicUsize::new(0), value: UnsafeCell::new(value) }
    }

    /// Shared access; panics on a wrong order (sync/lock_order.rs).
    #[inline(always)]
    #[track_caller]
    pub fn read(&self) -> ReadGuard<'_, T> {
        lock_order::acquire(self.rank, Location::caller());
        // Acquire: what the last writer did happens before this reader.
        while self.state.fetch_add(READER, Ordering::Acquire) & WRITER != 0 {
            self.read_wait();
        }
        ReadGuard { lock: self }
    }

    /// A writer holds the lock: back out, wait for it to go, try again.
    #[cold]
    #[inline(never)]
    fn read_wait(&self) {
        self.state.fetch_sub(READER, Ordering::Relaxed);
        while self.state.load(Ordering::Relaxed) & WRITER != 0 {
            CpuRelax::relax();
        }
    }

    /// Exclusive access; panics on a wrong order.
    #[inline(always)]
    #[track_caller]
    pub fn write(&self) -> WriteGuard<'_, T> {
        lock_order::acquire(self.rank, Location::caller());
        while self.state.compare_exchange_weak(0, WRITER, Ordering::Acquire, Ordering::Relaxed).is_err() {
            while self.state.load(Ordering::Relaxed) != 0 {
                CpuRelax::relax();
            }
        }
        WriteGuard { lock: self }
    }
}

impl<T> Drop for ReadGuard<'_, T> {
    #[inline(always)]
    fn drop(&mut self) {
        lock_order::released(self.lock.rank);
        // Release: this reader's accesses happen before the next writer's.
        self.lock.state.fetch_sub(READER, Ordering::Release);
    }
}

impl<T> Drop for WriteGuard<'_, T> {
    #[inline(always)]
    fn drop(&mut self) {
        lock_order::released(self.lock.rank);
        // Not a store of 0: a reader backing out may have its count in
        // the word for a moment (`read_wait`).
        self.lock.state.fetch_sub(WRITER, Ordering::Release);
    }
}

impl<T> Deref for ReadGuard<'_, T> {
    type Target = T;
    #[inline(always)]
    fn deref(&self) -> &T {
        // SAFETY: a read guard: no writer until it drops.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> Deref for WriteGuard<'_, T> {
    type Target = T;
    #[inline(always)]
    fn deref(&self) -> &T {
        // SAFETY: the write guard: nobody else until it drops.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> DerefMut for WriteGuard<'_, T> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and the guard is borrowed exclusively.
        unsafe { &mut *self.lock.value.get() }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;

    #[test]
    fn readers_share_and_a_writer_excludes_them_under_contention() {
        let lock = RwLock::new(Rank::MmapLock, (0u64, 0u64));
        std::thread::scope(|s| {
            for t in 0..4 {
                let lock = &lock;
                s.spawn(move || {
                    for i in 0..20_000u64 {
                        if (i + t) % 4 == 0 {
                            let mut w = lock.write();
                            w.0 += 1;
                            w.1 += 1;
                        } else {
                            let r = lock.read();
                            // A writer's two stores are never seen apart.
                            assert_eq!(r.0, r.1);
                        }
                    }
                });
            }
        });
        let r = lock.read();
        assert_eq!((r.0, r.1), (20_000, 20_000));
    }
}
