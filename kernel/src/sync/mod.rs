//! The kernel's locks: spin locks with a rank in one documented order
//! (lock_order.rs), checked on every acquisition.
//!
//! - [`SpinLock`]: for locks the interrupt handler never takes.
//! - [`IrqSpinLock`]: masks interrupts while held, for those it does.
//! - [`RwLock`]: shared readers or one writer (the address space's lock,
//!   mm/mmap_lock.rs).
//! - [`KernelLocked`]: a task's state that other CPUs change under the big
//!   kernel lock, borrowed with a checked flag (process/lifecycle.rs).
//! - [`TaskOwned`]: a task's state that only the task writes and its fault
//!   path reads without the big lock.
//!
//! docs/smp.md ("Locks") lists every lock with what it protects.

pub mod held_locks;
mod irq_spin_lock;
// The task cells (process/lifecycle.rs: `Process`): their `UnsafeCell`,
// `Sync` and guards are the `unsafe` here, each with its SAFETY argument.
#[allow(unsafe_code)]
pub mod kernel_locked;
pub mod lock_order;
// A lock primitive, as the spin crate's it replaces: its `UnsafeCell` and
// `Sync` are the only `unsafe` here, each with its SAFETY argument.
#[allow(unsafe_code)]
pub mod rw_lock;
mod spin_lock;
#[allow(unsafe_code)]
mod task_owned;

pub use irq_spin_lock::IrqSpinLock;
// For process/lifecycle.rs, which the host tests do not build.
#[cfg(target_os = "none")]
pub use kernel_locked::KernelLocked;
pub use lock_order::Rank;
pub use rw_lock::RwLock;
pub use spin_lock::SpinLock;
#[cfg(target_os = "none")]
pub use task_owned::TaskOwned;
// For the kernel's callers that name a guard (process/lifecycle.rs: the
// descriptor table's), which the host tests do not build.
#[cfg(target_os = "none")]
pub use spin_lock::SpinLockGuard;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guard_holds_its_rank_until_it_drops() {
        let rw = RwLock::new(Rank::FilePosition, 1u32);
        let pipe = SpinLock::new(Rank::PipeRing, 2u32);
        let pool = IrqSpinLock::new(Rank::FramePool, 3u32);
        {
            let r = rw.read();
            let p = pipe.lock();
            let f = pool.lock();
            assert_eq!(*r + *p + *f, 6);
            assert!(lock_order::holds(Rank::FilePosition) && lock_order::holds(Rank::FramePool));
        }
        *rw.write() += 1;
        assert_eq!(*rw.read(), 2);
        assert!(Rank::ALL.iter().all(|r| !lock_order::holds(*r)));
    }

    #[test]
    fn a_lock_out_of_order_is_refused_and_not_taken() {
        let pipe = SpinLock::new(Rank::PipeRing, ());
        let pool = IrqSpinLock::new(Rank::FramePool, ());
        let held = pipe.lock();
        let again = pipe.lock_checked().map(drop);
        assert!(again.is_err(), "the same rank twice");
        drop(held);
        let f = pool.lock();
        assert!(pipe.lock_checked().is_err(), "PipeRing under FramePool");
        drop(f);
        assert!(pipe.lock_checked().is_ok(), "the refusal left something behind");
    }

    #[test]
    #[should_panic(expected = "lock order: taking PipeRing")]
    fn lock_panics_on_a_wrong_order() {
        let pipe = SpinLock::new(Rank::PipeRing, ());
        let console = IrqSpinLock::new(Rank::Console, ());
        let _c = console.lock();
        let _p = pipe.lock();
    }
}
