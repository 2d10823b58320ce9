//! The per-CPU caches of free single frames in front of the frame pool
//! (Linux's per-CPU page lists, `struct per_cpu_pages`: `free_unref_page`
//! puts a page on this CPU's list, `rmqueue_pcplist` takes one, and
//! `rmqueue_bulk` / `free_pcppages_bulk` move `batch` pages between the
//! list and the buddy lists under the zone lock). A page fault's frame
//! then costs no shared lock and no write to a cache line another CPU
//! uses.
//!
//! [`FrameCache`] is one CPU's list, a queue that hands out a frame freed
//! a moment ago only when nothing else is left, as the pool's own cache
//! does (mm/frame.rs: `FramePool::cache` says why). [`FrameCaches`] is one
//! per CPU and does the moving: each behind a lock that its own CPU takes,
//! with interrupts masked, for every single-frame allocation and free, and
//! another CPU only to drain it ([`FrameCaches::drain_all`]) when the pool
//! and its own cache are empty (Linux's drain_all_pages before giving up).
//! Both are tested on the host; mm/frame.rs keeps the kernel's one.

use core::sync::atomic::{AtomicUsize, Ordering};

use super::frame::{self, Frame, FramePool};
use crate::sync::{IrqSpinLock, Rank};

/// Frames one CPU keeps at most (Linux's pcp->high): above it, a free
/// sends the oldest [`BATCH`] back to the pool. 2 MiB a CPU, 16 MiB with
/// eight: what a low-memory allocation drains from the others
/// ([`FrameCaches::drain_all`]).
pub const HIGH: usize = 512;
/// Frames moved to or from the pool at once (Linux's pcp->batch, 63 for a
/// zone this size): one pool lock for that many allocations or frees.
pub const BATCH: usize = 64;
/// Frames freed most recently that are not handed out while the pool can
/// refill: a frame waits for this many frees before it is used again.
pub const RESERVE: usize = 64;

const _: () = assert!(HIGH.is_power_of_two() && BATCH + RESERVE <= HIGH);

/// Frame numbers in a ring: `len` of them from `head`, oldest first.
pub struct FrameCache {
    ring: [u64; HIGH],
    head: usize,
    len: usize,
    /// How many at the front came from a refill, not from a free: those are
    /// handed out whatever the reserve.
    fresh: usize,
}

