//! `TaskOwned<T>`: a value of a task that the fault path's fast side reads
//! without the big kernel lock (docs/smp.md, section 1, "Faults without
//! the kernel lock": `Process::mm`, `mte`, `pid`), so it cannot be a
//! [`KernelLocked`](super::KernelLocked), whose every access checks that
//! lock.
//!
//! The rule that makes the unlocked read sound: the value is written
//! (`replace`) only by the task itself, under the big lock (its exec, its
//! prctl, exec's de_thread moving it to its leader's pid), or by its
//! tracer under the big lock while the task is stopped in a ptrace-stop.
//! Other CPUs read it only under the big lock. So a write never runs
//! beside a read: not beside the task's own unlocked read (the task is the
//! writer, or stopped), and not beside another CPU's (both hold the lock).
//! What the rule cannot check, and callers keep to: no reference from
//! `get` is held across a `replace` (exec takes none before it puts the
//! new address space in), and none from another CPU across a release of
//! the big lock (a yield, a block, a switch), as for the `&Process` it
//! came from.

use core::cell::UnsafeCell;
use core::panic::Location;

pub struct TaskOwned<T>(UnsafeCell<T>);

// SAFETY: the module's rule: writes only by the owning task (or its tracer
// while it is stopped) under the big lock, which every other CPU's read
// holds too, so no read runs beside a write; the value moves between CPUs
// with its task and is read from several (`Send + Sync`).
unsafe impl<T: Send + Sync> Sync for TaskOwned<T> {}

impl<T> TaskOwned<T> {
    #[inline(always)]
    pub const fn new(value: T) -> Self {
        Self(UnsafeCell::new(value))
    }

    /// The value, for the task itself (with or without the big lock) or
    /// another CPU holding the big lock; not kept across a `replace`.
    /// A plain load: the fault path's fast side takes this.
    #[inline(always)]
    pub fn get(&self) -> &T {
        // SAFETY: the module's rule: no write runs beside this read, and
        // the caller keeps no reference across the owner's `replace`.
        unsafe { &*self.0.get() }
    }

    /// Puts `value` in, returning the old one: only the task itself (or
    /// its tracer while it is stopped), under the big lock (checked),
    /// holding no reference from `get`.
    #[track_caller]
    pub fn replace(&self, value: T) -> T {
        #[cfg(target_os = "none")]
        if !crate::arch::aarch64::kernel_lock::held_here() {
            panic!("task-owned state replaced at {} without the big kernel lock", Location::caller());
        }
        #[cfg(not(target_os = "none"))]
        let _ = Location::caller();
        // SAFETY: the module's rule: the writer holds the lock every
        // other reader holds, and the owner's own reads are not under way
        // (it is the writer, or stopped) nor kept across this.
        unsafe { core::mem::replace(&mut *self.0.get(), value) }
    }

    /// The value, while the task is not shared yet (being built).
    #[allow(dead_code)]
    pub fn get_mut(&mut self) -> &mut T {
        self.0.get_mut()
    }
}

impl<T> core::ops::Deref for TaskOwned<T> {
    type Target = T;
    /// `get`: `p.mm.read()`, `p.pid.0` read as before.
    #[inline(always)]
    fn deref(&self) -> &T {
        self.get()
    }
}
