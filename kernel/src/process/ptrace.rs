//! ptrace's tracer/tracee relation and its stops (Linux's kernel/ptrace.c,
//! and the ptrace parts of kernel/signal.c: ptrace_stop, ptrace_signal).
//!
//! A tracee stops on every signal about to be delivered to it (a
//! *signal-delivery-stop*): on its way back to EL0 it takes the signal off
//! its pending set, copies its EL0 registers into `Stop`, tells its tracer
//! (SIGCHLD with CLD_TRAPPED, and a wake-up for whichever thread of the
//! tracer's process sits in wait4/waitid) and blocks in `State::Traced`.
//! The tracer reads and writes the copy while the tracee is stopped, and
//! only then: the tracee is not running, so its registers are nowhere else
//! (as if another CPU ran beside us, the copy is the one place they live
//! while it is stopped). PTRACE_CONT / SINGLESTEP / DETACH record the signal
//! to deliver (0: none) and make it runnable; it writes the copy back into
//! its trap frame and delivers that signal as if it had just been dequeued.
//! SIGKILL never stops: it wakes a stopped tracee, which then dies.
//!
//! Simplifications (docs/ptrace.md lists them): no syscall stops
//! (PTRACE_SYSCALL), no PTRACE_EVENT stops (SEIZE options are accepted and
//! kept), no group-stop (SIGSTOP's default action is ignored here), and the
//! exit of a traced non-leader thread is not reported to the tracer.

use linux_raw_sys::general::{CLD_TRAPPED, SA_NOCLDSTOP, SIGCHLD, SIGKILL, SIGSTOP, SIGTRAP, SI_KERNEL, SI_USER};

use super::lifecycle::{current, Process, State};
use super::outcome::Outcome;
use super::scheduler;
use crate::arch::aarch64::debug;
use crate::arch::aarch64::trap_frame::TrapFrame;
use crate::signal::{Next, SigFields, SigInfo, SigSet};

/// Linux's PTRACE_O_EXITKILL: the tracee gets SIGKILL when its tracer exits.
pub const OPTION_EXITKILL: u32 = 0x10_0000;
/// Every PTRACE_O_* option Linux 6.1 knows (PTRACE_O_MASK).
pub const OPTIONS_MASK: u32 = 0x00ff | OPTION_EXITKILL | 0x20_0000;

/// A tracee's EL0 registers, as NT_PRSTATUS shows them (struct
/// user_pt_regs: x0-x30, sp, pc, pstate).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UserRegs {
    pub x: [u64; 31],
    pub sp: u64,
    pub pc: u64,
    pub pstate: u64,
}

impl UserRegs {
    fn of(frame: &TrapFrame) -> Self {
        Self { x: frame.x, sp: frame.sp_el0, pc: frame.elr, pstate: frame.spsr }
    }

    fn store(&self, frame: &mut TrapFrame) {
        frame.x = self.x;
        frame.sp_el0 = self.sp;
        frame.elr = self.pc;
        frame.spsr = self.pstate;
    }
}

/// A tracee in a ptrace-stop: what it stopped for and its registers.
#[derive(Clone, Debug)]
pub struct Stop {
    /// The signal it stopped with (PTRACE_GETSIGINFO / SETSIGINFO); for an
    /// event stop, SIGTRAP with si_code `(event << 8) | SIGTRAP`.
    pub info: SigInfo,
    /// 0 for a signal-delivery-stop, else the PTRACE_EVENT_* it stopped for.
    pub event: u32,
    /// PTRACE_GETEVENTMSG of an event stop (exec: the tid before exec).
    pub message: u64,
    pub regs: UserRegs,
    /// NT_ARM_SYSTEM_CALL: -1 (NO_SYSCALL) in a signal-delivery-stop; the
    /// tracer may set it, to no effect (there are no syscall stops).
    pub syscallno: i32,
    /// wait4/waitid has reported this stop (without WNOWAIT). That takes
    /// the signal: if the tracer then exits without resuming it, it is not
    /// delivered (Linux's wait_task_stopped clears exit_code).
    pub reported: bool,
    /// The tracer let it go on: the signal to deliver (0: none).
    pub resume: Option<u32>,
}