impl FrameCache {
    pub const fn new() -> Self {
        Self { ring: [0; HIGH], head: 0, len: 0, fresh: 0 }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The oldest frame, if one may be handed out without a refill: a
    /// fresh one, or any while more than [`RESERVE`] wait.
    #[inline]
    pub fn take(&mut self) -> Option<u64> {
        if self.fresh == 0 && self.len <= RESERVE {
            return None;
        }
        self.fresh = self.fresh.saturating_sub(1);
        self.pop_front()
    }

    /// The oldest frame whatever the reserve (the pool could not refill).
    pub fn take_any(&mut self) -> Option<u64> {
        self.fresh = self.fresh.saturating_sub(1);
        self.pop_front()
    }

    fn pop_front(&mut self) -> Option<u64> {
        if self.len == 0 {
            return None;
        }
        let f = self.ring[self.head];
        self.head = (self.head + 1) % HIGH;
        self.len -= 1;
        Some(f)
    }

    /// A frame freed on this CPU, at the back. `false` if the cache is
    /// full: the caller drains a batch first.
    #[inline]
    pub fn put(&mut self, frame: u64) -> bool {
        if self.len == HIGH {
            return false;
        }
        self.ring[(self.head + self.len) % HIGH] = frame;
        self.len += 1;
        true
    }

    /// Frames from the pool, at the front, handed out next and in the
    /// order given. At most `HIGH - len` are taken: the rest are
    /// returned in the count.
    pub fn refill(&mut self, frames: &[u64]) -> usize {
        let n = frames.len().min(HIGH - self.len);
        for &f in frames[..n].iter().rev() {
            self.head = (self.head + HIGH - 1) % HIGH;
            self.ring[self.head] = f;
        }
        self.len += n;
        self.fresh += n;
        n
    }

    /// Takes up to `max` of the oldest frames (for the pool), in order:
    /// read from the ring in one pass, the front moved once (each frame of
    /// a munmap's or an exit's batch passes here).
    pub fn drain(&mut self, max: usize, mut to: impl FnMut(u64)) -> usize {
        let n = max.min(self.len);
        for i in 0..n {
            to(self.ring[(self.head + i) % HIGH]);
        }
        self.head = (self.head + n) % HIGH;
        self.len -= n;
        self.fresh = self.fresh.saturating_sub(n);
        n
    }
}

impl Default for FrameCache {
    fn default() -> Self {
        Self::new()
    }
}

/// One [`FrameCache`] per CPU, with the number of frames each holds.
///
/// A lock per cache rather than an IPI asking each CPU to drain its own
/// (Linux before 6.0: drain_all_pages queued work on every CPU and waited
/// for it): this kernel runs with interrupts masked at EL1, and a CPU that
/// waits for the kernel lock waits with them masked, so an allocation that
/// drained by IPI while holding the kernel lock would wait for ever for a
/// CPU that waits for it. Linux 6.0 gave its per-CPU lists a spin lock
/// (`pcp->lock`) so that `drain_pages_zone` drains a remote CPU's list
/// itself; so does this. Its own CPU pays one uncontended compare-and-swap
/// for it: no other CPU takes it while memory lasts. Which CPU a caller
/// names is only a matter of speed: a task moved to another CPU between
/// reading its CPU number and taking the lock still takes a lock.
pub struct FrameCaches<const CPUS: usize> {
    caches: [IrqSpinLock<FrameCache>; CPUS],
    /// How many frames each cache holds, written with the cache's lock
    /// held and read under the pool's. Frames move between a cache and the
    /// pool only under both locks, and the length is written before the
    /// pool's is released, so [`FrameCaches::cached`] under the pool lock
    /// sees a move whole: no frame counted twice or missed (one being
    /// handed out or freed right then counts either way).
    cached: [AtomicUsize; CPUS],
}

impl<const CPUS: usize> FrameCaches<CPUS> {
    pub const fn new() -> Self {
        Self {
            caches: [const { IrqSpinLock::new(Rank::FrameCache, FrameCache::new()) }; CPUS],
            cached: [const { AtomicUsize::new(0) }; CPUS],
        }
    }

    /// Runs `f` on CPU `cpu`'s cache, then records its length.
    #[inline(always)]
    fn with_cache<R>(&self, cpu: usize, f: impl FnOnce(&mut FrameCache) -> R) -> R {
        let mut cache = self.caches[cpu].lock();
        let r = f(&mut cache);
        self.cached[cpu].store(cache.len(), Ordering::Relaxed);
        r
    }

    /// One frame for CPU `cpu`, or `None` when RAM is exhausted: from its
    /// cache, refilled from the pool a batch at a time (Linux's
    /// rmqueue_pcplist); when the pool is empty too, every CPU's cache is
    /// drained into it and the pool asked once more (Linux's
    /// drain_all_pages before the allocation fails).
    #[inline]
    pub fn alloc(&self, cpu: usize, pool: &IrqSpinLock<FramePool>) -> Option<Frame> {
        self.with_cache(cpu, |cache| cache.take().or_else(|| self.refill(cpu, cache, pool)))
            .or_else(|| self.alloc_draining(pool))
            .map(Frame::from_number)
    }

