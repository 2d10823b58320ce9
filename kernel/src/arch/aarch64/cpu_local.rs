//! Per-CPU data, found through TPIDR_EL1, and values only their own CPU
//! touches.
//!
//! Each CPU's TPIDR_EL1 points at its own [`CpuData`] (Linux keeps its
//! per-CPU offset there too: `set_my_cpu_offset`, arch/arm64/include/asm/
//! percpu.h): the running task and the runner's context ([`Current`]), the
//! exception frame being handled, and the overflow stack vectors.S switches
//! to. The boot CPU sets its register first thing in `kernel_main`; a
//! secondary's is set by start.S before it runs any Rust (smp.rs).
//!
//! [`CpuLocal`] is the other rule: a value that only its own CPU touches,
//! through a raw pointer (the runner's saved context, `RunnerContext`).
//! It hands out no reference: the `&mut T` from `&self` that its `get`
//! gave was how the scheduler's table came to alias (two `table()` calls
//! of one CPU, one beneath the other), and went with it. The scheduler's
//! state is in locks and atomics now (process/scheduler.rs: the task table
//! behind a checked borrow flag under the big lock, the run queue behind
//! its own lock, per-CPU atomics for the slice); `Current::get` (so
//! `process::current()`) returns a shared `&T`, and what may change of a
//! task is in cells that check the big lock and a borrow flag
//! (sync/kernel_locked.rs, sync/task_owned.rs); the switches into and out
//! of a task go through raw pointers to its saved context
//! (context.rs: `TaskContext`) and to the runner's slot.

use core::cell::UnsafeCell;
use core::marker::PhantomData;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicU8, Ordering};

use super::context::{switch_context, KernelContext, TaskContext};
use crate::drivers::gic_v2::CpuTargets;
use super::trap_frame::TrapFrame;
use super::breadcrumb::Breadcrumb;
use crate::sync::held_locks::HeldLocks;

/// The most CPUs the kernel brings up (`-smp 8`); more in the device tree
/// are reported and left off.
pub const MAX_CPUS: usize = 8;

/// Where a CPU is in its bring-up (smp.rs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum CpuState {
    /// Not started (or CPU_ON refused).
    Off = 0,
    /// CPU_ON succeeded; the CPU has not reported yet.
    Starting = 1,
    /// Its per-CPU setup is done; it runs the scheduler's loop.
    Online = 2,
    /// The boot CPU: boot, the test runner, and tasks as every CPU.
    Boot = 3,
    /// Stopped for good by [`Ipi::Stop`](super::ipi::Ipi) (or by its own
    /// panic while another CPU's was under way): interrupts masked, WFI.
    Stopped = 4,
}

impl CpuState {
    /// Whether the CPU is up and takes interrupts: it may be sent an IPI.
    /// Every state named, no wildcard: a state added later (a secondary
    /// that runs tasks) must be placed here, or `send_ipi` would refuse it
    /// and a wake-up's Reschedule would be lost.
    pub fn is_online(self) -> bool {
        match self {
            Self::Boot | Self::Online => true,
            Self::Off | Self::Starting | Self::Stopped => false,
        }
    }
}

