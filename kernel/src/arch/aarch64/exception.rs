//! Exception dispatch: the Rust side of vectors.S.
//!
//! Synchronous exceptions from EL1 are expected only at instructions listed
//! in the fixup table (user copies, probes); anything else panics with the
//! decoded state. From EL0: synchronous exceptions go to the fault path and
//! system calls (fault.rs), IRQs to the interrupt handler; IRQs from EL1
//! come only to a CPU waiting with interrupts open (smp.rs:
//! wait_for_interrupt).

use core::sync::atomic::Ordering;

use super::cpu_local::this_cpu;

use super::esr::ExceptionClass;
use super::fixup;
use super::trap_frame::{Event, TrapFrame, VectorKind};

core::arch::global_asm!(
    include_str!("vectors.S"),
    kstack_shift = const super::mmu::layout::KERNEL_STACK_SHIFT,
    overflow_stack_size = const super::stack_overflow::OVERFLOW_STACK_SIZE,
);

/// The frame of the exception being handled on this CPU, if any (kept in
/// its per-CPU data, cpu_local.rs), for the panic handler's register dump.
pub fn current_frame() -> Option<&'static TrapFrame> {
    let p = this_cpu().current_frame().load(Ordering::Relaxed);
    // SAFETY: set only while handle_exception runs on this CPU with the
    // frame alive on its stack; a panic never returns into that frame.
    unsafe { p.as_ref() }
}

/// A task resumed on this CPU: its entry from EL0, whose frame tops its
/// kernel stack (vectors.S pushes it there; `new_user_entry` builds a new
/// task's there), is the exception being handled here again.
pub fn set_user_frame(stack: &super::mmu::kernel_map::KernelStack) {
    let frame = (stack.top().as_u64() - core::mem::size_of::<TrapFrame>() as u64) as *mut TrapFrame;
    this_cpu().current_frame().store(frame, Ordering::Relaxed);
}

/// The task left this CPU: no exception is being handled here.
pub fn clear_frame() {
    this_cpu().current_frame().store(core::ptr::null_mut(), Ordering::Relaxed);
}

/// Points VBAR_EL1 at the vector table.
pub fn install_vectors() {
    use aarch64_cpu::registers::VBAR_EL1;
    use tock_registers::interfaces::Writeable;
    extern "C" {
        static exception_vectors: u8;
    }
    VBAR_EL1.set(core::ptr::addr_of!(exception_vectors) as u64);
    aarch64_cpu::asm::barrier::isb(aarch64_cpu::asm::barrier::SY);
}

/// Never returns: it leaves through `exception_return` with SP at `frame`
/// (`leave`), which restores every register from the frame, so the
/// compiler has nothing of its own to restore on the way out.
#[no_mangle]
extern "C" fn handle_exception(frame: &mut TrapFrame, kind: u64) -> ! {
    // Entries from EL0 by their vector numbers first (VectorKind::from_index
    // gives the same answer, for the rest).
    match kind {
        // vectors.S sends entry 8 to handle_el0_sync; this arm only keeps
        // the numbers whole.
        VectorKind::LOWER_EL_SYNCHRONOUS => from_user(frame, Event::Synchronous),
        VectorKind::LOWER_EL_IRQ => from_user(frame, Event::Irq),
        _ => {
            // Only this CPU's exceptions nest here, with interrupts masked:
            // a load and a store of this CPU's slot, no atomic exchange. An
            // exception from EL1 does not switch tasks, so it ends on the
            // CPU it was taken on.
            let slot = this_cpu().current_frame();
            let previous = slot.load(Ordering::Relaxed);
            slot.store(frame, Ordering::Relaxed);
            match VectorKind::from_index(kind) {
                VectorKind::CurrentElSpx(Event::Synchronous) => kernel_sync(frame),
                // Only where a CPU opened its interrupts to wait (smp.rs:
                // wait_for_interrupt).
                VectorKind::CurrentElSpx(Event::Irq) => crate::irq::handle_in_kernel(),
                VectorKind::KernelStackOverflow => super::stack_overflow::report(),
                other => panic!("unexpected exception: {:?}", other),
            }
            slot.store(previous, Ordering::Relaxed);
        }
    }
    leave(frame)
}

