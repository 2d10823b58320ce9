//! Every lock of the kernel, in the one order they may be taken, and the
//! run-time check of that order.
//!
//! A CPU may take a lock only if its [`Rank`] is above the rank of every
//! lock it already holds: outermost first, as listed below. Two locks of
//! one rank (two pipes' rings, two CPUs' frame caches) are never held
//! together. Taking a lock out of order, or releasing one this CPU does not
//! hold, panics with both locks' names and where each was taken (Linux's
//! lockdep reports the same pair of stacks; here a rank replaces its
//! dependency graph, so a wrong order is caught the first time it runs, not
//! only when two CPUs race). The held set is per CPU (`HeldLocks`, in
//! `CpuData`), a bit a rank: the check is a load, a shift and a store, about
//! 20 instructions for a lock and its release with the site recorded.
//!
//! The check is the kernel crate's `lock-order` feature, on by default: in
//! `make test`, `make qemu`, `make run` and `make kselftest`. `make bench`
//! builds without it (5% of a zero-fill fault's instructions, more than the
//! figures may move), as Linux's lockdep is a debug option; then every
//! function here but `holds` does nothing and `holds` says false.
//!
//! `Rank::irq` says which locks the interrupt handler takes: those are
//! `IrqSpinLock`s (interrupts masked while held, so the handler cannot
//! interrupt a holder on its own CPU and spin on it forever), the others
//! `SpinLock`s or `RwLock`s. Each constructor refuses the other kind, at
//! compile time for a static.
//!
//! Only the kernel lock may be held across a context switch
//! ([`assert_none_held_except`], called by `switch_context`): a spin lock
//! held by a task that is switched out would stop every other CPU that
//! wants it until that task runs again.

use core::fmt;
use core::panic::Location;

#[cfg(feature = "lock-order")]
use super::held_locks::HeldLocks;
use super::held_locks::OrderViolation;

