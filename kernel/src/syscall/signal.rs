//! Signal system calls: rt_sigaction, rt_sigprocmask, rt_sigpending,
//! sigaltstack, kill, tkill, tgkill, rt_sigqueueinfo, rt_tgsigqueueinfo,
//! rt_sigsuspend, rt_sigtimedwait, restart_syscall (rt_sigreturn is in
//! signal/deliver.rs).

use linux_raw_sys::general::{
    sigaltstack, SA_EXPOSE_TAGBITS, SA_NOCLDSTOP, SA_NOCLDWAIT, SA_NODEFER, SA_ONSTACK, SA_RESETHAND, SA_RESTART,
    SA_RESTORER, SA_SIGINFO, SIG_BLOCK, SIG_SETMASK, SIG_UNBLOCK, SI_TKILL, SI_USER,
};

use super::errno::{Errno, SysResult};
use crate::arch::aarch64::signal_frame;
use crate::arch::aarch64::timer;
use crate::mm::uaccess::{copy_from_user, copy_to_user, read_user, write_user, UserAddr};
use crate::process;
use crate::signal::deliver::{altstack_view, set_altstack, user_info, AltStackError};
use crate::signal::{Action, AltStack, Disposition, RestartBlock, SigFields, SigInfo, SigSet, NSIG};

/// struct kernel_sigaction on arm64: handler, flags, restorer, mask.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct KernelSigaction {
    pub(crate) handler: u64,
    pub(crate) flags: u64,
    pub(crate) restorer: u64,
    pub(crate) mask: u64,
}
const _: () = assert!(
    core::mem::size_of::<KernelSigaction>() == core::mem::size_of::<linux_raw_sys::general::kernel_sigaction>()
);

/// stack_t on arm64 (linux-raw-sys's sigaltstack, with its padding named
/// so nothing uninitialised is copied out).
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct StackT {
    pub(crate) sp: u64,
    pub(crate) flags: i32,
    pub(crate) _pad: u32,
    pub(crate) size: u64,
}
const _: () = assert!(core::mem::size_of::<StackT>() == core::mem::size_of::<sigaltstack>());

const SIG_DFL: u64 = 0;
const SIG_IGN: u64 = 1;

fn valid(sig: i32) -> Result<u32, Errno> {
    match u32::try_from(sig) {
        Ok(s) if (1..=NSIG).contains(&s) => Ok(s),
        _ => Err(Errno::EINVAL),
    }
}

fn check_sigset_size(size: u64) -> Result<(), Errno> {
    if size == 8 {
        Ok(())
    } else {
        Err(Errno::EINVAL)
    }
}

pub fn rt_sigaction(sig: i32, act: UserAddr, oact: UserAddr, sigsetsize: u64) -> SysResult {
    check_sigset_size(sigsetsize)?;
    let sig = valid(sig)?;
    let p = process::current();
    let new = if act.is_null() { None } else { Some(read_user::<KernelSigaction>(act)?) };
    if !oact.is_null() {
        let old = p.signals.borrow().action(sig);
        let handler = match old.disposition {
            Disposition::Default => SIG_DFL,
            Disposition::Ignore => SIG_IGN,
            Disposition::Handler(h) => h,
        };
        write_user(oact, &KernelSigaction { handler, flags: old.flags, restorer: old.restorer, mask: old.mask.0 })?;
    }
    if let Some(k) = new {
        let disposition = match k.handler {
            SIG_DFL => Disposition::Default,
            SIG_IGN => Disposition::Ignore,
            h => Disposition::Handler(h),
        };
        // Unknown flag bits are cleared, so a program can tell what this
        // kernel supports by reading them back (Linux's UAPI_SA_FLAGS).
        let known = SA_NOCLDSTOP
            | SA_NOCLDWAIT
            | SA_SIGINFO
            | SA_ONSTACK
            | SA_RESTART
            | SA_NODEFER
            | SA_RESETHAND
            | SA_EXPOSE_TAGBITS
            | SA_RESTORER;
        let action = Action { disposition, flags: k.flags & known as u64, restorer: k.restorer, mask: SigSet(k.mask) };
        p.signals.borrow_mut().set_action(sig, action).map_err(|_| Errno::EINVAL)?;
        if p.signals.borrow().ignores(sig) {
            // Linux's do_sigaction: flushed from every thread's queue.
            process::threads_of(p.tgid).for_each(|t| t.signals.borrow_mut().discard_pending(sig));
        }
    }
    Ok(0)
}

pub fn rt_sigprocmask(how: u32, set: UserAddr, oset: UserAddr, sigsetsize: u64) -> SysResult {
    check_sigset_size(sigsetsize)?;
    let p = process::current();
    let new = if set.is_null() { None } else { Some(SigSet(read_user::<u64>(set)?)) };
    if new.is_some() && !matches!(how, SIG_BLOCK | SIG_UNBLOCK | SIG_SETMASK) {
        return Err(Errno::EINVAL);
    }
    if !oset.is_null() {
        write_user(oset, &p.signals.borrow().blocked.0)?;
    }
    if let Some(s) = new {
        let b = p.signals.borrow().blocked.0;
        p.signals.borrow_mut().blocked = SigSet(match how {
            SIG_BLOCK => b | s.0,
            SIG_UNBLOCK => b & !s.0,
            _ => s.0,
        })
        .blockable();
    }
    Ok(0)
}

