//! The locks one CPU holds: a bit a [`Rank`], and where each was taken.
//! Pure bookkeeping, tested on the host; `lock_order` keeps one per CPU.
//!
//! Only its own CPU reads or writes a `HeldLocks` (the atomics are for
//! `Sync`, not for another CPU; Relaxed loads and stores are plain ones).
// Unused in a build without the check (make bench's).
#![cfg_attr(not(feature = "lock-order"), allow(dead_code))]

use core::fmt;
use core::panic::Location;
use core::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

use super::lock_order::Rank;

const RANKS: usize = Rank::ALL.len();
const _: () = assert!(RANKS <= 64, "one bit a rank in a u64");

/// One CPU's held locks.
pub struct HeldLocks {
    /// Bit `r` set: a lock of rank `r` is held.
    mask: AtomicU64,
    /// Where the lock of each held rank was taken.
    sites: [AtomicPtr<Location<'static>>; RANKS],
}

/// A broken rule, with what is needed to find both sides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderViolation {
    /// `taking` asked for at `at` while `holding`, of the same or a later
    /// rank, was held since `held_at`.
    Order { taking: Rank, at: &'static Location<'static>, holding: Rank, held_at: &'static Location<'static> },
    /// `rank` released at `at` by a CPU that does not hold it.
    NotHeld { rank: Rank, at: &'static Location<'static> },
    /// A context switch at `at` while `holding` was held since `held_at`.
    HeldAcrossSwitch { holding: Rank, at: &'static Location<'static>, held_at: &'static Location<'static> },
}

impl fmt::Display for OrderViolation {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            Self::Order { taking, at, holding, held_at } => write!(
                f,
                "lock order: taking {} at {} while holding {} taken at {} (locks are taken in the order of sync/lock_order.rs)",
                taking, at, holding, held_at
            ),
            Self::NotHeld { rank, at } => write!(f, "lock order: {} released at {} but not held on this CPU", rank, at),
            Self::HeldAcrossSwitch { holding, at, held_at } => write!(
                f,
                "lock order: context switch at {} with {} held, taken at {} (only the kernel lock may be)",
                at, holding, held_at
            ),
        }
    }
}

impl HeldLocks {
    #[allow(clippy::declare_interior_mutable_const)]
    const NO_SITE: AtomicPtr<Location<'static>> = AtomicPtr::new(core::ptr::null_mut());

    pub const fn new() -> Self {
        Self { mask: AtomicU64::new(0), sites: [Self::NO_SITE; RANKS] }
    }

    /// The innermost rank held, if any.
    fn innermost(mask: u64) -> Option<Rank> {
        (mask != 0).then(|| Rank::ALL[63 - mask.leading_zeros() as usize])
    }

    fn site(&self, rank: Rank) -> &'static Location<'static> {
        let p = self.sites[rank.index() as usize].load(Ordering::Relaxed);
        // SAFETY: only `acquire` stores here, a `&'static Location`, before
        // it sets the rank's bit; a held rank's site is that reference.
        #[allow(unsafe_code)]
        unsafe {
            p.as_ref().unwrap_or(Location::caller())
        }
    }

    /// Records `rank` as held, taken at `site`, unless a lock of the same
    /// or a later rank is held already.
    #[inline(always)]
    pub fn acquire(&self, rank: Rank, site: &'static Location<'static>) -> Result<(), OrderViolation> {
        let mask = self.mask.load(Ordering::Relaxed);
        if mask >> rank.index() != 0 {
            return Err(self.order_violation(mask, rank, site));
        }
        self.sites[rank.index() as usize].store(site as *const Location as *mut Location, Ordering::Relaxed);
        self.mask.store(mask | 1 << rank.index(), Ordering::Relaxed);
        Ok(())
    }

    /// Whether `rank` could be taken now, recording nothing: for code that
    /// may end up taking it (a user copy may fault and take the address
    /// space's lock: Linux's might_lock_read in __might_fault).
    #[inline(always)]
    pub fn may_acquire(&self, rank: Rank, site: &'static Location<'static>) -> Result<(), OrderViolation> {
        let mask = self.mask.load(Ordering::Relaxed);
        if mask >> rank.index() != 0 {
            return Err(self.order_violation(mask, rank, site));
        }
        Ok(())
    }

    #[cold]
    fn order_violation(&self, mask: u64, taking: Rank, at: &'static Location<'static>) -> OrderViolation {
        let holding = Self::innermost(mask).expect("a violation holds some lock");
        OrderViolation::Order { taking, at, holding, held_at: self.site(holding) }
    }

    /// `rank` is no longer held.
    #[inline(always)]
    pub fn release(&self, rank: Rank, at: &'static Location<'static>) -> Result<(), OrderViolation> {
        let mask = self.mask.load(Ordering::Relaxed);
        let bit = 1 << rank.index();
        if mask & bit == 0 {
            return Err(OrderViolation::NotHeld { rank, at });
        }
        self.mask.store(mask & !bit, Ordering::Relaxed);
        Ok(())
    }

    pub fn holds(&self, rank: Rank) -> bool {
        self.mask.load(Ordering::Relaxed) & 1 << rank.index() != 0
    }

