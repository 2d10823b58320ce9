//! The test runner: runs EL0 programs from the initramfs one after another
//! and reports each one's outcome.
//!
//! `run=/tests` runs every file in that directory and ends with
//! `N passed, N failed`; a program passes when it ends the way its name
//! says (see [`Expectation`]). `run=/run/prog` runs one program, with the
//! command-line words after `--` as its arguments, and the runner's exit
//! status is the program's (128 + signal if it was killed).

use alloc::string::String;
use alloc::vec::Vec;

use log::{error, info, warn};

use super::expectation::Expectation;
use super::loader::{self, LoadError};
use super::outcome::Outcome;
use super::Report;
use crate::fs::initramfs::Initramfs;
use crate::mm::fault::FaultCounters;
use crate::mm::{frame, heap};

/// The environment every program starts with (what Linux gives init).
pub const ENVIRONMENT: [&str; 2] = ["HOME=/", "TERM=linux"];

/// Time limit per program unless `timelimit=SECONDS` says otherwise.
pub const DEFAULT_TIME_LIMIT_S: u64 = 10;
/// Programs expected to hit the limit get a short one.
const EXPECTED_TIMEOUT_LIMIT_MS: u64 = 500;

/// Frames in use and kernel heap bytes, to show each program gave every
/// one back. The frame allocator's own lists live on the heap and change
/// shape as frames come and go: those bytes are not counted (heap.rs).
fn usage() -> (usize, usize) {
    let kernel_tables = crate::arch::aarch64::mmu::kernel_map::table_frames();
    (frame::stats().used() - kernel_tables, heap::used_bytes_outside_frame_bookkeeping())
}

fn not_started(outcome: Outcome) -> Report {
    Report { outcome, elapsed_ns: 0, faults: FaultCounters::default(), peak_frames: 0 }
}

/// Runs one program to completion.
pub fn run_one(fs: &Initramfs, path: &str, args: &[&str], time_limit_ns: u64, mte_level: u8) -> Report {
    let Some(entry) = fs.file(path) else {
        return not_started(Outcome::NotStarted(alloc::format!("{} not found in the initramfs", path)));
    };
    let mut argv: Vec<&str> = Vec::with_capacity(args.len() + 1);
    argv.push(path);
    argv.extend_from_slice(args);
    match loader::load(path, entry.data, &argv, &ENVIRONMENT, mte_level) {
        Ok(process) => super::run(process, time_limit_ns),
        // A file the loader will not run is the file's fault, not the
        // kernel's: a warning, and the runner goes on to the next program.
        Err(LoadError::Elf(e)) => {
            warn!("{}: refused: {}", path, e);
            not_started(Outcome::Refused(alloc::format!("{}", e)))
        }
        Err(e) => {
            error!("{}: {}", path, e);
            not_started(Outcome::NotStarted(alloc::format!("{}", e)))
        }
    }
}

/// Runs every program in `dir`; returns (passed, failed).
pub fn run_dir(fs: &Initramfs, dir: &str, time_limit_s: u64, mte_level: u8) -> (usize, usize) {
    let programs: Vec<String> = fs.files_in(dir).iter().map(|e| alloc::format!("/{}", e.path)).collect();
    info!("running {} programs from {}", programs.len(), dir);
    let (mut passed, mut failed) = (0, 0);
    for path in &programs {
        let name = path.rsplit('/').next().unwrap_or(path);
        let expect = Expectation::from_name(name);
        let limit_ms = if expect == Expectation::TimeLimit { EXPECTED_TIMEOUT_LIMIT_MS } else { time_limit_s * 1000 };
        let before = usage();
        let report = run_one(fs, path, &[], limit_ms * 1_000_000, mte_level);
        let outcome = &report.outcome;
        let after = usage();
        // The outcome's own text is the runner's, not the program's.
        let after = (after.0, after.1 - outcome.heap_bytes());
        let ns = report.elapsed_ns;
        let time = alloc::format!(
            "{}.{:03} ms; faults: {}; peak frames {}",
            ns / 1_000_000,
            (ns / 1000) % 1000,
            report.faults,
            report.peak_frames
        );
        if !expect.met_by(outcome) {
            failed += 1;
            crate::println!("FAIL {}: {}, expected {:?} ({})", path, outcome, expect, time);
        } else if after != before {
            failed += 1;
            crate::println!(
                "FAIL {}: {}, but leaked {} frames / {} bytes ({})",
                path,
                outcome,
                after.0 as isize - before.0 as isize,
                after.1 as isize - before.1 as isize,
                time
            );
        } else {
            passed += 1;
            crate::println!("PASS {}: {} ({})", path, outcome, time);
        }
    }
    let resumed = super::resumed_per_cpu();
    let ran = resumed.iter().filter(|&&n| n > 0).count();
    let per_cpu: Vec<String> = resumed.iter().take(super::cpu_mask::nr_cpu_ids()).map(|n| alloc::format!("{}", n)).collect();
    info!(
        "tasks ran on {} of {} CPUs (tasks resumed per CPU: {})",
        ran,
        super::cpu_mask::online_count(),
        per_cpu.join(" ")
    );
    // The fault path's fast side (arch/aarch64/el0_abort.rs), per CPU:
    // faults resolved without the kernel lock, and those of them resolved
    // while another CPU held it (tests/run.sh wants some in the SMP=4 boot).
    let cpus = || (0..super::cpu_mask::nr_cpu_ids()).filter_map(crate::arch::aarch64::cpu_local::cpu);
    let fast: Vec<(u64, u64)> = cpus().map(|c| c.fast_faults()).collect();
    let list = |f: fn(&(u64, u64)) -> u64| fast.iter().map(|n| alloc::format!("{}", f(n))).collect::<Vec<_>>().join(" ");
    info!(
        "faults resolved without the kernel lock: {} (per CPU: {}), {} of them while another CPU held it (per CPU: {})",
        fast.iter().map(|n| n.0).sum::<u64>(),
        list(|n| n.0),
        fast.iter().map(|n| n.1).sum::<u64>(),
        list(|n| n.1)
    );
    (passed, failed)
}
