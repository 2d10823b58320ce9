//! One CPU's cache of free single frames, in front of the frame pool
//! (Linux's per-CPU page lists, `struct per_cpu_pages`: `free_unref_page`
//! puts a page on this CPU's list, `rmqueue_pcplist` takes one, and
//! `rmqueue_bulk` / `free_pcppages_bulk` move `batch` pages between the
//! list and the buddy lists under the zone lock). A page fault's frame
//! then costs no shared lock and no write to a cache line another CPU
//! uses. Pure bookkeeping, tested on the host; mm/frame.rs keeps one per
//! CPU and does the moving.
//!
//! A queue, oldest first, that hands out a frame freed a moment ago only
//! when nothing else is left, as the pool's own cache does (mm/frame.rs:
//! `FramePool::cache` says why).

/// Frames one CPU keeps at most (Linux's pcp->high): above it, a free
/// sends the oldest [`BATCH`] back to the pool. 2 MiB a CPU, 16 MiB with
/// eight: what a low-memory allocation drains from the others
/// (mm/frame.rs: `drain_all`).
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
