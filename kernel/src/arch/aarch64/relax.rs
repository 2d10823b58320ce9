//! What a CPU does while it waits for a spin lock: Linux's arm64
//! `cpu_relax()`, the YIELD hint (Arm ARM (DDI 0487K.a), C6.2 "YIELD": a
//! hint that this thread is spinning and another could use the core).
//!
//! It matters for the figures as much as for hardware: with `-icount`
//! QEMU runs the vCPUs one after another, and it ends a vCPU's turn at a
//! YIELD (target/arm: `DISAS_YIELD` outside parallel TCG), so a waiter
//! passes the turn to the holder instead of spinning out its slice. The
//! `spin` crate's default strategy (`spin_loop`, ISB on AArch64) would
//! count every turn of the wait as instructions.

/// The relax strategy of the kernel's spin locks
/// (`spin::Mutex<T, CpuRelax>`), the kernel lock's wait and
/// `timer::spin_until`. Each turn also looks whether a panicking CPU asked
/// the others to stop: a waiter has interrupts masked and would not take
/// the Stop SGI (ipi.rs: `stop_if_requested`).
pub struct CpuRelax;

impl spin::relax::RelaxStrategy for CpuRelax {
    #[inline(always)]
    fn relax() {
        #[cfg(target_arch = "aarch64")]
        super::ipi::stop_if_requested();
        #[cfg(target_arch = "aarch64")]
        // SAFETY: a hint; it changes no register, memory or PSTATE.
        unsafe {
            core::arch::asm!("yield", options(nomem, nostack, preserves_flags))
        };
        #[cfg(not(target_arch = "aarch64"))]
        core::hint::spin_loop();
    }
}
