//! The EL0 runtime for this project's test programs: a `no_std` stand-in
//! for the parts of libc a test needs, speaking the Linux arm64 system call
//! ABI, so the same binary runs on this kernel and on arm64 Linux.
//!
//! - [`start`]: `_start`, `main!`, and exit_group with main's status;
//! - [`env`](mod@env): argv, envp and the auxiliary vector from the initial stack;
//! - [`syscall`]: `svc #0` itself, and [`syscall6`](syscall::syscall6) for
//!   calls without a wrapper;
//! - typed wrappers returning `Result<T, Errno>`: [`io`], [`fd`],
//!   [`process`], [`mm`], [`refpage`], [`time`], [`system`];
//! - [`print!`]/[`println!`]/[`eprintln!`], [`check!`]/[`check_eq!`]/
//!   [`check_ok!`] (failure: exit 1), and a panic handler (exit 101).
//!
//! Numbers, errno values and struct layouts come from `linux_raw_sys`
//! (re-exported) rather than being typed here. Programs are linked with
//! `user/link.ld`; `user/user.mk` builds them.
#![no_std]

#[cfg(not(target_arch = "aarch64"))]
compile_error!("the user runtime speaks the arm64 system call ABI: build it for aarch64-unknown-none");

pub use linux_raw_sys;

pub mod check;
pub mod env;
pub mod errno;
pub mod fd;
pub mod io;
pub mod mm;
mod panic;
pub mod print;
pub mod process;
pub mod refpage;
pub mod start;
pub mod syscall;
pub mod system;
pub mod time;

pub use errno::Errno;
