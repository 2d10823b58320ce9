//! Signals: per-process dispositions, the blocked mask, pending signals, and
//! choosing what to deliver. Linux's rules (kernel/signal.c): signals are
//! numbered 1..=64; SIGKILL and SIGSTOP can be neither caught, blocked nor
//! ignored; a fault's signal is *forced* — if the process blocks or ignores
//! it, the default action (terminate) applies. A signal sent to a thread
//! waits in its own queue, one sent to the process in the queue its threads
//! share, for whichever does not block it; a thread takes a fault's signal
//! first, then its own, then the process's (dequeue_signal). Pure logic,
//! tested on the host; the arm64 signal frame is in
//! arch/aarch64/signal_frame.rs, delivery and rt_sigreturn in deliver.rs.

// Safe code only: what needs `unsafe` is a primitive in arch/ or mm/
// (frames, page tables, user copies, the one-CPU cells), as Asterinas
// splits its framekernel.
#![deny(unsafe_code)]

// Kernel-only: not built for the host unit tests (main.rs: kernel_only!).
kernel_only! {
    pub mod deliver;
}

use alloc::collections::VecDeque;
use alloc::sync::Arc;

use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crate::sync::{Rank, SpinLock};
use linux_raw_sys::general::{
    SA_NODEFER, SA_RESETHAND, SIGBUS, SIGCHLD, SIGCONT, SIGFPE, SIGILL, SIGKILL, SIGSEGV, SIGSTOP, SIGSYS, SIGTRAP,
    SIGTSTP, SIGTTIN, SIGTTOU, SIGURG, SIGWINCH, SI_USER, SS_AUTODISARM, SS_DISABLE, SS_ONSTACK,
};

/// Highest signal number (_NSIG).
pub const NSIG: u32 = 64;

/// Real-time signals queued at once by all the tasks a program started
/// (one user, as every task here is root): Linux's RLIMIT_SIGPENDING
/// default (max_threads / 2, with this kernel's 8192 processes), which
/// Linux counts per user, not per queue. Every queued signal is kernel
/// heap: with a limit per queue, a program with a few hundred threads each
/// filling its own queue exhausted the heap and panicked the kernel.
pub const MAX_QUEUED: usize = 4096;

/// The count RLIMIT_SIGPENDING limits (Linux's user_struct.sigpending),
/// shared by every task descended from one program.
#[derive(Clone, Debug, Default)]
struct QueueBudget(Arc<AtomicUsize>);

impl QueueBudget {
    /// One more queued signal, if the limit allows it.
    fn take(&self) -> bool {
        self.0.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| (n < MAX_QUEUED).then_some(n + 1)).is_ok()
    }

    fn give_back(&self, n: usize) {
        self.0.fetch_sub(n, Ordering::Relaxed);
    }
}

/// The task's real-time signal queue is full (EAGAIN).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueueFull;
/// The first real-time signal as the kernel numbers them (glibc reserves
/// the first two for itself and calls 34 SIGRTMIN).
pub const SIGRTMIN: u32 = 32;

/// A set of signals, bit n-1 for signal n: the kernel's sigset_t on arm64.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SigSet(pub u64);

impl SigSet {
    pub const EMPTY: SigSet = SigSet(0);

    pub fn of(sig: u32) -> Self {
        SigSet(1 << (sig - 1))
    }
    pub fn contains(self, sig: u32) -> bool {
        self.0 & (1 << (sig - 1)) != 0
    }
    pub fn insert(&mut self, sig: u32) {
        self.0 |= 1 << (sig - 1);
    }
    pub fn remove(&mut self, sig: u32) {
        self.0 &= !(1 << (sig - 1));
    }
    /// The set minus what can never be blocked (SIGKILL, SIGSTOP).
    pub fn blockable(self) -> Self {
        SigSet(self.0 & !(SigSet::of(SIGKILL).0 | SigSet::of(SIGSTOP).0))
    }
    /// The lowest-numbered signal in the set (Linux delivers low first).
    pub fn lowest(self) -> Option<u32> {
        (self.0 != 0).then(|| self.0.trailing_zeros() + 1)
    }
}

/// What a signal does when it arrives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    Default,
    Ignore,
    /// A handler at this EL0 address.
    Handler(u64),
}

/// One sigaction, as rt_sigaction sets it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Action {
    pub disposition: Disposition,
    pub flags: u64,
    pub restorer: u64,
    pub mask: SigSet,
}

impl Default for Action {
    fn default() -> Self {
        Self { disposition: Disposition::Default, flags: 0, restorer: 0, mask: SigSet::EMPTY }
    }
}

/// What the default action of a signal is (signal(7)). Stopping is not
/// modelled (there is no job control): stop signals are ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultAction {
    Terminate,
    Ignore,
}

pub fn default_action(sig: u32) -> DefaultAction {
    match sig {
        SIGCHLD | SIGCONT | SIGURG | SIGWINCH | SIGSTOP | SIGTSTP | SIGTTIN | SIGTTOU => DefaultAction::Ignore,
        _ => DefaultAction::Terminate,
    }
}

