//! Signals: per-process dispositions, the blocked mask, pending signals, and
//! choosing what to deliver. Linux's rules (kernel/signal.c): signals are
//! numbered 1..=64; SIGKILL and SIGSTOP can be neither caught, blocked nor
//! ignored; a fault's signal is *forced* — if the process blocks or ignores
//! it, the default action (terminate) applies. Pure logic, tested on the
//! host; the arm64 signal frame is in arch/aarch64/signal_frame.rs.

#[cfg(target_os = "none")]
pub mod deliver;

use alloc::collections::VecDeque;
use alloc::sync::Arc;

use linux_raw_sys::general::{
    SA_NODEFER, SA_RESETHAND, SIGCHLD, SIGCONT, SIGKILL, SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU, SIGURG, SIGWINCH, SI_USER,
};
use spin::Mutex;

/// Highest signal number (_NSIG).
pub const NSIG: u32 = 64;

/// Real-time signals a task may have queued: Linux's RLIMIT_SIGPENDING
/// default (max_threads / 2, with this kernel's 8192 processes). Every
/// queued signal is kernel heap, so without a limit a program that blocks
/// one and sends it in a loop would exhaust it.
pub const MAX_QUEUED: usize = 4096;

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
}

/// What should happen next for a process, after looking at its signals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    Nothing,
    /// Run the handler for this signal.
    Handle(SigInfo, Action),
    /// The default action ends the process.
    Terminate(SigInfo),
}

/// Dispositions, shared by the threads of a process (CLONE_SIGHAND).
type Actions = Arc<Mutex<[Action; NSIG as usize]>>;

/// A thread's signal state: the process's dispositions, its own mask and
/// pending set.
#[derive(Debug)]
pub struct SignalState {
    actions: Actions,
    pub blocked: SigSet,
    pending: SigSet,
    /// The siginfo of each pending standard signal (one instance each).
    info: [Option<SigInfo>; NSIG as usize],
    /// Queued instances of real-time signals (SIGRTMIN and up), in order:
    /// unlike standard signals, each one sent is delivered.
    queued: VecDeque<SigInfo>,
    /// sigaltstack: (base, size, enabled).
    pub altstack: Option<(u64, u64)>,
    /// The mask to restore on the way back to EL0 after ppoll/pselect6
    /// replaced it for their wait (Linux's saved_sigmask with
    /// TIF_RESTORE_SIGMASK): a handler's frame saves it instead of the
    /// wait's mask.
    pub saved_mask: Option<SigSet>,
}

impl Default for SignalState {
    fn default() -> Self {
        Self {
            actions: Arc::new(Mutex::new([Action::default(); NSIG as usize])),
            blocked: SigSet::EMPTY,
            pending: SigSet::EMPTY,
            info: [None; NSIG as usize],
            queued: VecDeque::new(),
            altstack: None,
            saved_mask: None,
        }
    }
}

impl SignalState {
    /// The state of a forked child: a copy of the dispositions and mask,
    /// nothing pending.
    pub fn for_fork(&self) -> Self {
        Self {
            actions: Arc::new(Mutex::new(*self.actions.lock())),
            blocked: self.blocked,
            pending: SigSet::EMPTY,
            info: [None; NSIG as usize],
            queued: VecDeque::new(),
            altstack: self.altstack,
            saved_mask: None,
        }
    }

    /// The state of a new thread: the same dispositions, the creator's mask,
    /// nothing pending, no alternate stack.
    pub fn for_thread(&self) -> Self {
        Self {
            actions: self.actions.clone(),
            blocked: self.blocked,
            pending: SigSet::EMPTY,
            info: [None; NSIG as usize],
            queued: VecDeque::new(),
            altstack: None,
            saved_mask: None,
        }
    }

    pub fn action(&self, sig: u32) -> Action {
        self.actions.lock()[(sig - 1) as usize]
    }