/// A task's side of ptrace.
#[derive(Clone, Debug, Default)]
pub struct Tracing {
    /// The tracing task's tid (Linux's task->parent while ptraced).
    pub tracer: Option<u32>,
    /// Attached by PTRACE_SEIZE: no SIGSTOP at attach, no SIGTRAP at exec.
    pub seized: bool,
    /// PTRACE_O_* options (SEIZE's data, SETOPTIONS).
    pub options: u32,
    /// Resumed by PTRACE_SINGLESTEP (Linux's TIF_SINGLESTEP): MDSCR_EL1.SS
    /// is set whenever it runs (arch/aarch64/debug.rs).
    pub single_step: bool,
    pub stop: Option<Stop>,
}

/// PTRACE_O_TRACEEXEC: an event stop at exec instead of SIGTRAP.
pub const OPTION_TRACEEXEC: u32 = 0x10;
/// PTRACE_EVENT_EXEC.
pub const EVENT_EXEC: u32 = 4;

impl Stop {
    /// Linux's exit_code of the stop: the signal, with the event above it
    /// (`(PTRACE_EVENT_EXEC << 8) | SIGTRAP`).
    pub fn code(&self) -> u32 {
        (self.event << 8) | self.info.signo
    }
}

/// How `status` of wait4 encodes a ptrace-stop with exit code `code`:
/// WIFSTOPPED, WSTOPSIG the signal, the event in bits 16-23.
pub fn stop_status(code: u32) -> u32 {
    (code << 8) | 0x7f
}

/// What the next deliverable signal does, for `p` about to return to EL0
/// with `regs`: `SignalState::next`, with a signal-delivery-stop for every
/// signal but SIGKILL when `p` is traced (Linux's get_signal and
/// ptrace_signal). The tracer may cancel the signal, replace it, or let it
/// through; a replacement that is blocked goes back to the pending set.
pub fn next_signal(p: &Process, regs: &mut TrapFrame) -> Next {
    loop {
        if p.ptrace.borrow().tracer.is_none() {
            return p.signals.borrow_mut().next();
        }
        let allowed = SigSet(!p.signals.borrow().blocked.0);
        let Some((info, fault)) = p.signals.borrow_mut().dequeue(allowed) else { return Next::Nothing };
        if info.signo == SIGKILL {
            return Next::Terminate(info);
        }
        let Some(delivered) = signal_delivery_stop(p, regs, info) else { continue };
        // A fault's details stay with it only if the tracer let it through.
        let fault = fault.filter(|_| delivered == info);
        let info = delivered;
        if p.signals.borrow().blocked.contains(info.signo) {
            // A standard signal always queues; a real-time one may be lost
            // to a full queue, as Linux's send_signal_locked loses it.
            let _ = p.signals.borrow_mut().send(info, true);
            continue;
        }
        if let Some(next) = p.signals.borrow().decide(info, fault) {
            return next;
        }
    }
}

/// Stops `p` for `info` until its tracer resumes it; the signal to deliver
/// then, if any (Linux's ptrace_signal).
fn signal_delivery_stop(p: &Process, regs: &mut TrapFrame, info: SigInfo) -> Option<SigInfo> {
    if tracer_group(p).is_none() {
        // The tracer is gone without detaching it (it cannot be: every
        // exit path detaches): nobody would ever resume it, so it is not
        // traced any more.
        set_tracing(p, Tracing::default());
        return Some(info);
    }
    let stop = ptrace_stop(p, regs, info, 0, 0)?;
    let p = current();
    let signo = stop.resume?;
    if signo == 0 {
        return None;
    }
    if signo == stop.info.signo {
        return Some(stop.info);
    }
    // The tracer chose another signal: it comes from the tracer (SI_USER).
    let sender = p.ptrace.borrow().tracer.unwrap_or(p.parent.get());
    Some(SigInfo { signo, code: SI_USER as i32, fields: SigFields::Sender { pid: sender } })
}

/// Linux's ptrace_stop: `p` copies its EL0 registers from `regs` into a
/// `Stop`, tells its tracer and blocks until resumed (by the tracer, its
/// exit, or SIGKILL); then takes the registers back, as the tracer left
/// them, and returns the stop (`None` if it has none: cannot happen).
fn ptrace_stop(p: &Process, regs: &mut TrapFrame, info: SigInfo, event: u32, message: u64) -> Option<Stop> {
    // Linux's do_signal calls forget_syscall before get_signal: in a
    // signal-delivery-stop the system call number is always NO_SYSCALL.
    let syscallno = -1;
    let stop = Stop { info, event, message, regs: UserRegs::of(regs), syscallno, reported: false, resume: None };
    let code = stop.code();
    p.ptrace.borrow_mut().stop = Some(stop);
    log::debug!("pid {} ({}) ptrace-stop, exit code {:#x}", p.pid.0, p.name.borrow(), code);
    notify_tracer(p, code);
    scheduler::block(State::Traced);
    let stop = current().ptrace.borrow_mut().stop.take()?;
    stop.regs.store(regs);
    Some(stop)
}

