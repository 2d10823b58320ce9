//! Delivering signals on the way back to EL0, and rt_sigreturn.
//!
//! Every return to EL0 passes through `on_return_to_user`: the next
//! deliverable signal either ends the process (default action), or gets a
//! Linux arm64 signal frame pushed on the user stack (or the alternate
//! stack) and the registers pointed at its handler. One handler is set up
//! per return, as Linux does.

use alloc::format;
use alloc::string::String;

use linux_raw_sys::general::{
    SA_EXPOSE_TAGBITS, SA_ONSTACK, SA_RESTORER, SEGV_MAPERR, SIGSEGV, SS_DISABLE, SS_ONSTACK,
};

/// si_code of a signal the kernel sends on its own account.
const SI_KERNEL: i32 = 0x80;

use super::{Action, Disposition, Next, SigFields, SigInfo, SigSet};
use crate::arch::aarch64::signal_frame::{self, Info, Setup, FRAME_SIZE};
use crate::arch::aarch64::trap_frame::TrapFrame;
use crate::mm::sigpage;
use crate::mm::uaccess::{copy_from_user, copy_to_user, UserAddr};
use crate::process::{self, outcome::Outcome, Process};

/// Why the process ended, for the runner's report.
fn describe(p: &mut Process, info: &SigInfo) -> String {
    if let Some(report) = p.fault_report.take() {
        return report;
    }
    match info.fields {
        SigFields::Sender { pid } | SigFields::Child { pid, .. } => {
            format!("sent by pid {}, si_code {}", pid, info.code)
        }
        SigFields::Fault { addr } => format!("si_code {} at {:#x}", info.code, addr),
    }
}

/// Is `sp` on the alternate signal stack?
fn on_altstack(p: &Process, sp: u64) -> bool {
    p.signals.altstack.is_some_and(|(base, size)| sp > base && sp <= base + size)
}

/// sigaltstack's view for uc_stack and for the syscall: (sp, flags, size).
pub fn altstack_view(p: &Process, sp: u64) -> (u64, i32, u64) {
    match p.signals.altstack {
        None => (0, SS_DISABLE as i32, 0),
        Some((base, size)) => (base, if on_altstack(p, sp) { SS_ONSTACK as i32 } else { 0 }, size),
    }
}

/// Pushes the frame for `info` and enters `action`'s handler.
fn push_frame(p: &mut Process, regs: &mut TrapFrame, info: &SigInfo, action: &Action, saved: SigSet) -> Result<(), ()> {
    let Disposition::Handler(handler) = action.disposition else { return Err(()) };
    // glibc on arm64 passes no restorer: Linux returns through the vDSO's
    // __kernel_rt_sigreturn, here through the trampoline page.
    let restorer =
        if action.flags & SA_RESTORER as u64 != 0 { action.restorer } else { sigpage::trampoline().as_u64() };
    let mut sp = regs.sp_el0;
    if action.flags & SA_ONSTACK as u64 != 0 && !on_altstack(p, sp) {
        if let Some((base, size)) = p.signals.altstack {
            sp = base + size;
        }
    }
    let record = (sp - 16) & !15;
    let frame_addr = (record - FRAME_SIZE as u64) & !15;
    p.fp.save();
    let word = match info.fields {
        // si_addr keeps its tag bits only for handlers that asked for them
        // (Linux's arch_untagged_si_addr, untagged_addr: sign-extended from
        // bit 55, so a tagged kernel address reads as that kernel address).
        SigFields::Fault { addr } if action.flags & SA_EXPOSE_TAGBITS as u64 == 0 => {
            crate::arch::aarch64::mmu::layout::untagged_addr(addr)
        }
        SigFields::Fault { addr } => addr,
        SigFields::Sender { pid } | SigFields::Child { pid, .. } => pid as u64,
    };
    let status = match info.fields {
        SigFields::Child { status, .. } => status,
        _ => 0,
    };
    let esr = p.fault_esr.take();
    // uc_mcontext.fault_address: the untagged address of an abort, 0
    // otherwise (SA_EXPOSE_TAGBITS only concerns si_addr).
    let fault_address = p.fault_address.take().filter(|_| esr.is_some()).unwrap_or(0);
    let setup = Setup {
        info: Info { signo: info.signo, code: info.code, word, status },
        saved_mask: saved.0,
        altstack: altstack_view(p, regs.sp_el0),
        esr,
        fault_address,
        fp: &p.fp,
    };
    let bytes = signal_frame::build(regs, &setup);
    copy_to_user(UserAddr(frame_addr), &bytes).map_err(|_| ())?;
    let mut pair = [0u8; 16];
    pair[..8].copy_from_slice(&regs.x[29].to_le_bytes());
    pair[8..].copy_from_slice(&regs.x[30].to_le_bytes());
    copy_to_user(UserAddr(record), &pair).map_err(|_| ())?;
    signal_frame::enter_handler(regs, frame_addr, record, info.signo, handler, restorer);
    Ok(())
}

