//! A task's "something changed, look before you return" word (Linux's
//! TIF_ flags in thread_info, which signal_wake_up and kick_process set
//! and the entry code tests without a lock).
//!
//! The fault path's fast side (arch/aarch64/el0_abort.rs:
//! `resolve_without_lock`) returns to EL0 without the big kernel lock, so
//! it cannot look at the state other CPUs change under that lock (the
//! pending signals, `outcome`, the affinity). It reads this word instead:
//! any CPU that changes such state of a task that may be running (a
//! signal, a kill by exit_group, exec or the time limit, a new affinity)
//! calls [`TaskWork::notify`] before it kicks the task's CPU
//! (scheduler.rs: `kick`, every such change's last step), and a task that
//! finds the word set takes the locked path, whose return work acts on
//! the change. The task clears it itself, under the lock, once that
//! return work is done ([`TaskWork::handled`]): a change made later needs
//! the lock too, so it comes after the clear and sets the word again.
//!
//! A change made just after the fast path read the word is not lost: its
//! kick is a Reschedule IPI to the CPU the task is on, sent after the
//! word's store; the fast path runs with IRQs masked, so the IPI stays
//! pending until its `eret` unmasks them at EL0, where it is taken at
//! once, and that IRQ's entry takes the locked path (exception.rs).

use core::sync::atomic::{AtomicU32, Ordering};

/// The word; one per task (`Process::work`).
#[derive(Debug, Default)]
pub struct TaskWork(AtomicU32);

/// Another CPU changed what the task's return to EL0 must look at.
const NOTIFIED: u32 = 1 << 0;

impl TaskWork {
    pub const fn new() -> Self {
        Self(AtomicU32::new(0))
    }

    /// Another CPU (holding the kernel lock) changed this task's signals,
    /// outcome or affinity: its next entry must take the locked path.
    /// Relaxed: what changed is read under the kernel lock, which orders
    /// it; the IPI that follows is ordered after this store by the DMB
    /// before the GIC write (ipi.rs).
    #[inline]
    pub fn notify(&self) {
        self.0.fetch_or(NOTIFIED, Ordering::Relaxed);
    }

    /// Whether something is due; the fast path's one test. Relaxed: a
    /// task that sees it set reads what changed only after taking the
    /// kernel lock, whose acquire orders those reads after the setter's
    /// release of it; one that sees it clear reads nothing the setter wrote.
    #[inline(always)]
    pub fn due(&self) -> bool {
        self.0.load(Ordering::Relaxed) != 0
    }

    /// The task's own return work has run, under the kernel lock (which
    /// every `notify` holds too): nothing notified so far is left to do.
    /// A load first, so that the common case writes nothing.
    #[inline(always)]
    pub fn handled(&self) {
        if self.0.load(Ordering::Relaxed) != 0 {
            self.0.store(0, Ordering::Relaxed);
        }
    }
}