/// Tells `p`'s tracer that `p` stopped with exit code `signo`: SIGCHLD with
/// CLD_TRAPPED unless its handler asked for SA_NOCLDSTOP, and its waiters
/// look again (Linux's do_notify_parent_cldstop).
fn notify_tracer(p: &Process, signo: u32) {
    let Some(tracer) = p.ptrace.borrow().tracer.and_then(scheduler::get) else { return };
    if tracer.signals.borrow().action(SIGCHLD).flags & SA_NOCLDSTOP as u64 == 0 {
        let info = SigInfo {
            signo: SIGCHLD,
            code: CLD_TRAPPED as i32,
            // si_status = exit_code & 0x7f: the signal, without the event.
            fields: SigFields::Child { pid: p.pid.0, status: (signo & 0x7f) as i32 },
        };
        // A standard signal is never refused.
        let traced = tracer.ptrace.borrow().tracer.is_some();
        let _ = tracer.signals.borrow_mut().send(info, traced);
    }
    scheduler::wake_waiters(tracer.tgid);
}

/// Whether `p` is held for a tracer outside its parent's process: its
/// parent may not reap it until that tracer has seen it end or detached
/// (Linux's wait_consider_task: "a zombie ptracee is only visible to its
/// ptracer").
pub fn held_by_tracer(p: &Process) -> bool {
    tracer_group(p).is_some_and(|tracer| tracer != p.parent.get())
}

/// The thread group of `p`'s tracer, if it is traced.
pub fn tracer_group(p: &Process) -> Option<u32> {
    p.ptrace.borrow().tracer.and_then(scheduler::get).map(|t| t.tgid)
}

/// Why PTRACE_ATTACH / SEIZE / TRACEME refuse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttachError {
    /// No such task (ESRCH).
    NoTask,
    /// Itself, its own process, an exiting task, or one already traced
    /// (EPERM).
    NotPermitted,
}

/// PTRACE_ATTACH (`seize` false: the tracee gets SIGSTOP, reported as its
/// first stop) or PTRACE_SEIZE with `options`: the caller traces task
/// `tid`. Linux's ptrace_attach, as root: any task but one of the caller's
/// own process, not exiting, not already traced.
pub fn attach(tid: u32, seize: bool, options: u32) -> Result<(), AttachError> {
    let me = current();
    let (my_tid, my_tgid) = (me.pid.0, me.tgid);
    let target = scheduler::get(tid).ok_or(AttachError::NoTask)?;
    if target.tgid == my_tgid || target.state.get() == State::Zombie || target.ptrace.borrow().tracer.is_some() {
        return Err(AttachError::NotPermitted);
    }
    // A stop the last tracer ended that the task has not left yet keeps
    // the signal it was given (Linux's exit_code survives a new attach).
    let stop = target.ptrace.borrow_mut().stop.take();
    set_tracing(target, Tracing { tracer: Some(my_tid), seized: seize, options, stop, ..Tracing::default() });
    log::debug!("pid {} {} pid {}", my_tid, if seize { "seized" } else { "attached to" }, tid);
    if !seize {
        // SEND_SIG_PRIV: si_code SI_KERNEL, no sender.
        let stop = SigInfo { signo: SIGSTOP, code: SI_KERNEL as i32, fields: SigFields::Sender { pid: 0 } };
        // A standard signal always queues.
        let _ = scheduler::signal_task(tid, stop);
    }
    Ok(())
}

/// PTRACE_TRACEME: the caller's parent becomes its tracer (Linux's
/// ptrace_traceme; EPERM if it is traced already, or has no parent but the
/// runner).
pub fn trace_me() -> Result<(), AttachError> {
    let me = current();
    if me.ptrace.borrow().tracer.is_some() || scheduler::get(me.parent.get()).is_none() {
        return Err(AttachError::NotPermitted);
    }
    set_tracing(me, Tracing { tracer: Some(me.parent.get()), ..Tracing::default() });
    Ok(())
}