/// One CPU's own data. `repr(C)`: the first two fields are read from
/// assembly by offset (vectors.S, boot/start.S).
#[repr(C)]
pub struct CpuData {
    /// Top of this CPU's overflow stack (offset 0: vectors.S).
    overflow_stack_top: AtomicU64,
    /// A secondary's initial stack pointer (offset 8: start.S).
    boot_stack_top: AtomicU64,
    /// The bottom of that stack (for backtraces); 0 on the boot CPU,
    /// whose stack is the image's (kernel_map::boot_stack).
    boot_stack_bottom: AtomicU64,
    /// Index in [`CPU_DATA`], the kernel's CPU number.
    index: usize,
    /// MPIDR_EL1 affinity fields (Aff3..Aff0), as the device tree names it.
    mpidr: AtomicU64,
    state: AtomicU8,
    /// Exception level the CPU entered the kernel at (1, or 2).
    entry_el: AtomicU8,
    /// ID_AA64PFR1_EL1.MTE as this CPU reads it.
    mte_level: AtomicU8,
    /// Its MIDR_EL1 (/proc/cpuinfo's block for this CPU).
    midr: AtomicU64,
    /// The exception frame being handled here, for the panic report.
    current_frame: AtomicPtr<TrapFrame>,
    /// The task running here ([`Current`]).
    current_task: AtomicPtr<()>,
    /// The runner's context while a task runs here.
    runner: CpuLocal<KernelContext>,
    /// Set while the frame allocator runs here (mm/heap.rs).
    in_frame_allocator: AtomicBool,
    /// This CPU's own GIC CPU interface bit (GICD_ITARGETSR, read on the
    /// CPU at its bring-up: irq.rs); 0 until then. Where its IPIs go.
    gic_targets: AtomicU8,
    /// A Reschedule IPI came: the scheduler should run (ipi.rs).
    need_resched: AtomicBool,
    /// Reschedule IPIs taken here, for the self-tests.
    reschedules_taken: AtomicU64,
    /// Which of its private interrupts (INTIDs 0..31) the GIC forwards to
    /// it, read back from its banked GICD_ISENABLER0 at its GIC bring-up
    /// (irq.rs), for the self-tests.
    private_irqs_enabled: AtomicU32,
    /// The locks this CPU holds (sync/lock_order.rs).
    held_locks: HeldLocks,
    /// Faults from EL0 resolved here without the kernel lock
    /// (el0_abort.rs: `resolve_without_lock`) in the low half, how many of
    /// them while another CPU held it in the high half: one word, so that
    /// counting is one load, one add and one store. Written only by this
    /// CPU, read by the runner's report. Each half wraps after 2^32.
    fast_faults: AtomicU64,
    /// Where this CPU was last seen in kernel code (breadcrumb.rs), for
    /// the kernel lock's watchdog on another CPU.
    breadcrumb: Breadcrumb,
}

const _: () = assert!(core::mem::offset_of!(CpuData, overflow_stack_top) == 0);
const _: () = assert!(core::mem::offset_of!(CpuData, boot_stack_top) == 8);

impl CpuData {
    const fn new(index: usize) -> Self {
        Self {
            overflow_stack_top: AtomicU64::new(0),
            boot_stack_top: AtomicU64::new(0),
            boot_stack_bottom: AtomicU64::new(0),
            index,
            mpidr: AtomicU64::new(0),
            state: AtomicU8::new(CpuState::Off as u8),
            entry_el: AtomicU8::new(0),
            mte_level: AtomicU8::new(0),
            midr: AtomicU64::new(0),
            current_frame: AtomicPtr::new(core::ptr::null_mut()),
            current_task: AtomicPtr::new(core::ptr::null_mut()),
            runner: CpuLocal::new(KernelContext::zeroed()),
            in_frame_allocator: AtomicBool::new(false),
            gic_targets: AtomicU8::new(0),
            need_resched: AtomicBool::new(false),
            reschedules_taken: AtomicU64::new(0),
            private_irqs_enabled: AtomicU32::new(0),
            held_locks: HeldLocks::new(),
            fast_faults: AtomicU64::new(0),
            breadcrumb: Breadcrumb::new(),
        }
    }

    pub fn index(&self) -> usize {
        self.index
    }

    pub fn mpidr(&self) -> u64 {
        self.mpidr.load(Ordering::Relaxed)
    }

    pub fn state(&self) -> CpuState {
        match self.state.load(Ordering::Acquire) {
            1 => CpuState::Starting,
            2 => CpuState::Online,
            3 => CpuState::Boot,
            4 => CpuState::Stopped,
            _ => CpuState::Off,
        }
    }

