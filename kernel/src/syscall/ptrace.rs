//! ptrace(2) (Linux's kernel/ptrace.c sys_ptrace and ptrace_request, and
//! arm64's arch_ptrace): the requests a debugger and Linux's arm64 selftests
//! use. The tracer/tracee relation and the stops are process/ptrace.rs.
//!
//! Order of checks, as Linux: TRACEME first; then the target must exist
//! (ESRCH); ATTACH and SEIZE go their own way; every other request needs a
//! tracee of the calling thread in a ptrace-stop (ESRCH; KILL needs only a
//! tracee); an unknown request is EIO.

use linux_raw_sys::general::{iovec, SIGKILL, SI_USER};
use linux_raw_sys::ptrace::{
    PTRACE_ATTACH, PTRACE_CONT, PTRACE_DETACH, PTRACE_GETEVENTMSG, PTRACE_GETREGSET, PTRACE_GETSIGINFO,
    PTRACE_GETSIGMASK, PTRACE_KILL, PTRACE_PEEKDATA, PTRACE_PEEKMTETAGS, PTRACE_PEEKTEXT, PTRACE_POKEDATA,
    PTRACE_POKEMTETAGS, PTRACE_POKETEXT, PTRACE_SEIZE, PTRACE_SETOPTIONS, PTRACE_SETREGSET, PTRACE_SETSIGINFO,
    PTRACE_SETSIGMASK, PTRACE_SINGLESTEP, PTRACE_TRACEME,
};

use super::errno::{Errno, SysResult};
use super::regset::{self, Regset, View};
use crate::arch::aarch64::mte;
use crate::exec::elf::USER_END;
use crate::mm::remote::{self, TagAccessError};
use crate::mm::tagged_addr::TagRule;
use crate::mm::uaccess::{copy_from_user, copy_to_user, read_user, write_user, UserAddr};
use crate::process::ptrace::{self as tracing, AttachError, OPTIONS_MASK};
use crate::process::{self, Process};
use crate::signal::{SigFields, SigInfo, NSIG};

/// Bytes of a siginfo_t.
const SIGINFO_SIZE: usize = 128;
/// Tags moved through the kernel at a time (one page's worth).
const TAG_CHUNK: usize = 256;

impl From<AttachError> for Errno {
    fn from(e: AttachError) -> Self {
        match e {
            AttachError::NoTask => Errno::ESRCH,
            AttachError::NotPermitted => Errno::EPERM,
        }
    }
}

