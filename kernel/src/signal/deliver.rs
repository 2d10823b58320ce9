//! Delivering signals on the way back to EL0, and rt_sigreturn.
//!
//! Every return to EL0 passes through `on_return_to_user`: the next
//! deliverable signal either ends the process (default action), or gets a
//! Linux arm64 signal frame pushed on the user stack (or the alternate
//! stack) and the registers pointed at its handler. One handler is set up
//! per return, as Linux does. A system call that returned an -ERESTART*
//! code is restarted or made to fail with EINTR here, by what the signal
//! turned out to be (Linux's arm64 do_signal).

use alloc::format;
use alloc::string::String;

use linux_raw_sys::general::{
    SA_EXPOSE_TAGBITS, SA_ONSTACK, SA_RESTART, SA_RESTORER, SEGV_ACCERR, SEGV_MAPERR, SIGSEGV, SS_AUTODISARM,
};

/// si_code of a signal the kernel sends on its own account.
const SI_KERNEL: i32 = 0x80;
/// -EINTR, for a system call a handler cuts short.
const EINTR_RETURN: u64 = (-(linux_raw_sys::errno::EINTR as i64)) as u64;
/// The size of the `svc #0` a restarted system call goes back to.
const SVC_SIZE: u64 = 4;

use super::{Action, AltStack, Disposition, FaultDetails, Next, RestartKind, SigFields, SigInfo, SigSet};
use crate::arch::aarch64::signal_frame::{self, BadFrame, Info, Setup, FRAME_SIZE};
use crate::arch::aarch64::trap_frame::TrapFrame;
use crate::mm::tagged_addr::TagRule;
use crate::mm::uaccess::{copy_from_user, copy_to_user, UserAddr};
use crate::process::{self, outcome::Outcome, Process};

/// Why the process ended, for the runner's report.
fn describe(p: &Process, info: &SigInfo) -> String {
    if let Some(report) = p.pending_fault.borrow_mut().report.take() {
        return report;
    }
    match info.fields {
        SigFields::Sender { pid } | SigFields::Child { pid, .. } => {
            format!("sent by pid {}, si_code {}", pid, info.code)
        }
        SigFields::Queued { words } => format!("sent by pid {}, si_code {}", words[0] as u32, info.code),
        SigFields::Fault { addr } => format!("si_code {} at {:#x}", info.code, addr),
    }
}

/// What a handler (or rt_sigtimedwait's caller) is told in its siginfo.
pub fn user_info(info: &SigInfo, expose_tagbits: bool) -> Info {
    let words = match info.fields {
        // si_addr keeps its tag bits only for handlers that asked for them
        // (Linux's arch_untagged_si_addr: untagged_addr, which clears the
        // tag of a user address and leaves a TTBR1 one as it is).
        SigFields::Fault { addr } if !expose_tagbits => [crate::mm::tagged_addr::untagged_addr(addr), 0],
        SigFields::Fault { addr } => [addr, 0],
        SigFields::Sender { pid } => [pid as u64, 0],
        SigFields::Child { pid, status } => [pid as u64, status as u32 as u64],
        SigFields::Queued { words } => words,
    };
    Info { signo: info.signo, code: info.code, words }
}

/// sigaltstack's view for the syscall: (sp, flags, size), the flags being
/// Linux's sas_ss_flags(sp) with the SS_AUTODISARM bit as set.
pub fn altstack_view(p: &Process, sp: u64) -> (u64, u32, u64) {
    let alt = p.signals.borrow().alt_stack();
    (alt.sp, alt.state(sp) | (alt.flags & SS_AUTODISARM), alt.size)
}

