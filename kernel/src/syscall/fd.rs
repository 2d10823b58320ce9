//! The descriptor-table system calls: close, close_range, dup, dup3, fcntl,
//! lseek, and pipe2, which makes two descriptors at once.

use linux_raw_sys::general::{
    FD_CLOEXEC, F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_GETFL, F_GETPIPE_SZ, F_SETFD, F_SETFL, F_SETPIPE_SZ, O_APPEND,
    O_CLOEXEC, O_DIRECT, O_EXCL, O_NOATIME, O_NONBLOCK, RLIMIT_NOFILE, SEEK_CUR, SEEK_END, SEEK_SET,
};

use super::errno::{Errno, SysResult};
use crate::fs::fd_table::FdEntry;
use crate::fs::file::{FileKind, FileRef, OpenFile};
use crate::fs::pipe::Pipe;
use crate::mm::uaccess::{write_user, UserAddr};
use crate::process::{self, Process};

/// The RLIMIT_NOFILE soft limit: no descriptor may reach it.
pub fn fd_limit(p: &Process) -> usize {
    usize::try_from(p.limits.get()[RLIMIT_NOFILE as usize].rlim_cur).unwrap_or(usize::MAX).min(1 << 20)
}

pub fn close(fd: i32) -> SysResult {
    // The file closes (its last reference may wake a pipe's other end)
    // after the table's lock is let go, as Linux's close_fd hands the file
    // to filp_close outside file_lock.
    let closed = process::current().files().remove(fd)?;
    drop(closed);
    Ok(0)
}

const CLOSE_RANGE_UNSHARE: u32 = 1 << 1;
const CLOSE_RANGE_CLOEXEC: u32 = 1 << 2;

/// close_range (Linux 6.1's __close_range): the open descriptors in
/// `[first, last]` closed, or with CLOSE_RANGE_CLOEXEC marked
/// close-on-exec; CLOSE_RANGE_UNSHARE first gives a task that shares its
/// table (CLONE_FILES) a copy of its own (unshare_fd: ENOMEM when the heap
/// cannot hold it).
pub fn close_range(first: u32, last: u32, flags: u32) -> SysResult {
    if flags & !(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC) != 0 || first > last {
        return Err(Errno::EINVAL);
    }
    let p = process::current();
    if flags & CLOSE_RANGE_UNSHARE != 0 && alloc::sync::Arc::strong_count(&*p.fdt.borrow()) > 1 {
        if !crate::mm::heap::can_spare(p.files().heap_bytes()) {
            return Err(Errno::ENOMEM);
        }
        let copy = p.files().try_clone()?;
        p.fdt.set(process::new_files(copy));
    }
    p.files().close_range(first as usize, last as usize, flags & CLOSE_RANGE_CLOEXEC != 0);
    Ok(0)
}

/// A new descriptor for the file of `fd`, the lowest free one >= `min`.
fn dup_from(fd: i32, min: usize, cloexec: bool) -> SysResult {
    let p = process::current();
    let file = p.files().get(fd)?.file.clone();
    let limit = fd_limit(p);
    if min >= limit {
        return Err(Errno::EINVAL);
    }
    p.files().insert_lowest(min, FdEntry { file, cloexec }, limit).map(|fd| fd as u64)
}

pub fn dup(fd: i32) -> SysResult {
    dup_from(fd, 0, false)
}

pub fn dup3(old: i32, new: i32, flags: u32) -> SysResult {
    if flags & !O_CLOEXEC != 0 || old == new {
        return Err(Errno::EINVAL);
    }
    let p = process::current();
    let file = p.files().get(old)?.file.clone();
    let limit = fd_limit(p);
    // Whatever `new` named is closed, silently, as in Linux, once the
    // table's lock is let go (do_dup2's filp_close after file_lock).
    let replaced = p.files().insert_at(new, FdEntry { file, cloexec: flags & O_CLOEXEC != 0 }, limit)?;
    drop(replaced);
    Ok(new as u64)
}

pub fn fcntl(fd: i32, cmd: u32, arg: u64) -> SysResult {
    let p = process::current();
    match cmd {
        F_DUPFD | F_DUPFD_CLOEXEC => {
            let min = usize::try_from(arg as i32).map_err(|_| Errno::EINVAL)?;
            dup_from(fd, min, cmd == F_DUPFD_CLOEXEC)
        }
        F_GETFD => Ok(if p.files().get(fd)?.cloexec { FD_CLOEXEC as u64 } else { 0 }),
        F_SETFD => {
            p.files().get_mut(fd)?.cloexec = arg & FD_CLOEXEC as u64 != 0;
            Ok(0)
        }
        F_GETFL => Ok(p.files().get(fd)?.file.flags() as u64),
        F_SETFL => setfl(fd, arg as u32),
        F_GETPIPE_SZ | F_SETPIPE_SZ => {
            let file = p.files().get(fd)?.file.clone();
            // Linux's pipe_fcntl: EBADF for anything but a pipe.
            let FileKind::Pipe(end) = &file.kind else { return Err(Errno::EBADF) };
            if cmd == F_GETPIPE_SZ {
                Ok(end.size())
            } else {
                end.set_size(arg)
            }
        }
        _ => {
            p.files().get(fd)?;
            Err(Errno::EINVAL)
        }
    }
}

