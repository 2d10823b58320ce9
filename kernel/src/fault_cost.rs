//! What the fault paths cost, measured by the kernel itself.
//!
//! The counter (CNTPCT_EL0) is read at vector entry (vectors.S stores it in
//! the TrapFrame) and again when the exception has been handled, just before
//! the register restore; the restore's 23 instructions up to `eret` are
//! added as a constant. Under QEMU's `-icount shift=0` on the virt machine
//! of QEMU 9 and newer (CNTFRQ = 1 GHz) a counter tick is one guest
//! instruction, so these are instruction counts (`make bench`); elsewhere
//! they are 1 ns ticks. Each resolved EL0 fault is filed under its path;
//! `bench` on the command line turns the measurement on ([`enable`]) and
//! prints the table at the end of a run. Without it every fault pays one
//! load and branch for it (in `note` and `finish`), nothing else: the
//! user-visible benchmark (user/bench/user_faults.c) runs without it.

use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use crate::sync::{Rank, SpinLock};

use crate::arch::aarch64::cpu_local::{this_cpu, MAX_CPUS};
use crate::arch::aarch64::timer;
use crate::mm::fault::{Resolution, Resolved};

/// Instructions from the second counter read to `eret`: exception.rs's
/// `leave` (2) and vectors.S's exception_return (23).
const RESTORE_INSNS: u64 = 25;

/// One path: how often, and its total, smallest and largest cost.
#[derive(Clone, Copy)]
struct Cost {
    count: u64,
    total: u64,
    min: u64,
    max: u64,
}

/// The paths, with the least work a fill can do: 4096 bytes in 16-byte
/// stores is 256 stores (STP), and with tags still 256 (STGP sets the
/// granule's tag in the same store); mapping an existing page fills nothing.
const PATHS: [(&str, Option<u64>); 12] = [
    ("zero-page-map", None),
    ("zero-fill", Some(256)),
    ("zero-fill-tagged", Some(256)),
    ("refpage-map", None),
    ("refpage-fill16", Some(256)),
    ("refpage-fill16-tagged", Some(256)),
    ("refpage-copy", Some(256)),
    ("refpage-copy-tagged", Some(256)),
    ("cow-copy", Some(256)),
    ("cow-copy-tagged", Some(256)),
    ("shared-map", None),
    ("other", None),
];

static COSTS: SpinLock<[Cost; PATHS.len()]> =
    SpinLock::new(Rank::FaultCost, [Cost { count: 0, total: 0, min: u64::MAX, max: 0 }; PATHS.len()]);
/// The path of the fault being handled on each CPU (an index into PATHS),
/// until `finish` on that CPU: faults on several CPUs are measured at
/// once, each from its entry to its return. A fault is measured on the
/// locked path (el0_abort.rs leaves the fast side to faults that are not
/// measured), from `note` to `finish` on one CPU: a resolved fault's
/// return switches tasks only to stop for a tracer, and then the slot is
/// written again by that CPU's next measured fault before its `finish`.
static PENDING: [AtomicUsize; MAX_CPUS] = [const { AtomicUsize::new(NONE_PENDING) }; MAX_CPUS];
/// Counter value when the first EL0 instruction was about to run.
static FIRST_EL0: AtomicU64 = AtomicU64::new(0);
/// Whether faults are measured (`bench` on the command line).
static ENABLED: AtomicBool = AtomicBool::new(false);

/// Measures every fault from now on (`bench` on the command line).
pub fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
    crate::arch::aarch64::entry_work::refresh();
}

/// Whether faults are measured (for arch/aarch64/entry_work.rs).
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Index into PATHS of the path `r` took. A plain match, no name lookup:
/// this runs inside every measured fault, so it is part of what is measured.
fn path_of(r: Resolved) -> usize {
    match (r.what, r.tagged) {
        (Resolution::ZeroPageMapped, _) => 0,
        (Resolution::ZeroFilled, false) => 1,
        (Resolution::ZeroFilled, true) => 2,
        (Resolution::RefPageMapped, _) => 3,
        (Resolution::RefPagePatternFilled, false) => 4,
        (Resolution::RefPagePatternFilled, true) => 5,
        (Resolution::RefPageCopied, false) => 6,
        (Resolution::RefPageCopied, true) => 7,
        (Resolution::CowCopied, false) => 8,
        (Resolution::CowCopied, true) => 9,
        (Resolution::SharedPageMapped, _) => 10,
        _ => OTHER,
    }
}

/// PATHS' last entry.
const OTHER: usize = PATHS.len() - 1;
/// PENDING's value when no resolved fault is waiting for `finish`.
const NONE_PENDING: usize = usize::MAX;

/// A fault from EL0 was resolved along `r`'s path; called when
/// measurement is on (the fault path tests its entry's copy of the flag,
/// arch/aarch64/entry_work.rs). Out of line: nothing of it is in a fault
/// when nothing is measured.
#[inline(never)]
pub fn note(r: Resolved) {
    PENDING[this_cpu().index()].store(path_of(r), Ordering::Relaxed);
}

/// The exception that started at `entry_ticks` is about to return to EL0;
/// called when measurement is on, as `note`. Only a resolved fault has a
/// path pending; the test is inlined, so that every other exception (each
/// system call of a measured run) pays a swap and a branch, not a call.
#[inline(always)]
pub fn finish(entry_ticks: u64) {
    let path = PENDING[this_cpu().index()].swap(NONE_PENDING, Ordering::Relaxed);
    if path != NONE_PENDING {
        record(path, entry_ticks);
    }
}

/// `finish` of a fault resolved along PATHS' entry `path`.
#[inline(never)]
fn record(path: usize, entry_ticks: u64) {
    let cost = timer::ticks().wrapping_sub(entry_ticks) + RESTORE_INSNS;
    let mut costs = COSTS.lock();
    let c = &mut costs[path];
    c.count += 1;
    c.total += cost;
    c.min = c.min.min(cost);
    c.max = c.max.max(cost);
}

/// Called each time a task is resumed: remembers the first.
pub fn first_el0_entry() {
    if !ENABLED.load(Ordering::Relaxed) {
        return;
    }
    let _ = FIRST_EL0.compare_exchange(0, timer::ticks(), Ordering::Relaxed, Ordering::Relaxed);
}

/// Prints the measurements, one `bench-kernel` line each.
pub fn report() {
    crate::println!(
        "bench-kernel boot ticks_to_first_el0={} counter_hz={}",
        FIRST_EL0.load(Ordering::Relaxed),
        timer::frequency()
    );
    for (i, c) in COSTS.lock().iter().enumerate() {
        if c.count == 0 {
            continue;
        }
        let (name, bound) = PATHS[i];
        let mean = c.total / c.count;
        match bound {
            Some(b) => crate::println!(
                "bench-kernel fault kind={} count={} insns_total={} insns_mean={} insns_min={} insns_max={} lower_bound={} ratio={}.{:02}",
                name, c.count, c.total, mean, c.min, c.max, b, mean / b, (mean % b) * 100 / b
            ),
            None => crate::println!(
                "bench-kernel fault kind={} count={} insns_total={} insns_mean={} insns_min={} insns_max={} lower_bound=- ratio=-",
                name, c.count, c.total, mean, c.min, c.max
            ),
        }
    }
}