    /// Replaces a disposition (rt_sigaction); SIGKILL and SIGSTOP refuse.
    pub fn set_action(&mut self, sig: u32, action: Action) -> Result<(), ()> {
        if sig == SIGKILL || sig == SIGSTOP {
            return Err(());
        }
        self.actions.lock()[(sig - 1) as usize] = Action { mask: action.mask.blockable(), ..action };
        // Setting SIG_IGN discards a pending instance (POSIX).
        if action.disposition == Disposition::Ignore
            || (action.disposition == Disposition::Default && default_action(sig) == DefaultAction::Ignore)
        {
            self.pending.remove(sig);
        }
        Ok(())
    }

    /// Queues `info` (a standard signal is pending at most once; every
    /// real-time signal sent is queued, up to MAX_QUEUED). With the queue
    /// full, Linux's __send_signal_locked: kill() still makes the signal
    /// pending but its information is lost; other senders get
    /// `Err(QueueFull)` (EAGAIN).
    pub fn send(&mut self, info: SigInfo) -> Result<(), QueueFull> {
        let sig = info.signo;
        if self.action(sig).disposition == Disposition::Ignore && sig != SIGKILL {
            return Ok(());
        }
        if sig >= SIGRTMIN {
            if self.queued.len() >= MAX_QUEUED {
                if info.code != SI_USER as i32 {
                    return Err(QueueFull);
                }
            } else {
                self.queued.push_back(info);
            }
            self.pending.insert(sig);
            return Ok(());
        }
        if !self.pending.contains(sig) {
            self.pending.insert(sig);
            self.info[(sig - 1) as usize] = Some(info);
        }
        Ok(())
    }

    /// Queues a signal raised by a fault: it cannot be blocked or ignored
    /// away (Linux's force_sig_info): if it is, the default comes back.
    pub fn force(&mut self, info: SigInfo) {
        let sig = info.signo;
        let action = self.action(sig);
        if self.blocked.contains(sig) || action.disposition == Disposition::Ignore {
            self.blocked.remove(sig);
            self.actions.lock()[(sig - 1) as usize].disposition = Disposition::Default;
        }
        self.pending.insert(sig);
        self.info[(sig - 1) as usize] = Some(info);
    }

    /// Like [`SignalState::force`], with the default action whatever the
    /// disposition (for a signal frame that could not be written).
    pub fn force_default(&mut self, info: SigInfo) {
        self.actions.lock()[(info.signo - 1) as usize].disposition = Disposition::Default;
        self.force(info);
    }

    pub fn pending(&self) -> SigSet {
        self.pending
    }

    /// Whether some pending signal is not blocked: what every return to
    /// EL0 asks first, before anything is dequeued (Linux's
    /// _TIF_SIGPENDING check in exit_to_user_mode).
    #[inline]
    pub fn any_deliverable(&self) -> bool {
        self.deliverable() != SigSet::EMPTY
    }

    /// Whether a pending, unblocked signal would do something (run a
    /// handler or end the process): what ends an interruptible wait. A
    /// signal whose default is to be ignored (SIGCHLD) does not, as Linux
    /// never queues one (sig_ignored).
    pub fn interrupts_wait(&self) -> bool {
        let mut set = self.deliverable();
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

    /// The pending signals that are not blocked.
    fn deliverable(&self) -> SigSet {
        SigSet(self.pending.0 & !self.blocked.0)
    }

    /// Takes the next deliverable signal and says what to do with it. For a
    /// handler, the caller must then apply [`SignalState::handler_entered`].
    pub fn next(&mut self) -> Next {
        loop {
            let Some(sig) = self.deliverable().lowest() else { return Next::Nothing };
            let queued = self.queued.iter().position(|i| i.signo == sig).and_then(|at| self.queued.remove(at));
            if !self.queued.iter().any(|i| i.signo == sig) {
                self.pending.remove(sig);
            }
            let info = queued.or_else(|| self.info[(sig - 1) as usize].take()).unwrap_or(SigInfo {
                signo: sig,
                code: 0,
                fields: SigFields::Sender { pid: 0 },
            });
            let action = self.action(sig);
            match action.disposition {
                Disposition::Handler(_) => return Next::Handle(info, action),
                Disposition::Ignore => continue,
                Disposition::Default => match default_action(sig) {
                    DefaultAction::Ignore => continue,
                    DefaultAction::Terminate => return Next::Terminate(info),
                },
            }
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
            self.actions.lock()[(sig - 1) as usize] = Action::default();
        }
        saved
    }
}

#[cfg(test)]
mod tests {
    use linux_raw_sys::general::{SIGSEGV, SIGUSR1, SIGUSR2, SI_TKILL};

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
        s.send(user(SIGUSR2)).unwrap();
        s.send(user(SIGUSR1)).unwrap();
        assert!(matches!(s.next(), Next::Handle(SigInfo { signo: SIGUSR2, .. }, _)));
        assert_eq!(s.next(), Next::Nothing, "SIGUSR1 is blocked");
        s.blocked = SigSet::EMPTY;
        assert!(matches!(s.next(), Next::Handle(SigInfo { signo: SIGUSR1, .. }, _)));
    }

