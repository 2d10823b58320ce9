//! State that only the CPU in the kernel touches: there is one CPU, and
//! the kernel runs with interrupts masked (DAIF at EL1), so at most one
//! thread is in the kernel at a time and no lock is needed. These two
//! types hold that rule (and its `unsafe`) in one place, for the
//! scheduler's table, the runner's context and the current task (process/).
//!
//! What the rule does not cover: `CpuLocal::get`, `Current::get` (so
//! `process::current()`) and `process::shared::Shared::get` are safe
//! functions that return `&mut T` from `&self`, and nothing stops one thread
//! from calling one twice and holding both results, two `&mut` to one value.
//! Rust's aliasing rule is then broken from safe code however many CPUs
//! there are; the code keeps to "call, use, drop" by convention (a handler
//! takes `current()` once and passes it down), and two places overlap on
//! purpose: `Current::run` keeps `runner.get()` as the switch's `from` while
//! the task's `switch_out` passes `RUNNER.get()` as its `to`, and the task
//! `run` borrows is also what `current()` hands out meanwhile. So
//! `#![deny(unsafe_code)]` in process/ and syscall/ does not yet make them
//! free of undefined behaviour; these three functions are the hole.
//!
//! What the SMP issue must change here:
//! - `CpuLocal<Table>` (the scheduler's table) becomes a lock whose guard
//!   is the only way in, held with interrupts masked (Linux's rq->lock):
//!   another CPU reaches the same table.
//! - `RUNNER` and `CURRENT` become per-CPU (an array indexed by the CPU
//!   number, found through TPIDR_EL1 as Linux's per-CPU offset), and
//!   `Current::get` returns a handle that cannot be duplicated (a borrow of
//!   a guard, or a reference-counted task whose mutable state sits behind
//!   its own lock), not `&'static mut`.
//! - `Shared<T>` (address space, descriptor table) becomes a lock (Linux's
//!   mmap_lock, files_struct's file_lock): two threads of one process may
//!   be in the kernel at once on two CPUs.
//! - The `Sync`/`Send` impls below go (or gain `T: Send` bounds), since
//!   "at most one thread touches the value" is no longer true.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicPtr, Ordering};

use super::context::{switch_context, KernelContext};

/// A value only the thread now in the kernel touches.
pub struct CpuLocal<T>(UnsafeCell<T>);

// SAFETY: one CPU, and the kernel is never preempted or interrupted: at
// most one thread touches the value at a time, and no reference obtained
// through `get` is kept across a context switch.
unsafe impl<T> Sync for CpuLocal<T> {}
// SAFETY: as above.
unsafe impl<T> Send for CpuLocal<T> {}

impl<T> CpuLocal<T> {
    pub const fn new(value: T) -> Self {
        Self(UnsafeCell::new(value))
    }

    /// The value, for the thread now in the kernel; not to be kept across
    /// a context switch.
    #[allow(clippy::mut_from_ref)]
    pub fn get(&self) -> &mut T {
        // SAFETY: see the Sync impl: only the running thread gets here.
        unsafe { &mut *self.0.get() }
    }
}

/// The task running on this CPU, set only while [`Current::run`] runs it.
pub struct Current<T>(AtomicPtr<T>);

impl<T> Current<T> {
    pub const fn new() -> Self {
        Self(AtomicPtr::new(core::ptr::null_mut()))
    }

    /// Whether a task is running (false during boot and in the runner).
    pub fn is_set(&self) -> bool {
        !self.0.load(Ordering::Relaxed).is_null()
    }

    /// The running task, for its system calls, faults and interrupts; the
    /// reference must not outlive that call.
    #[allow(clippy::mut_from_ref)]
    pub fn get(&self) -> Option<&'static mut T> {
        let p = self.0.load(Ordering::Relaxed);
        // SAFETY: non-null only inside `run`, whose caller lends the task
        // (it stays alive and in place) until the task switches back; the
        // kernel is not reentered while a handler holds the reference.
        (!p.is_null()).then(|| unsafe { &mut *p })
    }

    /// Runs `task` from the context `context_of` gives until it switches
    /// back to `runner`: the current task meanwhile.
    pub fn run(&self, runner: &CpuLocal<KernelContext>, task: &mut T, context_of: impl Fn(&T) -> &KernelContext) {
        let to: *const KernelContext = context_of(task);
        self.0.store(task, Ordering::Relaxed);
        // SAFETY: `to` points into `task`, which is lent to this call and
        // so stays where it is until the switch comes back.
        switch_context(runner.get(), unsafe { &*to });
        self.0.store(core::ptr::null_mut(), Ordering::Relaxed);
    }
}

impl<T> Default for Current<T> {
    fn default() -> Self {
        Self::new()
    }
}
