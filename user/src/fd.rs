//! The descriptor table: dup(2), dup3(2), and fcntl(2)'s descriptor
//! commands (F_GETFD/F_SETFD, F_GETFL, F_DUPFD/F_DUPFD_CLOEXEC).
//!
//! Each fcntl command is its own function with typed arguments and
//! results, rather than one variadic `fcntl(fd, cmd, arg)`.

use bitflags::bitflags;
use linux_raw_sys::general::{
    __NR_dup, __NR_dup3, __NR_fcntl, FD_CLOEXEC, F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_GETFL, F_SETFD, O_ACCMODE,
    O_CLOEXEC, O_RDONLY, O_RDWR, O_WRONLY,
};

use crate::errno::Errno;
use crate::io::Fd;
use crate::syscall::syscall3;

bitflags! {
    /// Descriptor flags (F_GETFD/F_SETFD): per descriptor, not shared by
    /// duplicates.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct FdFlags: u32 {
        const CLOEXEC = FD_CLOEXEC;
    }
}

bitflags! {
    /// dup3(2) flags: only `O_CLOEXEC` is valid; any other bit is EINVAL.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct DupFlags: u32 {
        const CLOEXEC = O_CLOEXEC;
    }
}

/// The access mode of an open file description (`F_GETFL & O_ACCMODE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessMode {
    ReadOnly,
    WriteOnly,
    ReadWrite,
    /// The fourth value of the two-bit field (Linux's "3", no access).
    Other(u32),
}

impl AccessMode {
    /// The access mode in status flags `flags`.
    pub fn of(flags: u32) -> AccessMode {
        match flags & O_ACCMODE {
            O_RDONLY => AccessMode::ReadOnly,
            O_WRONLY => AccessMode::WriteOnly,
            O_RDWR => AccessMode::ReadWrite,
            other => AccessMode::Other(other),
        }
    }
}

/// fcntl(2) with an integer argument.
fn fcntl(fd: Fd, cmd: u32, arg: usize) -> Result<usize, Errno> {
    // SAFETY: the commands used here (F_GETFD, F_SETFD, F_GETFL, F_DUPFD,
    // F_DUPFD_CLOEXEC) take an integer argument and touch no user memory.
    unsafe { syscall3(__NR_fcntl, fd.0 as usize, cmd as usize, arg) }
}

/// A new descriptor for the same open file, the lowest free one, without
/// close-on-exec.
pub fn dup(fd: Fd) -> Result<Fd, Errno> {
    // SAFETY: dup takes a descriptor number and touches no user memory.
    unsafe { syscall3(__NR_dup, fd.0 as usize, 0, 0) }.map(|n| Fd(n as i32))
}

/// Makes `new` a descriptor for `old`'s open file, closing what `new` was;
/// `old == new` is EINVAL (unlike dup2).
pub fn dup3(old: Fd, new: Fd, flags: DupFlags) -> Result<Fd, Errno> {
    // SAFETY: dup3 takes two descriptor numbers and flags, and touches no
    // user memory. The runtime keeps no file objects that `new` being
    // replaced could invalidate.
    unsafe { syscall3(__NR_dup3, old.0 as usize, new.0 as usize, flags.bits() as usize) }.map(|n| Fd(n as i32))
}

/// The descriptor flags (F_GETFD). Bits this runtime does not name are
/// kept, so a test sees exactly what the kernel returned.
pub fn fd_flags(fd: Fd) -> Result<FdFlags, Errno> {
    fcntl(fd, F_GETFD, 0).map(|f| FdFlags::from_bits_retain(f as u32))
}

/// Sets the descriptor flags (F_SETFD).
pub fn set_fd_flags(fd: Fd, flags: FdFlags) -> Result<(), Errno> {
    fcntl(fd, F_SETFD, flags.bits() as usize).map(drop)
}

/// The open file's status flags and access mode (F_GETFL), as the raw
/// `O_*` bits; [`AccessMode::of`] extracts the access mode.
pub fn status_flags(fd: Fd) -> Result<u32, Errno> {
    fcntl(fd, F_GETFL, 0).map(|f| f as u32)
}

/// A duplicate of `fd`, the lowest free descriptor `>= min` (F_DUPFD),
/// without close-on-exec.
pub fn dup_min(fd: Fd, min: i32) -> Result<Fd, Errno> {
    fcntl(fd, F_DUPFD, min as usize).map(|n| Fd(n as i32))
}

/// Like [`dup_min`], with close-on-exec set (F_DUPFD_CLOEXEC).
pub fn dup_min_cloexec(fd: Fd, min: i32) -> Result<Fd, Errno> {
    fcntl(fd, F_DUPFD_CLOEXEC, min as usize).map(|n| Fd(n as i32))
}