/// The part of siginfo this kernel fills: signal, code and one of the
/// union's forms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SigInfo {
    pub signo: u32,
    pub code: i32,
    /// si_addr for faults; the sender's pid (and uid 0) for kill.
    pub fields: SigFields,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SigFields {
    Fault {
        addr: u64,
    },
    Sender {
        pid: u32,
    },
    /// SIGCHLD: which child, and its exit status or signal.
    Child {
        pid: u32,
        status: i32,
    },
    /// rt_sigqueueinfo: the first 16 bytes of the union as the sender gave
    /// them (si_pid, si_uid, si_value for SI_QUEUE).
    Queued {
        words: [u64; 2],
    },
}

/// What should happen next for a process, after looking at its signals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    Nothing,
    /// Run the handler for this signal; a fault's details go in its frame.
    Handle(SigInfo, Action, Option<FaultDetails>),
    /// The default action ends the process.
    Terminate(SigInfo),
}

/// Signals whose kernel-generated instances are dequeued before any other
/// (Linux's SYNCHRONOUS_MASK): the fault that raised one is the one its
/// frame describes.
const SYNCHRONOUS: SigSet = SigSet(
    1 << (SIGSEGV - 1)
        | 1 << (SIGBUS - 1)
        | 1 << (SIGILL - 1)
        | 1 << (SIGTRAP - 1)
        | 1 << (SIGFPE - 1)
        | 1 << (SIGSYS - 1),
);

/// What the fault behind a forced signal leaves in the signal frame: the
/// esr_context record and uc_mcontext.fault_address (Linux's
/// thread.fault_code and thread.fault_address).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FaultDetails {
    pub esr: u64,
    pub address: u64,
}

/// The fault behind a pending forced signal, kept on the task from the
/// exception (arch/aarch64/el0_abort.rs) until the signal is delivered
/// (deliver.rs): Linux keeps the last two in thread.fault_code and
/// thread.fault_address.
#[derive(Debug, Default)]
pub struct PendingFault {
    /// The one-line report, printed if the signal ends the process.
    pub report: Option<alloc::string::String>,
    /// ESR_EL1 of the fault, for the signal frame's esr_context.
    pub esr: Option<u64>,
    /// The untagged address of the fault, if it was an abort.
    pub address: Option<u64>,
}

impl PendingFault {
    /// The details for the signal frame, taken (once) if the exception
    /// just handled left an ESR.
    pub fn take_details(&mut self) -> Option<FaultDetails> {
        let esr = self.esr.take()?;
        Some(FaultDetails { esr, address: self.address.take().unwrap_or(0) })
    }
}

/// One queue of pending signals (Linux's struct sigpending): a thread's
/// own, or the one its process shares.
#[derive(Debug)]
struct Pending {
    set: SigSet,
    /// The siginfo of each pending standard signal (one instance each).
    info: [Option<SigInfo>; NSIG as usize],
    /// Queued instances of real-time signals (SIGRTMIN and up), in order:
    /// unlike standard signals, each one sent is delivered.
    queued: VecDeque<SigInfo>,
    /// What `queued` counts against.
    budget: QueueBudget,
}

impl Pending {
    fn new(budget: QueueBudget) -> Self {
        Self { set: SigSet::EMPTY, info: [None; NSIG as usize], queued: VecDeque::new(), budget }
    }

    /// Linux's __send_signal_locked: a standard signal is pending at most
    /// once; every real-time signal sent is queued, up to MAX_QUEUED for
    /// the program's tasks together (or while the kernel heap has room).
    /// With no room, kill() still makes the signal pending but its
    /// information is lost; other senders get `Err(QueueFull)` (EAGAIN).
    fn add(&mut self, info: SigInfo) -> Result<(), QueueFull> {
        let sig = info.signo;
        if sig >= SIGRTMIN {
            // A program's tasks share MAX_QUEUED instances (Linux's per-user
            // RLIMIT_SIGPENDING), and a queue grows only where the heap has
            // room beyond its reserve.
            if self.budget.take() {
                if self.room_for_one() {
                    self.queued.push_back(info);
                } else {
                    self.budget.give_back(1);
                    if info.code != SI_USER as i32 {
                        return Err(QueueFull);
                    }
                }
            } else if info.code != SI_USER as i32 {
                return Err(QueueFull);
            }
            self.set.insert(sig);
            return Ok(());
        }
        if !self.set.contains(sig) {
            self.set.insert(sig);
            self.info[(sig - 1) as usize] = Some(info);
        }
        Ok(())
    }

    /// Whether one more real-time instance can be queued without taking
    /// the heap the kernel keeps for itself: a full buffer grows into a new
    /// one twice its size while it is still held, and a growth the heap
    /// cannot give is refused, as Linux's failed sigqueue allocation is
    /// (EAGAIN), rather than panic the kernel. The budget bounds one
    /// program's queues; hundreds of programs with full queues would
    /// otherwise still exhaust the heap.
    fn room_for_one(&mut self) -> bool {
        if self.queued.len() < self.queued.capacity() {
            return true;
        }
        let bytes = self.queued.capacity().max(4) * 2 * core::mem::size_of::<SigInfo>();
        crate::mm::heap::can_spare(bytes) && self.queued.try_reserve(1).is_ok()
    }

