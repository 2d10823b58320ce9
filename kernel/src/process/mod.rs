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
pub mod pid_table;
pub mod run_queue;

// Kernel-only: not built for the host unit tests (main.rs: kernel_only!).
kernel_only! {
    pub mod futex_key;
    mod lifecycle;
    pub mod loader;
    pub mod ptrace;
    pub mod robust_list;
    pub mod runner;
    mod scheduler;
    pub mod task_work;
    pub mod wait_queue;
    pub use lifecycle::*;
}
