//! The lock order's checker (sync/lock_order.rs), on the real per-CPU held
//! set: a wrong order is refused with both locks named and both places,
//! the right one taken, and the hand-taken kernel lock tracked.

use alloc::format;

use super::{Check, Outcome};
use crate::ensure;
use crate::sync::held_locks::OrderViolation;
use crate::sync::lock_order::{self, Rank};
use crate::sync::{IrqSpinLock, RwLock, SpinLock};

pub const CHECKS: &[Check] = &[
    Check {
        name: "a_lock_taken_under_a_later_one_is_refused_naming_both",
        run: a_lock_taken_under_a_later_one_is_refused_naming_both,
    },
    Check { name: "locks_taken_in_rank_order_are_granted", run: locks_taken_in_rank_order_are_granted },
    Check { name: "the_kernel_lock_taken_by_hand_is_tracked", run: the_kernel_lock_taken_by_hand_is_tracked },
    Check { name: "an_irq_spin_lock_is_held_with_irqs_masked", run: an_irq_spin_lock_is_held_with_irqs_masked },
    Check {
        name: "a_descriptor_table_has_one_holder_and_none_at_a_switch",
        run: a_descriptor_table_has_one_holder_and_none_at_a_switch,
    },
];

/// A descriptor table shared by two tasks (CLONE_FILES: two `Arc`s of one
/// `Files`) admits one holder at a time, which holds rank FileTable, and
/// a switch with it held is refused (`switch_context`'s check). Before,
/// `Shared` handed each task a `&mut` of the same table at once.
fn a_descriptor_table_has_one_holder_and_none_at_a_switch() -> Outcome {
    let files = crate::process::new_files(crate::fs::fd_table::FdTable::new());
    let other_task = files.clone();
    let held = files.lock();
    let second = other_task.try_lock().is_some();
    let rank_held = lock_order::holds(Rank::FileTable);
    let at_switch = lock_order::check_none_held_except(Rank::KernelLock);
    drop(held);
    ensure!(!second, "a second holder got the table while the first held it");
    if lock_order::CHECKED {
        ensure!(rank_held, "the table's guard does not count as rank FileTable");
        match at_switch {
            Err(v) => ensure!(format!("{}", v).contains("FileTable"), "the switch check says {}", v),
            Ok(()) => return Outcome::Fail("a switch with the table held passed the check".into()),
        }
    }
    ensure!(other_task.try_lock().is_some(), "the table stayed locked after the guard dropped");
    ensure!(lock_order::check_none_held_except(Rank::KernelLock).is_ok(), "a lock counts as held after the guard");
    Outcome::Pass
}

const UNCHECKED: &str = "built without the lock-order feature (make bench's kernel)";

fn a_lock_taken_under_a_later_one_is_refused_naming_both() -> Outcome {
    if !lock_order::CHECKED {
        return Outcome::Skip(UNCHECKED);
    }
    let outer = SpinLock::new(Rank::PipeRing, 1u32);
    let inner = IrqSpinLock::new(Rank::FramePool, 2u32);
    let held = inner.lock();
    let verdict = outer.lock_checked().map(|g| *g);
    let still_inner = lock_order::holds(Rank::FramePool);
    drop(held);
    let v = match verdict {
        Ok(value) => return Outcome::Fail(format!("PipeRing granted (value {}) while FramePool was held", value)),
        Err(v) => v,
    };
    let OrderViolation::Order { taking, at, holding, held_at } = v else {
        return Outcome::Fail(format!("the wrong verdict: {}", v));
    };
    ensure!(taking == Rank::PipeRing && holding == Rank::FramePool, "named {:?} under {:?}", taking, holding);
    ensure!(
        at.file().ends_with("selftest/locks.rs") && held_at.file().ends_with("selftest/locks.rs"),
        "sites {} and {}",
        at,
        held_at
    );
    ensure!(at.line() > held_at.line(), "the refused lock at {} is not after the held one at {}", at, held_at);
    let text = format!("{}", v);
    ensure!(
        text.contains("PipeRing") && text.contains("FramePool") && text.contains(&format!("{}", held_at)),
        "the report says {:?}",
        text
    );
    ensure!(still_inner, "the held lock was forgotten by the refusal");
    ensure!(!lock_order::holds(Rank::PipeRing), "the refused lock counts as held");
    ensure!(!lock_order::holds(Rank::FramePool), "the released lock still counts as held");
    Outcome::Pass
}

fn locks_taken_in_rank_order_are_granted() -> Outcome {
    if !lock_order::CHECKED {
        return Outcome::Skip(UNCHECKED);
    }
    let rw = RwLock::new(Rank::FilePosition, 5u32);
    let outer = SpinLock::new(Rank::PipeRing, 1u32);
    let inner = IrqSpinLock::new(Rank::FramePool, 2u32);
    {
        let r = rw.read();
        let o = outer.lock_checked();
        let i = inner.lock_checked();
        ensure!(o.is_ok() && i.is_ok(), "refused in order: {:?} / {:?}", o.err(), i.err());
        ensure!(*r == 5 && lock_order::holds(Rank::FilePosition), "the read side is not tracked");
    }
    *rw.write() += 1;
    ensure!(*rw.read() == 6, "the write was lost");
    for rank in [Rank::FilePosition, Rank::PipeRing, Rank::FramePool] {
        ensure!(!lock_order::holds(rank), "{} still held after its guard dropped", rank);
    }
    Outcome::Pass
}

/// The kernel lock is taken at entry and let go at the eret, across
/// context switches: by hand, through the hooks. Everything else nests
/// inside it, and a switch with it alone held is allowed.
fn the_kernel_lock_taken_by_hand_is_tracked() -> Outcome {
    if !lock_order::CHECKED {
        return Outcome::Skip(UNCHECKED);
    }
    let other = SpinLock::new(Rank::WaitQueue, ());
    lock_order::acquired(Rank::KernelLock);
    let held = lock_order::holds(Rank::KernelLock);
    let nested = other.lock_checked().map(drop);
    lock_order::assert_none_held_except(Rank::KernelLock);
    lock_order::released(Rank::KernelLock);
    ensure!(held, "the kernel lock is not recorded after `acquired`");
    ensure!(nested.is_ok(), "a lock inside the kernel lock refused: {:?}", nested.err());
    ensure!(!lock_order::holds(Rank::KernelLock), "the kernel lock is still recorded after `released`");
    Outcome::Pass
}

fn an_irq_spin_lock_is_held_with_irqs_masked() -> Outcome {
    use crate::arch::aarch64::irq_mask::irqs_masked;
    let lock = IrqSpinLock::new(Rank::Console, ());
    let before = irqs_masked();
    let during = {
        let _g = lock.lock();
        irqs_masked()
    };
    ensure!(during, "IRQs unmasked while an IrqSpinLock is held");
    ensure!(irqs_masked() == before, "the mask was {} before and {} after", before, irqs_masked());
    Outcome::Pass
}
