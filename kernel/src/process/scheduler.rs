//! Running processes: the process table, the run queue, and the runner's
//! loop that switches between them (the classic "scheduler context" design
//! of xv6: every switch goes process -> runner -> process).
//!
//! - A process leaves the CPU by `yield_now` (sched_yield, or its time slice
//!   ran out at a timer interrupt), by blocking (wait4, nanosleep, futex,
//!   the vfork wait) or by exiting. Each saves its FP/SIMD registers and
//!   thread pointer and switches to the runner's context.
//! - The runner wakes sleepers whose time has come, reaps the zombies nobody
//!   else will wait for, and resumes the next runnable process (round robin)
//!   with its address space, FP state, thread pointer and MTE control.
//! - Every CPU that is up has a runner (CPU 0's is the test runner's
//!   `run`, each secondary's is `secondary_loop`), and all of them take
//!   tasks from the one run queue here. Everything in this file runs under
//!   the big kernel lock (arch/aarch64/kernel_lock.rs), which a runner
//!   holds from the moment it looks at the queue, across the switch into a
//!   task, until that task returns to EL0; and a task entering the kernel
//!   takes it before anything else. So at most one CPU is in here at a
//!   time and the one-CPU arguments below still hold, with one addition: a
//!   task is "on a CPU" (`Process::on_cpu`) from the switch into it until
//!   its runner has its context back, and such a task is never resumed,
//!   ended in its place or freed by anyone else (docs/smp.md, section 1).
//!   Processes are boxed, so their addresses (and the contexts saved in
//!   them) stay put while the table changes, even when exec moves one to
//!   its leader's pid (`de_thread`).
//! - What the table was is now apart, each behind what fits it (Linux
//!   splits the same way: the pid hash, rq->lock, per-CPU runqueue
//!   fields): the tasks (`PROCS`, a `KernelLocked` map under the big lock,
//!   borrowed through `procs`/`procs_mut` guards: a mutable borrow beside
//!   any other panics); the run queue (`QUEUE`, run_queue.rs, with its own
//!   IRQ-masking lock of rank `RunQueue`, taken after the big lock and
//!   held for one queue operation only); each CPU's slice end and resume
//!   count (per-CPU atomics only that CPU writes); the run's deadline (an
//!   atomic); the execs under way (`EXECING`, under the big lock). A
//!   mutable borrow of the tasks lasts one insert or removal and none is
//!   taken beneath another: before, `admit` held `table()`'s
//!   `&'static mut Table` while `enqueue` took a second one.

use alloc::boxed::Box;
use alloc::string::String;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use aarch64_cpu::registers::TPIDR_EL0;
use tock_registers::interfaces::{Readable, Writeable};

use super::lifecycle::{Process, State, CURRENT, RUNNER};
use super::outcome::Outcome;
use super::pid_table::PidTable;
use super::run_queue::{RunQueue, Seen};

use crate::arch::aarch64::cpu_local::{this_cpu, MAX_CPUS};
use crate::arch::aarch64::ipi::{self, Ipi};
use crate::arch::aarch64::{kernel_lock, timer};
use crate::mm::fault::FaultCounters;
use crate::signal::{QueueFull, SigFields, SigInfo};
use crate::sync::kernel_locked::{LockedMut, LockedRef};
use crate::sync::KernelLocked;
use linux_raw_sys::general::{CLD_EXITED, CLD_KILLED, SIGKILL};

/// Time slice of a process before the timer preempts it.
const SLICE_NS: u64 = 10_000_000;

/// How long an idle CPU sleeps before it looks at the run queue again
/// when other CPUs run tasks (a task they wake or start may be for it):
/// 1 ms, Linux's tick at HZ=1000.
const IDLE_TICK_NS: u64 = 1_000_000;

/// Most processes and threads alive at once: clone past it fails with
/// EAGAIN, so a fork bomb cannot take the kernel's memory (Linux's
/// threads-max, scaled to this kernel's heap).
pub const MAX_PROCESSES: usize = 8192;

/// Every task, zombies included, by pid (Linux's pid hash), with the
/// threads of each group, the children of each process, the tracees of
/// each tracer and the futex waiters (pid_table.rs). Under the big
/// kernel lock with a checked borrow flag (sync/kernel_locked.rs): reached
/// only through `procs` and `procs_mut`, whose guards make a mutable
/// borrow beside any other a panic naming both places, where the
/// `&'static mut Table` that `table()` handed out let two of them alias.
/// Processes are boxed, so a `&Process` found in it (`get`) stays good
/// while the map changes, until its own box is removed (`reap`,
/// `de_thread`).
type Procs = PidTable<Process>;
static PROCS: KernelLocked<Procs> = KernelLocked::new(PidTable::new());

/// The tasks, shared, until the guard drops (no mutable borrow meanwhile).
#[track_caller]
fn procs() -> LockedRef<'static, Procs> {
    PROCS.borrow()
}

/// The tasks, for an insert or a removal: no other borrow may live.
#[track_caller]
fn procs_mut() -> LockedMut<'static, Procs> {
    PROCS.borrow_mut()
}

/// `f`'s look-up in the tasks, kept after the shared borrow of the map
/// ends: what it returns points into the boxes (a `&'static Process`),
/// which an insert, a removal of another task or de_thread's move between
/// keys leaves in place; callers keep what they got no longer than `get`'s
/// rule says (not across a yield, which lets `reap` free it).
#[track_caller]
fn look_up<R: Copy>(f: impl FnOnce(&'static Procs) -> R) -> R {
    *LockedRef::map(procs(), f)
}

/// The tasks ready to run, shared by every CPU, behind their own lock
/// (run_queue.rs; rank `RunQueue`, after the big lock).
static QUEUE: RunQueue = RunQueue::new();

/// When the whole run (the root and its descendants) must end (counter
/// ticks): set by `run` before the root is admitted and when it ends a
/// deadlocked run early, read by every CPU. An atomic: the timer's path
/// and the long walks read it (Relaxed: a CPU that reads the old one ends
/// the run at the next look).
static DEADLINE: AtomicU64 = AtomicU64::new(0);

/// When the run began (counter ticks): set by `run` with `DEADLINE`, for
/// the time limit a stopped task reports.
static RUN_START: AtomicU64 = AtomicU64::new(0);

/// When the time slice of the task running on each CPU ends: written by
/// that CPU's runner as it resumes a task, read by that CPU (the timer,
/// `need_resched`); each CPU's own word.
static SLICE_END: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];

/// How many times each CPU has resumed a task, since boot: counted by
/// that CPU only (a load and a store), read by the runner's report.
static RESUMED: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];

/// (tgid, tid) of each exec waiting in de_thread for other threads to
/// unwind (Linux's signal->group_exec_task): a second exec of the group
/// loses, and exit_group lets the exec-ing thread unwind. Under the big
/// lock (`KernelLocked`): only exec and exit_group touch it, in system
/// calls that hold the big lock throughout (de_thread's yield keeps it
/// too), never an interrupt or the fault path's fast side, so no lock of
/// its own would protect anything more; the flag still refuses a borrow
/// beside a mutable one.
static EXECING: KernelLocked<alloc::vec::Vec<(u32, u32)>> = KernelLocked::new(alloc::vec::Vec::new());