/// No handler ran: the mask ppoll/pselect6 replaced comes back (Linux's
/// restore_saved_sigmask).
fn restore_saved_mask(p: &mut Process) {
    if let Some(old) = p.signals.saved_mask.take() {
        p.signals.blocked = old;
    }
}

/// Delivers what is pending before `regs` goes back to EL0.
pub fn on_return_to_user(regs: &mut TrapFrame) {
    process::exit_if_killed();
    let p = process::current();
    if !p.mte_async_fault && !p.signals.any_deliverable() {
        restore_saved_mask(p);
        return;
    }
    if core::mem::take(&mut p.mte_async_fault) {
        let code = linux_raw_sys::general::SEGV_MTEAERR as i32;
        // A standard signal is never refused (only real-time ones queue).
        let _ = p.signals.send(SigInfo { signo: SIGSEGV, code, fields: SigFields::Fault { addr: 0 } });
    }
    loop {
        match p.signals.next() {
            Next::Nothing => {
                restore_saved_mask(p);
                return;
            }
            Next::Terminate(info) => {
                let reason = describe(p, &info);
                process::exit_group_current(Outcome::Killed { signal: info.signo, reason })
            }
            Next::Handle(info, action) => {
                let entered = p.signals.handler_entered(info.signo, &action);
                // After ppoll/pselect6, the frame saves the mask from before
                // their wait (Linux's sigmask_to_save).
                let saved = p.signals.saved_mask.take().unwrap_or(entered);
                if push_frame(p, regs, &info, &action, saved).is_ok() {
                    p.fault_report = None;
                    return;
                }
                // No room for the frame: SIGSEGV (Linux's force_sigsegv). If
                // the frame was for SIGSEGV itself, with the default action,
                // so a broken SIGSEGV handler cannot loop.
                p.signals.blocked = saved;
                p.fault_report =
                    Some(format!("could not push a frame for signal {} at sp {:#x}", info.signo, regs.sp_el0));
                // Sent by the kernel itself: si_code SI_KERNEL (force_sig).
                let segv = SigInfo { signo: SIGSEGV, code: SI_KERNEL, fields: SigFields::Sender { pid: 0 } };
                if info.signo == SIGSEGV {
                    p.signals.force_default(segv);
                } else {
                    p.signals.force(segv);
                }
            }
        }
    }
}

/// rt_sigreturn: restores what the frame at sp holds. Returns the restored
/// x0, so the system-call return leaves it as it was.
pub fn sigreturn(regs: &mut TrapFrame) -> u64 {
    let p = process::current();
    let sp = regs.sp_el0;
    let mut bytes = alloc::vec![0u8; FRAME_SIZE];
    let restored = if !sp.is_multiple_of(16) {
        Err(())
    } else {
        copy_from_user(&mut bytes, UserAddr(sp))
            .map_err(|_| ())
            .and_then(|_| signal_frame::restore(&bytes, regs, &mut p.fp).map_err(|_| ()))
    };
    match restored {
        Ok((mask, _stack)) => {
            p.signals.blocked = SigSet(mask).blockable();
            p.fp.restore();
        }
        Err(()) => {
            p.fault_report = Some(format!("rt_sigreturn with a bad frame at sp {:#x}", sp));
            p.signals.force(SigInfo {
                signo: SIGSEGV,
                code: SEGV_MAPERR as i32,
                fields: SigFields::Fault { addr: sp },
            });
        }
    }
    regs.x[0]
}
