//! State the threads of one process share: the address space and the
//! descriptor table (CLONE_VM, CLONE_FILES). There is one CPU and the kernel
//! runs with interrupts masked, so only one thread is ever in the kernel
//! and no lock is needed; `Shared` makes that rule explicit in one place.

use alloc::sync::Arc;
use core::cell::UnsafeCell;

pub struct Shared<T>(UnsafeCell<T>);

// SAFETY: one CPU, and the kernel is never preempted or interrupted: at
// most one thread touches the value at a time, and no reference obtained
// through `get` is kept across a context switch.
unsafe impl<T> Sync for Shared<T> {}
// SAFETY: as above.
unsafe impl<T> Send for Shared<T> {}

impl<T> Shared<T> {
    pub fn new(value: T) -> Arc<Self> {
        Arc::new(Self(UnsafeCell::new(value)))
    }

    /// The value, for the thread now in the kernel.
    #[allow(clippy::mut_from_ref)]
    pub fn get(&self) -> &mut T {
        // SAFETY: see the Sync impl: only the running thread gets here.
        unsafe { &mut *self.0.get() }
    }
}