/// The kernel's locks, outermost first; the discriminant is the rank.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum Rank {
    /// The big kernel lock (process/kernel_lock.rs): every entry from EL0
    /// until its eret; the only lock held across a context switch.
    KernelLock,
    /// An open file's offset (fs/file.rs: `OpenFile::pos`), held across
    /// the read, write or getdents it positions.
    FilePosition,
    /// A /proc file's text, generated at the first read (fs/procfs).
    ProcfsText,
    /// A descriptor table, shared by CLONE_FILES (process/lifecycle.rs:
    /// `Files`, Linux's files->file_lock): held for a look-up, an insert or
    /// a removal, never across a block, a yield, a user copy or a switch;
    /// the `FileRef` is taken out and the lock let go. After the /proc
    /// text, which /proc/<pid>/status generates from it; before what a
    /// file's last reference takes when it drops under it (close_range,
    /// exec's close-on-exec: a pipe's ring and wait queue) and before the
    /// address space's lock.
    FileTable,
    /// A pipe's ring of page buffers and its reader and writer counts
    /// (fs/pipe.rs).
    PipeRing,
    /// A wait queue's list of sleeping tasks (process/wait_queue.rs).
    WaitQueue,
    /// A signal handler table shared by CLONE_SIGHAND (signal/mod.rs:
    /// Linux's sighand->siglock for the actions).
    SignalActions,
    /// A thread group's shared pending signals (signal/mod.rs).
    SignalPending,
    /// An address space (mm/mmap_lock.rs: `MmLock`, Linux's mmap_lock):
    /// shared or exclusive. After every lock a system call may hold across
    /// a copy to or from user memory (a file's position, a /proc text, a
    /// pipe's ring: Linux's i_rwsem before mmap_lock), since a kernel
    /// access to user memory faults and takes it; the fault takes the
    /// shared pages, the frame pool, the ASIDs... after it.
    MmapLock,
    /// The tasks inside a populate of one address space (mm/mmap_lock.rs:
    /// `MmLock::populating`), taken with the space's lock held or alone.
    Populating,
    /// The tmpfs directory: name to file (fs/tmpfs.rs: `FILES`). After the
    /// space's lock: /proc's maps names a file mapping under it (Linux's
    /// d_path under mmap_lock); never held across a user copy.
    TmpfsDir,
    /// One tmpfs file's size (fs/tmpfs.rs: `TmpFile::size`): never held
    /// across a user copy either.
    TmpfsSize,
    /// The frames of a MAP_SHARED object or tmpfs file, by page index
    /// (mm/shared_memory.rs).
    SharedPages,
    /// The page-table lock of one level-3 table (mm/page_table_lock.rs,
    /// Linux's split PTE ptlock): a fault's compare and write of a leaf
    /// entry under the shared side of the space's lock; frames are
    /// allocated and filled before it, and may be freed under it.
    PageTableLock,
    /// Device ranges already mapped (arch/aarch64/mmio.rs: `CLAIMED`).
    MmioClaimed,
    /// The kernel's page tables and its stack window
    /// (arch/aarch64/mmu/kernel_map.rs: `KERNEL_SPACE`).
    KernelSpace,
    /// The ASID allocator (arch/aarch64/mmu/user_tables.rs: `ASIDS`).
    Asids,
    /// The per-path fault costs `bench` collects (fault_cost.rs).
    FaultCost,
    /// The run queue (process/run_queue.rs, Linux's rq->lock): the pids of
    /// the tasks ready to run, shared by every CPU. Taken when a task is
    /// queued (a wake-up, a new task, a yield, a preemption from the timer
    /// interrupt's path) and when a runner picks one, always with the big
    /// kernel lock held (the big lock first, never after: a CPU spinning
    /// on the big lock with this one held would stop every runner), and
    /// with interrupts masked, since the timer's path takes it. Held for
    /// one queue operation only, never across a context switch, a yield
    /// or a block; what the owner looks at of a task meanwhile is read
    /// from its `KernelLocked` cells under the big lock, and nothing but
    /// the heap (a queue growing) is taken under it.
    RunQueue,
    /// One CPU's cache of free frames (mm/frame_cache.rs); its own CPU
    /// takes it, another only to drain it when the pool runs dry.
    FrameCache,
    /// The frame pool: buddy lists, its cache and the counts (mm/frame.rs).
    FramePool,
    /// The vDSO's timekeeping data (vdso/mod.rs: `TIMEKEEPER`).
    Timekeeper,
    /// The last KASAN report, for the self-tests (mm/kasan_report.rs).
    KasanReport,
    /// Console output and the early log buffer (console.rs).
    Console,
    /// The kernel heap's hole list (mm/heap.rs): innermost, since code
    /// under any other lock may allocate.
    Heap,
}

impl Rank {
    /// Every rank, outermost first.
    pub const ALL: [Rank; 25] = [
        Rank::KernelLock,
        Rank::FilePosition,
        Rank::ProcfsText,
        Rank::FileTable,
        Rank::PipeRing,
        Rank::WaitQueue,
        Rank::SignalActions,
        Rank::SignalPending,
        Rank::MmapLock,
        Rank::Populating,
        Rank::TmpfsDir,
        Rank::TmpfsSize,
        Rank::SharedPages,
        Rank::PageTableLock,
        Rank::MmioClaimed,
        Rank::KernelSpace,
        Rank::Asids,
        Rank::FaultCost,
        Rank::RunQueue,
        Rank::FrameCache,
        Rank::FramePool,
        Rank::Timekeeper,
        Rank::KasanReport,
        Rank::Console,
        Rank::Heap,
    ];

    /// The rank as a bit index (0 outermost).
    #[inline(always)]
    pub const fn index(self) -> u32 {
        self as u32
    }

    /// Whether the interrupt handler (irq.rs: `handle`, before it hands
    /// over to the scheduler) takes this lock, directly or through what it
    /// calls: logging, the heap and what the heap reports, the
    /// frame allocator (whose per-CPU cache is per CPU only if its CPU's
    /// interrupt cannot come between two steps), timekeeping, and the run
    /// queue (a preemption at the timer's interrupt queues the task).
    pub const fn irq(self) -> bool {
        matches!(
            self,
            Rank::RunQueue
                | Rank::FrameCache
                | Rank::FramePool
                | Rank::Timekeeper
                | Rank::KasanReport
                | Rank::Console
                | Rank::Heap
        )
    }
}

impl fmt::Display for Rank {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{:?} (rank {})", self, self.index())
    }
}