    /// Takes one instance of `sig` (Linux's collect_signal): the signal
    /// stays pending while more real-time instances are queued. A queue
    /// drained empty gives its buffer back (no allocation to shrink it).
    fn take(&mut self, sig: u32) -> SigInfo {
        let queued = self.queued.iter().position(|i| i.signo == sig).and_then(|at| self.queued.remove(at));
        if queued.is_some() {
            self.budget.give_back(1);
            self.trim();
        }
        if !self.queued.iter().any(|i| i.signo == sig) {
            self.set.remove(sig);
        }
        queued.or_else(|| self.info[(sig - 1) as usize].take()).unwrap_or(SigInfo {
            signo: sig,
            code: 0,
            fields: SigFields::Sender { pid: 0 },
        })
    }

    /// Drops every instance of `sig` (it became ignored).
    fn discard(&mut self, sig: u32) {
        self.set.remove(sig);
        self.info[(sig - 1) as usize] = None;
        let before = self.queued.len();
        self.queued.retain(|i| i.signo != sig);
        self.budget.give_back(before - self.queued.len());
        self.trim();
    }

    /// Gives back the heap of a queue mostly drained, so that what stays
    /// allocated is bounded by what is queued (the budget) rather than by
    /// what every queue once held: a new, smaller buffer when one can be
    /// had, else the old one is kept.
    fn trim(&mut self) {
        let (len, cap) = (self.queued.len(), self.queued.capacity());
        if len == 0 {
            self.queued = VecDeque::new();
            return;
        }
        if cap <= 8 || len * 4 > cap {
            return;
        }
        let mut smaller = VecDeque::new();
        if smaller.try_reserve_exact(len * 2).is_ok() {
            smaller.extend(self.queued.drain(..));
            self.queued = smaller;
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.budget.give_back(self.queued.len());
    }
}

/// What the threads of a process share (CLONE_SIGHAND and the thread
/// group): the dispositions, and the signals sent to the process as a
/// whole (Linux's signal->shared_pending), which any thread that does not
/// block them may take.
#[derive(Debug)]
struct Group {
    /// Shared with other processes made by clone(CLONE_SIGHAND) without
    /// CLONE_THREAD (Linux's sighand_struct), which have their own pending
    /// signals (Linux's signal_struct).
    actions: Arc<SpinLock<[Action; NSIG as usize]>>,
    shared: SpinLock<Pending>,
    /// `shared`'s set, readable without the lock by the check every return
    /// to EL0 makes.
    shared_set: AtomicU64,
    /// What every queue of the program's tasks counts against.
    budget: QueueBudget,
}

impl Group {
    fn new(actions: [Action; NSIG as usize], budget: QueueBudget) -> Arc<Self> {
        Self::sharing_actions(Arc::new(SpinLock::new(Rank::SignalActions, actions)), budget)
    }

    fn sharing_actions(actions: Arc<SpinLock<[Action; NSIG as usize]>>, budget: QueueBudget) -> Arc<Self> {
        let shared = SpinLock::new(Rank::SignalPending, Pending::new(budget.clone()));
        Arc::new(Self { actions, shared, shared_set: AtomicU64::new(0), budget })
    }

    fn shared_set(&self) -> SigSet {
        SigSet(self.shared_set.load(Ordering::Relaxed))
    }

    fn with_shared<R>(&self, f: impl FnOnce(&mut Pending) -> R) -> R {
        let mut shared = self.shared.lock();
        let r = f(&mut shared);
        self.shared_set.store(shared.set.0, Ordering::Relaxed);
        r
    }
}

/// An alternate signal stack as sigaltstack(2) sets it (Linux's sas_ss_sp,
/// sas_ss_size, sas_ss_flags).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AltStack {
    pub sp: u64,
    pub size: u64,
    /// The mode (0, SS_ONSTACK or SS_DISABLE) with SS_AUTODISARM, as given.
    pub flags: u32,
}

impl AltStack {
    /// No alternate stack (Linux's sas_ss_reset).
    pub const DISABLED: AltStack = AltStack { sp: 0, size: 0, flags: SS_DISABLE };

    /// Linux's on_sig_stack: is `sp` on this stack? Never with
    /// SS_AUTODISARM, which by construction is disarmed while in use.
    pub fn contains(&self, sp: u64) -> bool {
        self.flags & SS_AUTODISARM == 0 && sp > self.sp && sp - self.sp <= self.size
    }

    /// Linux's sas_ss_flags: SS_DISABLE, SS_ONSTACK or 0 for `sp`.
    pub fn state(&self, sp: u64) -> u32 {
        if self.size == 0 {
            SS_DISABLE
        } else if self.contains(sp) {
            SS_ONSTACK
        } else {
            0
        }
    }
}

