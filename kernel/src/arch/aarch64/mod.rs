//! Everything specific to AArch64: registers, exception vectors, the MMU,
//! MTE and the reset entry. Generic kernel code reaches the hardware only
//! through this module.

pub mod esr;
pub mod mmu;
pub mod mte_control;
pub mod regs;
pub mod signal_frame;
pub mod trap_frame;

#[cfg(target_os = "none")]
pub mod backtrace;
#[cfg(target_os = "none")]
pub mod boot;
pub mod cache;
#[cfg(target_os = "none")]
pub mod context;
#[cfg(target_os = "none")]
pub mod cpu_features;
#[cfg(target_os = "none")]
pub mod cpu_local;
pub mod debug;
#[cfg(target_os = "none")]
pub mod el0_abort;
#[cfg(target_os = "none")]
pub mod exception;
#[cfg(target_os = "none")]
pub mod fixup;
pub mod fpsimd;
pub mod hwcaps;
#[cfg(target_os = "none")]
pub mod mte;
#[cfg(target_os = "none")]
pub mod page_fill;
#[cfg(target_os = "none")]
pub mod stack_overflow;
#[cfg(target_os = "none")]
pub mod timer;
#[cfg(target_os = "none")]
pub mod tlb;
#[cfg(target_os = "none")]
pub mod user_copy;
