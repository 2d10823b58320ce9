//! What the fault paths cost, measured by the kernel itself.
//!
//! The counter (CNTPCT_EL0) is read at vector entry (vectors.S stores it in
//! the TrapFrame) and again when the exception has been handled, just before
//! the register restore; the restore's 23 instructions up to `eret` are
//! added as a constant. Under QEMU's `-icount shift=0` on the virt machine
//! of QEMU 9 and newer (CNTFRQ = 1 GHz) a counter tick is one guest
//! instruction, so these are instruction counts (`make bench`); elsewhere
//! they are 1 ns ticks. Each resolved EL0 fault is filed under its path;
//! `bench` on the command line prints the table at the end of a run.

use core::sync::atomic::{AtomicU64, Ordering};

use spin::Mutex;

use crate::arch::aarch64::timer;
use crate::mm::fault::{Resolution, Resolved};

/// Instructions from the second counter read to `eret` (vectors.S restore).
const RESTORE_INSNS: u64 = 23;

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

static COSTS: Mutex<[Cost; PATHS.len()]> = Mutex::new([Cost { count: 0, total: 0, min: u64::MAX, max: 0 }; PATHS.len()]);
/// The path of the fault being handled, until `finish`.
static PENDING: Mutex<Option<usize>> = Mutex::new(None);
/// Counter value when the first EL0 instruction was about to run.
static FIRST_EL0: AtomicU64 = AtomicU64::new(0);

fn path_of(r: Resolved) -> usize {
    let name = match (r.what, r.tagged) {
        (Resolution::ZeroPageMapped, _) => "zero-page-map",
        (Resolution::ZeroFilled, false) => "zero-fill",
        (Resolution::ZeroFilled, true) => "zero-fill-tagged",
        (Resolution::RefPageMapped, _) => "refpage-map",
        (Resolution::RefPagePatternFilled, false) => "refpage-fill16",
        (Resolution::RefPagePatternFilled, true) => "refpage-fill16-tagged",
        (Resolution::RefPageCopied, false) => "refpage-copy",
        (Resolution::RefPageCopied, true) => "refpage-copy-tagged",
        (Resolution::CowCopied, false) => "cow-copy",
        (Resolution::CowCopied, true) => "cow-copy-tagged",
        (Resolution::SharedPageMapped, _) => "shared-map",
        _ => "other",
    };
    PATHS.iter().position(|(n, _)| *n == name).expect("every name is a path")
}

/// A fault from EL0 was resolved along `r`'s path.
pub fn note(r: Resolved) {
    *PENDING.lock() = Some(path_of(r));
}

/// The exception that started at `entry_ticks` is about to return to EL0.
pub fn finish(entry_ticks: u64) {
    let Some(path) = PENDING.lock().take() else { return };
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
