//! The boot-time switches every entry from EL0 and its return test, kept
//! in one byte that the entry reads once and passes down: MTE tagging,
//! the heap's tag check mode (mm/kasan.rs), `trace=faults` (mm/fault.rs)
//! and the fault-cost measurement (fault_cost.rs). Each was a load of its
//! own flag, with its address, at every test (four to six per fault);
//! Linux patches the same tests into the code as static keys
//! (system_supports_mte(), kasan_hw_tags_enabled(), tracepoints).
//!
//! The flags themselves stay where they are, the truth for everything
//! else; each one's setter calls [`refresh`], so this byte follows them.
//! All are set at boot, before the first entry from EL0 on any CPU.

use core::sync::atomic::{AtomicU8, Ordering};

/// The switches, as one entry read them.
#[derive(Clone, Copy)]
pub struct EntryWork(u8);

const TAGGING: u8 = 1 << 0;
const HEAP_CHECKS: u8 = 1 << 1;
const HEAP_ASYNC: u8 = 1 << 2;
const FAULT_TRACE: u8 = 1 << 3;
const FAULT_COST: u8 = 1 << 4;

impl EntryWork {
    /// `mte::tagging_enabled()`.
    #[inline(always)]
    pub fn tagging(self) -> bool {
        self.0 & TAGGING != 0
    }

    /// The heap is tagged and its tags checked: `kasan::mode()` is not Off.
    #[inline(always)]
    pub fn heap_checks(self) -> bool {
        self.0 & HEAP_CHECKS != 0
    }

    /// The heap's checks record into TFSR_EL1 (async or asymmetric mode):
    /// `kasan::check_async_fault_in` has something to look at.
    #[inline(always)]
    pub fn heap_async(self) -> bool {
        self.0 & HEAP_ASYNC != 0
    }

    /// `trace=faults`: `fault::tracing()`.
    #[inline(always)]
    pub fn fault_trace(self) -> bool {
        self.0 & FAULT_TRACE != 0
    }

    /// `bench`: `fault_cost` measures every fault.
    #[inline(always)]
    pub fn fault_cost(self) -> bool {
        self.0 & FAULT_COST != 0
    }
}

static WORK: AtomicU8 = AtomicU8::new(0);

/// The switches now, for one entry from EL0 (or a first return to it).
#[inline(always)]
pub fn read() -> EntryWork {
    EntryWork(WORK.load(Ordering::Relaxed))
}

/// Recomputes the byte from the flags; called by each flag's setter.
pub fn refresh() {
    use crate::mm::kasan::{self, Mode};

    let mut work = 0;
    if super::mte::tagging_enabled() {
        work |= TAGGING;
    }
    match kasan::mode() {
        Mode::Off => {}
        Mode::Sync => work |= HEAP_CHECKS,
        Mode::Async | Mode::Asymm => work |= HEAP_CHECKS | HEAP_ASYNC,
    }
    if crate::mm::fault::tracing() {
        work |= FAULT_TRACE;
    }
    if crate::fault_cost::enabled() {
        work |= FAULT_COST;
    }
    WORK.store(work, Ordering::Relaxed);
}
