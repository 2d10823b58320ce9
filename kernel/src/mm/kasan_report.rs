//! KASAN reports: what a tag-check fault on a heap address, or a refused
//! free, says (Linux's mm/kasan/report.c, print_report), then the panic
//! Linux's kasan tests get from panic_on_warn. Nothing here allocates: a
//! report may come from inside the heap's own work.
//!
//! The self-tests' probes set `expecting`: the report is printed and kept
//! for the probe to check, and the probe goes on instead of panicking.

use core::sync::atomic::{AtomicBool, Ordering};

use crate::sync::{IrqSpinLock, Rank};

use super::kasan::{self, Allocation, BadFree, State, SITES};
use crate::arch::aarch64::mte;
use crate::mm::addr::VirtAddr;

/// What went wrong, in Linux's words (kasan_get_bug_type).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BugKind {
    UseAfterFree,
    OutOfBounds,
    /// A tag matching no allocation there: forged, or a wild pointer.
    InvalidAccess,
    DoubleFree,
    InvalidFree,
}

impl BugKind {
    pub fn name(self) -> &'static str {
        match self {
            BugKind::UseAfterFree => "use-after-free",
            BugKind::OutOfBounds => "slab-out-of-bounds",
            BugKind::InvalidAccess => "invalid-access",
            BugKind::DoubleFree => "double-free",
            BugKind::InvalidFree => "invalid-free",
        }
    }
}

/// One report, as printed.
#[derive(Clone, Copy, Debug)]
pub struct Report {
    pub kind: BugKind,
    /// The address with its pointer tag.
    pub addr: u64,
    /// `Some(true)` for a write, `None` for a free.
    pub write: Option<bool>,
    /// Bytes accessed, when the syndrome says (ESR.ISV).
    pub size: Option<usize>,
    pub ptr_tag: u8,
    /// The memory's tag at `addr`, if it is in the heap.
    pub mem_tag: Option<u8>,
    pub allocation: Option<Allocation>,
    pub pc: u64,
}

static EXPECTING: AtomicBool = AtomicBool::new(false);
static LAST: IrqSpinLock<Option<Report>> = IrqSpinLock::new(Rank::KasanReport, None);

/// Runs `f` with reports expected (the self-test probes): each is printed
/// and kept instead of ending in a panic. Returns `f`'s result and the last
/// report made while it ran.
pub fn expecting<R>(f: impl FnOnce() -> R) -> (R, Option<Report>) {
    *LAST.lock() = None;
    EXPECTING.store(true, Ordering::SeqCst);
    let r = f();
    EXPECTING.store(false, Ordering::SeqCst);
    (r, LAST.lock().take())
}

/// Whether a report now goes on rather than panicking.
pub fn is_expected() -> bool {
    EXPECTING.load(Ordering::Relaxed)
}

fn classify(addr: u64, allocation: Option<&Allocation>) -> BugKind {
    let untagged = VirtAddr::new(addr).with_match_all_tag().as_u64();
    match allocation {
        Some(a) if untagged >= a.start + a.size as u64 => BugKind::OutOfBounds,
        Some(a) if a.state == State::Freed => BugKind::UseAfterFree,
        _ => BugKind::InvalidAccess,
    }
}

/// A synchronous tag-check fault from EL1 at `far` (Linux's
/// report_tag_fault -> kasan_report). `false` if `far` is not a heap
/// address: not the heap's to report (the MTE self-test's probes of the
/// linear map). FAR_EL1[63:60] are UNKNOWN after a tag check fault and
/// are restored from bit 55 (Linux's do_tag_check_fault).
pub fn tag_fault(far: u64, write: bool, size: Option<usize>, pc: u64) -> bool {
    let addr = crate::mm::tagged_addr::tag_check_fault_address(far);
    let va = VirtAddr::new(addr);
    if !kasan::tagging_heap() || !kasan::in_heap(va) {
        return false;
    }
    let allocation = kasan::allocation_at(addr);
    let report = Report {
        kind: classify(addr, allocation.as_ref()),
        addr,
        write: Some(write),
        size,
        ptr_tag: mte::tag_of(va),
        mem_tag: kasan::heap_tag(va.align_down(mte::GRANULE as u64)),
        allocation,
        pc,
    };
    print(&report);
    true
}