    pub fn entry_el(&self) -> u8 {
        self.entry_el.load(Ordering::Relaxed)
    }

    pub fn mte_level(&self) -> u8 {
        self.mte_level.load(Ordering::Relaxed)
    }

    /// The MIDR_EL1 this CPU read when it came up.
    pub fn midr(&self) -> u64 {
        self.midr.load(Ordering::Relaxed)
    }

    /// This CPU's stack outside any task: the boot stack for CPU 0, the
    /// one smp.rs gave a secondary.
    pub fn boot_stack(&self) -> core::ops::Range<u64> {
        match self.boot_stack_bottom.load(Ordering::Relaxed) {
            0 => super::mmu::kernel_map::boot_stack(),
            bottom => bottom..self.boot_stack_top.load(Ordering::Relaxed),
        }
    }

    /// The overflow stack vectors.S switches to on this CPU.
    pub fn overflow_stack(&self) -> core::ops::Range<u64> {
        let top = self.overflow_stack_top.load(Ordering::Relaxed);
        top - super::stack_overflow::OVERFLOW_STACK_SIZE as u64..top
    }

    /// Whether the frame allocator runs on this CPU (mm/heap.rs).
    pub fn in_frame_allocator(&self) -> &AtomicBool {
        &self.in_frame_allocator
    }

    /// A fault was resolved here without the kernel lock; `beside_lock`:
    /// while another CPU held it. Only this CPU counts: a load and a store.
    #[inline(always)]
    pub fn count_fast_fault(&self, beside_lock: bool) {
        let c = &self.fast_faults;
        c.store(c.load(Ordering::Relaxed).wrapping_add(1 | (beside_lock as u64) << 32), Ordering::Relaxed);
    }

    /// (faults resolved here without the kernel lock, those of them
    /// resolved while another CPU held it), each modulo 2^32.
    pub fn fast_faults(&self) -> (u64, u64) {
        let n = self.fast_faults.load(Ordering::Relaxed);
        (n & 0xffff_ffff, n >> 32)
    }

    /// The locks this CPU holds (sync/lock_order.rs).
    #[inline(always)]
    #[cfg_attr(not(feature = "lock-order"), allow(dead_code))]
    pub fn held_locks(&self) -> &HeldLocks {
        &self.held_locks
    }

    /// Where this CPU was last seen in kernel code (breadcrumb.rs).
    pub fn breadcrumb(&self) -> &Breadcrumb {
        &self.breadcrumb
    }

    /// The exception frame being handled on this CPU (exception.rs).
    pub fn current_frame(&self) -> &AtomicPtr<TrapFrame> {
        &self.current_frame
    }

    /// This CPU's GIC CPU interface bit; empty before its bring-up.
    pub fn gic_targets(&self) -> CpuTargets {
        CpuTargets(self.gic_targets.load(Ordering::Acquire))
    }

    /// Called on the CPU itself, at its GIC bring-up (irq.rs).
    pub fn set_gic_targets(&self, targets: CpuTargets) {
        self.gic_targets.store(targets.0, Ordering::Release);
    }

    /// A Reschedule IPI arrived here (ipi.rs): flag and count it.
    pub fn note_reschedule(&self) {
        self.reschedules_taken.fetch_add(1, Ordering::Relaxed);
        self.request_resched();
    }

    /// Sets the need-resched flag, on this CPU (a Reschedule of itself,
    /// ipi.rs, or the IPI's handler).
    pub fn request_resched(&self) {
        self.need_resched.store(true, Ordering::Release);
    }

    /// Whether a Reschedule IPI came since the last call; clears the flag.
    pub fn take_need_resched(&self) -> bool {
        self.need_resched.swap(false, Ordering::Acquire)
    }

    /// How many Reschedule IPIs this CPU has taken.
    pub fn reschedules_taken(&self) -> u64 {
        self.reschedules_taken.load(Ordering::Relaxed)
    }

