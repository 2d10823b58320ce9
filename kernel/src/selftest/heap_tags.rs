//! `selftest=heap-tags`: deliberate misuses of the kernel heap, each of
//! which the heap's tags must catch (mm/kasan.rs) with a report that names
//! it rightly, without a panic: the probes run with reports expected and
//! touch memory through fixup-listed loads and stores. Ends with
//! `N passed, N failed`. `selftest=heap-use-after-free` does one
//! use-after-free for real: the full report, then the panic.

use alloc::alloc::Layout;
use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec;

use log::{error, info};

use crate::arch::aarch64::esr::{Esr, FaultKind};
use crate::arch::aarch64::mte::{self, tag_of, with_tag, MATCH_ALL_TAG};
use crate::arch::aarch64::probe;
use crate::mm::addr::VirtAddr;
use crate::mm::kasan::{self, State};
use crate::mm::kasan_report::{expecting, BugKind, Report};
use crate::selftest::{Check, Outcome};

/// Checks of the plain `selftest` run: they hold in every kasan= mode.
pub const CHECKS: &[Check] = &[Check {
    name: "heap_pointers_carry_tags_as_kasan_says_and_async_faults_reach_tfsr_el1",
    run: heap_pointers_follow_the_mode,
}];

/// With kasan=off (or no MTE) a heap pointer keeps the match-all tag;
/// otherwise it carries a random tag, the memory's, and a write through a
/// forged tag under SCTLR_EL1.TCF = async goes through and sets
/// TFSR_EL1.TF1, which `take_kernel_async_fault` finds (and clears).
fn heap_pointers_follow_the_mode() -> Outcome {
    let mut allocation = allocate(32);
    let p = address(&allocation);
    let tag = tag_of(p);
    let outcome = if !kasan::tagging_heap() {
        if tag == MATCH_ALL_TAG {
            Outcome::Pass
        } else {
            Outcome::Fail(format!("kasan={}: heap pointer {:#x} is tagged", kasan::mode().name(), p.as_u64()))
        }
    } else {
        // The check's own allocation, in the Tagged heap.
        let memory = kasan::heap_tag(p);
        if tag == 0 || tag == MATCH_ALL_TAG || memory != Some(tag) {
            Outcome::Fail(format!("heap pointer {:#x}: pointer tag {:#x}, memory tag {:x?}", p.as_u64(), tag, memory))
        } else {
            // A write into the check's own allocation; with TCF async it
            // goes through and only records the mismatch.
            let recorded = mte::with_kernel_checks_async(|| {
                let _ = probe::write_with_tag(&mut allocation[0], tag % 14 + 1, 1);
            });
            if recorded {
                Outcome::Pass
            } else {
                Outcome::Fail(format!(
                    "a forged-tag write to {:#x} under TCF=async left TFSR_EL1.TF1 clear",
                    p.as_u64()
                ))
            }
        }
    };
    drop(allocation);
    outcome
}

type Probe = fn() -> Result<(), String>;

const PROBES: [(&str, Probe); 6] = [
    ("use_after_free_read_faults_and_names_the_freed_allocation", use_after_free_read),
    ("use_after_free_write_faults_and_names_the_freed_allocation", use_after_free_write),
    ("read_past_the_last_granule_faults_as_out_of_bounds", read_past_the_end),
    ("double_free_is_refused_at_free_time", double_free),
    ("free_of_a_pointer_inside_an_allocation_is_refused", free_inside),
    ("write_through_a_forged_tag_faults", forged_tag_write),
];

/// Runs every probe; the QEMU exit status: 0 if all passed.
pub fn run_probes() -> u32 {
    // Asymm checks writes asynchronously: the write probes need sync.
    if kasan::mode() != kasan::Mode::Sync {
        error!("heap tags are {}: the probes need kasan=sync", kasan::mode().name());
        crate::println!("0 passed, 1 failed");
        return 1;
    }
    let (mut passed, mut failed) = (0, 0);
    for (name, probe) in PROBES {
        match probe() {
            Ok(()) => {
                passed += 1;
                info!("PASS {}", name);
            }
            Err(why) => {
                failed += 1;
                error!("FAIL {}: {}", name, why);
            }
        }
    }
    crate::println!("{} passed, {} failed", passed, failed);
    (failed != 0) as u32
}

/// Allocates `size` bytes (a multiple of 8; 8-aligned) from the kernel
/// heap: the layout `size`, align 8, as the reports name it.
fn allocate(size: usize) -> Box<[u64]> {
    vec![0u64; size / 8].into_boxed_slice()
}

/// Where an allocation starts, with its pointer tag: kept after the free
/// for the probes (an address, not a reference).
fn address(allocation: &[u64]) -> VirtAddr {
    VirtAddr::from_ptr(allocation.as_ptr())
}

/// A free the heap must refuse (double or invalid): `Err` if the guard
/// found it would not.
fn refused_free(p: VirtAddr, size: usize) -> Result<(), String> {
    let layout = Layout::from_size_align(size, 8).expect("a valid layout");
    if kasan::free_expecting_refusal(p, layout) {
        Ok(())
    } else {
        Err(format!("the heap would accept the free of {:#x} ({} bytes): not attempted", p.as_u64(), size))
    }
}

fn match_all_form(p: VirtAddr) -> u64 {
    p.with_match_all_tag().as_u64()
}

/// The fault was a synchronous tag check fault.
fn tag_check(r: Result<impl core::fmt::Debug, Esr>) -> Result<(), String> {
    match r {
        Err(esr) if esr.abort().is_some_and(|a| a.kind == FaultKind::TagCheck) => Ok(()),
        Err(esr) => Err(format!("faulted, but not on a tag check: {}", esr)),
        Ok(v) => Err(format!("the access went through ({:?})", v)),
    }
}