/// How the system call just made asks to be finished when it returns to
/// EL0 with a signal pending (Linux's -ERESTART* codes, never seen by user
/// space), decided in deliver.rs: `cut_short_by_handler` when a handler
/// runs, `on_return_to_user` (the call made again) when none does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RestartKind {
    /// ERESTARTSYS: restarted if the handler has SA_RESTART (wait4, futex
    /// waits without a timeout), else EINTR.
    Sys,
    /// ERESTARTNOINTR: always restarted.
    NoIntr,
    /// ERESTARTNOHAND: EINTR if a handler runs, restarted otherwise
    /// (rt_sigsuspend, absolute clock_nanosleep).
    NoHand,
    /// ERESTART_RESTARTBLOCK: EINTR if a handler runs, otherwise resumed
    /// through restart_syscall with `restart_block` (relative nanosleep,
    /// timed futex waits).
    RestartBlock,
}

/// What restart_syscall(2) continues (Linux's current->restart_block.fn;
/// `None` is do_no_restart_syscall, which returns EINTR).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RestartBlock {
    /// hrtimer_nanosleep_restart: sleep until `until_ns` on the boot
    /// clock, writing what is left to `rmtp` (0: none) if cut short again.
    Nanosleep { until_ns: u64, rmtp: u64 },
    /// futex_wait_restart: wait on the futex at `uaddr` (with `op`'s
    /// FUTEX_PRIVATE_FLAG) while it holds `val`, until the counter reaches
    /// `deadline`.
    Futex { uaddr: u64, op: u32, val: u32, deadline: u64 },
}

/// A thread's signal state: the process's dispositions and shared
/// pending signals, its own mask and pending signals.
#[derive(Debug)]
pub struct SignalState {
    group: Arc<Group>,
    pub blocked: SigSet,
    pending: Pending,
    /// The fault behind the forced signal `.0`, for its frame only.
    fault: Option<(u32, FaultDetails)>,
    /// The signal last forced, which `attach_fault` describes.
    last_forced: Option<u32>,
    /// The mask rt_sigsuspend replaced, put back when its signal's handler
    /// frame is pushed (and saved in that frame) or when no handler runs
    /// (Linux's saved_sigmask and TIF_RESTORE_SIGMASK).
    pub saved_mask: Option<SigSet>,
    /// The system call being returned from wants restarting (its -ERESTART*
    /// code and its original x0), decided on the way out.
    pub restart: Option<(RestartKind, u64)>,
    pub restart_block: Option<RestartBlock>,
    /// sigaltstack; `None` is Linux's reset state (AltStack::DISABLED).
    pub altstack: Option<AltStack>,
}

impl Default for SignalState {
    fn default() -> Self {
        Self::with_group(Group::new([Action::default(); NSIG as usize], QueueBudget::default()), SigSet::EMPTY, None)
    }
}

impl SignalState {
    fn with_group(group: Arc<Group>, blocked: SigSet, altstack: Option<AltStack>) -> Self {
        Self {
            pending: Pending::new(group.budget.clone()),
            group,
            blocked,
            fault: None,
            last_forced: None,
            saved_mask: None,
            restart: None,
            restart_block: None,
            altstack,
        }
    }

    /// The state of a forked child: a copy of the dispositions, mask and
    /// alternate stack, nothing pending.
    pub fn for_fork(&self) -> Self {
        Self::with_group(Group::new(*self.group.actions.lock(), self.group.budget.clone()), self.blocked, self.altstack)
    }

    /// The state of a new thread: the same dispositions and process-wide
    /// pending signals, the creator's mask, nothing of its own pending, no
    /// alternate stack.
    pub fn for_thread(&self) -> Self {
        Self::with_group(self.group.clone(), self.blocked, None)
    }

    /// The state of a process made by clone(CLONE_SIGHAND) without
    /// CLONE_THREAD: the same dispositions, but signals sent to it are its
    /// own (Linux shares sighand_struct, not signal_struct).
    pub fn for_sighand_sharer(&self) -> Self {
        let group = Group::sharing_actions(self.group.actions.clone(), self.group.budget.clone());
        Self::with_group(group, self.blocked, self.altstack)
    }

    /// exec: the dispositions become this process's own copy (Linux's
    /// unshare_sighand), so resetting them changes no one else's. Called
    /// after de_thread, when this thread is the only one of its group, so
    /// the process-wide pending signals move along with it.
    pub fn unshare_actions(&mut self) {
        let group = Group::new(*self.group.actions.lock(), self.group.budget.clone());
        let shared = self.group.with_shared(|p| core::mem::replace(p, Pending::new(self.group.budget.clone())));
        group.with_shared(|p| *p = shared);
        self.group = group;
    }

    pub fn action(&self, sig: u32) -> Action {
        self.group.actions.lock()[(sig - 1) as usize]
    }

    /// The alternate stack (Linux's sas_ss_*), disabled if none was set.
    pub fn alt_stack(&self) -> AltStack {
        self.altstack.unwrap_or(AltStack::DISABLED)
    }