pub fn rt_sigpending(set: UserAddr, sigsetsize: u64) -> SysResult {
    // Linux's do_sigpending accepts any size up to sizeof(sigset_t).
    if sigsetsize > 8 {
        return Err(Errno::EINVAL);
    }
    let p = process::current();
    let pending = (p.signals.borrow().pending().0 & p.signals.borrow().blocked.0).to_le_bytes();
    copy_to_user(set, &pending[..sigsetsize as usize])?;
    Ok(0)
}

pub fn sigaltstack(ss: UserAddr, old: UserAddr, sp: u64) -> SysResult {
    let p = process::current();
    let new = if ss.is_null() { None } else { Some(read_user::<StackT>(ss)?) };
    let (base, flags, size) = altstack_view(p, sp);
    if let Some(n) = new {
        set_altstack(p, AltStack { sp: n.sp, size: n.size, flags: n.flags as u32 }, sp).map_err(|e| match e {
            AltStackError::InUse => Errno::EPERM,
            AltStackError::BadMode => Errno::EINVAL,
            AltStackError::TooSmall => Errno::ENOMEM,
        })?;
    }
    if !old.is_null() {
        write_user(old, &StackT { sp: base, flags: flags as i32, _pad: 0, size })?;
    }
    Ok(0)
}

fn info(sig: u32, code: i32) -> SigInfo {
    SigInfo { signo: sig, code, fields: SigFields::Sender { pid: process::current().tgid } }
}

/// kill(pid, sig): pid > 0 is the process of task `pid` (`process_of`);
/// 0 and < -1 (process groups, which this kernel does not have) the
/// caller's; -1 every process. Signal 0 only checks that the target exists.
pub fn kill(pid: i32, sig: i32) -> SysResult {
    let sig = if sig == 0 { 0 } else { valid(sig)? };
    let me = process::current().tgid;
    let targets = match pid {
        // Every process but the caller (Linux's kill_something_info).
        -1 => process::live_processes().into_iter().filter(|&t| t != me).collect(),
        p if p > 0 => alloc::vec![process::process_of(p as u32).ok_or(Errno::ESRCH)?],
        _ => alloc::vec![me],
    };
    let mut found = false;
    for t in targets {
        found |= if sig == 0 {
            // The target was found above, or is a live process (-1) or
            // the caller.
            true
        } else {
            // kill() is never refused for a full queue (SignalState::send).
            process::signal_process(t, info(sig, SI_USER as i32)).unwrap_or(true)
        };
    }
    if found {
        Ok(0)
    } else {
        Err(Errno::ESRCH)
    }
}

pub fn tkill(tid: i32, sig: i32) -> SysResult {
    if tid <= 0 {
        return Err(Errno::EINVAL);
    }
    let sig = if sig == 0 { 0 } else { valid(sig)? };
    let tgid = process::get(tid as u32).map(|t| t.tgid).ok_or(Errno::ESRCH)?;
    tgkill(tgid as i32, tid, sig as i32)
}

pub fn tgkill(tgid: i32, tid: i32, sig: i32) -> SysResult {
    if tgid <= 0 || tid <= 0 {
        return Err(Errno::EINVAL);
    }
    let sig = if sig == 0 { 0 } else { valid(sig)? };
    if !process::task_in(tgid as u32, tid as u32) {
        return Err(Errno::ESRCH);
    }
    if sig != 0 {
        process::signal_task(tid as u32, info(sig, SI_TKILL)).map_err(|_| Errno::EAGAIN)?;
    }
    Ok(0)
}

/// Linux's __copy_siginfo_from_user: the siginfo the caller gives, its
/// si_signo replaced by `sig`.
fn read_queued_info(sig: i32, uinfo: UserAddr) -> Result<SigInfo, Errno> {
    let mut bytes = [0u8; 128];
    copy_from_user(&mut bytes, uinfo)?;
    let code = i32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
    Ok(SigInfo { signo: sig as u32, code, fields: SigFields::Queued { words: [word(16), word(24)] } })
}

/// do_rt_sigqueueinfo's rule: only the caller may send itself a signal
/// that claims to come from the kernel or from kill/tkill (si_code >= 0 or
/// SI_TKILL): EPERM otherwise.
fn may_queue(info: &SigInfo, to_self: bool) -> Result<(), Errno> {
    if (info.code >= 0 || info.code == SI_TKILL) && !to_self {
        return Err(Errno::EPERM);
    }
    Ok(())
}