/// The status flags F_SETFL may change (Linux's SETFL_MASK; O_NDELAY is
/// O_NONBLOCK on arm64). FASYNC is not among them: Linux sets it through
/// the file's fasync method, and no file here sends SIGIO.
const SETFL_MASK: u32 = O_APPEND | O_NONBLOCK | O_DIRECT | O_NOATIME;

/// Linux's setfl: O_DIRECT only where the file supports it (a pipe, where
/// it is packet mode; neither the console nor /dev/shm in 6.1).
fn setfl(fd: i32, arg: u32) -> SysResult {
    let file = process::current().files().get(fd)?.file.clone();
    if arg & O_DIRECT != 0 && !matches!(file.kind, FileKind::Pipe(_)) {
        return Err(Errno::EINVAL);
    }
    file.set_status(SETFL_MASK, arg);
    Ok(0)
}

/// pipe2's flags besides O_CLOEXEC and the open file's status flags.
const O_NOTIFICATION_PIPE: u32 = O_EXCL;

/// pipe2 (Linux's do_pipe2): a read end and a write end, the lowest two
/// free descriptors in that order, written to `fds` as two ints; EFAULT
/// there closes both again. O_NONBLOCK and O_DIRECT (packet mode) go to
/// both open files. A notification pipe (O_NOTIFICATION_PIPE) is ENOPKG,
/// as on a Linux built without CONFIG_WATCH_QUEUE.
pub fn pipe2(fds: UserAddr, flags: u32) -> SysResult {
    if flags & !(O_CLOEXEC | O_NONBLOCK | O_DIRECT | O_NOTIFICATION_PIPE) != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & O_NOTIFICATION_PIPE != 0 {
        return Err(Errno::ENOPKG);
    }
    let (read_end, write_end) = Pipe::new_pair()?;
    let status = flags & (O_NONBLOCK | O_DIRECT);
    install_pair(OpenFile::pipe(read_end, status), OpenFile::pipe(write_end, status), flags & O_CLOEXEC != 0, fds)
}

/// Two new open files in the lowest two free descriptors, in that order,
/// written to `fds` as two ints; EFAULT there closes both again (pipe2,
/// socketpair).
pub fn install_pair(first: FileRef, second: FileRef, cloexec: bool, fds: UserAddr) -> SysResult {
    let p = process::current();
    let limit = fd_limit(p);
    let ours = [first.clone(), second.clone()];
    let (r, w) = {
        let mut files = p.files();
        let r = files.insert_lowest(0, FdEntry { file: first, cloexec }, limit)?;
        match files.insert_lowest(0, FdEntry { file: second, cloexec }, limit) {
            Ok(w) => (r, w),
            Err(e) => {
                let undone = files.remove(r);
                drop(files);
                drop(undone);
                return Err(e);
            }
        }
    };
    // int fds[2], as one 8-byte little-endian store (the copy is bytewise,
    // so 4-byte alignment is enough), with the table's lock let go: the
    // copy may fault and sleep.
    let pair = (r as u32 as u64) | ((w as u32 as u64) << 32);
    if let Err(e) = write_user(fds, &pair) {
        // Taken out again only if still ours: another thread may have
        // closed one meanwhile and got its number for a file of its own
        // (Linux's do_pipe2 installs only after the copy; its descriptors
        // are reserved meanwhile, which this table cannot do).
        let undone: [Option<_>; 2] = {
            let mut files = p.files();
            core::array::from_fn(|i| {
                let fd = [r, w][i];
                let same = files.get(fd).is_ok_and(|e| alloc::sync::Arc::ptr_eq(&e.file, &ours[i]));
                same.then(|| files.remove(fd).ok()).flatten()
            })
        };
        drop(undone);
        return Err(e);
    }
    Ok(0)
}

/// Neither the console nor a refpage has a file position (refpage: the
/// project's decision, docs/refpage.md); /dev/shm and /proc files do.
/// A /proc file seeks as Linux's seq_lseek: from the start or the current
/// position, not from the end (EINVAL).
pub fn lseek(fd: i32, offset: i64, whence: u32) -> SysResult {
    let file = process::current().files().get(fd)?.file.clone();
    let size = match &file.kind {
        FileKind::Tmp(tmp) => Some(tmp.size()),
        FileKind::Proc(_) => None,
        _ => return Err(Errno::ESPIPE),
    };
    let mut pos = file.pos.lock();
    let base = match (whence, size) {
        (SEEK_SET, _) => 0,
        (SEEK_CUR, _) => *pos as i64,
        (SEEK_END, Some(size)) => size as i64,
        _ => return Err(Errno::EINVAL),
    };
    let new = base.checked_add(offset).filter(|&n| n >= 0).ok_or(Errno::EINVAL)?;
    *pos = new as u64;
    Ok(new as u64)
}