    /// Replaces a disposition (rt_sigaction); SIGKILL and SIGSTOP refuse.
    pub fn set_action(&mut self, sig: u32, action: Action) -> Result<(), ()> {
        if sig == SIGKILL || sig == SIGSTOP {
            return Err(());
        }
        self.group.actions.lock()[(sig - 1) as usize] = Action { mask: action.mask.blockable(), ..action };
        // Setting SIG_IGN discards a pending instance (POSIX; Linux's
        // do_sigaction flushes it from the process and from every thread:
        // the caller does the other threads with `discard_pending`).
        if handler_ignores(&action, sig) {
            self.discard_pending(sig);
            self.group.with_shared(|s| s.discard(sig));
        }
        Ok(())
    }

    /// Whether `sig` is now ignored (SIG_IGN, or a default that ignores).
    pub fn ignores(&self, sig: u32) -> bool {
        handler_ignores(&self.action(sig), sig)
    }

    /// Drops this thread's own pending instances of `sig`.
    pub fn discard_pending(&mut self, sig: u32) {
        self.pending.discard(sig);
    }

    /// Linux's sig_ignored: an ignored signal that is not blocked is
    /// dropped when sent (a blocked one waits: the disposition may change),
    /// unless the thread is traced: its tracer sees every signal but
    /// SIGKILL, ignored or not.
    fn ignored(&self, sig: u32, traced: bool) -> bool {
        sig != SIGKILL && !traced && !self.blocked.contains(sig) && handler_ignores(&self.action(sig), sig)
    }

    /// Queues `info` for this thread (tkill, tgkill, rt_tgsigqueueinfo);
    /// `traced` if the thread has a tracer.
    pub fn send(&mut self, info: SigInfo, traced: bool) -> Result<(), QueueFull> {
        if self.ignored(info.signo, traced) {
            return Ok(());
        }
        self.pending.add(info)
    }

    /// Queues `info` for the whole process (kill, rt_sigqueueinfo,
    /// SIGCHLD): any of its threads that does not block it takes it;
    /// `traced` if the thread it was sent through has a tracer.
    pub fn send_to_group(&mut self, info: SigInfo, traced: bool) -> Result<(), QueueFull> {
        if self.ignored(info.signo, traced) {
            return Ok(());
        }
        self.group.with_shared(|s| s.add(info))
    }

    /// Queues a signal raised by a fault: it cannot be blocked or ignored
    /// away (Linux's force_sig_info): if it is, the default comes back.
    pub fn force(&mut self, info: SigInfo) {
        let sig = info.signo;
        let action = self.action(sig);
        if self.blocked.contains(sig) || action.disposition == Disposition::Ignore {
            self.blocked.remove(sig);
            self.group.actions.lock()[(sig - 1) as usize].disposition = Disposition::Default;
        }
        self.pending.set.insert(sig);
        self.pending.info[(sig - 1) as usize] = Some(info);
        self.last_forced = Some(sig);
        if self.fault.is_some_and(|(s, _)| s == sig) {
            self.fault = None;
        }
    }

    /// Like [`SignalState::force`], with the default action whatever the
    /// disposition (for a signal frame that could not be written).
    pub fn force_default(&mut self, info: SigInfo) {
        self.group.actions.lock()[(info.signo - 1) as usize].disposition = Disposition::Default;
        self.force(info);
    }

    /// Records what the fault behind the signal just forced leaves in its
    /// signal frame: that frame, and no other, gets it.
    pub fn attach_fault(&mut self, details: FaultDetails) {
        if let Some(sig) = self.last_forced {
            self.fault = Some((sig, details));
        }
    }

    /// This thread's pending signals and its process's.
    pub fn pending(&self) -> SigSet {
        SigSet(self.pending.set.0 | self.group.shared_set().0)
    }

    /// The signals pending for this thread alone and those pending for its
    /// process (/proc/<pid>/status SigPnd and ShdPnd: Linux's
    /// task->pending and signal->shared_pending).
    pub fn pending_split(&self) -> (SigSet, SigSet) {
        (self.pending.set, self.group.shared_set())
    }

    /// Real-time signal instances queued for this thread and its process
    /// (/proc/<pid>/status SigQ).
    pub fn queued_count(&self) -> usize {
        self.pending.queued.len() + self.group.with_shared(|shared| shared.queued.len())
    }

    /// Whether some pending signal is not blocked: what every return to
    /// EL0 asks first, before anything is dequeued (Linux's
    /// _TIF_SIGPENDING check in exit_to_user_mode).
    #[inline]
    pub fn any_deliverable(&self) -> bool {
        self.pending().0 & !self.blocked.0 != 0
    }

    /// Whether a pending, unblocked signal would do something (run a
    /// handler or end the process): what ends an interruptible wait on a
    /// wait queue (a pipe, ppoll, pselect6). A signal whose default is to
    /// be ignored does not: Linux never queues one (sig_ignored), and a
    /// blocked one kept pending here must not end the wait either.
    pub fn interrupts_wait(&self) -> bool {
        let mut set = SigSet(self.pending().0 & !self.blocked.0);
        while let Some(sig) = set.lowest() {
            set.remove(sig);
            match self.action(sig).disposition {
                Disposition::Handler(_) => return true,
                Disposition::Ignore => {}
                Disposition::Default => {
                    if default_action(sig) == DefaultAction::Terminate {
                        return true;
                    }
                }
            }
        }
        false
    }

