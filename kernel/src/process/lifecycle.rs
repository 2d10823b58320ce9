//! The process structure, and which one is running. How processes are run,
//! switched, blocked and ended is in scheduler.rs.

use alloc::string::String;
use core::sync::atomic::{AtomicU32, Ordering};

use linux_raw_sys::general::rlimit64;

use super::futex_key::FutexKey;
use super::outcome::Outcome;
pub use super::scheduler::*;
use crate::arch::aarch64::context::TaskContext;
use crate::arch::aarch64::cpu_local::{Current, RunnerContext};
use crate::arch::aarch64::fpsimd::FpState;
use crate::arch::aarch64::mmu::kernel_map::KernelStack;
use crate::arch::aarch64::mte_control::MteControl;
use crate::fs::fd_table::FdTable;
use crate::fs::file::FileRef;
use crate::mm::mmap_lock::MmLock;
use crate::mm::fault::FaultCounters;
use crate::signal::{PendingFault, SignalState};
use crate::sync::kernel_locked::{LockedRef, Mapped};
use crate::sync::{KernelLocked, Rank, SpinLock, SpinLockGuard, TaskOwned};
use alloc::sync::Arc;

/// A descriptor table, shared by the tasks made with CLONE_FILES (Linux's
/// files_struct), behind its lock (rank `FileTable`).
pub type Files = Arc<SpinLock<FdTable<FileRef>>>;

/// A descriptor table of its own for a task.
pub fn new_files(table: FdTable<FileRef>) -> Files {
    Arc::new(SpinLock::new(Rank::FileTable, table))
}

/// A process ID, as getpid() returns it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pid(pub u32);

/// Linux's RLIM_NLIMITS.
pub const RLIMITS: usize = 16;

pub use crate::mm::address_space::Brk;

