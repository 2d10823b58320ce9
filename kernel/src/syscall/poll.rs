//! ppoll and pselect6 (Linux's fs/select.c): waiting for descriptors to
//! become ready, with a timeout and a signal mask for the wait.
//!
//! - What a file reports (Linux's vfs_poll): a pipe end, fs/pipe.rs's
//!   pipe_poll; every other file here has no poll method, so it is always
//!   ready for both (DEFAULT_POLLMASK), as /dev/null or a regular file are.
//! - Each pass looks at every descriptor; with nothing ready the task
//!   sleeps on the wait queues of the pipes it polls, until one changes, the
//!   timeout passes, or a signal comes (Linux's ERESTARTNOHAND: EINTR when
//!   a handler runs, otherwise the call is made again, with the time left). Ready descriptors win over a
//!   pending signal, a pending signal over the timeout.
//! - The timeout is relative; when it was given and not zero, the time
//!   left is written back to it (Linux's poll_select_finish), a fault there
//!   ignored.
//! - The signal mask replaces the thread's for the wait. If the call is
//!   interrupted the old mask comes back only after the handler ran (the
//!   signal frame holds it: `SignalState::saved_mask`), otherwise at once.

use alloc::vec::Vec;

use linux_raw_sys::general::{
    timespec, POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI, POLLRDBAND, POLLRDNORM, POLLWRBAND, POLLWRNORM,
};

use super::errno::{Errno, SysResult};
use crate::arch::aarch64::timer;
use crate::fs::file::{FileKind, FileRef};
use crate::mm::uaccess::{copy_from_user, copy_to_user, read_user, write_user, UserAddr};
use crate::process::wait_queue::{wait_until, WaitEnd, WaitQueue};
use crate::process::{self, Process};
use crate::signal::SigSet;

const NS_PER_S: u64 = 1_000_000_000;
/// A file without a poll method is always ready (Linux's DEFAULT_POLLMASK).
const DEFAULT_POLLMASK: u32 = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;
/// What counts as ready for each of select's sets (fs/select.c).
const POLLIN_SET: u32 = POLLRDNORM | POLLRDBAND | POLLIN | POLLHUP | POLLERR;
const POLLOUT_SET: u32 = POLLWRBAND | POLLWRNORM | POLLOUT | POLLERR;
const POLLEX_SET: u32 = POLLPRI;
/// Bytes of one struct pollfd: int fd, short events, short revents.
const POLLFD_SIZE: usize = 8;

/// What `file` reports now (Linux's vfs_poll).
fn poll_mask(file: &FileRef) -> u32 {
    let r = match &file.kind {
        FileKind::Pipe(end) => end.poll(),
        FileKind::Socket(s) => s.poll(),
        // Regular files are always ready (Linux's DEFAULT_POLLMASK for a
        // file without a poll method, /proc's seq files included).
        FileKind::Console | FileKind::RefPage(_) | FileKind::Tmp(_) | FileKind::Proc(_) => return DEFAULT_POLLMASK,
    };
    let mut mask = 0;
    if r.input {
        mask |= POLLIN | POLLRDNORM;
    }
    if r.output {
        mask |= POLLOUT | POLLWRNORM;
    }
    if r.hangup {
        mask |= POLLHUP;
    }
    if r.error {
        mask |= POLLERR;
    }
    mask
}

fn open_file(fd: i32) -> Option<FileRef> {
    process::current().files().get(fd).ok().map(|e| e.file.clone())
}

/// The wait queues of the pipes among `files`.
fn queues_of(files: &[FileRef]) -> Vec<&WaitQueue> {
    files
        .iter()
        .flat_map(|f| match &f.kind {
            FileKind::Pipe(end) => end.wait_queues().to_vec(),
            FileKind::Socket(s) => s.wait_queues().to_vec(),
            _ => Vec::new(),
        })
        .collect()
}

/// The absolute deadline (ns since boot) of a relative timeout, `None`
/// without one; EINVAL for a negative or unnormalised one (Linux's
/// poll_select_set_timeout). Also says whether it was zero.
fn deadline_of(ts: UserAddr) -> Result<Option<(u64, bool)>, Errno> {
    if ts.is_null() {
        return Ok(None);
    }
    let t: timespec = read_user(ts)?;
    if t.tv_sec < 0 || !(0..NS_PER_S as i64).contains(&{ t.tv_nsec }) {
        return Err(Errno::EINVAL);
    }
    let ns = (t.tv_sec as u64).saturating_mul(NS_PER_S).saturating_add(t.tv_nsec as u64);
    Ok(Some((timer::uptime_ns().saturating_add(ns), ns == 0)))
}

