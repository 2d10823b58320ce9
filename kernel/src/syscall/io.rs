//! Reading, writing and stat through the descriptor table.
//!
//! The console (descriptors 0-2 at start) reads as end-of-file (it takes no
//! input yet) and writes to the UART as it is, unprefixed. A refpage
//! descriptor is only for mmap: read is EINVAL (the man page: not
//! supported) and write EBADF (it is open read-only).

use linux_raw_sys::general::{iovec, stat, AT_EMPTY_PATH, S_IFCHR, S_IFREG};

use super::errno::{Errno, SysResult};
use crate::fs::file::{FileKind, FileRef};
use crate::mm::addr::PAGE_SIZE;
use crate::mm::uaccess::{copy_from_user, read_user, read_user_str, write_user, UserAddr};
use crate::process;

/// The largest count one read/write moves (Linux's MAX_RW_COUNT).
const MAX_RW_COUNT: usize = 0x7fff_f000;
/// Linux's UIO_MAXIOV.
const IOV_MAX: i32 = 1024;

fn file(fd: i32) -> Result<FileRef, Errno> {
    Ok(process::current().files.get(fd)?.file.clone())
}

pub fn write(fd: i32, buf: UserAddr, len: usize) -> SysResult {
    let file = file(fd)?;
    if !file.writable() {
        return Err(Errno::EBADF);
    }
    match file.kind {
        FileKind::Console => write_console(buf, len),
        FileKind::RefPage(_) => Err(Errno::EBADF),
    }
}

fn write_console(buf: UserAddr, len: usize) -> SysResult {
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

pub fn read(fd: i32, _buf: UserAddr, _len: usize) -> SysResult {
    let file = file(fd)?;
    if !file.readable() {
        return Err(Errno::EBADF);
    }
    match file.kind {
        FileKind::Console => Ok(0),
        FileKind::RefPage(_) => Err(Errno::EINVAL),
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
    file(fd)?;
    Err(Errno::ENOTTY)
}

/// What fstat says. The console: a character device, major 5 minor 1
/// (/dev/console). A refpage (the project's decision, documented in
/// README): a read-only regular file whose size is one repetition of the
/// pattern, one page of blocks, its own inode number.
fn stat_of(file: &FileRef) -> stat {
    // SAFETY: stat is plain data; all-zero is a valid value.
    let mut st: stat = unsafe { core::mem::zeroed() };
    st.st_nlink = 1;
    match &file.kind {
        FileKind::Console => {
            st.st_mode = S_IFCHR | 0o620;
            st.st_rdev = (5 << 8) | 1;
            st.st_blksize = 1024;
        }
        FileKind::RefPage(page) => {
            st.st_mode = S_IFREG | 0o400;
            st.st_ino = page.ino();
            st.st_size = page.size() as _;
            st.st_blksize = PAGE_SIZE as _;
            st.st_blocks = (PAGE_SIZE / 512) as _;
        }
    }
    st
}

pub fn fstat(fd: i32, buf: UserAddr) -> SysResult {
    let st = stat_of(&file(fd)?);
    write_user(buf, &st)?;
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
