//! Files: the initramfs that holds the programs to run, open files and the
//! per-process descriptor table, /dev/shm and /proc.

// Safe code only: what needs `unsafe` is a primitive in arch/ or mm/
// (frames, page tables, user copies, the one-CPU cells), as Asterinas
// splits its framekernel.
#![deny(unsafe_code)]

pub mod fd_table;
#[cfg(target_os = "none")]
pub mod file;
pub mod initramfs;
#[cfg(test)]
mod initramfs_fuzz;
#[cfg(target_os = "none")]
pub mod pipe;
#[cfg(target_os = "none")]
pub mod procfs;
pub mod seq_text;
#[cfg(target_os = "none")]
pub mod tmpfs;