/// ptrace(request, pid, addr, data).
pub fn ptrace(request: u64, pid: i32, addr: u64, data: u64) -> SysResult {
    // A request wider than 32 bits is no request: it meets the same checks
    // as an unknown one (ESRCH for a missing pid, then EIO).
    let request = u32::try_from(request).unwrap_or(u32::MAX);
    if request == PTRACE_TRACEME {
        tracing::trace_me()?;
        return Ok(0);
    }
    let tid = u32::try_from(pid).ok().filter(|&t| t > 0).ok_or(Errno::ESRCH)?;
    if process::get(tid).is_none() {
        return Err(Errno::ESRCH);
    }
    if request == PTRACE_ATTACH || request == PTRACE_SEIZE {
        let seize = request == PTRACE_SEIZE;
        // Linux's ptrace_attach: SEIZE takes no address and known options.
        if seize && (addr != 0 || data & !(OPTIONS_MASK as u64) != 0) {
            return Err(Errno::EIO);
        }
        tracing::attach(tid, seize, if seize { data as u32 } else { 0 })?;
        return Ok(0);
    }
    let t = tracing::tracee(tid, request == PTRACE_KILL).ok_or(Errno::ESRCH)?;
    match request {
        PTRACE_PEEKTEXT | PTRACE_PEEKDATA => {
            let mut word = [0u8; 8];
            if remote::read(&t.mm, addr, &mut word) != word.len() {
                return Err(Errno::EIO);
            }
            write_user(UserAddr::new(data), &u64::from_le_bytes(word))?;
            Ok(0)
        }
        PTRACE_POKETEXT | PTRACE_POKEDATA => {
            let word = data.to_le_bytes();
            if remote::write(&t.mm, addr, &word) != word.len() {
                return Err(Errno::EIO);
            }
            Ok(0)
        }
        PTRACE_CONT | PTRACE_SINGLESTEP => {
            tracing::resume(t, signal_number(data)?, request == PTRACE_SINGLESTEP);
            Ok(0)
        }
        PTRACE_DETACH => {
            tracing::detach(t, signal_number(data)?);
            Ok(0)
        }
        PTRACE_KILL => {
            let info = SigInfo { signo: SIGKILL, code: SI_USER as i32, fields: SigFields::Sender { pid: 0 } };
            let _ = process::signal_task(tid, info);
            Ok(0)
        }
        PTRACE_SETOPTIONS => {
            if data & !(OPTIONS_MASK as u64) != 0 {
                return Err(Errno::EINVAL);
            }
            t.ptrace.borrow_mut().options = data as u32;
            Ok(0)
        }
        // The message of an event stop (exec: the tid before it), else 0.
        PTRACE_GETEVENTMSG => {
            let message = t.ptrace.borrow().stop.as_ref().map_or(0, |s| s.message);
            write_user(UserAddr::new(data), &message).map(|_| 0)
        }
        PTRACE_GETSIGINFO => get_siginfo(t, UserAddr::new(data)),
        PTRACE_SETSIGINFO => set_siginfo(t, UserAddr::new(data)),
        // The blocked mask, a kernel sigset_t of 8 bytes (`addr` its size).
        PTRACE_GETSIGMASK => {
            if addr != 8 {
                return Err(Errno::EINVAL);
            }
            write_user(UserAddr::new(data), &t.signals.borrow().blocked.0).map(|_| 0)
        }
        PTRACE_SETSIGMASK => {
            if addr != 8 {
                return Err(Errno::EINVAL);
            }
            let mask: u64 = read_user(UserAddr::new(data))?;
            t.signals.borrow_mut().blocked = crate::signal::SigSet(mask).blockable();
            Ok(0)
        }
        PTRACE_GETREGSET | PTRACE_SETREGSET => {
            regset_request(t, request == PTRACE_SETREGSET, addr, UserAddr::new(data))
        }
        PTRACE_PEEKMTETAGS | PTRACE_POKEMTETAGS => {
            mte_tags(t, request == PTRACE_POKEMTETAGS, addr, UserAddr::new(data))
        }
        // PEEKUSR / POKEUSR (arm64 has no user area), GETREGS (not on
        // arm64), SYSCALL, INTERRUPT, LISTEN, PEEKSIGINFO and anything
        // unknown.
        _ => Err(Errno::EIO),
    }
}

/// CONT / SINGLESTEP / DETACH's signal: 0 to 64 (Linux's valid_signal).
fn signal_number(data: u64) -> Result<u32, Errno> {
    if data > NSIG as u64 {
        return Err(Errno::EIO);
    }
    Ok(data as u32)
}

/// The stop of `t` (a tracee found by `tracing::tracee` without
/// `any_state` is always in one).
fn stop_of(t: &Process) -> Result<crate::sync::kernel_locked::LockedMut<'_, tracing::Tracing>, Errno> {
    let tracing = t.ptrace.borrow_mut();
    if tracing.stop.is_none() {
        return Err(Errno::ESRCH);
    }
    Ok(tracing)
}

/// PTRACE_GETSIGINFO: the siginfo of the signal `t` stopped with.
fn get_siginfo(t: &Process, out: UserAddr) -> SysResult {
    let info = stop_of(t)?.stop.as_ref().expect("checked by stop_of").info;
    let mut bytes = [0u8; SIGINFO_SIZE];
    bytes[0..4].copy_from_slice(&(info.signo as i32).to_le_bytes());
    bytes[8..12].copy_from_slice(&info.code.to_le_bytes());
    // The union as a handler would get it, but with si_addr's tag bits:
    // Linux's get_signal hides them only after ptrace_signal.
    let words = crate::signal::deliver::user_info(&info, true).words;
    bytes[16..24].copy_from_slice(&words[0].to_le_bytes());
    bytes[24..32].copy_from_slice(&words[1].to_le_bytes());
    copy_to_user(out, &bytes)?;
    Ok(0)
}

