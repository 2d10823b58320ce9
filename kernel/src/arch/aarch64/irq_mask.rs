//! Masking IRQs on this CPU for a while (PSTATE.DAIF's I bit), restoring
//! the mask found: Linux's local_irq_save and local_irq_restore
//! (arch/arm64/include/asm/irqflags.h: arch_local_irq_save reads DAIF,
//! then masks; this kernel uses no FIQ, so the I bit alone).
//!
//! DAIF is written only when IRQs were unmasked: the kernel runs with them
//! masked at EL1, so a lock taken there reads DAIF and nothing more. A
//! write would cost little on hardware, but QEMU ends the translation
//! block at every write to DAIF (it may unmask a pending interrupt): two
//! exits to QEMU's main loop for every heap allocation and frame, in
//! wall-clock time, where reading DAIF costs nothing more.

/// I, in DAIF as MRS reads it.
#[cfg(target_os = "none")]
const DAIF_I: u64 = 1 << 7;

/// The DAIF value before [`IrqMask::save_and_mask`]; restored on drop.
/// Not `Send`: the value belongs to the CPU it was read on.
pub struct IrqMask {
    #[cfg(target_os = "none")]
    saved: u64,
    _this_cpu: core::marker::PhantomData<*const ()>,
}

impl IrqMask {
    /// Masks IRQs and remembers whether they were masked.
    #[inline(always)]
    pub fn save_and_mask() -> Self {
        #[cfg(target_os = "none")]
        {
            let saved: u64;
            // SAFETY: reads DAIF: no memory is touched.
            unsafe { core::arch::asm!("mrs {0}, daif", out(reg) saved, options(nomem, nostack, preserves_flags)) };
            if saved & DAIF_I == 0 {
                // SAFETY: sets DAIF.I; `nomem` is not given, so memory
                // accesses of the critical section stay after it (Linux's
                // "memory" clobber).
                unsafe { core::arch::asm!("msr daifset, #2", options(nostack, preserves_flags)) };
            }
            Self { saved, _this_cpu: core::marker::PhantomData }
        }
        #[cfg(not(target_os = "none"))]
        Self { _this_cpu: core::marker::PhantomData }
    }
}

impl Drop for IrqMask {
    #[inline(always)]
    fn drop(&mut self) {
        #[cfg(target_os = "none")]
        if self.saved & DAIF_I == 0 {
            // SAFETY: unmasks IRQs again, as `save_and_mask` found them on
            // this CPU (the guard is not `Send`, and no lock is held across
            // a context switch); memory accesses stay before it.
            unsafe { core::arch::asm!("msr daifclr, #2", options(nostack, preserves_flags)) };
        }
    }
}

/// Whether IRQs are masked on this CPU now (DAIF.I).
#[cfg(target_os = "none")]
pub fn irqs_masked() -> bool {
    let daif: u64;
    // SAFETY: reads DAIF, nothing else.
    unsafe { core::arch::asm!("mrs {0}, daif", out(reg) daif, options(nomem, nostack, preserves_flags)) };
    daif & DAIF_I != 0
}