/// Linux's set_user_sigmask: the mask for the wait, the old one kept to
/// restore. EINVAL unless the size is 8 (sizeof(sigset_t) in the kernel).
fn set_wait_mask(p: &Process, mask: UserAddr, size: u64) -> Result<(), Errno> {
    if mask.is_null() {
        return Ok(());
    }
    if size != 8 {
        return Err(Errno::EINVAL);
    }
    let new: u64 = read_user(mask)?;
    let mut signals = p.signals.borrow_mut();
    signals.saved_mask = Some(signals.blocked);
    drop(signals);
    p.signals.borrow_mut().blocked = SigSet(new).blockable();
    Ok(())
}

/// Linux's poll_select_finish: the old mask back unless the call was
/// interrupted (then it comes back after the handler), and the time left
/// written to `ts` if there was a non-zero timeout.
fn finish(ts: UserAddr, deadline: Option<(u64, bool)>, result: SysResult) -> SysResult {
    let p = process::current();
    // Interrupted, the mask comes back after the handler, or when the call
    // is made again (Linux's restore_saved_sigmask_unless).
    if result != Err(Errno::ERESTARTNOHAND) {
        let saved = p.signals.borrow_mut().saved_mask.take();
        if let Some(old) = saved {
            p.signals.borrow_mut().blocked = old;
        }
    }
    if let Some((end, false)) = deadline {
        let left = end.saturating_sub(timer::uptime_ns());
        let rem = timespec { tv_sec: (left / NS_PER_S) as _, tv_nsec: (left % NS_PER_S) as _ };
        // A timeout in read-only memory is not updated, and not an error.
        let _ = write_user(ts, &rem);
    }
    result
}

/// Waits on `files`' queues until `scan` finds something ready, returning
/// its count (0 at the deadline), or ERESTARTNOHAND for a signal.
fn wait_for_ready(files: &[FileRef], deadline: Option<(u64, bool)>, mut scan: impl FnMut() -> u64) -> SysResult {
    let queues = queues_of(files);
    let until = deadline.map(|(end, _)| timer::ns_to_ticks(end));
    let mut count = 0;
    match wait_until(&queues, until, || {
        count = scan();
        count > 0
    }) {
        WaitEnd::Ready | WaitEnd::TimedOut => Ok(count),
        WaitEnd::Interrupted => Err(Errno::ERESTARTNOHAND),
    }
}

/// ppoll(fds, nfds, timeout, sigmask, sigsetsize) (Linux's do_sys_poll).
pub fn ppoll(fds: UserAddr, nfds: u32, ts: UserAddr, mask: UserAddr, mask_size: u64) -> SysResult {
    let deadline = deadline_of(ts)?;
    let p = process::current();
    set_wait_mask(p, mask, mask_size)?;
    let result = poll_fds(fds, nfds as usize, deadline, super::fd::fd_limit(p));
    finish(ts, deadline, result)
}

fn poll_fds(ufds: UserAddr, nfds: usize, deadline: Option<(u64, bool)>, limit: usize) -> SysResult {
    if nfds > limit {
        return Err(Errno::EINVAL);
    }
    // The array is copied in whole: kernel heap, so ENOMEM past what the
    // heap can spare (Linux: kmalloc of the poll_list failing).
    let bytes = nfds * POLLFD_SIZE;
    if !crate::mm::heap::can_spare(2 * bytes) {
        return Err(Errno::ENOMEM);
    }
    let mut raw = alloc::vec![0u8; bytes];
    copy_from_user(&mut raw, ufds)?;
    let entries: Vec<(i32, u32)> = raw
        .chunks_exact(POLLFD_SIZE)
        .map(|e| (i32::from_ne_bytes([e[0], e[1], e[2], e[3]]), u16::from_ne_bytes([e[4], e[5]]) as u32))
        .collect();
    drop(raw);
    let files: Vec<FileRef> = entries.iter().filter(|(fd, _)| *fd >= 0).filter_map(|(fd, _)| open_file(*fd)).collect();
    let mut revents = alloc::vec![0u16; nfds];
    let result = wait_for_ready(&files, deadline, || {
        let mut count = 0;
        for (i, &(fd, events)) in entries.iter().enumerate() {
            // A negative descriptor is skipped; a closed one is POLLNVAL;
            // errors and hang-ups are reported whether asked for or not.
            let mask = if fd < 0 {
                0
            } else {
                open_file(fd).map_or(POLLNVAL, |f| poll_mask(&f) & (events | POLLERR | POLLHUP))
            };
            revents[i] = mask as u16;
            count += u64::from(mask != 0);
        }
        count
    });
    // Every revents is written back, whatever the result (Linux too).
    for (i, r) in revents.iter().enumerate() {
        copy_to_user(ufds.offset((i * POLLFD_SIZE + 6) as u64), &r.to_ne_bytes())?;
    }
    result
}