    /// Whether this thread would take `sig` sent to its process now
    /// (Linux's wants_signal, without the stopped and exiting cases).
    pub fn wants(&self, sig: u32) -> bool {
        !self.blocked.contains(sig)
    }

    /// Takes the next pending signal in `allowed` (Linux's dequeue_signal):
    /// first a synchronous one the kernel raised (a fault), then the lowest
    /// of this thread's own, then the lowest of the process's.
    pub fn dequeue(&mut self, allowed: SigSet) -> Option<(SigInfo, Option<FaultDetails>)> {
        let own = SigSet(self.pending.set.0 & allowed.0);
        // Linux's dequeue_synchronous_signal: kernel-raised si_code > 0.
        let sync = (1..=NSIG).find(|&s| {
            SYNCHRONOUS.contains(s)
                && own.contains(s)
                && self.pending.info[(s - 1) as usize].is_some_and(|i| i.code > 0)
        });
        let info = if let Some(sig) = sync.or_else(|| own.lowest()) {
            self.pending.take(sig)
        } else {
            let shared = SigSet(self.group.shared_set().0 & allowed.0);
            let sig = shared.lowest()?;
            self.group.with_shared(|s| s.take(sig))
        };
        let fault = match self.fault {
            Some((sig, details)) if sig == info.signo => {
                self.fault = None;
                Some(details)
            }
            _ => None,
        };
        Some((info, fault))
    }

    /// Takes the next deliverable signal and says what to do with it. For a
    /// handler, the caller must then apply [`SignalState::handler_entered`].
    pub fn next(&mut self) -> Next {
        while let Some((info, fault)) = self.dequeue(SigSet(!self.blocked.0)) {
            if let Some(next) = self.decide(info, fault) {
                return next;
            }
        }
        Next::Nothing
    }

    /// What the disposition does with a dequeued signal (and the fault
    /// behind it, for its frame): `None` when it is ignored (explicitly or
    /// by default). A tracer sees a signal before this is asked.
    pub fn decide(&self, info: SigInfo, fault: Option<FaultDetails>) -> Option<Next> {
        let action = self.action(info.signo);
        match action.disposition {
            Disposition::Handler(_) => Some(Next::Handle(info, action, fault)),
            Disposition::Ignore => None,
            Disposition::Default => match default_action(info.signo) {
                DefaultAction::Ignore => None,
                DefaultAction::Terminate => Some(Next::Terminate(info)),
            },
        }
    }

    /// While the handler for `sig` runs, its mask and (without SA_NODEFER)
    /// the signal itself are blocked; SA_RESETHAND restores the default.
    /// Returns the mask to restore on sigreturn.
    pub fn handler_entered(&mut self, sig: u32, action: &Action) -> SigSet {
        let saved = self.blocked;
        self.blocked.0 |= action.mask.0;
        if action.flags & SA_NODEFER as u64 == 0 {
            self.blocked.insert(sig);
        }
        self.blocked = self.blocked.blockable();
        if action.flags & SA_RESETHAND as u64 != 0 {
            self.group.actions.lock()[(sig - 1) as usize] = Action::default();
        }
        saved
    }
}

/// Linux's sig_handler_ignored: SIG_IGN, or SIG_DFL for a signal whose
/// default is to do nothing.
fn handler_ignores(action: &Action, sig: u32) -> bool {
    action.disposition == Disposition::Ignore
        || (action.disposition == Disposition::Default && default_action(sig) == DefaultAction::Ignore)
}

#[cfg(test)]
mod tests {
    use linux_raw_sys::general::{SIGINT, SIGSEGV, SIGUSR1, SIGUSR2, SI_TKILL};

    use super::*;

    fn user(sig: u32) -> SigInfo {
        SigInfo { signo: sig, code: 0, fields: SigFields::Sender { pid: 1 } }
    }

    fn handler(addr: u64) -> Action {
        Action { disposition: Disposition::Handler(addr), ..Action::default() }
    }

    #[test]
    fn blocked_signals_wait_and_lowest_goes_first() {
        let mut s = SignalState::default();
        s.set_action(SIGUSR1, handler(0x1000)).unwrap();
        s.set_action(SIGUSR2, handler(0x2000)).unwrap();
        s.blocked = SigSet::of(SIGUSR1);
        s.send(user(SIGUSR2), false).unwrap();
        s.send(user(SIGUSR1), false).unwrap();
        assert!(matches!(s.next(), Next::Handle(SigInfo { signo: SIGUSR2, .. }, _, _)));
        assert_eq!(s.next(), Next::Nothing, "SIGUSR1 is blocked");
        s.blocked = SigSet::EMPTY;
        assert!(matches!(s.next(), Next::Handle(SigInfo { signo: SIGUSR1, .. }, _, _)));
    }