    /// Its GICD_ISENABLER0 as read at its GIC bring-up (bit n: INTID n).
    pub fn private_irqs_enabled(&self) -> u32 {
        self.private_irqs_enabled.load(Ordering::Relaxed)
    }

    /// Called on the CPU itself, at its GIC bring-up (irq.rs).
    pub fn set_private_irqs_enabled(&self, bits: u32) {
        self.private_irqs_enabled.store(bits, Ordering::Relaxed);
    }

    /// Called on the CPU itself as it stops for good (ipi.rs); the
    /// release store is what a CPU waiting for it reads.
    pub fn mark_stopped(&self) {
        self.state.store(CpuState::Stopped as u8, Ordering::Release);
    }

    /// Before CPU_ON: what the secondary needs from the first instruction
    /// it runs with the MMU on (smp.rs).
    pub fn prepare(&self, mpidr: u64, boot_stack: core::ops::Range<u64>, overflow_top: u64) {
        self.mpidr.store(mpidr, Ordering::Relaxed);
        self.boot_stack_bottom.store(boot_stack.start, Ordering::Relaxed);
        self.boot_stack_top.store(boot_stack.end, Ordering::Relaxed);
        self.overflow_stack_top.store(overflow_top, Ordering::Relaxed);
        self.state.store(CpuState::Starting as u8, Ordering::Release);
    }

    /// CPU_ON failed: the CPU stays off.
    pub fn mark_off(&self) {
        self.state.store(CpuState::Off as u8, Ordering::Release);
    }

    /// Called on the CPU itself once its per-CPU setup is done; the
    /// release store publishes `entry_el`, `mte_level` and its MIDR_EL1
    /// with it.
    pub fn report_up(&self, state: CpuState, entry_el: u8, mte_level: u8) {
        use aarch64_cpu::registers::MIDR_EL1;
        use tock_registers::interfaces::Readable;
        self.entry_el.store(entry_el, Ordering::Relaxed);
        self.mte_level.store(mte_level, Ordering::Relaxed);
        self.midr.store(MIDR_EL1.get(), Ordering::Relaxed);
        self.state.store(state as u8, Ordering::Release);
    }
}

/// Every CPU's data, by index; CPU 0 is the boot CPU.
static CPU_DATA: [CpuData; MAX_CPUS] = [
    CpuData::new(0),
    CpuData::new(1),
    CpuData::new(2),
    CpuData::new(3),
    CpuData::new(4),
    CpuData::new(5),
    CpuData::new(6),
    CpuData::new(7),
];

/// CPU `index`'s data, if the kernel has room for it.
pub fn cpu(index: usize) -> Option<&'static CpuData> {
    CPU_DATA.get(index)
}

/// Points the boot CPU's TPIDR_EL1 at its data, with its MPIDR and the
/// image's overflow stack: the first thing `kernel_main` does, before
/// anything may take an exception.
pub fn init_boot_cpu(mpidr: u64, overflow_top: u64) {
    let cpu = &CPU_DATA[0];
    cpu.mpidr.store(mpidr, Ordering::Relaxed);
    cpu.overflow_stack_top.store(overflow_top, Ordering::Relaxed);
    // SAFETY: TPIDR_EL1 is the kernel's own register (EL0 cannot read it);
    // from here on it names this static, which lives forever.
    unsafe { core::arch::asm!("msr tpidr_el1, {0}", in(reg) cpu as *const CpuData as u64, options(nomem, nostack)) };
}

/// The data of the CPU this runs on. Always inlined: one MRS.
#[inline(always)]
pub fn this_cpu() -> &'static CpuData {
    let p: u64;
    // SAFETY: reads TPIDR_EL1, which `init_boot_cpu` (boot CPU) or start.S
    // (secondaries, from smp.rs's context id) set to an element of
    // CPU_DATA before any code that gets here runs, and nothing changes.
    unsafe {
        core::arch::asm!("mrs {0}, tpidr_el1", out(reg) p, options(nomem, nostack, preserves_flags));
        &*(p as *const CpuData)
    }
}

