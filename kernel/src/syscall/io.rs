//! Reading and writing: so far only the console behind descriptors 0-2.
//! Standard input reads as end-of-file (the console takes no input yet);
//! standard output and error go to the UART as they are, unprefixed.

use linux_raw_sys::general::{iovec, stat, AT_EMPTY_PATH, S_IFCHR};

use super::errno::{Errno, SysResult};
use crate::mm::uaccess::{copy_from_user, read_user, read_user_str, write_user, UserAddr};

/// The largest count one read/write moves (Linux's MAX_RW_COUNT).
const MAX_RW_COUNT: usize = 0x7fff_f000;
/// Linux's UIO_MAXIOV.
const IOV_MAX: i32 = 1024;

fn is_console(fd: i32) -> bool {
    (0..=2).contains(&fd)
}

pub fn write(fd: i32, buf: UserAddr, len: usize) -> SysResult {
    if !is_console(fd) || fd == 0 {
        return Err(Errno::EBADF);
    }
    let len = len.min(MAX_RW_COUNT);
    let mut chunk = [0u8; 256];
    let mut done = 0;
    while done < len {
        let n = (len - done).min(chunk.len());
        if let Err(e) = copy_from_user(&mut chunk[..n], buf.offset(done as u64)) {
            // Linux returns what was written before the fault, if anything.
            return if done > 0 { Ok(done as u64) } else { Err(e) };
        }
        crate::console::write_bytes(&chunk[..n]);
        done += n;
    }
    Ok(done as u64)
}

/// Only the console descriptors exist so far; closing one succeeds (the
/// descriptor table, which makes it really go away, comes with refpage).
pub fn close(fd: i32) -> SysResult {
    if is_console(fd) { Ok(0) } else { Err(Errno::EBADF) }
}

pub fn read(fd: i32, _buf: UserAddr, _len: usize) -> SysResult {
    match fd {
        0 => Ok(0),
        _ => Err(Errno::EBADF),
    }
}

fn iovecs(iov: UserAddr, count: i32) -> Result<alloc::vec::Vec<iovec>, Errno> {
    if !(0..=IOV_MAX).contains(&count) {
        return Err(Errno::EINVAL);
    }
    (0..count as u64).map(|i| read_user::<iovec>(iov.offset(i * 16))).collect()
}

pub fn writev(fd: i32, iov: UserAddr, count: i32) -> SysResult {
    let mut total = 0u64;
    for v in iovecs(iov, count)? {
        match write(fd, UserAddr(v.iov_base as u64), v.iov_len as usize) {
            Ok(n) => total += n,
            Err(e) if total == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(total)
}

pub fn readv(fd: i32, iov: UserAddr, count: i32) -> SysResult {
    iovecs(iov, count)?;
    read(fd, UserAddr(0), 0)
}

/// The console is a character device but not a terminal: every request,
/// TCGETS included, gives ENOTTY, so C libraries fully buffer stdout as for
/// a pipe.
pub fn ioctl(fd: i32, _request: u32) -> SysResult {
    if !is_console(fd) {
        return Err(Errno::EBADF);
    }
    Err(Errno::ENOTTY)
}

/// stat of the console: a character device, major 5 minor 1 (/dev/console).
fn console_stat() -> stat {
    // SAFETY: stat is plain data; all-zero is a valid value.
    let mut st: stat = unsafe { core::mem::zeroed() };
    st.st_mode = S_IFCHR | 0o620;
    st.st_nlink = 1;
    st.st_rdev = (5 << 8) | 1;
    st.st_blksize = 1024;
    st
}

pub fn fstat(fd: i32, buf: UserAddr) -> SysResult {
    if !is_console(fd) {
        return Err(Errno::EBADF);
    }
    write_user(buf, &console_stat())?;
    Ok(0)
}

pub fn newfstatat(dirfd: i32, path: UserAddr, buf: UserAddr, flags: u32) -> SysResult {
    let path = read_user_str(path, 4096)?;
    if path.is_empty() && flags & AT_EMPTY_PATH != 0 {
        return fstat(dirfd, buf);
    }
    // No file system to look paths up in yet.
    Err(Errno::ENOENT)
}

/// No /proc: every link is absent.
pub fn readlinkat(path: UserAddr) -> SysResult {
    read_user_str(path, 4096)?;
    Err(Errno::ENOENT)
}
