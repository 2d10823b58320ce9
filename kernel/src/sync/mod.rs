//! The kernel's locks: spin locks with a rank in one documented order
//! (lock_order.rs), checked on every acquisition.
//!
//! - [`SpinLock`]: for locks the interrupt handler never takes.
//! - [`IrqSpinLock`]: masks interrupts while held, for those it does.
//! - [`RwLock`]: shared readers or one writer (the address space's lock,
//!   mm/mmap_lock.rs).
//!
//! docs/smp.md ("Locks") lists every lock with what it protects.

pub mod held_locks;
mod irq_spin_lock;
pub mod lock_order;
// A lock primitive, as the spin crate's it replaces: its `UnsafeCell` and
// `Sync` are the only `unsafe` here, each with its SAFETY argument.
#[allow(unsafe_code)]
pub mod rw_lock;
mod spin_lock;

pub use irq_spin_lock::IrqSpinLock;
pub use lock_order::Rank;
pub use rw_lock::RwLock;
pub use spin_lock::SpinLock;

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