/// The tracee `tid` of the caller, for a request other than ATTACH: it must
/// be traced by the calling thread and, unless `any_state`, be in a
/// ptrace-stop (Linux's ptrace_check_attach; ESRCH otherwise).
pub fn tracee(tid: u32, any_state: bool) -> Option<&'static Process> {
    let me = current().pid.0;
    let t = scheduler::get(tid)?;
    let stopped = t.state.get() == State::Traced && t.ptrace.borrow().stop.is_some();
    (t.ptrace.borrow().tracer == Some(me) && t.state.get() != State::Zombie && (any_state || stopped)).then_some(t)
}

/// PTRACE_CONT / SINGLESTEP: `t` (stopped) runs on, delivering `signo`
/// (0: none), and with `step` stops again after one instruction. As Linux's
/// user_enable_single_step, the SS bit of its saved PSTATE is set only when
/// stepping starts: a task already stepping keeps the SS the hardware left
/// (0 after an SVC, so the next step stops before the following
/// instruction); user_disable_single_step leaves it, as MDSCR_EL1.SS is
/// then off.
pub fn resume(t: &Process, signo: u32, step: bool) {
    let starts = step && !t.ptrace.borrow().single_step;
    t.ptrace.borrow_mut().single_step = step;
    if let Some(stop) = t.ptrace.borrow_mut().stop.as_mut() {
        if starts {
            stop.regs.pstate = debug::with_step(stop.regs.pstate, true);
        }
        stop.resume = Some(signo);
    }
    // Only a ptrace-stop ends here: a tracee detached while it sleeps in a
    // system call (the tracer's exit) sleeps on.
    if t.state.get() == State::Traced {
        scheduler::wake(t.pid.0);
    }
}

/// PTRACE_DETACH (and the tracer's exit): `t` is no longer traced; if it is
/// stopped it runs on, delivering `signo` (Linux's __ptrace_detach).
pub fn detach(t: &Process, signo: u32) {
    let pid = t.pid.0;
    resume(t, signo, false);
    let stop = t.ptrace.borrow_mut().stop.take();
    set_tracing(t, Tracing { stop, ..Tracing::default() });
    log::debug!("pid {} detached", pid);
}

/// `t`'s tracing becomes `tracing`; its tracer changes through the table,
/// whose index of tracees follows (pid_table.rs).
fn set_tracing(t: &Process, tracing: Tracing) {
    let tracer = tracing.tracer;
    let now = t.ptrace.borrow().tracer;
    t.ptrace.set(Tracing { tracer: now, ..tracing });
    scheduler::set_tracer(t.pid.0, tracer);
}

/// Task `tid` is ending: its tracees are detached (Linux's exit_ptrace).
/// A stopped one runs on, with the signal it stopped with unless its
/// tracer's wait already took it; with PTRACE_O_EXITKILL it gets SIGKILL.
/// Its tracees come from the table's index: an exit costs the same
/// however many tasks live.
pub fn tracer_exiting(tid: u32) {
    let tracees: alloc::vec::Vec<u32> = scheduler::tracees_of(tid).map(|t| t.pid.0).collect();
    for pid in tracees {
        let Some(t) = scheduler::get(pid) else { continue };
        let kill = t.ptrace.borrow().options & OPTION_EXITKILL != 0;
        let signo = t.ptrace.borrow().stop.as_ref().filter(|s| !s.reported).map_or(0, |s| s.info.signo);
        detach(t, signo);
        // An ended tracee it held is its parent's to reap now.
        if t.state.get() == State::Zombie {
            scheduler::wake_waiters(t.parent.get());
        }
        if kill {
            let info = SigInfo { signo: SIGKILL, code: SI_KERNEL as i32, fields: SigFields::Sender { pid: 0 } };
            let _ = scheduler::signal_task(pid, info);
        }
    }
}

/// A system call of the current task is done. A task being stepped gets
/// SIGTRAP (SI_USER, no sender), so its tracer sees it stop after the call
/// (Linux's syscall_trace_exit with TIF_SINGLESTEP: report_syscall,
/// user_single_step_report).
///
/// Inlined into every system call's return: the look is a load and a
/// test; the rare stepped case is out of line, so that the common one
/// does not pay for a call and its saved registers.
#[inline(always)]
pub fn syscall_exit() {
    let p = current();
    // One borrow for both looks: this runs after every system call.
    let tracing = p.ptrace.borrow();
    let stepped = tracing.single_step && tracing.tracer.is_some();
    drop(tracing);
    if stepped {
        stepped_syscall_exit(p);
    }
}