/// PTRACE_SETSIGINFO: replaces the siginfo delivered if the tracer lets the
/// signal through (E2BIG for one with an unknown layout and bytes past the
/// 48 Linux keeps). Its union is read by the signal's kind: an address for
/// a fault (positive si_code of SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP),
/// pid and status for SIGCHLD, the first 16 bytes as given otherwise.
fn set_siginfo(t: &Process, from: UserAddr) -> SysResult {
    let mut bytes = [0u8; SIGINFO_SIZE];
    copy_from_user(&mut bytes, from)?;
    let int = |at: usize| i32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
    let (signo, code) = (int(0) as u32, int(8));
    // Linux's post_copy_siginfo_from_user: past the 48 bytes the kernel
    // keeps, a siginfo whose layout it does not know must be all zero.
    if !known_siginfo_layout(signo, code) && bytes[KERNEL_SIGINFO_SIZE..].iter().any(|&b| b != 0) {
        return Err(Errno::E2BIG);
    }
    use linux_raw_sys::general::{SIGBUS, SIGCHLD, SIGFPE, SIGILL, SIGSEGV, SIGTRAP};
    let fields = match signo {
        SIGSEGV | SIGBUS | SIGILL | SIGFPE | SIGTRAP if code > 0 => {
            SigFields::Fault { addr: u64::from_le_bytes(bytes[16..24].try_into().expect("8 bytes")) }
        }
        SIGCHLD => SigFields::Child { pid: int(16) as u32, status: int(24) },
        // Anything else keeps its union's first 16 bytes as given (si_pid,
        // si_uid, si_value).
        _ => SigFields::Queued {
            words: [
                u64::from_le_bytes(bytes[16..24].try_into().expect("8 bytes")),
                u64::from_le_bytes(bytes[24..32].try_into().expect("8 bytes")),
            ],
        },
    };
    // Linux's ptrace_setsiginfo copies it all: if CONT's data is this
    // si_signo, this is what is delivered.
    stop_of(t)?.stop.as_mut().expect("checked by stop_of").info = SigInfo { signo, code, fields };
    Ok(0)
}

/// Bytes of Linux's struct kernel_siginfo (what it keeps of a siginfo_t).
const KERNEL_SIGINFO_SIZE: usize = 48;

/// Linux's known_siginfo_layout: whether `code` is one Linux defines for
/// `signo` (sig_sicodes: the per-signal code limits of asm-generic/siginfo.h),
/// or a generic one.
fn known_siginfo_layout(signo: u32, code: i32) -> bool {
    use linux_raw_sys::general::{SIGBUS, SIGCHLD, SIGFPE, SIGILL, SIGPOLL, SIGSEGV, SIGSYS, SIGTRAP};
    const SI_KERNEL: i32 = 0x80;
    const SI_DETHREAD: i32 = -7;
    const SI_ASYNCNL: i32 = -60;
    const NSIGPOLL: i32 = 6;
    let limit = match signo {
        SIGILL => Some(11),
        SIGFPE => Some(15),
        SIGSEGV => Some(9),
        SIGBUS => Some(5),
        SIGTRAP | SIGCHLD | SIGPOLL => Some(6),
        SIGSYS => Some(2),
        _ => None,
    };
    match code {
        SI_KERNEL => true,
        c if c > SI_USER as i32 => c <= limit.unwrap_or(NSIGPOLL),
        c => c >= SI_DETHREAD || c == SI_ASYNCNL,
    }
}

/// PTRACE_GETREGSET / SETREGSET (Linux's ptrace_regset): `data` is an
/// iovec; iov_len must be a multiple of the set's element size (EINVAL),
/// is cut to the set's size, and is written back. A short iov gets that
/// many bytes of the set, or sets only them.
fn regset_request(t: &Process, write: bool, note: u64, uiov: UserAddr) -> SysResult {
    let iov: iovec = read_user(uiov)?;
    let (base, len) = (UserAddr::new(iov.iov_base as u64), iov.iov_len as usize);
    let set = Regset::from_note(note).ok_or(Errno::EINVAL)?;
    if !len.is_multiple_of(set.element()) {
        return Err(Errno::EINVAL);
    }
    let len = len.min(set.size());
    let stop = t.ptrace.borrow_mut().stop.take().ok_or(Errno::ESRCH)?;
    let (mut regs, mut syscallno) = (stop.regs, stop.syscallno);
    let result = {
        let mut view = View { regs: &mut regs, syscallno: &mut syscallno, task: t };
        if write {
            let mut bytes = alloc::vec![0u8; len];
            copy_from_user(&mut bytes, base).and_then(|_| regset::set(set, &mut view, &bytes))
        } else {
            copy_to_user(base, &regset::get(set, &view)[..len])
        }
    };
    t.ptrace.borrow_mut().stop = Some(tracing::Stop { regs, syscallno, ..stop });
    result?;
    write_user(uiov.offset(8), &(len as u64))?;
    Ok(0)
}

