//! File-descriptor I/O: read(2), write(2), writev(2), lseek(2), fstat(2),
//! close(2).

use core::marker::PhantomData;

use core::mem::MaybeUninit;

use linux_raw_sys::general::{
    __NR_close, __NR_fstat, __NR_lseek, __NR_read, __NR_write, __NR_writev, iovec, stat, SEEK_CUR, SEEK_END, SEEK_SET,
    S_IFMT,
};

use crate::errno::Errno;
use crate::syscall::syscall3;

/// A file descriptor number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fd(pub i32);

impl Fd {
    pub const STDIN: Fd = Fd(0);
    pub const STDOUT: Fd = Fd(1);
    pub const STDERR: Fd = Fd(2);
}

/// Reads up to `buf.len()` bytes; `Ok(0)` is end of file.
pub fn read(fd: Fd, buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: the kernel writes at most buf.len() bytes into buf, which is
    // valid and exclusively borrowed for the call.
    unsafe { syscall3(__NR_read, fd.0 as usize, buf.as_mut_ptr() as usize, buf.len()) }
}

/// Writes up to `buf.len()` bytes and returns how many were written.
pub fn write(fd: Fd, buf: &[u8]) -> Result<usize, Errno> {
    // SAFETY: the kernel reads at most buf.len() bytes from buf, which is
    // valid for the call.
    unsafe { syscall3(__NR_write, fd.0 as usize, buf.as_ptr() as usize, buf.len()) }
}

/// Writes all of `buf`, retrying after short writes (as a pipe or a
/// terminal may give).
pub fn write_all(fd: Fd, mut buf: &[u8]) -> Result<(), Errno> {
    while !buf.is_empty() {
        match write(fd, buf)? {
            0 => return Err(Errno::EIO),
            n => buf = &buf[n..],
        }
    }
    Ok(())
}

/// One buffer of a gathered write: the kernel's `struct iovec`, borrowing
/// the bytes it points at so they outlive the call.
#[repr(transparent)]
pub struct IoSlice<'a> {
    iov: iovec,
    bytes: PhantomData<&'a [u8]>,
}

impl<'a> IoSlice<'a> {
    pub fn new(buf: &'a [u8]) -> IoSlice<'a> {
        IoSlice { iov: iovec { iov_base: buf.as_ptr() as *mut _, iov_len: buf.len() as _ }, bytes: PhantomData }
    }
}

/// Writes the buffers in order, as one call; returns the bytes written.
pub fn writev(fd: Fd, bufs: &[IoSlice<'_>]) -> Result<usize, Errno> {
    // SAFETY: IoSlice is a transparent iovec, so bufs is an array of
    // bufs.len() iovecs, each pointing at a live borrowed buffer; the kernel
    // only reads them.
    unsafe { syscall3(__NR_writev, fd.0 as usize, bufs.as_ptr() as usize, bufs.len()) }
}

/// Where an [`lseek`] offset counts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Whence {
    /// From the start of the file (SEEK_SET).
    Set,
    /// From the current position (SEEK_CUR).
    Cur,
    /// From the end of the file (SEEK_END).
    End,
}

impl Whence {
    fn raw(self) -> u32 {
        match self {
            Whence::Set => SEEK_SET,
            Whence::Cur => SEEK_CUR,
            Whence::End => SEEK_END,
        }
    }
}

/// Moves the file position; returns the new position from the start.
pub fn lseek(fd: Fd, offset: i64, whence: Whence) -> Result<u64, Errno> {
    // SAFETY: lseek takes numbers only and touches no user memory.
    unsafe { syscall3(__NR_lseek, fd.0 as usize, offset as usize, whence.raw() as usize) }.map(|pos| pos as u64)
}

/// What fstat(2) reports about an open file: the kernel's arm64
/// `struct stat`, fields as Linux names them (`st_mode`, `st_size`, ...).
pub type Stat = stat;

/// The file type bits of `st_mode` (`S_IFMT`): compare with `S_IFREG`,
/// `S_IFCHR`, ... from `linux_raw_sys::general`.
pub fn file_type(st: &Stat) -> u32 {
    st.st_mode & S_IFMT
}

/// The status of the open file `fd` (the fstat system call itself, not
/// newfstatat).
pub fn fstat(fd: Fd) -> Result<Stat, Errno> {
    let mut st = MaybeUninit::<Stat>::zeroed();
    // SAFETY: the kernel writes one struct stat into st, which is live and
    // exclusively borrowed for the call.
    unsafe { syscall3(__NR_fstat, fd.0 as usize, st.as_mut_ptr() as usize, 0) }?;
    // SAFETY: struct stat is all integers, so all-zero bytes and whatever
    // the kernel stored over them are a valid value.
    Ok(unsafe { st.assume_init() })
}

/// Closes `fd`.
pub fn close(fd: Fd) -> Result<(), Errno> {
    // SAFETY: close takes no pointers. The runtime keeps no file objects
    // that could be left holding a closed number.
    unsafe { syscall3(__NR_close, fd.0 as usize, 0, 0) }.map(drop)
}