    #[test]
    fn any_deliverable_is_true_exactly_when_next_has_something_to_dequeue() {
        let mut s = SignalState::default();
        assert!(!s.any_deliverable());
        s.blocked = SigSet::of(SIGUSR1);
        s.send(user(SIGUSR1), false).unwrap();
        assert!(!s.any_deliverable(), "pending but blocked");
        s.force(SigInfo { signo: SIGUSR1, code: 1, fields: SigFields::Fault { addr: 0 } });
        assert!(s.any_deliverable(), "forcing unblocks");
        assert!(matches!(s.next(), Next::Terminate(_)));
        assert!(!s.any_deliverable());
    }

    #[test]
    fn default_actions_terminate_or_ignore() {
        let mut s = SignalState::default();
        s.send(user(SIGCHLD), false).unwrap();
        assert_eq!(s.next(), Next::Nothing, "SIGCHLD's default is to ignore");
        s.send(user(SIGUSR1), false).unwrap();
        assert_eq!(s.next(), Next::Terminate(user(SIGUSR1)));
    }

    #[test]
    fn sigkill_and_sigstop_cannot_be_caught_or_blocked() {
        let mut s = SignalState::default();
        assert!(s.set_action(SIGKILL, handler(0x1000)).is_err());
        s.blocked = SigSet(u64::MAX).blockable();
        s.send(user(SIGKILL), false).unwrap();
        assert_eq!(s.next(), Next::Terminate(user(SIGKILL)));
    }

    #[test]
    fn forced_fault_signals_override_block_and_ignore() {
        let mut s = SignalState::default();
        s.set_action(SIGSEGV, Action { disposition: Disposition::Ignore, ..Action::default() }).unwrap();
        s.blocked = SigSet::of(SIGSEGV);
        let fault = SigInfo { signo: SIGSEGV, code: 1, fields: SigFields::Fault { addr: 0x10 } };
        s.force(fault);
        assert_eq!(s.next(), Next::Terminate(fault));
    }

    #[test]
    fn handlers_block_their_signal_unless_nodefer_and_resethand_resets() {
        let mut s = SignalState::default();
        let a = Action { mask: SigSet::of(SIGUSR2), ..handler(0x1000) };
        s.set_action(SIGUSR1, a).unwrap();
        let saved = s.handler_entered(SIGUSR1, &a);
        assert_eq!(saved, SigSet::EMPTY);
        assert!(s.blocked.contains(SIGUSR1) && s.blocked.contains(SIGUSR2));
        let b = Action { flags: (SA_NODEFER | SA_RESETHAND) as u64, ..handler(0x2000) };
        s.blocked = SigSet::EMPTY;
        s.handler_entered(SIGUSR2, &b);
        assert!(!s.blocked.contains(SIGUSR2));
        assert_eq!(s.action(SIGUSR2).disposition, Disposition::Default);
    }

    #[test]
    fn threads_share_dispositions_and_forks_copy_them() {
        let mut s = SignalState::default();
        let thread = s.for_thread();
        let fork = s.for_fork();
        s.set_action(SIGUSR1, handler(0x1000)).unwrap();
        assert_eq!(thread.action(SIGUSR1).disposition, Disposition::Handler(0x1000));
        assert_eq!(fork.action(SIGUSR1).disposition, Disposition::Default);
    }

    #[test]
    fn real_time_signals_queue_every_instance() {
        let mut s = SignalState::default();
        s.set_action(40, handler(0x1000)).unwrap();
        s.send(SigInfo { signo: 40, code: -1, fields: SigFields::Sender { pid: 1 } }, false).unwrap();
        s.send(SigInfo { signo: 40, code: -2, fields: SigFields::Sender { pid: 1 } }, false).unwrap();
        assert!(matches!(s.next(), Next::Handle(SigInfo { code: -1, .. }, _, _)));
        assert!(matches!(s.next(), Next::Handle(SigInfo { code: -2, .. }, _, _)));
        assert_eq!(s.next(), Next::Nothing);
    }

    #[test]
    fn ignoring_discards_what_is_pending() {
        let mut s = SignalState { blocked: SigSet::of(SIGUSR1), ..SignalState::default() };
        s.send(user(SIGUSR1), false).unwrap();
        s.set_action(SIGUSR1, Action { disposition: Disposition::Ignore, ..Action::default() }).unwrap();
        assert_eq!(s.pending(), SigSet::EMPTY);
    }

