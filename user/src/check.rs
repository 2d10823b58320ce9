//! `check!`, `check_eq!` and `check_ok!`: a test program's assertions.
//!
//! A failed check prints one line to stderr,
//!
//! ```text
//! user/tests/foo.rs:12: check failed: <condition>: <message>
//! ```
//!
//! and exits with status 1, so the runner sees a failure and the log says
//! what was expected and what was seen. Unlike `assert!`, a check does not
//! go through the panic handler (status 101 means a bug in the program, 1 a
//! failed check).

use core::fmt::{Arguments, Debug};

use crate::process::exit_group;

/// Status of a program whose check failed.
pub const CHECK_FAILED_STATUS: i32 = 1;

#[doc(hidden)]
#[cold]
pub fn failed(file: &str, line: u32, cond: &str, message: Arguments<'_>) -> ! {
    if message.as_str() == Some("") {
        crate::eprintln!("{}:{}: check failed: {}", file, line, cond);
    } else {
        crate::eprintln!("{}:{}: check failed: {}: {}", file, line, cond, message);
    }
    exit_group(CHECK_FAILED_STATUS)
}

#[doc(hidden)]
#[cold]
pub fn failed_eq(file: &str, line: u32, cond: &str, left: &dyn Debug, right: &dyn Debug, message: Arguments<'_>) -> ! {
    if message.as_str() == Some("") {
        failed(file, line, cond, format_args!("left = {:?}, right = {:?}", left, right))
    } else {
        failed(file, line, cond, format_args!("left = {:?}, right = {:?}: {}", left, right, message))
    }
}

#[doc(hidden)]
#[cold]
pub fn failed_err(file: &str, line: u32, expr: &str, err: &dyn Debug, message: Arguments<'_>) -> ! {
    if message.as_str() == Some("") {
        failed(file, line, expr, format_args!("Err({:?})", err))
    } else {
        failed(file, line, expr, format_args!("Err({:?}): {}", err, message))
    }
}

/// `check!(cond)` or `check!(cond, "format", args...)`: exits 1 with
/// `file:line: check failed: cond: message` unless `cond` holds.
#[macro_export]
macro_rules! check {
    ($cond:expr $(,)?) => {
        if !$cond {
            $crate::check::failed(file!(), line!(), stringify!($cond), format_args!(""))
        }
    };
    ($cond:expr, $($arg:tt)+) => {
        if !$cond {
            $crate::check::failed(file!(), line!(), stringify!($cond), format_args!($($arg)+))
        }
    };
}

/// `check_eq!(left, right)` or with a trailing message: like `check!` on
/// `left == right`, printing both values.
#[macro_export]
macro_rules! check_eq {
    ($left:expr, $right:expr $(,)?) => {
        $crate::check_eq!($left, $right, "")
    };
    ($left:expr, $right:expr, $($arg:tt)+) => {
        match (&$left, &$right) {
            (left, right) => {
                if !(*left == *right) {
                    $crate::check::failed_eq(
                        file!(),
                        line!(),
                        concat!(stringify!($left), " == ", stringify!($right)),
                        left,
                        right,
                        format_args!($($arg)+),
                    )
                }
            }
        }
    };
}

/// `check_ok!(result)` or with a trailing message: the `Ok` value, or exit
/// 1 printing the `Err`.
#[macro_export]
macro_rules! check_ok {
    ($result:expr $(,)?) => {
        $crate::check_ok!($result, "")
    };
    ($result:expr, $($arg:tt)+) => {
        match $result {
            Ok(value) => value,
            Err(err) => $crate::check::failed_err(
                file!(),
                line!(),
                stringify!($result),
                &err,
                format_args!($($arg)+),
            ),
        }
    };
}