/// CPUs in their idle wait, which a `wake` kicks with a Reschedule IPI.
/// Set by the CPU under the lock before it lets the lock go (an IPI sent
/// from then on stays pending and ends its wait at once), cleared by the
/// CPU when it wakes, or by the waker that kicks it. Atomics, since the
/// CPU clears its own without the lock: a waker that finds it just
/// cleared sends nothing, and the CPU finds the task at its look at the
/// queue, or at its next tick if another CPU held the lock then.
static IDLE: [AtomicBool; MAX_CPUS] = [const { AtomicBool::new(false) }; MAX_CPUS];

/// CPUs for which a task that the queuing CPU may not run was queued
/// since they last looked at the queue (set by `notify` under the lock,
/// cleared by the CPU under the lock before it looks). An idle CPU with its
/// hint set waits its turn for the lock; without it, it only tries the lock
/// and sleeps again if it is held, so that idle CPUs do not spin while
/// another holds the lock for long (spinning vCPUs take the host's cores
/// from the one holding it: with a hint for every queued task, forks in a
/// fork bomb took ten times as long on four CPUs as on one). Seen without
/// any hint: a task pinned to CPU 3, queued while CPU 3 slept, waited
/// 300 ms because every try of CPU 3 found the lock taken.
static PENDING: [AtomicBool; MAX_CPUS] = [const { AtomicBool::new(false) }; MAX_CPUS];

/// The task each CPU was last kicked for by `notify` (0: none), which its
/// runner takes first (`pick`), as Linux places a woken task on the queue
/// of the idle CPU select_idle_sibling chose. With one shared queue and no
/// such mark, a kicked CPU took the first task it could run: of two tasks
/// queued together, one allowed on CPUs 1 and 2 and then one allowed on
/// CPU 2 only, CPU 2 could take the first, leaving the second queued for a
/// whole slice while CPU 1 went back to sleep
/// (`wake_runs_each_task_on_the_idle_cpu_kicked_for_it`). Written and read
/// under the kernel lock.
static KICKED_FOR: [AtomicU32; MAX_CPUS] = [const { AtomicU32::new(0) }; MAX_CPUS];

/// For each CPU, when the first timed wait its timer ends is due (counter
/// ticks; u64::MAX for none): Linux's per-CPU hrtimer bases. A task that
/// blocks with a wake-up time puts it on its own CPU (`block`); that CPU
/// sets its timer no later than it while it runs a task (`arm_for_task`)
/// and idles no longer than it (`secondary_loop`, `run`), and then wakes
/// every sleeper that is due (`wake_due_sleepers`), so no CPU depends on
/// another's timer: before, CPU 0 woke them all, and a sleep begun while
/// CPU 0 idled waited for its next tick. A lower bound: a sleeper woken
/// early (a signal, a futex wake) leaves it behind until its CPU looks.
/// Written under the kernel lock; atomics, since an idle CPU reads its own
/// without it.
static SLEEPERS_DUE: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(u64::MAX) }; MAX_CPUS];

/// Whether a task became a zombie since the runner last looked for
/// zombies to reap (`run`): set by `exit_current` (a process's last thread
/// ending also re-parents its children there, in `process_ended`), taken
/// by the runner. Without it the runner walked the whole table at every
/// task switch on CPU 0, so each fork of a fork bomb cost more the more
/// processes lived (`fork_kill_and_reap_cost_the_same_with_many_processes`).
/// Set and taken under the kernel lock; an atomic only to be a static.
static ZOMBIES_TO_REAP: AtomicBool = AtomicBool::new(false);

/// When the first sleeper `cpu`'s timer ends is due.
fn sleepers_due(cpu: usize) -> u64 {
    SLEEPERS_DUE[cpu].load(Ordering::Relaxed)
}

/// The CPU this runs on.
fn this_cpu_index() -> usize {
    this_cpu().index()
}

/// What the runner reports about a finished program.
pub struct Report {
    pub outcome: Outcome,
    pub elapsed_ns: u64,
    pub faults: FaultCounters,
    pub peak_frames: usize,
}

/// How many times each CPU has resumed a task since boot (the test
/// runner's closing line says which CPUs ran tasks).
pub fn resumed_per_cpu() -> [u64; MAX_CPUS] {
    core::array::from_fn(|cpu| RESUMED[cpu].load(Ordering::Relaxed))
}

/// Number of processes alive (zombies included).
pub fn count() -> usize {
    procs().len()
}

/// Adds a process to the table, runnable.
pub fn admit(process: Box<Process>) {
    let (pid, affinity) = (process.pid.0, process.affinity.get());
    // A pid is never handed out twice while its task lives (next_pid
    // counts up, and 2^32 forks are years of QEMU time): a refused insert
    // would drop a task whose caller was told its pid, so it is a bug, not
    // an error to return.
    let inserted = procs_mut().insert(process);
    assert!(inserted, "pid {pid} handed out twice");
    enqueue(pid, affinity);
}

/// Puts runnable task `pid` at the back of the run queue and tells the
/// CPUs it may run on (`notify`).
fn enqueue(pid: u32, affinity: super::cpu_mask::CpuMask) {
    QUEUE.push_back(pid);
    notify(pid, affinity);
}

/// A task that may run on the CPUs of `affinity` was queued: one of them
/// that is idle gets a Reschedule IPI, so that it takes the task now rather
/// than at its next tick (Linux's ttwu_queue_wakelist / resched_curr); if
/// the task may not run on this CPU, each of them also gets its `PENDING`
/// hint (this CPU's runner will not take it, so one of them must). The
/// kicked CPU takes task `pid` first (`KICKED_FOR`).
fn notify(pid: u32, affinity: super::cpu_mask::CpuMask) {
    let me = this_cpu_index();
    let elsewhere_only = !affinity.contains(me);
    let mut kicked = false;
    for cpu in (0..MAX_CPUS).filter(|&c| affinity.contains(c)) {
        if elsewhere_only {
            PENDING[cpu].store(true, Ordering::SeqCst);
        }
        // SeqCst, as the idle CPU's mark and its look at the hint
        // (`secondary_loop`): one of the two sees the other's store.
        if !kicked && cpu != me && IDLE[cpu].swap(false, Ordering::SeqCst) {
            KICKED_FOR[cpu].store(pid, Ordering::Relaxed);
            let _ = ipi::send_ipi(cpu, Ipi::Reschedule);
            kicked = true;
        }
    }
}

/// Every other online CPU waits for the kernel lock, which this CPU holds:
/// each is given its hint and kicked, so that its idle loop waits its turn
/// (`secondary_loop`). For `selftest=panic-lock-waiters` only: a panic
/// with CPUs spinning for the lock it holds, interrupts masked.
pub fn send_other_cpus_to_the_kernel_lock() {
    let me = this_cpu_index();
    for cpu in (0..MAX_CPUS).filter(|&c| c != me) {
        PENDING[cpu].store(true, Ordering::SeqCst);
        let _ = ipi::send_ipi(cpu, Ipi::Reschedule);
    }
}

/// The process with `pid`, if it exists. Shared: what others change of a
/// task is in its `KernelLocked` cells, which check the big lock and a
/// borrow flag. Not kept across a yield, a block or a switch (the big lock
/// let go): `reap` frees the box meanwhile.
pub fn get(pid: u32) -> Option<&'static Process> {
    look_up(|procs| procs.get(pid))
}

