//! `selftest=heap-tags`: deliberate misuses of the kernel heap, each of
//! which the heap's tags must catch (mm/kasan.rs) with a report that names
//! it rightly, without a panic: the probes run with reports expected and
//! touch memory through fixup-listed loads and stores. Ends with
//! `N passed, N failed`. `selftest=heap-use-after-free` does one
//! use-after-free for real: the full report, then the panic.

use alloc::alloc::{alloc, dealloc, Layout};
use alloc::format;
use alloc::string::String;

use log::{error, info};

use crate::arch::aarch64::esr::{Esr, FaultKind};
use crate::arch::aarch64::fixup::{probe_read, probe_write};
use crate::arch::aarch64::mte::{self, tag_of, with_tag, MATCH_ALL_TAG};
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
    let (p, layout) = allocate(32);
    let tag = tag_of(p);
    let outcome = if !kasan::tagging_heap() {
        if tag == MATCH_ALL_TAG {
            Outcome::Pass
        } else {
            Outcome::Fail(format!("kasan={}: heap pointer {:#x} is tagged", kasan::mode().name(), p.as_u64()))
        }
    } else {
        // SAFETY: the check's own allocation, in the Tagged heap.
        let memory = unsafe { mte::load_tag(p) };
        if tag == 0 || tag == MATCH_ALL_TAG || memory != tag {
            Outcome::Fail(format!("heap pointer {:#x}: pointer tag {:#x}, memory tag {:#x}", p.as_u64(), tag, memory))
        } else {
            // SAFETY: a write into the check's own allocation; with TCF
            // async it goes through and only records the mismatch.
            let recorded = mte::with_kernel_checks_async(|| unsafe {
                core::ptr::write_volatile(with_tag(p, tag % 14 + 1).as_mut_ptr::<u8>(), 1)
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
    free(p, layout);
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

/// Allocates `size` bytes (8-aligned) from the kernel heap.
fn allocate(size: usize) -> (VirtAddr, Layout) {
    let layout = Layout::from_size_align(size, 8).expect("a valid layout");
    // SAFETY: a non-zero size.
    let p = unsafe { alloc(layout) };
    assert!(!p.is_null(), "heap exhausted in a probe");
    (VirtAddr::from_ptr(p), layout)
}

fn free(p: VirtAddr, layout: Layout) {
    // SAFETY: the probe's own allocation (or, in the double-free and
    // invalid-free probes, a deliberate misuse the heap must refuse).
    unsafe { dealloc(p.as_mut_ptr(), layout) };
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
    let (p, layout) = allocate(32);
    free(p, layout);
    // SAFETY: freed memory no one has reused (nothing allocates in
    // between); the read faults, or reads a byte harmlessly.
    let (r, report) = expecting(|| unsafe { probe_read(p) });
    tag_check(r)?;
    check_report(report, BugKind::UseAfterFree, p, p, 32, State::Freed)?;
    if report.and_then(|r| r.write) != Some(false) || report.and_then(|r| r.size) != Some(1) {
        return Err(format!("report does not say a read of 1 byte: {:?}", report));
    }
    Ok(())
}

fn use_after_free_write() -> Result<(), String> {
    let (p, layout) = allocate(48);
    free(p, layout);
    let q = VirtAddr::new(p.as_u64() + 20);
    // SAFETY: as above; a write that went through would land in freed
    // memory no one uses.
    let (r, report) = expecting(|| unsafe { probe_write(q, 0x5a) });
    tag_check(r)?;
    check_report(report, BugKind::UseAfterFree, q, p, 48, State::Freed)?;
    if report.and_then(|r| r.write) != Some(true) {
        return Err("report does not say write".into());
    }
    Ok(())
}

fn read_past_the_end() -> Result<(), String> {
    // 40 bytes: granules [0, 48); the first byte beyond the last granule.
    let (p, layout) = allocate(40);
    let q = VirtAddr::new(p.as_u64() + 48);
    // SAFETY: a read of the heap's own record, harmless if it went through.
    let (r, report) = expecting(|| unsafe { probe_read(q) });
    let result = tag_check(r).and_then(|()| check_report(report, BugKind::OutOfBounds, q, p, 40, State::Live));
    free(p, layout);
    result
}

fn double_free() -> Result<(), String> {
    let (p, layout) = allocate(64);
    free(p, layout);
    let ((), report) = expecting(|| free(p, layout));
    check_report(report, BugKind::DoubleFree, p, p, 64, State::Freed)
}

fn free_inside() -> Result<(), String> {
    let (p, layout) = allocate(64);
    let q = VirtAddr::new(p.as_u64() + 16);
    let ((), report) = expecting(|| free(q, Layout::from_size_align(32, 8).expect("a valid layout")));
    let result = check_report(report, BugKind::InvalidFree, q, p, 64, State::Live);
    // The refused free must have left the allocation whole and live.
    // SAFETY: the probe's own live allocation.
    let still = unsafe { mte::probe_read_checked(p) };
    free(p, layout);
    result?;
    still.map(|_| ()).map_err(|e| format!("the allocation no longer reads after the refused free: {}", e))
}

fn forged_tag_write() -> Result<(), String> {
    let (p, layout) = allocate(32);
    // Another tag, never the match-all one nor 0.
    let forged = with_tag(p, tag_of(p) % 14 + 1);
    // SAFETY: a write into the probe's own allocation, harmless if it went through.
    let (r, report) = expecting(|| unsafe { probe_write(forged, 1) });
    let result = tag_check(r).and_then(|()| check_report(report, BugKind::InvalidAccess, forged, p, 32, State::Live));
    free(p, layout);
    result
}

/// One use-after-free for real: a 64-byte allocation freed, then read.
/// Must end in the KASAN report and the panic.
pub fn deliberate_use_after_free() -> ! {
    let (p, layout) = allocate(64);
    free(p, layout);
    info!("reading {:#x}, freed; a KASAN use-after-free report and a panic must follow", p.as_u64());
    // SAFETY: not safe by design: the memory was freed, and the tag check
    // fault ends the kernel, which is what this mode demonstrates.
    let v = unsafe { core::ptr::read_volatile(p.as_ptr::<u64>()) };
    // In async mode the read went through: the fault is in TFSR_EL1, and
    // this is where it is found (as at the next kernel entry or exit).
    kasan::check_async_fault("the end of the deliberate use-after-free");
    panic!("the freed allocation was readable (read {:#x}): heap tags are off", v)
}