/// This CPU's held set.
#[cfg(all(target_os = "none", feature = "lock-order"))]
#[inline(always)]
fn held() -> &'static HeldLocks {
    crate::arch::aarch64::cpu_local::this_cpu().held_locks()
}

/// On the host each test thread is a CPU of its own.
#[cfg(all(not(target_os = "none"), feature = "lock-order"))]
fn held() -> &'static HeldLocks {
    std::thread_local!(static HELD: &'static HeldLocks = std::boxed::Box::leak(std::boxed::Box::new(HeldLocks::new())));
    HELD.with(|h| *h)
}

/// The check a lock makes before it spins: `Err` (nothing recorded) if
/// `rank` may not be taken now; otherwise `rank` counts as held on this CPU.
#[inline(always)]
pub fn try_acquire(rank: Rank, site: &'static Location<'static>) -> Result<(), OrderViolation> {
    // Every lock taken is a mark of where this CPU is, for the kernel
    // lock's watchdog on another CPU (arch/aarch64/breadcrumb.rs).
    #[cfg(all(target_os = "none", feature = "lock-order"))]
    crate::arch::aarch64::cpu_local::this_cpu().breadcrumb().mark(site);
    #[cfg(feature = "lock-order")]
    return held().acquire(rank, site);
    #[cfg(not(feature = "lock-order"))]
    {
        let _ = (rank, site);
        Ok(())
    }
}

/// Whether the order is checked in this build.
pub const CHECKED: bool = cfg!(feature = "lock-order");

/// [`try_acquire`], panicking on a violation: what every lock calls.
#[inline(always)]
pub fn acquire(rank: Rank, site: &'static Location<'static>) {
    if let Err(v) = try_acquire(rank, site) {
        violated(v)
    }
}

/// Panics if a lock of `rank` could not be taken here: for code that may
/// take it without always doing so. A copy to or from user memory calls it
/// for the address space's lock (mm/uaccess.rs: `might_fault`, Linux's
/// __might_fault), so a copy made with that lock or an inner one held is
/// reported even when the page is there and nothing faults.
#[inline(always)]
#[track_caller]
pub fn might_acquire(rank: Rank) {
    #[cfg(feature = "lock-order")]
    if let Err(v) = held().may_acquire(rank, Location::caller()) {
        violated(v)
    }
    #[cfg(not(feature = "lock-order"))]
    let _ = rank;
}

/// A lock taken and released by hand rather than through a guard (the
/// kernel lock, held across a context switch): call after taking it.
#[track_caller]
pub fn acquired(rank: Rank) {
    acquire(rank, Location::caller())
}

/// The lock of `rank` was let go on this CPU. Panics if this CPU did not
/// hold it.
#[inline(always)]
#[track_caller]
pub fn released(rank: Rank) {
    #[cfg(feature = "lock-order")]
    if let Err(v) = held().release(rank, Location::caller()) {
        violated(v)
    }
    #[cfg(not(feature = "lock-order"))]
    let _ = rank;
}

/// Whether this CPU holds a lock of `rank`.
pub fn holds(rank: Rank) -> bool {
    #[cfg(feature = "lock-order")]
    return held().holds(rank);
    #[cfg(not(feature = "lock-order"))]
    {
        let _ = rank;
        false
    }
}

/// `Err` naming a held lock unless `allowed` is the only rank this CPU
/// holds: what `switch_context` checks (for the self-tests).
#[track_caller]
pub fn check_none_held_except(allowed: Rank) -> Result<(), OrderViolation> {
    #[cfg(feature = "lock-order")]
    return held().none_held_except(allowed, Location::caller());
    #[cfg(not(feature = "lock-order"))]
    {
        let _ = allowed;
        Ok(())
    }
}

/// Panics unless `allowed` is the only rank this CPU may hold: called where
/// the CPU switches context (arch/aarch64/context.rs: `switch_context`).
#[inline(always)]
#[track_caller]
pub fn assert_none_held_except(allowed: Rank) {
    #[cfg(feature = "lock-order")]
    if let Err(v) = held().none_held_except(allowed, Location::caller()) {
        violated(v)
    }
    #[cfg(not(feature = "lock-order"))]
    let _ = allowed;
}

#[cold]
#[inline(never)]
fn violated(v: OrderViolation) -> ! {
    panic!("{}", v)
}