    /// Refills `cache` from the pool and takes a frame: one of the batch,
    /// or one freed recently if the pool had none.
    #[inline(never)]
    fn refill(&self, cpu: usize, cache: &mut FrameCache, pool: &IrqSpinLock<FramePool>) -> Option<u64> {
        let mut batch = [0u64; BATCH];
        frame::locked(pool, |pool| {
            let n = pool.alloc_batch(&mut batch);
            let kept = cache.refill(&batch[..n]);
            // A cache with no room for the whole batch gives the rest back.
            batch[kept..n].iter().for_each(|&f| pool.dealloc(Frame::from_number(f), 1));
            self.cached[cpu].store(cache.len(), Ordering::Relaxed);
        });
        cache.take_any()
    }

    /// The pool and this CPU's cache were both empty: the other CPUs'
    /// caches hold what is left.
    #[cold]
    fn alloc_draining(&self, pool: &IrqSpinLock<FramePool>) -> Option<u64> {
        self.drain_all(pool);
        frame::locked(pool, |pool| pool.alloc(1)).map(|f| f.number())
    }

    /// Moves every frame of every CPU's cache to the pool, one cache at a
    /// time (its lock, then the pool's). A frame freed into a cache already
    /// passed stays there: it was freed after the drain began.
    pub fn drain_all(&self, pool: &IrqSpinLock<FramePool>) {
        for cpu in 0..CPUS {
            self.with_cache(cpu, |cache| {
                if !cache.is_empty() {
                    frame::locked(pool, |pool| {
                        cache.drain(HIGH, |f| pool.dealloc(Frame::from_number(f), 1));
                        self.cached[cpu].store(0, Ordering::Relaxed);
                    })
                }
            });
        }
    }

    /// `frame`, freed on CPU `cpu`, to that CPU's cache, a batch of its
    /// oldest going back to the pool first if it is full (Linux's
    /// free_unref_page and free_pcppages_bulk).
    #[inline]
    pub fn free(&self, cpu: usize, frame: Frame, pool: &IrqSpinLock<FramePool>) {
        self.with_cache(cpu, |cache| {
            if !cache.put(frame.number()) {
                self.drain_batch(cpu, cache, pool);
                let room = cache.put(frame.number());
                debug_assert!(room);
            }
        })
    }

    #[inline(never)]
    fn drain_batch(&self, cpu: usize, cache: &mut FrameCache, pool: &IrqSpinLock<FramePool>) {
        frame::locked(pool, |pool| {
            cache.drain(BATCH, |f| pool.dealloc(Frame::from_number(f), 1));
            self.cached[cpu].store(cache.len(), Ordering::Relaxed);
        });
    }

    /// The frames in every cache, which `frame::stats` counts free so that
    /// the runner's leak check does not see a frame parked in another
    /// CPU's cache as leaked. Linux 6.1's MemFree leaves its per-CPU lists
    /// out (rmqueue_bulk takes them off NR_FREE_PAGES): a known difference
    /// (scripts/known-differences.txt). Exact when read with the pool's
    /// lock held.
    pub fn cached(&self) -> usize {
        self.cached.iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }
}

impl<const CPUS: usize> Default for FrameCaches<CPUS> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::vec::Vec;

    #[test]
    fn a_refill_is_handed_out_first_and_in_order() {
        let mut c = FrameCache::new();
        assert_eq!(c.take(), None, "an empty cache asks for a refill");
        assert_eq!(c.refill(&[10, 11, 12]), 3);
        assert_eq!((c.take(), c.take(), c.take()), (Some(10), Some(11), Some(12)));
        assert_eq!(c.take(), None);
    }

    #[test]
    fn a_frame_just_freed_waits_behind_the_reserve() {
        let mut c = FrameCache::new();
        for f in 0..RESERVE as u64 {
            assert!(c.put(f));
        }
        assert_eq!(c.take(), None, "{} frames freed a moment ago are not handed out", RESERVE);
        assert!(c.put(100));
        assert_eq!(c.take(), Some(0), "the oldest comes out first");
        assert_eq!(c.take_any(), Some(1), "and any when the pool is dry");
    }

