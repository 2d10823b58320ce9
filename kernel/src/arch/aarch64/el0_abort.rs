//! The AArch64 half of the fault path: decoding a synchronous exception
//! from EL0 (or a kernel access to user memory) into "what was accessed, how,
//! and was a page there", handing it to the generic resolver (mm/fault.rs),
//! and turning what cannot be resolved into the signal Linux would send
//! (arch/arm64/mm/fault.c: do_translation_fault, do_page_fault, do_bad_area).

use alloc::format;

use linux_raw_sys::general::{
    BUS_ADRALN, BUS_ADRERR, BUS_OBJERR, ILL_ILLOPC, SEGV_ACCERR, SEGV_MAPERR, SEGV_MTESERR, SIGBUS, SIGILL, SIGKILL,
    SIGSEGV, SIGTRAP, SI_KERNEL, TRAP_BRKPT, TRAP_TRACE,
};

use super::cpu_local::CpuData;
use super::entry_work::EntryWork;
use super::esr::{Esr, ExceptionClass, FaultKind};
use super::trap_frame::TrapFrame;
use crate::exec::elf::USER_END;
use crate::mm::addr::VirtAddr;
use crate::mm::fault::{self, Access, FaultError};
use crate::mm::tagged_addr::{tag_check_fault_address, untagged_addr};
use crate::process::{self, Process};
use crate::signal::{PendingFault, SigFields, SigInfo};

/// A signal and its si_code, with the code's name for reports.
#[derive(Clone, Copy)]
pub struct Sig {
    signal: u32,
    code: u32,
    name: &'static str,
}

const MAPERR: Sig = Sig { signal: SIGSEGV, code: SEGV_MAPERR, name: "SEGV_MAPERR" };
const ACCERR: Sig = Sig { signal: SIGSEGV, code: SEGV_ACCERR, name: "SEGV_ACCERR" };
/// The out-of-memory kill (Linux's oom_kill_process: SIGKILL, SI_KERNEL).
const OOM_KILL: Sig = Sig { signal: SIGKILL, code: SI_KERNEL, name: "out of memory" };

/// How an abort maps onto the generic resolver, or the signal to send
/// (Linux's fault_info[] column of signals and codes).
enum Decoded {
    Resolve { access: Access },
    Signal(Sig),
}

#[inline(always)]
fn decode(esr: Esr) -> Decoded {
    // Every fault the resolver takes, told from the syndrome's bits
    // without building the decoded abort (esr.rs).
    if let Some(write) = esr.page_fault_write() {
        // A data abort's EC has bit 2 set (0x24, 0x25), an instruction abort's not.
        let access = if esr.ec() & 0b100 == 0 {
            Access::Execute
        } else if write {
            Access::Write
        } else {
            Access::Read
        };
        return Decoded::Resolve { access };
    }
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
        FaultKind::Alignment => Decoded::Signal(Sig { signal: SIGBUS, code: BUS_ADRALN, name: "BUS_ADRALN" }),
        FaultKind::TagCheck => Decoded::Signal(Sig { signal: SIGSEGV, code: SEGV_MTESERR, name: "SEGV_MTESERR" }),
        FaultKind::ExternalAbort | FaultKind::ExternalAbortOnWalk { .. } | FaultKind::ParityOrEcc => {
            Decoded::Signal(Sig { signal: SIGBUS, code: BUS_OBJERR, name: "BUS_OBJERR" })
        }
        _ => Decoded::Signal(MAPERR),
    }
}

/// Tries to resolve `far` in `p`, the current process: what was done, or
/// the signal on failure. Inlined, as `decode` and `user_abort`: the fault
/// path is one function from `user_sync` to the generic resolver.
#[inline(always)]
fn resolve_or_signal(
    p: &Process,
    work: EntryWork,
    far: u64,
    esr: Esr,
    access: Access,
) -> Result<fault::Resolution, Sig> {
    // Linux's do_page_fault: untagged_addr(far), the tag TBI0 ignored.
    let va = untagged_addr(far);
    let result =
        if va >= USER_END { Err(FaultError::Unmapped) } else { fault::handle(&p.mm.read(), VirtAddr::new(va), access) };
    if work.fault_trace() {
        trace(*p.pid, far, esr, access, result);
    }
    match result {
        // A spurious fault (the page was there and allowed: a TLB entry or
        // a walk that had not seen the new entry yet) is retried, however
        // often, as Linux does: a new user entry is written without a DSB
        // (mm/address_space.rs: UserPage::replace, step 6; Linux's set_pte
        // issues one only for kernel entries), so on
        // hardware the retried access may fault again before the walker
        // sees it. The refresh invalidates the page's TLB entry after a
        // DSB, which bounds this; at EL0 the timer can always preempt.
        Ok(r) => {
            p.faults.count(r.what);
            if work.fault_cost() {
                crate::fault_cost::note(r);
            }
            Ok(r.what)
        }
        Err(FaultError::Unmapped) => Err(MAPERR),
        Err(FaultError::NotPermitted) => Err(ACCERR),
        Err(FaultError::NoPage) => Err(Sig { signal: SIGBUS, code: BUS_ADRERR, name: "BUS_ADRERR" }),
        // Linux's VM_FAULT_OOM from a user fault invokes the OOM killer,
        // which sends SIGKILL; here the faulting process is the one that goes.
        Err(FaultError::OutOfMemory) => Err(OOM_KILL),
    }
}

