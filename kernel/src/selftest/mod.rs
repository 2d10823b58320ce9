//! On-target checks, run when the command line says `selftest`.
//!
//! Each check is named for the rule it verifies and reports what it saw when
//! that rule does not hold. The run ends with the line `N passed, N failed,
//! N skipped` and QEMU's exit status says whether all passed.
//! `selftest=panic` instead takes a deliberate kernel data abort, to show
//! (and let tests/run.sh check) the panic report; `selftest=stack-overflow`
//! recurses until the boot stack runs into its guard page, which must end
//! in the stack-overflow report; `selftest=kernel-lock-watchdog` holds
//! the kernel lock until a waiting CPU's watchdog reports it.
//!
//! Safe code only, deliberate faults included: the probes are
//! arch/aarch64/probe.rs's, the pages mm/kernel_page.rs's.
#![deny(unsafe_code)]

mod el2;
pub mod heap_tags;
mod isolation;
mod locks;
mod mm;
mod mmu;
mod mte;
mod page_pin;
mod smp;

use alloc::string::String;

use log::{error, info, warn};

/// What one check concluded.
pub enum Outcome {
    Pass,
    Fail(String),
    /// Not applicable on this machine (for example, MTE checks with mte=off).
    Skip(&'static str),
}

pub struct Check {
    pub name: &'static str,
    pub run: fn() -> Outcome,
}

/// `Fail` with a formatted message when `cond` is false.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($msg:tt)*) => {
        if !$cond {
            return $crate::selftest::Outcome::Fail(alloc::format!($($msg)*));
        }
    };
}

#[derive(Default, Clone, Copy)]
pub struct Summary {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
}

/// Runs every check and prints the closing line.
pub fn run_all() -> Summary {
    let mut s = Summary::default();
    // The EL2 checks only exist when there is an EL2 (entered there).
    let el2 = crate::arch::aarch64::boot::EntryLevel::at_boot().0 == 2;
    let groups = [
        mmu::CHECKS,
        mm::CHECKS,
        page_pin::CHECKS,
        mte::CHECKS,
        heap_tags::CHECKS,
        isolation::CHECKS,
        locks::CHECKS,
        smp::CHECKS,
        if el2 { el2::CHECKS } else { &[] },
        // Stops a CPU for good: nothing after it may need one.
        smp::LAST,
    ];
    for group in groups {
        for check in group {
            match (check.run)() {
                Outcome::Pass => {
                    s.passed += 1;
                    info!("PASS {}", check.name);
                }
                Outcome::Fail(why) => {
                    s.failed += 1;
                    error!("FAIL {}: {}", check.name, why);
                }
                Outcome::Skip(why) => {
                    s.skipped += 1;
                    warn!("SKIP {}: {}", check.name, why);
                }
            }
        }
    }
    crate::println!("{} passed, {} failed, {} skipped", s.passed, s.failed, s.skipped);
    s
}

/// A kernel data abort with no fixup: must end in a decoded panic report.
pub fn deliberate_kernel_fault() -> ! {
    let guard = crate::arch::aarch64::mmu::kernel_map::boot_stack_guard();
    info!("reading the boot stack guard page at {:#x}; a panic report must follow", guard.as_u64());
    // The page is unmapped: the fault ends the kernel, which is what this
    // mode demonstrates.
    let v = crate::arch::aarch64::probe::load_without_fixup(guard);
    panic!("the guard page was readable (read {:#x})", v)
}

/// A panic while every other CPU spins for the kernel lock this CPU holds,
/// interrupts masked (so none takes the Stop SGI): each must see the stop
/// request in its wait and stop, and the report come out whole
/// (arch/aarch64/ipi.rs: `stop_if_requested`).
pub fn deliberate_panic_with_lock_waiters() -> ! {
    use crate::arch::aarch64::{kernel_lock, timer};
    let others = crate::process::cpu_mask::online_count() as u32 - 1;
    kernel_lock::lock();
    crate::process::send_other_cpus_to_the_kernel_lock();
    timer::spin_until(1_000_000_000, || kernel_lock::waiters() == others);
    info!("{} of {} other cpus wait for the kernel lock; a panic report must follow", kernel_lock::waiters(), others);
    panic!("deliberate panic with {} of {} other cpus waiting for the kernel lock", kernel_lock::waiters(), others)
}

/// Holds the kernel lock past the watchdog's limit while the other CPUs
/// wait for it, taking and releasing a spin lock all along: a long path
/// that never yields. A waiter's watchdog must report the holder as
/// moving, its last mark here, and then panic; the harness
/// (scripts/qemu-watch) must name this function as cpu 0's place.
pub fn deliberate_long_kernel_lock_holding() -> ! {
    use crate::arch::aarch64::{kernel_lock, timer};
    let others = crate::process::cpu_mask::online_count() as u32 - 1;
    kernel_lock::lock();
    crate::process::send_other_cpus_to_the_kernel_lock();
    timer::spin_until(1_000_000_000, || kernel_lock::waiters() == others);
    info!("{} of {} other cpus wait for the kernel lock; holding it without a yield", kernel_lock::waiters(), others);
    hold_kernel_lock_without_yielding()
}

#[inline(never)]
fn hold_kernel_lock_without_yielding() -> ! {
    let steps = crate::sync::SpinLock::new(crate::sync::Rank::FaultCost, 0u64);
    loop {
        *steps.lock() += 1;
        core::hint::black_box(&steps);
    }
}

/// Recursion without end on the boot stack: must end in the kernel's
/// stack-overflow panic, from the guard page below the stack.
pub fn deliberate_stack_overflow() -> ! {
    let stack = crate::arch::aarch64::mmu::kernel_map::boot_stack();
    info!("recursing on the boot stack [{:#x}..{:#x}); a stack-overflow panic must follow", stack.start, stack.end);
    let depth = recurse(0);
    panic!("the recursion returned at depth {}", depth)
}

/// One more 512-byte frame per call; black_box keeps the frame and the
/// call (no tail call, no loop).
#[inline(never)]
fn recurse(depth: u64) -> u64 {
    let mut frame = [0u8; 512];
    frame[(depth % 512) as usize] = depth as u8;
    let frame = core::hint::black_box(frame);
    if core::hint::black_box(depth) == u64::MAX {
        return depth;
    }
    recurse(depth + 1) + u64::from(frame[0])
}