/// A value only the CPU running tasks touches (the module comment's rule).
pub struct CpuLocal<T>(UnsafeCell<T>);

// SAFETY: only the CPU that owns the value touches it (its runner's
// switches, with interrupts masked), through the raw pointer `RunnerContext`
// takes; no reference to it is handed out.
unsafe impl<T: Send> Sync for CpuLocal<T> {}

impl<T> CpuLocal<T> {
    pub const fn new(value: T) -> Self {
        Self(UnsafeCell::new(value))
    }
}

/// The context this CPU's runner is saved in while a task runs here.
pub struct RunnerContext;

impl RunnerContext {
    /// This CPU's runner slot, for the switches only.
    fn slot(&self) -> *mut KernelContext {
        this_cpu().runner.0.get()
    }

    /// The running task leaves the CPU: its context is saved in `task`'s
    /// slot and this CPU's runner resumes (where `Current::run` switched
    /// away); returns when a runner switches back to `task`.
    pub fn switch_to_runner(&self, task: &TaskContext) {
        switch_context(task.as_ptr(), self.slot());
    }
}

/// The task running on this CPU, set only while [`Current::run`] runs it;
/// kept in this CPU's [`CpuData`]. One `Current` per kernel (process/
/// lifecycle.rs), since every one reads the same per-CPU slot.
pub struct Current<T>(PhantomData<fn() -> T>);

impl<T> Current<T> {
    pub const fn new() -> Self {
        Self(PhantomData)
    }

    /// Whether a task is running here (false during boot and in the runner).
    #[inline(always)]
    pub fn is_set(&self) -> bool {
        !this_cpu().current_task.load(Ordering::Relaxed).is_null()
    }

    /// The running task, for its system calls, faults and interrupts; the
    /// reference must not outlive that call.
    ///
    /// Always inlined, as `this_cpu`: a load from TPIDR_EL1's data and a
    /// null check, which the fault path takes several times; left to the
    /// compiler it was called out of line once handle_exception grew (the
    /// IPI commits: zero-read 283 -> 303 instructions).
    #[allow(clippy::mut_from_ref)]
    #[inline(always)]
    pub fn get(&self) -> Option<&'static T> {
        self.get_here(this_cpu())
    }

    /// `get` on `cpu`, the caller's CPU as it just read it (the entry from
    /// EL0 reads TPIDR_EL1 once). Shared: what others change of the task
    /// is in cells that check the big kernel lock (sync/kernel_locked.rs),
    /// what the fault path's fast side reads without it is written only
    /// by the task itself (sync/task_owned.rs).
    #[inline(always)]
    pub fn get_here(&self, cpu: &CpuData) -> Option<&'static T> {
        let p = cpu.current_task.load(Ordering::Relaxed) as *const T;
        // SAFETY: non-null only inside `run` on this CPU, whose caller
        // lends the task (it stays alive and in place) until the task
        // switches back; the slot holds only `T`s (one `Current` per
        // kernel). Shared references only, here and in `run`.
        (!p.is_null()).then(|| unsafe { &*p })
    }

    /// Runs `task` from the context `context_of` gives until it switches
    /// back to `runner`: the current task meanwhile.
    pub fn run(&self, runner: &RunnerContext, task: &T, context_of: impl Fn(&T) -> &TaskContext) {
        let to = context_of(task).as_ptr();
        let slot = &this_cpu().current_task;
        slot.store(task as *const T as *mut (), Ordering::Relaxed);
        // `to` points into `task`, which is lent to this call and so stays
        // where it is until the switch comes back.
        switch_context(runner.slot(), to);
        slot.store(core::ptr::null_mut(), Ordering::Relaxed);
    }
}

impl<T> Default for Current<T> {
    fn default() -> Self {
        Self::new()
    }
}
