//! `Errno`: the error half of every system call's `Result`.
//!
//! The values come from `linux_raw_sys::errno` (the kernel's
//! include/uapi/asm-generic/errno*.h), so a test comparing against
//! `Errno::EFAULT` compares against the number Linux uses.

use core::fmt;

use linux_raw_sys::errno as raw;

/// A Linux error number (1..=4095), as returned negated in x0.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Errno(u16);

/// The largest error number: the kernel returns `-4095..=-1` for errors
/// (`IS_ERR_VALUE` in include/linux/err.h), so any larger "negative"
/// result, such as a high address from mmap, is a success.
const MAX_ERRNO: usize = 4095;

impl Errno {
    /// Decodes a raw x0 result: `-4095..=-1` is an error, anything else is
    /// the call's value.
    pub fn from_syscall_result(ret: usize) -> Result<usize, Errno> {
        if ret > usize::MAX - MAX_ERRNO {
            Err(Errno(ret.wrapping_neg() as u16))
        } else {
            Ok(ret)
        }
    }

    /// The error number, e.g. 14 for `EFAULT`.
    pub fn raw(self) -> u16 {
        self.0
    }

    /// Wraps an error number; `None` outside 1..=4095.
    pub fn from_raw(n: u16) -> Option<Errno> {
        (1..=MAX_ERRNO as u16).contains(&n).then_some(Errno(n))
    }
}

/// Declares `Errno::NAME` for each name, with the value from
/// linux_raw_sys, and the table `name()` looks names up in.
macro_rules! errnos {
    ($($name:ident),+ $(,)?) => {
        impl Errno {
            $(
                #[doc = concat!("`", stringify!($name), "`")]
                pub const $name: Errno = Errno(raw::$name as u16);
            )+

            /// The symbolic name (`"EFAULT"`), if it is one this runtime lists.
            pub fn name(self) -> Option<&'static str> {
                $(if self == Errno::$name { return Some(stringify!($name)); })+
                None
            }
        }
    };
}

errnos! {
    EPERM, ENOENT, ESRCH, EINTR, EIO, ENXIO, E2BIG, ENOEXEC, EBADF, ECHILD,
    EAGAIN, ENOMEM, EACCES, EFAULT, ENOTBLK, EBUSY, EEXIST, EXDEV, ENODEV,
    ENOTDIR, EISDIR, EINVAL, ENFILE, EMFILE, ENOTTY, ETXTBSY, EFBIG, ENOSPC,
    ESPIPE, EROFS, EMLINK, EPIPE, EDOM, ERANGE, EDEADLK, ENAMETOOLONG, ENOLCK,
    ENOSYS, ENOTEMPTY, ELOOP, ENODATA, ETIME, EOVERFLOW, EILSEQ, EOPNOTSUPP,
    ETIMEDOUT, ECANCELED,
}

/// `EFAULT (14)`, or `errno 200` for a number without a listed name.
impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{} ({})", name, self.0),
            None => write!(f, "errno {}", self.0),
        }
    }
}

impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}
