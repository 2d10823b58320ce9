//! The descriptor-table system calls: close, dup, dup3, fcntl, lseek.

use linux_raw_sys::general::{
    FD_CLOEXEC, F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_GETFL, F_SETFD, O_CLOEXEC, RLIMIT_NOFILE, SEEK_CUR, SEEK_END,
    SEEK_SET,
};

use super::errno::{Errno, SysResult};
use crate::fs::fd_table::FdEntry;
use crate::fs::file::FileKind;
use crate::process::{self, Process};

/// The RLIMIT_NOFILE soft limit: no descriptor may reach it.
pub fn fd_limit(p: &Process) -> usize {
    usize::try_from(p.limits[RLIMIT_NOFILE as usize].rlim_cur).unwrap_or(usize::MAX).min(1 << 20)
}

pub fn close(fd: i32) -> SysResult {
    process::current().files().remove(fd)?;
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
    // Whatever `new` named is closed, silently, as in Linux.
    p.files().insert_at(new, FdEntry { file, cloexec: flags & O_CLOEXEC != 0 }, limit)?;
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
        F_GETFL => Ok(p.files().get(fd)?.file.flags as u64),
        _ => {
            p.files().get(fd)?;
            Err(Errno::EINVAL)
        }
    }
}

/// Neither the console nor a refpage has a file position (refpage: the
/// project's decision, shared/docs/refpage.md); /dev/shm and /proc files do.
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