/// Pushes the frame for `info` and enters `action`'s handler; `saved` is
/// the mask the frame restores.
fn push_frame(
    p: &Process,
    regs: &mut TrapFrame,
    info: &SigInfo,
    action: &Action,
    saved: SigSet,
    fault: Option<FaultDetails>,
) -> Result<(), ()> {
    let Disposition::Handler(handler) = action.disposition else { return Err(()) };
    // glibc on arm64 passes no restorer: handlers return through the vDSO's
    // __kernel_rt_sigreturn (Linux's setup_return).
    let restorer =
        if action.flags & SA_RESTORER as u64 != 0 { action.restorer } else { crate::vdso::sigreturn(&p.mm.read()) };
    let alt = p.signals.borrow().alt_stack();
    let mut sp = regs.sp_el0;
    // Linux's sigsp: the alternate stack, unless disabled or already in use.
    if action.flags & SA_ONSTACK as u64 != 0 && alt.state(sp) == 0 {
        sp = alt.sp.wrapping_add(alt.size);
    }
    let record = (sp.wrapping_sub(16)) & !15;
    let frame_addr = (record.wrapping_sub(FRAME_SIZE as u64)) & !15;
    p.fp.borrow_mut().save();
    let setup = Setup {
        info: user_info(info, action.flags & SA_EXPOSE_TAGBITS as u64 != 0),
        saved_mask: saved.0,
        // Linux's __save_altstack: the stack as sigaltstack set it.
        altstack: (alt.sp, alt.flags, alt.size),
        esr: fault.map(|f| f.esr),
        // uc_mcontext.fault_address: the untagged address of an abort, 0
        // otherwise (SA_EXPOSE_TAGBITS only concerns si_addr).
        fault_address: fault.map_or(0, |f| f.address),
        fp: &p.fp.borrow(),
    };
    let bytes = signal_frame::build(regs, &setup);
    copy_to_user(UserAddr::new(frame_addr), &bytes).map_err(|_| ())?;
    let mut pair = [0u8; 16];
    pair[..8].copy_from_slice(&regs.x[29].to_le_bytes());
    pair[8..].copy_from_slice(&regs.x[30].to_le_bytes());
    copy_to_user(UserAddr::new(record), &pair).map_err(|_| ())?;
    signal_frame::enter_handler(regs, frame_addr, record, info.signo, handler, restorer);
    // Linux's signal_delivered: an SS_AUTODISARM stack is given up while
    // the handler runs (rt_sigreturn puts uc_stack back).
    if alt.flags & SS_AUTODISARM != 0 {
        p.signals.borrow_mut().altstack = Some(AltStack::DISABLED);
    }
    Ok(())
}

/// Linux's arm64 do_signal around the system call just made: a call that
/// returned an -ERESTART* code goes back to its `svc` with its first
/// argument, and a handler that runs instead turns that back into EINTR,
/// except for ERESTARTNOINTR and for ERESTARTSYS with SA_RESTART.
fn cut_short_by_handler(regs: &mut TrapFrame, kind: RestartKind, action: &Action) {
    let restarts = match kind {
        RestartKind::NoIntr => true,
        RestartKind::Sys => action.flags & SA_RESTART as u64 != 0,
        RestartKind::NoHand | RestartKind::RestartBlock => false,
    };
    if !restarts {
        regs.x[0] = EINTR_RETURN;
        regs.elr += SVC_SIZE;
    }
}

/// Delivers what is pending before `regs` goes back to EL0. Returns the
/// running process, read after any delivery (which may stop the task and
/// let a tracer change it), for the exit work that follows: the caller
/// does not look it up again. Inlined into every return to EL0: the
/// common case is `nothing_pending`'s loads, without a call.
#[inline(always)]
pub fn on_return_to_user(regs: &mut TrapFrame) -> &'static Process {
    let p = process::current();
    if nothing_pending(p) {
        return p;
    }
    deliver_pending(regs);
    process::current()
}

/// Whether `p`, the running process, has nothing for `on_return_to_user`
/// to do: the common case, first and cheap: not killed, nothing to
/// deliver, no system call to finish, no mask to put back (the one
/// rt_sigsuspend, ppoll or pselect6 replaced is left only with a restart
/// code: a ready ppoll or pselect6 puts it back itself, in poll.rs's
/// `finish`). Only these loads are inlined into every return to EL0; the
/// work is out of line, so the common case does not pay for its
/// registers. For a caller that holds the process already (exception.rs,
/// after a resolved fault), which calls `on_return_to_user` only when
/// this is false.
#[inline(always)]
pub fn nothing_pending(p: &Process) -> bool {
    // One borrow of the signal state for its three looks: each borrow
    // checks the big lock and the flag (sync/kernel_locked.rs), on every
    // return to EL0.
    let signals = p.signals.borrow();
    p.outcome.borrow().is_none()
        && !p.mte_async_fault.get()
        && signals.restart.is_none()
        && signals.saved_mask.is_none()
        && !signals.any_deliverable()
}

