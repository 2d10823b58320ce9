//! Files: the initramfs that holds the programs to run, open files and the
//! per-process descriptor table, /dev/shm and /proc.

// Safe code only: what needs `unsafe` is a primitive in arch/ or mm/
// (frames, page tables, user copies, the one-CPU cells), as Asterinas
// splits its framekernel.
#![deny(unsafe_code)]

pub mod fd_table;
pub mod initramfs;
#[cfg(test)]
mod initramfs_fuzz;
pub mod open_fds;
pub mod seq_text;

// Kernel-only: not built for the host unit tests (main.rs: kernel_only!).
kernel_only! {
    pub mod boot_initramfs;
    pub mod file;
    pub mod pipe;
    pub mod procfs;
    pub mod socket_pair;
    pub mod tmpfs;
    pub mod tmpfs_size;
}