/// Every task in the table, zombies included, in pid order (/proc); as
/// `get`, not kept across a yield.
/// The iterator holds a shared borrow of the table until it drops.
pub fn tasks() -> impl Iterator<Item = &'static Process> {
    LockedRef::map(procs(), |procs| procs.iter())
}

/// The tasks `pids` names, as `get`.
fn each(pids: impl Iterator<Item = u32>) -> impl Iterator<Item = &'static Process> {
    pids.filter_map(get)
}

/// The children of `parent` (and their threads), in pid order, from the
/// table's index; as `get`, not kept across a yield.
pub fn children_of(parent: u32) -> impl Iterator<Item = &'static Process> {
    LockedRef::map(procs(), move |procs| procs.children(parent).filter_map(move |pid| procs.get(pid)))
}

/// Every task of thread group `tgid`, zombies included, in pid order, from
/// the table's index; as `get`, not kept across a yield.
pub fn thread_group(tgid: u32) -> impl Iterator<Item = &'static Process> {
    LockedRef::map(procs(), move |procs| procs.threads(tgid).filter_map(move |pid| procs.get(pid)))
}

/// The live threads of process `tgid`; as `get`, not kept across a yield.
pub fn threads_of(tgid: u32) -> impl Iterator<Item = &'static Process> {
    thread_group(tgid).filter(|p| p.state.get() != State::Zombie)
}

/// The tasks that thread `tracer` traces, in pid order; as `get`.
pub fn tracees_of(tracer: u32) -> impl Iterator<Item = &'static Process> {
    LockedRef::map(procs(), move |procs| procs.tracees(tracer).filter_map(move |pid| procs.get(pid)))
}

/// Task `pid`'s parent becomes `parent`: through the table, whose index
/// of children must follow.
pub fn set_parent(pid: u32, parent: u32) {
    procs_mut().set_parent(pid, parent);
}

/// Task `pid` starts (true) or ends (false) a futex wait (futex.rs): a
/// futex wake looks only at the tasks in one.
pub fn set_futex_waiting(pid: u32, waiting: bool) {
    procs_mut().set_futex_waiting(pid, waiting);
}

/// Task `pid`'s tracer becomes `tracer` (ptrace.rs): through the table,
/// whose index of tracees must follow.
pub fn set_tracer(pid: u32, tracer: Option<u32>) {
    procs_mut().set_tracer(pid, tracer);
}

/// Removes a zombie from the table; returns it (its kernel stack and the rest
/// are freed when the box is dropped). Not while a CPU still runs on its
/// stack: a zombie is off its CPU once its runner has taken the CPU back,
/// which happens before the kernel lock is let go.
pub fn reap(pid: u32) -> Option<Box<Process>> {
    let reapable = get(pid).is_some_and(|p| p.state.get() == State::Zombie && p.on_cpu.get().is_none());
    if reapable {
        procs_mut().remove(pid)
    } else {
        None
    }
}

/// Makes `pid` runnable again (a wait or sleep is over).
pub fn wake(pid: u32) {
    if let Some(p) = get(pid) {
        if matches!(
            p.state.get(),
            State::WaitingForChild
                | State::Sleeping
                | State::WaitingForFutex
                | State::WaitingForVfork
                | State::Traced
                | State::Waiting
        ) {
            p.state.set(State::Runnable);
            p.wake_at.set(None);
            enqueue(pid, p.affinity.get());
        }
    }
}

/// Makes task `p`, running on another CPU, enter the kernel now (at EL0
/// there, it takes the IPI; already entering, it finds the IPI taken on its
/// next return): a signal, a kill or a new affinity is then acted on
/// without waiting for its timer tick. Linux's kick_process. Its work
/// word is set first, whatever CPU it is on (task_work.rs): its fault
/// path's fast side reads that, not the state changed, and the IPI sent
/// after it ends any fast path under way there.
fn kick(p: &Process) {
    p.work.notify();
    if let Some(cpu) = p.on_cpu.get().filter(|&c| c != this_cpu_index()) {
        let _ = ipi::send_ipi(cpu, Ipi::Reschedule);
    }
}

/// Task `tid`'s affinity changed (sched_setaffinity from another task):
/// running where it may no longer run, it is kicked, and leaves that CPU
/// at once (`on_reschedule`); waiting in the run queue, the CPUs it may now
/// run on are told as for a wake-up (`notify`: an idle one is kicked, and
/// if this CPU may not run it they get their hint), as Linux's
/// __set_cpus_allowed_ptr moves a queued task to an allowed CPU's queue
/// (move_queued_task), whose idle task it preempts at once. Before, such a
/// task waited for one of them to look at its tick, and longer while the
/// lock was busy (`sched_setaffinity_moves_a_queued_thread_to_an_idle_cpu_at_once`).
pub fn affinity_changed(tid: u32) {
    if let Some(p) = get(tid) {
        if p.on_cpu.get().is_some() {
            kick(p);
        } else if p.state.get() == State::Runnable {
            notify(p.pid.0, p.affinity.get());
        }
    }
}

/// A Reschedule IPI came while the current task ran at EL0 (irq.rs): what
/// it was sent for (a signal, a kill) is handled on the way back to EL0; a
/// task no longer allowed on this CPU leaves it now (Linux's migration on
/// an affinity change).
pub fn on_reschedule() {
    if !super::current().affinity.get().contains(this_cpu_index()) {
        yield_now();
    }
}

/// The time a timed wait of `p` ends, if it is in one (the states
/// `wake_due_sleepers` wakes).
fn timed_wait_end(p: &Process) -> Option<u64> {
    p.wake_at.get().filter(|_| matches!(p.state.get(), State::Sleeping | State::WaitingForFutex | State::Waiting))
}

/// Arms this CPU's timer for the task it runs, whose slice ends at
/// `slice_end`: then, or at the first sleeper this CPU's timer ends if
/// that comes first (the task runs on after the wake-up: `on_timer_interrupt`).
fn arm_for_task(cpu: usize, slice_end: u64) {
    timer::arm_at(slice_end.min(sleepers_due(cpu)));
}

/// Leaves the CPU for the runner: saves what belongs to the process and
/// switches. Returns when the runner resumes it.
fn switch_out(p: &Process) {
    p.fp.borrow_mut().save();
    p.tls.set(TPIDR_EL0.get());
    // RUNNER holds the runner's context, saved by `resume` on the live
    // boot stack; this process's context is saved here for the runner to
    // resume (or, for a zombie, never).
    RUNNER.switch_to_runner(&p.context);
}

/// Gives the CPU to the next runnable process (sched_yield, preemption).
pub fn yield_now() {
    let p = super::current();
    p.state.set(State::Runnable);
    QUEUE.push_back(p.pid.0);
    // This CPU's runner looks at the queue next, and takes it again unless
    // another task is ahead: other CPUs are told only when it may no
    // longer run here (a new affinity). Telling them at every preemption
    // had idle CPUs spin for the lock at each tick, to steal the task.
    if !p.affinity.get().contains(this_cpu_index()) {
        notify(p.pid.0, p.affinity.get());
    }
    switch_out(p);
}

