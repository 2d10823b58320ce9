//! Signal system calls: rt_sigaction, rt_sigprocmask, rt_sigpending,
//! sigaltstack, kill, tkill, tgkill (rt_sigreturn is in signal/deliver.rs).

use linux_raw_sys::general::{
    sigaltstack, MINSIGSTKSZ, SA_EXPOSE_TAGBITS, SA_NOCLDSTOP, SA_NOCLDWAIT, SA_NODEFER, SA_ONSTACK, SA_RESETHAND,
    SA_RESTART, SA_RESTORER, SA_SIGINFO, SIG_BLOCK, SIG_SETMASK, SIG_UNBLOCK, SI_TKILL, SI_USER, SS_AUTODISARM,
    SS_DISABLE, SS_ONSTACK,
};

use super::errno::{Errno, SysResult};
use crate::mm::uaccess::{read_user, write_user, Pod, UserAddr};
use crate::process;
use crate::signal::deliver::altstack_view;
use crate::signal::{Action, Disposition, SigFields, SigInfo, SigSet, NSIG};

/// struct kernel_sigaction on arm64: handler, flags, restorer, mask.
#[repr(C)]
#[derive(Clone, Copy)]
struct KernelSigaction {
    handler: u64,
    flags: u64,
    restorer: u64,
    mask: u64,
}
const _: () = assert!(
    core::mem::size_of::<KernelSigaction>() == core::mem::size_of::<linux_raw_sys::general::kernel_sigaction>()
);
// SAFETY: four u64, no padding.
unsafe impl Pod for KernelSigaction {}

/// stack_t on arm64 (linux-raw-sys's sigaltstack, with its padding named
/// so nothing uninitialised is copied out).
#[repr(C)]
#[derive(Clone, Copy)]
struct StackT {
    sp: u64,
    flags: i32,
    _pad: u32,
    size: u64,
}
const _: () = assert!(core::mem::size_of::<StackT>() == core::mem::size_of::<sigaltstack>());
// SAFETY: integers only, padding named and zeroed.
unsafe impl Pod for StackT {}

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
        let old = p.signals.action(sig);
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
        p.signals.set_action(sig, action).map_err(|_| Errno::EINVAL)?;
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
        write_user(oset, &p.signals.blocked.0)?;
    }
    if let Some(s) = new {
        let b = p.signals.blocked.0;
        p.signals.blocked = SigSet(match how {
            SIG_BLOCK => b | s.0,
            SIG_UNBLOCK => b & !s.0,
            _ => s.0,
        })
        .blockable();
    }
    Ok(0)
}

pub fn rt_sigpending(set: UserAddr, sigsetsize: u64) -> SysResult {
    check_sigset_size(sigsetsize)?;
    let p = process::current();
    write_user(set, &(p.signals.pending().0 & p.signals.blocked.0))?;
    Ok(0)
}

pub fn sigaltstack(ss: UserAddr, old: UserAddr, sp: u64) -> SysResult {
    let p = process::current();
    let (base, flags, size) = altstack_view(p, sp);
    let new = if ss.is_null() { None } else { Some(read_user::<StackT>(ss)?) };
    if !old.is_null() {
        write_user(old, &StackT { sp: base, flags, _pad: 0, size })?;
    }
    if let Some(n) = new {
        if flags == SS_ONSTACK as i32 {
            return Err(Errno::EPERM);
        }
        let mode = n.flags as u32 & !SS_AUTODISARM;
        match mode {
            SS_DISABLE => p.signals.altstack = None,
            0 | SS_ONSTACK => {
                if n.size < MINSIGSTKSZ as u64 {
                    return Err(Errno::ENOMEM);
                }
                p.signals.altstack = Some((n.sp, n.size));
            }
            _ => return Err(Errno::EINVAL),
        }
    }
    Ok(0)
}

fn info(sig: u32, code: i32) -> SigInfo {
    SigInfo { signo: sig, code, fields: SigFields::Sender { pid: process::current().tgid } }
}

/// kill(pid, sig): pid > 0 is that process; 0 and < -1 (process groups,
/// which this kernel does not have) the caller's; -1 every process.
/// Signal 0 only checks that the target exists.
pub fn kill(pid: i32, sig: i32) -> SysResult {
    let sig = if sig == 0 { 0 } else { valid(sig)? };
    let me = process::current().tgid;
    let targets = match pid {
        // Every process but the caller (Linux's kill_something_info).
        -1 => process::live_processes().into_iter().filter(|&t| t != me).collect(),
        p if p > 0 => alloc::vec![p as u32],
        _ => alloc::vec![me],
    };
    let mut found = false;
    for t in targets {
        found |= if sig == 0 {
            process::live_processes().contains(&t)
        } else {
            process::signal_process(t, info(sig, SI_USER as i32))
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
