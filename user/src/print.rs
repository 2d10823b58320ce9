//! `print!`/`println!` to fd 1 and `eprint!`/`eprintln!` to fd 2.
//!
//! Each call formats into a buffer on the stack and writes it out in as few
//! write(2) calls as fit, normally one, so a line from a test is not split
//! among the kernel's own log lines on a shared console. Write errors are
//! ignored: there is nowhere to report them.

use core::fmt::{self, Write};

use crate::io::{write_all, Fd};

/// Bytes formatted before a write(2); a longer message takes more writes.
const BUF_LEN: usize = 512;

struct BufferedFd {
    fd: Fd,
    buf: [u8; BUF_LEN],
    len: usize,
}

impl BufferedFd {
    fn flush(&mut self) {
        let _ = write_all(self.fd, &self.buf[..self.len]);
        self.len = 0;
    }
}

impl Write for BufferedFd {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut bytes = s.as_bytes();
        while !bytes.is_empty() {
            if self.len == BUF_LEN {
                self.flush();
            }
            let n = bytes.len().min(BUF_LEN - self.len);
            self.buf[self.len..self.len + n].copy_from_slice(&bytes[..n]);
            self.len += n;
            bytes = &bytes[n..];
        }
        Ok(())
    }
}

/// Formats `args` to `fd`; what the print macros expand to.
#[doc(hidden)]
pub fn print_to(fd: Fd, args: fmt::Arguments<'_>) {
    let mut out = BufferedFd { fd, buf: [0; BUF_LEN], len: 0 };
    let _ = out.write_fmt(args);
    out.flush();
}

#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => {
        $crate::print::print_to($crate::io::Fd::STDOUT, format_args!($($arg)*))
    };
}

#[macro_export]
macro_rules! println {
    () => {
        $crate::print!("\n")
    };
    ($($arg:tt)*) => {
        $crate::print::print_to($crate::io::Fd::STDOUT, format_args!("{}\n", format_args!($($arg)*)))
    };
}

#[macro_export]
macro_rules! eprint {
    ($($arg:tt)*) => {
        $crate::print::print_to($crate::io::Fd::STDERR, format_args!($($arg)*))
    };
}

#[macro_export]
macro_rules! eprintln {
    () => {
        $crate::eprint!("\n")
    };
    ($($arg:tt)*) => {
        $crate::print::print_to($crate::io::Fd::STDERR, format_args!("{}\n", format_args!($($arg)*)))
    };
}