/// Blocks the current process until `wake` (by a child's exit, or the
/// runner when `wake_at` passes).
pub fn block(state: State) {
    let p = super::current();
    p.state.set(state);
    if let Some(due) = p.wake_at.get() {
        // This CPU's timer ends the wait: its runner, which takes over
        // now, sets it no later than `due` (`arm_for_task`, or its idle
        // wait), so no other CPU needs telling.
        let cpu = this_cpu_index();
        p.timer_cpu.set(cpu);
        SLEEPERS_DUE[cpu].fetch_min(due, Ordering::Relaxed);
    }
    switch_out(p);
}

/// Linux's signal_wake_up: a task blocked in nanosleep, wait4, futex or
/// rt_sigsuspend that does not block `sig` is woken, and its system call
/// returns (EINTR or a restart code; the signal is then delivered on the
/// way out).
fn wake_for_signal(t: &Process, sig: u32) {
    let wants = t.signals.borrow().wants(sig);
    if wants && matches!(t.state.get(), State::Sleeping | State::WaitingForChild | State::WaitingForFutex | State::Waiting)
        || wants && t.state.get() == State::WaitingForVfork && is_fatal(t, sig)
        // SIGKILL ends a ptrace-stop (Linux's signal_wake_up(t, true)).
        || t.state.get() == State::Traced && sig == SIGKILL
    {
        t.interrupted.set(true);
        wake(t.pid.0);
    }
}

/// Sends `info` to task `tid` (tkill, tgkill).
pub fn signal_task(tid: u32, info: SigInfo) -> Result<(), QueueFull> {
    let Some(t) = get(tid) else { return Ok(()) };
    let traced = t.ptrace.borrow().tracer.is_some();
    t.signals.borrow_mut().send(info, traced)?;
    // An ignored signal was dropped (Linux's prepare_signal): nothing to
    // wake for.
    if t.signals.borrow().pending().contains(info.signo) {
        wake_for_signal(t, info.signo);
        kick(t);
    }
    Ok(())
}

/// Whether `signo` ends `t` when delivered: SIGKILL, or a signal left to
/// its default action of terminating (what wakes Linux's TASK_KILLABLE
/// sleeps, such as the vfork wait).
fn is_fatal(t: &Process, signo: u32) -> bool {
    use crate::signal::{default_action, DefaultAction, Disposition};
    signo == SIGKILL
        || (t.signals.borrow().action(signo).disposition == Disposition::Default
            && default_action(signo) == DefaultAction::Terminate)
}

/// Linux's wait_for_vfork_done: the caller of clone(CLONE_VFORK) sleeps
/// until `child` execs or exits (`vfork_done`), or a fatal signal comes
/// (clone then returns the child's pid, and the signal ends the caller on
/// its way out). Other signals stay pending.
pub fn wait_for_vfork_done(child: u32) {
    let me = super::current().pid.0;
    while get(child).is_some_and(|c| c.vfork_parent.get() == Some(me)) {
        block(State::WaitingForVfork);
        if super::current().interrupted.take() {
            return;
        }
    }
}

/// `p`, made by clone(CLONE_VFORK), has exec'd or is ending: the thread
/// waiting for that runs again (Linux's complete_vfork_done, from
/// mm_release).
pub fn vfork_done(p: &Process) {
    if let Some(waiter) = p.vfork_parent.take() {
        if get(waiter).is_some_and(|w| w.state.get() == State::WaitingForVfork) {
            wake(waiter);
        }
    }
}

/// Sends `info` to process `tgid` as a whole (kill, rt_sigqueueinfo,
/// SIGCHLD): it is queued for the process, and the thread to take it is
/// chosen as Linux's complete_signal does: the leader if it does not block
/// it, else the first other thread that does not; if every thread blocks
/// it, it waits for the first to unblock it. `Ok(false)` (ESRCH) if there
/// is no such process, not even a zombie; Err with a full real-time queue.
pub fn signal_process(tgid: u32, info: SigInfo) -> Result<bool, QueueFull> {
    let sig = info.signo;
    // The group's threads, from the table's index: a kill costs the same
    // however many other tasks live.
    let Some(queue) = threads_of(tgid).map(|p| p.pid.0).min_by_key(|&pid| pid != tgid) else {
        // A zombie not yet reaped still exists for kill(), which succeeds
        // and has nothing to deliver (Linux finds it by its pid until wait).
        return Ok(thread_group(tgid).next().is_some());
    };
    let queued = get(queue).expect("found above");
    let traced = queued.ptrace.borrow().tracer.is_some();
    queued.signals.borrow_mut().send_to_group(info, traced)?;
    if !queued.signals.borrow().pending().contains(sig) {
        // Ignored, so dropped (Linux's prepare_signal): no one is woken.
        return Ok(true);
    }
    let taker = threads_of(tgid)
        .filter(|p| p.signals.borrow().wants(sig))
        .min_by_key(|p| (p.pid.0 != tgid, p.pid.0))
        .map(|p| p.pid.0);
    if let Some(tid) = taker {
        let t = get(tid).expect("found above");
        wake_for_signal(t, sig);
        kick(t);
    }
    Ok(true)
}