/// `on_return_to_user` when there is something to do.
#[inline(never)]
fn deliver_pending(regs: &mut TrapFrame) {
    process::exit_if_killed();
    let p = process::current();
    let mut restart = p.signals.borrow_mut().restart.take();
    if p.mte_async_fault.take() {
        let code = linux_raw_sys::general::SEGV_MTEAERR as i32;
        // A standard signal is never refused (only real-time ones queue).
        let traced = p.ptrace.borrow().tracer.is_some();
        let _ = p.signals.borrow_mut().send(SigInfo { signo: SIGSEGV, code, fields: SigFields::Fault { addr: 0 } }, traced);
    }
    // The details of the fault just taken belong to its own signal.
    if let Some(details) = p.pending_fault.borrow_mut().take_details() {
        p.signals.borrow_mut().attach_fault(details);
    }
    if let Some((_, orig_x0)) = restart {
        regs.x[0] = orig_x0;
        regs.elr -= SVC_SIZE;
    }
    loop {
        // ptrace: a traced task stops here for its tracer (signal-delivery-stop).
        match crate::process::ptrace::next_signal(p, regs) {
            Next::Nothing => {
                if let Some((RestartKind::RestartBlock, _)) = restart {
                    regs.x[8] = linux_raw_sys::general::__NR_restart_syscall as u64;
                }
                // Linux's restore_saved_sigmask: the mask rt_sigsuspend,
                // ppoll or pselect6 replaced comes back when no handler ran.
                let saved = p.signals.borrow_mut().saved_mask.take();
                if let Some(mask) = saved {
                    p.signals.borrow_mut().blocked = mask;
                }
                return;
            }
            Next::Terminate(info) => {
                let reason = describe(p, &info);
                process::exit_group_current(Outcome::Killed { signal: info.signo, reason })
            }
            Next::Handle(info, action, fault) => {
                if let Some((kind, _)) = restart.take() {
                    cut_short_by_handler(regs, kind, &action);
                }
                let saved = p.signals.borrow_mut().handler_entered(info.signo, &action);
                // After rt_sigsuspend, ppoll or pselect6 the frame restores the
                // mask they replaced (Linux's sigmask_to_save).
                let suspended = p.signals.borrow_mut().saved_mask.take();
                if push_frame(p, regs, &info, &action, suspended.unwrap_or(saved), fault).is_ok() {
                    p.pending_fault.borrow_mut().report = None;
                    crate::process::ptrace::handler_entered(p, regs);
                    return;
                }
                // No room for the frame: SIGSEGV (Linux's force_sigsegv). If
                // the frame was for SIGSEGV itself, with the default action,
                // so a broken SIGSEGV handler cannot loop.
                p.signals.borrow_mut().blocked = saved;
                p.signals.borrow_mut().saved_mask = suspended;
                p.pending_fault.borrow_mut().report =
                    Some(format!("could not push a frame for signal {} at sp {:#x}", info.signo, regs.sp_el0));
                // Sent by the kernel itself: si_code SI_KERNEL (force_sig).
                let segv = SigInfo { signo: SIGSEGV, code: SI_KERNEL, fields: SigFields::Sender { pid: 0 } };
                if info.signo == SIGSEGV {
                    p.signals.borrow_mut().force_default(segv);
                } else {
                    p.signals.borrow_mut().force(segv);
                }
            }
        }
    }
}