/// rt_sigqueueinfo(pid, sig, info): `info` to the process of task `pid`
/// (sigqueue(3)). EFAULT, EPERM, then ESRCH for no such task (pid <= 0
/// included), EINVAL for a bad signal, EAGAIN with the real-time queue full.
pub fn rt_sigqueueinfo(pid: i32, sig: i32, uinfo: UserAddr) -> SysResult {
    let info = read_queued_info(sig, uinfo)?;
    may_queue(&info, pid as u32 == process::current().pid.0)?;
    let tgid = u32::try_from(pid).ok().and_then(process::process_of).ok_or(Errno::ESRCH)?;
    if sig == 0 {
        return Ok(0);
    }
    valid(sig)?;
    match process::signal_process(tgid, info) {
        Ok(true) => Ok(0),
        Ok(false) => Err(Errno::ESRCH),
        Err(_) => Err(Errno::EAGAIN),
    }
}

/// rt_tgsigqueueinfo(tgid, tid, sig, info): `info` to thread `tid` of
/// `tgid` (Linux's do_rt_tgsigqueueinfo: EFAULT, EINVAL for ids <= 0,
/// EPERM, ESRCH, EINVAL for a bad signal, EAGAIN).
pub fn rt_tgsigqueueinfo(tgid: i32, tid: i32, sig: i32, uinfo: UserAddr) -> SysResult {
    let info = read_queued_info(sig, uinfo)?;
    if tgid <= 0 || tid <= 0 {
        return Err(Errno::EINVAL);
    }
    may_queue(&info, tid as u32 == process::current().pid.0)?;
    if !process::task_in(tgid as u32, tid as u32) {
        return Err(Errno::ESRCH);
    }
    if sig != 0 {
        valid(sig)?;
        process::signal_task(tid as u32, info).map_err(|_| Errno::EAGAIN)?;
    }
    Ok(0)
}

/// rt_sigsuspend(mask, size): waits with `mask` as the blocked set until a
/// signal is delivered; the handler's frame restores the old mask (Linux's
/// sigsuspend, ERESTARTNOHAND: EINTR after a handler, restarted if the
/// signal ended up handled by no one).
pub fn rt_sigsuspend(mask: UserAddr, sigsetsize: u64) -> SysResult {
    check_sigset_size(sigsetsize)?;
    let mask = SigSet(read_user::<u64>(mask)?).blockable();
    let p = process::current();
    let mut signals = p.signals.borrow_mut();
    signals.saved_mask = Some(signals.blocked);
    drop(signals);
    p.signals.borrow_mut().blocked = mask;
    while !process::current().signals.borrow().any_deliverable() {
        let p = process::current();
        p.wake_at.set(None);
        process::block(process::State::Sleeping);
        process::current().interrupted.set(false);
    }
    Err(Errno::ERESTARTNOHAND)
}

/// rt_sigtimedwait(set, info, timeout, size): takes a pending signal of
/// `set` without running its handler, waiting for one up to `timeout`
/// (forever if null); the signal number, or EAGAIN when the time is up,
/// EINTR when another signal's handler is to run (Linux's
/// do_sigtimedwait). SIGKILL and SIGSTOP cannot be waited for.
pub fn rt_sigtimedwait(set: UserAddr, uinfo: UserAddr, timeout: UserAddr, sigsetsize: u64) -> SysResult {
    check_sigset_size(sigsetsize)?;
    let wanted = SigSet(read_user::<u64>(set)?).blockable();
    let until = if timeout.is_null() {
        None
    } else {
        let ns = super::time::read_duration(timeout)?;
        Some((ns, timer::ticks().saturating_add(timer::ns_to_ticks(ns))))
    };
    let p = process::current();
    let mut taken = p.signals.borrow_mut().dequeue(wanted);
    if taken.is_none() && until.is_none_or(|(ns, _)| ns > 0) {
        // Waiting, the signals waited for are unblocked, so they wake it.
        let real_blocked = p.signals.borrow().blocked;
        p.signals.borrow_mut().blocked = SigSet(real_blocked.0 & !wanted.0);
        if !p.signals.borrow().any_deliverable() {
            p.wake_at.set(until.map(|(_, at)| at));
            process::block(process::State::Sleeping);
        }
        let p = process::current();
        p.interrupted.set(false);
        p.wake_at.set(None);
        p.signals.borrow_mut().blocked = real_blocked;
        taken = p.signals.borrow_mut().dequeue(wanted);
        if taken.is_none() && until.is_none_or(|(_, at)| timer::ticks() < at) {
            return Err(Errno::EINTR);
        }
    }
    let Some((info, _)) = taken else { return Err(Errno::EAGAIN) };
    if !uinfo.is_null() {
        copy_to_user(uinfo, &signal_frame::siginfo_bytes(&user_info(&info, false)))?;
    }
    Ok(info.signo as u64)
}

/// restart_syscall(): continues what a signal interrupted and no handler
/// saw (Linux's current->restart_block.fn); EINTR if there is nothing.
pub fn restart_syscall() -> SysResult {
    let block = process::current().signals.borrow().restart_block;
    match block {
        Some(RestartBlock::Nanosleep { until_ns, rmtp }) => {
            super::time::nanosleep_restart(until_ns, UserAddr::new(rmtp))
        }
        Some(RestartBlock::Futex { uaddr, op, val, deadline }) => super::futex::wait_restart(uaddr, op, val, deadline),
        None => Err(Errno::EINTR),
    }
}