    #[test]
    fn a_full_cache_refuses_and_drains_its_oldest() {
        let mut c = FrameCache::new();
        for f in 0..HIGH as u64 {
            assert!(c.put(f));
        }
        assert!(!c.put(9999), "past HIGH the caller must drain");
        let mut out = Vec::new();
        assert_eq!(c.drain(BATCH, |f| out.push(f)), BATCH);
        assert_eq!(out, (0..BATCH as u64).collect::<Vec<_>>());
        assert_eq!(c.len(), HIGH - BATCH);
        assert_eq!(c.refill(&(0..2 * BATCH as u64).collect::<Vec<_>>()), BATCH, "a refill stops at HIGH");
    }

    #[test]
    fn every_frame_put_or_refilled_comes_back_once_across_wrap_around() {
        let mut c = FrameCache::new();
        let mut next = 0u64;
        let mut seen = Vec::new();
        for round in 0..10 {
            for _ in 0..(HIGH / 2 + round) {
                if !c.put(next) {
                    c.drain(BATCH, |f| seen.push(f));
                    assert!(c.put(next));
                }
                next += 1;
            }
            if c.len() > HIGH - 8 {
                c.drain(BATCH, |f| seen.push(f));
            }
            let refill: Vec<u64> = (0..8).map(|i| 1_000_000 + round as u64 * 8 + i).collect();
            assert_eq!(c.refill(&refill), 8);
            for _ in 0..HIGH / 3 {
                if let Some(f) = c.take_any() {
                    seen.push(f);
                }
            }
        }
        c.drain(HIGH, |f| seen.push(f));
        assert!(c.is_empty());
        seen.sort_unstable();
        let before = seen.len();
        seen.dedup();
        assert_eq!(seen.len(), before, "a frame came out twice");
        assert_eq!(seen.len(), next as usize + 80, "frames lost");
    }
}

#[cfg(test)]
mod per_cpu_tests {
    use super::*;
    use crate::fuzz::XorShift;
    use crate::mm::addr::{PhysAddr, PhysRange, PAGE_SHIFT};
    extern crate std;
    use std::boxed::Box;
    use std::collections::HashSet;
    use std::vec::Vec;

    const CPUS: usize = 4;

    fn pool_of(frames: u64) -> IrqSpinLock<FramePool> {
        let pool = IrqSpinLock::new(Rank::FramePool, FramePool::new());
        pool.lock().add_range(PhysRange::from_start_size(PhysAddr::new(0x4000_0000), frames << PAGE_SHIFT));
        pool
    }

    /// Free frames as `frame::stats` counts them: the pool's and the caches'.
    fn free(caches: &FrameCaches<CPUS>, pool: &IrqSpinLock<FramePool>) -> usize {
        let pool = pool.lock();
        pool.stats().free + caches.cached()
    }

    #[test]
    fn an_exhausted_cpu_drains_the_others_and_gets_every_frame_once() {
        // More than the other three caches hold (3 * HIGH), so that they
        // fill up and give batches back to the pool too.
        let total = 3 * HIGH as u64 + 700;
        let pool = pool_of(total);
        let caches: Box<FrameCaches<CPUS>> = Box::default();
        let all: Vec<Frame> = (0..total).map_while(|i| caches.alloc(i as usize % CPUS, &pool)).collect();
        assert_eq!(all.len() as u64, total, "every frame handed out");
        assert_eq!(caches.alloc(0, &pool), None, "and no more");
        // Freed on CPUs 1 to 3 only: CPU 0's cache and the pool end up
        // with what the full caches gave back, the rest parked.
        for (i, f) in all.iter().enumerate() {
            caches.free(1 + i % (CPUS - 1), *f, &pool);
        }
        assert_eq!(free(&caches, &pool), total as usize, "cached frames count as free");
        assert!(caches.cached() >= 3 * (HIGH - BATCH), "the caches kept frames: {}", caches.cached());
        let mut again: Vec<u64> = core::iter::from_fn(|| caches.alloc(0, &pool)).map(|f| f.number()).collect();
        assert_eq!(again.len() as u64, total, "CPU 0 reached the frames parked in the other caches");
        again.sort_unstable();
        again.dedup();
        assert_eq!(again.len() as u64, total, "a frame was handed out twice");
        assert_eq!((caches.cached(), free(&caches, &pool)), (0, 0));
    }