/// pselect6(n, in, out, except, timeout, {sigmask, size}).
pub fn pselect6(n: i32, sets: [UserAddr; 3], ts: UserAddr, sig: UserAddr) -> SysResult {
    // struct { const sigset_t *ss; size_t ss_len; }, read first (Linux's
    // get_sigset_argpack).
    let [mask, mask_size] = if sig.is_null() { [0, 0] } else { read_user::<[u64; 2]>(sig)? };
    let deadline = deadline_of(ts)?;
    set_wait_mask(process::current(), UserAddr::new(mask), mask_size)?;
    let result = select_fds(n, sets, deadline);
    finish(ts, deadline, result)
}

/// Linux's core_sys_select and do_select.
fn select_fds(n: i32, sets: [UserAddr; 3], deadline: Option<(u64, bool)>) -> SysResult {
    let n = usize::try_from(n).map_err(|_| Errno::EINVAL)?;
    // Bits past the descriptor table's size are not looked at (Linux
    // clamps n to max_fds: 64 at least, then powers of two).
    let n = n.min(process::current().files().capacity().next_power_of_two().max(64));
    let words = n.div_ceil(64);
    let mut input = [Vec::new(), Vec::new(), Vec::new()];
    for (set, addr) in input.iter_mut().zip(sets) {
        *set = alloc::vec![0u64; words];
        if !addr.is_null() {
            let mut bytes = alloc::vec![0u8; words * 8];
            copy_from_user(&mut bytes, addr)?;
            for (w, b) in set.iter_mut().zip(bytes.chunks_exact(8)) {
                *w = u64::from_ne_bytes(b.try_into().expect("8 bytes"));
            }
        }
    }
    let wanted = |fd: usize, set: usize| input[set][fd / 64] & (1 << (fd % 64)) != 0;
    // Every descriptor asked about must be open (max_select_fd).
    let mut files = Vec::new();
    for fd in 0..n {
        if (0..3).any(|s| wanted(fd, s)) {
            files.push(open_file(fd as i32).ok_or(Errno::EBADF)?);
        }
    }
    let mut result_sets = [alloc::vec![0u64; words], alloc::vec![0u64; words], alloc::vec![0u64; words]];
    let result = wait_for_ready(&files, deadline, || {
        result_sets.iter_mut().for_each(|s| s.iter_mut().for_each(|w| *w = 0));
        let mut count = 0;
        for fd in (0..n).filter(|&fd| (0..3).any(|s| wanted(fd, s))) {
            // Closed since by another thread: skipped, as Linux's fdget
            // failing in do_select.
            let Some(file) = open_file(fd as i32) else { continue };
            let mask = poll_mask(&file);
            for (s, ready) in [POLLIN_SET, POLLOUT_SET, POLLEX_SET].into_iter().enumerate() {
                if wanted(fd, s) && mask & ready != 0 {
                    result_sets[s][fd / 64] |= 1 << (fd % 64);
                    count += 1;
                }
            }
        }
        count
    })?;
    // Interrupted, the sets are left as they were; otherwise they become
    // the results.
    for (set, addr) in result_sets.iter().zip(sets) {
        if !addr.is_null() {
            let bytes: Vec<u8> = set.iter().flat_map(|w| w.to_ne_bytes()).collect();
            copy_to_user(addr, &bytes)?;
        }
    }
    Ok(result)
}