/// Entry 8 of the vector table, a synchronous exception from EL0 (every
/// page fault and system call): `handle_exception` without the test of
/// the kind, which vectors.S knows.
#[no_mangle]
extern "C" fn handle_el0_sync(frame: &mut TrapFrame) -> ! {
    from_user(frame, Event::Synchronous);
    leave(frame)
}

/// Ends an exception: SP back at `frame`, the TrapFrame exception_common
/// pushed (and passed in x0, SP then), and on to `exception_return`
/// (vectors.S), which restores every register from it and returns with
/// ERET. What `handle_exception` left on the stack below the frame is
/// dropped: nothing of it is live, it owns nothing.
#[inline(always)]
fn leave(frame: &mut TrapFrame) -> ! {
    // SAFETY: `frame` is the frame vectors.S pushed on this stack and
    // handed to handle_exception, SP's value when it was called; the
    // stack below it holds only handle_exception's own frame, which is
    // not used again. exception_return reads the frame and ERETs.
    unsafe {
        core::arch::asm!(
            "mov sp, {frame}",
            "b exception_return",
            frame = in(reg) frame as *mut TrapFrame,
            options(noreturn)
        )
    }
}

/// A synchronous exception or an IRQ from EL0, from the MTE entry work to
/// the return's (inlined once for each, so that the event is known).
///
/// A page fault is first tried without the big kernel lock
/// (`fault_without_lock`): resolved with nothing due, it returns to EL0
/// from there. Everything else, and a fault that side leaves, takes the
/// lock (kernel_lock.rs) first, before anything shared is touched, and
/// releases it last, after the return's work: the task may have moved to
/// another CPU meanwhile (it yielded, and another CPU's runner resumed it
/// holding the lock), so the CPU's frame slot is cleared on the CPU it
/// returns from. An entry from EL0 nests in nothing.
///
/// The running process is looked up once for a fault that is resolved
/// (the common case): a fault never switches tasks, so the process the
/// entry found is still the one running at the return. After anything
/// that may (a system call, an interrupt, a signal) it is looked up again.
#[inline(always)]
fn from_user(frame: &mut TrapFrame, event: Event) {
    use super::el0_abort::{self, Fast};
    use crate::signal::deliver;

    // TPIDR_EL1 read once for the lock, the frame slot and the process
    // (nothing between them can move the task to another CPU).
    let cpu = this_cpu();
    // The boot-time switches (MTE, the heap's check mode, fault tracing
    // and measurement) are read once for both ends: all are set at boot,
    // before any entry from EL0.
    let work = super::entry_work::read();
    cpu.current_frame().store(frame, Ordering::Relaxed);
    let fast = match event {
        Event::Synchronous if el0_abort::is_user_abort(frame.esr()) => match fault_without_lock(frame, cpu, work) {
            Fast::Done(p) => {
                exit_to_user(p, work);
                if work.fault_cost() {
                    crate::fault_cost::finish(frame.entry_ticks[0]);
                }
                cpu.current_frame().store(core::ptr::null_mut(), Ordering::Relaxed);
                return;
            }
            other => other,
        },
        _ => Fast::NotAbort,
    };
    super::kernel_lock::lock_here(cpu);
    let p = crate::process::current_here(cpu);
    if p.outcome.borrow().is_some() {
        // Its process ended while it ran at EL0 on this CPU (exit_group
        // or exec in a thread on another CPU, the time limit): it exits
        // now, as a Linux thread dies of the group's SIGKILL at entry.
        crate::process::exit_if_killed();
    }
    p.last_spurious.set(None);
    entry_from_user(p, work);
    let resolved = match (event, fast) {
        // The fast side failed: its signal, without resolving again.
        (_, Fast::Failed(sig)) => {
            el0_abort::unresolved(frame, sig);
            None
        }
        // Told by the entry's test, not by a second look at the syndrome.
        (Event::Synchronous, Fast::NotAbort) => {
            el0_abort::user_sync(frame);
            None
        }
        (Event::Synchronous, _) => el0_abort::locked_abort(frame, p, work),
        _ => {
            crate::irq::handle();
            if super::ipi::take_need_resched() {
                crate::process::on_reschedule();
            }
            None
        }
    };
    let p = match resolved {
        Some(p) if deliver::nothing_pending(p) => p,
        _ => deliver::on_return_to_user(frame),
    };
    // What other CPUs notified is done (process/task_work.rs).
    p.work.handled();
    exit_to_user(p, work);
    if work.fault_cost() {
        crate::fault_cost::finish(frame.entry_ticks[0]);
    }
    // Read again: a system call may have moved the task to another CPU.
    let cpu = this_cpu();
    cpu.current_frame().store(core::ptr::null_mut(), Ordering::Relaxed);
    super::kernel_lock::unlock_here(cpu);
}

