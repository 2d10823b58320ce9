//! Masking IRQs on this CPU for a while (PSTATE.DAIF's I bit), restoring
//! the mask found: Linux's local_irq_save and local_irq_restore
//! (arch/arm64/include/asm/irqflags.h: arch_local_irq_save reads DAIF,
//! then `msr daifset, #3`; this kernel uses no FIQ, so #2, I alone).

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
            // SAFETY: reads DAIF and sets its I bit: no memory is touched;
            // `nomem` is not given, so the compiler does not move memory
            // accesses of the critical section above the mask (as Linux's
            // "memory" clobber).
            unsafe {
                core::arch::asm!("mrs {0}, daif", "msr daifset, #2", out(reg) saved, options(nostack, preserves_flags))
            };
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
        // SAFETY: writes back the DAIF value read by `save_and_mask` on
        // this CPU (a guard is not sent across CPUs: the kernel is not
        // preempted while one lives); memory accesses stay before it.
        unsafe {
            core::arch::asm!("msr daif, {0}", in(reg) self.saved, options(nostack, preserves_flags))
        };
    }
}

/// Whether IRQs are masked on this CPU now (DAIF.I).
#[cfg(target_os = "none")]
pub fn irqs_masked() -> bool {
    let daif: u64;
    // SAFETY: reads DAIF, nothing else.
    unsafe { core::arch::asm!("mrs {0}, daif", out(reg) daif, options(nomem, nostack, preserves_flags)) };
    daif & (1 << 7) != 0
}