/// `trace=faults`: one line for the fault just resolved (or not). Out of
/// line: the fault path does not pay for the formatting's registers.
#[cold]
#[inline(never)]
fn trace(pid: process::Pid, far: u64, esr: Esr, access: Access, result: Result<fault::Resolved, FaultError>) {
    let abort = esr.abort().expect("an abort");
    let action = match result {
        Ok(r) => r.what.describe(),
        Err(FaultError::Unmapped) => "no area: SEGV_MAPERR",
        Err(FaultError::NotPermitted) => "not permitted: SEGV_ACCERR",
        Err(FaultError::OutOfMemory) => "out of memory",
        Err(FaultError::NoPage) => "no page there: SIGBUS BUS_ADRERR",
    };
    log::info!(
        "pid {} {} {:#x}: {} -> {}",
        pid.0,
        access.name(),
        far,
        crate::arch::aarch64::esr::fault_info(abort.status_code).name,
        action
    );
}

/// What the fault path's fast side did with an abort from EL0
/// ([`resolve_without_lock`]).
pub enum Fast {
    /// Resolved, and nothing is due: back to EL0 without the kernel lock.
    Done(&'static Process),
    /// Not tried (not a fault the resolver takes, work due at entry): the
    /// locked path does all of it.
    NotTried,
    /// Not an abort (a system call, another synchronous exception, an
    /// IRQ): the locked path's, without the fast side.
    NotAbort,
    /// Not resolved: the locked path raises this signal, without resolving
    /// again (a second try could see another thread's mmap or munmap made
    /// in between, and answer differently from the fault counted here).
    Failed(Sig),
}

/// The fault path's fast side (docs/smp.md, section 1): an abort from
/// EL0 that the resolver takes (a translation, access flag or permission
/// fault, `Esr::page_fault_write`), resolved under the address space's
/// own lock only, before the entry takes the big kernel lock. `p`, the
/// task running here, read without that lock: its work word was clear
/// when the caller looked (exception.rs: `fault_without_lock`).
///
/// What it touches of `p`: the address space (`mm`, which only the task
/// itself replaces, at exec; the space has its own lock), `faults`
/// (relaxed atomics whose one writer is the task), `work` (atomic, read),
/// `pid` (read for `trace=faults`'s line; only the task itself changes
/// it, at exec). Measured faults (`bench`) are measured here too:
/// fault_cost.rs keeps the pending one per CPU. What it does
/// not: `last_spurious` (reset at each locked entry; used only by a
/// system call's user copies), `mte_async_fault` (the caller sends an
/// entry with TFSRE0_EL1.TF0 set to the locked path, which notes it),
/// `signals`, `outcome`, `ptrace` (changed by other CPUs under the kernel
/// lock, which notify the work word first: task_work.rs). A stepped task
/// (ptrace's single step) needs nothing here: its SPSR.SS in the frame is
/// returned to as it was, and the retried instruction is the step.
#[inline(always)]
pub fn resolve_without_lock(frame: &TrapFrame, cpu: &CpuData, p: &'static Process, work: EntryWork) -> Fast {
    let esr = frame.esr();
    if esr.page_fault_write().is_none() {
        return Fast::NotTried;
    }
    let Decoded::Resolve { access } = decode(esr) else { return Fast::NotTried };
    let result = resolve_or_signal(p, work, frame.far, esr, access);
    // A fault returns with nothing held: the space's lock and every lock
    // inside the resolver are released (sync/lock_order.rs).
    crate::sync::lock_order::assert_none_held_except(crate::sync::Rank::KernelLock);
    match result {
        Ok(_) => {
            // Sampled once, at the end: enough to show that faults and
            // the lock's holders run at once (docs/smp.md, section 1).
            cpu.count_fast_fault(super::kernel_lock::held());
            // The work word is not read again: a change made since the
            // caller read it was followed by its kick, whose IPI is taken
            // as soon as the eret unmasks IRQs (task_work.rs).
            Fast::Done(p)
        }
        Err(sig) => Fast::Failed(sig),
    }
}

/// Whether `esr` is an instruction or data abort from EL0 (EC 0x20, 0x24),
/// the classes `user_abort` takes, told by number as `user_sync` tells them.
#[inline(always)]
pub fn is_user_abort(esr: Esr) -> bool {
    esr.ec() | 0b100 == 0x24
}

/// An instruction or data abort taken from EL0 by `p`, the current process
/// (exception.rs looked it up once for the whole entry): `p` back when the
/// fault was resolved, the signal otherwise, for [`unresolved`] (which the
/// caller makes once `p` is dropped: it looks the process up itself).
#[inline(always)]
pub fn user_abort(frame: &TrapFrame, p: &'static Process, work: EntryWork) -> Result<&'static Process, Sig> {
    let esr = frame.esr();
    match decode(esr) {
        Decoded::Resolve { access } => resolve_or_signal(p, work, frame.far, esr, access).map(|_| p),
        Decoded::Signal(sig) => Err(sig),
    }
}

/// An abort from EL0 that the fast side left to the locked path (work was
/// due, or not a fault the resolver takes): `p` back if it was resolved.
/// Out of line: the fault path's hot copy of the resolver is the fast
/// side's.
#[inline(never)]
pub fn locked_abort(frame: &TrapFrame, p: &'static Process, work: EntryWork) -> Option<&'static Process> {
    match user_abort(frame, p, work) {
        Ok(p) => Some(p),
        Err(sig) => {
            unresolved(frame, sig);
            None
        }
    }
}

/// The signal for an abort from EL0 that was not resolved. Out of line, as
/// `trace`.
#[cold]
#[inline(never)]
pub fn unresolved(frame: &TrapFrame, sig: Sig) {
    let addr = if sig.code == SEGV_MTESERR && sig.signal == SIGSEGV {
        // FAR_EL1[63:60] are UNKNOWN after a tag check fault; Linux
        // replaces them from the untagged address (do_tag_check_fault).
        tag_check_fault_address(frame.far)
    } else {
        frame.far
    };
    force(frame, sig, addr);
    // Only aborts have a fault address for uc_mcontext (Linux's
    // thread.fault_address, set from untagged_addr(far) by
    // set_thread_esr), without its tag.
    process::current().pending_fault.borrow_mut().address = Some(untagged_addr(frame.far));
}

/// Raises the fault's signal, forced (it cannot be blocked or ignored
/// away), with a one-line report kept for the case where it ends the process.
fn force(frame: &TrapFrame, sig: Sig, addr: u64) {
    let p = process::current();
    let report = if sig.signal == OOM_KILL.signal && sig.code == OOM_KILL.code {
        // Linux's oom_kill_process report, in one line: what was asked, and
        // where the memory is.
        let frames = crate::mm::frame::stats();
        let (owned, peak) = p.mm.read().owned_frames();
        let report = format!(
            "out of memory: no frame for the fault at {:#x}, pc {:#x}; {} of {} frames in use, {} of them this process's (peak {})",
            frame.far, frame.elr, frames.used(), frames.total, owned, peak
        );
        log::warn!("pid {} ({}): killed: {}", p.pid.0, p.name.borrow(), report);
        report
    } else {
        let report = format!("{} at {:#x}, pc {:#x}: {}", sig.name, frame.far, frame.elr, frame.esr());
        log::info!("pid {} ({}): {} {}", p.pid.0, p.name.borrow(), process::outcome::signal_name(sig.signal), report);
        report
    };
    p.pending_fault.set(PendingFault { report: Some(report), esr: Some(frame.esr), address: None });
    p.signals.borrow_mut().force(SigInfo { signo: sig.signal, code: sig.code as i32, fields: SigFields::Fault { addr } });
}

/// An abort from EL0 reached through `user_sync`, which looks the process
/// up itself. Out of line: exception.rs takes aborts before `user_sync`.
#[cold]
#[inline(never)]
fn aborted(frame: &TrapFrame) {
    if let Err(sig) = user_abort(frame, process::current(), super::entry_work::read()) {
        unresolved(frame, sig);
    }
}

/// A synchronous exception from EL0 other than an abort (exception.rs
/// sends those to `user_abort` with the process it looked up; one that
/// reaches here is handled all the same). Inlined into handle_exception:
/// one frame, one set of saved registers, from the vector to the return.
#[inline(always)]
pub fn user_sync(frame: &mut TrapFrame) {
    let esr = frame.esr();
    // A system call, the common case, told by number as `is_user_abort`
    // tells aborts (Linux's el0t_64_sync_handler switches on the EC
    // itself): through `class` it was some twenty instructions of table
    // look-up and enum match on every call.
    if esr.is_svc64() {
        crate::syscall::dispatch(frame);
        // ptrace: a stepped task reports the end of the call.
        crate::process::ptrace::syscall_exit();
        return;
    }
    // Every class but Svc64, which is told above.
    match esr.class() {
        ExceptionClass::DataAbortLowerEl | ExceptionClass::InstructionAbortLowerEl => aborted(frame),
        ExceptionClass::PcAlignment | ExceptionClass::SpAlignment => {
            force(frame, Sig { signal: SIGBUS, code: BUS_ADRALN, name: "BUS_ADRALN" }, frame.elr)
        }
        // WFI (and WFIT: ISS.TI bit 0 clear) traps, SCTLR_EL1.nTWI being 0,
        // and is a no-op, as Linux's wfi_handler makes it: the program
        // goes on at the next instruction, and the CPU is not idled for it.
        ExceptionClass::WfiWfe if esr.iss() & 1 == 0 => frame.elr += 4,
        ExceptionClass::Brk64 | ExceptionClass::BreakpointLowerEl => {
            force(frame, Sig { signal: SIGTRAP, code: TRAP_BRKPT, name: "TRAP_BRKPT" }, frame.elr)
        }
        ExceptionClass::SoftwareStepLowerEl => software_step(frame),
        _ => force(frame, Sig { signal: SIGILL, code: ILL_ILLOPC, name: "ILL_ILLOPC" }, frame.elr),
    }
}

/// The Software Step exception (EC 0x32) of a task stepped by
/// PTRACE_SINGLESTEP: it executed one instruction and is stopped before the
/// next (Arm ARM (DDI 0487K.a), "Software Step exceptions"; arch/aarch64/debug.rs). Linux's single_step_handler:
/// SIGTRAP, si_code TRAP_TRACE, si_addr the pc; and user_rewind_single_step:
/// SPSR.SS is set again, so that if the tracer lets it go on still stepping
/// it executes exactly one more instruction. Logged at debug level only: a
/// debugger steps thousands of times.
fn software_step(frame: &mut TrapFrame) {
    let p = process::current();
    if p.ptrace.borrow().single_step {
        frame.spsr = super::debug::with_step(frame.spsr, true);
    }
    log::debug!("pid {} ({}): software step at pc {:#x}", p.pid.0, p.name.borrow(), frame.elr);
    p.pending_fault.set(PendingFault {
        report: Some(format!("TRAP_TRACE (software step) at pc {:#x}", frame.elr)),
        esr: Some(frame.esr),
        address: None,
    });
    p.signals.borrow_mut().force(SigInfo { signo: SIGTRAP, code: TRAP_TRACE as i32, fields: SigFields::Fault { addr: frame.elr } });
}

/// A kernel access to a user address faulted (inside a uaccess routine):
/// resolve it like a user fault so the copy can be retried. `false` if it
/// cannot be resolved; the caller then applies the fixup (EFAULT). The
/// kernel runs with interrupts masked, so unlike EL0 it is not retried
/// without end: the same access (address and instruction) finding its page
/// fine twice in a row, after a refresh that invalidated its TLB entry,
/// can never succeed, and the copy fails with EFAULT rather than hang the
/// kernel. A fault that lost its race to another fault (`Raced`: a thread
/// on another CPU changed the entry first) is progress, not such a find:
/// it clears the record and is retried however often, as Linux retries
/// every resolved uaccess fault. It cannot go on for ever: each one is a
/// change of this entry by another CPU's fault, and under the shared side
/// of the space's lock those only move a page forward (none, a shared
/// page, a private one; read-only to writable). The record is cleared at
/// each entry from EL0 (exception.rs).
pub fn kernel_access_to_user(frame: &TrapFrame) -> bool {
    if !process::has_current() || untagged_addr(frame.far) >= USER_END {
        return false;
    }
    let access = (frame.far, frame.elr);
    let p = process::current();
    let resolved = match decode(frame.esr()) {
        Decoded::Resolve { access } => {
            resolve_or_signal(p, super::entry_work::read(), frame.far, frame.esr(), access)
        }
        Decoded::Signal(_) => return false,
    };
    match resolved {
        Ok(fault::Resolution::Spurious) if p.last_spurious.get() == Some(access) => false,
        Ok(what) => {
            p.last_spurious.set((what == fault::Resolution::Spurious).then_some(access));
            true
        }
        Err(_) => false,
    }
}
