//! Where a CPU was last seen in kernel code: a per-CPU "last known place"
//! that the kernel lock's watchdog reads from the waiting CPU, to name
//! what the holder was doing (docs/smp.md, section 1, "The watchdog").
//! The holder's own registers are out of reach (it runs with IRQs masked,
//! so no IPI interrupts it; GICv2 here gives no NMI), so it leaves marks as
//! it goes: every lock it takes (`sync/lock_order.rs`, in the builds that
//! check the order: every test boot), every `cond_resched`,
//! `long_work_must_stop` and `touch_watchdog` of a long walk, and the
//! kernel lock itself. Each mark also counts a step, so the waiter can tell
//! a holder that moves (steps go on: a long path without a yield) from one
//! that does not (no step: a loop that takes no lock, or a vCPU the host
//! does not run).
//!
//! One writer, the CPU itself, with relaxed stores (a plain load and store
//! each, no read-modify-write); readers on other CPUs see some recent
//! mark, which is all a report needs.

use core::panic::Location;
use core::sync::atomic::{AtomicPtr, AtomicU64, Ordering};

/// One CPU's last mark and its count of marks.
pub struct Breadcrumb {
    place: AtomicPtr<Location<'static>>,
    steps: AtomicU64,
}

impl Breadcrumb {
    pub const fn new() -> Self {
        Self { place: AtomicPtr::new(core::ptr::null_mut()), steps: AtomicU64::new(0) }
    }

    /// This CPU is at `place` (only its own CPU calls this).
    #[inline(always)]
    pub fn mark(&self, place: &'static Location<'static>) {
        self.place.store(place as *const Location<'static> as *mut Location<'static>, Ordering::Relaxed);
        self.steps.store(self.steps.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
    }

    /// The last mark, if any, and how many marks were made so far.
    pub fn read(&self) -> (Option<&'static Location<'static>>, u64) {
        let p = self.place.load(Ordering::Relaxed);
        // SAFETY: null or made from a `&'static Location` in `mark`; never
        // freed or written through.
        (unsafe { p.as_ref() }, self.steps.load(Ordering::Relaxed))
    }
}

impl Default for Breadcrumb {
    fn default() -> Self {
        Self::new()
    }
}

/// Marks this CPU at the caller's place.
#[track_caller]
#[inline(always)]
pub fn here() {
    super::cpu_local::this_cpu().breadcrumb().mark(Location::caller());
}