/// A task. Once admitted (`scheduler::admit`) it is reached only through
/// shared references (`current()`, `scheduler::get`), never `&mut`, so
/// that a task seen from two places (its own CPU and one that signals it,
/// or `current()` beside `get` of its own pid) aliases nothing
/// (docs/smp.md, section 3). Each field is one of:
/// - fixed at creation, atomic or behind its own lock (`tgid`, `kstack`,
///   `faults`, `work`): plain;
/// - `TaskOwned`: read by the fault path's fast side without the big
///   kernel lock, written only by the task itself (or its tracer while it
///   is stopped) under it (`pid`, `mm`, `mte`);
/// - `TaskContext`: the saved kernel context, for the switches only;
/// - `KernelLocked`: everything else, under the big lock with a checked
///   borrow flag (a second borrow beside a mutable one panics).
pub struct Process {
    pub pid: TaskOwned<Pid>,
    /// The program's path, for logs and reports.
    pub name: KernelLocked<String>,
    /// The address space behind its lock, shared by the threads of a
    /// process (CLONE_VM): mm/mmap_lock.rs says which side each use takes.
    pub mm: TaskOwned<Arc<MmLock>>,
    /// Thread-group id: what getpid() returns (the first thread's pid).
    pub tgid: u32,
    pub limits: KernelLocked<[rlimit64; RLIMITS]>,
    /// set_tid_address(): where the thread ID is cleared on exit.
    pub clear_child_tid: KernelLocked<u64>,
    /// set_robust_list(): the head of its held robust futexes, as passed
    /// (0: none); walked when the thread ends (robust_list.rs).
    pub robust_list: KernelLocked<u64>,
    /// The descriptor table, shared by threads (CLONE_FILES).
    pub fdt: KernelLocked<Files>,
    pub faults: FaultCounters,
    /// Address and instruction (FAR, ELR) of the last spurious fault of a
    /// kernel access to user memory in this exception, to end one that
    /// repeats with EFAULT (arch/aarch64/el0_abort.rs).
    pub last_spurious: KernelLocked<Option<(u64, u64)>>,
    /// Boxed: clone builds the new `Process` on its stack, and with the
    /// signal state (2.5 KiB) in it clone's frame and fork's
    /// `SignalState::for_fork` beneath it overflowed the kernel stack.
    pub signals: KernelLocked<alloc::boxed::Box<SignalState>>,
    /// Tag-check control set by prctl: this thread's own, as in Linux.
    pub mte: TaskOwned<MteControl>,
    /// The fault behind a pending forced signal: its report, ESR and
    /// address, from the exception until the signal is delivered.
    pub pending_fault: KernelLocked<PendingFault>,
    /// An asynchronous tag check fault was seen (TFSRE0_EL1.TF0) and is
    /// raised as SIGSEGV/SEGV_MTEAERR on the way back to EL0.
    pub mte_async_fault: KernelLocked<bool>,
    /// The name prctl(PR_SET_NAME) gives, NUL-padded.
    pub comm: KernelLocked<[u8; 16]>,
    /// TPIDR_EL0, the EL0 thread pointer, while the process is not running.
    pub tls: KernelLocked<u64>,
    pub started_at: KernelLocked<u64>,
    pub(crate) kstack: KernelStack,
    pub(crate) context: TaskContext,
    pub fp: KernelLocked<FpState>,
    pub(crate) outcome: KernelLocked<Option<Outcome>>,
    /// The parent's pid; 0 is the runner (Linux's init). Changed only
    /// through `scheduler::set_parent`, which keeps the table's index of
    /// children (pid_table.rs).
    pub parent: KernelLocked<u32>,
    pub state: KernelLocked<State>,
    /// For a sleeping process: the counter value to wake it at.
    pub wake_at: KernelLocked<Option<u64>>,
    /// A signal woke it from a blocking system call: that call returns EINTR
    /// or a restart code (signal/deliver.rs decides).
    pub interrupted: KernelLocked<bool>,
    /// Inside `wait_queue::wait_until`, asleep or woken and not yet back:
    /// its system call holds references on its kernel stack, so a process
    /// that ends lets it unwind rather than dropping it (exit_group, exec).
    pub in_wait: KernelLocked<bool>,
    /// The signal the parent gets at exit (clone's low byte, SIGCHLD).
    pub exit_signal: KernelLocked<u32>,
    /// What a futex wait sleeps on (futex_key.rs). Cleared by the waker;
    /// still set after a wake-up means the wait timed out.
    pub futex_key: KernelLocked<Option<FutexKey>>,
    /// Made by clone(CLONE_VFORK): the thread that sleeps until this one
    /// execs or exits (Linux's vfork_done).
    pub vfork_parent: KernelLocked<Option<u32>>,
    /// Its tracer, and the state of a ptrace-stop (ptrace.rs). The tracer
    /// changes only through `scheduler::set_tracer` (the table's index of
    /// tracees).
    pub ptrace: KernelLocked<super::ptrace::Tracing>,
    /// The CPU running it, from the runner's switch into it until that
    /// runner has its context saved again (Linux's task->on_cpu): at EL0
    /// there, in the kernel there, or waiting for the kernel lock at an
    /// entry. Its kernel stack is in use: no other CPU resumes it, ends it
    /// in its place or frees it (scheduler.rs).
    pub on_cpu: KernelLocked<Option<usize>>,
    /// The CPU whose timer ends its timed wait (`wake_at`): the one it
    /// blocked on (scheduler.rs: `block`, Linux's hrtimer on the CPU that
    /// started it).
    pub timer_cpu: KernelLocked<usize>,
    /// The CPUs it may run on (sched_setaffinity; Linux's cpus_mask),
    /// inherited by clone and kept by exec.
    pub affinity: KernelLocked<super::cpu_mask::CpuMask>,
    /// Set by another CPU that changed what the task's next return to EL0
    /// must look at (task_work.rs), read without the kernel lock by the
    /// fault path's fast side.
    pub work: super::task_work::TaskWork,
}