    /// `Err` naming the innermost held lock other than `allowed`.
    #[inline(always)]
    pub fn none_held_except(&self, allowed: Rank, at: &'static Location<'static>) -> Result<(), OrderViolation> {
        let others = self.mask.load(Ordering::Relaxed) & !(1 << allowed.index());
        match Self::innermost(others) {
            None => Ok(()),
            Some(holding) => Err(OrderViolation::HeldAcrossSwitch { holding, at, held_at: self.site(holding) }),
        }
    }
}

impl Default for HeldLocks {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn here() -> &'static Location<'static> {
        Location::caller()
    }

    #[test]
    fn locks_taken_outermost_first_are_accepted_and_released_in_any_order() {
        let h = HeldLocks::new();
        h.acquire(Rank::KernelLock, here()).unwrap();
        h.acquire(Rank::PipeRing, here()).unwrap();
        h.acquire(Rank::FramePool, here()).unwrap();
        h.acquire(Rank::Heap, here()).unwrap();
        h.release(Rank::PipeRing, here()).unwrap();
        h.release(Rank::Heap, here()).unwrap();
        // FramePool is still the innermost: Heap may be taken again.
        h.acquire(Rank::Heap, here()).unwrap();
        for r in [Rank::Heap, Rank::FramePool, Rank::KernelLock] {
            h.release(r, here()).unwrap();
        }
        assert!(Rank::ALL.iter().all(|r| !h.holds(*r)));
    }

    #[test]
    fn an_outer_lock_taken_under_an_inner_one_names_both_and_both_sites() {
        let h = HeldLocks::new();
        let (outer_at, inner_at) = (here(), here());
        h.acquire(Rank::PipeRing, outer_at).unwrap();
        h.acquire(Rank::FramePool, inner_at).unwrap();
        let taking_at = here();
        let v = h.acquire(Rank::WaitQueue, taking_at).unwrap_err();
        assert_eq!(
            v,
            OrderViolation::Order {
                taking: Rank::WaitQueue,
                at: taking_at,
                holding: Rank::FramePool,
                held_at: inner_at
            }
        );
        let text = std::format!("{}", v);
        assert!(text.contains("WaitQueue") && text.contains("FramePool"), "{}", text);
        assert!(
            text.contains(&std::format!("{}", taking_at)) && text.contains(&std::format!("{}", inner_at)),
            "{}",
            text
        );
        // Refused: nothing was recorded for WaitQueue.
        assert!(!h.holds(Rank::WaitQueue));
    }

    #[test]
    fn may_acquire_checks_the_order_and_records_nothing() {
        let h = HeldLocks::new();
        h.acquire(Rank::PipeRing, here()).unwrap();
        h.may_acquire(Rank::MmapLock, here()).unwrap();
        assert!(!h.holds(Rank::MmapLock));
        h.acquire(Rank::MmapLock, here()).unwrap();
        // Held already: a user copy now would fault into the same lock.
        assert!(matches!(
            h.may_acquire(Rank::MmapLock, here()),
            Err(OrderViolation::Order { taking: Rank::MmapLock, holding: Rank::MmapLock, .. })
        ));
        h.release(Rank::MmapLock, here()).unwrap();
        h.acquire(Rank::SharedPages, here()).unwrap();
        assert!(h.may_acquire(Rank::MmapLock, here()).is_err());
    }

    #[test]
    fn the_same_rank_twice_is_refused() {
        let h = HeldLocks::new();
        h.acquire(Rank::PipeRing, here()).unwrap();
        assert!(matches!(h.acquire(Rank::PipeRing, here()), Err(OrderViolation::Order { .. })));
    }

    #[test]
    fn releasing_a_lock_not_held_is_refused() {
        let h = HeldLocks::new();
        assert!(matches!(h.release(Rank::Console, here()), Err(OrderViolation::NotHeld { rank: Rank::Console, .. })));
        h.acquire(Rank::Console, here()).unwrap();
        h.release(Rank::Console, here()).unwrap();
        assert!(h.release(Rank::Console, here()).is_err());
    }

    #[test]
    fn only_the_kernel_lock_may_be_held_across_a_switch() {
        let h = HeldLocks::new();
        assert_eq!(h.none_held_except(Rank::KernelLock, here()), Ok(()));
        h.acquire(Rank::KernelLock, here()).unwrap();
        assert_eq!(h.none_held_except(Rank::KernelLock, here()), Ok(()));
        let wq_at = here();
        h.acquire(Rank::WaitQueue, wq_at).unwrap();
        match h.none_held_except(Rank::KernelLock, here()) {
            Err(OrderViolation::HeldAcrossSwitch { holding: Rank::WaitQueue, held_at, .. }) => {
                assert_eq!(held_at, wq_at)
            }
            other => panic!("expected WaitQueue held across a switch, got {:?}", other),
        }
    }

    #[test]
    fn ranks_are_listed_in_order_and_complete() {
        for (i, r) in Rank::ALL.iter().enumerate() {
            assert_eq!(r.index() as usize, i, "{:?} is listed out of place", r);
        }
        assert_eq!(Rank::ALL.first(), Some(&Rank::KernelLock), "the kernel lock is outermost");
        assert_eq!(Rank::ALL.last(), Some(&Rank::Heap), "the heap is innermost");
        assert!(!Rank::KernelLock.irq() && Rank::Heap.irq());
    }
}