    #[test]
    fn a_full_real_time_queue_refuses_tkill_but_kill_still_makes_the_signal_pending() {
        let mut s = SignalState { blocked: SigSet::of(40), ..SignalState::default() };
        for pid in 0..MAX_QUEUED as u32 {
            s.send(SigInfo { signo: 40, code: SI_TKILL, fields: SigFields::Sender { pid } }, false).unwrap();
        }
        let tkill = SigInfo { signo: 41, code: SI_TKILL, fields: SigFields::Sender { pid: 1 } };
        assert_eq!(s.send(tkill, false), Err(QueueFull));
        assert!(!s.pending.set.contains(41), "a refused signal is not pending");
        assert_eq!(s.send(user(41), false), Ok(()), "kill(): pending, its information lost");
        assert!(s.pending.set.contains(41));
        assert_eq!(s.pending.queued.len(), MAX_QUEUED);
    }
    #[test]
    fn the_real_time_limit_is_for_all_queues_of_a_program_together() {
        // Per queue, a few hundred threads each filling their own queue
        // exhausted the kernel heap (a panic from EL0).
        let queue = |s: &mut SignalState, n: u32, code: i32| {
            (0..n)
                .filter(|&pid| s.send(SigInfo { signo: 40, code, fields: SigFields::Sender { pid } }, false).is_ok())
                .count()
        };
        let mut leader = SignalState { blocked: SigSet::of(40), ..SignalState::default() };
        let mut thread = leader.for_thread();
        let mut child = leader.for_fork();
        assert_eq!(queue(&mut leader, 1000, SI_TKILL), 1000);
        assert_eq!(queue(&mut thread, 3000, SI_TKILL), 3000);
        assert_eq!(queue(&mut child, 1000, SI_TKILL), 96, "the limit is shared with the forked child");
        assert_eq!(leader.group.with_shared(|p| p.add(user(40))), Ok(()), "kill(): pending without its info");
        assert_eq!(leader.group.with_shared(|p| p.queued.len()), 0);
        // Taking one, or a task going away, makes room again.
        assert!(thread.dequeue(SigSet::of(40)).is_some());
        assert_eq!(queue(&mut child, 10, SI_TKILL), 1);
        drop(thread);
        assert_eq!(queue(&mut child, 5000, SI_TKILL), 2999);
        // A queue drained gives its heap back.
        while child.dequeue(SigSet::of(40)).is_some() {}
        assert_eq!(child.pending.queued.capacity(), 0);
    }

    #[test]
    fn a_fault_signal_goes_first_and_alone_carries_the_fault_details() {
        let mut s = SignalState::default();
        s.set_action(SIGINT, handler(0x1000)).unwrap();
        s.set_action(SIGSEGV, handler(0x2000)).unwrap();
        s.blocked = SigSet::of(SIGINT);
        s.send(user(SIGINT), false).unwrap();
        let fault = SigInfo { signo: SIGSEGV, code: 1, fields: SigFields::Fault { addr: 0x10 } };
        s.force(fault);
        s.attach_fault(FaultDetails { esr: 0x9200_0047, address: 0x10 });
        s.blocked = SigSet::EMPTY;
        let details = Some(FaultDetails { esr: 0x9200_0047, address: 0x10 });
        assert_eq!(s.next(), Next::Handle(fault, s.action(SIGSEGV), details), "SIGSEGV before the lower SIGINT");
        assert!(matches!(s.next(), Next::Handle(SigInfo { signo: SIGINT, .. }, _, None)), "SIGINT has no esr");
    }

    #[test]
    fn a_process_signal_waits_for_a_thread_that_does_not_block_it() {
        let mut leader = SignalState { blocked: SigSet::of(SIGUSR1), ..SignalState::default() };
        leader.set_action(SIGUSR1, handler(0x1000)).unwrap();
        let mut thread = leader.for_thread();
        thread.blocked = SigSet::EMPTY;
        leader.send_to_group(user(SIGUSR1), false).unwrap();
        assert!(!leader.wants(SIGUSR1) && thread.wants(SIGUSR1));
        assert_eq!(leader.next(), Next::Nothing, "blocked by the leader");
        assert!(thread.any_deliverable());
        assert!(matches!(thread.next(), Next::Handle(SigInfo { signo: SIGUSR1, .. }, _, _)));
        assert_eq!(leader.pending(), SigSet::EMPTY, "taken once, by one thread");
        let fork = leader.for_fork();
        leader.send_to_group(user(SIGUSR1), false).unwrap();
        assert_eq!(fork.pending(), SigSet::EMPTY, "a child has its own process-wide queue");
    }

    #[test]
    fn ignored_signals_are_dropped_unless_blocked() {
        let mut s = SignalState::default();
        s.send(user(SIGCHLD), false).unwrap();
        assert_eq!(s.pending(), SigSet::EMPTY, "SIGCHLD's default is to ignore");
        s.blocked = SigSet::of(SIGCHLD);
        s.send_to_group(user(SIGCHLD), false).unwrap();
        assert_eq!(s.pending(), SigSet::of(SIGCHLD), "a blocked signal waits: its handler may change");
        let mut t = SignalState { blocked: SigSet::of(SIGUSR2), ..SignalState::default() };
        t.send(user(SIGUSR2), false).unwrap();
        assert_eq!(t.dequeue(SigSet::of(SIGUSR2)).map(|(i, _)| i.signo), Some(SIGUSR2), "sigtimedwait takes it");
    }

    #[test]
    fn an_autodisarm_stack_is_never_the_one_in_use() {
        let armed = AltStack { sp: 0x1000, size: 0x1000, flags: 0 };
        assert_eq!(armed.state(0x1800), SS_ONSTACK);
        assert_eq!(armed.state(0x1000), 0, "sp == base is below it");
        assert_eq!(armed.state(0x2000), SS_ONSTACK, "sp == top is on it");
        let auto = AltStack { flags: SS_AUTODISARM, ..armed };
        assert_eq!(auto.state(0x1800), 0);
        assert_eq!(AltStack::DISABLED.state(0), SS_DISABLE);
    }
}