/// What the table of tasks indexes (pid_table.rs).
impl super::pid_table::Task for Process {
    fn tid(&self) -> u32 {
        self.pid.0
    }
    fn set_tid(&self, tid: u32) {
        self.pid.replace(Pid(tid));
    }
    fn tgid(&self) -> u32 {
        self.tgid
    }
    fn parent(&self) -> u32 {
        self.parent.get()
    }
    fn set_parent(&self, parent: u32) {
        self.parent.set(parent);
    }
    fn tracer(&self) -> Option<u32> {
        self.ptrace.borrow().tracer
    }
    fn set_tracer(&self, tracer: Option<u32>) {
        self.ptrace.borrow_mut().tracer = tracer;
    }
}

impl Process {
    /// The descriptor table, locked (Linux's files->file_lock): for a
    /// look-up, an insert or a removal that neither blocks, yields, copies
    /// from or to user memory nor switches (the lock-order checker refuses
    /// a switch with it held). Callers take the `FileRef` out (an `Arc`)
    /// and let the guard go, as Linux's fget does, so another thread of
    /// the table on another CPU never sees it half changed.
    #[track_caller]
    pub fn files(&self) -> Mapped<'_, SpinLockGuard<'_, FdTable<FileRef>>> {
        LockedRef::map(self.fdt.borrow(), |fdt| fdt.lock())
    }

    /// Whether this is the first thread of its process.
    pub fn is_leader(&self) -> bool {
        self.pid.0 == self.tgid
    }
}

/// Where a process is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Runnable,
    Running,
    /// In wait4 for a child.
    WaitingForChild,
    /// In nanosleep until `wake_at`.
    Sleeping,
    /// In futex wait on `futex_key` (until `wake_at`, if set).
    WaitingForFutex,
    /// In clone(CLONE_VFORK) until the child execs or exits.
    WaitingForVfork,
    /// In a ptrace-stop until its tracer resumes it (or SIGKILL).
    Traced,
    /// On wait queues (a pipe, ppoll, pselect6), until woken, a signal, or
    /// `wake_at` if set (wait_queue.rs).
    Waiting,
    /// Exited; kept until its parent (or the runner) reaps it.
    Zombie,
}

/// The runner's context while a process runs (one per CPU: cpu_local.rs).
pub(super) static RUNNER: RunnerContext = RunnerContext;
pub(super) static CURRENT: Current<Process> = Current::new();
static NEXT_PID: AtomicU32 = AtomicU32::new(1);

pub fn next_pid() -> Pid {
    Pid(NEXT_PID.fetch_add(1, Ordering::Relaxed))
}

/// The process running at EL0, for system calls and faults.
///
/// Must be called only while a process runs (from its system calls, faults
/// and interrupts); the reference must not outlive that call. Shared, as
/// every `&Process` once the task is admitted: what may change is in
/// cells (`KernelLocked`, `TaskOwned`), so a second `current()`, or
/// `get` of the same pid, aliases nothing. Always
/// inlined: three instructions, which the fault path takes several times
/// (left to the compiler, it was called out of line whenever the inlining
/// budget of handle_exception ran short).
#[inline(always)]
pub fn current() -> &'static Process {
    CURRENT.get().expect("no current process")
}

/// `current` on `cpu`, the caller's CPU as it just read it (exception.rs:
/// the entry from EL0 reads TPIDR_EL1 once).
#[inline(always)]
pub fn current_here(cpu: &crate::arch::aarch64::cpu_local::CpuData) -> &'static Process {
    CURRENT.get_here(cpu).expect("no current process")
}

/// `current_here`, for the fault path's fast side, which runs without the
/// kernel lock while other CPUs may change the task under it: it reads
/// only what the task alone writes (`mm`, `mte`, `pid`: `TaskOwned`) and
/// atomics (`work`, `faults`); every `KernelLocked` field would panic
/// there.
#[inline(always)]
pub fn current_unlocked(cpu: &crate::arch::aarch64::cpu_local::CpuData) -> &'static Process {
    current_here(cpu)
}

/// The kernel stack of the running process, for backtraces.
pub fn current_kernel_stack() -> Option<core::ops::Range<u64>> {
    has_current().then(|| current().kstack.range())
}

/// Whether a process is running (false during boot and in the runner).
pub fn has_current() -> bool {
    CURRENT.is_set()
}
