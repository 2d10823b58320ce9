//! Everything specific to AArch64: registers, exception vectors, the MMU,
//! MTE and the reset entry. Generic kernel code reaches the hardware only
//! through this module.

pub mod esr;
pub mod mmu;
pub mod mte_control;
pub mod psci;
pub mod regs;
pub mod relax;
pub mod signal_frame;
pub mod trap_frame;

pub mod cache;
pub mod debug;
pub mod fpsimd;
pub mod hwcaps;
pub mod irq_mask;

// Kernel-only: not built for the host unit tests (main.rs: kernel_only!).
kernel_only! {
    pub mod backtrace;
    pub mod breadcrumb;
    pub mod boot;
    pub mod context;
    pub mod cpu_features;
    pub mod cpu_local;
    pub mod el0_abort;
    pub mod entry_work;
    pub mod exception;
    pub mod fixup;
    pub mod ipi;
    pub mod kernel_lock;
    pub mod mmio;
    pub mod mte;
    pub mod page_fill;
    pub mod probe;
    pub mod smp;
    pub mod stack_overflow;
    pub mod timer;
    pub mod tlb;
    pub mod user_copy;
}
