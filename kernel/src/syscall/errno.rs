//! Error numbers returned to user space (as -errno in x0). The values are
//! Linux's asm-generic ones, from `linux-raw-sys`.

use core::fmt;

use linux_raw_sys::errno;

/// A Linux errno value.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Errno(u32);

macro_rules! errnos {
    ($($name:ident),* $(,)?) => {
        #[allow(dead_code)] // the whole table, whether used yet or not
        impl Errno {
            $(pub const $name: Errno = Errno(errno::$name);)*

            fn name(self) -> Option<&'static str> {
                match self.0 {
                    $(errno::$name => Some(stringify!($name)),)*
                    _ => None,
                }
            }
        }
    };
}

errnos!(
    EPERM,
    ENOENT,
    ESRCH,
    EINTR,
    EIO,
    E2BIG,
    ENOEXEC,
    EBADF,
    ECHILD,
    EAGAIN,
    ENOMEM,
    EACCES,
    EFAULT,
    EBUSY,
    EEXIST,
    ENODEV,
    ENOTDIR,
    EISDIR,
    EINVAL,
    ENFILE,
    EMFILE,
    ENOTTY,
    EFBIG,
    ENOSPC,
    ESPIPE,
    EROFS,
    ERANGE,
    ENAMETOOLONG,
    ENOSYS,
    EOVERFLOW,
    EOPNOTSUPP,
    ENOPKG,
    EPIPE,
    ETIMEDOUT,
    EPROTONOSUPPORT,
    ESOCKTNOSUPPORT,
    EAFNOSUPPORT,
    ENOTCONN,
    ECONNREFUSED,
    EMSGSIZE,
    ECONNRESET,
);

impl Errno {
    /// Linux's kernel-internal restart codes (include/linux/errno.h): a
    /// system call interrupted by a signal returns one, and the way back to
    /// EL0 (signal/deliver.rs) turns it into a restart or EINTR; user space
    /// never sees them.
    pub const ERESTARTSYS: Errno = Errno(512);
    pub const ERESTARTNOINTR: Errno = Errno(513);
    pub const ERESTARTNOHAND: Errno = Errno(514);
    pub const ERESTART_RESTARTBLOCK: Errno = Errno(516);

    /// The value placed in x0: -errno as an unsigned register value.
    pub fn to_return_value(self) -> u64 {
        (-(self.0 as i64)) as u64
    }
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{}", name),
            None => write!(f, "errno {}", self.0),
        }
    }
}

/// The result of a system call: a value for x0, or an error.
pub type SysResult = Result<u64, Errno>;