/// PTRACE_PEEKMTETAGS / POKEMTETAGS (Linux's mte_ptrace_copy_tags and
/// __access_remote_tags; Documentation/arm64/memory-tagging-extension.rst):
/// one tag per byte of the tracer's iovec buffer, one per 16-byte granule
/// of the tracee from `addr` (tagged or not, rounded down to its granule).
/// Stops at the first page that cannot be mapped or is not PROT_MTE, or at
/// the first byte of the tracer's buffer that faults; iov_len becomes the
/// number moved. None moved: EIO if the tracee's address was the cause,
/// EFAULT if the tracer's buffer was. EIO too when tagging is off.
fn mte_tags(t: &Process, write: bool, addr: u64, uiov: UserAddr) -> SysResult {
    if !mte::tagging_enabled() {
        return Err(Errno::EIO);
    }
    let iov: iovec = read_user(uiov)?;
    let (buf, len) = (iov.iov_base as u64, iov.iov_len);
    // access_ok: the whole buffer must lie in the user half (a tagged one
    // only with the tracer's tagged-address ABI on).
    let buf_end = UserAddr::new(buf).untagged(TagRule::Access).as_u64().checked_add(len);
    if buf_end.is_none_or(|end| end > USER_END) {
        return Err(Errno::EFAULT);
    }
    if len == 0 {
        // Nothing to move: Linux returns an error with nothing copied.
        return Err(Errno::EIO);
    }
    let mut addr = addr & !(mte::GRANULE as u64 - 1);
    let (mut done, mut tracee_failed) = (0u64, false);
    let mut chunk = [0u8; TAG_CHUNK];
    while done < len {
        let want = ((len - done) as usize).min(TAG_CHUNK);
        let at = UserAddr::new(buf + done);
        // (tags moved, whether the tracer's buffer faulted first)
        let moved = if write {
            let readable = copy_prefix_from_user(&mut chunk[..want], at);
            remote::write_tags(&t.mm, addr, &chunk[..readable]).map(|n| (n, n == readable && readable < want))
        } else {
            // The tracee's lock is let go before the closure's user copy.
            remote::read_tags(&t.mm, addr, &mut chunk[..want]).map(|n| {
                let landed = copy_prefix_to_user(at, &chunk[..n]);
                (landed, landed < n)
            })
        };
        let (n, buffer_fault) = match moved {
            Ok(m) => m,
            Err(TagAccessError::Unmapped | TagAccessError::NotTagged) => {
                tracee_failed = true;
                break;
            }
        };
        done += n as u64;
        addr += (n * mte::GRANULE) as u64;
        if n == 0 || buffer_fault {
            break;
        }
    }
    if done == 0 {
        return Err(if tracee_failed { Errno::EIO } else { Errno::EFAULT });
    }
    write_user(uiov.offset(8), &done)?;
    Ok(0)
}

/// Copies `src` to the tracer's `dst` byte by byte after a failed whole
/// copy; returns how many bytes landed (Linux's mte_copy_tags_to_user).
fn copy_prefix_to_user(dst: UserAddr, src: &[u8]) -> usize {
    if copy_to_user(dst, src).is_ok() {
        return src.len();
    }
    (0..src.len()).take_while(|&i| copy_to_user(dst.offset(i as u64), &src[i..i + 1]).is_ok()).count()
}

/// Reads the tracer's `src` into `dst`, stopping at the first byte that
/// faults; returns how many were read (mte_copy_tags_from_user).
fn copy_prefix_from_user(dst: &mut [u8], src: UserAddr) -> usize {
    if copy_from_user(dst, src).is_ok() {
        return dst.len();
    }
    let mut n = 0;
    while n < dst.len() && copy_from_user(&mut dst[n..n + 1], src.offset(n as u64)).is_ok() {
        n += 1;
    }
    n
}
