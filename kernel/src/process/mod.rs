//! Processes and threads: each task has a kernel stack; the threads of a
//! process share its address space, descriptor table and dispositions.
//!
//! The runner (on the boot stack) starts one program at a time and runs it
//! and everything it starts (scheduler.rs): it switches to a task's kernel
//! context, which `eret`s to EL0; the task returns to the runner's context
//! when it yields, blocks, exits or is killed. There is one CPU and the
//! kernel runs with interrupts masked, so "the current process" is a plain
//! pointer with no locking.

// Safe code only: what needs `unsafe` is a primitive in arch/ or mm/
// (frames, page tables, user copies, the one-CPU cells), as Asterinas
// splits its framekernel.
#![deny(unsafe_code)]

pub mod cpu_mask;
pub mod expectation;
pub mod outcome;

#[cfg(target_os = "none")]
pub mod futex_key;
#[cfg(target_os = "none")]
mod lifecycle;
#[cfg(target_os = "none")]
pub mod loader;
#[cfg(target_os = "none")]
pub mod ptrace;
#[cfg(target_os = "none")]
pub mod robust_list;
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