    #[test]
    fn random_allocations_and_frees_on_every_cpu_never_put_a_frame_in_two_places() {
        // Fewer frames than the caches can park: exhaustion, and the
        // drain, come often.
        let total = 2 * HIGH;
        let pool = pool_of(total as u64);
        let caches: Box<FrameCaches<CPUS>> = Box::default();
        let mut rng = XorShift::new(0);
        let mut held: Vec<Frame> = Vec::new();
        let mut in_use = HashSet::new();
        let mut exhausted = 0;
        for step in 0..40_000 {
            let cpu = rng.below(CPUS);
            // Phases of mostly allocations (to exhaustion) and of mostly
            // frees, 3000 steps each.
            let allocating = (step / 3000) % 2 == 0;
            if held.is_empty() || rng.below(10) < if allocating { 9 } else { 1 } {
                match caches.alloc(cpu, &pool) {
                    Some(f) => {
                        assert!(in_use.insert(f.number()), "step {}: frame {:?} handed out twice", step, f);
                        held.push(f);
                    }
                    None => {
                        assert_eq!(held.len(), total, "step {}: none left with {} of {} held", step, held.len(), total);
                        exhausted += 1;
                    }
                }
            } else {
                let f = held.swap_remove(rng.below(held.len()));
                in_use.remove(&f.number());
                caches.free(cpu, f, &pool);
            }
            assert_eq!(free(&caches, &pool) + held.len(), total, "step {}: frames lost or counted twice", step);
        }
        assert!(exhausted > 0, "the test never ran out of frames");
        held.into_iter().for_each(|f| caches.free(0, f, &pool));
        caches.drain_all(&pool);
        assert_eq!(caches.cached(), 0);
        assert_eq!(pool.lock().stats().free, total, "every frame back in the pool");
    }

    #[test]
    fn threads_as_cpus_never_hold_the_same_frame() {
        use core::sync::atomic::AtomicBool;
        let total = 3 * HIGH;
        let pool: &'static IrqSpinLock<FramePool> = Box::leak(Box::new(pool_of(total as u64)));
        let caches: &'static FrameCaches<CPUS> = Box::leak(Box::default());
        let first = 0x4000_0000u64 >> PAGE_SHIFT;
        let owned: &'static [AtomicBool] = Box::leak((0..total).map(|_| AtomicBool::new(false)).collect());
        let threads: Vec<_> = (0..CPUS)
            .map(|cpu| {
                std::thread::spawn(move || {
                    let mut rng = XorShift::new(cpu as u64);
                    let mut mine = Vec::new();
                    for _ in 0..20_000 {
                        if rng.below(2) == 0 && mine.len() < total / 2 {
                            if let Some(f) = caches.alloc(cpu, pool) {
                                let was = owned[(f.number() - first) as usize].swap(true, Ordering::Relaxed);
                                assert!(!was, "CPU {} got frame {:?}, held elsewhere", cpu, f);
                                mine.push(f);
                            }
                        } else if let Some(f) = mine.pop() {
                            owned[(f.number() - first) as usize].store(false, Ordering::Relaxed);
                            caches.free(cpu, f, pool);
                        }
                    }
                    mine.into_iter().for_each(|f| {
                        owned[(f.number() - first) as usize].store(false, Ordering::Relaxed);
                        caches.free(cpu, f, pool);
                    });
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().expect("a CPU thread failed"));
        assert_eq!(free(caches, pool), total, "every frame free at the end");
        caches.drain_all(pool);
        assert_eq!(pool.lock().stats().free, total);
    }
}