/// The fault path's fast side, from the entry's end (el0_abort.rs:
/// `resolve_without_lock`): tried only when the task's work word is clear
/// (process/task_work.rs: no signal, kill or new affinity from another
/// CPU since its last locked return) and no asynchronous tag check fault
/// waits in TFSRE0_EL1 (the locked entry notes it for the task); then the
/// MTE entry work every entry does (`enable_tag_checks`).
#[inline(always)]
fn fault_without_lock(
    frame: &TrapFrame,
    cpu: &super::cpu_local::CpuData,
    work: super::entry_work::EntryWork,
) -> super::el0_abort::Fast {
    let p = crate::process::current_unlocked(cpu);
    if p.work.due() || work.tagging() && async_tag_fault_recorded() {
        return super::el0_abort::Fast::NotTried;
    }
    if work.tagging() {
        enable_tag_checks(p, work);
    }
    super::el0_abort::resolve_without_lock(frame, cpu, p, work)
}

/// A new process's or thread's first return to EL0 (vectors.S's
/// ret_from_fork, where `new_user_entry` contexts start): the work every
/// return to EL0 does, so that a signal sent before it ever ran is handled
/// before its first instruction, as Linux's ret_from_fork -> ret_to_user ->
/// do_notify_resume handles it.
#[no_mangle]
///
/// The task starts holding the big kernel lock, which the runner that
/// switched to it took; it lets go of it last, as every return to EL0 does.
extern "C" fn first_return_to_user(frame: &mut TrapFrame) {
    this_cpu().current_frame().store(frame, Ordering::Relaxed);
    let p = crate::signal::deliver::on_return_to_user(frame);
    p.work.handled();
    exit_to_user(p, super::entry_work::read());
    this_cpu().current_frame().store(core::ptr::null_mut(), Ordering::Relaxed);
    super::kernel_lock::unlock();
}

/// What every entry from EL0 does first, for MTE (Linux's kernel_entry for
/// EL0 and mte_thread_switch rules, docs/mte.md section 8):
/// - an asynchronous tag check fault recorded in TFSRE0_EL1.TF0 becomes a
///   SIGSEGV (SEGV_MTEAERR, si_addr 0) for the process;
/// - in sync mode PSTATE.TCO (set by the exception) is cleared, so that the
///   kernel's unprivileged accesses to user memory are tag-checked like the
///   process's own and a mismatch ends the copy with EFAULT, not a signal.
#[inline(always)]
fn entry_from_user(p: &crate::process::Process, work: super::entry_work::EntryWork) {
    if !work.tagging() {
        return;
    }
    if async_tag_fault_recorded() {
        // Noted now, raised on the way back to EL0 (Linux's
        // TIF_MTE_ASYNC_FAULT), so that an execve in between drops it.
        use tock_registers::interfaces::Writeable;
        super::regs::TFSRE0_EL1.set(0);
        p.mte_async_fault.set(true);
    }
    enable_tag_checks(p, work);
}

/// Whether this CPU's TFSRE0_EL1 recorded an asynchronous tag check fault
/// of EL0's (SCTLR_EL1.ITFSB makes the exception entry synchronise it).
#[inline(always)]
fn async_tag_fault_recorded() -> bool {
    use super::regs::{TFSR::TF0, TFSRE0_EL1};
    use tock_registers::interfaces::Readable;
    TFSRE0_EL1.is_set(TF0)
}