/// Live processes (their tgids), for kill(-1): a walk of every task.
pub fn live_processes() -> alloc::vec::Vec<u32> {
    let mut v: alloc::vec::Vec<u32> = tasks().filter(|t| t.state.get() != State::Zombie).map(|t| t.tgid).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// The process (its tgid) that a signal sent to pid `pid` reaches (kill,
/// rt_sigqueueinfo; Linux's kill_pid_info: the task with that pid,
/// PIDTYPE_PID, then its whole group): a thread's tid reaches its
/// process, a zombie process exists until it is reaped, a thread that
/// ended does not (Linux releases it at its exit).
pub fn process_of(pid: u32) -> Option<u32> {
    get(pid).filter(|t| t.is_leader() || t.state.get() != State::Zombie).map(|t| t.tgid)
}

/// Whether task `tid` lives and belongs to process `tgid`.
pub fn task_in(tgid: u32, tid: u32) -> bool {
    get(tid).is_some_and(|t| t.tgid == tgid && t.state.get() != State::Zombie)
}

/// Whether `p`'s descriptor table is held by a task outside its process
/// (clone(CLONE_FILES) without CLONE_THREAD), so exec must copy it.
pub fn files_shared_outside_group(p: &Process) -> bool {
    let in_group = thread_group(p.tgid).filter(|t| alloc::sync::Arc::ptr_eq(&*t.fdt.borrow(), &*p.fdt.borrow())).count();
    alloc::sync::Arc::strong_count(&*p.fdt.borrow()) > in_group
}

/// Whether any task of thread group `tgid` is still alive.
fn group_alive(tgid: u32) -> bool {
    threads_of(tgid).next().is_some()
}

/// Whether `p` is a process its parent may reap: a zombie leader whose
/// threads are all gone too (Linux reports a process when its last thread
/// exits).
pub fn reapable(p: &Process) -> bool {
    p.is_leader() && p.state.get() == State::Zombie && !group_alive(p.tgid)
}

/// The process `tgid` has ended: its children go to the runner, its parent
/// gets the exit signal (si_code CLD_EXITED or CLD_KILLED, with si_status)
/// and is woken from wait4.
fn process_ended(tgid: u32) {
    let children: alloc::vec::Vec<u32> = procs().children(tgid).collect();
    for child in children {
        set_parent(child, 0);
    }
    let Some(leader) = get(tgid) else { return };
    let (parent, exit_signal) = (leader.parent.get(), leader.exit_signal.get());
    let (code, status) = match &*leader.outcome.borrow() {
        Some(Outcome::Exited(c)) => (CLD_EXITED, *c as i32),
        Some(Outcome::Killed { signal, .. }) => (CLD_KILLED, *signal as i32),
        Some(Outcome::TimeLimit { .. }) => (CLD_KILLED, SIGKILL as i32),
        _ => (CLD_EXITED, 0),
    };
    // The old clone() takes any byte as the exit signal; Linux's
    // do_notify_parent sends it only if it is a valid signal, to the
    // parent process as a whole.
    if get(parent).is_some() && (1..=crate::signal::NSIG).contains(&exit_signal) {
        // A full queue loses this real-time exit signal, as on Linux.
        let _ = signal_process(
            parent,
            SigInfo { signo: exit_signal, code: code as i32, fields: SigFields::Child { pid: tgid, status } },
        );
    }
    wake_waiters(parent);
    // A tracer that is not the parent waits for its tracee's end too.
    if let Some(tracer) = get(tgid).and_then(super::ptrace::tracer_group) {
        wake_waiters(tracer);
    }
}

/// Whichever thread of process `tgid` sits in wait4 must look again.
pub fn wake_waiters(tgid: u32) {
    let waiters: alloc::vec::Vec<u32> =
        thread_group(tgid).filter(|w| w.state.get() == State::WaitingForChild).map(|w| w.pid.0).collect();
    waiters.into_iter().for_each(wake);
}

/// Ends the whole process (exit_group, or a fatal signal): every thread of
/// the group ends with the same outcome, the caller last.
pub fn exit_group_current(outcome: Outcome) -> ! {
    let p = super::current();
    let (me, tgid) = (p.pid.0, p.tgid);
    let others: alloc::vec::Vec<u32> = procs().threads(tgid).filter(|&pid| pid != me).collect();
    others.iter().copied().for_each(super::ptrace::tracer_exiting);
    let mut unwinding = alloc::vec::Vec::new();
    let mut robust = alloc::vec::Vec::new();
    for other in each(others.into_iter()) {
        vfork_done(other);
        other.outcome.set(Some(outcome.clone()));
        if other.state.get() == State::Runnable && EXECING.borrow().contains(&(tgid, other.pid.0)) {
            // Its exec waits in de_thread, the new image on its kernel
            // stack: it sees the outcome there and unwinds.
            continue;
        }
        if other.on_cpu.get().is_some() {
            // On another CPU: at EL0, or entering the kernel on its own
            // stack, waiting for the kernel lock this CPU holds. It cannot
            // be ended in its place; killed and kicked, it exits itself at
            // its next entry (`exit_if_killed`), as Linux's
            // zap_other_threads SIGKILLs and kicks a running thread. The
            // group ends when the last of them has.
            kick(other);
            continue;
        }
        if other.state.get() == State::Waiting || other.in_wait.get() && other.state.get() == State::Runnable {
            // Its system call holds references on its kernel stack (the
            // pipe it waits on): woken, it returns and exits on its way
            // back to EL0 (`exit_if_killed`), as a Linux thread dies of
            // the group's SIGKILL.
            unwinding.push(other.pid.0);
            continue;
        }
        other.state.set(State::Zombie);
        robust.push((other.robust_list.take(), other.pid.0));
        release_files(other);
        if other.pid.0 != tgid {
            // Threads are not waited for: the runner reaps them.
            set_parent(other.pid.0, 0);
        }
    }
    // Their robust lists, walked here in the memory they share with us
    // (each would walk its own in Linux's do_exit).
    robust.into_iter().for_each(|(head, tid)| super::robust_list::exit_robust_list(head, tid));
    unwinding.into_iter().for_each(wake);
    exit_current(outcome)
}

/// exec's part of Linux's de_thread: every other thread of the caller's
/// process ends at once, reporting nothing, and is released (its kernel
/// stack and its hold on the old address space, descriptor table and
/// dispositions go now, so exec finds them unshared). A caller that is not
/// the leader takes the leader's pid, parent and start time (Linux's
/// exchange_tids and transfer_pid), so the process keeps its pid. A thread
/// running on another CPU is killed and waited for like one that unwinds:
/// it exits itself at its next entry to the kernel, and is released only
/// once off its CPU.
pub fn de_thread() -> Result<(), ()> {
    let p = super::current();
    let (me, tgid) = (p.pid.0, p.tgid);
    if EXECING.borrow().iter().any(|&(g, _)| g == tgid) {
        // Another thread's exec is under way and has killed this one
        // (Linux's de_thread: signal_group_exit, -EAGAIN): the call
        // unwinds, dropping its new image, and the thread exits on its way
        // back to EL0.
        p.outcome.set(Some(Outcome::Killed { signal: SIGKILL, reason: String::from("exec in another thread") }));
        return Err(());
    }
    let mut others: alloc::vec::Vec<u32> = procs().threads(tgid).filter(|&pid| pid != me).collect();
    if others.is_empty() {
        return Ok(());
    }
    // A thread blocked on a wait queue (a pipe, ppoll) holds references on
    // its kernel stack: it must return from its call and exit before it is
    // released (as Linux's de_thread waits for the threads it killed).
    // (Woken and not yet run counts too: it is still inside its call.)
    let unwinding: alloc::vec::Vec<u32> = others
        .iter()
        .copied()
        .filter(|pid| get(*pid).is_some_and(|o| o.state.get() == State::Waiting || o.in_wait.get() && o.state.get() == State::Runnable))
        .collect();
    // Every other thread is killed now, as Linux's zap_other_threads
    // SIGKILLs them: while this one yields below, a thread that runs (one
    // that was runnable, or one the unwinding threads wake) exits on its way
    // back to EL0 instead of running the old program on (writing to a
    // descriptor exec keeps, or cloning a thread the exec would miss).
    for pid in &others {
        let other = get(*pid).expect("listed above");
        other
            .outcome
            .borrow_mut()
            .get_or_insert_with(|| Outcome::Killed { signal: SIGKILL, reason: String::from("exec in another thread") });
        // Running on another CPU: it exits at its next entry, now.
        kick(other);
    }
    for pid in &unwinding {
        wake(*pid);
    }
    // Also waited for: a thread whose exec lost to this one, unwinding,
    // and a thread running on another CPU (State::Running), which exits
    // at its next entry.
    let busy = |pid: &u32| {
        get(*pid).is_some_and(|o| {
            o.on_cpu.get().is_some()
                || o.state.get() != State::Zombie
                    && (unwinding.contains(pid)
                        || o.outcome.borrow().is_some() && matches!(o.state.get(), State::Runnable | State::Running))
        })
    };
    EXECING.borrow_mut().push((tgid, me));
    while others.iter().any(busy) {
        yield_now();
        if super::current().outcome.borrow().is_some() {
            // exit_group in another thread, or the time limit, ended this
            // one meanwhile: it unwinds and exits instead.
            end_exec(tgid, me);
            return Err(());
        }
    }
    end_exec(tgid, me);
    others.sort_unstable();
    QUEUE.remove(&others);
    let mut leader = None;
    for pid in &others {
        super::ptrace::tracer_exiting(*pid);
        // Its robust list, in the memory exec has not replaced yet.
        if let Some(other) = get(*pid) {
            super::robust_list::exit_robust_list(other.robust_list.take(), *pid);
        }
        let Some(other) = procs_mut().remove(*pid) else { continue };
        vfork_done(&other);
        log::debug!("pid {} ({}) ended by the exec of thread {}", pid, other.name.borrow(), me);
        if *pid == tgid {
            leader = Some(other);
        }
    }
    if me != tgid {
        // The box moves between keys, the process in it does not: the
        // current pointer stays good.
        // What it traces is traced by its new pid (the table moves its
        // index entries: Linux's exchange_tids).
        let renamed = procs_mut().rename(me, tgid);
        debug_assert!(renamed, "the running thread is in the table, its leader is not");
        if let Some(leader) = leader {
            set_parent(tgid, leader.parent.get());
            get(tgid).expect("renamed above").started_at.set(leader.started_at.get());
        }
        log::debug!("thread {} of pid {} takes its pid at exec", me, tgid);
    }
    Ok(())
}

/// Thread `tid`'s exec is out of de_thread; with none left the list gives
/// its heap back (the runner counts every byte a program leaves behind).
fn end_exec(tgid: u32, tid: u32) {
    let mut execing = EXECING.borrow_mut();
    execing.retain(|&e| e != (tgid, tid));
    if execing.is_empty() {
        *execing = alloc::vec::Vec::new();
    }
}

/// On the way back to EL0: a thread whose process ended (exit_group, exec
/// in another thread, the time limit) while it waited on a queue exits
/// here, its system call having let go of what it held.
pub fn exit_if_killed() {
    let p = super::current();
    if let Some(outcome) = p.outcome.take() {
        exit_current(outcome);
    }
}

/// Ends the calling thread with `outcome`. When it was the last thread of
/// its process, the process has ended (`process_ended`); a leader that
/// exits first (pthread_exit in main) stays a zombie until then. Threads
/// are reaped by the runner, processes by their parent (or the runner).
pub fn exit_current(outcome: Outcome) -> ! {
    let p = super::current();
    log::info!("pid {} ({}) {}", p.pid.0, p.name.borrow(), outcome);
    vfork_done(p);
    super::ptrace::tracer_exiting(p.pid.0);
    let leader = p.is_leader();
    p.outcome.set(Some(outcome));
    p.state.set(State::Zombie);
    // Linux's futex_exit_release, before the thread ID is cleared.
    super::robust_list::exit_robust_list(p.robust_list.take(), p.pid.0);
    // set_tid_address / CLONE_CHILD_CLEARTID: clear the thread ID and wake
    // whoever waits on it (pthread_join).
    // The wake is a shared one, as Linux's mm_release makes it: a thread
    // ID in shared memory wakes a waiter in another process.
    if p.clear_child_tid.get() != 0 {
        let addr = crate::mm::uaccess::UserAddr::new(p.clear_child_tid.get());
        if crate::mm::uaccess::write_user(addr, &0u32).is_ok() {
            if let Ok(key) = super::futex_key::futex_key(p, addr, true) {
                futex_wake(&key, 1);
            }
        }
    }
    // Linux's exit_mm, after mm_release: a space no other live task runs
    // in is emptied now, in pieces that let other CPUs in. Runnable while
    // it does (Linux's task is TASK_RUNNING with PF_EXITING until
    // exit_notify): a pause hands the big lock to other CPUs, and a parent
    // in wait4 there must not find a zombie whose exit is not complete (it
    // would report the exit, fail to reap a task still on its CPU, and
    // report it again after process_ended). A zombie again after.
    p.state.set(State::Runnable);
    crate::mm::long_walk::exit_mmap();
    let p = super::current();
    p.state.set(State::Zombie);
    release_files(p);
    let tgid = p.tgid;
    if !leader {
        set_parent(p.pid.0, 0);
    }
    if !group_alive(tgid) {
        process_ended(tgid);
    }
    ZOMBIES_TO_REAP.store(true, Ordering::Relaxed);
    switch_out(p);
    unreachable!("an exited process was resumed")
}

/// Linux's exit_files: an exiting task lets go of its descriptor table at
/// once, not when it is reaped, and the last task to let go closes the
/// files (a pipe's reader then sees end-of-file, its writer EPIPE).
fn release_files(p: &Process) {
    if alloc::sync::Arc::strong_count(&*p.fdt.borrow()) == 1 {
        // The files close once the table's lock is let go.
        let old = core::mem::take(&mut **p.files());
        drop(old);
    } else {
        p.fdt.set(super::new_files(crate::fs::fd_table::FdTable::new()));
    }
}

/// Wakes up to `n` threads waiting on `key`; returns how many.
pub fn futex_wake(key: &super::futex_key::FutexKey, n: u32) -> u32 {
    // The tasks in a futex wait only (the table's index), in pid order: an
    // exit's clear_child_tid wake costs the same however many tasks live.
    let waiting: alloc::vec::Vec<u32> = procs().futex_waiters().collect();
    let waiters: alloc::vec::Vec<u32> = each(waiting.into_iter())
        .filter(|w| w.state.get() == State::WaitingForFutex && w.futex_key.borrow().as_ref() == Some(key))
        .take(n as usize)
        .map(|w| {
            w.futex_key.set(None);
            w.pid.0
        })
        .collect();
    let woken = waiters.len() as u32;
    waiters.into_iter().for_each(wake);
    woken
}

/// Whether long kernel work for the running task (MAP_POPULATE's faults,
/// the page walks of mprotect, munmap, madvise and fork) must stop: the
/// run's time is up (the task is ended the moment it returns to EL0,
/// where the timer interrupt is pending), the task has SIGKILL pending
/// (Linux's loops check fatal_signal_pending()), or it was ended while it
/// yielded (another thread's exec: it exits on its way back to EL0, and
/// that exec waits for it). False outside a task. Each call tells the
/// kernel lock's watchdog that the holder is moving on.
#[track_caller]
pub fn long_work_must_stop() -> bool {
    // Asked every few hundred pages: the work is moving on, not stuck.
    kernel_lock::touch_watchdog();
    if !super::has_current() {
        return false;
    }
    let p = super::current();
    timer::ticks() >= DEADLINE.load(Ordering::Relaxed) || p.signals.borrow().pending().contains(SIGKILL) || p.outcome.borrow().is_some()
}

/// Linux's cond_resched(): gives the CPU to the others once the running
/// task's slice is over, so that long kernel work does not keep them (or
/// a SIGKILL they would send) waiting. Only between steps that hold no
/// borrow of the task or its address space: other tasks run meanwhile.
#[track_caller]
pub fn cond_resched() {
    // A mark of where this CPU is, for the kernel lock's watchdog.
    crate::arch::aarch64::breadcrumb::here();
    if need_resched() {
        yield_now();
    }
}

/// Whether `cond_resched` would yield now (Linux's need_resched(), which a
/// walk asks before it lets its locks go: mm/long_walk.rs).
pub fn need_resched() -> bool {
    super::has_current() && timer::ticks() >= SLICE_END[this_cpu_index()].load(Ordering::Relaxed)
}

/// The timer fired at EL0 (this CPU's own timer, for the task on this
/// CPU): the run's time is up, the slice is over, or a sleeper this CPU's
/// timer ends is due: it is woken and the task runs on.
pub fn on_timer_interrupt() {
    let now = timer::ticks();
    let deadline = DEADLINE.load(Ordering::Relaxed);
    if now >= deadline {
        // The run's limit, as the runner reports it for the tasks it stops
        // (`run`): measured from the task's own start, a task started
        // after the deadline (while the others unwind) underflowed to
        // "18446744073673 ms".
        let limit_ms = timer::ticks_to_ns(deadline.saturating_sub(RUN_START.load(Ordering::Relaxed))) / 1_000_000;
        exit_current(Outcome::TimeLimit { limit_ms });
    }
    let cpu = this_cpu_index();
    let slice_end = SLICE_END[cpu].load(Ordering::Relaxed);
    if now < slice_end {
        wake_sleepers_if_due(cpu, now);
        arm_for_task(cpu, slice_end);
        return;
    }
    yield_now();
}

/// Resumes `pid` on this CPU until it leaves the CPU again; the kernel
/// lock is held throughout (the task lets it go on its way to EL0 and takes
/// it again at its next entry).
fn resume(pid: u32, slice_end: u64) {
    let Some(p) = get(pid) else { return };
    if p.state.get() != State::Runnable || p.on_cpu.get().is_some() {
        return;
    }
    let cpu = this_cpu_index();
    p.state.set(State::Running);
    p.on_cpu.set(Some(cpu));
    crate::fault_cost::first_el0_entry();
    p.mm.read().activate();
    p.fp.borrow().restore();
    p.mte.install();
    crate::arch::aarch64::debug::set_user_step(p.ptrace.borrow().single_step);
    // The thread pointer (glibc's TLS base) is part of the EL0 state too.
    TPIDR_EL0.set(p.tls.get());
    // The vDSO's data page is refreshed every time a task gets the CPU.
    crate::vdso::tick();
    SLICE_END[cpu].store(slice_end, Ordering::Relaxed);
    arm_for_task(cpu, slice_end);
    // This CPU is the only writer: a load and a store, no atomic add.
    RESUMED[cpu].store(RESUMED[cpu].load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    // A task resumed inside a handler is inside its entry from EL0, whose
    // frame tops its kernel stack: the frame a panic here reports.
    crate::arch::aarch64::exception::set_user_frame(&p.kstack);
    // The process's context was saved by `switch_out` or made by
    // `new_user_entry`, on its own live kernel stack; the runner's context
    // is saved in RUNNER, which the process switches back to.
    CURRENT.run(&RUNNER, p, |p| &p.context);
    // Back with the kernel lock still held since the task's switch_out:
    // its context is saved, so it may run elsewhere from now on. A task
    // another CPU wakes meanwhile waits for this lock, and so is never
    // resumed before its context is saved (xv6's argument for holding
    // ptable.lock across swtch). The box is still in the table (a task on
    // a CPU is never freed), maybe under another pid (de_thread).
    p.on_cpu.set(None);
    crate::arch::aarch64::exception::clear_frame();
    timer::disarm();
    // No user tables while the runner runs: what it reaps may free them.
    crate::arch::aarch64::mmu::user_tables::uninstall();
}

/// The sleepers that are due are woken if the first one `cpu`'s timer
/// ends is (a load and a compare when none is).
fn wake_sleepers_if_due(cpu: usize, now: u64) {
    if now >= sleepers_due(cpu) {
        wake_due_sleepers(cpu, now);
    }
}

/// Every sleeper whose time has come is woken, whichever CPU's timer it
/// was on (a CPU that looks late for its own finds them woken); then
/// `cpu`'s first is looked up again.
fn wake_due_sleepers(cpu: usize, now: u64) {
    // One at a time, so that nothing is allocated (the test runner counts
    // heap bytes).
    while let Some(pid) = look_up(|procs| procs.iter().find(|p| timed_wait_end(p).is_some_and(|w| w <= now)).map(|p| p.pid.0))
    {
        wake(pid);
    }
    let next = tasks().filter(|p| p.timer_cpu.get() == cpu).filter_map(timed_wait_end).min();
    SLEEPERS_DUE[cpu].store(next.unwrap_or(u64::MAX), Ordering::Relaxed);
}

/// Takes from the run queue the first task this CPU may run: runnable,
/// on no CPU, and with `cpu` in its affinity; the task this CPU was kicked
/// for first, if no other CPU took it meanwhile. Entries for tasks that
/// are gone or no longer runnable are dropped on the way.
fn pick(cpu: usize) -> Option<u32> {
    let kicked_for = KICKED_FOR[cpu].swap(0, Ordering::Relaxed);
    QUEUE.pick(cpu, kicked_for, |pid| match get(pid) {
        Some(p) if p.state.get() == State::Runnable => {
            if p.on_cpu.get().is_none() {
                Seen::Ready(p.affinity.get())
            } else {
                Seen::Busy
            }
        }
        _ => Seen::Gone,
    })
}

/// One turn of this CPU's runner, the kernel lock held: the first task
/// this CPU may run is resumed until it leaves the CPU. False when there
/// was none.
fn run_next(now: u64) -> bool {
    let Some(pid) = pick(this_cpu_index()) else { return false };
    let slice_end = (now + timer::ns_to_ticks(SLICE_NS)).min(DEADLINE.load(Ordering::Relaxed));
    resume(pid, slice_end);
    true
}

/// Lets the CPUs waiting for the kernel lock in, then takes it again, as
/// xv6's scheduler releases ptable.lock between two passes. Between two
/// tasks, so that one CPU's runner does not keep the others out for as
/// long as it finds work.
fn let_others_in() {
    kernel_lock::let_waiters_in();
}

/// An idle CPU waits, without the kernel lock, until `until` (its timer) or
/// any other interrupt; with interrupts masked, a pending one only ends the
/// WFI (docs/smp.md, section 1).
fn idle_until(until: u64) {
    let cpu = this_cpu_index();
    IDLE[cpu].store(true, Ordering::Relaxed);
    kernel_lock::unlock();
    sleep_until(until);
    IDLE[cpu].store(false, Ordering::Relaxed);
}

/// Waits until the counter reaches `until` (this CPU's timer wakes it) or
/// a Reschedule IPI comes (another CPU queued a task for it: `wake`).
fn sleep_until(until: u64) {
    timer::arm_at(until);
    while timer::ticks() < until && !ipi::take_need_resched() {
        crate::arch::aarch64::smp::wait_for_interrupt();
    }
    timer::disarm();
}

/// How long idle CPU `cpu` sleeps from `now` at most: a tick, or until
/// the first sleeper its timer ends.
fn idle_until_at_most(cpu: usize, now: u64) -> u64 {
    (now + timer::ns_to_ticks(IDLE_TICK_NS)).min(sleepers_due(cpu))
}

/// A secondary CPU's runner, for as long as the kernel runs: the tasks of
/// the run queue it may run, one after another, and an idle wait when
/// there is none (arch/aarch64/smp.rs starts it once the CPU is set up).
pub fn secondary_loop() -> ! {
    loop {
        // Only when no other CPU holds it or waits for it: an idle CPU
        // that spun for the lock would slow the one holding it (under
        // QEMU, vCPUs share the host's cores) and could do nothing anyway.
        let me = this_cpu_index();
        // A sleeper due on this CPU's timer is woken now, whoever holds
        // the lock (it waits its turn), as a queued task is.
        if PENDING[me].load(Ordering::Relaxed) || timer::ticks() >= sleepers_due(me) {
            kernel_lock::lock();
        } else if !kernel_lock::try_lock() {
            // Idle still: a CPU that queues a task for it kicks it. Marked
            // before the hint is read again, so that a task queued since
            // the read above is seen here or kicks the wait short.
            IDLE[me].store(true, Ordering::SeqCst);
            if !PENDING[me].load(Ordering::SeqCst) {
                sleep_until(idle_until_at_most(me, timer::ticks()));
            }
            IDLE[me].store(false, Ordering::Relaxed);
            continue;
        }
        // Whatever is queued for this CPU from now on sets the hint again.
        PENDING[me].store(false, Ordering::Relaxed);
        wake_sleepers_if_due(me, timer::ticks());
        while run_next(timer::ticks()) {
            let_others_in();
            wake_sleepers_if_due(me, timer::ticks());
        }
        // Nothing for this CPU: sleep a tick (or until its first sleeper),
        // or until a CPU that queues a task for it sends a Reschedule IPI
        // (`wake`).
        idle_until(idle_until_at_most(me, timer::ticks()));
    }
}

/// Runs `root` and everything it starts until all of them are gone or the
/// time limit passes; returns how `root` ended. CPU 0 runs tasks here while
/// the other CPUs run them in `secondary_loop`.
pub fn run(root: Box<Process>, time_limit_ns: u64) -> Report {
    kernel_lock::lock();
    let start = timer::ticks();
    let mut deadline = start + timer::ns_to_ticks(time_limit_ns);
    let root_pid = root.pid.0;
    root.started_at.set(start);
    RUN_START.store(start, Ordering::Relaxed);
    DEADLINE.store(deadline, Ordering::Relaxed);
    admit(root);
    let mut report = Report {
        outcome: Outcome::NotStarted("no outcome recorded".into()),
        elapsed_ns: 0,
        faults: FaultCounters::default(),
        peak_frames: 0,
    };
    let several_cpus = super::cpu_mask::online_count() > 1;

    loop {
        let now = timer::ticks();
        // Zombies whose parent is the runner: reap them, when a task has
        // ended since the last look. (A process that ends gives its
        // children to the runner, `process_ended`, so no parent is gone.)
        let orphans: alloc::vec::Vec<u32> = if ZOMBIES_TO_REAP.swap(false, Ordering::Relaxed) {
            children_of(0)
                .filter(|p| p.state.get() == State::Zombie)
                .filter(|p| !p.is_leader() || reapable(p))
                .map(|p| p.pid.0)
                .collect()
        } else {
            alloc::vec::Vec::new()
        };
        for pid in orphans {
            if let Some(p) = reap(pid) {
                if pid == root_pid {
                    report.outcome = p.outcome.borrow().clone().unwrap_or(report.outcome);
                    report.faults = p.faults.clone();
                    report.peak_frames = p.mm.read().owned_frames().1;
                    report.elapsed_ns = timer::ticks_to_ns(timer::ticks() - start);
                }
            } else {
                // Still on the CPU it ended on: the next look takes it.
                ZOMBIES_TO_REAP.store(true, Ordering::Relaxed);
            }
        }
        if procs().is_empty() {
            // The run is over: the tables give back the room they grew
            // (an empty BTreeMap keeps its root node, a VecDeque its
            // buffer), so the heap is as the run found it.
            procs_mut().release_if_empty();
            QUEUE.release();
            break;
        }
        if now >= deadline {
            let limit_ms = timer::ticks_to_ns(deadline - start) / 1_000_000;
            // Tasks on wait queues hold references on their kernel stacks:
            // they are woken to return from their system calls and exit
            // (`exit_if_killed`) before the rest is dropped; so are tasks
            // running on another CPU, which exit at their next entry (their
            // timer is set for the deadline at the latest). Until they
            // have, the run goes on (whatever else runs meets the expired
            // timer at once and exits too).
            let waiting: alloc::vec::Vec<u32> = tasks()
                .filter(|p| p.state.get() == State::Waiting || p.in_wait.get() && p.state.get() == State::Runnable)
                .map(|p| p.pid.0)
                .collect();
            for pid in waiting {
                // An outcome already set stays: a task paused in its exit's
                // walk (in_wait, Runnable) has exited with its own status.
                if let Some(p) = get(pid) {
                    p.outcome.borrow_mut().get_or_insert(Outcome::TimeLimit { limit_ms });
                }
                wake(pid);
            }
            for p in tasks().filter(|p| p.on_cpu.get().is_some() && p.state.get() != State::Zombie) {
                p.outcome.borrow_mut().get_or_insert(Outcome::TimeLimit { limit_ms });
                kick(p);
            }
            let unwinding =
                tasks().any(|p| p.on_cpu.get().is_some() || p.state.get() == State::Runnable && p.outcome.borrow().is_some());
            if !unwinding {
                // Time is up for the whole run: everything left is killed.
                let left = procs_mut().take_all();
                for (pid, p) in left {
                    log::info!("pid {} ({}) stopped by the {} ms time limit ({:?})", pid, p.name.borrow(), limit_ms, p.state.get());
                    if pid == root_pid {
                        report.outcome = Outcome::TimeLimit { limit_ms };
                        report.faults = p.faults.clone();
                        report.peak_frames = p.mm.read().owned_frames().1;
                    }
                }
                QUEUE.release();
                report.elapsed_ns = timer::ticks_to_ns(timer::ticks() - start);
                break;
            }
        }
        // Sleepers on this CPU's timer whose time has come (the other
        // CPUs wake theirs).
        wake_sleepers_if_due(this_cpu_index(), now);
        if run_next(now) {
            let_others_in();
            continue;
        }
        // Nothing runnable here: wait for the next wake-up or the deadline
        // (and, with other CPUs running tasks, a tick: what they do may
        // end the run or give this CPU a task).
        let next = tasks().filter_map(|p| p.wake_at.get()).min().unwrap_or(deadline).min(deadline);
        let stuck = |p: &Process| {
            matches!(p.state.get(), State::Zombie | State::WaitingForChild | State::WaitingForVfork | State::Traced)
                || (matches!(p.state.get(), State::WaitingForFutex | State::Waiting) && p.wake_at.get().is_none())
        };
        if tasks().all(|p| stuck(p) && p.on_cpu.get().is_none()) && next == deadline {
            // Everyone waits for something no one left can do: end
            // the run now rather than at the time limit.
            log::warn!("deadlock: every process waits for a child, a futex or a wait queue; ending the run");
            deadline = now;
            DEADLINE.store(now, Ordering::Relaxed);
            continue;
        }
        // This CPU's own sleepers (all of them with one CPU); the others'
        // CPUs wake theirs.
        let next = deadline.min(sleepers_due(this_cpu_index()));
        let next = if several_cpus { next.min(now + timer::ns_to_ticks(IDLE_TICK_NS)) } else { next };
        idle_until(next);
        kernel_lock::lock();
    }
    crate::arch::aarch64::mmu::user_tables::uninstall();
    kernel_lock::unlock();
    report
}