/// Linux's restore_sigframe and restore_altstack for the frame at `sp`.
/// The mask and the registers are taken from the frame before its records
/// are checked, as Linux does: a refused frame leaves them so.
fn restore_sigframe(p: &Process, regs: &mut TrapFrame, sp: u64) -> Result<(), BadFrame> {
    let mut bytes = alloc::vec![0u8; FRAME_SIZE];
    copy_from_user(&mut bytes, UserAddr::new(sp)).map_err(|_| BadFrame::Invalid)?;
    p.signals.borrow_mut().blocked = SigSet(signal_frame::sigmask(&bytes)).blockable();
    signal_frame::restore_regs(&bytes, regs)?;
    let records = loop {
        match signal_frame::parse_user_sigframe(&bytes, sp) {
            // An extra_context's data past the frame: read it and look again.
            Err(BadFrame::Extends(len)) if len > bytes.len() => {
                let have = bytes.len();
                // Up to SIGFRAME_MAXSZ of kernel heap: without it, the frame
                // is refused rather than the allocation ending the kernel.
                bytes.try_reserve_exact(len - have).map_err(|_| BadFrame::Invalid)?;
                bytes.resize(len, 0);
                copy_from_user(&mut bytes[have..], UserAddr::new(sp.wrapping_add(have as u64)))
                    .map_err(|_| BadFrame::Invalid)?;
            }
            Err(_) => return Err(BadFrame::Invalid),
            Ok(records) => break records,
        }
    };
    signal_frame::restore_fpsimd(&bytes, records.fpsimd, &mut p.fp.borrow_mut())?;
    p.fp.borrow().restore();
    // Linux's restore_altstack: uc_stack becomes the alternate stack again
    // (how SS_AUTODISARM re-arms), as sigaltstack() from the restored sp
    // would set it; only a fault reading it is an error.
    let (ss_sp, ss_flags, ss_size) = signal_frame::uc_stack(&bytes);
    let _ = set_altstack(p, AltStack { sp: ss_sp, size: ss_size, flags: ss_flags }, regs.sp_el0);
    Ok(())
}

/// Why sigaltstack refused a new stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AltStackError {
    /// The caller runs on the current alternate stack (EPERM).
    InUse,
    /// A mode other than 0, SS_ONSTACK and SS_DISABLE (EINVAL).
    BadMode,
    /// Smaller than MINSIGSTKSZ (ENOMEM).
    TooSmall,
}

/// Linux's do_sigaltstack, setting: `new` as the caller gave it, `sp` its
/// stack pointer.
pub fn set_altstack(p: &Process, new: AltStack, sp: u64) -> Result<(), AltStackError> {
    use linux_raw_sys::general::{MINSIGSTKSZ, SS_DISABLE, SS_ONSTACK};
    let current = p.signals.borrow().alt_stack();
    if current.contains(sp) {
        return Err(AltStackError::InUse);
    }
    let mode = new.flags & !SS_AUTODISARM;
    if !matches!(mode, 0 | SS_ONSTACK | SS_DISABLE) {
        return Err(AltStackError::BadMode);
    }
    if current == new {
        return Ok(());
    }
    let stack = if mode == SS_DISABLE {
        AltStack { sp: 0, size: 0, flags: new.flags }
    } else if new.size < MINSIGSTKSZ as u64 {
        return Err(AltStackError::TooSmall);
    } else {
        new
    };
    p.signals.borrow_mut().altstack = Some(stack);
    Ok(())
}

/// Linux's arm64_notify_segfault: SIGSEGV at `addr`, SEGV_ACCERR if some
/// mapping ends above it (find_vma finds one), SEGV_MAPERR if none does;
/// no ESR for the frame (fault_code 0).
fn notify_segfault(p: &Process, addr: u64) {
    let va = UserAddr::new(addr).untagged(TagRule::AddressSpace);
    let code = if p.mm.read().areas().iter().any(|a| a.end > va) { SEGV_ACCERR } else { SEGV_MAPERR };
    p.signals.borrow_mut().force(SigInfo { signo: SIGSEGV, code: code as i32, fields: SigFields::Fault { addr } });
}

/// rt_sigreturn: restores what the frame at sp holds. Returns the restored
/// x0, so the system-call return leaves it as it was; 0 for a refused
/// frame (Linux's badframe path), whose other registers stay as taken.
pub fn sigreturn(regs: &mut TrapFrame) -> u64 {
    let p = process::current();
    // A restart_syscall after a handler returns EINTR (Linux sets
    // restart_block.fn = do_no_restart_syscall).
    p.signals.borrow_mut().restart_block = None;
    let sp = regs.sp_el0;
    // The frame was pushed 16-byte aligned, so sp must be.
    let restored = if sp.is_multiple_of(16) { restore_sigframe(p, regs, sp) } else { Err(BadFrame::Invalid) };
    if restored.is_err() {
        // At the sp as it now is: the frame's own once its registers were
        // taken (Linux passes regs->sp after restore_sigframe).
        p.pending_fault.borrow_mut().report = Some(format!("rt_sigreturn with a bad frame at sp {:#x}", sp));
        notify_segfault(p, regs.sp_el0);
        return 0;
    }
    regs.x[0]
}
