//! The process structure and its life: started by the runner, running at
//! EL0, ended by exit or a fatal signal.

use alloc::string::String;
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicPtr, AtomicU32, Ordering};

use linux_raw_sys::general::rlimit64;

use crate::arch::aarch64::context::{switch_context, KernelContext};
use crate::arch::aarch64::fpsimd::FpState;
use crate::arch::aarch64::mmu::kernel_map::KernelStack;
use crate::arch::aarch64::timer;
use crate::arch::aarch64::mte_control::MteControl;
use crate::fs::fd_table::FdTable;
use crate::signal::SignalState;
use crate::fs::file::FileRef;
use crate::mm::address_space::AddressSpace;
use crate::mm::fault::FaultCounters;
use crate::mm::addr::VirtAddr;
use super::outcome::Outcome;

/// A process ID, as getpid() returns it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pid(pub u32);

/// Linux's RLIM_NLIMITS.
pub const RLIMITS: usize = 16;

/// The program break: `[start, end)` is the heap brk() manages.
#[derive(Clone, Copy, Debug)]
pub struct Brk {
    pub start: VirtAddr,
    pub end: VirtAddr,
}

pub struct Process {
    pub pid: Pid,
    /// The program's path, for logs and reports.
    pub name: String,
    pub space: AddressSpace,
    pub brk: Brk,
    pub limits: [rlimit64; RLIMITS],
    /// set_tid_address(): where the thread ID is cleared on exit.
    pub clear_child_tid: u64,
    pub files: FdTable<FileRef>,
    pub faults: FaultCounters,
    /// Page number of the last spurious fault, to catch one that repeats.
    pub last_spurious: Option<u64>,
    pub signals: SignalState,
    /// Tag-check control set by prctl (per thread in Linux; one thread here).
    pub mte: MteControl,
    /// The one-line report of the fault behind a pending forced signal,
    /// printed if that signal ends the process.
    pub fault_report: Option<String>,
    /// ESR_EL1 of that fault, for the signal frame's esr_context.
    pub fault_esr: Option<u64>,
    /// The name prctl(PR_SET_NAME) gives, NUL-padded.
    pub comm: [u8; 16],
    /// The counter value at which the time limit kills the process.
    pub deadline: Option<u64>,
    pub started_at: u64,
    pub(super) kstack: KernelStack,
    pub(super) context: KernelContext,
    pub fp: FpState,
    pub(super) outcome: Option<Outcome>,
}

/// State only the boot CPU touches, with interrupts masked.
struct CpuLocal<T>(UnsafeCell<T>);
// SAFETY: one CPU; the kernel is never interrupted (DAIF masked at EL1).
unsafe impl<T> Sync for CpuLocal<T> {}

/// The runner's context while a process runs.
static RUNNER: CpuLocal<KernelContext> = CpuLocal(UnsafeCell::new(KernelContext::zeroed()));
static CURRENT: AtomicPtr<Process> = AtomicPtr::new(core::ptr::null_mut());
static NEXT_PID: AtomicU32 = AtomicU32::new(1);

pub(super) fn next_pid() -> Pid {
    Pid(NEXT_PID.fetch_add(1, Ordering::Relaxed))
}

/// The process running at EL0, for system calls and faults.
///
/// Must be called only while a process runs (from its system calls, faults
/// and interrupts); the reference must not outlive that call.
pub fn current() -> &'static mut Process {
    let p = CURRENT.load(Ordering::Relaxed);
    assert!(!p.is_null(), "no current process");
    // SAFETY: set by `run` for the lifetime of the process's execution on
    // this CPU; the kernel is not reentered while a handler holds it.
    unsafe { &mut *p }
}

/// The kernel stack of the running process, for backtraces.
pub fn current_kernel_stack() -> Option<core::ops::Range<u64>> {
    has_current().then(|| current().kstack.range())
}

/// Whether a process is running (false during boot and in the runner).
pub fn has_current() -> bool {
    !CURRENT.load(Ordering::Relaxed).is_null()
}

/// Runs `process` at EL0 until it ends, and returns how it ended.
/// What the runner reports about a finished process.
pub struct Report {
    pub outcome: Outcome,
    pub elapsed_ns: u64,
    pub faults: FaultCounters,
    pub peak_frames: usize,
}

pub fn run(mut process: alloc::boxed::Box<Process>, time_limit_ns: u64) -> Report {
    let start = timer::ticks();
    process.started_at = start;
    let deadline = start + timer::ns_to_ticks(time_limit_ns);
    process.deadline = Some(deadline);
    process.space.activate();
    process.fp.restore();
    process.mte.install();
    timer::arm_at(deadline);
    CURRENT.store(&mut *process, Ordering::Relaxed);
    // SAFETY: the process's context was made by `new_user_entry` on its own
    // live kernel stack; RUNNER stays valid, and the process switches back to
    // it exactly once, in `exit_current`.
    unsafe { switch_context(RUNNER.0.get(), &process.context) };
    CURRENT.store(core::ptr::null_mut(), Ordering::Relaxed);
    timer::disarm();
    crate::arch::aarch64::mmu::user_tables::uninstall();
    let elapsed_ns = timer::ticks_to_ns(timer::ticks() - start);
    let outcome = process.outcome.take().unwrap_or(Outcome::NotStarted("no outcome recorded".into()));
    Report { outcome, elapsed_ns, faults: process.faults, peak_frames: process.space.owned_frames().1 }
}

/// Ends the current process with `outcome` and resumes the runner.
pub fn exit_current(outcome: Outcome) -> ! {
    let p = current();
    log::info!("pid {} ({}) {}", p.pid.0, p.name, outcome);
    p.outcome = Some(outcome);
    // The FP/SIMD registers belong to this process until another one runs.
    p.fp.save();
    // SAFETY: RUNNER holds the context saved by `run`, whose stack (the boot
    // stack) is alive; this process's context is never resumed.
    unsafe { switch_context(&mut p.context, RUNNER.0.get()) };
    unreachable!("an exited process was resumed")
}

/// The timer fired at EL0: stop the process if its time is up, else re-arm.
pub fn on_timer_interrupt() {
    let p = current();
    match p.deadline {
        Some(deadline) if timer::ticks() >= deadline => {
            let limit_ms = timer::ticks_to_ns(deadline - p.started_at) / 1_000_000;
            exit_current(Outcome::TimeLimit { limit_ms })
        }
        Some(deadline) => timer::arm_at(deadline),
        None => timer::disarm(),
    }
}
