//! State that only the CPU in the kernel touches: there is one CPU, and
//! the kernel runs with interrupts masked (DAIF at EL1), so at most one
//! thread is in the kernel at a time and no lock is needed. These two
//! types hold that rule (and its `unsafe`) in one place, for the
//! scheduler's table, the runner's context and the current task (process/).
//! The SMP issue replaces them with per-CPU data and locks.

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
