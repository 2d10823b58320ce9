//! The AArch64 half of the fault path: decoding a synchronous exception
//! from EL0 (or a kernel access to user memory) into "what was accessed, how,
//! and was a page there", handing it to the generic resolver (mm/fault.rs),
//! and turning what cannot be resolved into the signal Linux would send
//! (arch/arm64/mm/fault.c: do_translation_fault, do_page_fault, do_bad_area).

use alloc::format;

use linux_raw_sys::general::{SIGBUS, SIGILL, SIGSEGV, SIGTRAP};

use super::esr::{Esr, ExceptionClass, FaultKind};
use super::trap_frame::TrapFrame;
use crate::exec::elf::USER_END;
use crate::mm::addr::VirtAddr;
use crate::mm::fault::{self, Access, FaultError};
use crate::process;

/// The address an access used, without the logical tag TBI0 ignores.
fn untagged(far: u64) -> u64 {
    far & ((1 << 56) - 1)
}

/// How an abort maps onto the generic resolver, or the signal to send.
enum Decoded {
    Resolve { access: Access },
    Signal { signal: u32, what: &'static str },
}

fn decode(esr: Esr) -> Decoded {
    let abort = esr.abort().expect("only aborts are decoded here");
    let access = if !esr.class().is_data_abort() {
        Access::Execute
    } else if abort.write {
        Access::Write
    } else {
        Access::Read
    };
    match abort.kind {
        // Whether a page is there is read from the tables by the resolver;
        // the status code only says the walk or the permissions stopped us.
        FaultKind::Translation { .. } | FaultKind::Permission { .. } | FaultKind::AccessFlag { .. } => {
            Decoded::Resolve { access }
        }
        FaultKind::Alignment => Decoded::Signal { signal: SIGBUS, what: "BUS_ADRALN" },
        FaultKind::TagCheck => Decoded::Signal { signal: SIGSEGV, what: "SEGV_MTESERR" },
        FaultKind::ExternalAbort | FaultKind::ExternalAbortOnWalk { .. } | FaultKind::ParityOrEcc => {
            Decoded::Signal { signal: SIGBUS, what: "BUS_OBJERR" }
        }
        _ => Decoded::Signal { signal: SIGSEGV, what: "SEGV_MAPERR" },
    }
}

/// Tries to resolve `far` in the current process; the si_code name on failure.
fn resolve(far: u64, esr: Esr, access: Access) -> Result<(), (u32, &'static str)> {
    let va = untagged(far);
    let p = process::current();
    let result = if va >= USER_END {
        Err(FaultError::Unmapped)
    } else {
        fault::handle(&mut p.space, VirtAddr::new(va), access)
    };
    if fault::tracing() {
        let abort = esr.abort().expect("an abort");
        let action = match result {
            Ok(r) => r.describe(),
            Err(FaultError::Unmapped) => "no area: SEGV_MAPERR",
            Err(FaultError::NotPermitted) => "not permitted: SEGV_ACCERR",
            Err(FaultError::OutOfMemory) => "out of memory",
        };
        log::info!("pid {} {} {:#x}: {} -> {}", p.pid.0, access.name(), far, crate::arch::aarch64::esr::fault_info(abort.status_code).name, action);
    }
    match result {
        // The same page faulting twice in a row without being fixed would
        // loop forever: the second time is a protection violation.
        Ok(fault::Resolution::Spurious) if p.last_spurious == Some(va >> 12) => Err((SIGSEGV, "SEGV_ACCERR")),
        Ok(r) => {
            p.last_spurious = (r == fault::Resolution::Spurious).then_some(va >> 12);
            p.faults.count(r);
            Ok(())
        }
        Err(FaultError::Unmapped) => Err((SIGSEGV, "SEGV_MAPERR")),
        Err(FaultError::NotPermitted) => Err((SIGSEGV, "SEGV_ACCERR")),
        Err(FaultError::OutOfMemory) => Err((SIGSEGV, "out of memory")),
    }
}

/// An instruction or data abort taken from EL0.
fn user_abort(frame: &TrapFrame) {
    let esr = frame.esr();
    let outcome = match decode(esr) {
        Decoded::Resolve { access } => resolve(frame.far, esr, access),
        Decoded::Signal { signal, what } => Err((signal, what)),
    };
    if let Err((signal, code)) = outcome {
        kill_for(frame, signal, code);
    }
}

/// Ends the current process with a one-line report of the fault.
fn kill_for(frame: &TrapFrame, signal: u32, code: &str) -> ! {
    let p = process::current();
    log::warn!(
        "pid {} ({}): {} {} at {:#x}, pc {:#x}: {}",
        p.pid.0,
        p.name,
        process::outcome::signal_name(signal),
        code,
        frame.far,
        frame.elr,
        frame.esr()
    );
    process::kill_current(signal, format!("{} at {:#x}, pc {:#x}", code, frame.far, frame.elr))
}

/// A synchronous exception from EL0.
pub fn user_sync(frame: &mut TrapFrame) {
    let esr = frame.esr();
    match esr.class() {
        ExceptionClass::Svc64 => crate::syscall::dispatch(frame),
        ExceptionClass::DataAbortLowerEl | ExceptionClass::InstructionAbortLowerEl => user_abort(frame),
        ExceptionClass::PcAlignment | ExceptionClass::SpAlignment => kill_for(frame, SIGBUS, "BUS_ADRALN"),
        ExceptionClass::Brk64 | ExceptionClass::BreakpointLowerEl | ExceptionClass::SoftwareStepLowerEl => {
            kill_for(frame, SIGTRAP, "TRAP_BRKPT")
        }
        _ => kill_for(frame, SIGILL, "ILL_ILLOPC"),
    }
}

/// A kernel access to a user address faulted (inside a uaccess routine):
/// resolve it like a user fault so the copy can be retried. `false` if it
/// cannot be resolved; the caller then applies the fixup (EFAULT).
pub fn kernel_access_to_user(frame: &TrapFrame) -> bool {
    if !process::has_current() || untagged(frame.far) >= USER_END {
        return false;
    }
    match decode(frame.esr()) {
        Decoded::Resolve { access } => resolve(frame.far, frame.esr(), access).is_ok(),
        Decoded::Signal { .. } => false,
    }
}