/// The rest of the MTE entry work, with tagging on: the heap's own
/// asynchronous check, and PSTATE.TCO cleared where the kernel's accesses
/// must be checked.
#[inline(always)]
fn enable_tag_checks(p: &crate::process::Process, work: super::entry_work::EntryWork) {
    use super::mte_control::CheckMode;

    crate::mm::kasan::check_async_fault_if(work.heap_async(), "kernel entry");
    // With the heap tagged, the kernel's own accesses are checked, so TCO
    // is cleared for every task (Linux's mte_disable_tco_entry with
    // kasan_hw_tags_enabled()); LDTR/STTR follow TCF0, so a task with
    // checks off still sees no checks in its system calls. The heap's mode
    // first: with it on, the task's mode is not read.
    if work.heap_checks() || p.mte.mode() == CheckMode::Sync {
        // SAFETY: PSTATE.TCO only decides whether tag checks apply; the SPSR
        // restores the process's own value on return.
        unsafe { core::arch::asm!(".arch_extension memtag", "msr tco, #0", options(nomem, nostack)) };
    }
}

/// What every return to EL0 does last, for MTE (Linux's kernel_exit with
/// clear_mte_async_tcf): in async mode, a fault the kernel's own accesses
/// to user memory recorded in TFSRE0_EL1 is dropped, so that the task is
/// not sent SEGV_MTEAERR for a system call's copy (with checks off TCF0
/// records nothing; in sync mode a kernel mismatch is an EFAULT).
/// `p` is the running process, as `on_return_to_user` returned it.
#[inline(always)]
fn exit_to_user(p: &crate::process::Process, work: super::entry_work::EntryWork) {
    use super::mte_control::CheckMode;
    crate::mm::kasan::check_async_fault_if(work.heap_async(), "kernel exit");
    if work.tagging() && p.mte.mode() == CheckMode::Async {
        super::mte::discard_kernel_async_faults();
    }
}

/// Bytes a faulting load or store moved: from the syndrome when it holds
/// them (ISS.ISV, then SAS: 1 << SAS bytes), else from the instruction at
/// `pc` in the kernel's text (QEMU gives no ISV for tag check faults).
fn access_size(esr: super::esr::Esr, pc: u64) -> Option<usize> {
    if esr.iss() & (1 << 24) != 0 {
        return Some(1 << ((esr.iss() >> 22) & 3));
    }
    let text = super::mmu::kernel_map::image_regions()[0];
    if !(text.1.as_u64()..text.2.as_u64()).contains(&pc) || !pc.is_multiple_of(4) {
        return None;
    }
    // SAFETY: an aligned address inside the mapped, readable kernel text.
    let insn = unsafe { core::ptr::read_volatile(pc as *const u32) };
    super::esr::load_store_bytes(insn)
}

/// A synchronous exception taken from EL1 (SP_EL1). Out of line: entries
/// from EL0 do not pay for its registers.
#[inline(never)]
fn kernel_sync(frame: &mut TrapFrame) {
    let esr = frame.esr();
    let class = esr.class();
    if class.is_abort() {
        // A user-copy routine touched a user page that is not there yet:
        // fault it in and retry, exactly as if EL0 had touched it.
        if fixup::search(frame.elr).is_some() && super::el0_abort::kernel_access_to_user(frame) {
            return;
        }
        // A tag check fault on a heap address: the KASAN report (Linux's
        // report_tag_fault), then a probe's fixup or the panic.
        let kasan = class == ExceptionClass::DataAbortSameEl
            && esr.abort().is_some_and(|a| a.kind == super::esr::FaultKind::TagCheck)
            && crate::mm::kasan_report::tag_fault(
                frame.far,
                esr.abort().is_some_and(|a| a.write),
                access_size(esr, frame.elr),
                frame.elr,
            );
        let resume = match class {
            // The fetch at a branch target faulted: the listed instruction
            // is the BLR that went there (fixup::probe_execute).
            ExceptionClass::InstructionAbortSameEl => fixup::search_branch(frame.elr, frame.far, frame.x[30]),
            _ => fixup::search(frame.elr),
        };
        if let Some(resume) = resume {
            frame.x[fixup::FIXUP_ESR_REGISTER] = esr.0;
            frame.elr = resume;
            return;
        }
        if kasan {
            // KASAN's panic_on_warn, as Linux's kasan tests run with.
            panic!("KASAN: tag check fault at {:#x} reported above (panic_on_warn)", frame.far);
        }
        panic!(
            "kernel {} at {:#x}",
            if class == ExceptionClass::DataAbortSameEl { "data abort" } else { "instruction abort" },
            frame.far
        );
    }
    panic!("unexpected synchronous exception in the kernel: {}", esr);
}
