//! `RwLock<T>`: readers share, a writer excludes, with a place in the lock
//! order: the address space's lock (mm/mmap_lock.rs, Linux's mmap_lock).
//! A CPU holds one guard of a rank at a time, read or write, as for any
//! lock.
//!
//! One word: bit 0 a writer, bit 1 a writer waiting, the rest the count
//! of readers (in units of `READER`). Not the `spin` crate's `RwLock`: every fault takes the read
//! side, and spin's costs two more branches (a check against too many
//! readers, which cannot happen here: a CPU holds at most one guard of a
//! rank, so there are never more readers than CPUs, plus the ones backing
//! out) and a separate undo path; here a read is one atomic add and one
//! test, its release one atomic subtract (docs/bench/results.md).
//!
//! A reader adds itself first and backs out if a writer holds the lock or
//! waits for it (then waits for both bits to clear); a writer that finds
//! readers marks itself waiting and takes the word once only that mark is
//! left (no reader, no writer). Writers are preferred, as Linux's rwsem
//! makes new readers queue behind a waiting writer: without it, threads
//! faulting on three CPUs kept an munmap on the fourth out for as long as
//! they kept faulting, up to their next timer tick each time
//! (race_munmap_mmap_readers_never_see_an_earlier_mapping ran into its
//! 10 s limit on a loaded host). No deadlock from it: a reader that waits
//! holds no other lock of a writer's (a fault without the kernel lock
//! holds nothing; every writer holds the kernel lock, so no reader that
//! holds it can meet a waiting writer), and a CPU never holds two guards
//! of one rank, so never waits as a reader while it holds the read side.

use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};
use core::panic::Location;
use core::sync::atomic::{AtomicUsize, Ordering};

use spin::relax::RelaxStrategy;

use super::lock_order::{self, Rank};
use crate::arch::aarch64::relax::CpuRelax;

const WRITER: usize = 1;
const WRITER_WAITING: usize = 2;
const READER: usize = 4;

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
        while self.state.fetch_add(READER, Ordering::Acquire) & (WRITER | WRITER_WAITING) != 0 {
            self.read_wait();
        }
        ReadGuard { lock: self }
    }

    /// A writer holds the lock or waits for it: back out, wait for it to
    /// be done, try again.
    #[cold]
    #[inline(never)]
    fn read_wait(&self) {
        self.state.fetch_sub(READER, Ordering::Relaxed);
        while self.state.load(Ordering::Relaxed) & (WRITER | WRITER_WAITING) != 0 {
            CpuRelax::relax();
        }
    }

    /// Exclusive access; panics on a wrong order.
    #[inline(always)]
    #[track_caller]
    pub fn write(&self) -> WriteGuard<'_, T> {
        lock_order::acquire(self.rank, Location::caller());
        if self.state.compare_exchange(0, WRITER, Ordering::Acquire, Ordering::Relaxed).is_err() {
            self.write_wait();
        }
        WriteGuard { lock: self }
    }

    /// Readers or a writer hold the lock: mark a writer waiting, so that
    /// no new reader gets in, and take the lock when only the mark is
    /// left (the take clears it; another writer still waiting sets it
    /// again on its next look).
    #[cold]
    #[inline(never)]
    fn write_wait(&self) {
        loop {
            let s = self.state.load(Ordering::Relaxed);
            if s & !WRITER_WAITING == 0 {
                if self.state.compare_exchange_weak(s, WRITER, Ordering::Acquire, Ordering::Relaxed).is_ok() {
                    return;
                }
                continue;
            }
            if s & WRITER_WAITING == 0 {
                self.state.fetch_or(WRITER_WAITING, Ordering::Relaxed);
            }
            CpuRelax::relax();
        }
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

    #[test]
    fn a_waiting_writer_goes_before_readers_that_come_after_it() {
        use std::sync::atomic::AtomicUsize;
        use std::sync::Mutex;
        let lock = RwLock::new(Rank::MmapLock, 0u64);
        let order = Mutex::new(std::vec::Vec::new());
        let started = AtomicUsize::new(0);
        let first = lock.read();
        std::thread::scope(|s| {
            s.spawn(|| {
                // Recorded while the lock is held: a reader let in by the
                // release must not record itself first.
                let mut w = lock.write();
                *w += 1;
                order.lock().unwrap().push("writer");
                drop(w);
            });
            while lock.state.load(Ordering::Relaxed) & WRITER_WAITING == 0 {
                std::thread::yield_now();
            }
            s.spawn(|| {
                started.store(1, Ordering::Relaxed);
                let _r = lock.read();
                order.lock().unwrap().push("reader");
            });
            while started.load(Ordering::Relaxed) == 0 {
                std::thread::yield_now();
            }
            // Without writer preference the new reader is in by now.
            std::thread::sleep(std::time::Duration::from_millis(50));
            drop(first);
        });
        assert_eq!(*order.lock().unwrap(), ["writer", "reader"]);
    }
}
