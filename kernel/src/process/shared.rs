//! State the threads of one process share: the address space and the
//! descriptor table (CLONE_VM, CLONE_FILES). There is one CPU and the kernel
//! runs with interrupts masked, so only one thread is ever in the kernel
//! and no lock is needed; `Shared` is that rule (arch/aarch64/cpu_local.rs)
//! for a value several threads hold.

use alloc::sync::Arc;

use crate::arch::aarch64::cpu_local::CpuLocal;

pub struct Shared<T>(CpuLocal<T>);

impl<T> Shared<T> {
    pub fn new(value: T) -> Arc<Self> {
        Arc::new(Self(CpuLocal::new(value)))
    }

    /// The value, for the thread now in the kernel.
    #[allow(clippy::mut_from_ref)]
    pub fn get(&self) -> &mut T {
        self.0.get()
    }
}
