//! EL0 floating-point and SIMD state (V0-V31, FPSR, FPCR).
//!
//! The kernel is built soft-float and never touches these registers, so a
//! process's FP state stays live in the CPU for as long as it runs, through
//! system calls and faults; it is saved only when another process is about
//! to run, and a new process starts with it all zero (nothing leaks from the
//! previous program).

#[cfg(target_os = "none")]
use aarch64_cpu::registers::CPACR_EL1;
#[cfg(target_os = "none")]
use tock_registers::interfaces::ReadWriteable;

/// Saved FP/SIMD registers of one process.
#[repr(C, align(16))]
#[derive(Clone, Default)]
pub struct FpState {
    v: [u128; 32],
    fpsr: u64,
    fpcr: u64,
}

/// Lets EL0 (and, harmlessly, EL1) use FP/SIMD without trapping
/// (CPACR_EL1.FPEN = 0b11). Called once at boot.
#[cfg(target_os = "none")]
pub fn enable_for_el0() {
    CPACR_EL1.modify(CPACR_EL1::FPEN::TrapNothing);
    aarch64_cpu::asm::barrier::isb(aarch64_cpu::asm::barrier::SY);
}

impl FpState {
    /// The registers, FPSR and FPCR, for the signal frame.
    pub fn parts(&self) -> (&[u128; 32], u64, u64) {
        (&self.v, self.fpsr, self.fpcr)
    }

    pub fn set_parts(&mut self, v: [u128; 32], fpsr: u64, fpcr: u64) {
        *self = Self { v, fpsr, fpcr };
    }

    /// Saves the live registers into `self`.
    #[cfg(target_os = "none")]
    pub fn save(&mut self) {
        // SAFETY: stores 528 bytes into `self`, which is 16-byte aligned; the
        // FP registers are not used by compiled kernel code (soft-float).
        unsafe {
            core::arch::asm!(
                ".arch_extension fp", ".arch_extension simd",
                "stp q0, q1, [{0}, #0]", "stp q2, q3, [{0}, #32]", "stp q4, q5, [{0}, #64]", "stp q6, q7, [{0}, #96]",
                "stp q8, q9, [{0}, #128]", "stp q10, q11, [{0}, #160]", "stp q12, q13, [{0}, #192]", "stp q14, q15, [{0}, #224]",
                "stp q16, q17, [{0}, #256]", "stp q18, q19, [{0}, #288]", "stp q20, q21, [{0}, #320]", "stp q22, q23, [{0}, #352]",
                "stp q24, q25, [{0}, #384]", "stp q26, q27, [{0}, #416]", "stp q28, q29, [{0}, #448]", "stp q30, q31, [{0}, #480]",
                "mrs {1}, fpsr", "str {1}, [{0}, #512]",
                "mrs {1}, fpcr", "str {1}, [{0}, #520]",
                in(reg) self as *mut Self, out(reg) _,
                options(nostack),
            );
        }
    }

    /// Loads `self` into the registers.
    #[cfg(target_os = "none")]
    pub fn restore(&self) {
        // SAFETY: reads 528 bytes from `self`; see `save`.
        unsafe {
            core::arch::asm!(
                ".arch_extension fp", ".arch_extension simd",
                "ldp q0, q1, [{0}, #0]", "ldp q2, q3, [{0}, #32]", "ldp q4, q5, [{0}, #64]", "ldp q6, q7, [{0}, #96]",
                "ldp q8, q9, [{0}, #128]", "ldp q10, q11, [{0}, #160]", "ldp q12, q13, [{0}, #192]", "ldp q14, q15, [{0}, #224]",
                "ldp q16, q17, [{0}, #256]", "ldp q18, q19, [{0}, #288]", "ldp q20, q21, [{0}, #320]", "ldp q22, q23, [{0}, #352]",
                "ldp q24, q25, [{0}, #384]", "ldp q26, q27, [{0}, #416]", "ldp q28, q29, [{0}, #448]", "ldp q30, q31, [{0}, #480]",
                "ldr {1}, [{0}, #512]", "msr fpsr, {1}",
                "ldr {1}, [{0}, #520]", "msr fpcr, {1}",
                in(reg) self as *const Self, out(reg) _,
                options(nostack, readonly),
            );
        }
    }
}
