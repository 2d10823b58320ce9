//! Processes: one user address space, one kernel stack, one thread.
//!
//! So far the runner (on the boot stack) starts one process at a time and
//! waits for it: it switches to the process's kernel context, which `eret`s
//! to EL0; the process returns to the runner's context when it exits or is
//! killed. There is one CPU and the kernel runs with interrupts masked, so
//! "the current process" is a plain pointer with no locking.

pub mod expectation;
pub mod outcome;

#[cfg(target_os = "none")]
mod lifecycle;
#[cfg(target_os = "none")]
pub mod loader;
#[cfg(target_os = "none")]
pub mod runner;
#[cfg(target_os = "none")]
mod scheduler;
#[cfg(target_os = "none")]
pub mod shared;
#[cfg(target_os = "none")]
pub mod wait_queue;

#[cfg(target_os = "none")]
pub use lifecycle::*;