/// The report says `kind`, about `p`'s allocation `[start, start+size)` in
/// `state`, with the pointer's tag and a memory tag that differs.
fn check_report(
    report: Option<Report>,
    kind: BugKind,
    addr: VirtAddr,
    start: VirtAddr,
    size: usize,
    state: State,
) -> Result<(), String> {
    let r = report.ok_or("no report was made")?;
    if r.kind != kind {
        return Err(format!("report says {}, want {}", r.kind.name(), kind.name()));
    }
    if r.addr != addr.as_u64() || r.ptr_tag != tag_of(addr) {
        return Err(format!("report names {:#x} (tag {:#x}), want {:#x}", r.addr, r.ptr_tag, addr.as_u64()));
    }
    if kind != BugKind::InvalidFree && r.mem_tag == Some(r.ptr_tag) {
        return Err(format!("report's memory tag {:?} equals the pointer's", r.mem_tag));
    }
    let a = r.allocation.ok_or("report names no allocation")?;
    if a.start != match_all_form(start) || a.size != size || a.state != state {
        return Err(format!(
            "report names allocation {:#x}+{} {:?}, want {:#x}+{} {:?}",
            a.start,
            a.size,
            a.state,
            match_all_form(start),
            size,
            state
        ));
    }
    if a.alloc_sites[0] == 0 || (state == State::Freed && a.free_sites[0] == 0) {
        return Err(format!("call sites missing: allocated {:x?}, freed {:x?}", a.alloc_sites, a.free_sites));
    }
    Ok(())
}

fn use_after_free_read() -> Result<(), String> {
    let allocation = allocate(32);
    let p = address(&allocation);
    drop(allocation);
    // Freed memory: the read faults, or reads a byte harmlessly.
    let (r, report) = expecting(|| probe::read(p));
    tag_check(r)?;
    check_report(report, BugKind::UseAfterFree, p, p, 32, State::Freed)?;
    if report.and_then(|r| r.write) != Some(false) || report.and_then(|r| r.size) != Some(1) {
        return Err(format!("report does not say a read of 1 byte: {:?}", report));
    }
    Ok(())
}

fn use_after_free_write() -> Result<(), String> {
    let allocation = allocate(48);
    let p = address(&allocation);
    drop(allocation);
    let q = VirtAddr::new(p.as_u64() + 20);
    // Freed memory, retagged: the store faults and writes nothing.
    let (r, report) = expecting(|| probe::write_expecting_tag_fault(q, 0x5a));
    tag_check(r)?;
    check_report(report, BugKind::UseAfterFree, q, p, 48, State::Freed)?;
    if report.and_then(|r| r.write) != Some(true) {
        return Err("report does not say write".into());
    }
    Ok(())
}

fn read_past_the_end() -> Result<(), String> {
    // 40 bytes: granules [0, 48); the first byte beyond the last granule.
    let allocation = allocate(40);
    let p = address(&allocation);
    let q = VirtAddr::new(p.as_u64() + 48);
    // A read of the heap's own record, harmless if it went through.
    let (r, report) = expecting(|| probe::read(q));
    let result = tag_check(r).and_then(|()| check_report(report, BugKind::OutOfBounds, q, p, 40, State::Live));
    drop(allocation);
    result
}

fn double_free() -> Result<(), String> {
    let allocation = allocate(64);
    let p = address(&allocation);
    drop(allocation);
    let (refused, report) = expecting(|| refused_free(p, 64));
    refused?;
    check_report(report, BugKind::DoubleFree, p, p, 64, State::Freed)
}

fn free_inside() -> Result<(), String> {
    let allocation = allocate(64);
    let p = address(&allocation);
    let q = VirtAddr::new(p.as_u64() + 16);
    let (refused, report) = expecting(|| refused_free(q, 32));
    let result = refused.and_then(|()| check_report(report, BugKind::InvalidFree, q, p, 64, State::Live));
    // The refused free must have left the allocation whole and live.
    let still = probe::read_tag_checked(p);
    drop(allocation);
    result?;
    still.map(|_| ()).map_err(|e| format!("the allocation no longer reads after the refused free: {}", e))
}

fn forged_tag_write() -> Result<(), String> {
    let mut allocation = allocate(32);
    let p = address(&allocation);
    // Another tag, never the match-all one nor 0.
    let forged = tag_of(p) % 14 + 1;
    // A write into the probe's own allocation, harmless if it went through.
    let (r, report) = expecting(|| probe::write_with_tag(&mut allocation[0], forged, 1));
    let forged = with_tag(p, forged);
    let result = tag_check(r).and_then(|()| check_report(report, BugKind::InvalidAccess, forged, p, 32, State::Live));
    drop(allocation);
    result
}

/// One use-after-free for real: a 64-byte allocation freed, then read.
/// Must end in the KASAN report and the panic.
pub fn deliberate_use_after_free() -> ! {
    let allocation = allocate(64);
    let p = address(&allocation);
    drop(allocation);
    info!("reading {:#x}, freed; a KASAN use-after-free report and a panic must follow", p.as_u64());
    // The memory was freed: the tag check fault ends the kernel, which is
    // what this mode demonstrates.
    let v = probe::load_without_fixup(p);
    // In async mode the read went through: the fault is in TFSR_EL1, and
    // this is where it is found (as at the next kernel entry or exit).
    kasan::check_async_fault("the end of the deliberate use-after-free");
    panic!("the freed allocation was readable (read {:#x}): heap tags are off", v)
}
