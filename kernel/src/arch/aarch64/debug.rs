//! Self-hosted debug for EL0 tracees: software step (Arm ARM (DDI 0487K.a),
//! "Software Step exceptions"), what PTRACE_SINGLESTEP is built on.
//!
//! The step state machine, for an EL0 program debugged from EL1:
//! - *inactive* while MDSCR_EL1.SS is 0: nothing happens;
//! - with MDSCR_EL1.SS = 1, an ERET to EL0 copies SPSR_EL1.SS into
//!   PSTATE.SS. PSTATE.SS = 1 is *active-not-pending*: the PE executes one
//!   instruction, which clears PSTATE.SS;
//! - PSTATE.SS = 0 is *active-pending*: before the next instruction, a
//!   Software Step exception is taken to EL1, ESR_EL1.EC 0x32 ("software
//!   step from a lower EL"). Linux delivers it as SIGTRAP with si_code
//!   TRAP_TRACE at the next pc (single_step_handler).
//! - An exception taken by the stepped instruction itself (an SVC, a page
//!   fault that is then resolved) writes SPSR_EL1.SS = 0 when the
//!   instruction completed, so the ERET from it is active-pending at once:
//!   stepping over `svc #0` stops at the instruction after it.
//!
//! Debug exceptions from EL0 need the OS Lock clear (OSLSR_EL1.OSLK resets
//! to 1; Arm ARM (DDI 0487K.a), OSLSR_EL1); MDSCR_EL1.KDE stays 0, so nothing steps at EL1 even with
//! MDSCR_EL1.SS set while the kernel runs.
//!
//! MDSCR_EL1.SS is per CPU: the scheduler sets it from the task it resumes
//! (Linux sets it from TIF_SINGLESTEP on the way to EL0), so a task that
//! is not stepped never runs with it set and an SPSR.SS of 0 (which would
//! trap before its first instruction).

/// PSTATE.SS / SPSR_EL1.SS, bit 21.
pub const PSTATE_SS: u64 = 1 << 21;
/// MDSCR_EL1.SS, bit 0: software step enabled.
const MDSCR_SS: u64 = 1;

/// `pstate` with its SS bit set for a step, clear otherwise (Linux's
/// set_regs_spsr_ss / clear_regs_spsr_ss).
pub fn with_step(pstate: u64, step: bool) -> u64 {
    if step {
        pstate | PSTATE_SS
    } else {
        pstate & !PSTATE_SS
    }
}

/// Boot: clears the OS Lock and OS Double Lock so that debug exceptions
/// from EL0 can be taken (Linux's clear_os_lock), and starts with software
/// step off.
#[cfg(target_os = "none")]
pub fn init() {
    // SAFETY: the debug registers only change when debug exceptions are
    // taken; MDSCR_EL1 = 0 turns every debug event off (KDE and MDE too).
    unsafe {
        core::arch::asm!("msr osdlr_el1, xzr", "msr oslar_el1, xzr", "msr mdscr_el1, xzr", "isb", options(nostack))
    };
}

/// Software step on or off for the task about to run at EL0.
#[cfg(target_os = "none")]
pub fn set_user_step(on: bool) {
    let mut mdscr: u64;
    // SAFETY: reading MDSCR_EL1 has no side effect.
    unsafe { core::arch::asm!("mrs {0}, mdscr_el1", out(reg) mdscr, options(nomem, nostack)) };
    let wanted = if on { mdscr | MDSCR_SS } else { mdscr & !MDSCR_SS };
    if wanted != mdscr {
        // SAFETY: MDSCR_EL1.SS only arms the step of EL0 code (KDE is 0); the
        // ERET to EL0 is a context synchronization event, so no ISB is needed.
        unsafe { core::arch::asm!("msr mdscr_el1, {0}", in(reg) wanted, options(nomem, nostack)) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_step_sets_and_clears_only_ss() {
        assert_eq!(with_step(0x6000_0000, true), 0x6020_0000);
        assert_eq!(with_step(0x6020_0000, false), 0x6000_0000);
        assert_eq!(with_step(0, false), 0);
    }
}