/// `syscall_exit` of a stepped task: its SIGTRAP.
#[cold]
#[inline(never)]
fn stepped_syscall_exit(p: &Process) {
    p.signals.borrow_mut().force(SigInfo { signo: SIGTRAP, code: SI_USER as i32, fields: SigFields::Sender { pid: 0 } });
}

/// A successful execve by `p`, which was thread `old_tid` before it, with
/// `regs` the new program's first registers (Linux's
/// ptrace_event(PTRACE_EVENT_EXEC, old_vpid)): with PTRACE_O_TRACEEXEC an
/// event stop now (status `(SIGTRAP | PTRACE_EVENT_EXEC << 8) << 8 | 0x7f`,
/// GETEVENTMSG the old tid; the signal CONT gives it is not delivered);
/// otherwise a tracee attached without SEIZE gets SIGTRAP, so its tracer
/// sees the new program before its first instruction.
pub fn exec_done(p: &Process, regs: &mut TrapFrame, old_tid: u32) {
    if p.ptrace.borrow().tracer.is_some() && p.ptrace.borrow().options & OPTION_TRACEEXEC != 0 && tracer_group(p).is_some() {
        let code = ((EVENT_EXEC << 8) | SIGTRAP) as i32;
        let info = SigInfo { signo: SIGTRAP, code, fields: SigFields::Sender { pid: p.pid.0 } };
        ptrace_stop(p, regs, info, EVENT_EXEC, old_tid as u64);
        return;
    }
    if p.ptrace.borrow().tracer.is_some() && !p.ptrace.borrow().seized {
        let info = SigInfo { signo: SIGTRAP, code: SI_USER as i32, fields: SigFields::Sender { pid: p.tgid } };
        let _ = p.signals.borrow_mut().send(info, true);
    }
}

/// A handler's frame was just set up in `regs` for `p`: if its tracer is
/// stepping it, it stops there, before the handler's first instruction,
/// with SIGTRAP (si_code SIGTRAP, si_pid its own tid; a signal the tracer
/// resumes it with is dropped). Linux's handle_signal: valid_user_regs
/// sets SS (user_regs_reset_single_step), then signal_setup_done ->
/// signal_delivered -> ptrace_notify(SIGTRAP, 0), "step into the signal
/// handler if we are stepping".
pub fn handler_entered(p: &Process, regs: &mut TrapFrame) {
    if !p.ptrace.borrow().single_step || tracer_group(p).is_none() {
        return;
    }
    regs.spsr = debug::with_step(regs.spsr, true);
    let info = SigInfo { signo: SIGTRAP, code: SIGTRAP as i32, fields: SigFields::Sender { pid: p.pid.0 } };
    ptrace_stop(p, regs, info, 0, 0);
}

/// What wait4/waitid found among the caller's tracees.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// In a ptrace-stop with this exit code (`Stop::code`).
    Stopped { pid: u32, code: u32 },
    /// A traced process that is not the caller's child has ended.
    Ended { pid: u32, outcome: Outcome },
}

/// The tracees of the calling thread group that `matches` accepts: whether
/// there is any, and the first unreported event (marked reported, and an
/// ended non-child released to its parent, unless `keep`: WNOWAIT). Linux's
/// ptrace_do_wait: wait_task_stopped and wait_task_zombie for tracees.
pub fn wait_tracees(matches: &dyn Fn(&Process) -> bool, keep: bool) -> (bool, Option<Event>) {
    let me = current().tgid;
    // The tracees of each of its threads, from the table's index, in pid
    // order.
    let mut traced: alloc::vec::Vec<u32> = scheduler::thread_group(me)
        .flat_map(|thread| scheduler::tracees_of(thread.pid.0))
        .filter(|t| matches(t))
        .map(|t| t.pid.0)
        .collect();
    traced.sort_unstable();
    for pid in &traced {
        let Some(t) = scheduler::get(*pid) else { continue };
        if let Some(stop) = t.ptrace.borrow_mut().stop.as_mut().filter(|s| !s.reported && t.state.get() == State::Traced) {
            stop.reported |= !keep;
            return (true, Some(Event::Stopped { pid: *pid, code: stop.code() }));
        }
        if t.parent.get() != me && scheduler::reapable(t) {
            let outcome = t.outcome.borrow().clone().unwrap_or(Outcome::Exited(0));
            if !keep {
                // Released to its parent, which may now reap it.
                set_tracing(t, Tracing::default());
                scheduler::wake_waiters(t.parent.get());
            }
            return (true, Some(Event::Ended { pid: *pid, outcome }));
        }
    }
    (!traced.is_empty(), None)
}