/// A free that `kasan::untag_free` refused (Linux's
/// kasan_report_invalid_free). Panics unless a probe expects it.
pub fn bad_free(ptr: *mut u8, why: BadFree, pc: u64) {
    let va = VirtAddr::from_ptr(ptr);
    let allocation = kasan::allocation_at(va.as_u64());
    let report = Report {
        kind: if why == BadFree::Double { BugKind::DoubleFree } else { BugKind::InvalidFree },
        addr: va.as_u64(),
        write: None,
        size: None,
        ptr_tag: mte::tag_of(va),
        mem_tag: kasan::heap_tag(va.align_down(mte::GRANULE as u64)),
        allocation,
        pc,
    };
    print(&report);
    if !is_expected() {
        panic!("KASAN: {} of {:#x} (panic_on_warn)", report.kind.name(), report.addr);
    }
}

/// An asynchronous tag check fault of the kernel's, found in TFSR_EL1 at
/// `when` (kernel entry or exit, a context switch): nothing more is known
/// (Linux's kasan_report_async). Panics.
#[cold]
#[inline(never)]
pub fn async_fault(when: &str) -> ! {
    log::error!("==================================================================");
    log::error!("BUG: KASAN: invalid-access (asynchronous tag check fault, TFSR_EL1.TF1) found at {}", when);
    log::error!("asynchronous mode: no address, no access, no allocation is known");
    log::error!("==================================================================");
    panic!("KASAN: asynchronous tag check fault in the kernel (panic_on_warn)");
}

fn print(r: &Report) {
    let line = "==================================================================";
    log::error!("{}", line);
    log::error!("BUG: KASAN: {} at pc {:#018x}", r.kind.name(), r.pc);
    match (r.write, r.size) {
        (Some(w), Some(n)) => {
            log::error!("{} of size {} at addr {:#018x}", if w { "write" } else { "read" }, n, r.addr)
        }
        (Some(w), None) => log::error!("{} (size unknown) at addr {:#018x}", if w { "write" } else { "read" }, r.addr),
        (None, _) => log::error!("free of addr {:#018x}", r.addr),
    }
    // Linux's "by task NAME/PID".
    if crate::process::has_current() {
        let p = crate::process::current();
        // Its name is under the big kernel lock, which the fault path's
        // fast side (a report can come from there) does not hold.
        if crate::arch::aarch64::kernel_lock::held_here() {
            log::error!("by the kernel, for pid {} ({})", p.pid.0, p.name.borrow());
        } else {
            log::error!("by the kernel, for pid {}", p.pid.0);
        }
    } else {
        log::error!("by the kernel, outside any process (boot, self-tests, the runner)");
    }
    match r.mem_tag {
        Some(m) => log::error!("pointer tag {:#x}, memory tag {:#x}", r.ptr_tag, m),
        None => log::error!("pointer tag {:#x}, memory tag unknown", r.ptr_tag),
    }
    let untagged = VirtAddr::new(r.addr).with_match_all_tag().as_u64();
    match &r.allocation {
        Some(a) => {
            let end = a.start + a.size as u64;
            let (n, how) =
                if untagged >= end { (untagged - end, "to the right of") } else { (untagged - a.start, "inside") };
            log::error!(
                "the address is {} bytes {} the {}-byte allocation [{:#018x}, {:#018x})",
                n,
                how,
                a.size,
                a.start,
                end
            );
            log::error!("state: {}", if a.state == State::Live { "live" } else { "freed" });
            print_sites("allocated at:", &a.alloc_sites);
            if a.state == State::Freed {
                print_sites("freed at:", &a.free_sites);
            }
        }
        None => log::error!("the address is in no allocation the heap has a record of"),
    }
    log::error!("{}", line);
    if is_expected() {
        *LAST.lock() = Some(*r);
    }
}

fn print_sites(what: &str, sites: &[u64; SITES]) {
    log::error!("{}", what);
    for (i, pc) in sites.iter().enumerate().filter(|(_, &pc)| pc != 0) {
        log::error!("  #{} {:#018x}", i, pc);
    }
}