    #[test]
    fn any_deliverable_is_true_exactly_when_next_has_something_to_dequeue() {
        let mut s = SignalState::default();
        assert!(!s.any_deliverable());
        s.blocked = SigSet::of(SIGUSR1);
        s.send(user(SIGUSR1)).unwrap();
        assert!(!s.any_deliverable(), "pending but blocked");
        s.force(SigInfo { signo: SIGUSR1, code: 1, fields: SigFields::Fault { addr: 0 } });
        assert!(s.any_deliverable(), "forcing unblocks");
        assert!(matches!(s.next(), Next::Terminate(_)));
        assert!(!s.any_deliverable());
    }

    #[test]
    fn default_actions_terminate_or_ignore() {
        let mut s = SignalState::default();
        s.send(user(SIGCHLD)).unwrap();
        assert_eq!(s.next(), Next::Nothing, "SIGCHLD's default is to ignore");
        s.send(user(SIGUSR1)).unwrap();
        assert_eq!(s.next(), Next::Terminate(user(SIGUSR1)));
    }

    #[test]
    fn sigkill_and_sigstop_cannot_be_caught_or_blocked() {
        let mut s = SignalState::default();
        assert!(s.set_action(SIGKILL, handler(0x1000)).is_err());
        s.blocked = SigSet(u64::MAX).blockable();
        s.send(user(SIGKILL)).unwrap();
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
        s.send(SigInfo { signo: 40, code: -1, fields: SigFields::Sender { pid: 1 } }).unwrap();
        s.send(SigInfo { signo: 40, code: -2, fields: SigFields::Sender { pid: 1 } }).unwrap();
        assert!(matches!(s.next(), Next::Handle(SigInfo { code: -1, .. }, _)));
        assert!(matches!(s.next(), Next::Handle(SigInfo { code: -2, .. }, _)));
        assert_eq!(s.next(), Next::Nothing);
    }

    #[test]
    fn ignoring_discards_what_is_pending() {
        let mut s = SignalState { blocked: SigSet::of(SIGUSR1), ..SignalState::default() };
        s.send(user(SIGUSR1)).unwrap();
        s.set_action(SIGUSR1, Action { disposition: Disposition::Ignore, ..Action::default() }).unwrap();
        assert_eq!(s.pending(), SigSet::EMPTY);
    }

    #[test]
    fn a_full_real_time_queue_refuses_tkill_but_kill_still_makes_the_signal_pending() {
        let mut s = SignalState { blocked: SigSet::of(40), ..SignalState::default() };
        for pid in 0..MAX_QUEUED as u32 {
            s.send(SigInfo { signo: 40, code: SI_TKILL, fields: SigFields::Sender { pid } }).unwrap();
        }
        let tkill = SigInfo { signo: 41, code: SI_TKILL, fields: SigFields::Sender { pid: 1 } };
        assert_eq!(s.send(tkill), Err(QueueFull));
        assert!(!s.pending.contains(41), "a refused signal is not pending");
        assert_eq!(s.send(user(41)), Ok(()), "kill(): pending, its information lost");
        assert!(s.pending.contains(41));
        assert_eq!(s.queued.len(), MAX_QUEUED);
    }
}
